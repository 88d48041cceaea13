"""Real release texts the tests check shortcuts against: the labelled sample in
tests/fixtures/ (title and text of each) and, where asked, the CLRB seed release."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = FIXTURES / "classify-labelled-sample.jsonl"
SEED = FIXTURES / "clrb-2023-12-19-warf-license.txt"


def release_texts(seed: bool = True) -> list[str]:
    """Each labelled release as "title\\ntext", then the seed release's text (`seed`)."""
    items = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    texts = [f"{item['title']}\n{item['text']}" for item in items]
    return texts + [SEED.read_text()] if seed else texts
