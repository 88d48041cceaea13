"""Score the catalyst extractor against hand-labelled releases, and time it.

    python benchmarks/eval_catalysts.py [--labels PATH] [--releases PATH] [--errors SPLIT]

Labels (default benchmarks/catalyst-labels.jsonl) hold, for every release of the development set
(../shared/eval-dev/releases.jsonl), the upcoming catalysts a reader finds in its news: kind,
program, trial, phase, date text, window (start, end) and evidence; an empty list where the
release names none. They were written by reading each text before the extractor existed. Each
release carries a split: `dev` (the releases whose errors were looked at while writing the
rules) or `heldout` (never looked at while writing rules; a hash of the id decides). Releases
without a publication day are left out (relative dates cannot be placed).

A prediction counts as right when a label of the same release has the same kind and the same
window (start and end); each label matches at most one prediction. Printed per split and for
all: precision, recall, F1; how many predictions had the right window but another kind; how
often the program agrees on the matched ones. Then the throughput: releases per CPU second of
one core, best of three rounds, on the releases as labelled (most cut at ~2,000 characters) and
with the real ~5 KB tail of a whole release (About sections, forward-looking statements,
contacts) appended, as a feed carries them; and, in the same run on the same whole releases,
the classifier's, which runs beside the extractor on ingest. Last, what catalysts and outcomes
add to classify per release (by CPU time, classify's sections given, as `classify(...,
published=...)` calls them) on the two sets of benchmarks/classify_speed.py: whole releases and
6 KB of news, the slow case (issue 14: at most 0.3 ms).

--errors dev|heldout|all lists the misses and the false alarms of that split.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from monitor.classify import classify  # noqa: E402
from monitor.classify.catalysts import Catalyst, extract_catalysts  # noqa: E402

DEFAULT_RELEASES = REPO.parent / "shared" / "eval-dev" / "releases.jsonl"
DEFAULT_LABELS = REPO / "benchmarks" / "catalyst-labels.jsonl"
TAIL_SOURCE = REPO / "tests" / "fixtures" / "clrb-2023-12-19-warf-license.txt"
TARGET_RATE = 2000  # releases per second, one core
TARGET_PRECISION, TARGET_RECALL = 0.90, 0.80


@dataclass
class Score:
    releases: int = 0
    labelled: int = 0
    predicted: int = 0
    matched: int = 0
    kind_wrong: int = 0  # predictions whose window matches a label of another kind
    program_agrees: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in (
            "releases",
            "labelled",
            "predicted",
            "matched",
            "kind_wrong",
            "program_agrees",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses += other.misses
        self.false_alarms += other.false_alarms

    @property
    def precision(self) -> float:
        return self.matched / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.matched / self.labelled if self.labelled else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _window(item: dict | Catalyst) -> tuple[str, str]:
    if isinstance(item, Catalyst):
        return item.window_start, item.window_end
    return item["window_start"], item["window_end"]


def _same_program(label: dict, predicted: Catalyst) -> bool:
    a, b = (label.get("program") or "").casefold(), (predicted.program or "").casefold()
    return a == b or bool(a and b and (a in b or b in a))


def score_release(release_id: str, labels: list[dict], predicted: tuple[Catalyst, ...]) -> Score:
    score = Score(releases=1, labelled=len(labels), predicted=len(predicted))
    open_labels = list(labels)
    unmatched: list[Catalyst] = []
    for catalyst in predicted:
        hit = next(
            (
                label
                for label in open_labels
                if label["kind"] == catalyst.kind and _window(label) == _window(catalyst)
            ),
            None,
        )
        if hit is None:
            unmatched.append(catalyst)
            continue
        open_labels.remove(hit)
        score.matched += 1
        score.program_agrees += _same_program(hit, catalyst)
    for catalyst in unmatched:
        if any(_window(label) == _window(catalyst) for label in open_labels):
            score.kind_wrong += 1
        score.false_alarms.append(
            f"{release_id}: {catalyst.kind} {catalyst.window_start}..{catalyst.window_end} "
            f"[{catalyst.date_text}] {catalyst.program}\n    {catalyst.evidence[:300]}"
        )
    for label in open_labels:
        score.misses.append(
            f"{release_id}: {label['kind']} {label['window_start']}..{label['window_end']} "
            f"[{label['date_text']}] {label.get('program')}\n    {label['evidence'][:300]}"
        )
    return score


def load(releases_path: Path, labels_path: Path) -> list[tuple[dict, dict]]:
    releases = {
        item["id"]: item for item in map(json.loads, releases_path.read_text().splitlines())
    }
    pairs = []
    for line in labels_path.read_text().splitlines():
        if line.strip():
            label = json.loads(line)
            pairs.append((releases[label["id"]], label))
    return pairs


def published_date(release: dict) -> date | None:
    """The release's publication day; None where the set gives none or only a year."""
    try:
        return date.fromisoformat((release.get("published") or "")[:10])
    except ValueError:
        return None


