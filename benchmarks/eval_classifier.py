"""Score the release classifier against hand-labelled releases, next to a keyword baseline.

    python benchmarks/eval_classifier.py [PATH] [--folds K] [--errors]

PATH defaults to ../shared/eval-dev/releases.jsonl from the repository root. Prints, for the
classifier and for a keyword baseline (a tag whenever its keyword appears anywhere in the
release), in the same run:

- k-fold cross-validation grouped by company (no company in both the part fitted on and the
  part scored): per tag precision/recall/F1 over the pooled held-out folds, the spread of F1
  across folds, and primary accuracy per fold;
- the same figures on the whole set;
- the throughput of both.

Each predictor is built by a `fit(train releases) -> predict` function run inside each fold.
The classifier's rules are hand-written and fit nothing, so its fit ignores the training part:
its CV figures equal scoring the fixed rules fold by fold. That is honest about the folds but
cannot undo that the rules were written while reading the whole set; only releases never
seen (the held-out sets scored outside the project) can. --errors lists the releases the
classifier gets wrong.
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


Predictor = Callable[[str, str], Prediction]


def fit_ours(train: list[dict]) -> Predictor:
    """The classifier's rules are fixed (nothing is learned from `train`)."""
    return ours


def fit_baseline(train: list[dict]) -> Predictor:
    """The keyword baseline learns nothing either."""
    return baseline


def company_folds(releases: list[dict], k: int) -> list[list[int]]:
    """Indices of `releases` split into k folds by company, no company in two folds.

    Deterministic: companies largest first (ties by name), each to the fold with the fewest
    releases so far (as scikit-learn's GroupKFold does).
    """
    by_company: dict[str, list[int]] = {}
    for index, item in enumerate(releases):
        by_company.setdefault(_company_key(item), []).append(index)
    folds: list[list[int]] = [[] for _ in range(k)]
    for _, indices in sorted(by_company.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        min(folds, key=len).extend(indices)
    return folds


def _company_key(item: dict) -> str:
    # "Moleculin Biotech, Inc." and "Moleculin" are one company: compare the first word.
    name = re.sub(r"[^a-z0-9 ]", " ", (item.get("company") or item["id"]).lower()).split()
    return name[0] if name else item["id"]


def score(releases: list[dict], predictions: list[Prediction]) -> dict:
    """Per-tag counts and P/R/F1, micro F1 and primary accuracy of predictions for releases."""
    counts = {tag: [0, 0, 0] for tag in TAGS}  # true positives, false positives, misses
    right_primary = 0
    errors = []
    for release, (primary, tags) in zip(releases, predictions, strict=True):
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
        "primary": right_primary / len(releases) if releases else 0.0,
        "errors": errors,
    }


def predict_all(releases: list[dict], predict: Predictor) -> list[Prediction]:
    return [predict(r["title"], r["text"]) for r in releases]


