"""One pass over every feed: fetch (concurrently, politely) -> parse -> store, a report per feed."""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import httpx

from monitor.classify import classify
from monitor.classify.engine import TagRules, build_rules
from monitor.config import Config, tag_problem
from monitor.errors import ConfigError, FeedError, StoreError
from monitor.fetch import HostLimiter, fetch, make_client
from monitor.models import Classification, FeedReport, FeedState, FetchResult, PollReport, Release
from monitor.parse import parse_feed
from monitor.query import QueryError, ReleaseQuery, parse_query
from monitor.rules import Match, match
from monitor.schedule import Policy, after_fetch, waiting_reason
from monitor.sources import globenewswire
from monitor.store import Store

log = logging.getLogger(__name__)


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

    @classmethod
    def create(cls, config: Config, store: Store, client: httpx.Client | None = None) -> Poller:
        poll = config.poll
        return cls(
            config=config,
            store=store,
            client=client or make_client(poll.user_agent, poll.timeout, poll.workers),
            limiter=HostLimiter(poll.per_host, poll.host_gap),
            tag_rules=tag_rules_for(config),
        )

    def classify(self, release: Release) -> Classification:
        return classify(release.title, release.text, self.tag_rules)

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
        """Poll feeds (default: all configured) once. A failing feed is reported, never raised."""
        urls = urls if urls is not None else self.config.feed_urls()
        reports: dict[str, FeedReport] = {}
        due: list[FeedState] = []
        for url in urls:
            with self.lock:
                state = self.store.feed_state(url)
            reason = None if force else waiting_reason(state, self.now())
            if reason:
                reports[url] = FeedReport(url, skipped=reason)
                if on_feed:
                    on_feed(reports[url])
            else:
                due.append(replace(state, disabled=None) if force else state)
        workers = min(self.config.poll.workers, max(len(due), 1))
        # Fetching is I/O-bound and runs in threads; parsing and the one SQLite writer stay here.
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
            futures = {pool.submit(self.fetch, state): state for state in due}
            pending = set(futures)
            while pending:
                # Everything fetched meanwhile is stored in one transaction: a commit per feed
                # cost more than the work of a thousand mostly unchanged feeds.
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                if self.should_stop():
                    continue
                with self.lock, self.store.transaction():
                    batch_reports = [self._ingest_safely(futures[f], f) for f in done]
                for report in batch_reports:  # said only once the batch is committed
                    _log(report)
                    reports[report.url] = report
                    if on_feed:
                        on_feed(report)
        return PollReport(feeds=tuple(reports[url] for url in urls if url in reports))

    def fetch(self, state: FeedState, url: str | None = None) -> FetchResult:
        target = url or state.target
        with self.limiter.slot(target):
            return fetch(
                self.client,
                target,
                etag=None if url else state.etag,
                last_modified=None if url else state.last_modified,
                timeout=self.config.poll.timeout,
                max_bytes=self.config.poll.max_bytes,
            )

    def _ingest_safely(self, state: FeedState, future: Future[FetchResult]) -> FeedReport:
        """`_ingest` on its own savepoint: a feed that breaks it is reported, the others go on.

        Only a failing database (StoreError) stops the pass: then nothing of it is kept.
        """
        try:
            result = future.result()
        except Exception as error:  # a bug in fetching: this feed fails, the pass goes on
            result = FetchResult(url=state.target, error=f"fetch failed: {_one_line(error)}")
        try:
            with self.store.transaction():
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
            try:
                parsed = parse_feed(
                    result.url,
                    result.body,
                    result.content_type,
                    known=lambda ids: self.store.known_ids(globenewswire.SOURCE, ids),
                    now=self.now(),
                )
            except FeedError as error:
                result = replace(result, error=error.reason)
                report = FeedReport(url, error=error.reason, **common)
            else:
                # A feed's first successful poll is its backlog: stored, never alerted (no floods).
                alerting = not self.catch_up and state.last_success is not None
                saved = self.store.save_releases(
                    parsed.releases,
                    feed_url=url,
                    classify=self.classify,
                    match=self.match if alerting else None,
                )
                self.store.link_seen(globenewswire.SOURCE, parsed.known_ids, url)
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

    def _page_back(self, state: FeedState, first_page: int) -> int:
        """Page an organization feed back until a known release appears; return releases added."""
        size, start, added = self.config.poll.page_size, first_page, 0
        for _ in range(self.config.poll.page_limit):
            page_url = f"{state.target.rstrip('/')}/max/{size}/start/{start}"
            result = self.fetch(state, page_url)
            if not result.ok:
                log.warning("%s: paging back stopped: %s", page_url, result.error)
                break
            try:
                parsed = parse_feed(page_url, result.body, result.content_type, now=self.now())
            except FeedError as error:
                log.warning("%s: paging back stopped: %s", page_url, error.reason)
                break
            # Releases found by paging back are old news: stored and tagged, never alerted.
            saved = self.store.save_releases(
                parsed.releases, feed_url=state.url, classify=self.classify
            )
            added += saved.new
            if not parsed.releases or saved.already:
                break
            start += len(parsed.releases)
        return added


def resolve_query(config: Config, text: str) -> ReleaseQuery:
    """A query string or @saved-name, parsed, with `watched:` bound to the watchlist."""
    if text.startswith("@"):
        saved = config.saved_query(text)
        if saved is None:
            raise QueryError(text, 0, f"no saved query {text[1:]!r} in {config.path} [queries]")
        text = saved
    query = parse_query(text, tag_problem=lambda tag: tag_problem(tag, config.new_tags))
    return replace(query, watched=tuple(w.ticker for w in config.watch if w.ticker))


def tag_rules_for(config: Config) -> TagRules | None:
    """The classifier's rules with the config's extra patterns (None: the built-in rules)."""
    if not config.tag_patterns:
        return None
    try:
        return build_rules({tag: list(patterns) for tag, patterns in config.tag_patterns})
    except ValueError as error:
        raise ConfigError(config.path, "classify.patterns", str(error)) from None


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
        log.info("%s: %s (%.2fs)", report.url, report.skipped, report.elapsed)
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
