"""Upcoming catalysts in a press release: what is expected, for which program, and when.

    extract_catalysts(title, text, published) -> tuple[Catalyst, ...]

Pure, deterministic and offline. A catalyst is read the way an analyst reads one: a date
expression ("in the second half of 2025", "PDUFA target action date of March 15, 2026",
"by year-end") in the news part of the release (headline, sub-headlines, body; never the About
sections, forward-looking-statement legalese or contacts, which `sections` cuts off), an event
named next to it (top-line data, enrolment completion, an NDA submission, a conference call...),
and a sign that the event lies ahead: an expectation or plan ("expects", "plans to", "on
track", "scheduled", "to be held") or, for a date wholly after the release, no sign that it
already happened. A date that ended before the release, an old date that was moved ("extended
from March 15"), or a date that names a reporting period ("first quarter 2026 results") is no
catalyst.

Kinds: pdufa (PDUFA/GDUFA goal or target action date), adcom (advisory committee), topline (a
trial's data or results, a readout), interim_data (interim, initial, preliminary data),
enrollment_complete, trial_start (initiating a trial, starting enrolment), first_patient (first
patient or cohort dosed, dosing begins), submission (NDA, BLA, MAA, IND... filed or submitted),
regulatory_decision (approval, CHMP opinion, agency decision), presentation (data or a talk at a
congress or conference), earnings_call (financial results and the call on them), other (calls
and webcasts on other news, shareholder meetings, KOL and R&D days, meetings with regulators,
trial completion, launches). Not catalysts: closings of offerings or deals, payments, listing
and compliance deadlines, patent terms, contract periods; and plans with no date ("in the coming
months").

Date windows (all ISO dates, both ends inclusive; `precision` names the granularity):

    day        "March 15, 2026"            2026-03-15 .. 2026-03-15
    days       "February 12-14, 2026"      2026-02-12 .. 2026-02-14
    month      "March 2026", "end of March 2026"
    month_part early/mid/late of a month: days 1-10, 11-20, 21-end ("mid-March 2026")
    quarter    "Q1 2026", "1Q26", "first quarter of 2026", "end of the first quarter"
               (early/mid/late of a quarter: its first, middle or last month)
    half       "second half of 2025", "2H 2025", "H2 2025"  -> 2025-07-01 .. 2025-12-31
    season     spring Mar-May, summer Jun-Aug, fall/autumn Sep-Nov
    early      "early 2026", "beginning of 2026"             -> 2026-01-01 .. 2026-04-30
    mid        "mid-2026", "mid-year", "middle of 2026"      -> 2026-05-01 .. 2026-08-31
    late       "late 2026", "latter part of 2026"            -> 2026-09-01 .. 2026-12-31
    year_end   "year-end", "end of 2026", "by the end of the year" -> 2026-10-01 .. 2026-12-31
    year       "in 2026", "this year", "next year"; "later this year" and "later in 2026"
               run from the publication date to December 31
    range      "Q4 2025 or Q1 2026", "late 2025 or early 2026" -> from the first window's start
               to the second's end

"by", "before" and "no later than" keep the named window (the deadline is its end) and stay in
`date_text`. Expressions without a year ("the fourth quarter", "May 15", "mid-year") take the
publication year, or the next year when that period is already over and the text speaks of the
future. "Fiscal" quarters and years follow the fiscal year only when the release defines it
("fiscal year ending June 30", "first quarter ended June 30, 2019" of a fiscal year); fiscal
years are named by the calendar year they end in. Everything else is calendar.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from functools import cache

from ..models import Catalyst
from .sections import (
    _BULLET,
    _HEADING,
    _INLINE_HEADING,
    BODY,
    HEADLINE,
    SUBHEAD,
    _description_start,
    _find_dateline,
    _header_lines,
    _sentence_spans,
    split_sentences,
)
from .skip import first_characters, sre_parse

__all__ = ["KINDS", "Catalyst", "extract_catalysts"]

KINDS = (
    "pdufa",
    "adcom",
    "topline",
    "interim_data",
    "enrollment_complete",
    "trial_start",
    "first_patient",
    "submission",
    "regulatory_decision",
    "presentation",
    "earnings_call",
    "other",
)


# --- Literal pre-tests -----------------------------------------------------------------------

# A search for a pattern that ignores case costs microseconds per sentence even where nothing
# matches (a leading \b leaves the regex engine no literal to skip to); a plain `in` test of a
# word every match holds, on the lower-cased text, costs tens of nanoseconds and rules most of
# them out. Three characters match an ASCII letter case-blind yet lower-case to something else
# (the dotted and dotless i, the long s): where one occurs, every pattern is searched.
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f")


def _lower(text: str) -> str | None:
    """`text` lower-cased for the literal pre-tests; None where they cannot rule anything out."""
    if not text.isascii() and any(trap in text for trap in _CASE_TRAPS):
        return None
    return text.lower()


def _may_hold(lower: str | None, alternatives: tuple[tuple[tuple[str, ...], ...], ...]) -> bool:
    """Whether the text `lower` (from `_lower`) was made of holds, for one of the alternatives, a
    word of each of its sets."""
    if lower is None:
        return True
    for sets in alternatives:
        for words in sets:
            for word in words:
                if word in lower:
                    break
            else:
                break  # a set without a word: not this alternative
        else:
            return True
    return False


def _holds_one(text: str, words: tuple[str, ...]) -> bool:
    """Whether `text` holds one of `words`, case as written (for patterns that heed case)."""
    for word in words:
        if word in text:
            return True
    return False


# --- Date expressions ------------------------------------------------------------------------

_MONTH_NAMES = "jan feb mar apr may jun jul aug sep oct nov dec".split()


def _mon(name: str) -> str:
    return (
        rf"(?P<{name}>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
        rf"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?(?![a-z])"
    )


_ORD = r"(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DASH = r"\s*(?:-|–|—|to|through|and)\s*"
_YEAR2 = r"(?:'|’)?(?:\d{4}|\d{2})(?!\d)"
_PART = (
    r"early|mid|late|(?:the\s+)?end(?:\s+of|(?=\s+(?:this|next|the)\s+year))|(?:the\s+)?beginning\s+of|(?:the\s+)?start\s+of"
    r"|(?:the\s+)?middle\s+of"
)
_QWORD = r"first|second|third|fourth|1st|2nd|3rd|4th"
_REL_YEAR = r"this|next|the\s+current|the\s+coming|the\s+following|the"

_DATE_FORMS = (
    # March 15, 2026 / Monday, November 16, 2009 / February 12-14, 2020 / May 15th
    rf"(?P<day>{_WEEKDAY}{_mon('d_mon')}\s+(?P<d_day>\d{{1,2}}){_ORD}"
    rf"(?:{_DASH}(?:{_mon('d_mon2')}\s+)?(?P<d_day2>\d{{1,2}}){_ORD})?(?![\d:])"
    rf"(?:,?\s+(?P<d_year>\d{{4}}))?(?!\d))",
    # 15 March 2026
    rf"(?P<eday>(?<![\d.])(?P<e_day>\d{{1,2}}){_ORD}\s+{_mon('e_mon')},?\s+(?P<e_year>\d{{4}}))",
    # (mid-)March 2026, end of April 2017, March of 2026
    rf"(?P<month>(?:(?P<m_part>{_PART})[\s-]+(?:in\s+)?)?{_mon('m_mon')},?\s+(?:of\s+)?"
    rf"(?P<m_year>\d{{4}})(?!\d))",
    # in March, by mid-April (no year)
    rf"(?P<monly>(?:(?P<mo_part>{_PART})[\s-]+|(?:in|by|during|until|before)\s+)"
    rf"{_mon('mo_mon')}(?![\s,]*\d))",
    # fiscal 2026 third quarter, Q3 fiscal 2026, third quarter of fiscal 2026, Q3 FY26
    rf"(?P<fq>(?:fiscal(?:\s+year)?|FY)\s*(?P<fq_y1>{_YEAR2})\s+(?:Q(?P<fq_n1>[1-4])"
    rf"|(?P<fq_w1>{_QWORD})\s+quarter)"
    rf"|(?:Q(?P<fq_n2>[1-4])|(?P<fq_w2>{_QWORD})\s+(?:fiscal\s+)?quarter(?:\s+of)?)\s*,?\s*"
    rf"(?:fiscal(?:\s+year)?|FY)\s*(?P<fq_y2>{_YEAR2})"
    rf"|fiscal\s+Q(?P<fq_n3>[1-4])\s+(?P<fq_y3>{_YEAR2}))",
    # Q1 2026, 1Q26, Q1'26, late Q/2, Q3 (no year)
    rf"(?P<qc>(?:(?P<qc_part>{_PART})[\s-]+)?(?<![\w/])(?:Q/?(?P<qc_n>[1-4])|(?P<qc_n2>[1-4])Q)"
    rf"(?:[\s-]*(?:of\s+)?(?P<qc_y>{_YEAR2}))?(?![\w/]))",
    # first quarter of 2026, third quarter of calendar year 2016, third or fourth quarter
    rf"(?P<qw>(?:(?P<qw_part>{_PART})[\s-]+(?:the\s+)?)?(?P<qw_1>{_QWORD})"
    rf"(?:[\s-]+(?:or|to|through|and)[\s-]+(?:the\s+)?(?P<qw_2>{_QWORD}))?"
    rf"[\s-]+(?P<qw_cal>calendar\s+|fiscal\s+)?quarters?"
    rf"(?:(?:\s+of)?\s+(?:the\s+)?(?P<qw_cal2>calendar|fiscal)(?:\s+year)?)?"
    rf"(?:(?:\s+of)?[\s,]+(?P<qw_y>\d{{4}})(?!\d)|\s+of\s+(?P<qw_rel>{_REL_YEAR})\s+year"
    rf"|(?!\s+of\s+\d)))",
    # this quarter, next quarter
    r"(?P<qr>(?P<qr_w>this|the\s+current|next|the\s+next|the\s+coming|the\s+following)"
    r"\s+(?:calendar\s+|fiscal\s+)?quarter)",
    # first half of 2026, second half of this year, back half of 2026
    rf"(?P<hw>(?:(?P<hw_part>early|late|(?:the\s+)?end\s+of|(?:the\s+)?beginning\s+of)"
    rf"[\s-]+(?:the\s+)?)?(?P<hw_n>first|second|1st|2nd|back|latter|front)[\s-]+half"
    rf"(?:(?:\s+of)?\s+(?:the\s+)?(?P<hw_cal>calendar|fiscal)(?:\s+year)?)?"
    rf"(?:(?:\s+of)?[\s,]+(?P<hw_y>\d{{4}})(?!\d)|\s+of\s+(?P<hw_rel>{_REL_YEAR})\s+year"
    rf"|(?!\s+of\s+(?:the|a|an|its|our|their|this|\d)\b|\s+of\s+\d)))",
    # 1H 2026, H2 2025, 2H25
    rf"(?P<hc>(?<![\w/])(?:(?P<hc_n>[12])H|H(?P<hc_n2>[12]))[\s-]*(?:of\s+)?"
    rf"(?P<hc_y>{_YEAR2}))",
    # spring 2026, fall of 2026
    r"(?P<season>(?P<s_w>spring|summer|fall|autumn)(?:\s+of)?[\s,]+(?P<s_y>\d{4})(?!\d))",
    # year-end, mid-year, end of year (alone or with a year)
    r"(?P<ya>(?P<ya_w>year[\s-]*end(?!ed|ing|s\b)|end[\s-]of[\s-](?:the[\s-])?year|mid[\s-]?year)"
    r"(?:\s+(?P<ya_y>\d{4})(?!\d))?)",
    # early 2026, mid-2026, late in 2026, the end of 2026, YE 2026, end of this year
    rf"(?P<yp>(?P<yp_w>{_PART}|(?:the\s+)?(?:first|latter|second)\s+part\s+of|YE|EOY)"
    rf"[\s-]*(?:in\s+)?(?:(?:the\s+)?calendar\s+(?:year\s+)?)?"
    rf"(?:(?P<yp_y>(?:'|’)?\d{{4}}|(?<=YE)\d{{2}}|(?<=YE )\d{{2}})(?![\d-])"
    rf"|(?P<yp_rel>{_REL_YEAR})\s+(?:calendar\s+)?year(?!['’]s)))",
    # later this year, next year, this year, later in the year
    r"(?P<yr>(?P<yr_later>later\s+(?:in\s+)?|earlier\s+(?:in\s+)?)?(?P<yr_w>this|the\s+current|"
    r"next|the\s+coming|the\s+following|the)\s+(?:calendar\s+|fiscal\s+)?year(?!['’]s))",
    # in 2026, during calendar 2026, later in 2026, by 2026, fiscal 2026
    r"(?P<y>(?P<y_prep>later\s+in|sometime\s+in|in|during|by|within|throughout|for|before"
    r"|until)\s+(?:(?:the\s+)?(?P<y_cal>calendar|fiscal)\s+(?:year\s+)?|(?:the\s+)?FY\s*)?"
    r"(?P<y_y>\d{4})(?![\d-]|\s*[-–]\s*\d|\s*(?:/|,\s*\d))|(?P<y_fis>fiscal(?:\s+year)?|FY)"
    rf"\s*(?P<y_fy>{_YEAR2}))",
)
_DATE = re.compile("|".join(_DATE_FORMS), re.IGNORECASE)


@cache
def _form_firsts() -> tuple[set[str] | None, ...]:
    """The characters each of `_DATE_FORMS` can start with, ASCII in lower case (a superset;
    None: any)."""
    if sre_parse is None:
        return (None,) * len(_DATE_FORMS)
    return tuple(
        first_characters(sre_parse.parse(form, re.IGNORECASE), fold=True)[0] for form in _DATE_FORMS
    )


def _date_for(character: str) -> re.Pattern[str] | None:
    """`_DATE` with only the forms a match can start with at `character` (an ASCII letter, lower
    case, or digit), in the same order: the same first match, found without trying every form.
    None where no form can; `_DATE` itself for any other character."""
    if len(character) != 1 or character not in "abcdefghijklmnopqrstuvwxyz0123456789":
        return _DATE
    forms = [
        form
        for form, first in zip(_DATE_FORMS, _form_firsts(), strict=True)
        if first is None or character in first
    ]
    return re.compile("|".join(forms), re.IGNORECASE) if forms else None


# Built on first use: compiling them all would add a third to the import time.
_DATE_AT: dict[str, re.Pattern[str] | None] = {}


# Words that start many words and few dates ("the", "in ", a number...), where the grammar takes
# microseconds to find that no date starts: each is tried only where what follows can go on
# into a date expression (as every form that can start with it goes on, case blind, or more).
# Numbers, keyed "0": a day ("15 March"), a quarter or half code ("1Q26", "2H"), "1st", "2nd"...
_MONTH_STARTS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_LEAD_INS = {
    "the": r"the\s+(?:end|beginning|start|middle|current|next|coming|following|first|latter"
    r"|second|calendar|fiscal|year)",
    "for": r"for\s+(?:the\s+)?(?:calendar|fiscal|fy|\d)",
    "in ": rf"in\s+(?:the\s+)?(?:calendar|fiscal|fy|\d|{_MONTH_STARTS})",
    "by ": rf"by\s+(?:the\s+)?(?:calendar|fiscal|fy|\d|{_MONTH_STARTS})",
    "end": r"end[\s-]",
    "sec": r"second[\s-]",
    "thr": r"throughout\s",
    "0": r"\d\d?(?:st|nd|rd|th)?\s|[1-4](?:q|h|st|nd|rd|th)",
}
_LEAD_IN_AT: dict[str, re.Pattern[str]] = {}  # compiled on first use


def _date_at(text: str, start: int) -> re.Match[str] | None:
    """`_DATE.match(text, start)`, cheaper: only the forms that can start with text[start]."""
    lead = text[start : start + 3].lower()
    if lead[:1].isdigit():
        lead = "0"
    if lead in _LEAD_INS:
        lead_in = _LEAD_IN_AT.get(lead)
        if lead_in is None:
            lead_in = _LEAD_IN_AT[lead] = re.compile(_LEAD_INS[lead], re.IGNORECASE)
        if not lead_in.match(text, start):
            return None
    character = text[start : start + 1]
    if not character.isascii():
        return _DATE.match(text, start)
    character = character.lower()
    if character in _DATE_AT:
        pattern = _DATE_AT[character]
    else:
        pattern = _DATE_AT[character] = _date_for(character)
    return pattern.match(text, start) if pattern is not None else None


_QNUM = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4}
_HNUM = {"first": 1, "1st": 1, "front": 1, "second": 2, "2nd": 2, "back": 2, "latter": 2}
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "fall": (9, 11), "autumn": (9, 11)}


@dataclass(frozen=True)
class _Window:
    start: date
    end: date
    precision: str
    yearless: bool = False  # the year was taken from the publication date

    def shifted(self, years: int) -> _Window:
        return _Window(_add_years(self.start, years), _add_years(self.end, years), self.precision)


def _add_years(day: date, years: int) -> date:
    last = monthrange(day.year + years, day.month)[1]
    return day.replace(year=day.year + years, day=min(day.day, last))


def _month_span(year: int, first: int, last: int) -> tuple[date, date]:
    """Months first..last of `year` (last may run into the next year: 13 = next January)."""
    end_year, end_month = year + (last - 1) // 12, (last - 1) % 12 + 1
    start_year, start_month = year + (first - 1) // 12, (first - 1) % 12 + 1
    return date(start_year, start_month, 1), date(
        end_year, end_month, monthrange(end_year, end_month)[1]
    )


def _year(text: str | None, default: int) -> tuple[int, bool]:
    if not text:
        return default, True
    digits = text.strip("'’")
    return (2000 + int(digits) if len(digits) == 2 else int(digits)), False


def _part(part: str | None) -> str | None:
    if not part:
        return None
    word = part.split()[-2] if part.split()[-1] == "of" else part.split()[-1]
    return {"beginning": "early", "start": "early", "middle": "mid", "end": "end"}.get(
        word.lower(), word.lower()
    )


def _month_number(name: str) -> int:
    return _MONTH_NAMES.index(name[:3].lower()) + 1


def _part_of_month(year: int, month: int, part: str | None) -> _Window:
    last = monthrange(year, month)[1]
    if part == "early":
        return _Window(date(year, month, 1), date(year, month, 10), "month_part")
    if part == "mid":
        return _Window(date(year, month, 11), date(year, month, 20), "month_part")
    if part == "late":
        return _Window(date(year, month, 21), date(year, month, last), "month_part")
    return _Window(date(year, month, 1), date(year, month, last), "month")


def _part_of_year(year: int, part: str) -> _Window:
    if part == "early":
        return _Window(date(year, 1, 1), date(year, 4, 30), "early")
    if part == "mid":
        return _Window(date(year, 5, 1), date(year, 8, 31), "mid")
    if part == "late":
        return _Window(date(year, 9, 1), date(year, 12, 31), "late")
    return _Window(date(year, 10, 1), date(year, 12, 31), "year_end")


def _quarter(year: int, quarter: int, part: str | None, fiscal_end: int = 12) -> _Window:
    """Quarter 1-4 of `year`; of fiscal year `year` where it ends in month `fiscal_end` (fiscal
    years are named by the calendar year they end in, so quarter 1 starts in the year before)."""
    if fiscal_end == 12:
        base_year, first = year, 3 * quarter - 2
    else:
        base_year, first = year - 1, fiscal_end + 1 + 3 * (quarter - 1)
    offset = {"early": 0, "mid": 1, "late": 2}.get(part or "")
    if offset is not None:
        start, end = _month_span(base_year, first + offset, first + offset)
        return _Window(start, end, "month")
    start, end = _month_span(base_year, first, first + 2)
    return _Window(start, end, "quarter")


def _relative_year(word: str, published: date) -> int:
    word = " ".join(word.lower().split())
    return published.year + (1 if word in ("next", "the coming", "the following") else 0)


def _resolve(m: re.Match[str], published: date, fiscal_end: int | None) -> _Window | None:
    """The window a date expression names, or None where it names none we can place."""
    g = m.group  # a few groups by name: far cheaper than groupdict()'s hundred
    kind = m.lastgroup
    this_year = published.year
    if kind == "day":
        month_text = g("d_mon")
        if month_text.islower():  # "may 15" is no date; real month names are capitalised
            return None
        year, yearless = _year(g("d_year"), this_year)
        month, day = _month_number(month_text), int(g("d_day"))
        month2 = _month_number(g("d_mon2")) if g("d_mon2") else month
        try:
            start = date(year, month, day)
            end = date(year + (month2 < month), month2, int(g("d_day2"))) if g("d_day2") else start
        except ValueError:
            return None
        if end < start:
            return None
        return _Window(start, end, "day" if start == end else "days", yearless)
    if kind == "eday":
        try:
            day = date(int(g("e_year")), _month_number(g("e_mon")), int(g("e_day")))
        except ValueError:
            return None
        return _Window(day, day, "day")
    if kind == "month":
        if g("m_mon") == "may":
            return None
        return _part_of_month(int(g("m_year")), _month_number(g("m_mon")), _part(g("m_part")))
    if kind == "monly":
        if g("mo_mon") == "may" or g("mo_mon").islower():
            return None
        window = _part_of_month(this_year, _month_number(g("mo_mon")), _part(g("mo_part")))
        return _Window(window.start, window.end, window.precision, True)
    if kind == "fq":
        number = g("fq_n1") or g("fq_n2") or g("fq_n3")
        word = g("fq_w1") or g("fq_w2")
        quarter = int(number) if number else _QNUM[word.lower()]
        year, _ = _year(g("fq_y1") or g("fq_y2") or g("fq_y3"), this_year)
        return _quarter(year, quarter, None, fiscal_end or 12)
    if kind == "qc":
        quarter = int(g("qc_n") or g("qc_n2"))
        year, yearless = _year(g("qc_y"), this_year)
        window = _quarter(year, quarter, _part(g("qc_part")))
        return _Window(window.start, window.end, window.precision, yearless)
    if kind == "qw":
        first = _QNUM[g("qw_1").lower()]
        if g("qw_rel"):
            year, yearless = _relative_year(g("qw_rel"), published), False
        else:
            year, yearless = _year(g("qw_y"), this_year)
        fiscal = "fiscal" in ((g("qw_cal") or "") + (g("qw_cal2") or "")).lower()
        end_month = (fiscal_end or 12) if fiscal else 12
        window = _quarter(year, first, _part(g("qw_part")), end_month)
        if g("qw_2"):
            second = _quarter(year, _QNUM[g("qw_2").lower()], None, end_month)
            if second.end < window.start:
                return None
            window = _Window(window.start, second.end, "range")
        return _Window(window.start, window.end, window.precision, yearless)
    if kind == "qr":
        word = " ".join(g("qr_w").lower().split())
        current = (published.month - 1) // 3 + 1
        quarter = current + (0 if word in ("this", "the current") else 1)
        year = this_year + (quarter - 1) // 4
        return _quarter(year, (quarter - 1) % 4 + 1, None)
    if kind in ("hw", "hc"):
        if kind == "hw":
            half = _HNUM[g("hw_n").lower()]
            if g("hw_rel"):
                year, yearless = _relative_year(g("hw_rel"), published), False
            else:
                year, yearless = _year(g("hw_y"), this_year)
            part = _part(g("hw_part"))
        else:
            half = int(g("hc_n") or g("hc_n2"))
            year, yearless = _year(g("hc_y"), this_year)
            part = None
        first = 1 if half == 1 else 7
        if part in ("early", "late"):
            first += 0 if part == "early" else 3
            start, end = _month_span(year, first, first + 2)
            return _Window(start, end, "quarter", yearless)
        start, end = _month_span(year, first, first + 5)
        return _Window(start, end, "half", yearless)
    if kind == "season":
        first, last = _SEASONS[g("s_w").lower()]
        start, end = _month_span(int(g("s_y")), first, last)
        return _Window(start, end, "season")
    if kind == "ya":
        year, yearless = _year(g("ya_y"), this_year)
        part = "mid" if "mid" in g("ya_w").lower() else "end"
        window = _part_of_year(year, part)
        return _Window(window.start, window.end, window.precision, yearless)
    if kind == "yp":
        word = " ".join(g("yp_w").lower().split())
        if word in ("ye", "eoy"):
            part = "end"
        elif "part" in word:
            part = "early" if "first" in word else "late"
        else:
            part = _part(word) or word
        if g("yp_rel"):
            year = _relative_year(g("yp_rel"), published)
        else:
            year, _ = _year(g("yp_y"), this_year)
        return _part_of_year(year, part)
    if kind == "yr":
        later = (g("yr_later") or "").lower()
        if later.startswith("earlier"):
            return None
        year = _relative_year(g("yr_w"), published)
        if later and year == this_year:
            return _Window(published, date(year, 12, 31), "year")
        return _Window(date(year, 1, 1), date(year, 12, 31), "year")
    if kind == "y":
        if g("y_fis"):
            year, _ = _year(g("y_fy"), this_year)
            fiscal = True
        else:
            year, fiscal = int(g("y_y")), (g("y_cal") or "").lower() == "fiscal"
        if fiscal and fiscal_end and fiscal_end != 12:
            start, end = _month_span(year - 1, fiscal_end + 1, fiscal_end + 12)
            return _Window(start, end, "year")
        prep = " ".join((g("y_prep") or "").lower().split())
        if prep == "later in" and year == this_year:
            return _Window(published, date(year, 12, 31), "year")
        return _Window(date(year, 1, 1), date(year, 12, 31), "year")
    return None


# Two expressions joined this way make one window: "Q4 2025 or Q1 2026".
_JOIN = re.compile(r"\s*(?:,?\s*or|to|through|-|–|/)\s*(?:the\s+)?$", re.IGNORECASE)
_BETWEEN = re.compile(r"\bbetween\s+(?:the\s+)?$", re.IGNORECASE)
# Words before the expression that belong to how the date is written.
_DEADLINE = re.compile(
    r"(?:\b(?:by|before|no later than|prior to|until|in|during|on|around|at|from)\s+(?:the\s+)?)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Date:
    start: int  # position in the sentence
    end: int
    window: _Window
    text: str


# Where a date expression can be: a year, a month name, a quarter, half or year word, a code.
# Found first with a few plain scans (each fast: a literal or a small set of first characters),
# then the full grammar is tried only at the few word starts before each: far faster than
# running the grammar's alternatives at every position of the text.
# The scans, plainly: on the text (?:19|20)\d\d(?!\d) and Jan|Feb|...|Dec (a month name, not
# "Market"); on the lower-cased text year|quarter|half|fiscal|fy and q/?[1-4]|[1-4][qh]|h[12].
# Scans for a set of first characters step through the text at a few nanoseconds a character,
# and lower-casing it costs as much: `_anchors` finds the same places with scans that each start
# with one literal character (the regex engine skips ahead to it as fast as memchr) and both
# cases spelled out, then works out what the plain scans make of the few places found.
_YEAR_SCANS = (re.compile(r"1(?=9\d\d(?!\d))"), re.compile(r"2(?=0\d\d(?!\d))"))
_MONTH_SCAN = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec")
_LETTER_SCANS = tuple(
    re.compile(pattern)
    for pattern in (
        r"y(?=[eE][aA][rR])",
        r"Y(?=[eE][aA][rR])",
        r"q",
        r"Q",
        r"h(?:(?=[aA][lL][fF]|[12])|(?<=[1-4]h))",
        r"H(?:(?=[aA][lL][fF]|[12])|(?<=[1-4]H))",
        r"f(?=[iI][sS][cC][aA][lL]|[yY])",
        r"F(?=[iI][sS][cC][aA][lL]|[yY])",
    )
)
_ONE_TO_FOUR = frozenset("1234")
_MONTH_TAIL = re.compile(r"[a-z]*")
_MONTH_WORDS = frozenset(
    "jan january feb february mar march apr april may jun june jul july aug august sep sept "
    "september oct october nov november dec december".split()
)
_WORD_START = re.compile(r"(?<![\w'’-])[\w'’]")
_LOOK_BACK = 48  # characters: "the end of the first quarter" starts 28 before "quarter"
# The words a date expression can start with (their first three letters, lower case).
_STARTERS = frozenset(
    "ear mid lat end the beg sta fir sec thi fou 1st 2nd 3rd 4th bac fro nex cur com fol "
    "in by dur wit thr for bef unt som fis cal fy ye eoy spr sum fal aut mon tue wed fri sat "
    "sun jan feb mar apr may jun jul aug sep oct nov dec q1 q2 q3 q4 q/1 q/2 q/3 q/4 h1 h2 1h "
    "2h 1q 2q 3q 4q yea".split()
)


def _starter_slices() -> frozenset[str]:
    """The three characters from a word start (two at the end of the text) that lower-cased and
    stripped of " ,.-" at the end are a starter: each starter in every mix of cases, a
    two-letter one followed by any of " ,.-" or by nothing. (No other character lower-cases to
    a letter of theirs but the Kelvin sign to "k", which none holds, and the dotted capital I to
    two characters.)"""
    found: set[str] = set()
    for starter in _STARTERS:
        spellings = [""]
        for character in starter:
            spellings = [s + c for s in spellings for c in {character, character.upper()}]
        for spelling in spellings:
            found.add(spelling)
            if len(spelling) == 2:
                found.update(spelling + end for end in " ,.-")
    return frozenset(found)


_STARTER_SLICES = _starter_slices()
# Whether any of the scans matches anywhere: one search in place of the eleven scans, cheaper on
# short texts (a headline, the lines above the dateline: most name no date), where the scans'
# set-up costs more than their stepping through the text. On a long text it would stop at the
# first anchor, usually no sooner than the scans find them all.
_ANY_SCAN = re.compile(
    "|".join(scan.pattern for scan in (*_YEAR_SCANS, _MONTH_SCAN, *_LETTER_SCANS))
)
_SHORT = 400  # characters


def _anchors(text: str) -> list[int]:
    """Where a date expression may be: what the scans above find, in order."""
    if len(text) < _SHORT and not _ANY_SCAN.search(text):
        return []
    found: list[int] = []
    for scan in _YEAR_SCANS:
        for match in scan.finditer(text):
            at = match.start()
            if not (at and text[at - 1].isalnum()):
                found.append(at)
    for match in _MONTH_SCAN.finditer(text):
        at = match.start()
        if at and text[at - 1].isalnum():
            continue
        # a month name, not "Market" or "Decision"
        word = match.group() + _MONTH_TAIL.match(text, match.end()).group()
        if word.lower() in _MONTH_WORDS:
            found.append(at)
    if "\u0130" not in text:  # lower-casing keeps every character in its place
        words, codes = _letter_anchors(text)
        for at in _first_of_overlapping(words) + _first_of_overlapping(codes):
            # after a letter "fiscal", "fy" and "3q" are none ("FY" in "EFY")
            if at and text[at - 1].isalpha() and text[at] in "fF1234":
                continue
            found.append(at)
    found.sort()
    return found


def _letter_anchors(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(start, length) of every place the lower-case scans could match: the words (year,
    quarter, half, fiscal, fy) and the codes (q1, q/1, 1q, 1h, h1)."""
    words: list[tuple[int, int]] = []
    codes: list[tuple[int, int]] = []
    for scan in _LETTER_SCANS:
        for match in scan.finditer(text):
            at = match.start()
            letter = text[at]
            if letter in "yY":
                words.append((at, 4))
                continue
            if letter in "fF":
                words.append((at, 6 if text[at + 1 : at + 6].lower() == "iscal" else 2))
                continue
            after = text[at + 1 : at + 2]
            if letter in "qQ":
                if text[at + 1 : at + 7].lower() == "uarter":
                    words.append((at, 7))
                elif after in _ONE_TO_FOUR:
                    codes.append((at, 2))
                elif after == "/" and text[at + 2 : at + 3] in _ONE_TO_FOUR:
                    codes.append((at, 3))
            else:  # h, H
                if text[at + 1 : at + 4].lower() == "alf":
                    words.append((at, 4))
                elif after == "1" or after == "2":
                    codes.append((at, 2))
            if at and text[at - 1] in _ONE_TO_FOUR:
                codes.append((at - 1, 2))
    return words, codes


