"""Full-text search indexes the news (headline, lead, body), not the boilerplate; the text is
stored once, whole; re-texting, reclassifying and migrating keep the index right."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from monitor.classify import classify
from monitor.classify.sections import news_end
from monitor.models import Release, Ticker
from monitor.query import parse_query
from monitor.schema import MIGRATIONS, migrate
from monitor.store import Store
from tests.conftest import FIXTURES

SEED = (FIXTURES / "clrb-2023-12-19-warf-license.txt").read_text(encoding="utf-8")
NEWS = (
    "MADISON, Wis., Dec. 19, 2023 (GLOBE NEWSWIRE) -- Zebraline Therapeutics (NASDAQ: ZBRA) "
    "signed an exclusive license agreement with the Wisconsin Alumni Research Foundation for "
    "its phosphor platform, and expects to dose the first patient in the spring.\n\n"
    "The agreement covers radiolabelled conjugates discovered at the university.\n\n"
)
TAIL = (
    "About Zebraline Therapeutics\n\n"
    "Zebraline Therapeutics is a biotechnology company developing quokka-derived peptides.\n\n"
    "Forward-Looking Statements\n\n"
    "This release contains forward-looking statements about hypothetical marmalade outcomes.\n\n"
    "Contacts\n\nInvestor Relations, ir@zebraline.example\n"
)
TEXT = NEWS + TAIL


def release(
    release_id: str = "1", text: str = TEXT, title: str = "Zebraline hummingbird pact"
) -> Release:
    return Release(
        source="globenewswire", release_id=release_id, url="", title=title, summary_html="<p>x</p>",
        text=text, published_utc="2023-12-19T13:30:00Z", published_raw="",
        tickers=(Ticker("NASDAQ", "ZBRA"),),
    )  # fmt: skip


def by_classifier(r: Release):
    return classify(r.title, r.text)


def found(store: Store, query: str) -> list[str]:
    return [row["release_id"] for row in store.query(parse_query(query))]


def index_matches_the_text(store: Store) -> None:
    """FTS5's own check of the index against the content it was built from (raises if not)."""
    store.db.conn.execute(
        "INSERT INTO releases_fts (releases_fts, rank) VALUES ('integrity-check', 1)"
    )


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "b.db") as store:
        store.save_releases([release()], classify=by_classifier)
        yield store


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("phosphor", ["1"]),  # a word of the lead
        ("radiolabelled conjugates", ["1"]),  # words of the body
        ('"exclusive license agreement"', ["1"]),  # a phrase
        ("phosph*", ["1"]),  # a prefix
        ("hummingbird", ["1"]),  # the title
        ("quokka", []),  # only in the About paragraph
        ("marmalade", []),  # only in the forward-looking statements
        ("ir zebraline example", []),  # only in the contacts
        ("phosphor OR marmalade", ["1"]),
        ("phosphor NOT marmalade", ["1"]),  # boilerplate words never exclude a release either
    ],
)  # fmt: skip
def test_search_finds_the_news_and_not_the_boilerplate(store, query, expected):
    assert found(store, query) == expected


@pytest.mark.parametrize(
    ("fts5", "expected"),
    [("NEAR(phosphor patient, 12)", [1]), ("NEAR(phosphor quokka, 200)", [])],
)
def test_raw_fts5_near_reads_the_news(store, fts5, expected):
    # Raw FTS5, as the browser's `_searchmode=raw` sends it.
    sql = "SELECT rowid FROM releases_fts WHERE releases_fts MATCH ?"
    assert [row[0] for row in store.db.execute(sql, [fts5])] == expected


def test_show_and_export_still_have_the_whole_text(store):
    row = store.get("1")[0]
    assert row["text"] == TEXT
    assert store.query(parse_query("phosphor"))[0]["text"] == TEXT


def test_snippets_come_from_the_news(store):
    row = store.query(parse_query("conjugates"))[0]
    assert "conjugates" in row["snippet"] and "quokka" not in row["snippet"]


def test_the_text_is_stored_once(store):
    tables = {name for (name,) in store.db.execute("SELECT name FROM sqlite_master")}
    assert "releases_fts_content" not in tables  # external content: the index keeps no copy
    assert store.release_row(store.get("1")[0]["id"])["summary_html"] is None


def test_a_release_saved_unclassified_is_indexed_whole(tmp_path):
    with Store(tmp_path / "b.db") as store:
        store.save_releases([release()])
        assert found(store, "marmalade") == ["1"]
        index_matches_the_text(store)


def test_a_replaced_text_is_found_by_its_new_words_and_not_the_old(store):
    row_id = store.get("1")[0]["id"]
    new_text = (
        "BOSTON, Jan. 5, 2024 -- Zebraline reported topline data from the okapi study.\n\n" + TAIL
    )
    assert store.replace_text(row_id, new_text, classification=classify("t", new_text))
    assert found(store, "okapi") == ["1"]
    assert found(store, "phosphor") == []
    assert found(store, "quokka") == []  # the new boilerplate is not indexed either
    assert store.get("1")[0]["text"] == new_text
    index_matches_the_text(store)


