"""Backfill: page a feed back (its source's paging: GlobeNewswire `/max/N/start/M`, EDGAR
`&start=M&count=N`) to load older releases. A wire whose feeds are rolling windows (PR Newswire,
Business Wire) cannot be paged back: its feeds are skipped with a note.

Walks a feed from its newest page down. Pages the database already holds are walked through;
once the walk has found releases new to the database, the first release it already had means the
older history is there: it stops. It also stops at the end of the feed (an empty page) or after
`max_pages`. The next offset is saved after every page, so an interrupted backfill resumes where
it stopped. Nothing found by backfill alerts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.errors import FeedError
from monitor.parse import parse_feed
from monitor.poller import Poller
from monitor.schedule import iso
from monitor.sources import globenewswire


@dataclass(frozen=True)
class BackfillReport:
    url: str
    pages: int = 0
    new: int = 0
    outcome: str = ""  # "reached known releases", "end of feed", "page limit", "already complete"
    error: str | None = None


def page_url(url: str, size: int, start: int) -> str:
    """GlobeNewswire's page of `size` items from item `start` (its source's paging)."""
    return globenewswire.PLUGIN.paging.page_url(url, size, start) or url


def backfill_feed(
    poller: Poller,
    url: str,
    *,
    max_pages: int = 200,
    again: bool = False,
    on_page: Callable[[str, int, int], None] | None = None,
) -> BackfillReport:
    """Backfill one feed; `on_page(url, pages, new)` after every page."""
    store, size = poller.store, poller.config.poll.page_size
    source = poller.source_of(url)
    if not source.paging.pages:
        return BackfillReport(
            url, outcome=f"skipped: {source.name} feeds keep only their latest items (no paging)"
        )
    progress = store.backfill_state(url)
    if progress["done"] and not again:
        return BackfillReport(url, outcome=f"already complete ({progress['done']}); --again")
    start = 0 if again else progress["next"]
    found_new = bool(progress["found_new"]) and not again
    target = store.feed_state(url).target
    pages = new = 0
    outcome = "page limit"
    while pages < max_pages:
        address = source.paging.page_url(target, size, start) or target
        result = poller.fetch(store.feed_state(url), address)
        if not result.ok:
            return BackfillReport(url, pages, new, "interrupted", f"{address}: {result.error}")
        try:
            parsed = parse_feed(address, result.body, result.content_type, source=source)
        except FeedError as error:
            return BackfillReport(url, pages, new, "interrupted", f"{address}: {error.reason}")
        pages += 1
        if not parsed.releases:
            outcome = "end of feed"
            break
        releases = poller.keep_releases(source, parsed.releases, url)
        with poller.lock, store.transaction():
            known = store.known_ids(source.name, [r.release_id for r in releases])
            # Through the poller: a cut summary's page is queued (filled by the next poll).
            saved = poller.save_releases(releases, url, alerting=False)
        new += saved.new
        # Feed order is newest first: a known release after new ones joins the stored history.
        reached = False
        for release in releases:
            if release.release_id not in known:
                found_new = True
            elif found_new:
                reached = True
                break
        start += len(parsed.releases)
        store.save_backfill_state(url, start, found_new, None)
        if on_page:
            on_page(url, pages, new)
        if reached:
            outcome = "reached known releases"
            break
    if outcome != "page limit":
        store.save_backfill_state(url, 0, False, iso(poller.now()))
    return BackfillReport(url, pages, new, outcome)