def _first_of_overlapping(spans: list[tuple[int, int]]) -> list[int]:
    """The starts a scan finds: from left to right, each match past the end of the last."""
    spans.sort()
    starts: list[int] = []
    covered = 0
    for start, length in spans:
        if start >= covered:
            starts.append(start)
            covered = start + length
    return starts


def _date_matches(text: str) -> list[re.Match[str]]:
    """The date expressions of `text`: at each anchor, the first match from a word start at
    most `_LOOK_BACK` characters before it (or from the anchor) that runs past the anchor."""
    found: list[re.Match[str]] = []
    covered = 0
    starters: list[int] = []  # the word starts a date expression can begin at, before `scanned`
    scanned = 0
    tried: dict[int, re.Match[str] | None] = {}  # windows overlap: each start is tried once
    for at in _anchors(text):  # in order
        if at < covered:
            continue
        low = max(covered, at - _LOOK_BACK)
        for m in _WORD_START.finditer(text, max(low, scanned), at):
            start = m.start()
            if text[start : start + 3] in _STARTER_SLICES or text[start].isdigit():
                starters.append(start)
        scanned = at
        for start in (*starters[bisect_left(starters, low) :], at):
            match = tried.get(start, _UNTRIED)
            if match is _UNTRIED:
                match = tried[start] = _date_at(text, start)
            if match and match.end() > at:
                found.append(match)
                covered = match.end()
                break
    return found


