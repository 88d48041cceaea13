"""The store's event detection, made cheaper, decides as before."""

from __future__ import annotations

import random

import pytest

from monitor.store import events
from monitor.store.events import LEAD_CHARS, LEAD_WORDS, features, lead_of, same_news, shingles


def reference_lead(text: str) -> str:
    """lead_of as it was: every word of the head read, the cut word dropped, then clipped."""
    head = (text or "")[:LEAD_CHARS]
    found = events._DATELINE_END.search(head[:600])
    if found:
        head = head[found.end() :]
    cut = bool(events._CUT.search(head)) and len(head) < LEAD_CHARS
    words = events._WORD.findall(head.lower())
    if cut and words:
        words = words[:-1]
    return " ".join(words[:LEAD_WORDS])


WORDS = "Cellectar Biosciences announced today the license of its phospholipid ether drug".split()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Short summary that was cut in the midd...",
        "BOSTON, Sept. 11, 2026 (GLOBE NEWSWIRE) -- " + " ".join(WORDS * 12),
        " ".join(WORDS * 7) + " intellectu\u2026",  # about LEAD_WORDS words, then cut
        " ".join(WORDS * 8) + " [...]",
        "Supercalifragilistic-" * 60 + " end...",  # long words: few words in the first 900
        "İ" * 400 + " " + " ".join(WORDS * 10),
    ],
)
def test_lead_is_as_before(text):
    assert lead_of(text) == reference_lead(text)


def test_random_cut_texts_give_the_same_lead():
    rng = random.Random(11)
    vocabulary = [*WORDS, "a", "of", "--", "(NASDAQ: CLRB)", "Phase\u00a02", "’s", "\n\n"]
    for _ in range(3000):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 260)))
        if rng.random() < 0.5:
            text = text[: rng.randint(0, len(text))] + rng.choice(["...", "\u2026", "[...]", " "])
        assert lead_of(text) == reference_lead(text), text


def test_shingle_keys_count_as_the_shingles_do():
    words = "the company announced the company announced results of the trial".split()
    assert len(events._shingle_keys(words)) == len(shingles(words))
    other = "the company announced results of the phase 2 trial today".split()
    assert events.containment(events._shingle_keys(words), events._shingle_keys(other)) == (
        events.containment(shingles(words), shingles(other))
    )


def test_same_news_still_compares_titles_and_leads():
    lead = lead_of("BOSTON -- Cellectar today announced " + " ".join(WORDS * 3))
    assert same_news("Cellectar Signs License", lead, "UPDATE: Cellectar Signs License", lead)
    assert not same_news("Cellectar Signs License", lead, "Acme Reports Results", "acme")
    assert features("Cellectar Signs License", lead).titles == frozenset(
        {"cellectar", "signs", "license"}
    )
