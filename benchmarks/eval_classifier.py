"""Score the release classifier against hand-labelled releases, next to a keyword baseline.

    python benchmarks/eval_classifier.py [PATH] [--errors]

PATH defaults to ../shared/eval-dev/releases.jsonl from the repository root. Prints per-tag
precision/recall/F1, micro F1 and primary accuracy for the classifier and for a keyword
baseline (a tag whenever its keyword appears anywhere in the release), then the throughput of
both. --errors lists the releases the classifier gets wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.classify import TAGS, classify  # noqa: E402

DEFAULT_PATH = REPO.parent / "shared" / "eval-dev" / "releases.jsonl"
# A real release's tail (About sections, forward-looking statements, contacts, ~5 KB), added to
# each labelled text to time releases of a realistic ~7 KB.
TAIL_SOURCE = REPO / "tests" / "fixtures" / "clrb-2023-12-19-warf-license.txt"

# The naive reading: a tag whenever its word appears anywhere, boilerplate included.
BASELINE_KEYWORDS = {
    "licensing": r"licen[cs]e",
    "grant": r"grant",
    "trial": r"trial|study",
    "regulatory": r"\bFDA\b|\bEMA\b|approval|designation",
    "financing": r"offering|financing|private placement",
    "deal": r"acqui|merger|collaborat|partnership",
    "earnings": r"quarter|financial results",
    "patent": r"patent",
    "preclinical": r"preclinical|in vivo|in vitro|animal",
    "conference": r"conference|webcast|presentation",
    "leadership": r"appoint|board of directors",
}
_BASELINE = {tag: re.compile(p, re.IGNORECASE) for tag, p in BASELINE_KEYWORDS.items()}

Prediction = tuple[str, tuple[str, ...]]  # (primary, tags)


def baseline(title: str, text: str) -> Prediction:
    """Keyword baseline: tags whose keyword occurs; primary = earliest keyword in the title."""
    tags = tuple(sorted(t for t, p in _BASELINE.items() if p.search(title) or p.search(text)))
    in_title = [(m.start(), t) for t, p in _BASELINE.items() if (m := p.search(title))]
    primary = min(in_title)[1] if in_title else (tags[0] if tags else "other")
    return primary, tags or ("other",)


def ours(title: str, text: str) -> Prediction:
    result = classify(title, text)
    return result.primary, result.tags


def score(releases: list[dict], predict: Callable[[str, str], Prediction]) -> dict:
    """Per-tag counts, micro F1 and primary accuracy of one predictor."""
    counts = {tag: [0, 0, 0] for tag in TAGS}  # true positives, false positives, misses
    right_primary = 0
    errors = []
    for release in releases:
        primary, tags = predict(release["title"], release["text"])
        expected = set(release["tags"])
        for tag in TAGS:
            counts[tag][0] += tag in tags and tag in expected
            counts[tag][1] += tag in tags and tag not in expected
            counts[tag][2] += tag not in tags and tag in expected
        right_primary += primary == release["primary"]
        if primary != release["primary"] or set(tags) != expected:
            errors.append((release["id"], release["primary"], sorted(expected), primary, tags))
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {
        "tags": {tag: _prf(*c) for tag, c in counts.items()},
        "support": {tag: c[0] + c[2] for tag, c in counts.items()},
        "micro": _prf(*total),
        "primary": right_primary / len(releases),
        "errors": errors,
    }


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def throughput(releases: list[dict], predict: Callable[[str, str], Prediction]) -> float:
    """Releases per second, over repeated passes lasting at least half a second (after one
    warm-up pass, as in a long-running poller)."""
    for release in releases:
        predict(release["title"], release["text"])
    done, start = 0, time.perf_counter()
    while True:
        for release in releases:
            predict(release["title"], release["text"])
        done += len(releases)
        elapsed = time.perf_counter() - start
        if elapsed >= 0.5:
            return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--errors", action="store_true", help="list misclassified releases")
    args = parser.parse_args()
    releases = [json.loads(line) for line in args.path.read_text().splitlines() if line.strip()]
    mine, base = score(releases, ours), score(releases, baseline)

    print(f"{len(releases)} releases from {args.path}\n")
    print(f"{'tag':<12}{'n':>4}   {'classifier P/R/F1':<22}{'baseline P/R/F1':<22}")
    for tag in TAGS:
        mine_row, base_row = _row(mine["tags"][tag]), _row(base["tags"][tag])
        print(f"{tag:<12}{mine['support'][tag]:>4}   {mine_row}{base_row}")
    print(f"{'micro':<12}{'':>4}   {_row(mine['micro'])}{_row(base['micro'])}")
    print(f"{'primary acc':<12}{'':>4}   {mine['primary']:<22.2f}{base['primary']:<22.2f}")

    tail = TAIL_SOURCE.read_text()
    tail = tail[tail.index("About the Wisconsin") :]
    padded = [dict(r, text=f"{r['text']}\n\n{tail}") for r in releases]
    print("\nthroughput (releases/s)      classifier    baseline   classifier time / baseline")
    for label, items in (("as labelled", releases), ("with a real 5 KB tail", padded)):
        size = sum(len(r["title"]) + len(r["text"]) for r in items) / len(items) / 1000
        mine_rate, base_rate = throughput(items, ours), throughput(items, baseline)
        print(f"  {label:<22} {size:4.1f} KB {mine_rate:>10,.0f} {base_rate:>11,.0f}"
              f" {base_rate / mine_rate:>14.1f}x")  # fmt: skip

    if args.errors:
        print(f"\n{len(mine['errors'])} releases differ (id: expected -> got)")
        for rid, exp_primary, exp_tags, primary, tags in mine["errors"]:
            print(f"  {rid}: {exp_primary} {exp_tags} -> {primary} {list(tags)}")
    return 0


def _row(prf: tuple[float, float, float]) -> str:
    return f"{prf[0]:.2f} / {prf[1]:.2f} / {prf[2]:.2f}".ljust(22)


if __name__ == "__main__":
    sys.exit(main())
