"""`biomon history` and `biomon show` over a database filled by polling a local server."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import FIXTURES, config_text
from tests.gnw import Item, feed

SEED_TEXT = (FIXTURES / "clrb-2023-12-19-warf-license.txt").read_text(encoding="utf-8")
SEED_BODY = SEED_TEXT[SEED_TEXT.index("FLORHAM PARK") :]
ITEMS = [
    Item("2796481", "Cellectar Biosciences Expands Iopofosine I 131 Collaboration with Wisconsin "
         "Alumni Research Foundation", text=SEED_BODY, tickers=("Nasdaq:CLRB",),
         pub_date="Tue, 19 Dec 2023 13:30 GMT"),
    Item("2500001", "Cellectar Announces Pricing of Public Offering", tickers=("Nasdaq:CLRB",),
         text="Cellectar Biosciences priced an underwritten offering.", pub_date="Mon, 15 Aug 2022 12:00 GMT"),
    Item("2600002", "Soligenix Receives Orphan Drug Designation", tickers=("Nasdaq:SNGX",),
         text="The FDA granted orphan drug designation.", issuer="Soligenix, Inc.",
         pub_date="Wed, 01 Mar 2023 21:05 GMT"),
    Item("2700003", "Palatin Reports Results", tickers=("NYSE American:PTN",),
         text="Palatin Technologies reported results.", issuer="Palatin Technologies, Inc.",
         pub_date="Fri, 10 Nov 2023 11:00 GMT"),
]  # fmt: skip


@pytest.fixture
def config(server, write_config):
    url = server.add("nasdaq.xml", feed(*ITEMS))
    watch = '[[watch]]\nticker = "CLRB"\n[[watch]]\nticker = "NYSEAMERICAN:PTN"\n'
    path = write_config(config_text([url], watch))
    result = CliRunner().invoke(cli, ["--config", str(path), "poll", "--once"])
    assert result.exit_code == 0, result.output
    return path


def history(config, *args) -> list[dict]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "history", "--format", "json", *args]
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def ids(rows) -> list[str]:
    return [row["id"] for row in rows]


def test_newest_first(config):
    assert ids(history(config)) == ["2796481", "2700003", "2600002", "2500001"]


def test_json_lines_carry_the_contract_fields(config):
    row = history(config, "--limit", "1")[0]
    assert {"id", "source", "title", "url", "published", "tickers"} <= set(row)
    assert row["source"] == "globenewswire"
    assert row["published"] == "2023-12-19T13:30:00Z"
    assert row["tickers"] == ["NASDAQ:CLRB"]
    assert row["url"].startswith("https://www.globenewswire.com/news-release/2023/12/19/2796481/")


def test_filter_by_ticker_with_and_without_exchange(config):
    assert ids(history(config, "--ticker", "CLRB")) == ["2796481", "2500001"]
    assert ids(history(config, "--ticker", "NYSE American:PTN")) == ["2700003"]
    assert ids(history(config, "--ticker", "NASDAQ:PTN")) == []


def test_since_and_until_are_inclusive_days(config):
    assert ids(history(config, "--since", "2023-03-01", "--until", "2023-11-10")) == [
        "2700003",
        "2600002",
    ]


def test_watched_keeps_only_watchlist_tickers(config):
    assert ids(history(config, "--watched")) == ["2796481", "2700003", "2500001"]


def test_search_finds_nci_grant_in_the_seed_release(config):
    assert ids(history(config, "--search", '"NCI grant"')) == ["2796481"]


def test_filters_combine(config):
    assert ids(history(config, "--ticker", "CLRB", "--search", "offering")) == ["2500001"]
    assert ids(history(config, "--watched", "--since", "2023-01-01", "--search", "Palatin")) == [
        "2700003"
    ]


def test_limit(config):
    assert len(history(config, "--limit", "2")) == 2


def test_csv_has_a_header_and_one_row_per_release(config):
    result = CliRunner().invoke(cli, ["--config", str(config), "history", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["id"] for r in rows] == ["2796481", "2700003", "2600002", "2500001"]
    assert rows[0]["tickers"] == "NASDAQ:CLRB"
    assert rows[0]["published"] == "2023-12-19T13:30:00Z"


def test_table_shows_titles(config):
    result = CliRunner().invoke(cli, ["--config", str(config), "history", "--ticker", "SNGX"])
    assert result.exit_code == 0
    assert "Soligenix Receives Orphan Drug" in result.output and "2600002" in result.output


def test_bad_date_is_a_usage_error(config):
    result = CliRunner().invoke(cli, ["--config", str(config), "history", "--since", "19/12/2023"])
    assert result.exit_code == 2
    assert "not a date; write YYYY-MM-DD" in result.output


def test_show_prints_the_release_whole(config):
    result = CliRunner().invoke(cli, ["--config", str(config), "show", "2796481"])
    assert result.exit_code == 0, result.output
    assert "id:         globenewswire:2796481" in result.output
    assert "million NCI grant to further evaluate" in result.output
    assert "Forward-Looking Statement" in result.output


def test_show_unknown_id_is_one_line_error(config):
    result = CliRunner().invoke(cli, ["--config", str(config), "show", "999"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("biomon: error: no release with id '999'")


# ---- one event per piece of news: the seed again, as its 8-K exhibit in another feed

EXHIBIT = Item(
    "9100001",
    "Exhibit 99.1 " + ITEMS[0].title,
    text=SEED_BODY.replace("December 19, 2023 (GLOBE NEWSWIRE) --", "December 19, 2023 \u2013")
    + "\n\nContacts\n\nInvestors: investors@cellectar.com",
    tickers=("Nasdaq:CLRB",),
    pub_date="Tue, 19 Dec 2023 13:41 GMT",
)


@pytest.fixture
def events_config(server, write_config):
    first = server.add("nasdaq.xml", feed(*ITEMS))
    second = server.add("exhibits.xml", feed(EXHIBIT))
    path = write_config(config_text([first, second], '[[watch]]\nticker = "CLRB"\n'))
    result = CliRunner().invoke(cli, ["--config", str(path), "poll", "--once"])
    assert result.exit_code == 0, result.output
    return path


def test_history_lists_an_event_once_with_all_its_sources(events_config):
    rows = history(events_config, "--ticker", "CLRB")
    assert ids(rows) == ["2796481", "2500001"]
    assert [s["release_id"] for s in rows[0]["sources"]] == ["2796481", "9100001"]
    assert [s["release_id"] for s in rows[1]["sources"]] == ["2500001"]
    # Only the copy holds the word: the event is listed once, as that copy, with both sources.
    found = history(events_config, "--search", "Exhibit")
    assert ids(found) == ["9100001"] and len(found[0]["sources"]) == 2


def test_table_shows_the_sources_of_an_event(events_config):
    result = CliRunner().invoke(cli, ["--config", str(events_config), "history", "CLRB"])
    assert "globenewswire+globenewswire" in result.output


def test_show_and_export_list_every_source(events_config, tmp_path):
    shown = CliRunner().invoke(cli, ["--config", str(events_config), "show", "9100001"])
    assert shown.exit_code == 0, shown.output
    assert "sources:\n    globenewswire:2796481  https://" in shown.output
    assert "    globenewswire:9100001  https://" in shown.output
    out = tmp_path / "events.csv"
    result = CliRunner().invoke(
        cli, ["--config", str(events_config), "export", str(out), "--ticker", "CLRB"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [row["id"] for row in rows] == ["2796481", "2500001"]
    assert rows[0]["sources"].count("https://www.globenewswire.com/") == 2
