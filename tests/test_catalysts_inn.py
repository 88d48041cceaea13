"""Drug names by their stems (`catalysts._inn_names`) are found where the one pattern that
tried every stem after every length of a word found them, at a fraction of its cost."""

from __future__ import annotations

import random
import re

import pytest

from monitor.classify import catalysts
from monitor.classify.catalysts import _inn_names
from tests.samples import release_texts

# The pattern as it was written before.
_PLAIN_INN = re.compile(
    r"\b[A-Za-z][a-z]{3,}(?:mab|nib|ciclib|parib|lisib|zomib|rsen|siran|tide|cept|platin|taxel|"
    r"rubicin|mycin|cycline|oxacin|azole|peridone|sartan|gliptin|gliflozin|caftor|setron|triptan|"
    r"dronate|fungin|bactam|penem|cillin|relin|relix|xaban|gatran|parin|grastim|poetin|leucel|"
    r"lecel|imod|olimus|pristone|xifen|icline|icam|navir|previr|buvir|asvir|tegravir|denoson|"
    r"uracil|adenant|sertib|metinib|degib|lutamide|vec|cabtagene)\b"
)


def plain_inn_names(text: str) -> list[tuple[int, str]]:
    return [
        (m.start(), m.group())
        for m in _PLAIN_INN.finditer(text)
        if m.group().lower() not in catalysts._NOT_INN
    ]


def _texts() -> list[str]:
    return release_texts(seed=False)


# Word pieces around the stems: too short before one, capitals inside, digits, hyphens,
# letters of other alphabets, common words that end in a stem.
_PIECES = (
    "pembrolizu|nivolu|Abc|abcd|ABCD|x|é|ß|ſ|K|1|-|_|'|’|.|,| |\n|peptide|Concept|MAB|"
    "Tide|imatinib|osimertinib|ib|ni|tinib|metinib|tegravir|vir|cabtagene"
).split("|") + list(catalysts._INN_STEMS)


def _random_texts(count: int) -> list[str]:
    rng = random.Random(16)
    return ["".join(rng.choices(_PIECES, k=rng.randint(1, 12))) for _ in range(count)]


def test_inn_names_as_the_plain_pattern_finds_them_in_releases() -> None:
    texts = _texts()
    assert sum(len(plain_inn_names(text)) for text in texts) > 5
    for text in texts:
        assert _inn_names(text) == plain_inn_names(text)


def test_inn_names_as_the_plain_pattern_finds_them_in_odd_text() -> None:
    for text in _random_texts(5000):
        assert _inn_names(text) == plain_inn_names(text), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Keytruda (pembrolizumab) and Imatinib.", [(10, "pembrolizumab"), (29, "Imatinib")]),
        ("abcdmab abcmab Abcdvec", [(0, "abcdmab"), (15, "Abcdvec")]),  # four letters first
        ("the peptide concept", []),
        ("pembroliZumab pembrolizumab2 pembrolizumab-based", [(29, "pembrolizumab")]),
    ],
)
def test_inn_names(text: str, expected: list[tuple[int, str]]) -> None:
    assert _inn_names(text) == expected