_UNTRIED = object()


def _dates(sentence: str, published: date, fiscal: _Fiscal) -> list[_Date]:
    found: list[_Date] = []
    for match in _date_matches(sentence):
        fiscal_end = fiscal.end_month() if _names_fiscal(match.group()) else None
        window = _resolve(match, published, fiscal_end)
        if window is None:
            continue
        start, end = match.span()
        if found:
            between = sentence[found[-1].end : start]
            joined = _JOIN.fullmatch(between) or (
                between.strip().lower() == "and" and _BETWEEN.search(sentence[: found[-1].start])
            )
            if joined:
                found.append(_joined(found.pop(), window, end, sentence))
                continue
        found.append(_Date(start, end, window, match.group()))
    return found


def _names_fiscal(text: str) -> bool:
    return "iscal" in text or "FY" in text or "fy" in text


def _joined(previous: _Date, window: _Window, end: int, sentence: str) -> _Date:
    """ "Q4 2025 or Q1 2026": one window from the first's start to the second's end; a first part
    without a year takes the second's ("late Q2 or early Q3 2007")."""
    first = previous.window
    if first.yearless and not window.yearless:
        first = first.shifted(window.start.year - first.start.year)
        if first.start > window.start:
            first = first.shifted(-1)
    merged = _Window(
        min(first.start, window.start),
        max(first.end, window.end),
        "range",
        first.yearless and window.yearless,
    )
    return _Date(previous.start, end, merged, sentence[previous.start : end])


