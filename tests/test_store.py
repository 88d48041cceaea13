"""The SQLite store: deduplication, tickers, full-text search, migrations."""

from __future__ import annotations

import sqlite3

import sqlite_utils

from monitor.models import Release, Ticker
from monitor.query import ReleaseQuery, fts_query
from monitor.schema import migrate
from monitor.store import Store


def release(release_id: str, title: str = "A release", text: str = "", **fields) -> Release:
    values = dict(
        source="globenewswire",
        release_id=release_id,
        url=f"https://www.globenewswire.com/news-release/2023/12/19/{release_id}/0/en/x.html",
        title=title,
        summary_html="",
        text=text,
        published_utc="2023-12-19T13:30:00Z",
        published_raw="Tue, 19 Dec 2023 13:30 GMT",
        tickers=(Ticker("NASDAQ", "CLRB"),),
    )
    values.update(fields)
    return Release(**values)


def test_database_is_in_wal_mode(tmp_path):
    store = Store(tmp_path / "b.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_saving_twice_stores_once(tmp_path):
    store = Store(tmp_path / "b.db")
    assert store.save_releases([release("1"), release("2")]).new == 2
    second = store.save_releases([release("1"), release("2")])
    assert (second.new, second.already) == (0, 2)
    assert store.count() == 2


def test_release_in_two_feeds_is_one_row_seen_in_both(tmp_path):
    store = Store(tmp_path / "b.db")
    store.save_releases([release("1")], feed_url="http://a/feed")
    store.save_releases([release("1")], feed_url="http://b/feed")
    rows = store.get("1")
    assert len(rows) == 1
    assert store.seen_in(rows[0]["id"]) == ["http://a/feed", "http://b/feed"]


def test_first_seen_is_kept_on_later_sightings(tmp_path):
    times = iter(["2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"])
    store = Store(tmp_path / "b.db", clock=lambda: next(times))
    store.save_releases([release("1")])
    store.save_releases([release("1")])
    assert store.get("1")[0]["first_seen"] == "2024-01-01T00:00:00Z"


def test_ticker_query_respects_exchange(tmp_path):
    store = Store(tmp_path / "b.db")
    store.save_releases(
        [release("1"), release("2", tickers=(Ticker("TSX", "CLRB"),)), release("3", tickers=())]
    )
    ids = lambda q: sorted(r["release_id"] for r in store.query(q))  # noqa: E731
    assert ids(ReleaseQuery(tickers=(Ticker("", "CLRB"),))) == ["1", "2"]
    assert ids(ReleaseQuery(tickers=(Ticker("NASDAQ", "CLRB"),))) == ["1"]


def test_unreadable_date_sorts_by_first_seen(tmp_path):
    store = Store(tmp_path / "b.db", clock=lambda: "2030-01-01T00:00:00Z")
    store.save_releases([release("1"), release("2", published_utc=None, published_raw="soon")])
    assert [r["release_id"] for r in store.query(ReleaseQuery())] == ["2", "1"]


def test_fts_phrase_and_user_punctuation(tmp_path):
    store = Store(tmp_path / "b.db")
    store.save_releases(
        [
            release("1", text="we were awarded a $2 million NCI grant to evaluate"),
            release("2", text="NCI funded. A grant was not involved in Phase-2."),
        ]
    )
    found = lambda s: [r["release_id"] for r in store.query(ReleaseQuery(search=s))]  # noqa: E731
    assert found('"NCI grant"') == ["1"]
    assert sorted(found("NCI grant")) == ["1", "2"]
    assert found("Phase-2") == ["2"]
    assert found("Nasdaq:CLRB") == []  # no FTS syntax error


def test_fts_query_quotes_terms():
    assert fts_query('NCI "orphan drug" lic* OR') == '"NCI" "orphan drug" "lic"*'


def test_migration_from_older_schema_keeps_rows(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(sqlite3.connect(path))
    assert migrate(db, upto=1) == 1
    db["releases"].insert(
        {"source": "globenewswire", "release_id": "9", "title": "Old row", "text": "legacy grant",
         "first_seen": "2020-01-01T00:00:00Z", "sort_time": "2020-01-01T00:00:00Z", "tickers": "[]",
         "subjects": "[]"}
    )  # fmt: skip
    db.conn.commit()
    db.conn.close()
    store = Store(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] >= 2
    assert [r["title"] for r in store.query(ReleaseQuery(search="legacy"))] == ["Old row"]


def test_copy_is_marked_on_insert_and_fts_follows_only_text_changes(tmp_path):
    store = Store(tmp_path / "b.db")
    store.save_releases([release("1", "Acme Signs License", text="original wording")])
    store.save_releases([release("2", "UPDATE - Acme Signs License", text="updated wording")])
    first, copy = (store.get(i)[0] for i in ("1", "2"))
    assert copy["duplicate_of"] == first["id"] and first["duplicate_of"] is None
    # Re-tagging a release leaves its full-text entry alone: one row changed, nothing re-indexed.
    before = store.db.conn.total_changes
    store.db.execute("UPDATE releases SET primary_tag = 'licensing' WHERE id = ?", [first["id"]])
    assert store.db.conn.total_changes - before == 1
    # Changing the text does re-index it.
    store.db.execute("UPDATE releases SET text = 'amended wording' WHERE id = ?", [first["id"]])
    found = lambda s: [r["release_id"] for r in store.query(ReleaseQuery(search=s))]  # noqa: E731
    assert found("amended") == ["1"] and found("original") == []
    store.db.execute("INSERT INTO releases_fts (releases_fts) VALUES ('integrity-check')")
