"""Catalyst extraction: short releases written for each case, not taken from any real release."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from monitor.classify.catalysts import KINDS, Catalyst, extract_catalysts

PUBLISHED = date(2025, 3, 10)
ABOUT = (
    "\n\nAbout Acme Bio\n\nAcme Bio is a clinical-stage company developing ACM-101 for fibrosis."
    " Acme Bio expects topline data from its Phase 3 trial in the second half of 2026.\n\n"
    "Forward-Looking Statements\n\nThis press release contains forward-looking statements, "
    "including statements about the timing of the NDA submission in the first quarter of 2027 "
    "and the PDUFA date of June 1, 2027. Actual results may differ materially.\n\n"
    "Contacts\n\nJane Doe, +1 555 0100, ir@acme.example\n"
)


def release(*paragraphs: str, published: date = PUBLISHED, tail: str = ABOUT) -> tuple:
    day = f"{published:%B} {published.day}, {published.year}"
    lead = f"BOSTON, {day} (GLOBE NEWSWIRE) -- "
    body = "\n\n".join(paragraphs)
    return lead + body + tail, published


def extract(*paragraphs: str, title: str = "Acme Bio Provides Update", **kwargs):
    text, published = release(*paragraphs, **kwargs)
    return extract_catalysts(title, text, published)


def windows(found) -> list[tuple[str, str, str, str]]:
    return [(c.kind, c.window_start, c.window_end, c.precision) for c in found]


# --- Date windows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "start", "end", "precision"),
    [
        ("in the second half of 2025", "2025-07-01", "2025-12-31", "half"),
        ("in 2H 2025", "2025-07-01", "2025-12-31", "half"),
        ("in H2 2025", "2025-07-01", "2025-12-31", "half"),
        ("in Q1 2026", "2026-01-01", "2026-03-31", "quarter"),
        ("in 1Q26", "2026-01-01", "2026-03-31", "quarter"),
        ("in Q1'26", "2026-01-01", "2026-03-31", "quarter"),
        ("in the first quarter of 2026", "2026-01-01", "2026-03-31", "quarter"),
        ("by the end of the first quarter of 2026", "2026-01-01", "2026-03-31", "quarter"),
        ("in mid-2026", "2026-05-01", "2026-08-31", "mid"),
        ("in the middle of 2026", "2026-05-01", "2026-08-31", "mid"),
        ("in early 2026", "2026-01-01", "2026-04-30", "early"),
        ("at the beginning of 2026", "2026-01-01", "2026-04-30", "early"),
        ("in late 2026", "2026-09-01", "2026-12-31", "late"),
        ("by the end of 2026", "2026-10-01", "2026-12-31", "year_end"),
        ("by year-end 2026", "2026-10-01", "2026-12-31", "year_end"),
        ("in 2026", "2026-01-01", "2026-12-31", "year"),
        ("in March 2026", "2026-03-01", "2026-03-31", "month"),
        ("in mid-March 2026", "2026-03-11", "2026-03-20", "month_part"),
        ("on March 15, 2026", "2026-03-15", "2026-03-15", "day"),
        ("on 15 March 2026", "2026-03-15", "2026-03-15", "day"),
        ("in the summer of 2026", "2026-06-01", "2026-08-31", "season"),
        ("in Q4 2025 or Q1 2026", "2025-10-01", "2026-03-31", "range"),
        ("in late 2025 or early 2026", "2025-09-01", "2026-04-30", "range"),
        ("in the third or fourth quarter of 2025", "2025-07-01", "2025-12-31", "range"),
    ],
)
def test_date_windows(phrase: str, start: str, end: str, precision: str) -> None:
    found = extract(f"Acme Bio expects to report topline data from its Phase 2 trial {phrase}.")
    assert windows(found) == [("topline", start, end, precision)]
    assert phrase.split(" ", 1)[1] in found[0].date_text


@pytest.mark.parametrize(
    ("phrase", "start", "end", "precision"),
    [
        # Published 2025-03-10: relative phrases resolve against that day.
        ("by year-end", "2025-10-01", "2025-12-31", "year_end"),
        ("before the end of the year", "2025-10-01", "2025-12-31", "year_end"),
        ("by mid-year", "2025-05-01", "2025-08-31", "mid"),
        ("later this year", "2025-03-10", "2025-12-31", "year"),
        ("this year", "2025-01-01", "2025-12-31", "year"),
        ("next year", "2026-01-01", "2026-12-31", "year"),
        ("early next year", "2026-01-01", "2026-04-30", "early"),
        ("next quarter", "2025-04-01", "2025-06-30", "quarter"),
        ("in the second half of this year", "2025-07-01", "2025-12-31", "half"),
        ("in the fourth quarter", "2025-10-01", "2025-12-31", "quarter"),
        ("on May 15", "2025-05-15", "2025-05-15", "day"),
    ],
)
def test_relative_dates_resolve_against_publication(
    phrase: str, start: str, end: str, precision: str
) -> None:
    found = extract(f"Acme Bio plans to complete enrollment in its Phase 2 trial {phrase}.")
    assert windows(found) == [("enrollment_complete", start, end, precision)]


def test_period_already_over_this_year_means_next_year_when_said_of_the_future() -> None:
    # Published in November: "the first quarter" that is ahead is next year's.
    found = extract(
        "The Company expects to initiate its Phase 3 trial in the first quarter.",
        published=date(2025, 11, 20),
    )
    assert windows(found) == [("trial_start", "2026-01-01", "2026-03-31", "quarter")]


def test_mid_year_without_a_year_is_this_years() -> None:
    found = extract("Interim data from the Phase 2 study are expected mid-year.")
    assert windows(found) == [("interim_data", "2025-05-01", "2025-08-31", "mid")]


# --- Fiscal against calendar quarters --------------------------------------------------------


def test_fiscal_quarter_follows_the_fiscal_year_the_release_defines() -> None:
    found = extract(
        "Acme Bio's fiscal year ends June 30.",
        "The Company expects to submit the NDA for ACM-101 in the third quarter of fiscal 2026.",
    )
    # Fiscal 2026 runs July 2025 - June 2026: its third quarter is January - March 2026.
    assert windows(found) == [("submission", "2026-01-01", "2026-03-31", "quarter")]


def test_fiscal_year_defined_by_a_quarter_that_ended() -> None:
    found = extract(
        "Acme Bio today reported results for its fiscal 2026 first quarter ended June 30, 2025.",
        "The Company expects to report topline data from the Phase 2 trial in fiscal Q3 2026.",
        published=date(2025, 8, 12),
    )
    # First quarter ends in June, so the fiscal year ends in March: Q3 is October - December.
    assert windows(found) == [("topline", "2025-10-01", "2025-12-31", "quarter")]


def test_fiscal_quarter_is_calendar_when_the_release_does_not_define_the_fiscal_year() -> None:
    found = extract(
        "The Company expects to submit the NDA for ACM-101 in the third quarter of fiscal 2026."
    )
    assert windows(found) == [("submission", "2026-07-01", "2026-09-30", "quarter")]


def test_calendar_quarter_stays_calendar_in_a_fiscal_release() -> None:
    found = extract(
        "Acme Bio's fiscal year ends June 30.",
        "Topline data are expected in the third quarter of calendar year 2026.",
    )
    assert windows(found) == [("topline", "2026-07-01", "2026-09-30", "quarter")]


# --- Past, met, moved: not upcoming ----------------------------------------------------------


def test_past_dates_are_not_upcoming() -> None:
    assert (
        extract(
            "On March 3, 2025 the company announced the initiation of its Phase 2 trial.",
            "In January 2025, Acme Bio completed enrollment in the Phase 1 study.",
            "The FDA approved the IND in 2024.",
        )
        == ()
    )


def test_current_period_in_the_past_tense_is_not_upcoming() -> None:
    assert (
        extract(
            "Acme Bio completed enrollment in the first quarter of 2025 and initiated dosing in "
            "March 2025."
        )
        == ()
    )


def test_a_met_readout_is_no_catalyst_but_the_next_step_is() -> None:
    found = extract(
        "Acme Bio today announced positive topline results from its Phase 3 RESOLVE trial of "
        "ACM-101, which met its primary endpoint.",
        "Based on these results, the Company plans to submit a New Drug Application to the FDA "
        "in the second half of 2025.",
        title="Acme Bio Announces Positive Topline Results from Phase 3 RESOLVE Trial",
    )
    assert windows(found) == [("submission", "2025-07-01", "2025-12-31", "half")]
    assert found[0].program == "ACM-101"


def test_pdufa_extension_keeps_the_new_date_only() -> None:
    found = extract(
        "The FDA has extended the PDUFA target action date for ACM-101 by three months to "
        "June 15, 2026 from March 15, 2026 to review a major amendment.",
        "The original PDUFA date of March 15, 2026 no longer applies.",
        title="FDA Extends PDUFA Date for ACM-101",
        published=date(2026, 1, 5),
    )
    assert windows(found) == [("pdufa", "2026-06-15", "2026-06-15", "day")]
    assert found[0].program == "ACM-101"


def test_a_moved_readout_keeps_the_new_window() -> None:
    found = extract(
        "Topline data from the Phase 2 trial, previously expected in the first half of 2026, "
        "are now expected in the second half of 2026."
    )
    assert windows(found) == [("topline", "2026-07-01", "2026-12-31", "half")]


def test_deadlines_that_end_a_state_are_no_events() -> None:
    assert (
        extract(
            "Voting will remain open until May 22, 2025.",
            "Nasdaq granted the Company until September 18, 2025 to regain compliance.",
            "The offering is expected to close on or about March 12, 2025.",
        )
        == ()
    )


def test_not_until_names_the_event_date() -> None:
    found = extract("Final data are not expected until the fourth quarter of 2026.")
    assert windows(found) == [("topline", "2026-10-01", "2026-12-31", "quarter")]


# --- Boilerplate and legalese ---------------------------------------------------------------


def test_dates_in_about_and_forward_looking_statements_are_ignored() -> None:
    assert extract("Acme Bio today announced the appointment of a new Chief Medical Officer.") == ()


def test_forward_looking_sentence_inside_the_body_is_ignored() -> None:
    assert (
        extract(
            "Acme Bio today announced a new board member.",
            "Statements in this release about the expected timing of topline data in 2026 are "
            "forward-looking statements subject to risks and uncertainties.",
            tail="",
        )
        == ()
    )


# --- Kinds, evidence, programs ----------------------------------------------------------------


def test_pdufa_date_with_program_and_evidence() -> None:
    found = extract(
        "The FDA accepted the NDA for cytisafine and assigned a Prescription Drug User Fee Act "
        "(PDUFA) target action date of March 15, 2026.",
        title="FDA Accepts NDA for Cytisafine",
    )
    (catalyst,) = found
    assert (catalyst.kind, catalyst.window_start, catalyst.precision) == (
        "pdufa",
        "2026-03-15",
        "day",
    )
    assert catalyst.program == "cytisafine"
    assert catalyst.evidence.startswith("The FDA accepted the NDA")
    assert catalyst.date_text == "of March 15, 2026" or catalyst.date_text.endswith(
        "March 15, 2026"
    )


def test_trial_and_phase_are_read_from_the_sentence() -> None:
    (catalyst,) = extract(
        "Topline data from the Phase 2b HORIZON trial of ACM-202 are expected in mid-2026."
    )
    assert (catalyst.kind, catalyst.program, catalyst.trial, catalyst.phase) == (
        "topline",
        "ACM-202",
        "HORIZON",
        "2b",
    )


@pytest.mark.parametrize(
    ("sentence", "kind"),
    [
        ("An FDA advisory committee meeting is scheduled for May 20, 2025.", "adcom"),
        (
            "Acme Bio plans to dose the first patient in the Phase 1 trial in the second quarter "
            "of 2025.",
            "first_patient",
        ),
        (
            "The Company expects to initiate a Phase 2 trial of ACM-303 in the second half of 2025.",
            "trial_start",
        ),
        ("Acme Bio expects to submit an IND for ACM-404 by the end of 2025.", "submission"),
        (
            "A decision from the European Commission is expected in the third quarter of 2025.",
            "regulatory_decision",
        ),
        ("New data will be presented at the ASCO Annual Meeting on June 2, 2025.", "presentation"),
        (
            "Acme Bio will report first quarter 2025 financial results on May 8, 2025.",
            "earnings_call",
        ),
        ("Acme Bio will host a virtual KOL event on April 2, 2025.", "other"),
        (
            "Interim results from the Phase 2 trial are anticipated in the third quarter of 2025.",
            "interim_data",
        ),
    ],
)
def test_kinds(sentence: str, kind: str) -> None:
    found = extract(sentence)
    assert [c.kind for c in found] == [kind]


def test_results_period_is_not_the_event_date() -> None:
    found = extract(
        "Acme Bio will report its fourth quarter and full year 2025 financial results and host "
        "a conference call on March 12, 2026.",
        published=date(2026, 2, 26),
    )
    assert windows(found) == [("earnings_call", "2026-03-12", "2026-03-12", "day")]


def test_call_about_other_news_is_other() -> None:
    found = extract(
        "Acme Bio will host a conference call and webcast on March 11, 2025 at 8:30 a.m. ET to "
        "discuss the acquisition.",
        title="Acme Bio to Acquire Beta Therapeutics",
    )
    assert windows(found) == [("other", "2025-03-11", "2025-03-11", "day")]


def test_a_talk_inside_a_congress_keeps_the_talk_day() -> None:
    found = extract(
        "Dr. Roe will present new ACM-101 data at the World Fibrosis Congress, held March 20-22,"
        " 2025.",
        "Oral presentation: Long-term outcomes with ACM-101, presented by Dr. Roe on March 21, "
        "2025 at 9:00 a.m. CET.",
    )
    assert windows(found) == [("presentation", "2025-03-21", "2025-03-21", "day")]


def test_headline_and_body_saying_the_same_are_one_catalyst() -> None:
    found = extract(
        "Acme Bio completed enrollment in the Phase 3 trial. Topline data are expected in the "
        "second quarter of 2025.",
        title="Acme Bio Completes Enrollment; Topline Data Expected in Second Quarter of 2025",
    )
    assert windows(found) == [("topline", "2025-04-01", "2025-06-30", "quarter")]


def test_milestone_list_items_need_no_verb() -> None:
    found = extract(
        "Anticipated 2025 milestones:\n"
        "• Topline data from the Phase 2 trial of ACM-101 in mid-2025\n"
        "• NDA submission for ACM-202 in the fourth quarter of 2025",
    )
    assert windows(found) == [
        ("topline", "2025-05-01", "2025-08-31", "mid"),
        ("submission", "2025-10-01", "2025-12-31", "quarter"),
    ]
    assert [c.program for c in found] == ["ACM-101", "ACM-202"]


def test_nothing_dated_nothing_found() -> None:
    assert extract("Acme Bio plans to start a Phase 3 trial in the coming months.") == ()
    assert extract_catalysts("", "", PUBLISHED) == ()


# --- The record itself ------------------------------------------------------------------------


def test_catalyst_is_frozen_with_iso_dates_and_a_key() -> None:
    (catalyst,) = extract("Acme Bio expects topline data from ACM-101 in the first half of 2026.")
    assert isinstance(catalyst, Catalyst) and catalyst.kind in KINDS
    assert catalyst.start == date(2026, 1, 1) and catalyst.end == date(2026, 6, 30)
    assert catalyst.key == ("topline", "acm-101")
    assert catalyst.to_dict()["window_end"] == "2026-06-30"
    assert Catalyst.from_dict(catalyst.to_dict()) == catalyst
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalyst.kind = "other"  # type: ignore[misc]


def test_deterministic() -> None:
    text, published = release(
        "Topline data are expected in the second half of 2025.",
        "The Company plans to submit the NDA in early 2026.",
    )
    first = extract_catalysts("Update", text, published)
    assert first == extract_catalysts("Update", text, published)
    assert len(first) == 2


def test_data_results_in_a_quarter_are_an_event_financial_results_for_one_a_period() -> None:
    found = extract(
        "Acme Bio remains on target to release top-line data results in the third quarter of "
        "calendar year 2025.",
        "The Company will report results for the fourth quarter on February 26, 2026.",
    )
    assert windows(found) == [
        ("topline", "2025-07-01", "2025-09-30", "quarter"),
        ("earnings_call", "2026-02-26", "2026-02-26", "day"),
    ]


def test_a_goal_date_that_was_is_past_even_without_a_year() -> None:
    assert (
        extract(
            "The generic drug user fee (GDUFA) target action date for ACM-101 was September 15.",
            "The Company expects the FDA to communicate a decision shortly.",
            published=date(2025, 9, 16),
        )
        == ()
    )


def test_the_company_annual_meeting_is_no_scientific_meeting() -> None:
    found = extract(
        "The adjourned Annual Meeting will be held on June 15, 2025 at 1:30 p.m. CT.",
        "Dr. Roe will present new data at the American Thoracic Society Annual Meeting on May 20,"
        " 2025.",
    )
    assert windows(found) == [
        ("other", "2025-06-15", "2025-06-15", "day"),
        ("presentation", "2025-05-20", "2025-05-20", "day"),
    ]