# --- What the sentence says about the date ---------------------------------------------------

_I = re.IGNORECASE
# A plan, an expectation or a schedule: the event lies ahead.
_CUE = re.compile(
    r"\b(?:expect\w*|anticipat\w*|plan(?:s|ned|ning)?|intend\w*|will|shall|scheduled|on\s+(?:track|"
    r"target|schedule|course)|target(?:s|ed|ing)?|goal|set\s+for|slated|aim(?:s|ing)?\s+to|upcoming|"
    r"project(?:s|ed)|estimated|guid(?:ance|ing)|look(?:s|ing)?\s+forward|due|to\s+be\s+(?:held|"
    r"presented|released|reported|announced|hosted|submitted|filed|initiated|completed|made|"
    r"given)|(?:is|are)\s+being|forthcoming|next|could|should|would|(?-i:may)|remains?\s+on|poised|"
    r"prepar\w*\s+to)\b",
    _I,
)
# Not plans: "as planned" looks back; "target action date", "goal date" name the event.
_AS_PLANNED = re.compile(
    r"\bas\s+(?:previously\s+)?(?:planned|expected|anticipated|scheduled|guided|projected)\b|"
    r"\b(?:target(?:ed)?|goal)\s+(?:action\s+)?date\b",
    _I,
)
_AS_PLANNED_WORDS = (
    (("planned", "expected", "anticipated", "scheduled", "guided", "projected"),),
    (("date",), ("target", "goal")),
)


