"""The catalyst calendar kept current: entries per release, moves with history, met, copies."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.calendar import status_of
from monitor.classify import classify
from monitor.models import Release, Ticker
from monitor.store import Store
from monitor.store.catalysts import CatalystQuery, program_key

TAIL = "\n\nAbout Acme Bio\n\nAcme Bio is a clinical-stage company.\n"


def release(release_id: str, title: str, body: str, published: str, **fields) -> Release:
    day = date.fromisoformat(published[:10])
    text = f"BOSTON, {day:%B} {day.day}, {day.year} (GLOBE NEWSWIRE) -- {body}{TAIL}"
    values = dict(
        source="globenewswire", release_id=release_id, url=f"https://example.test/{release_id}",
        title=title, summary_html="", text=text, published_utc=published, published_raw="",
        issuer="Acme Bio", tickers=(Ticker("NASDAQ", "ACME"),),
    )  # fmt: skip
    values.update(fields)
    return Release(**values)


def save(store: Store, item: Release):
    return store.save_release(
        item, classify=lambda r: classify(r.title, r.text, None, r.published_utc)
    )


def pdufa(release_id: str, when: str, published: str, program: str = "zorbalimab") -> Release:
    return release(
        release_id,
        f"Acme Bio Announces Regulatory Update for {program.title()}",
        f"Acme Bio (NASDAQ: ACME) today announced that the FDA set a PDUFA target action date of "
        f"{when} for its NDA for {program}.",
        published,
    )


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "b.db") as opened:
        yield opened


def rows(store: Store) -> list[dict]:
    return store.catalyst_rows(CatalystQuery())


def test_a_release_adds_its_catalysts_with_evidence(store):
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    [entry] = rows(store)
    assert (entry["ticker"], entry["kind"], entry["program"]) == ("ACME", "pdufa", "zorbalimab")
    assert (entry["window_start"], entry["window_end"]) == ("2026-03-15", "2026-03-15")
    assert "PDUFA target action date of March 15, 2026" in entry["evidence"]
    assert entry["release_url"] == "https://example.test/1"


def test_a_later_release_moves_the_entry_and_keeps_the_history(store):
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    save(store, pdufa("2", "June 15, 2026", "2026-01-10T12:00:00Z", program="Zorbalimab™"))
    [entry] = rows(store)
    assert (entry["window_start"], entry["sequence"]) == ("2026-06-15", 1)
    [change] = store.catalyst_changes([entry["id"]])[entry["id"]]
    assert (change["old_start"], change["new_start"]) == ("2026-03-15", "2026-06-15")
    assert change["release_ref"] == "2"


def test_an_older_release_read_late_does_not_undo_a_move(store):
    save(store, pdufa("2", "June 15, 2026", "2026-01-10T12:00:00Z"))
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    [entry] = rows(store)
    assert entry["window_start"] == "2026-06-15"


def test_the_same_date_again_is_no_change(store):
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    save(store, pdufa("2", "March 15, 2026", "2025-08-01T12:00:00Z"))
    [entry] = rows(store)
    assert entry["sequence"] == 0
    assert store.catalyst_changes([entry["id"]])[entry["id"]] == []


def test_other_programs_are_other_entries(store):
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    save(store, pdufa("2", "April 2, 2026", "2025-06-01T12:00:00Z", program="ACM-101"))
    assert sorted(r["program_key"] for r in rows(store)) == ["acm101", "zorbalimab"]


def test_an_approval_marks_the_entry_met_with_its_release(store):
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    save(
        store,
        release(
            "3",
            "Acme Bio Announces FDA Approval of Zorbalimab",
            "Acme Bio (NASDAQ: ACME) today announced that the U.S. FDA approved zorbalimab.",
            "2026-03-14T12:00:00Z",
        ),
    )
    [entry] = rows(store)
    assert entry["met_ref"] == "3" and entry["met_label"] == "approval"
    assert status_of(entry, date(2026, 6, 1)) == "met"
    assert store.catalyst_rows(CatalystQuery(open_only=True)) == []


def test_an_approval_of_another_program_meets_nothing(store):
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    save(
        store,
        release(
            "3",
            "Acme Bio Announces FDA Approval of Otherumab",
            "Acme Bio (NASDAQ: ACME) today announced that the U.S. FDA approved otherumab.",
            "2026-03-14T12:00:00Z",
        ),
    )
    [entry] = rows(store)
    assert entry["met_release"] is None


def test_a_passed_window_without_outcome_is_overdue_when_read(store):
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    [entry] = rows(store)
    assert status_of(entry, date(2026, 3, 15)) == "upcoming"
    assert status_of(entry, date(2026, 3, 16)) == "overdue"


def test_a_copy_on_another_wire_adds_no_second_entry(store):
    first = pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z")
    save(store, first)
    copy = pdufa("9", "March 15, 2026", "2025-05-01T12:05:00Z")
    saved = save(store, Release(**{**copy.__dict__, "source": "prnewswire"}))
    assert saved.duplicate_of is not None
    assert len(rows(store)) == 1


def test_rebuild_replays_releases_in_order(store):
    save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    save(store, pdufa("2", "June 15, 2026", "2026-01-10T12:00:00Z"))
    count = store.rebuild_catalysts(lambda t, x, p: classify(t, x, None, p))
    [entry] = rows(store)
    assert (count, entry["window_start"], entry["sequence"]) == (1, "2026-06-15", 1)


@pytest.mark.parametrize(
    ("name", "key"),
    [("Zorbalimab™", "zorbalimab"), ("ZORBALIMAB(R)", "zorbalimab"), ("ACM-101", "acm101"),
     ("acm 101", "acm101"), (None, "")],
)  # fmt: skip
def test_program_names_match_without_case_or_marks(name, key):
    assert program_key(name) == key
