"""One pass over feeds: fetch (concurrently, politely) -> parse -> classify -> store -> match ->
enqueue, a report per feed."""

from __future__ import annotations

import hashlib
import logging
import queue
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx

from monitor.classify import classify, with_hints
from monitor.classify.engine import TagRules
from monitor.config import Config
from monitor.errors import FeedError, StoreError
from monitor.fetch import HostLimiter, fetch, make_client
from monitor.models import Classification, FeedReport, FeedState, FetchResult, PollReport, Release
from monitor.parse import parse_feed
from monitor.rules import Match, match, resolve_query, tag_rules_for
from monitor.schedule import Policy, after_fetch, host_of, iso, waiting_reason
from monitor.sources import get as get_source
from monitor.sources import source_for
from monitor.sources.base import Source, host_matches
from monitor.store import SaveResult, Store, one_line
from monitor.store.pages import PageTask

log = logging.getLogger(__name__)
BATCH_WAIT = 0.02  # seconds a pass lets finished fetches gather before storing them
SEC_MIN_GAP = 0.1  # SEC's fair access: at most 10 requests a second to sec.gov, in total
QUIET_SKIPS = frozenset({"not modified", "unchanged"})  # logged at DEBUG (`-v`), not INFO
PAGES_PER_PASS = 200  # article pages claimed by one pass (the rest wait for the next)
PAGE_RETRY_BASE = 120.0  # seconds before a failed page is tried again; doubled per failure
PAGE_RETRY_MAX = 6 * 3600.0
SWITCH_INTERVAL = 0.001  # seconds between GIL hand-overs while fetch threads run (default 0.005)
ReleaseFilter = Callable[[Release, str], Release | None]


