"""The store owns biomon's SQL: its methods, and the poller's insert -> match -> enqueue."""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path

import pytest

import monitor
from monitor.classify import classify
from monitor.config import load_config
from monitor.models import Release, Ticker
from monitor.poller import Poller
from monitor.query import parse_query
from monitor.rules import Match
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed

PACKAGE = Path(monitor.__file__).parent
LICENSE = "Cellectar Biosciences (NASDAQ: CLRB) signed an exclusive license agreement."


def release(release_id: str, title: str | None = None, **fields) -> Release:
    values = dict(
        source="globenewswire", release_id=release_id, url="", title=title or f"Release {release_id}",
        summary_html="", text=LICENSE, published_utc="2026-11-25T16:00:00Z", published_raw="",
        tickers=(Ticker("NASDAQ", "CLRB"),),
    )  # fmt: skip
    values.update(fields)
    return Release(**values)


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("monitor")}


@pytest.mark.parametrize("module", sorted((PACKAGE / "store").glob("*.py")), ids=lambda p: p.name)
def test_the_store_imports_nothing_above_it(module):
    assert imports_of(module) <= {
        "monitor.errors", "monitor.models", "monitor.query", "monitor.schema", "monitor.store",
    } | {f"monitor.store.{p.stem}" for p in (PACKAGE / "store").glob("*.py")}  # fmt: skip


# A connection or a statement of its own: `.db[...]`, `.db.`, `.conn`, `.execute(`.
SQL = re.compile(r"\.db\[|\.db\.|\.conn\b|\.execute\(|\bsqlite3\.connect\(")


@pytest.mark.parametrize(
    "module",
    ["daemon.py", "poller.py", "outbox.py", "health.py", "backfill.py", "schedule.py", "fetch.py",
     "rules.py", "parse.py"],
)  # fmt: skip
def test_modules_outside_the_store_run_no_sql(module):
    assert not SQL.findall((PACKAGE / module).read_text())


def test_store_is_a_context_manager_that_closes_its_connection(tmp_path):
    with Store(tmp_path / "b.db") as store:
        assert store.count() == 0
    with pytest.raises(sqlite3.ProgrammingError):
        store.db.conn.execute("SELECT 1")


def test_daemon_row_is_empty_until_a_daemon_beats(tmp_path):
    with Store(tmp_path / "b.db") as store:
        assert store.daemon_row() == {}
        state, last_success = store.heartbeat(41, "2026-12-01T10:00:00Z", started=True)
        assert (state["pid"], state["started"], state["last_beat"]) == (
            41, "2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z",
        )  # fmt: skip
        assert last_success is None
        state, _ = store.heartbeat(41, "2026-12-01T10:00:30Z")
        assert (state["started"], state["last_beat"]) == (
            "2026-12-01T10:00:00Z", "2026-12-01T10:00:30Z",
        )  # fmt: skip


def test_alarm_and_stop_are_kept_in_the_daemon_row(tmp_path):
    with Store(tmp_path / "b.db") as store:
        store.heartbeat(41, "2026-12-01T10:00:00Z", started=True)
        store.set_daemon_alarm("2026-12-01T10:30:00Z")
        assert store.daemon_row()["alarm_since"] == "2026-12-01T10:30:00Z"
        store.set_daemon_alarm(None)
        store.record_daemon_stop("2026-12-01T11:00:00Z")
        row = store.daemon_row()
        assert (row["alarm_since"], row["stopped"], row["pid"]) == (
            None, "2026-12-01T11:00:00Z", None,
        )  # fmt: skip
        state, _ = store.heartbeat(42, "2026-12-01T12:00:00Z", started=True)
        assert (state["stopped"], state["pid"]) == (None, 42)


def test_poll_times_and_polled_feeds_follow_the_feed_rows(server, write_config):
    url = server.add("a.xml", feed(Item("8100000", "One")))
    config = load_config(write_config(config_text([url])))
    store = Store(config.storage.path)
    assert store.poll_times() == (None, None) and store.polled_feeds() == set()
    Poller.create(config, store).poll()
    last_polled, last_success = store.poll_times()
    assert last_polled and last_polled == last_success
    assert store.polled_feeds() == {url}
    state, beat_success = store.heartbeat(1, "2026-12-01T10:00:00Z", started=True)
    assert beat_success == last_success


