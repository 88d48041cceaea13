"""`biomon catalysts`: table, JSON, CSV and an iCalendar that a calendar library reads."""

from __future__ import annotations

import json

import icalendar
import pytest
from click.testing import CliRunner

from monitor.calendar import escape, fold
from monitor.cli import cli
from monitor.store import Store
from tests.test_catalyst_store import pdufa, release, save


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "b.db"
    with Store(path) as store:
        save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
        save(
            store,
            release(
                "5",
                "Acme Bio Reports Progress on ACM-101",
                "Acme Bio (NASDAQ: ACME) expects topline data from the Phase 3 ACT-1 trial of "
                "ACM-101 in the second half of 2026.",
                "2025-06-01T12:00:00Z",
            ),
        )
    return path


def run(db, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "catalysts", *args])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


def test_table_lists_entries_with_date_text_and_evidence(db):
    out = run(db, "--today", "2026-01-01")
    assert "2026-03-15  ACME: PDUFA date, zorbalimab  [upcoming]" in out
    assert "March 15, 2026: Acme Bio (NASDAQ: ACME) today announced" in out
    assert "https://example.test/1" in out


@pytest.mark.parametrize(
    ("args", "programs"),
    [
        (["kind:pdufa"], ["zorbalimab"]),
        (["kind:topline"], ["ACM-101"]),
        (["ticker:OTHER"], []),
        (["--within", "90d"], ["zorbalimab"]),
        (["--within", "1y"], ["zorbalimab", "ACM-101"]),
        (["act-1"], ["ACM-101"]),
    ],
)
def test_query_and_spans_select_entries(db, args, programs):
    out = run(db, *args, "--today", "2026-01-01", "--format", "json")
    assert [json.loads(line)["program"] for line in out.splitlines()] == programs


def test_past_brings_back_windows_that_ended(db):
    out = run(db, "--today", "2026-04-01", "--within", "30d", "--format", "json")
    assert [json.loads(line)["program"] for line in out.splitlines()] == []
    out = run(db, "--today", "2026-04-01", "--past", "30d", "--format", "json")
    statuses = {
        json.loads(line)["program"]: json.loads(line)["status"] for line in out.splitlines()
    }
    assert statuses["zorbalimab"] == "overdue"


def test_csv_has_a_header_and_a_row_per_entry(db):
    out = run(db, "--today", "2026-01-01", "--format", "csv")
    lines = out.splitlines()
    assert lines[0].startswith("ticker,issuer,kind,program") and len(lines) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [(["kind:nope"], "unknown kind 'nope'"), (["--within", "soon"], "not a span of time")],
)
def test_bad_query_is_one_line(db, args, message):
    result = CliRunner().invoke(cli, ["--db", str(db), "catalysts", *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def events(text: str) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def test_ics_parses_with_all_day_and_window_events(db):
    text = run(db, "--today", "2026-01-01", "--format", "ics")
    assert all(line.endswith("\r") or not line for line in text.split("\n")[:-1])
    found = events(text)
    day = found["ACME: PDUFA date, zorbalimab"]
    assert str(day["DTSTART"].dt) == "2026-03-15" and str(day["DTEND"].dt) == "2026-03-16"
    assert day["DTSTART"].params["VALUE"] == "DATE"
    assert "PDUFA target action date of March 15, 2026" in str(day["DESCRIPTION"])
    assert str(day["URL"]) == "https://example.test/1"
    window = found["ACME: topline data, ACM-101 (ACT-1)"]
    assert (str(window["DTSTART"].dt), str(window["DTEND"].dt)) == ("2026-07-01", "2027-01-01")
    assert day["DTSTAMP"] is not None


def test_ics_shows_a_moved_date_as_an_update(db):
    before = events(run(db, "--today", "2026-01-01", "--format", "ics"))
    with Store(db) as store:
        save(store, pdufa("2", "June 15, 2026", "2026-01-10T12:00:00Z"))
    after = events(run(db, "--today", "2026-01-20", "--format", "ics"))
    old, new = before["ACME: PDUFA date, zorbalimab"], after["ACME: PDUFA date, zorbalimab"]
    assert str(new["UID"]) == str(old["UID"])
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert str(new["DTSTART"].dt) == "2026-06-15"


def test_folding_keeps_lines_within_75_octets_and_characters_whole():
    line = "DESCRIPTION:" + escape("Zorbalimab™; a, b\\c\n" + "é" * 100)
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == line
    assert "\\;" in line and "\\," in line and "\\\\" in line and "\\n" in line


def test_reclassify_builds_the_calendar_of_releases_stored_before_it_existed(db, tmp_path):
    import sqlite3

    with sqlite3.connect(db) as conn:  # as a database from before the calendar would be
        conn.execute("DELETE FROM catalyst_changes")
        conn.execute("DELETE FROM catalysts")
    assert run(db, "--today", "2026-01-01", "--format", "json") == ""
    result = CliRunner().invoke(cli, ["--db", str(db), "reclassify"])
    assert result.exit_code == 0, result.output
    assert "2 releases reclassified; 2 catalyst entries" in result.output
    out = run(db, "--today", "2026-01-01", "--within", "1y", "--format", "json")
    assert [json.loads(line)["program"] for line in out.splitlines()] == ["zorbalimab", "ACM-101"]