@dataclass
class Poller:
    """Everything one pass needs; build once and call `poll` for every pass (the daemon does)."""

    config: Config
    store: Store
    client: httpx.Client
    limiter: HostLimiter
    tag_rules: TagRules | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    rng: random.Random = random.Random()
    catch_up: bool = False  # store without alerting (`biomon catch-up`)
    lock: threading.RLock = field(default_factory=threading.RLock)  # around all store work
    should_stop: Callable[[], bool] = lambda: False  # the daemon is stopping: store nothing more
    pool: ThreadPoolExecutor | None = None  # long-lived fetch threads (`keep_pool`); else per pass
    _pool_size: int = 0
    # Every request to SEC shares one limiter (SEC counts per client, not per host).
    sec_limiter: HostLimiter = field(default_factory=lambda: HostLimiter(2, SEC_MIN_GAP))
    _filters: dict[str, ReleaseFilter | None] = field(default_factory=dict)
    _filters_of: Config | None = None

    @classmethod
    def create(cls, config: Config, store: Store, client: httpx.Client | None = None) -> Poller:
        poll = config.poll
        return cls(
            config=config,
            store=store,
            client=client or make_client(poll.user_agent, poll.timeout, poll.workers),
            limiter=HostLimiter(poll.per_host, poll.host_gap),
            tag_rules=tag_rules_for(config),
            sec_limiter=HostLimiter(poll.per_host, max(poll.host_gap, SEC_MIN_GAP)),
        )

    def keep_pool(self) -> None:
        """Fetch with one long-lived pool of `poll.workers` threads from now on (the daemon).

        Called again after a config change: a new size takes a new pool; the old one finishes
        the fetches it holds.
        """
        workers = self.config.poll.workers
        if self.pool is not None and self._pool_size == workers:
            return
        old, self.pool = self.pool, ThreadPoolExecutor(workers, thread_name_prefix="fetch")
        self._pool_size = workers
        if old is not None:
            old.shutdown(wait=False)

    def close(self) -> None:
        """Drop queued fetches and close the HTTP client (a fetch in flight ends at once)."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def classify(self, release: Release) -> Classification:
        classification = classify(
            release.title, release.text, self.tag_rules, release.published_utc
        )
        try:
            hints = get_source(release.source).tag_hints(release)
        except ValueError:  # a release of no known wire (built by hand): no hints
            hints = ()
        return with_hints(classification, hints)

    def match(self, release: Release, classification: Classification, row_id: int) -> list[Match]:
        def query_check(text: str) -> bool:
            return self.store.matches(row_id, resolve_query(self.config, text))

        return match(
            release,
            classification,
            self.config.watch,
            self.config.notify.enabled,
            query_check=query_check,
        )

    @property
    def policy(self) -> Policy:
        return Policy(interval=self.config.poll.interval, backoff_max=self.config.poll.backoff_max)

    def poll(
        self,
        urls: tuple[str, ...] | None = None,
        *,
        force: bool = False,
        on_feed: Callable[[FeedReport], None] | None = None,
    ) -> PollReport:
        """Poll feeds (default: all configured) once. A failing feed is reported, never raised.

        Fetching is I/O-bound and runs in threads (see `_fetched`); parsing and the one SQLite
        writer stay in the calling thread.
        """
        urls = urls if urls is not None else self.config.feed_urls()
        reports: dict[str, FeedReport] = {}
        due: list[FeedState] = []
        now = self.now()
        with self.lock:
            states = [self.store.feed_state(url) for url in urls]
        for state in states:
            reason = None if force else waiting_reason(state, now)
            if reason:
                reports[state.url] = FeedReport(state.url, skipped=reason)
                if on_feed:
                    on_feed(reports[state.url])
            else:
                due.append(replace(state, disabled=None) if force else state)
        # One pool for the feeds and then the article pages their new releases need: the
        # pages' fetches reuse the threads the feeds started. (One feed is fetched in this
        # thread: the daemon's pass at a feed's slot.)
        pooled = self._fetch_pool(self.config.poll.workers) if len(due) > 1 else nullcontext(None)
        with pooled as pool:
            for done in self._fetched(due, pool):
                if self.should_stop():
                    continue
                # Everything fetched meanwhile is stored in one transaction: a commit per feed
                # cost more than the work of a thousand mostly unchanged feeds.
                with self.lock, self.store.transaction():
                    batch_reports = [self._ingest_safely(state, result) for state, result in done]
                for report in batch_reports:  # said only once the batch is committed
                    _log(report)
                    reports[report.url] = report
                    if on_feed:
                        on_feed(report)
            if not self.should_stop():
                self.fill_pages(pool=pool)
        return PollReport(feeds=tuple(reports[url] for url in urls if url in reports))

    def _fetched(
        self, due: list[FeedState], pool: ThreadPoolExecutor | None
    ) -> Iterator[list[tuple[FeedState, FetchResult]]]:
        """Fetch `due` in `pool` (None: in this thread); yield the fetches finished since the
        last batch, in batches.

        Each host gets `per_host` lanes: a lane is one task in the pool that fetches its host's
        feeds one after another. A pool thread then stays with a host instead of waiting on
        the host's limit, and a feed costs no hand-over between threads: with a thousand
        mostly unchanged feeds, switching threads cost more CPU than the requests.
        """
        if not due:
            return
        finished: queue.SimpleQueue[tuple[FeedState, FetchResult]] = queue.SimpleQueue()
        hosts: dict[str, deque[FeedState]] = {}
        for state in due:
            hosts.setdefault(host_of(state.target), deque()).append(state)
        lanes = [
            feeds
            for feeds in hosts.values()
            for _ in range(min(self.config.poll.per_host, len(feeds)))
        ]

        def lane(feeds: deque[FeedState]) -> None:
            while not self.should_stop():
                try:
                    state = feeds.popleft()  # atomic: the host's lanes share its queue
                except IndexError:
                    return
                try:
                    result = self.fetch(state)
                except Exception as error:  # a bug in fetching: this feed fails, the pass goes on
                    result = FetchResult(
                        url=state.target, error=f"fetch failed: {_one_line(error)}"
                    )
                finished.put((state, result))

        if pool is None:
            # One feed (the daemon's pass at a feed's slot): fetched in this thread, without
            # handing it to a pool thread and the result back (two thread switches).
            for feeds in lanes:
                lane(feeds)
            batch = []
            while not finished.empty():
                batch.append(finished.get_nowait())
            if batch:
                yield batch
            return
        for feeds in lanes:
            pool.submit(lane, feeds)
        remaining = len(due)
        while remaining and not self.should_stop():
            try:
                batch = [finished.get(timeout=2.0)]
            except queue.Empty:
                continue  # look at should_stop again
            if remaining > 1 and not finished.empty():
                # Fetches are finishing fast: let a few more finish for one wake-up and
                # one commit. (Finishing one by one, a wait would only cost a wake-up.)
                time.sleep(BATCH_WAIT)
            while True:
                try:
                    batch.append(finished.get_nowait())
                except queue.Empty:
                    break
            remaining -= len(batch)
            yield batch

    @contextmanager
    def _fetch_pool(self, tasks: int) -> Iterator[ThreadPoolExecutor]:
        """The long-lived pool (`keep_pool`), else one for this pass: at most `poll.workers`
        threads, started only as `tasks` at once need them."""
        with _quick_switches():
            if self.pool is not None:
                yield self.pool
                return
            workers = min(self.config.poll.workers, max(tasks, 1))
            with ThreadPoolExecutor(workers, thread_name_prefix="fetch") as pool:
                yield pool

    def fetch(self, state: FeedState, url: str | None = None) -> FetchResult:
        """GET a feed (conditionally) or one of its pages (`url`: paging back)."""
        target = url or state.target
        return self.get(
            target,
            etag=None if url else state.etag,
            last_modified=None if url else state.last_modified,
            max_bytes=self.config.poll.max_bytes,
        )

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """One polite GET: the host's limiter, and for SEC its User-Agent and 10/s limit."""
        sec = self.is_sec(url)
        # One key for every SEC request: its limit is per client, whatever the host.
        limiter = self.sec_limiter if sec else self.limiter
        key = self.config.sources.sec_base_url if sec else url
        with limiter.slot(key):
            return fetch(
                self.client,
                url,
                etag=etag,
                last_modified=last_modified,
                timeout=self.config.poll.timeout,
                max_bytes=max_bytes,
                headers={"User-Agent": self.config.sec_user_agent} if sec else None,
            )

    def is_sec(self, url: str) -> bool:
        """True for a request to SEC: sec.gov, or the server [sources.sec] base_url names."""
        return (
            host_matches(url, ("sec.gov",))
            or urlsplit(url).netloc.lower() == self.config.sources.sec_netloc
        )

    def source_of(self, url: str) -> Source:
        """The wire of a configured feed: named in the config, else known by its host."""
        return source_for(url, self.config.source_name(url))

    def release_filter(self, source: Source) -> ReleaseFilter | None:
        """The source's release filter for the current config (built once per config)."""
        if self._filters_of is not self.config:
            self._filters, self._filters_of = {}, self.config
        if source.name not in self._filters:
            make = source.release_filter
            self._filters[source.name] = make(self.config) if make else None
        return self._filters[source.name]

    def keep_releases(
        self, source: Source, releases: Iterable[Release], feed_url: str
    ) -> list[Release]:
        """The releases of one feed the source keeps (SEC: the watched filers'), completed."""
        keep = self.release_filter(source)
        if keep is None:
            return list(releases)
        return [kept for release in releases if (kept := keep(release, feed_url)) is not None]

    def _ingest_safely(self, state: FeedState, result: FetchResult) -> FeedReport:
        """`_ingest` on its own savepoint: a feed that breaks it is reported, the others go on.

        Only a failing database (StoreError) stops the pass: then nothing of it is kept.
        """
        # A 304 or a failed fetch has nothing to parse: its one write (the feed's row) is
        # atomic by itself, without a savepoint of its own (two statements per feed and pass).
        parsing = result.ok and not result.not_modified
        try:
            with self.store.transaction() if parsing else nullcontext():
                return self._ingest(state, result)
        except StoreError:
            raise
        except Exception as error:  # a bug met by this feed's body: report it, keep the others
            log.debug("%s: could not be read", state.url, exc_info=True)
            reason = f"could not be read ({_one_line(error)}); please report this feed"
            failed = replace(result, error=reason, body=b"")
            return self._ingest(state, failed)

    def _ingest(self, state: FeedState, result: FetchResult) -> FeedReport:
        """Parse and store one fetched feed; keep the feed's state either way."""
        url, items, body_hash = state.url, None, state.body_hash
        common = {"elapsed": result.elapsed, "moved_to": result.moved_to, "status": result.status}
        if result.ok and result.not_modified:
            report = FeedReport(url, skipped="not modified", **common)
        elif result.ok and _digest(result.body) == state.body_hash:
            # Many servers ignore validators: an identical body is not parsed again.
            report = FeedReport(url, skipped="unchanged", **common)
        elif result.ok:
            source = self.source_of(url)
            try:
                parsed = parse_feed(
                    result.url,
                    result.body,
                    result.content_type,
                    known=lambda ids: self.store.known_ids(source.name, ids),
                    now=self.now(),
                    source=source,
                )
            except FeedError as error:
                result = replace(result, error=error.reason)
                report = FeedReport(url, error=error.reason, **common)
            else:
                # A feed's first successful poll is its backlog: stored, never alerted (no floods).
                alerting = not self.catch_up and state.last_success is not None
                saved = self.save_releases(
                    self.keep_releases(source, parsed.releases, url), url, alerting=alerting
                )
                self.store.link_seen(source.name, parsed.known_ids, url)
                items = len(parsed.releases) + len(parsed.known_ids)
                body_hash = _digest(result.body)
                new = saved.new
                if _gap_possible(state, saved.new, items, url in self.config.paged_feeds()):
                    new += self._page_back(state, first_page=items)
                report = FeedReport(
                    url,
                    new=new,
                    already=saved.already + len(parsed.known_ids),
                    failed=parsed.failed_items + len(saved.failed),
                    warning=parsed.warning,
                    failures=(*parsed.failures, *saved.failed),
                    flagged=parsed.flagged,
                    **common,
                )
        else:
            report = FeedReport(url, error=result.error, **common)
        new_state = after_fetch(state, result, now=self.now(), policy=self.policy, rng=self.rng)
        self.store.save_feed(replace(new_state, body_hash=body_hash), report, items=items)
        return report

    def save_releases(
        self, releases: Iterable[Release], feed_url: str, *, alerting: bool
    ) -> SaveResult:
        """Store new releases; each on its own savepoint: insert -> match -> enqueue.

        A release that cannot be classified, stored or matched is left out (with any alert)
        and named in `failed`; the others are stored. A failing database raises StoreError.
        """
        releases = list(releases)
        seen_at = self.store.clock()
        # The new releases classified one after another, then stored one after another.
        classify = self.store.classify_ahead(releases, self.classify)
        new = already = 0
        failed: list[str] = []
        for release in releases:
            try:
                with self.store.transaction():
                    saved = self.store.save_release(
                        release, feed_url=feed_url, classify=classify, seen_at=seen_at
                    )
                    page = self.page_url(release) if saved.new else None
                    if page:
                        # Stored now with the summary; the alert waits for the page (this
                        # pass), so it carries the full text and its tags.
                        may_alert = alerting and saved.alertable
                        self.store.queue_page(
                            saved.row_id, page, seen_at, alerting=may_alert, alert_pending=may_alert
                        )
                    elif alerting and saved.alertable:
                        matches = self.match(release, saved.classification, saved.row_id)
                        self.store.queue_alerts(saved.row_id, matches, seen_at)
            except StoreError:
                raise
            except Exception as error:  # one bad item never stops the others
                failed.append(f"{release.release_id}: {one_line(error)}")
                continue
            if saved.new:
                new += 1
            else:
                already += 1
        return SaveResult(new=new, already=already, failed=tuple(failed))

    def _page_back(self, state: FeedState, first_page: int) -> int:
        """Page an organization feed back until a known release appears; return releases added."""
        size, start, added = self.config.poll.page_size, first_page, 0
        source = self.source_of(state.url)
        for _ in range(self.config.poll.page_limit):
            page_url = source.paging.page_url(state.target, size, start)
            if page_url is None:
                break  # the wire's feeds are rolling windows: no older pages
            result = self.fetch(state, page_url)
            if not result.ok:
                log.warning("%s: paging back stopped: %s", page_url, result.error)
                break
            try:
                parsed = parse_feed(
                    page_url, result.body, result.content_type, now=self.now(), source=source
                )
            except FeedError as error:
                log.warning("%s: paging back stopped: %s", page_url, error.reason)
                break
            # Releases found by paging back are old news: stored and tagged, never alerted.
            releases = self.keep_releases(source, parsed.releases, state.url)
            saved = self.save_releases(releases, state.url, alerting=False)
            added += saved.new
            if not parsed.releases or saved.already:
                break
            start += len(parsed.releases)
        return added

    # ---- article pages (wires whose feed cuts the text)

    def page_url(self, release: Release) -> str | None:
        """The page to fetch for a new release whose feed cut its text, else None."""
        source = get_source(release.source)
        return None if source.full_text else source.page_url(release)

    def fill_pages(
        self, limit: int = PAGES_PER_PASS, *, pool: ThreadPoolExecutor | None = None
    ) -> dict[str, int]:
        """Fetch the article pages due (new ones and retries), store their text, re-tag, and
        make the alerts that waited for them; {"fetched": n, "failed": n}. `pool`: the
        pass's fetch threads, else the long-lived pool or one for these pages."""
        now = self.now()
        lease = timedelta(seconds=3 * self.config.poll.timeout + 60)
        with self.lock:
            tasks = self.store.claim_pages(iso(now), iso(now + lease), limit)
        counts = {"fetched": 0, "failed": 0}
        if not tasks:
            return counts
        with nullcontext(pool) if pool else self._fetch_pool(len(tasks)) as threads:
            futures = [threads.submit(self._read_page, task) for task in tasks]
            for task, future in zip(tasks, futures, strict=True):
                release, error = future.result()
                with self.lock, self.store.transaction():
                    self._settle_page(task, release, error)
                counts["failed" if error else "fetched"] += 1
        return counts

    def _read_page(self, task: PageTask) -> tuple[Release | None, str | None]:
        """The release with its page's text, or the one-line reason it could not be had.
        A page may name the page that holds the release (SEC: the index names exhibit 99.1)."""
        source = get_source(task.release.source)
        max_bytes = self.config.poll.article_max_bytes
        try:
            url = task.url
            result = self.get(url, max_bytes=max_bytes)
            if result.ok and (follow := source.follow_page(result.body, url)) and follow != url:
                url, result = follow, self.get(follow, max_bytes=max_bytes)
            if not result.ok:
                return None, f"{url}: {result.error}"
            return source.with_page(task.release, result.body, url), None
        except Exception as error:  # a page that breaks the reader: the summary stays
            return None, f"{task.url}: could not be read ({_one_line(error)})"

    def _settle_page(self, task: PageTask, release: Release | None, error: str | None) -> None:
        """Store one page's outcome; alert once: on the full text, else on the summary."""
        now = self.now()
        if release is not None:
            classification = self.classify(release)
            first = self.store.page_filled(task.row_id, release, classification, iso(now))
            # A fill after an alert on the summary re-matches: channels already alerted for
            # this release are never queued twice (the outbox is unique per release, channel).
            if first or self.store.page_alerting(task.row_id):
                self._alert(task.row_id, release, classification, iso(now))
            return
        attempts = task.attempts + 1
        give_up = attempts >= self.config.poll.article_attempts
        delay = min(PAGE_RETRY_BASE * 2 ** (attempts - 1), PAGE_RETRY_MAX)
        log.warning(
            "%s: article page not read (%s); %s",
            task.release.release_id,
            error,
            "given up, the feed's summary stays" if give_up else f"retry in {delay:g}s",
        )
        retry_at = iso(now + timedelta(seconds=delay))
        if self.store.page_failed(task.row_id, error or "", retry_at, give_up=give_up):
            # The page failed: alert on the summary rather than hold the news back.
            self._alert(task.row_id, task.release, self.classify(task.release), iso(now))

    def _alert(
        self, row_id: int, release: Release, classification: Classification, now: str
    ) -> None:
        self.store.queue_alerts(row_id, self.match(release, classification, row_id), now)


