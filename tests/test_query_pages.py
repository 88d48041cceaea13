"""A page of newest-first results is the same whichever way the store finds it.

A selective query's page is first looked for among the newest releases (walking the date
index until the page is full), and only when they hold too few matches found by sorting all
the matches by date. Both must give exactly the page a plain sort of every match gives, ties
of date included (ordered by id, newest first).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

import monitor.query as query_module
from monitor.models import Classification, Release, Ticker
from monitor.query import parse_query, run_query, where_clauses
from monitor.store import Store

COUNT = 400
TAGS = ("grant", "trial", "licensing")


def _release(i: int) -> Release:
    day = date(2020, 1, 1) + timedelta(days=i * 7 % 50)  # 50 days: eight releases a day
    words = ["alpha"]  # in every release
    words += ["beta"] if i % 3 == 0 else []
    words += ["gamma"] if i % 40 == 0 else []  # ten releases
    words += ["delta"] if i * 7 % 50 < 2 else []  # only on the two oldest days
    tickers = [Ticker("NASDAQ", "AAA")] if i % 2 else []
    tickers += [Ticker("NASDAQ", "BBB")] if i % 5 == 0 else []
    return Release(
        source="globenewswire", release_id=str(i), url=f"https://example.org/{i}",
        title=f"Release number {i}", summary_html="", text=" ".join(words) + f" item{i}.",
        published_utc=f"{day.isoformat()}T12:00:00Z", published_raw="", tickers=tuple(tickers),
    )  # fmt: skip


def _classify(release: Release) -> Classification:
    i = int(release.release_id)
    tags = (TAGS[i % 3],) + (("financing",) if i % 7 == 0 else ())
    return Classification(primary=tags[0], tags=tags, evidence=())


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("pages") / "pages.db")
    store.save_releases([_release(i) for i in range(COUNT)], classify=_classify)
    yield store
    store.close()


def _expected(store, query) -> list[int]:
    """The page by a plain sort of every match, in Python."""
    sql = where_clauses(query)
    found = store.db.execute(
        "SELECT r.id, r.sort_time FROM releases r WHERE " + " AND ".join(sql.where), sql.params
    ).fetchall()
    ordered = [row[0] for row in sorted(found, key=lambda row: (row[1], row[0]), reverse=True)]
    return ordered[query.offset : query.offset + query.limit]


QUERIES = ["alpha", "beta", "gamma", "delta", "alpha tag:grant", "beta ticker:AAA",
           "ticker:AAA tag:trial", "ticker:BBB", "tag:grant", "gamma OR ticker:BBB",
           "alpha -tag:grant", "alpha since:2020-01-20", "beta until:2020-01-10",
           "tag:grant tag:financing", "delta OR gamma", "ticker:AAA ticker:BBB beta"]  # fmt: skip
PAGES = [(1, 0), (5, 0), (10, 3), (50, 0), (20, 150), (400, 0), (7, 395)]


@pytest.mark.parametrize("walk_per_row", [1, 3, 200])
@pytest.mark.parametrize("text", QUERIES)
def test_every_page_is_the_page_of_a_plain_sort(store, monkeypatch, text, walk_per_row):
    monkeypatch.setattr(query_module, "WALK_PER_ROW", walk_per_row)
    for limit, offset in PAGES:
        query = replace(parse_query(text), limit=limit, offset=offset)
        expected = _expected(store, query)
        assert [row["id"] for row in run_query(store.db, query)] == expected, (limit, offset)


def _statements(store, query) -> list[str]:
    seen: list[str] = []
    store.db.conn.set_trace_callback(seen.append)
    try:
        run_query(store.db, query)
    finally:
        store.db.conn.set_trace_callback(None)
    return seen


@pytest.mark.parametrize(
    ("text", "sorts"),
    [
        ("alpha", False),  # every release matches: the newest 24 hold the page
        ("alpha tag:grant", False),  # a third of them: still enough there
        ("gamma", True),  # ten of 400, none among the newest 24: all ten sorted
        ("delta", True),  # only on the two oldest days
        ("alpha -tag:grant", False),
        ("alpha until:2020-01-10", False),  # the newest 24 before that day
        ("delta since:2020-01-01 until:2020-01-03", False),  # those two days hold all of them
    ],
)
def test_many_matches_are_not_all_sorted(store, monkeypatch, text, sorts):
    # The newest (0 + 5) * 6 releases, less the ties of the 31st: the three newest days.
    monkeypatch.setattr(query_module, "WALK_PER_ROW", 6)
    statements = _statements(store, replace(parse_query(text), limit=5))
    sorted_all = [s for s in statements if f"INDEXED BY {query_module.ID_DATE_INDEX}" in s]
    walked = [s for s in statements if s.startswith("SELECT o.*") and query_module.DATE_INDEX in s]
    assert len(walked) == 1
    assert bool(sorted_all) == sorts


def test_a_small_database_is_walked_whole_and_never_sorted(store):
    statements = _statements(store, parse_query("gamma"))  # 400 releases: fewer than 50 * 200
    assert not [s for s in statements if query_module.ID_DATE_INDEX in s]
    assert [row["id"] for row in store.query(parse_query("gamma"))] == _expected(
        store, parse_query("gamma")
    )


@pytest.mark.parametrize("text", ["ticker:AAA", "ticker:BBB tag:financing", "watched:yes alpha"])
def test_a_tickers_releases_are_sorted_not_walked(store, monkeypatch, text):
    monkeypatch.setattr(query_module, "WALK_PER_ROW", 6)
    query = replace(parse_query(text), limit=5, watched=(Ticker("", "AAA"),))
    statements = _statements(store, query)
    assert not [s for s in statements if query_module.DATE_INDEX in s]
    assert [row["id"] for row in run_query(store.db, query)] == _expected(store, query)


def test_a_tickers_release_ids_come_from_the_index_alone(store):
    """Schema 15: (symbol, exchange, release) lists a ticker's releases without reading rows."""
    indexes = {row[1] for row in store.db.execute("PRAGMA index_list(release_tickers)")}
    assert "idx_release_tickers_symbol_exchange_release" in indexes
    assert "idx_release_tickers_symbol_exchange" not in indexes  # the new one does its work
    for sql, params in [
        ("SELECT release FROM release_tickers WHERE symbol = ?", ["AAA"]),
        (
            "SELECT release FROM release_tickers WHERE symbol = ? AND exchange = ?",
            ["AAA", "NASDAQ"],
        ),
    ]:
        plan = str(store.db.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "COVERING INDEX idx_release_tickers_symbol_exchange_release" in plan


def test_a_deep_page_is_sorted_not_walked(store, monkeypatch):
    """An export's page (a million rows) would walk every release for a rare match: sorted."""
    monkeypatch.setattr(query_module, "WALK_PER_ROW", 6)
    monkeypatch.setattr(query_module, "MAX_WALK", 100)
    for limit, walks in [(16, True), (17, False)]:  # 16 * 6 = 96 releases; 17 * 6 = 102
        query = replace(parse_query("alpha"), limit=limit)
        statements = _statements(store, query)
        assert bool([s for s in statements if query_module.DATE_INDEX in s]) == walks
        assert [row["id"] for row in run_query(store.db, query)] == _expected(store, query)