def evaluate(pairs: list[tuple[dict, dict]]) -> dict[str, Score]:
    scores = {"dev": Score(), "heldout": Score()}
    for release, label in pairs:
        published = published_date(release)
        if published is None:
            continue
        predicted = extract_catalysts(release["title"], release["text"], published)
        scores[label["split"]].add(score_release(release["id"], label["catalysts"], predicted))
    everything = Score()
    for score in scores.values():
        everything.add(score)
    scores["all"] = everything
    return scores


def throughput(items: list[tuple[str, str, date]], rounds: int = 3, run=None) -> float:
    """Releases per CPU second of the fastest round, after a warm-up pass."""
    run = run or extract_catalysts
    for title, text, published in items:
        run(title, text, published)
    rates = []
    for _ in range(rounds):
        started = time.process_time()
        for title, text, published in items:
            run(title, text, published)
        rates.append(len(items) / max(time.process_time() - started, 1e-9))
    return max(rates)


def extraction_cost(releases_path: Path, rounds: int = 3) -> dict[str, float]:
    """CPU seconds per release that catalysts and outcomes add to classify (published
    2025-01-15), on classify_speed.py's two sets: whole releases and 6 KB of news."""
    from monitor.classify.outcomes import extract_outcomes
    from monitor.classify.sections import split_release

    spec = importlib.util.spec_from_file_location(
        "classify_speed", REPO / "benchmarks" / "classify_speed.py"
    )
    speed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(speed)
    day = date(2025, 1, 15)
    costs = {}
    for label, releases in (
        ("whole releases (~7 KB)", speed.padded_releases(releases_path)),
        ("all news (6 KB of news)", speed.all_news_releases(releases_path)),
    ):
        items = [(title, text, split_release(title, text)) for title, text in releases]

        def run(items=items) -> None:
            for title, text, sections in items:
                extract_catalysts(title, text, day, sections.news_end)
                extract_outcomes(title, text, sections)

        run()
        times = []
        for _ in range(rounds):
            started = time.process_time()
            run()
            times.append(time.process_time() - started)
        costs[label] = min(times) / len(items)
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--releases", type=Path, default=DEFAULT_RELEASES)
    parser.add_argument("--errors", choices=("dev", "heldout", "all"))
    args = parser.parse_args()
    pairs = load(args.releases, args.labels)
    scores = evaluate(pairs)
    skipped = sum(1 for release, _ in pairs if published_date(release) is None)
    print(
        f"catalysts: kind + window against hand labels ({len(pairs)} releases labelled, "
        f"{skipped} without a publication date left out)\n"
    )
    print(
        f"{'split':<9} {'releases':>8} {'labels':>6} {'found':>6} {'right':>6} "
        f"{'precision':>9} {'recall':>7} {'F1':>5} {'kind wrong':>10} {'program':>8}"
    )
    for name in ("dev", "heldout", "all"):
        s = scores[name]
        program = f"{s.program_agrees}/{s.matched}"
        print(
            f"{name:<9} {s.releases:>8} {s.labelled:>6} {s.predicted:>6} {s.matched:>6} "
            f"{s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>5.3f} {s.kind_wrong:>10} {program:>8}"
        )
    print(f"\ntargets: precision >= {TARGET_PRECISION:.2f}, recall >= {TARGET_RECALL:.2f}")

    tail = TAIL_SOURCE.read_text(encoding="utf-8")
    tail = tail[tail.index("About the Wisconsin") :]
    dated = [
        (r["title"], r["text"], day) for r, _ in pairs if (day := published_date(r)) is not None
    ]
    padded = [(title, f"{text}\n\n{tail}", day) for title, text, day in dated]
    raw_rate, padded_rate = throughput(dated), throughput(padded)
    classify_rate = throughput(padded, run=lambda title, text, _: classify(title, text))
    size = sum(len(t) + len(x) for t, x, _ in padded) / len(padded) / 1000
    print(f"\nspeed, one core, best of 3 (target {TARGET_RATE}/s):")
    print(f"  as labelled (~2 KB)          {raw_rate:>8.0f} releases/s")
    print(f"  whole releases (~{size:.1f} KB)    {padded_rate:>8.0f} releases/s")
    print(
        f"  classify, same releases, same run {classify_rate:>5.0f} releases/s: extracting "
        f"catalysts adds {classify_rate / padded_rate:.0%} to classifying"
    )

    print("\ncatalysts + outcomes as classify extracts them (its sections given), per release,")
    print("one core, best of 3, on benchmarks/classify_speed.py's releases (target <= 0.3 ms):")
    for label, cost in extraction_cost(args.releases).items():
        print(f"  {label:<32} {cost * 1000:>6.3f} ms")

    if args.errors:
        s = scores[args.errors]
        print(f"\nmisses ({args.errors}): {len(s.misses)}")
        print("\n".join(s.misses))
        print(f"\nfalse alarms ({args.errors}): {len(s.false_alarms)}")
        print("\n".join(s.false_alarms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