_switches_lock = threading.Lock()
_switches_held = 0
_switches_saved = 0.0


@contextmanager
def _quick_switches() -> Iterator[None]:
    """While fetch threads run: a thread that wants the GIL gets it within SWITCH_INTERVAL.

    The pass's thread parses and classifies (CPU-bound) while dozens of fetch threads wait on
    the network; at Python's default 5 ms, each of their wake-ups could wait 5 ms for the GIL,
    and a steady pass of 1,000 feeds took twice its CPU time. Process-wide, so counted: the
    last pass to end puts the old interval back.
    """
    global _switches_held, _switches_saved
    with _switches_lock:
        if _switches_held == 0:
            _switches_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switches_saved, SWITCH_INTERVAL))
        _switches_held += 1
    try:
        yield
    finally:
        with _switches_lock:
            _switches_held -= 1
            if _switches_held == 0:
                sys.setswitchinterval(_switches_saved)


def _gap_possible(state: FeedState, new: int, items: int, paged: bool) -> bool:
    # Every item new on a feed polled before means releases may have scrolled out unseen.
    return paged and state.last_success is not None and items > 0 and new == items


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _log(report: FeedReport) -> None:
    if report.error:
        log.warning("%s: %s", report.url, report.error)
    elif report.skipped:
        # Nothing new is the usual answer: a line per feed per interval only with -v.
        quiet = report.skipped in QUIET_SKIPS
        log.log(logging.DEBUG if quiet else logging.INFO, "%s: %s (%.2fs)", report.url,
                report.skipped, report.elapsed)  # fmt: skip
    else:
        log.info(
            "%s: %d new, %d stored, %d failed (%.2fs)",
            report.url,
            report.new,
            report.already,
            report.failed,
            report.elapsed,
        )
    for failure in report.failures:
        log.warning("%s: item not stored: %s", report.url, failure)
    for flag in report.flagged:
        log.warning("%s: item stored with a problem: %s", report.url, flag)


def poll_once(
    config: Config,
    store: Store,
    *,
    client: httpx.Client | None = None,
    force: bool = False,
    catch_up: bool = False,
    on_feed: Callable[[FeedReport], None] | None = None,
) -> PollReport:
    """Poll every configured feed once with a fresh client (the `poll --once` pass)."""
    poller = Poller.create(config, store, client)
    poller.catch_up = catch_up
    try:
        return poller.poll(force=force, on_feed=on_feed)
    finally:
        if client is None:
            poller.client.close()