def _as_planned_out(text: str) -> str:
    """`text` with the looks back ("as planned") and the names of dates blanked out."""
    if not _may_hold(_lower(text), _AS_PLANNED_WORDS):
        return text
    return _AS_PLANNED.sub(" ", text)


# "The PDUFA date was September 15": the clause puts the date in the past.
_WAS = re.compile(r"\b(?:was|were|had\s+been)\s+(?:on\s+|in\s+)?(?:the\s+)?$", _I)
# A date that no longer holds: "originally expected in Q1", "extended from March 15, 2026".
_STALE = re.compile(
    r"(?:\b(?:originally|previously|initially|formerly|original|previous)\b"
    r"(?:\s+\S+){0,5}\s*|\b(?:was|were|had\s+been)\s+(?:\w+\s+)?(?:expected|anticipated|"
    r"scheduled|planned|guided|projected|set|due)\b(?:\s+\S+){0,5}\s*|\bfrom\s+(?:the\s+)?)$",
    _I,
)
_STALE_WORDS = (
    (("original", "previous", "initial", "former", "from"),),
    (
        ("was", "were", "been"),
        ("expected", "anticipated", "scheduled", "planned", "guided", "projected", "set", "due"),
    ),
)
# "open until May 22", "expires on": the end of a state, no event (but "not until Q3": at Q3).
_UNTIL = re.compile(r"\b(?:until|till|through|thru|expir\w*(?:\s+on)?)\s+(?:the\s+)?$", _I)
_NOT = re.compile(r"\bnot\b|n['’]t\b", _I)
_CHANGE = re.compile(
    r"\b(?:extend|delay|postpon|mov|push|revis|chang|shift|updat|accelerat|reschedul|adjourn)\w*",
    _I,
)
# An event verb in the past: the clause reports, it does not announce.
_PAST = re.compile(
    r"\b(?:was|were|had|has\s+been|have\s+been|held|hosted|presented|reported|announced|completed|"
    r"initiated|commenced|started|began|received|submitted|filed|dosed|enrolled|achieved|met|took|"
    r"granted|approved|accepted|published|conducted|concluded|finished|closed|signed)\b",
    _I,
)
# A date that names the period a report covers: "first quarter 2026 results", "year ended".
_PERIOD_AFTER = re.compile(
    r"^\s*(?:and\s+(?:the\s+)?(?:full[\s-]+|fiscal\s+)?year\s+(?:(?:19|20)\d\d\s+)?)?(?:,\s*)?"
    r"(?:financial\s+|operating\s+|fiscal\s+|unaudited\s+)?(?:results|earnings|revenues?|sales|net\s+(?:loss|income)|report|"
    r"ended|financials|10-[QK]|conference\s+call|earnings\s+call)\b",
    _I,
)
_PERIOD_BEFORE = re.compile(
    r"(?:\b(?:ended|ending|for|in|of|during)\s+(?:the\s+)?(?:fiscal\s+)?(?:year\s+|quarter\s+|"
    r"period\s+|three\s+months\s+|six\s+months\s+|nine\s+months\s+)?(?:ended|ending)\s+|"
    r"(?:revenues?|sales|loss|income|earnings|cash|expenses)\s+(?:\w+\s+){0,2}"
    r"(?:for|in|of|during|as\s+of)\s+(?:the\s+|its\s+)?|"
    r"\bresults\s+(?:for|of)\s+(?:the\s+|its\s+)?|\bas\s+of\s+)$",
    _I,
)
_PERIOD_BEFORE_WORDS = (
    (("end", "revenue", "sales", "loss", "income", "earnings", "cash", "expenses", "results"),),
    (("as",), ("of",)),
)
# Forward-looking-statement legalese that sits among the news without a heading.
_LEGALESE = re.compile(
    r"forward[\s-]+looking|safe\s+harbor|risks?\s+and\s+uncertaint|undue\s+reliance|"
    r"Private\s+Securities\s+Litigation|cautionary\s+(?:note|statement)",
    _I,
)
_LEGALESE_WORDS = ((("forward", "harbor", "uncertaint", "undue", "litigation", "cautionary"),),)
# "Anticipated milestones:", "2026 outlook": the lines that follow list plans without verbs.
_MILESTONE_HEADING = re.compile(
    r"(?:upcoming|anticipated|expected|planned|near[\s-]term|key|future|remaining|\d{4})\s+"
    r"(?:\S+\s+){0,3}?(?:milestones?|catalysts?|events?)|\boutlook\b|"
    r"milestones?\s+(?:for|in|expected|anticipated|include)",
    _I,
)