def cross_validate(
    releases: list[dict], fit: Callable[[list[dict]], Predictor], k: int
) -> tuple[dict, list[dict]]:
    """Scores pooled over the k held-out folds, and each fold's own scores: for each fold the
    predictor is fitted on the other folds only."""
    predictions: dict[int, Prediction] = {}
    per_fold = []
    for held_out in company_folds(releases, k):
        held = set(held_out)
        predict = fit([r for i, r in enumerate(releases) if i not in held])
        fold_items = [releases[i] for i in held_out]
        fold_predictions = predict_all(fold_items, predict)
        predictions.update(zip(held_out, fold_predictions, strict=True))
        per_fold.append(score(fold_items, fold_predictions))
    pooled = score(releases, [predictions[i] for i in range(len(releases))])
    return pooled, per_fold


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def throughput(releases: list[dict], predict: Predictor) -> float:
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
    parser.add_argument("--folds", type=int, default=5, help="folds for cross-validation (5)")
    parser.add_argument("--errors", action="store_true", help="list misclassified releases")
    parser.add_argument("--no-speed", action="store_true", help="skip the throughput runs")
    args = parser.parse_args()
    releases = [json.loads(line) for line in args.path.read_text().splitlines() if line.strip()]
    companies = len({_company_key(r) for r in releases})
    print(f"{len(releases)} releases, {companies} companies, from {args.path}")

    mine_cv, mine_folds = cross_validate(releases, fit_ours, args.folds)
    base_cv, base_folds = cross_validate(releases, fit_baseline, args.folds)
    sizes = ", ".join(str(len(fold)) for fold in company_folds(releases, args.folds))
    print(f"\n{args.folds}-fold cross-validation grouped by company (fold sizes {sizes}):"
          " held-out folds pooled; F1 range = lowest..highest fold holding the tag")  # fmt: skip
    _table(mine_cv, base_cv, mine_folds, base_folds)

    mine, base = (score(releases, predict_all(releases, p)) for p in (ours, baseline))
    print("\nwhole set (the rules were written reading all of it):")
    _table(mine, base)

    if not args.no_speed:
        _speed(releases)

    if args.errors:
        print(f"\n{len(mine['errors'])} releases differ (id: expected -> got)")
        for rid, exp_primary, exp_tags, primary, tags in mine["errors"]:
            print(f"  {rid}: {exp_primary} {exp_tags} -> {primary} {list(tags)}")
    return 0


def _table(mine: dict, base: dict, mine_folds: list | None = None, base_folds: list | None = None):
    spread = "F1 range" if mine_folds else ""
    print(
        f"{'tag':<12}{'n':>4}   {'classifier P/R/F1':<22}{spread:<12}{'baseline P/R/F1':<22}{spread}"
    )
    for tag in TAGS:
        mine_row, base_row = _row(mine["tags"][tag]), _row(base["tags"][tag])
        # folds without the tag (nothing to find) say nothing about it
        mine_range = _range([f["tags"][tag][2] for f in mine_folds or [] if f["support"][tag]])
        base_range = _range([f["tags"][tag][2] for f in base_folds or [] if f["support"][tag]])
        print(
            f"{tag:<12}{mine['support'][tag]:>4}   {mine_row}{mine_range:<12}{base_row}{base_range}"
        )
    print(f"{'micro':<12}{'':>4}   {_row(mine['micro'])}{'':<12}{_row(base['micro'])}")
    mine_range = _range([f["primary"] for f in mine_folds or []])
    base_range = _range([f["primary"] for f in base_folds or []])
    print(f"{'primary acc':<12}{'':>4}   {mine['primary']:<22.2f}{mine_range:<12}"
          f"{base['primary']:<22.2f}{base_range}")  # fmt: skip
    if mine_folds:
        per_fold = " ".join(f"{f['primary']:.2f}" for f in mine_folds)
        print(f"{'':<16}primary accuracy per fold: {per_fold}")


def _range(values: list[float]) -> str:
    return f"{min(values):.2f}..{max(values):.2f}" if values else ""


def _speed(releases: list[dict]) -> None:
    tail = TAIL_SOURCE.read_text()
    tail = tail[tail.index("About the Wisconsin") :]
    padded = [dict(r, text=f"{r['text']}\n\n{tail}") for r in releases]
    print("\nthroughput (releases/s)      classifier    baseline   classifier time / baseline")
    for label, items in (("as labelled", releases), ("with a real 5 KB tail", padded)):
        size = sum(len(r["title"]) + len(r["text"]) for r in items) / len(items) / 1000
        mine_rate, base_rate = throughput(items, ours), throughput(items, baseline)
        print(f"  {label:<22} {size:4.1f} KB {mine_rate:>10,.0f} {base_rate:>11,.0f}"
              f" {base_rate / mine_rate:>14.1f}x")  # fmt: skip


def _row(prf: tuple[float, float, float]) -> str:
    return f"{prf[0]:.2f} / {prf[1]:.2f} / {prf[2]:.2f}".ljust(22)


if __name__ == "__main__":
    sys.exit(main())
