"""One grammar for free text and filters: AND/OR/NOT/-/( ) combine freely and mean what they say.

Each of the first tests is a fault of the old parser (filters glued on beside the free text).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from click.testing import CliRunner

from monitor.classify import classify
from monitor.cli import cli
from monitor.models import Ticker
from monitor.query import (
    MAX_DEPTH,
    MAX_NESTING,
    QueryError,
    ReleaseQuery,
    facet_counts,
    parse_query,
    run_query,
    where_clauses,
)
from monitor.store import Store
from tests.test_query import CONFIG, releases

# Tags the classifier gives RELEASES: 1 grant, 2 licensing, 3 financing, 4 grant, 5 licensing.
# Tickers: 1-3 CLRB (watched), 4 SNGX, 5 PTN. Newest first: 5, 2, 3, 4, 1.


@pytest.fixture
def config(write_config, tmp_path):
    path = write_config(CONFIG)
    store = Store(tmp_path / "q.db")
    store.save_releases(releases(), classify=lambda r: classify(r.title, r.text))
    store.close()
    return path


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "direct.db")
    store.save_releases(releases(), classify=lambda r: classify(r.title, r.text))
    yield store
    store.close()


def run(config, query, *options):
    return CliRunner().invoke(
        cli, ["--config", str(config), "history", query, "--format", "json", *options]
    )


def ids(config, query, *options) -> list[str]:
    result = run(config, query, *options)
    assert result.exit_code == 0, result.output
    return [json.loads(line)["id"] for line in result.output.splitlines()]


def refused(config, query) -> str:
    """The one-line error for a bad query (exit 2)."""
    result = run(config, query)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("biomon: bad query: query "), result.output
    return lines[0]


def release_ids(store, text: str) -> list[str]:
    query = replace(parse_query(text), watched=(Ticker("", "CLRB"),))
    return [row["release_id"] for row in store.query(query)]


# ---- the faults


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NCI OR tag:grant", ["4", "1"]),  # was NCI AND tag:grant: ["1"]
        ("WARF OR tag:grant", ["2", "4", "1"]),  # was []
        ("tag:grant OR WARF", ["2", "4", "1"]),
        ("WARF OR ticker:SNGX OR issuer:Palatin", ["5", "2", "4"]),
        ("(WARF OR tag:grant) ticker:CLRB", ["2", "1"]),
    ],
)
def test_or_between_free_text_and_a_filter_means_or(config, query, expected):
    assert ids(config, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("grant AND (tag:grant)", ["4", "1"]),
        ("grant AND (tag:grant OR ticker:PTN)", ["5", "4", "1"]),
        ("(ticker:CLRB) AND grant", ["1"]),
    ],
)
def test_and_before_a_parenthesized_filter(config, query, expected):
    assert ids(config, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("grant NOT ticker:CLRB", ["5", "4"]),  # "granting" is "grant"
        ("grant AND NOT ticker:CLRB", ["5", "4"]),
        ("grant NOT tag:licensing", ["4", "1"]),
        ("NOT ticker:CLRB", ["5", "4"]),
    ],
)
def test_not_before_a_filter(config, query, expected):
    assert ids(config, query) == expected


@pytest.mark.parametrize(
    ("query", "column", "name"),
    [
        ("ticker:", 1, "ticker"),
        ("ticker: CLRB", 1, "ticker"),
        ("grant tag:", 7, "tag"),
        ('issuer:""', 1, "issuer"),
        ('issuer:"  "', 1, "issuer"),
        ("source:", 1, "source"),
        ("-tag:", 1, "tag"),
        ("since:", 1, "since"),
        ("watched:", 1, "watched"),
        ("ticker:(CLRB)", 1, "ticker"),
        ("TICKER:", 1, "ticker"),
    ],
)
def test_a_field_without_a_value_is_refused(config, query, column, name):
    assert f"at column {column}: empty value for {name}:" in refused(config, query)


@pytest.mark.parametrize(
    "query", ["since:0000", "until:0000-01", "since:10000", "since:2023-13", "until:2023-02-30"],
)  # fmt: skip
def test_dates_out_of_range_are_refused_in_one_line(config, query):
    value = query.partition(":")[2]
    line = refused(config, query)
    assert "at column 7:" in line and value in line.split("at column 7:")[1]


def test_dates_at_the_edges_still_work(config):
    assert ids(config, "since:9999-12-31") == []
    assert ids(config, "until:9999-12-30") == ["5", "2", "3", "4", "1"]
    # The calendar's last year, month or day: no end, as `history --until 9999-12-31` means.
    for end in ("until:9999", "until:9999-12", "until:9999-12-31"):
        assert ids(config, end) == ["5", "2", "3", "4", "1"]
    assert ids(config, "since:0001 until:2021") == ["1"]


def _timed_parse(text: str) -> tuple[ReleaseQuery, float]:
    started = time.perf_counter()
    query = parse_query(text)
    return query, time.perf_counter() - started


@pytest.mark.parametrize(
    "text",
    [
        " OR ".join(f"word{i}" for i in range(3000)),
        " OR ".join(f"tag:t{i}" for i in range(3000)),
        " OR ".join(f"w{i} OR tag:t{i} OR ticker:T{i}" for i in range(1000)),
        " OR ".join(f"(w{i} tag:t{i})" for i in range(3000)),
        " AND ".join(f"tag:t{i}" for i in range(3000)),
        " ".join(f"-w{i} -tag:t{i}" for i in range(1500)),
    ],
    ids=["words", "tags", "mixed", "groups", "and-tags", "excluded"],
)
def test_thousands_of_terms_parse_in_linear_time(store, text):
    query, seconds = _timed_parse(text)
    assert seconds < 5  # the old parser took 69 s for 3,000 ORs; this takes milliseconds
    store.query(query)  # and SQLite takes the SQL (no compound SELECT or depth limits hit)
    facet_counts(store.db, query)
    assert store.matches(1, query) in (True, False)


def test_parse_time_grows_linearly():
    def best(text):
        return min(_timed_parse(text)[1] for _ in range(3))

    small = best(" OR ".join(f"w{i} OR tag:t{i}" for i in range(500)))
    large = best(" OR ".join(f"w{i} OR tag:t{i}" for i in range(5000)))
    assert large < max(small, 0.002) * 40  # 10 times the terms: well under 100 times the time


def test_too_many_terms_is_a_query_error():
    with pytest.raises(QueryError, match="too many terms"):
        parse_query(" OR ".join(f"w{i}" for i in range(10_001)))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("(" * 10_000, f"parentheses nested more than {MAX_DEPTH} deep"),
        ("(" * 10_000 + "a" + ")" * 10_000, f"parentheses nested more than {MAX_DEPTH} deep"),
        ("-(" * 5_000 + "a" + ")" * 5_000, f"parentheses nested more than {MAX_DEPTH} deep"),
        ("a (" * 5_000, f"parentheses nested more than {MAX_DEPTH} deep"),
        (")" * 10_000, "')' without '('"),
    ],
)
def test_deep_nesting_is_a_query_error_not_a_recursion_error(text, problem):
    with pytest.raises(QueryError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        parse_query(text)


def test_redundant_parentheses_and_long_not_chains_are_fine(store):
    assert release_ids(store, "(" * MAX_DEPTH + "WARF" + ")" * MAX_DEPTH) == ["2"]
    assert release_ids(store, "NOT " * 10_000 + "WARF") == ["2"]  # an even number of NOTs
    assert release_ids(store, "NOT " * 9_999 + "WARF") == ["5", "3", "4", "1"]


# Shapes that nest SQL subqueries most per level; MAX_NESTING keeps them inside SQLite's
# parser stack (and FTS5's) with room to spare.
NESTED_SHAPES = {
    "except": lambda i, inner: f"(tag:a{i} NOT ({inner} ticker:B{i}))",
    "not-or": lambda i, inner: f"NOT (w{i} OR tag:t{i} {inner})",
    "text": lambda i, inner: f"(w{i} NOT ({inner} OR x{i}))",
    "preds": lambda i, inner: f"NOT (source:sec OR issuer:x{i} {inner})",
    "watched": lambda i, inner: f"(watched:no NOT ({inner} OR ticker:B{i} tag:c{i}))",
}


@pytest.mark.parametrize("shape", NESTED_SHAPES)
def test_nesting_up_to_the_limit_runs_and_beyond_it_is_refused(store, shape):
    text, deepest = "(tag:z ticker:Z)", None
    for level in range(1, 40):
        text = NESTED_SHAPES[shape](level, text)
        try:
            query = replace(parse_query(text), watched=(Ticker("", "CLRB"),))
        except QueryError as error:
            assert "nested more than" in str(error)
            break
        deepest = text
        for rank in ("newest", "relevance"):
            store.query(replace(query, rank=rank))
        store.matches(1, query)
        facet_counts(store.db, query)
    else:
        pytest.fail("no nesting limit")
    assert deepest is not None and MAX_NESTING >= 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("WARF\x00", ["2"]),
        ("\x00WARF\x07", ["2"]),
        ("NCI\x00grant", ["1"]),
        ('"NCI\x00grant"', ["1"]),
        ("ticker:CLRB\x00tag:grant", ["1"]),
        ("WARF\x1b", ["2"]),
        ("WARF\x1b[31m", []),  # ESC is a space; "[31m" is left, a word to find
        ("\ufeffWARF", ["2"]),
        ("WA\u200bRF", []),  # a zero-width space splits the word, as the index does
        ("\x00", ["5", "2", "3", "4", "1"]),
    ],
)
def test_control_characters_read_as_spaces(store, text, expected):
    assert release_ids(store, text) == expected


@pytest.mark.parametrize("text", ["tag:\x00grant", "ticker:\x00", 'issuer:"\x00"'])
def test_control_characters_where_a_value_belongs_leave_it_empty(text):
    with pytest.raises(QueryError, match="empty value"):
        parse_query(text)


def test_a_lone_surrogate_is_a_query_error():
    with pytest.raises(QueryError, match="not a character"):
        parse_query("grant \udcff")


# ---- what the grammar means


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NIAID OR WARF license", ["2", "4"]),  # NIAID OR (WARF AND license)
        ("(NIAID OR WARF) license", ["2"]),
        ("NIAID OR WARF AND license", ["2", "4"]),
        ("license NOT WARF OR NIAID", ["5", "4"]),  # (license AND NOT WARF) OR NIAID
        ("license NOT (WARF OR Palatin)", []),
        ("license -(WARF OR Palatin)", []),
        ("grant NOT NIAID vaccine", []),  # NOT takes the one term after it
        ("grant NOT (NIAID vaccine)", ["5", "1"]),
    ],
)
def test_precedence_not_then_and_then_or(config, query, expected):
    assert ids(config, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("NOT grant", ["2", "3"]),
        ("-grant", ["2", "3"]),
        ("-grant -offering", ["2"]),
        ("-tag:grant", ["5", "2", "3"]),
        ("NOT (tag:grant OR tag:licensing)", ["3"]),
        ("-source:globenewswire", []),
        ("-issuer:Cellectar", ["5", "4"]),
        ("-since:2023", ["4", "1"]),
        ("NOT watched:yes", ["5", "4"]),
        ("-(WARF OR NCI) ticker:CLRB", ["3"]),
    ],
)
def test_a_leading_not_means_everything_but(config, query, expected):
    assert ids(config, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ticker:CLRB ticker:SNGX", ["2", "3", "4", "1"]),  # side by side: any of them
        ("tag:grant tag:licensing", ["5", "2", "4", "1"]),
        ("tag:grant AND tag:licensing", []),  # an explicit AND: both
        ("ticker:CLRB AND ticker:SNGX", []),
        ("since:2022 since:2023", ["5", "2", "3"]),  # dates narrow, side by side or not
        ("watched:yes watched:no", []),
        ("tag:grant OR tag:licensing OR tag:financing", ["5", "2", "3", "4", "1"]),
    ],
)
def test_repeated_fields(config, query, expected):
    assert ids(config, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("watched:yes OR tag:grant", ["2", "3", "4", "1"]),
        ("watched:no OR tag:grant", ["5", "4", "1"]),
        ("(watched:yes tag:grant) OR ticker:PTN", ["5", "1"]),
    ],
)
def test_watched_inside_a_group_uses_the_watchlist(config, query, expected):
    assert ids(config, query) == expected


def test_words_without_letters_or_digits_are_skipped(config):
    assert ids(config, "WARF - license") == ["2"]
    assert ids(config, "$ WARF") == ["2"]
    assert "nothing to search for" in refused(config, "- $")
    assert "nothing to search for" in refused(config, '"$"')


def test_relevance_rank_with_full_text_only_inside_an_or_does_not_crash(config):
    assert sorted(ids(config, "NCI OR tag:grant", "--rank", "relevance")) == ["1", "4"]
    assert ids(config, "grant (NCI OR tag:licensing)", "--rank", "relevance")[0] == "1"


def test_snippets_highlight_words_from_inside_an_or(config):
    result = CliRunner().invoke(
        cli, ["--config", str(config), "search", "WARF OR tag:grant", "--format", "json"]
    )
    rows = {row["id"]: row for row in map(json.loads, result.output.splitlines())}
    assert "**WARF**" in rows["2"]["snippet"] and "snippet" not in rows["4"]  # no word of it


def test_stats_and_alert_matching_take_any_query(config, store):
    result = CliRunner().invoke(
        cli, ["--config", str(config), "stats", "WARF OR tag:grant", "--format", "json"]
    )
    assert json.loads(result.output)["total"] == {"releases": 3}
    query = parse_query("NIAID OR (ticker:CLRB -tag:financing -NCI)")
    row_ids = {row["release_id"]: row["id"] for row in store.db["releases"].rows}
    matched = {rid for rid, row_id in row_ids.items() if store.matches(row_id, query)}
    assert matched == {"2", "4"}


def test_history_options_merge_with_an_or_query(config):
    assert ids(config, "WARF OR tag:grant", "--ticker", "CLRB") == ["2", "1"]
    assert ids(config, "WARF OR tag:grant", "--since", "2022-01-01") == ["2", "4"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a OR OR b", "at column 6: OR needs a term before it"),
        ("a AND", "at column 3: AND needs a term after it"),
        ("(a OR)", "at column 4: OR needs a term after it"),
        ("a NOT", "at column 3: NOT needs a term after it"),
        ("NOT", "at column 1: NOT needs a term after it"),
        ("()", "at column 1: nothing between '(' and ')'"),
        ("a (", "at column 3: '(' without ')'"),
        ("((a)", "at column 1: '(' without ')'"),
        (") a", "at column 1: ')' without '('"),
        ("*", "at column 1: a * must end a word"),
        ("-tickr:CLRB", "at column 1: unknown field 'tickr'"),
        ('tag:"grant', "at column 5: unclosed quote"),
        ("ticker:$$$", "at column 8: '$$$' is not a ticker"),
    ],
)
def test_errors_name_the_column_and_the_fix(config, query, message):
    assert message in refused(config, query)


def test_a_conjunction_keeps_the_fast_sql():
    """Pure conjunctions compile exactly as before: id sets intersected, tags per row with a
    ticker (benchmarks/query.py measures this form)."""
    sql = where_clauses(parse_query("ticker:CLRB tag:trial"))
    assert sql.where == [
        "EXISTS (SELECT 1 FROM release_tags g WHERE g.release = r.id AND g.tag IN (?))",
        "r.id IN (SELECT release FROM release_tickers WHERE symbol = ?)",
    ]
    sql = where_clauses(parse_query("license agreement tag:licensing -ticker:X since:2023"))
    assert sql.where == [
        "r.id IN (SELECT release FROM release_tags WHERE tag IN (?) "
        "INTERSECT SELECT rowid FROM releases_fts WHERE releases_fts MATCH ?)",
        "r.id NOT IN (SELECT release FROM release_tickers WHERE symbol = ?)",
        "r.sort_time >= ?",
    ]
    assert sql.params == ["licensing", '"license" "agreement"', "X", "2023-01-01T00:00:00Z"]
    assert not parse_query('licens* "exclusive license" NOT terminated ticker:CLRB').conditions


def test_an_or_across_fields_is_one_id_set():
    sql = where_clauses(parse_query("NCI OR tag:grant OR tag:licensing"))
    assert sql.where == [
        "r.id IN (SELECT release FROM release_tags WHERE tag IN (?, ?) "
        "UNION SELECT rowid FROM releases_fts WHERE releases_fts MATCH ?)"
    ]
    assert sql.params == ["grant", "licensing", '"NCI"'] and sql.selective


def test_run_query_on_a_bare_database_connection(store):
    rows = run_query(store.db, parse_query("WARF OR NIAID"))
    assert [row["id"] for row in rows] == [2, 4]