_APPLICATION = r"(?:NDA|BLA|MAA|IND|CTA|sNDA|sBLA|ANDA|PMA|510\(k\)|EUA|De\s+Novo)"
_AGENCY = (
    r"(?:FDA|EMA|CHMP|European\s+Commission|EC|agency|regulators?|Health\s+Canada|PMDA|MHRA|NMPA|"
    r"Food\s+and\s+Drug)"
)
_GAP = r"(?:\S+\s+)"  # one word and the space after it
# The events, each by the words an analyst reads it from. A date is given the event named
# nearest before it in its clause (see `_kind`).
_KIND_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "pdufa",
        (
            r"\b(?:PDUFA|GDUFA|BsUFA)\b",
            r"user\s+fee\s+goal",
            r"(?:target|goal)\s+(?:action\s+)?date",
            r"\baction\s+date",
        ),
    ),
    (
        "adcom",
        (
            r"advisory\s+committee",
            r"\bad\s?comm?\b",
            r"\bODAC\b",
            r"panel\s+(?:meeting|review)",
        ),
    ),
    (
        "first_patient",
        (
            r"\bfirst\s+(?:patients?|subjects?|participants?|cohort|dos(?:e|ing))\b",
            rf"\b(?:begin|start|commenc|initiat)\w*\s+{_GAP}{{0,2}}?(?:dosing|treating|infusion)",
            r"\bdos(?:e|ing)\s+(?:the\s+|its\s+)?first",
            r"\b(?:commenc|begin|start)\w*\s+receiving",
            r"\band\s+dosing\b",
            r"\binfusion\s+of\s+the\s+first",
            rf"\bdosing\s+{_GAP}{{0,8}}?(?:to\s+)?(?:begin|start|commence|initiate)",
        ),
    ),
    (
        "enrollment_complete",
        (
            rf"\b(?:complet|finish|conclud|clos)\w*\s+{_GAP}{{0,3}}?"
            r"(?:enrol(?:l)?ment|randomi[sz]ation|recruitment|accrual)",
            rf"\b(?:enrol(?:l)?ment|randomi[sz]ation|recruitment|accrual)\s+{_GAP}{{0,8}}?"
            r"(?:complet|finish|conclu|clos)\w*",
            r"\bfull(?:y)?\s+enrol(?:l)?(?:ed|ment)",
            r"\blast\s+(?:patient|subject)s?\s+(?:enrolled|randomi[sz]ed|in\b|dosed)",
        ),
    ),
    (
        "interim_data",
        (
            rf"\binterim\s+{_GAP}{{0,2}}?(?:data|results?|analys[ie]s|readout|look)",
            rf"\b(?:initial|preliminary|early|first)\s+{_GAP}{{0,2}}?(?:data|results|readout)\b",
        ),
    ),
    (
        "topline",
        (
            r"\btop[\s-]?line\b",
            r"\bread[\s-]?outs?\b",
            r"\b(?:final|full|primary|pivotal|efficacy|clinical|study|trial|phase\s+\w+|safety)\s+"
            rf"{_GAP}?(?:data|results)\b",
            r"\b(?:data|results)\s+(?:from|of)\s+(?:the|its|our|this|both|these)\b",
            rf"\breport\w*\s+{_GAP}{{0,2}}?(?:data|results)\b",
            r"\b(?:these|the|such)\s+data\s+(?:are|is|will|would|to\s+be)\b",
            r"\bdata\s+(?:are|is)\s+(?:expected|anticipated|due)",
        ),
    ),
    (
        "submission",
        (
            r"\b(?:submi(?:t|ts|tted|tting|ssion)|(?:re)?fil(?:e|es|ed|ing))\b(?:\s+\S+){0,8}?\s+\(?"
            rf"(?:{_APPLICATION}|{_GAP}?applications?|dossier|marketing\s+authori[sz]ation)\b",
            rf"\b(?:{_APPLICATION}|applications?)\s+{_GAP}{{0,3}}?(?:submission|filing|resubmission)\b",
            r"\bfiling\s+date\b",
            r"\brolling\s+submission",
        ),
    ),
    (
        "regulatory_decision",
        (
            r"\bapprov(?:al|e|ed)\b",
            rf"\b(?:regulatory|marketing|{_AGENCY})\s+{_GAP}?(?:decision|opinion|action)\b",
            rf"\b(?:decision|opinion|action)\s+(?:from|by|of)\s+(?:the\s+)?{_AGENCY}",
            rf"\bdecision\s+on\s+(?:the\s+|its\s+|our\s+)?{_GAP}{{0,3}}?"
            r"(?:application|NDA|BLA|MAA|approval)",
            r"\bclearance\b",
            r"\bCHMP\b",
        ),
    ),
    (
        "earnings_call",
        (
            r"\b(?:financial|operating|quarterly|annual|year[\s-]end|full[\s-]year|fiscal|quarter)\s+"
            rf"{_GAP}{{0,2}}?results\b",
            rf"\bresults\s+for\s+(?:the\s+|its\s+)?{_GAP}{{0,3}}?(?:quarter|year|period)\b",
            r"\bearnings\b",
        ),
    ),
    (
        "other",
        (
            r"\b(?:annual|special|extraordinary)\s+(?:general\s+)?meeting\s+of\s+(?:stock|share)holders",
            r"\b(?:stock|share)holders['’]?\s+meeting",
            r"\bannual\s+(?:general\s+)?meeting\b(?!\s+(?:of\s+the|and|&))",
            r"\b(?:conference|earnings)\s+call",
            r"\bwebcast",
            r"\bteleconference",
            rf"\b(?:KOL|investor|analyst|R&D)\s+{_GAP}?(?:event|symposium|day|webinar|meeting)",
            r"\bwebinar",
            r"\bfireside\s+chat",
            r"\b(?:end[\s-]of[\s-]phase\s*\w*|pre[\s-]?(?:NDA|BLA|IND)|type\s+[ABC]|scientific\s+advice)"
            r"\s+meeting",
            r"\bmeet(?:ing)?\s+with\s+(?:the\s+)?(?:FDA|EMA|agency|regulators)",
            rf"\bcomplet\w*\s+(?:the\s+|its\s+|our\s+|this\s+)?{_GAP}{{0,5}}?(?:trial|study)\b",
            rf"\b(?:trial|study)\s+{_GAP}{{0,4}}?(?:complet\w*|conclu\w*)",
        ),
    ),
    (
        "presentation",
        (
            r"\bpresent(?:ed|s|ing|ation|ations)?\b",
            r"\bposters?\b",
            r"\boral\s+session",
            r"\babstracts?\b",
            r"\blate[\s-]breaking",
            # A scientific meeting by its capitalised name, not the company's annual meeting.
            r"(?-i:\b(?!The\b)[A-Z][\w&.-]*\s+(?:Annual|Scientific)\s+(?:Meeting|Sessions?|Congress)\b)"
            r"(?!\s+of\s+(?:[Ss]tock|[Ss]hare)holders)",
            r"(?-i:\bCongress\b|\bSymposium\b|\bConference\b(?!\s+[Cc]all)|\bSummit\b)",
        ),
    ),
    (
        "trial_start",
        (
            rf"\b(?:initiat|start|begin|began|commenc|launch|open)\w*\s+{_GAP}{{0,6}}?"
            r"(?:trials?|stud(?:y|ies)|enrol(?:l)?(?:ment|ing)|recruit\w*|accrual|program)\b",
            rf"\b(?:trials?|stud(?:y|ies)|enrol(?:l)?ment|enrolling|recruitment|accrual)\s+{_GAP}{{0,8}}?"
            r"(?:to\s+|will\s+)?(?:begin|start|commence|initiat\w*|open)\b",
            r"\binitiation\b",
            r"\b(?:trial|study)\s+start",
        ),
    ),
)
# What every match of a kind's patterns holds, lower case (see `_may_hold`): one of several
# alternatives, each some sets of words with a word of each set in the text.
_KIND_WORDS: dict[str, tuple[tuple[tuple[str, ...], ...], ...]] = {
    "pdufa": ((("ufa", "user"),), (("date",), ("target", "goal", "action"))),
    "adcom": (
        (("advisory",), ("committee",)),
        (("ad",), ("com",)),
        (("odac",),),
        (("panel",), ("meeting", "review")),
    ),
    "first_patient": ((("first", "dosing", "treating", "infusion", "receiving"),),),
    "enrollment_complete": ((("enrol", "randomi", "recruitment", "accrual", "last"),),),
    "interim_data": ((("interim", "data", "results", "readout"),),),
    "topline": ((("line", "read", "data", "results"),),),
    "submission": ((("submi", "fil"),),),
    "regulatory_decision": ((("approv", "decision", "opinion", "action", "clearance", "chmp"),),),
    "earnings_call": ((("results", "earnings"),),),
    "other": (
        (("holders", "webcast", "teleconference", "webinar", "fireside"),),
        (("annual",), ("meeting",)),
        (("call",), ("conference", "earnings")),
        (("kol", "investor", "analyst", "r&d"),),
        (("meeting",), ("phase", "pre", "type", "scientific")),
        (("meet",), ("fda", "ema", "agency", "regulators")),
        (("complet", "conclu"), ("trial", "study")),
    ),
    "presentation": (
        (
            (
                "present",
                "poster",
                "session",
                "abstract",
                "breaking",
                "meeting",
                "congress",
                "symposium",
                "conference",
                "summit",
            ),
        ),
    ),
    "trial_start": ((("trial", "stud", "enrol", "recruit", "accrual", "program", "initiation"),),),
}
_KIND_RE = tuple(
    (kind, re.compile("|".join(forms), _I), _KIND_WORDS[kind]) for kind, forms in _KIND_PATTERNS
)
# Read only where nothing more telling is near: a launch follows an approval ("approval and
# launch by early 2019"), and "the meeting" names the meeting the release is about.
_WEAK_KIND_RE = (
    (
        "other",
        re.compile(r"\b(?:commercial\s+)?launch|\bthe\s+meeting\b", _I),
        ((("launch", "meeting"),),),
    ),
    (
        "topline",
        re.compile(r"\b(?:data|results|read[\s-]?outs?|read\s+out)\b", _I),
        ((("data", "results", "read"),),),
    ),
)
# Where two readings overlap, the more specific one wins ("first cohort ... will begin" is a
# first patient, "complete enrollment in the study" an enrolment completion).
_SPECIFIC = {
    kind: rank
    for rank, kind in enumerate(
        (
            "pdufa",
            "adcom",
            "first_patient",
            "enrollment_complete",
            "interim_data",
            "submission",
            "earnings_call",
            "topline",
            "regulatory_decision",
            "presentation",
            "trial_start",
            "other",
        )
    )
}
_CALL = re.compile(r"\b(?:conference\s+call|webcast|teleconference|earnings\s+call)", _I)
_RESULTS = re.compile("|".join(dict(_KIND_PATTERNS)["earnings_call"]), _I)

# --- Programs, trials, phases ----------------------------------------------------------------

# Development codes: letters and digits, at least two capitals and three digits (or two digits in
# a hyphenated code): SGX942, CLR 131, GR-MD-02, NX-1207, I-124-CLR1404, PH94B.
_CODE = re.compile(
    r"(?<![\w-])(?:[A-Z](?:[A-Za-z]{0,5})?-?\d{0,3}-?)?[A-Z][A-Za-z]{0,5}[-\s]?\d{2,6}[A-Za-z]?"
    r"(?:-\d{1,4}[A-Za-z]?)?(?![\w-])|(?<![\w-])[A-Z]{2,5}-[A-Z]{2,5}-?\d{2,4}(?![\w-])"
)
# Where a code can start: a capital with a digit at most 15 characters on, after letters, spaces
# and hyphens only (the most either form of `_CODE` puts before its first digit). Its search
# skips to the next capital in C; `_CODE` itself, which opens on a look-behind, is tried at
# every character (about 100 ns each), so `_codes` tries it only at these few places.
_CODE_START = re.compile(r"[A-Z](?=[A-Za-z\s-]{0,14}\d)")
_YEAR_SUFFIX = re.compile(r"\s(?:19|20)\d\d$")  # "ESMO 2025" names a meeting
_NOT_CODE = re.compile(
    r"^(?:COVID|SARS|MERS|NCT|ISO|FY|CY|Q[1-4]|H[12]|Phase|PHASE|Form|Rule|Section|Item|Grant|"
    r"Patent|No|Nos|Study|Trial|Cohort|Day|Week|Month|Year|Part|Title|Class|Level|Stage|Type|"
    r"Grade|Suite|Route|Unit|Room|Box|Floor|Exhibit|Dose|Arm|GMT|EST|EDT|PST|PDT|CET|CEST|AM|PM)\b"
)
# International non-proprietary names end in stems that mark the class of drug: a word of
# letters, at least four before the stem, the first of either case and the rest lower case.
_INN_STEMS = tuple(
    "mab nib ciclib parib lisib zomib rsen siran tide cept platin taxel rubicin mycin cycline "
    "oxacin azole peridone sartan gliptin gliflozin caftor setron triptan dronate fungin bactam "
    "penem cillin relin relix xaban gatran parin grastim poetin leucel lecel imod olimus "
    "pristone xifen icline icam navir previr buvir asvir tegravir denoson uracil adenant sertib "
    "metinib degib lutamide vec cabtagene".split()
)
# The words that can be one (`_inn_names` tests their ends): trying every stem after every
# length of a word, as one pattern does, costs tens of nanoseconds a character.
_INN_WORD = re.compile(r"\b[A-Za-z][a-z]{6,}\b")
# The stems by their last three letters (every stem has three or more): one look-up a word
# instead of `endswith` with each stem.
_INN_STEMS_BY_END: dict[str, tuple[str, ...]] = {}
for _stem in _INN_STEMS:
    _INN_STEMS_BY_END[_stem[-3:]] = (*_INN_STEMS_BY_END.get(_stem[-3:], ()), _stem)
