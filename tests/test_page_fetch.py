"""Article pages of wires whose feed cuts the text (PR Newswire here, served locally from the
real samples): stored at once with the summary, the page fetched in the same pass, the text and
tags replaced; a failed page keeps the summary, is retried later, and alerts exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import load_config
from monitor.poller import Poller
from monitor.store import Store
from tests.wires import (
    CRYOPORT_ID,
    CRYOPORT_PATH,
    PRN_FEED,
    PRN_PAGE,
    localised,
    wire_config,
    without_item,
)

WATCH = '[[watch]]\nticker = "CYRX"\n'


@pytest.fixture
def prn(server, write_config):
    """A local PR Newswire: the feed first without the Cryoport release, then with it."""
    full = localised(PRN_FEED.read_bytes(), server.base_url)
    feed = server.add("/prn.rss", without_item(full, CRYOPORT_ID.encode()))
    path = write_config(
        wire_config(f'[{{ url = "{feed}", source = "prnewswire" }}]', WATCH, timeout=1)
    )
    config = load_config(path)
    store = Store(config.storage.path)
    poller = Poller.create(config, store)
    poller.poll(force=True)  # the backlog: stored, never alerted
    server.add("/prn.rss", full)
    yield server, poller, store
    poller.close()
    store.close()


def row_of(store: Store) -> dict:
    return store.get(CRYOPORT_ID)[0]


def page_requests(server) -> int:
    return sum(1 for path, _ in server.requests if path == CRYOPORT_PATH)


def later(poller: Poller, seconds: float) -> None:
    start = datetime.now(UTC)
    poller.now = lambda: start + timedelta(seconds=seconds)


def test_backlog_pages_are_fetched_but_never_alert(prn):
    server, poller, store = prn
    # Their pages were tried in that pass (404 here: the summary stays, retried later).
    assert store.page_counts() == {"fetched": 0, "pending": 2, "retrying": 2, "failed": 0}
    assert store.alert_rows() == []


def test_cut_summary_becomes_the_full_page_text_before_the_alert(prn):
    server, poller, store = prn
    server.add(CRYOPORT_PATH, PRN_PAGE.read_bytes(), headers={"Content-Type": "text/html"})
    poller.poll(force=True)
    row = row_of(store)
    assert "HackerRank" in row["text"] and not row["text"].endswith("...")
    assert store.page_row(row["id"])["state"] == "done"
    assert [a["channel"] for a in store.alert_rows()] == ["email"]
    assert store.page_counts()["fetched"] == 1


def test_a_missing_page_keeps_the_summary_alerts_once_and_is_retried_later(prn):
    server, poller, store = prn
    server.add(CRYOPORT_PATH, b"gone", status=404)
    poller.poll(force=True)
    row = row_of(store)
    assert row["text"].endswith("first quarter...")  # the summary, stored, never lost
    page = store.page_row(row["id"])
    assert (page["state"], page["attempts"]) == ("pending", 1) and "HTTP 404" in page["last_error"]
    assert len(store.alert_rows()) == 1  # not held back by the page
    poller.poll(force=True)  # not due yet: no request
    assert page_requests(server) == 1
    server.add(CRYOPORT_PATH, PRN_PAGE.read_bytes(), headers={"Content-Type": "text/html"})
    later(poller, 3600)
    poller.poll(force=True)
    assert page_requests(server) == 2
    assert "HackerRank" in row_of(store)["text"]
    assert len(store.alert_rows()) == 1  # the fill re-tags; the channel is not alerted again
    assert store.page_counts()["fetched"] == 1


def test_a_page_that_times_out_keeps_the_summary(prn):
    server, poller, store = prn
    stop = threading.Event()

    def slow(handler):
        stop.wait(3)

    server.add(CRYOPORT_PATH, handler=slow)
    try:
        poller.poll(force=True)
    finally:
        stop.set()
    row = row_of(store)
    assert row["text"].endswith("first quarter...")
    assert "timeout" in store.page_row(row["id"])["last_error"]
    assert len(store.alert_rows()) == 1


def test_a_page_over_the_size_cap_fails_and_is_given_up_after_the_attempts(prn, write_config):
    server, poller, store = prn
    server.add(CRYOPORT_PATH, b"<p>" + b"x" * 6_000_000 + b"</p>")
    poller.poll(force=True)
    row = row_of(store)
    assert "body over" in store.page_row(row["id"])["last_error"]
    for hours in range(1, 12):  # the backoff doubles: retry far enough in the future each time
        later(poller, hours * 86400)
        poller.poll(force=True)
    assert store.page_row(row["id"])["state"] == "failed"
    assert store.page_counts()["failed"] >= 1
    assert row_of(store)["text"].endswith("first quarter...")
    assert len(store.alert_rows()) == 1


def test_a_page_claimed_by_another_process_is_not_fetched_twice(prn, tmp_path):
    server, poller, store = prn
    server.add(CRYOPORT_PATH, b"gone", status=404)
    other = Store(store.path)
    try:
        now = datetime.now(UTC)
        poller.poll(force=True)
        later(poller, 86400)
        lease = (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        claimed = other.claim_pages((now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), lease)
        assert CRYOPORT_ID in [task.release.release_id for task in claimed]
        poller.poll(force=True)  # the other process holds it: no second fetch
        assert page_requests(server) == 1
    finally:
        other.close()


def test_a_pass_reads_its_pages_on_the_threads_that_fetched_its_feeds(server, write_config):
    """The pages of a pass reuse the fetch threads its feeds started (no second pool)."""
    full = localised(PRN_FEED.read_bytes(), server.base_url)
    feeds = [server.add(f"/prn-{n}.rss", full) for n in (1, 2)]
    server.add(CRYOPORT_PATH, PRN_PAGE.read_bytes(), headers={"Content-Type": "text/html"})
    listed = ", ".join(f'{{ url = "{feed}", source = "prnewswire" }}' for feed in feeds)
    config = load_config(write_config(wire_config(f"[{listed}]", WATCH, timeout=1)))
    fetched_by: dict[str, list[threading.Thread]] = {}

    class Recording(Poller):
        def get(self, url, **kwargs):
            fetched_by.setdefault(url, []).append(threading.current_thread())
            return super().get(url, **kwargs)

    with Store(config.storage.path) as store:
        poller = Recording.create(config, store)
        try:
            poller.poll(force=True)
        finally:
            poller.close()
        page_threads = {t for url, ts in fetched_by.items() if url not in feeds for t in ts}
        feed_threads = {t for url in feeds for t in fetched_by[url]}
        assert any(CRYOPORT_PATH in url for url in fetched_by)  # the page was read
        assert threading.current_thread() not in feed_threads  # two feeds: the pool fetched
        assert page_threads & feed_threads  # the feeds' threads went on with the pages
        # One pool: a second one would name its threads fetch_0, fetch_1 ... again.
        every = page_threads | feed_threads
        assert len({t.name for t in every}) == len(every)
        assert store.page_counts()["fetched"] == 1