def test_replacing_the_title_reindexes_it(store):
    row_id = store.get("1")[0]["id"]
    store.replace_text(row_id, TEXT, title="Zebraline names a capybara officer")
    assert found(store, "capybara") == ["1"]
    assert found(store, "hummingbird") == []
    index_matches_the_text(store)


def test_replacing_the_text_of_no_release_says_so(store):
    assert store.replace_text(999, "anything") is False


def test_replace_text_with_a_classification_stores_its_tags(store):
    row_id = store.get("1")[0]["id"]
    text = "BOSTON, Jan. 5, 2024 -- Zebraline closed a $40 million private placement.\n\n" + TAIL
    store.replace_text(row_id, text, classification=classify("Zebraline raises $40M", text))
    assert [tag for tag, _ in store.tags_of(row_id)] == ["financing"]


def test_retagging_leaves_the_index_alone_and_right(store):
    store.reclassify(lambda title, text: classify(title, text))
    assert found(store, "phosphor") == ["1"] and found(store, "quokka") == []
    index_matches_the_text(store)


@pytest.mark.parametrize(
    "text",
    [
        TEXT,
        TEXT.replace("\n", "\r\n"),  # Windows line ends: offsets differ from the cleaned text
        " date 2023-12-19 " + TEXT,  # a scraper's date ahead of the text
        TEXT.replace("(NASDAQ", "\\$5 million (NASDAQ"),  # an escaped dollar
        NEWS,  # no boilerplate: all news
        "",
    ],
)
def test_news_end_cuts_the_text_as_given_where_the_boilerplate_starts(text):
    end = news_end(text)
    assert "phosphor" in text[:end] or not text
    assert "About Zebraline" not in text[:end]
    assert text[end:].startswith("About Zebraline") or end == len(text)
    assert classify("t", text).news_end == end


def test_the_seed_release_is_mostly_boilerplate():
    end = news_end(SEED)
    assert SEED[end:].startswith("About the Wisconsin Alumni Research Foundation")
    assert end < len(SEED) / 3


def old_database(path, count: int) -> None:
    """A database as biomon made it before schema 11: the HTML kept, the whole text indexed."""
    db = sqlite_connection(path)
    migrate(db, upto=10)
    for i in range(count):
        db.execute(
            "INSERT INTO releases (source, release_id, url, title, summary_html, text, "
            "published_utc, published_raw, sort_time, tickers, first_seen) "
            "VALUES ('globenewswire', ?, '', 'Zebraline licenses', '<p>html</p>', ?, "
            "'2023-12-19T13:30:00Z', '', '2023-12-19T13:30:00Z', '[]', '2023-12-19T13:30:00Z')",
            [str(i + 1), TEXT],
        )
    db.conn.commit()
    db.conn.close()


def sqlite_connection(path):
    import sqlite_utils

    conn = sqlite3.connect(path)
    conn.isolation_level = None
    return sqlite_utils.Database(conn)


def test_migration_keeps_every_release_searchable_then_splitting_drops_the_boilerplate(tmp_path):
    old_database(tmp_path / "old.db", 25)
    with Store(tmp_path / "old.db") as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert store.count() == 25
        assert len(found(store, "phosphor")) == 25
        assert len(found(store, "marmalade")) == 25  # not split yet: indexed whole, as before
        assert store.db.execute("SELECT count(summary_html) FROM releases").fetchone()[0] == 0
        steps = []
        assert (
            store.split_news(news_end, progress=lambda d, t: steps.append((d, t)), batch=10) == 25
        )
        assert steps == [(10, 25), (20, 25), (25, 25)]
        assert len(found(store, "phosphor")) == 25
        assert found(store, "marmalade") == []
        assert {row["text"] for row in store.query(parse_query("phosphor"))} == {TEXT}
        assert store.unsplit_count() == 0
        assert store.split_news(news_end) == 0  # nothing left: a second run does nothing
        index_matches_the_text(store)


def test_reclassifying_splits_old_releases_too(tmp_path):
    old_database(tmp_path / "old.db", 3)
    with Store(tmp_path / "old.db") as store:
        store.reclassify(lambda title, text: classify(title, text))
        assert found(store, "marmalade") == [] and len(found(store, "phosphor")) == 3
        assert store.unsplit_count() == 0
        index_matches_the_text(store)


def test_newest_first_pages_sort_matches_on_the_small_date_index(tmp_path):
    with Store(tmp_path / "b.db") as store:
        releases = [release(str(i), title=f"Zebraline hummingbird pact {i}") for i in range(1, 8)]
        releases = [
            replace(r, published_utc=f"2023-12-{10 + int(r.release_id):02d}T00:00:00Z")
            for r in releases
        ]
        store.save_releases(releases, classify=by_classifier)
        query = parse_query("phosphor")
        pages = [
            [row["release_id"] for row in store.query(replace(query, limit=3, offset=offset))]
            for offset in (0, 3, 6)
        ]
        assert pages == [["7", "6", "5"], ["4", "3", "2"], ["1"]]
        plan = store.db.execute(
            "EXPLAIN QUERY PLAN SELECT r.id FROM releases r INDEXED BY releases_id_date "
            "WHERE r.id IN (1, 2) ORDER BY r.sort_time"
        ).fetchall()
        assert "COVERING INDEX releases_id_date" in str(plan)