del _stem
_NOT_INN = frozenset(
    "peptide peptides nucleotide polypeptide oligonucleotide dipeptide concept except accept "
    "intercept decline incline recline riptide interception".split()
)
# Names under a trademark sign: Rekynda™, MultiStem(R), Proellex®, HyBryte™.
_MARKED = re.compile(r"\b([A-Z][A-Za-z0-9-]{2,}?)\s?(?:™|®|\((?:R|TM)\)|(?<=[a-z])TM\b)")
# The object of an application or approval is the program: "the NDA for cytisinicline".
_APPLICATION_FOR = re.compile(
    r"\b(?:NDA|BLA|MAA|sNDA|sBLA|IND|CTA|[Aa]pplication|[Aa]pproval)\s+(?:for|of)\s+"
    r"([A-Za-z][\w-]{3,})(?=[\s,.;:)]|$)"
)
# What every match of _MARKED and _APPLICATION_FOR holds (case as written).
_MARKED_WORDS = ("™", "®", "(R)", "TM")
_APPLICATION_FOR_WORDS = ("NDA", "BLA", "MAA", "IND", "CTA", "pplication", "pproval")
_NOT_PROGRAM = frozenset(
    "the its our their this that these a an use treatment patients marketing priority "
    "accelerated full conditional review clinical additional".split()
)
_PHASE = re.compile(
    r"\b[Pp]hase\s*(1|2|3|4|IV|I{1,3})([abcABC])?(?:\s*(?:/|-|–|and|to)\s*(1|2|3|4|IV|I{1,3})"
    r"([abcABC])?)?(?![A-Za-z0-9])"
)
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}
# A trial name: capitals (with digits or hyphens) right before "trial"/"study" (a parenthesised
# expansion may sit between) or right after "Phase N".
_TRIAL = re.compile(
    r"\b([A-Z][A-Z0-9]{2,}(?:-[A-Z0-9]+)*)\b(?:\s*\([^)]{0,120}\))?\s+(?:[Pp]hase\s+\S+\s+)?"
    r"(?:clinical\s+)?(?:trials?|stud(?:y|ies)|Trials?|Stud(?:y|ies)|program)\b"
)
_NOT_TRIAL = frozenset(
    "FDA EMA NDA BLA IND MAA CTA FSD HSDD CTCL AML NSCLC HCC MDD SAD BPH ALS IPF NASH HIV RSV "
    "COVID USA EU CRO DMC IDMC DSMB SPA PDUFA KOL ARDS OM HNC GVHD MS RRMS AMD CKD AVF UC IBD "
    "NIH NCI NIAID BARDA DOD SBIR CIRM PHASE THE AND FOR".split()
)


def _programs(text: str) -> list[tuple[int, str]]:
    found = (
        [(m.start(), m.group(1)) for m in _MARKED.finditer(text)]
        if _holds_one(text, _MARKED_WORDS)
        else []
    )
    if _holds_one(text, _APPLICATION_FOR_WORDS):
        found += [
            (m.start(1), m.group(1))
            for m in _APPLICATION_FOR.finditer(text)
            if m.group(1).lower() not in _NOT_PROGRAM
        ]
    found += _inn_names(text)
    for m in _codes(text):
        code = m.group()
        letters = sum(c.isalpha() for c in code)
        digits = sum(c.isdigit() for c in code)
        capitals = sum(c.isupper() for c in code)
        if _NOT_CODE.match(code) or capitals < 2 or _YEAR_SUFFIX.search(code):
            continue
        if digits >= 3 or (digits == 2 and letters >= 3 and "-" in code):
            found.append((m.start(), code))
    return sorted(found)


def _inn_names(text: str) -> list[tuple[int, str]]:
    """(start, name) of each word of `text` that ends in a stem with four letters or more
    before it (`_INN_STEMS`), and is no common word ("peptide", "concept")."""
    found = []
    for match in _INN_WORD.finditer(text):
        word = match.group()
        stems = _INN_STEMS_BY_END.get(word[-3:])
        if (
            stems
            and any(word.endswith(stem) and len(word) >= len(stem) + 4 for stem in stems)
            and word.lower() not in _NOT_INN
        ):
            found.append((match.start(), word))
    return found


def _codes(text: str) -> list[re.Match[str]]:
    """`_CODE.finditer(text)`, cheaper: the pattern is tried only where `_CODE_START` finds a
    code may start (every match starts at one of those places)."""
    found = []
    position = 0
    while candidate := _CODE_START.search(text, position):
        match = _CODE.match(text, candidate.start())
        if match:
            found.append(match)
            position = match.end()
        else:
            position = candidate.start() + 1
    return found


def _phase(text: str) -> str | None:
    match = _PHASE.search(text)
    if not match:
        return None
    first, first_letter, second, second_letter = match.groups()
    phase = _ROMAN.get(first, first) + (first_letter or "").lower()
    if second:
        phase += "/" + _ROMAN.get(second, second) + (second_letter or "").lower()
    return phase


def _trial(text: str) -> str | None:
    for match in _TRIAL.finditer(text):
        name = match.group(1)
        if name not in _NOT_TRIAL and not _PHASE.match(name) and not name.isdigit():
            return name
    return None


# --- The fiscal year a release defines -------------------------------------------------------

_FISCAL_YEAR_END = re.compile(
    rf"\b(?:fiscal\s+)?year\s+(?:end(?:s|ed|ing)?|that\s+ends)\s+(?:on\s+)?{_mon('fy_mon')}", _I
)
_FISCAL_QUARTER_END = re.compile(
    rf"\b(?P<fq_word>{_QWORD})\s+(?:fiscal\s+)?quarter\s+(?:of\s+)?(?:fiscal\s+(?:year\s+)?"
    rf"(?:\d{{4}}\s+)?)?,?\s*(?:ended|ending)\s+{_mon('fqe_mon')}",
    _I,
)


def _fiscal_year_end(text: str) -> int | None:
    """The month the release's fiscal year ends in, where it says so."""
    if "fiscal" not in text.lower() and "FY" not in text:
        return None
    match = _FISCAL_YEAR_END.search(text)
    if match:
        return _month_number(match.group("fy_mon"))
    match = _FISCAL_QUARTER_END.search(text)
    if match:
        quarter = _QNUM[match.group("fq_word").lower()]
        return (_month_number(match.group("fqe_mon")) + 3 * (4 - quarter) - 1) % 12 + 1
    return None


# --- Extraction ------------------------------------------------------------------------------


def extract_catalysts(
    title: str, text: str, published: date, news_end: int | None = None
) -> tuple[Catalyst, ...]:
    """Every upcoming event the release's news names with a date, in reading order.

    Only the news is read (the headline, the lines above the dateline, the body up to the
    boilerplate, cut where `sections.split_release` cuts), and only the sentences that hold a
    date not yet past are split out and read closely.
    """
    title = " ".join((title or "").split())
    raw = text or ""
    text = raw.replace("\r\n", "\n").replace("\xa0", " ").replace("\\$", "$")
    # `news_end` (where classify's sections found the boilerplate) holds for this text only
    # when the clean-up above moved nothing.
    release = _Release(title, text, published, news_end if len(text) == len(raw) else None)
    found: list[Catalyst] = []
    for sentence, zone, position in release.candidate_sentences():
        dates = _dates(sentence, published, release.fiscal)
        if not dates or (
            _may_hold(_lower(sentence), _LEGALESE_WORDS) and _LEGALESE.search(sentence)
        ):
            continue
        for index in range(len(dates)):
            catalyst = _catalyst(sentence, dates, index, release, zone, position)
            if catalyst:
                found.append(catalyst)
    return _dedupe(found)


class _Release:
    """The parts of a release the extractor reads, each worked out once and only when needed."""

    def __init__(self, title: str, text: str, published: date, news_end: int | None = None) -> None:
        self.title, self.text, self.published = title, text, published
        self.fiscal = _Fiscal(text)
        dateline = _find_dateline(text)
        self.header_end = dateline.start() if dateline else 0
        self.body_start = dateline.end() if dateline else 0
        self.news_end = news_end if news_end is not None else _news_end(text, self.body_start)
        self._main_program: list[str | None] = []

    def candidate_sentences(self) -> list[tuple[str, str, int]]:
        """(sentence, zone, position in the text) of each sentence holding a date that has not
        passed, or may not have (no year given); the headline's position is -1."""
        sentences: list[tuple[str, str, int]] = []
        if self._upcoming(self.title):
            sentences.append((self.title, HEADLINE, -1))
        header = self.text[: self.header_end]
        if self._upcoming(header):
            position = 0
            for line in _header_lines(header):
                sentences += [(s, SUBHEAD, position) for s in split_sentences(line)]
        body = self.text[self.body_start : self.news_end]
        seen: set[int] = set()
        block_spans: dict[int, list[tuple[int, int]]] = {}
        for start in self._upcoming(body):
            block_start = body.rfind("\n\n", 0, start)
            block_start = 0 if block_start < 0 else block_start + 2
            block_end = body.find("\n\n", start)
            block = body[block_start : block_end if block_end >= 0 else len(body)]
            spans = block_spans.get(block_start)
            if spans is None:  # a paragraph with several dates is cut once
                spans = block_spans[block_start] = _sentence_spans(block)
            for a, b in spans:
                if a <= start - block_start < b and block_start + a not in seen:
                    seen.add(block_start + a)
                    sentence = " ".join(_BULLET.sub("", block[a:b]).split())
                    sentences.append((sentence, BODY, self.body_start + block_start + a))
        return sentences

    def _upcoming(self, text: str) -> list[int]:
        """Where `text` names a date whose window has not ended before publication."""
        found = []
        for match in _date_matches(text):
            window = _resolve(match, self.published, None)
            if window is not None and (window.end >= self.published or window.yearless):
                found.append(match.start())
        return found

    @property
    def main_program(self) -> str | None:
        """The program the release is about: the first named in the headline or the lines above
        the dateline, else in the first lines of the body."""
        if not self._main_program:
            program = None
            for part in (
                self.title,
                self.text[: self.header_end],
                self.text[self.body_start : min(self.body_start + 700, self.news_end)],
            ):
                programs = _programs(part)
                if programs:
                    program = programs[0][1]
                    break
            self._main_program.append(program)
        return self._main_program[0]

    def under_milestone_heading(self, position: int) -> bool:
        """Whether one of the few lines above `position` heads a list of plans ("Anticipated
        milestones:", "2026 outlook"), whose items need no verb to speak of the future."""
        if position < 0:
            return False
        lines = self.text[max(0, position - 500) : position].split("\n")[-10:]
        for line in reversed(lines):
            line = line.strip()
            if not line:
                continue
            if (
                _may_head_milestones(line)
                and _MILESTONE_HEADING.search(line)
                and (line.endswith(":") or len(line.split()) <= 8)
            ):
                return True
        return False


