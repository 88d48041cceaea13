"""How a pass hands feeds to threads: a one-feed pass (the daemon at a feed's slot) fetches in
the calling thread; a larger pass uses the pool's lanes."""

from __future__ import annotations

import logging
import sys
import threading

from monitor.config import load_config
from monitor.poller import SWITCH_INTERVAL, Poller
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed

RSS = feed(Item("3000001", "Cellectar Announces Phase 2 Data", tickers=("Nasdaq:CLRB",)))


def poller_for(write_config, urls: list[str]) -> Poller:
    config = load_config(write_config(config_text(urls, timeout=2)))
    return Poller.create(config, Store(config.storage.path))


def fetching_threads(poller: Poller) -> list[str]:
    """Run a pass; the names of the threads that fetched (the real fetch, recorded)."""
    names: list[str] = []
    fetch = poller.fetch

    def recorded(state, url=None):
        names.append(threading.current_thread().name)
        return fetch(state, url)

    poller.fetch = recorded
    try:
        report = poller.poll(force=True)
    finally:
        del poller.fetch
    assert all(not f.error for f in report.feeds), report.feeds
    return names


def test_a_one_feed_pass_fetches_in_the_calling_thread(server, write_config):
    poller = poller_for(write_config, [server.add("one.xml", RSS, headers={"ETag": '"a"'})])
    try:
        assert fetching_threads(poller) == [threading.current_thread().name]
        report = poller.poll(force=True)  # the same body again: stored as such
        assert [f.skipped for f in report.feeds] == ["unchanged"]
        assert server.requests[-1][1].get("If-None-Match") == '"a"'
        assert poller.pool is None
    finally:
        poller.close()
        poller.store.close()


def test_a_pass_of_several_feeds_fetches_in_pool_threads(server, write_config):
    urls = [server.add(f"f{i}.xml", RSS) for i in range(3)]
    poller = poller_for(write_config, urls)
    try:
        names = fetching_threads(poller)
        assert len(names) == 3
        assert all(name.startswith("fetch") for name in names)
    finally:
        poller.close()
        poller.store.close()


def test_gil_hand_overs_are_quick_while_fetch_threads_run_and_restored_after(server, write_config):
    urls = [server.add(f"s{i}.xml", RSS) for i in range(3)]
    poller = poller_for(write_config, urls)
    before = sys.getswitchinterval()
    seen: list[float] = []
    fetch = poller.fetch

    def recorded(state, url=None):
        seen.append(sys.getswitchinterval())
        return fetch(state, url)

    poller.fetch = recorded
    try:
        poller.poll(force=True)
    finally:
        poller.close()
        poller.store.close()
    assert seen == [SWITCH_INTERVAL] * 3
    assert sys.getswitchinterval() == before


def conditional(handler) -> None:
    """RSS with an ETag; 304 when the request names it."""
    fresh = handler.headers.get("If-None-Match") == '"r1"'
    body = b"" if fresh else RSS
    handler.send_response(304 if fresh else 200)
    handler.send_header("ETag", '"r1"')
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_a_304_is_stored_without_a_savepoint_of_its_own(server, write_config):
    urls = [server.add(f"c{i}.xml", handler=conditional) for i in range(3)]
    poller = poller_for(write_config, urls)
    statements: list[str] = []
    try:
        first = poller.poll(force=True)
        assert first.new == 1 and not any(f.error for f in first.feeds)
        poller.store.db.conn.set_trace_callback(statements.append)
        report = poller.poll(force=True)
        poller.store.db.conn.set_trace_callback(None)
    finally:
        poller.close()
        poller.store.close()
    assert [f.skipped for f in report.feeds] == ["not modified"] * 3
    assert not [s for s in statements if s.startswith("SAVEPOINT")]
    assert sum(s.startswith("INSERT INTO feeds") for s in statements) == 3
    assert [f.status for f in report.feeds] == [304] * 3


def test_a_304_is_logged_only_at_debug_new_releases_at_info(server, write_config, caplog):
    """The daemon logs at INFO: a line per feed per interval saying "not modified" would be
    most of its log; with -v (DEBUG) it is there."""
    urls = [server.add(f"q{i}.xml", handler=conditional) for i in range(2)]
    poller = poller_for(write_config, urls)
    try:
        with caplog.at_level(logging.INFO, logger="monitor"):
            poller.poll(force=True)
            first = [r.getMessage() for r in caplog.records]
            caplog.clear()
            poller.poll(force=True)
            quiet = [r.getMessage() for r in caplog.records]
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="monitor"):
            poller.poll(force=True)
            verbose = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    finally:
        poller.close()
        poller.store.close()
    assert sum("1 new" in line for line in first) == 1  # the feed that had the release
    assert not [line for line in quiet if "not modified" in line]
    assert sum("not modified" in line for line in verbose) == 2
