"""One pass over every feed: fetch (concurrently) -> parse -> store, one report per feed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

import httpx

from monitor.config import Config
from monitor.errors import FeedError
from monitor.fetch import fetch, make_client
from monitor.models import FeedReport, FetchResult, PollReport
from monitor.parse import parse_feed
from monitor.store import Store

log = logging.getLogger(__name__)


def poll_once(
    config: Config,
    store: Store,
    *,
    client: httpx.Client | None = None,
    on_feed: Callable[[FeedReport], None] | None = None,
) -> PollReport:
    """Poll every configured feed once. A failing feed is reported, never raised."""
    urls = config.feed_urls()
    own_client = client is None
    client = client or make_client(config.poll.user_agent, config.poll.timeout)
    reports: dict[str, FeedReport] = {}
    try:
        # Fetching is I/O-bound and runs in threads; parsing and the single SQLite writer stay here.
        with ThreadPoolExecutor(max_workers=min(config.poll.workers, max(len(urls), 1))) as pool:
            futures = [
                pool.submit(
                    fetch,
                    client,
                    url,
                    timeout=config.poll.timeout,
                    max_bytes=config.poll.max_bytes,
                )
                for url in urls
            ]
            for future in as_completed(futures):
                report = ingest(future.result(), store)
                reports[report.url] = report
                if on_feed:
                    on_feed(report)
    finally:
        if own_client:
            client.close()
    return PollReport(feeds=tuple(reports[url] for url in urls))


def ingest(result: FetchResult, store: Store) -> FeedReport:
    """Parse and store one fetched feed; record the feed's state either way."""
    items = None
    if not result.ok:
        report = FeedReport(result.url, error=result.error, elapsed=result.elapsed)
    else:
        try:
            parsed = parse_feed(result.url, result.body, result.content_type)
        except FeedError as error:
            report = FeedReport(result.url, error=error.reason, elapsed=result.elapsed)
        else:
            saved = store.save_releases(parsed.releases, feed_url=result.url)
            items = len(parsed.releases)
            report = FeedReport(
                result.url,
                new=saved.new,
                already=saved.already,
                failed=parsed.failed_items,
                warning=parsed.warning,
                elapsed=result.elapsed,
            )
    store.record_feed(report, items=items)
    if report.error:
        log.warning("%s: %s", report.url, report.error)
    else:
        log.info(
            "%s: %d new, %d stored, %d failed (%.2fs)",
            report.url,
            report.new,
            report.already,
            report.failed,
            report.elapsed,
        )
    return report