def _news_end(text: str, body_start: int) -> int:
    """Where the boilerplate starts (About sections, forward-looking statements, contacts), as
    `sections.split_release` finds it."""
    floor = body_start + 80
    heading = _HEADING.search(text, floor)
    end = heading.start() if heading else len(text)
    inline = _INLINE_HEADING.search(text, floor, end)
    while inline and not text[inline.start() - 1].isspace():
        inline = _INLINE_HEADING.search(text, inline.start() + 1, end)
    if inline:
        end = inline.start()
    description = _description_start(text[:end], body_start)
    return end if description is None else min(end, description)


def _may_head_milestones(text: str) -> bool:
    return "ilestone" in text or "atalyst" in text or "utlook" in text or "vents" in text


class _Fiscal:
    """The month the release's fiscal year ends in, read once and only when a fiscal date needs
    it."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._end: int | None = None
        self._read = False

    def end_month(self) -> int | None:
        if not self._read:
            self._end, self._read = _fiscal_year_end(self._text), True
        return self._end


def _catalyst(
    sentence: str, dates: list[_Date], index: int, release: _Release, zone: str, position: int
) -> Catalyst | None:
    """The catalyst that the index-th date of the sentence dates, if it dates one."""
    published = release.published
    current = dates[index]
    window = current.window
    if window.end < published and not window.yearless:
        return None  # over before the release: not upcoming (tested first: it is cheap)
    # The clause around the date: back to the previous date or semicolon, on to the next comma,
    # semicolon or conjunction (or, after "In Q3 2026,", over the main clause that follows).
    left_start = dates[index - 1].end if index else 0
    right_end = dates[index + 1].start if index + 1 < len(dates) else len(sentence)
    left = sentence[left_start : current.start]
    left = left[left.rfind(";") + 1 :]
    after = sentence[current.end : right_end]
    if after.lstrip().startswith(","):
        rest = after.lstrip()[1:]
        stop = re.search(r"[;.]|,\s", rest)
    else:
        rest = after
        stop = re.search(r"[;,]|\s(?:and|while|but|whereas)\s", rest)
    right = rest[: stop.start()] if stop else rest
    tail = left[-80:]
    lower_tail = _lower(tail)
    if _PERIOD_AFTER.match(after) or (
        _may_hold(lower_tail, _PERIOD_BEFORE_WORDS) and _PERIOD_BEFORE.search(tail)
    ):
        return None  # "first quarter 2026 results", "the quarter ended June 30": a period
    if _UNTIL.search(tail) and not _NOT.search(left):
        return None  # "voting will be open until May 22": the end of a state, not an event
    if (
        _may_hold(lower_tail, _STALE_WORDS)
        and _STALE.search(tail)
        and (_CHANGE.search(sentence) or not tail.rstrip().endswith("from"))
    ):
        return None  # "originally expected in", "extended ... from March 15": no longer holds
    if _WAS.search(tail):
        return None
    kind = _kind(left, right, sentence, release.title, sentence[: current.start])
    if kind is None:
        return None
    rolled = False
    if window.end < published:  # yearless (see above)
        window, rolled = window.shifted(1), True  # "the first quarter", said in November
    plain = _as_planned_out(left)
    cue = bool(_CUE.search(plain)) or (
        len(left.split()) <= 3 and bool(_CUE.search(_as_planned_out(right)))
    )
    if not cue and not (zone == BODY and release.under_milestone_heading(position)):
        if rolled or window.yearless:
            return None  # "In the fourth quarter, we completed ...": no year, no plan
        # A date wholly after the release is ahead whatever the verb ("presented by Dr. X on
        # February 13"); a PDUFA or panel date in the current period is, unless said to be past.
        future = window.start > published
        intrinsic = kind in ("pdufa", "adcom") and not _PAST.search(plain)
        if not (future or intrinsic):
            return None
    programs = _programs(sentence)
    return Catalyst(
        kind=kind,
        program=_nearest(programs, current.start) or release.main_program,
        trial=_trial(sentence),
        phase=_phase(sentence[left_start:right_end]) or _phase(sentence),
        date_text=_with_lead_in(sentence, current),
        window_start=window.start.isoformat(),
        window_end=window.end.isoformat(),
        precision=window.precision,
        evidence=sentence if len(sentence) <= 600 else sentence[:597] + "...",
    )


def _with_lead_in(sentence: str, found: _Date) -> str:
    lead = _DEADLINE.search(sentence, max(0, found.start - 20), found.start)
    start = lead.start() if lead and lead.end() == found.start else found.start
    return " ".join(sentence[start : found.end].split()).rstrip(".,")


def _kind(left: str, right: str, sentence: str, headline: str, whole_left: str) -> str | None:
    """The event the clause dates: the event named nearest before the date, else just after
    it, else anywhere before it in the sentence ("Topline data, previously expected in 1H 2026,
    are now expected in 2H 2026")."""
    hits: list[tuple[int, int, str]] = []  # (start, end, kind) in the left context
    lower = _lower(left)
    for kind, pattern, words in _KIND_RE:
        if _may_hold(lower, words):
            for match in pattern.finditer(left):
                hits.append((match.start(), match.end(), kind))
    if not hits and len(left.split()) <= 3:  # "In the second half of 2026, we plan to ..."
        lower_right = _lower(right)
        for kind, pattern, words in _KIND_RE:
            match = pattern.search(right) if _may_hold(lower_right, words) else None
            if match:
                hits.append((-match.start(), -match.start() + 1, kind))
    if not hits:
        weak = [
            (match.end(), kind)
            for kind, pattern, words in _WEAK_KIND_RE
            if _may_hold(lower, words)
            for match in pattern.finditer(left)
        ]
        if weak:
            return max(weak)[1]
        if whole_left is not left:
            return _kind(whole_left, "", sentence, headline, whole_left)
        return None
    kinds = {kind for _, _, kind in hits}
    for intrinsic in ("pdufa", "adcom"):
        if intrinsic in kinds:
            return intrinsic
    nearest = max(hits, key=lambda h: (h[1], -_SPECIFIC[h[2]]))
    overlapping = [h for h in hits if h[0] < nearest[1] and nearest[0] < h[1]]
    kind = min(overlapping, key=lambda h: _SPECIFIC[h[2]])[2]
    if kind == "trial_start" and "first_patient" in kinds:
        kind = "first_patient"
    if kind == "topline" and "interim_data" in kinds:
        kind = "interim_data"
    if kind in ("other", "earnings_call") and _CALL.search(left + " " + right):
        # A call is on results when the sentence or the headline speaks of results.
        on_results = _RESULTS.search(sentence) or _RESULTS.search(headline)
        kind = "earnings_call" if on_results else "other"
    return kind


def _nearest(programs: list[tuple[int, str]], position: int) -> str | None:
    before = [name for start, name in programs if start < position]
    if before:
        return before[-1]
    return programs[0][1] if programs else None


def _dedupe(found: list[Catalyst]) -> tuple[Catalyst, ...]:
    """One entry per event: the same kind and window said twice (headline and body) is one, and
    a window inside another of the same kind and program is the same event told more precisely
    (the congress on February 12-14, the talk on February 13)."""
    kept: list[Catalyst] = []
    for catalyst in found:
        for i, other in enumerate(kept):
            if other.kind != catalyst.kind or not _same_program(other, catalyst):
                continue
            a = (catalyst.window_start, catalyst.window_end)
            b = (other.window_start, other.window_end)
            if b[0] <= a[0] <= a[1] <= b[1]:
                kept[i] = catalyst  # the same or a narrower window: it says as much or more
                break
            if a[0] <= b[0] <= b[1] <= a[1]:
                break
        else:
            kept.append(catalyst)
    return tuple(kept)


def _same_program(a: Catalyst, b: Catalyst) -> bool:
    return not a.program or not b.program or a.program.casefold() == b.program.casefold()
