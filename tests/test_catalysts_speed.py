"""The shortcuts that make catalyst and outcome extraction cheap find what the plain scans and
searches find: checked against the plain way on real releases and on random text built from
the characters the shortcuts look at."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from monitor.classify import catalysts, outcomes
from monitor.classify.catalysts import _KIND_RE, _WEAK_KIND_RE, _anchors, _lower, _may_hold
from monitor.classify.sections import split_release
from monitor.classify.skip import first_characters, sre_parse
from tests.samples import release_texts

# The scans `_anchors` stands for, as they were written before it was made fast.
_PLAIN_SCANS = (
    re.compile(r"(?:19|20)\d\d(?!\d)"),
    re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"),
)
_PLAIN_SCANS_LOWER = (
    re.compile(r"year|quarter|half|fiscal|fy"),
    re.compile(r"q/?[1-4]|[1-4][qh]|h[12]"),
)


def plain_anchors(text: str) -> list[int]:
    found: list[int] = []
    for scan in _PLAIN_SCANS:
        for match in scan.finditer(text):
            at = match.start()
            if at and text[at - 1].isalnum():
                continue
            if scan is _PLAIN_SCANS[1]:
                word = match.group() + re.match(r"[a-z]*", text[match.end() :]).group()
                if word.lower() not in catalysts._MONTH_WORDS:
                    continue
            found.append(at)
    lower = text.lower()
    if len(lower) == len(text):
        for scan in _PLAIN_SCANS_LOWER:
            for match in scan.finditer(lower):
                at = match.start()
                if at and lower[at - 1].isalpha() and match.group()[0] not in "yqh":
                    continue
                found.append(at)
    found.sort()
    return found


def _texts() -> list[str]:
    return release_texts()


# Pieces the scans look for, their near misses and the characters that fold case oddly.
_PIECES = (
    "year Year YEAR yeaR quarter Quarter QUARTER half Half HALF fiscal Fiscal FISCAL fy FY Fy "
    "q1 Q2 q/3 Q/4 q/ q5 1q 4Q 1h 2H h1 H2 h3 5h 1q1 2h1 1half 2quarter fyear Fyear 19 20 1999 "
    "2026 20261 192019 Jan January Mar March Market May Dec Decision ſ ı İ K a b 7 - / , ."
).split()


def _random_texts(count: int) -> list[str]:
    rng = random.Random(14)
    texts = []
    for _ in range(count):
        parts = rng.choices(_PIECES, k=rng.randint(1, 12))
        texts.append("".join(part + rng.choice(("", "", " ", "-", "e")) for part in parts))
    return texts


def test_anchors_are_where_the_plain_scans_find_them_in_releases() -> None:
    for text in _texts():
        assert _anchors(text) == plain_anchors(text)


def test_anchors_are_where_the_plain_scans_find_them_in_odd_text() -> None:
    for text in _random_texts(20000):
        assert _anchors(text) == plain_anchors(text), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q1'26 and 1H25", [0, 10]),
        ("1q1 is one match, 2h1 another", [0, 18]),
        ("EFY 2026 and FY26", [4, 13]),  # "FY" after a letter is no anchor, "2026" is
        ("1half", [0, 1]),  # "1h" and "half": two scans, each its own
        ("fyear", [0]),  # "fy" hides "year"
        ("İn the fourth quarter", []),  # lower-casing moves the text: no word scans
    ],
)
def test_anchors_of_overlapping_matches(text: str, expected: list[int]) -> None:
    assert _anchors(text) == plain_anchors(text) == expected


def _sentences() -> list[str]:
    found = []
    for text in _texts():
        found += [s.text for s in split_release("", text).sentences]
    return found


# A phrase for each form of each kind's patterns.
_KIND_PHRASES = [
    "PDUFA", "GDUFA", "user fee goal", "target action date", "goal date", "action date",
    "advisory committee", "adcom", "ad comm", "ODAC", "panel meeting", "panel review",
    "first patient", "first cohort", "begin dosing", "start treating", "dose the first",
    "commence receiving", "and dosing", "infusion of the first", "dosing is expected to begin",
    "complete enrollment", "finish recruitment", "enrolment in the trial to be completed",
    "fully enrolled", "last patient dosed", "interim analysis", "initial data",
    "preliminary results", "topline", "top-line", "readout", "read-out", "final data",
    "phase 3 results", "data from the", "report data", "these data are", "data are expected",
    "submit an NDA", "file a BLA", "filing the marketing authorization", "NDA submission",
    "application filing", "filing date", "rolling submission", "approval", "approve",
    "regulatory decision", "FDA action", "decision from the FDA", "decision on the NDA",
    "clearance", "CHMP", "financial results", "quarterly results", "results for the quarter",
    "earnings", "annual meeting of stockholders", "shareholders' meeting",
    "annual general meeting", "conference call", "earnings call", "webcast",
    "teleconference", "KOL event", "investor day", "R&D day", "webinar", "fireside chat",
    "end-of-phase 2 meeting", "pre-NDA meeting", "Type B meeting", "scientific advice meeting",
    "meet with the FDA", "meeting with regulators", "complete the study",
    "trial is expected to complete", "study conclusion", "present", "presentation", "poster",
    "oral session", "abstract", "late-breaking", "ASCO Annual Meeting", "ESMO Congress",
    "Congress", "Symposium", "Conference", "Summit", "initiate the trial",
    "start enrollment", "open recruiting", "launch the program", "trial to begin",
    "enrollment will start", "initiation", "study start", "commercial launch", "the meeting",
    "data", "results", "read out",
]  # fmt: skip


def test_every_kind_phrase_is_read() -> None:
    kinds = {kind for kind, _, _ in (*_KIND_RE, *_WEAK_KIND_RE)}
    read = {
        kind
        for phrase in _KIND_PHRASES
        for kind, pattern, _ in (*_KIND_RE, *_WEAK_KIND_RE)
        if pattern.search(f"Acme will {phrase} soon")
    }
    assert read == kinds


def test_kind_words_rule_out_only_sentences_the_patterns_do_not_match() -> None:
    checked = 0
    phrases = [f"Acme will {phrase} soon" for phrase in _KIND_PHRASES]
    for sentence in _sentences() + phrases + [p.upper() for p in phrases] + _random_texts(2000):
        lower = _lower(sentence)
        for kind, pattern, words in (*_KIND_RE, *_WEAK_KIND_RE):
            if pattern.search(sentence):
                checked += 1
                assert _may_hold(lower, words), (kind, sentence)
    assert checked > 20


_OUTCOME_SENTENCES = [
    "FDA issues a Complete Response Letter for ACM-101",
    "Acme receives CRL",
    "FDA approves ACM-101; European Commission grants marketing authorisation",
    "The advisory committee voted 10-2",
    "CHMP adopts positive opinion",
    "Acme announces positive topline results; the trial met its primary endpoint",
    "Acme reports interim data",
    "Acme completes enrollment; recruitment is fully complete; fully enrolled",
    "First patient dosed; Acme doses first patient",
    "Acme initiates Phase 3 trial",
    "Acme submits NDA; FDA accepts for priority review the sBLA",
    "Acme reports third quarter 2025 financial results",
]


def test_outcome_words_rule_out_only_sentences_the_patterns_do_not_match() -> None:
    checked = 0
    for sentence in _sentences() + _OUTCOME_SENTENCES:
        lower = _lower(sentence)
        for label, _, pattern, needs in outcomes._OUTCOMES:
            if pattern.search(sentence):
                checked += 1
                assert lower is None or outcomes._holds_each(lower, needs), (label, sentence)
    assert checked > 5


@pytest.mark.parametrize(
    ("text", "words", "holds"),
    [
        ("Topline data", ("data",), True),
        ("TOPLINE DATA", ("data",), True),
        ("Topline results", ("data",), False),
        ("The ſtudy", ("study",), True),  # the long s matches "s" case-blind: no ruling out
        ("İnterim data", ("interim",), True),
        ("dıscussion", ("discussion",), True),
    ],
)
def test_may_hold(text: str, words: tuple[str, ...], holds: bool) -> None:
    assert _may_hold(_lower(text), ((words,),)) is holds


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("the PDUFA date", True),
        ("the target action date", True),
        ("the date of the", False),  # a date, but no target, goal or action
        ("Acme Bio Company", False),
    ],
)
def test_may_hold_needs_a_word_of_each_set(text: str, holds: bool) -> None:
    alternatives = catalysts._KIND_WORDS["pdufa"]
    assert _may_hold(_lower(text), alternatives) is holds


def test_case_traps_still_find_the_catalyst() -> None:
    # "ſ" is an "s" to the case-blind patterns: the literal pre-tests must not rule it out.
    text = (
        "BOSTON, March 10, 2025 (GLOBE NEWSWIRE) -- Acme Bio expects topline data from the "
        "Phase 3 ſtudy in the second half of 2025."
    )
    found = catalysts.extract_catalysts("Acme Bio Provides Update", text, date(2025, 3, 10))
    assert [(c.kind, c.window_start) for c in found] == [("topline", "2025-07-01")]


def _same(a: re.Match[str] | None, b: re.Match[str] | None) -> bool:
    if a is None or b is None:
        return a is b
    return (
        a.span() == b.span()
        and a.lastgroup == b.lastgroup
        and a.groupdict()
        == {name: value for name, value in b.groupdict().items() if name in a.groupdict()}
    )


_DATE_PIECES = (
    "the end of the first quarter of 2026|in the second half of 2025|Q1'26|1Q26|H2 2025|"
    "2H25|mid-2026|early 2026|March 15, 2026|15 March 2026|mid-March|fiscal 2026 third quarter|"
    "Q3 FY26|this quarter|next year|later this year|year-end|YE 2026|spring 2026|in 2026|"
    "by the end of the year|Monday, November 16, 2009|February 12-14, 2020|late Q2 or early Q3|"
    "the following year|during calendar 2026|the year ended|for the quarter|with|and|K|ſ|İ|ı"
).split("|")


def _date_texts(count: int) -> list[str]:
    rng = random.Random(15)
    return [
        " ".join(rng.choices(_DATE_PIECES + _PIECES, k=rng.randint(1, 8))) for _ in range(count)
    ]


def test_date_at_matches_as_the_whole_grammar_does() -> None:
    for text in _texts()[:20] + _date_texts(400):
        for start in range(len(text)):
            expected = catalysts._DATE.match(text, start)
            assert _same(catalysts._date_at(text, start), expected), (text, start)


def test_first_characters_of_a_form() -> None:
    def firsts(pattern: str) -> tuple[set[str] | None, bool]:
        return first_characters(sre_parse.parse(pattern), fold=True)

    assert firsts(r"(?:this|next)\s+quarter") == ({"t", "n"}, False)
    assert firsts(r"\b(?:in\s+)?\d{4}")[0] == set("i0123456789")
    assert firsts(r"(?i:Q)[1-4]")[0] == {"q"}  # folded: the group's flag rules out nothing
    assert firsts(r"\w+")[0] is None
    assert firsts(r"(?:x)?")[1] is True


def plain_date_matches(text: str) -> list[re.Match[str]]:
    """`_date_matches` as written before: every window scanned, every start tried afresh."""
    found: list[re.Match[str]] = []
    covered = 0
    for at in plain_anchors(text):
        if at < covered:
            continue
        starts = [
            m.start()
            for m in catalysts._WORD_START.finditer(
                text, max(covered, at - catalysts._LOOK_BACK), at
            )
            if text[m.start() : m.start() + 3].lower().rstrip(" ,.-") in catalysts._STARTERS
            or text[m.start()].isdigit()
        ]
        starts.append(at)
        for start in starts:
            match = catalysts._DATE.match(text, start)
            if match and match.end() > at:
                found.append(match)
                covered = match.end()
                break
    return found


def test_date_matches_as_the_plain_way_finds_them() -> None:
    for text in _texts() + _date_texts(3000):
        found, expected = catalysts._date_matches(text), plain_date_matches(text)
        assert len(found) == len(expected), text
        assert all(_same(a, b) for a, b in zip(found, expected, strict=True)), text


def test_starter_slices_are_the_slices_the_plain_test_accepts() -> None:
    letters = set("".join(catalysts._STARTERS)) | set(" ,.-")
    for code in range(0x110000):
        lower = chr(code).lower()
        if len(lower) == 1 and lower in letters:
            assert chr(code).isascii() or lower == "k", hex(code)
    slices = {text[i : i + 3] for text in _texts() + _date_texts(300) for i in range(len(text))}
    slices |= {"In ", "IN,", "in", "Q/1", "q/4", "Yea", "YE-", "ye.", "by", "By ", "ſec", "İn "}
    for piece in slices:
        plain = piece.lower().rstrip(" ,.-") in catalysts._STARTERS
        assert (piece in catalysts._STARTER_SLICES) is plain, piece


# Each pattern ruled out by a word test, with text each of its forms matches.
_WORD_TESTS = [
    ("_LEGALESE", "_LEGALESE_WORDS", [
        "forward-looking statements", "safe harbor", "risks and uncertainties",
        "undue reliance", "Private Securities Litigation", "cautionary note",
    ]),
    ("_PERIOD_BEFORE", "_PERIOD_BEFORE_WORDS", [
        "for the year ended ", "in the three months ending ", "revenues for the ",
        "net loss in ", "cash as of ", "results for its ", "as of ",
    ]),
    ("_STALE", "_STALE_WORDS", [
        "originally expected in ", "previously guided to ", "initially ", "formerly ",
        "was expected in ", "had been scheduled for ", "were set for ", "from the ",
    ]),
    ("_AS_PLANNED", "_AS_PLANNED_WORDS", [
        "as planned", "as previously expected", "target action date", "goal date",
        "targeted date",
    ]),
]  # fmt: skip


@pytest.mark.parametrize(("pattern", "words", "phrases"), _WORD_TESTS)
def test_words_rule_out_only_text_the_pattern_does_not_match(
    pattern: str, words: str, phrases: list[str]
) -> None:
    regex, needs = getattr(catalysts, pattern), getattr(catalysts, words)
    texts = [f"Acme {phrase}" for phrase in phrases]
    assert all(regex.search(text) for text in texts)
    texts += [text.upper() for text in texts] + _sentences()
    texts += [sentence[:n] for sentence in _sentences() for n in (20, 60, 80)]
    for text in texts:
        if regex.search(text):
            assert _may_hold(_lower(text), needs), text
    assert not _may_hold(_lower("Acme Bio, a company"), needs)


@pytest.mark.parametrize(
    ("pattern", "words", "phrases"),
    [
        ("_MARKED", "_MARKED_WORDS", ["Rekynda™", "MultiStem(R)", "Proellex®", "HyBryteTM"]),
        (
            "_APPLICATION_FOR",
            "_APPLICATION_FOR_WORDS",
            [
                "NDA for cytisinicline",
                "sBLA of Abcdx",
                "Application for Xyzab",
                "approval of X1234",
            ],
        ),
    ],
)
def test_case_as_written_words_rule_out_only_text_the_pattern_does_not_match(
    pattern: str, words: str, phrases: list[str]
) -> None:
    regex, needs = getattr(catalysts, pattern), getattr(catalysts, words)
    assert all(regex.search(phrase) for phrase in phrases)
    for text in phrases + _sentences():
        if regex.search(text):
            assert catalysts._holds_one(text, needs), text
    assert not catalysts._holds_one("Acme Bio, a company", needs)
