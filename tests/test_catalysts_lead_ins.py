"""Starts at "the", "for", "in", "by", "end", "second", "throughout" and numbers whose next
words cannot go on into a date are ruled out before the date grammar is tried
(`catalysts._LEAD_INS`): `_date_at` still finds what the whole grammar finds there."""

from __future__ import annotations

import random
import re

import pytest

from monitor.classify import catalysts

# Every way a date expression goes on after "the" or "for", in odd cases and spacings, and
# words that only look like it.
_PIECES = (
    "the end of 2026|the End of the year|THE beginning of 2027|the start of Q3|the middle of "
    "2026|the current quarter|the next quarter|the coming year|the following year|the first "
    "half of 2026|the latter part of 2026|the second part of 2026|the calendar year|the fiscal "
    "year|the year|the  year|the\nend of March 2026|the ſtart of 2026|the fıscal year|"
    "for 2026|for fiscal 2026|for FY26|for fy 2027|for the fiscal year 2026|for the FY 2026|"
    "for calendar 2026|For the calendar year 2026|for\t2026|for the treatment|for the year|"
    "therapy|there|theme|former|fortune|forward|for|the|2026|Q1|in|of|,|.|"
    "in March|In 2026|in the fiscal year 2026|in FY26|in calendar 2026|in the FY 2027|in mid-2026|"
    "in the second half|in the clinic|by May 15|By 2026|by the calendar year 2026|by mid-2026|"
    "by,|by-|in.|end of 2026|End-of-year|end of the year|END of March|end this year|ended|"
    "endpoint|end|second half of 2026|Second-quarter|second quarter|second part of 2026|"
    "securities|second|throughout 2026|Throughout\tthe year|three|through|thr|15 March 2026|"
    "15th March 2026|1st quarter|2nd half|3rd quarter|4th Quarter|1Q26|2H 2025|3q|4H|5Q|"
    "100 patients|12 months|1 ſt|٣ March|²|99.1"
).split("|")


def _texts(count: int) -> list[str]:
    rng = random.Random(14)
    return [" ".join(rng.choices(_PIECES, k=rng.randint(1, 6))) for _ in range(count)]


def _same(a: re.Match[str] | None, b: re.Match[str] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.span() == b.span() and a.lastgroup == b.lastgroup


def test_date_at_a_lead_in_matches_as_the_whole_grammar_does() -> None:
    tried = 0
    for text in _PIECES + _texts(600):
        for start in range(len(text)):
            if text[start : start + 3].lower() in catalysts._LEAD_INS:
                tried += 1
                expected = catalysts._DATE.match(text, start)
                assert _same(catalysts._date_at(text, start), expected), (text, start)
    assert tried > 1000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the middle of 2026", "the middle of 2026"),
        ("the following year", "the following year"),
        ("the latter part of 2026", "the latter part of 2026"),
        ("For the FY 2026", "For the FY 2026"),
        ("for calendar 2026", "for calendar 2026"),
        ("the company", None),
        ("for the treatment", None),
        ("therapy in 2026", None),
        ("in March", "in March"),
        ("by the fiscal year 2026", "by the fiscal year 2026"),
        ("end of the year", "end of the year"),
        ("Second-half 2026", "Second-half 2026"),
        ("throughout 2026", "throughout 2026"),
        ("15 March 2026", "15 March 2026"),
        ("3rd quarter", "3rd quarter"),
        ("2H25", "2H25"),
        ("ended June 30", None),
        ("securities", None),
        ("100 patients", None),
    ],
)
def test_date_at_a_lead_in(text: str, expected: str | None) -> None:
    match = catalysts._date_at(text, 0)
    assert (match.group() if match else None) == expected
