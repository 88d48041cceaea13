"""The second round of shortcuts in catalyst and outcome extraction find what the plain searches
find: checked against the plain way on real releases and on random text built from the
characters the shortcuts look at."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from monitor.classify import catalysts
from tests.samples import release_texts


def _texts() -> list[str]:
    return release_texts()


def _random_texts(pieces: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(
            piece + rng.choice(("", "", " ", "-", "\n"))
            for piece in rng.choices(pieces, k=rng.randint(1, 12))
        )
        for _ in range(count)
    ]


def _spans(matches: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in matches]


# --- Development codes ------------------------------------------------------------------------

# Pieces of codes and their near misses: letters before and after, hyphens, spaces, long runs of
# letters before the digits, digits of other scripts.
_CODE_PIECES = (
    "SGX942 CLR 131 GR-MD-02 NX-1207 I-124-CLR1404 PH94B ABCD-EFGH-12 ABCDEF-GHIJKL-123 A Ab ABC "
    "AbCdEf abcdef Q3 FY2026 COVID-19 1 12 123 1234567 ٣٤ - -- _ x é ( ) . , ABCDEFGHIJKLMNOPQ "
    "Abcdef Ghijkl 12"
).split()


def test_codes_are_the_matches_of_the_plain_search_in_releases() -> None:
    texts = _texts()
    assert sum(len(catalysts._codes(text)) for text in texts) > 20
    for text in texts:
        assert _spans(catalysts._codes(text)) == _spans(list(catalysts._CODE.finditer(text)))


def test_codes_are_the_matches_of_the_plain_search_in_odd_text() -> None:
    found = 0
    for text in _random_texts(_CODE_PIECES, 20000, 17):
        expected = _spans(list(catalysts._CODE.finditer(text)))
        assert _spans(catalysts._codes(text)) == expected, text
        found += len(expected)
    assert found > 1000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SGX942 and CLR 131", ["SGX942", "CLR 131"]),
        ("I-124-CLR1404, GR-MD-02", ["I-124-CLR1404", "GR-MD-02"]),
        ("ABCDEFGH-X-ABCDE 12345", []),  # too many letters before the digits
        ("aSGX942 SGX942ab", []),  # inside a word
        ("ABCDE-FGHIJ-1234", ["ABCDE-FGHIJ-1234"]),  # the second form: 12 characters before
    ],
)
def test_codes(text: str, expected: list[str]) -> None:
    assert [m.group() for m in catalysts._codes(text)] == expected


# --- Dates over before the release are dropped before the event is read ------------------------


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        # The past date is dropped, the upcoming one in the same sentence kept.
        (
            "Acme reported topline data in March 2024 and expects topline data from the Phase 3 "
            "trial in the third quarter of 2025.",
            date(2025, 1, 15),
            [("topline", "2025-07-01", "2025-09-30")],
        ),
        # A period without a year that is over rolls into the next year (not dropped).
        (
            "Acme expects to report topline data in the first quarter.",
            date(2025, 11, 20),
            [("topline", "2026-01-01", "2026-03-31")],
        ),
        # Only past dates: nothing.
        ("Acme expects topline data in the second half of 2024.", date(2025, 1, 15), []),
    ],
)
def test_past_dates_and_rolled_periods(
    text: str, published: date, expected: list[tuple[str, str, str]]
) -> None:
    body = f"BOSTON, {published:%B} 2, {published.year} (GLOBE NEWSWIRE) -- {text}"
    found = catalysts.extract_catalysts("Acme Bio Provides Update", body, published)
    assert [(c.kind, c.window_start, c.window_end) for c in found] == expected


# --- Short texts without an anchor are ruled out by one search ---------------------------------

_ANCHOR_PIECES = (
    "in 1999|2026|19999|January|Market|Decision|year|YEAR|yEaR|q1|Q3|q/2|1q|4Q|1h|H2|h3|half|HALF|"
    "fiscal|FISCAL|FY26|fy|efy|İ|ſ|K|the|Phase|of|from|a|7|-|/"
).split("|")


def test_anchors_of_short_texts_as_the_scans_find_them(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _random_texts(_ANCHOR_PIECES, 20000, 18)
    texts += [line[:300] for text in _texts() for line in text.splitlines() if line.strip()]
    assert all(len(text) < catalysts._SHORT for text in texts)
    found = [catalysts._anchors(text) for text in texts]
    assert sum(1 for anchors in found if not anchors) > 1000  # the search rules these out
    monkeypatch.setattr(catalysts, "_SHORT", 0)  # every scan run, as on long texts
    assert found == [catalysts._anchors(text) for text in texts]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme Bio Announces Positive Results from Phase 3 Trial", []),
        ("Acme to Report Results in the First Half of 2026", [36, 44]),
        ("Acme: H2 update", [6]),
        ("FY26 guidance", [0]),
    ],
)
def test_anchors_of_headlines(text: str, expected: list[int]) -> None:
    assert catalysts._anchors(text) == expected
