"""The query language of `biomon history` / `search`, its outputs, stats, timeline, saved queries."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from monitor.classify import classify
from monitor.cli import cli
from monitor.models import Release, Ticker
from monitor.query import QueryError, parse_query
from monitor.store import Store

RELEASES = [
    # (id, published, tickers, issuer, title, text)
    ("1", "2021-03-01T12:00:00Z", ("NASDAQ:CLRB",), "Cellectar Biosciences, Inc.",
     "Cellectar Biosciences Announces $2 Million NCI Grant",
     "Cellectar Biosciences, Inc. (NASDAQ: CLRB) today announced it was awarded a $2 million NCI grant to fund a Phase 1 study."),
    ("2", "2023-12-19T13:30:00Z", ("NASDAQ:CLRB",), "Cellectar Biosciences, Inc.",
     "Cellectar Biosciences Signs Exclusive License Agreement With WARF",
     "Cellectar Biosciences, Inc. (NASDAQ: CLRB) entered into an exclusive license agreement with the Wisconsin Alumni Research Foundation (WARF) for radiopharmaceutical rights."),
    ("3", "2023-06-05T12:00:00Z", ("NASDAQ:CLRB",), "Cellectar Biosciences, Inc.",
     "Cellectar Biosciences Announces Pricing of $10 Million Public Offering",
     "Cellectar Biosciences, Inc. (NASDAQ: CLRB) announced the pricing of an underwritten public offering of common stock for gross proceeds of $10 million."),
    ("4", "2022-09-01T12:00:00Z", ("NASDAQ:SNGX",), "Soligenix, Inc.",
     "Soligenix Receives NIAID Grant Supporting Its Ricin Vaccine",
     "Soligenix, Inc. (NASDAQ: SNGX) received a $1.5 million NIAID grant award to advance its ricin vaccine program."),
    ("5", "2024-02-01T12:00:00Z", ("NYSEAMERICAN:PTN",), "Palatin Technologies, Inc.",
     "Palatin Licenses Vyleesi to Cosette Pharmaceuticals",
     "Palatin Technologies, Inc. (NYSE American: PTN) entered into an exclusive license agreement granting Cosette the rights to commercialize Vyleesi."),
]  # fmt: skip

CONFIG = """
[storage]
path = "q.db"
[[watch]]
ticker = "CLRB"
[queries]
clrb-deals = "ticker:CLRB (tag:licensing OR tag:deal)"
grants = "tag:grant since:2021"
"""


def releases() -> list[Release]:
    """RELEASES as Release records (also for tests/test_query_grammar.py)."""
    return [
        Release(
            source="globenewswire", release_id=rid, url=f"https://www.globenewswire.com/news-release/x/{rid}/0/en/x.html",
            title=title, summary_html="", text=text, published_utc=published, published_raw=published,
            issuer=issuer, tickers=tuple(Ticker(*t.split(":")) for t in tickers),
        )
        for rid, published, tickers, issuer, title, text in RELEASES
    ]  # fmt: skip


@pytest.fixture
def config(write_config, tmp_path):
    path = write_config(CONFIG)
    store = Store(tmp_path / "q.db")
    store.save_releases(releases(), classify=lambda r: classify(r.title, r.text))
    store.close()
    return path


def ids(config, query, *options) -> list[str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "history", query, "--format", "json", *options]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line)["id"] for line in result.output.splitlines()]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ticker:CLRB", ["2", "3", "1"]),
        ("ticker:NYSEAMERICAN:PTN", ["5"]),
        ("ticker:CLRB ticker:SNGX", ["2", "3", "4", "1"]),
        ("-ticker:CLRB", ["5", "4"]),
        ("tag:grant", ["4", "1"]),
        ("tag:licensing", ["5", "2"]),
        ("-tag:financing ticker:CLRB", ["2", "1"]),
        ("source:globenewswire ticker:SNGX", ["4"]),
        ("source:prnewswire", []),
        ('issuer:"Palatin Tech"', ["5"]),
        ("since:2023-06-05", ["5", "2", "3"]),
        ("until:2022", ["4", "1"]),
        ("since:2023-01 until:2023-06", ["3"]),
        ("watched:yes", ["2", "3", "1"]),
        ("watched:no", ["5", "4"]),
        ("ticker:CLRB tag:grant since:2021 until:2021-12-31", ["1"]),
    ],
)  # fmt: skip
def test_field_filters_and_combinations(config, query, expected):
    assert ids(config, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"exclusive license"', ["5", "2"]),
        ('"license agreement with the Wisconsin"', ["2"]),
        ("licens*", ["5", "2"]),
        ("award* NOT NIAID", ["1"]),
        ("grant NOT NIAID", ["5", "1"]),  # stemming: "granting" is "grant"
        ("NIAID OR WARF", ["2", "4"]),
        ("(NIAID OR WARF) ticker:CLRB", ["2"]),
        ("offering -stock", []),
        ("Nasdaq:CLRB", None),  # a colon in free text must be quoted
        ('"Nasdaq:CLRB"', ["2", "3", "1"]),
    ],
)
def test_full_text_phrase_prefix_and_operators(config, query, expected):
    if expected is None:
        result = CliRunner().invoke(cli, ["--config", str(config), "history", query])
        assert result.exit_code == 2 and "unknown field 'nasdaq'" in result.output
    else:
        assert ids(config, query) == expected


def test_relevance_rank_orders_by_match(config):
    assert ids(config, "grant OR NCI", "--rank", "relevance")[0] == "1"


def test_search_snippet_highlights_the_match(config):
    result = CliRunner().invoke(
        cli, ["--config", str(config), "search", "WARF", "--format", "json"]
    )
    row = json.loads(result.output.splitlines()[0])
    assert "**WARF**" in row["snippet"]


def test_json_csv_and_markdown_shapes(config):
    def run(fmt):
        return (
            CliRunner()
            .invoke(cli, ["--config", str(config), "history", "ticker:SNGX", "--format", fmt])
            .output
        )  # noqa: E731

    record = json.loads(run("json"))
    assert {"id", "source", "title", "url", "published", "tickers", "primary"} <= set(record)
    assert record["primary"] == "grant"
    rows = list(csv.DictReader(io.StringIO(run("csv"))))
    assert rows[0]["id"] == "4" and rows[0]["tickers"] == "NASDAQ:SNGX"
    markdown = run("markdown").splitlines()
    assert markdown[0] == "| published (UTC) | id | tickers | title |"
    assert markdown[2].startswith(
        "| 2022-09-01 12:00 | 4 | NASDAQ:SNGX | [Soligenix Receives NIAID Grant"
    )


def test_limit_and_offset(config):
    assert ids(config, "", "--limit", "2") == ["5", "2"]
    assert ids(config, "", "--limit", "2", "--offset", "2") == ["3", "4"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("tickr:CLRB", "at column 1: unknown field 'tickr'"),
        ("grant AND", "at column 7: AND needs a term after it"),
        ("OR grant", "at column 1: OR needs a term before it"),
        ("(grant OR NCI", "at column 1: '(' without ')'"),
        ("grant)", "at column 6: ')' without '('"),
        ('"NCI grant', "at column 1: unclosed quote"),
        ("since:yesterday", "'yesterday' is not a date"),
        ("watched:maybe", "watched: takes yes or no"),
        ("ticker:", "at column 1: empty value for ticker:"),
        ("grant NOT", "at column 7: NOT needs a term after it"),
        ("grant ()", "at column 7: nothing between '(' and ')'"),
    ],
)
def test_bad_queries_give_one_line_naming_the_place(config, query, message):
    result = CliRunner().invoke(cli, ["--config", str(config), "history", query])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("biomon: bad query: query ")
    assert message in lines[0]


def test_parse_query_structure():
    query = parse_query('ticker:CLRB -tag:financing "exclusive license" radio* since:2023')
    assert query.tickers == (Ticker("", "CLRB"),) and query.exclude_tags == ("financing",)
    assert query.fts == '"exclusive license" "radio"*'
    assert query.since == "2023-01-01T00:00:00Z"
    assert parse_query("NOT grant").conditions  # a leading NOT means everything but
    with pytest.raises(QueryError):
        parse_query("grant NOT")


def test_saved_query_runs_by_name(config):
    assert ids(config, "@clrb-deals") == ["2"]
    assert ids(config, "@grants") == ["4", "1"]
    result = CliRunner().invoke(cli, ["--config", str(config), "history", "@nope"])
    assert result.exit_code == 2 and "no saved query 'nope'" in result.output


def test_bad_saved_query_is_a_config_error(write_config):
    path = write_config('[queries]\nbroken = "tag:grant AND"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "history"])
    assert result.exit_code == 2
    assert (
        "queries.broken: query 'tag:grant AND' at column 11: AND needs a term after it"
        in result.output
    )


def test_export_csv_and_jsonl(config, tmp_path):
    out = tmp_path / "grants.csv"
    result = CliRunner().invoke(cli, ["--config", str(config), "export", str(out), "tag:grant"])
    assert result.exit_code == 0 and "2 releases written" in result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == ["4", "1"] and "NIAID grant award" in rows[0]["text"]
    lines = tmp_path / "all.jsonl"
    CliRunner().invoke(cli, ["--config", str(config), "export", str(lines)])
    assert len(lines.read_text().splitlines()) == 5
    bad = CliRunner().invoke(cli, ["--config", str(config), "export", str(tmp_path / "x.xlsx")])
    assert bad.exit_code == 2 and "use a .csv or .jsonl file name" in bad.output


def test_stats_counts_by_tag_ticker_and_month(config):
    result = CliRunner().invoke(
        cli, ["--config", str(config), "stats", "since:2022", "--format", "json"]
    )
    counts = json.loads(result.output)
    assert counts["total"] == {"releases": 4}
    assert counts["ticker"]["NASDAQ:CLRB"] == 2 and counts["tag"]["licensing"] == 2
    assert counts["month"]["2023-12"] == 1


def test_timeline_lists_a_tickers_releases_oldest_first_with_facts(config):
    result = CliRunner().invoke(
        cli, ["--config", str(config), "timeline", "CLRB", "--format", "json"]
    )
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["1", "3", "2"]
    assert "grant" in rows[0]["tags"] and "NCI" in rows[0]["facts"]["agencies"]
    assert any(
        "Wisconsin Alumni Research Foundation" in c for c in rows[2]["facts"]["counterparties"]
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag:grant OR tag:licensing", ["5", "2", "4", "1"]),
        ("ticker:CLRB (tag:grant OR tag:licensing)", ["2", "1"]),
        ("(tag:grant OR tag:licensing) WARF", ["2"]),
        ("tag:grant OR tag:licensing WARF", ["2", "4", "1"]),  # AND binds tighter than OR
    ],
)
def test_or_between_filters_of_one_field_means_any(config, query, expected):
    assert ids(config, query) == expected


def test_or_between_different_fields_means_either(config):
    assert ids(config, "ticker:CLRB OR tag:grant") == ["2", "3", "4", "1"]