def test_save_release_says_new_once_and_classifies_only_the_new(tmp_path):
    classified: list[str] = []

    def classify_one(r: Release):
        classified.append(r.release_id)
        return classify(r.title, r.text)

    with Store(tmp_path / "b.db") as store:
        first = store.save_release(release("1"), classify=classify_one, feed_url="http://a/f")
        again = store.save_release(release("1"), classify=classify_one, feed_url="http://b/f")
        assert (first.new, first.alertable, again.new, again.alertable) == (
            True,
            True,
            False,
            False,
        )
        assert first.row_id == again.row_id and "licensing" in first.classification.tags
        assert classified == ["1"]
        assert store.seen_in(first.row_id) == ["http://a/f", "http://b/f"]


def test_a_copy_of_a_stored_release_is_stored_but_not_alertable(tmp_path):
    with Store(tmp_path / "b.db") as store:
        store.save_release(release("1", "Acme Signs License"))
        copy = store.save_release(
            release("2", "UPDATE - Acme Signs License"),
            classify=lambda r: classify(r.title, r.text),
        )
        assert copy.new and copy.duplicate_of is not None and not copy.alertable


def test_queue_alerts_makes_one_pending_alert_per_release_and_channel(tmp_path):
    with Store(tmp_path / "b.db") as store:
        row_id = store.save_release(release("1")).row_id
        store.queue_alerts(
            row_id, [Match("email", "CLRB", "CLRB"), Match("desktop", "CLRB", "CLRB")]
        )
        store.queue_alerts(row_id, [Match("email", "other rule", "")])
        rows = {(a["channel"], a["rule"], a["status"]) for a in store.alert_rows()}
        assert rows == {("email", "CLRB", "pending"), ("desktop", "CLRB", "pending")}


def test_facet_counts_through_the_store(tmp_path):
    with Store(tmp_path / "b.db") as store:
        store.save_releases(
            [release("1"), release("2", published_utc="2026-10-02T10:00:00Z")],
            classify=lambda r: classify(r.title, r.text),
        )
        counts = store.facet_counts(parse_query("ticker:CLRB"))
        assert counts["total"] == [("releases", 2)]
        assert counts["ticker"] == [("NASDAQ:CLRB", 2)]
        assert counts["month"] == [("2026-11", 1), ("2026-10", 1)]
        assert ("licensing", 2) in counts["tag"]


class FailingRules(Poller):
    """A poller whose rules break on one release (a bug, a bad saved query)."""

    def match(self, release, classification, row_id):
        if release.release_id == "8200001":
            raise RuntimeError("rule exploded")
        return super().match(release, classification, row_id)


WATCH = '[[watch]]\nticker = "CLRB"\n[notify.desktop]\nenabled = true\n'


def test_a_release_whose_rules_fail_is_left_out_with_no_alert_and_the_others_alert(
    server, write_config
):
    backlog = Item("8200000", "Backlog", tickers=("Nasdaq:CLRB",), text=LICENSE)
    url = server.add("a.xml", feed(backlog))
    config = load_config(write_config(config_text([url], WATCH)))
    store = Store(config.storage.path)
    poller = FailingRules.create(config, store)
    poller.poll()  # the backlog: stored, never alerted
    new = [Item(f"820000{i}", f"CLRB Signs Exclusive License {i}", tickers=("Nasdaq:CLRB",),
                text=LICENSE) for i in (1, 2)]  # fmt: skip
    server.add("a.xml", feed(*new, backlog))
    report = poller.poll(force=True).feeds[0]
    assert (report.new, report.failed) == (1, 1)
    assert report.failures[0].startswith("8200001: RuntimeError: rule exploded")
    assert store.get("8200001") == []  # not stored without its alerts: the next poll retries
    assert [a["release_id"] for a in store.alert_rows()] == ["8200002"]
