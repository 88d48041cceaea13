"""Ingest benchmark: parse + classify + store N realistic GlobeNewswire items of ~6 KB.

    python benchmarks/ingest.py [--releases 2000] [--per-feed 20] [--rounds 3] [--chunk 5]

The items are built from the real releases in ../shared/eval-dev/ (~2 KB of news each) followed by
the real boilerplate of the CLRB seed release (About ..., Forward-Looking Statements, Contacts),
~6 KB in all as on the wire, with varied tickers and dates, in GlobeNewswire's item shape. Prints releases per second for
feedparser parsing the same bytes alone, with its defaults and with the flags biomon passes it
(sanitize_html and resolve_relative_uris off: the fair floor), for biomon's whole pipeline and
its parts (parse, classify, store: the classifier's time inside `save_releases` is counted as
classify), and the ratios to both, all measured in this run: the three take turns every
`--chunk` feeds, so a slow spell of the machine hits them alike.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import feedparser

from monitor.classify import classify
from monitor.parse import parse_feed
from monitor.store import Store
from tests.gnw import Item, feed

EVAL = ROOT.parent / "shared" / "eval-dev" / "releases.jsonl"
SEED = ROOT / "tests" / "fixtures" / "clrb-2023-12-19-warf-license.txt"
SYMBOLS = ["CLRB", "SNGX", "PTN", "RGRX", "ATHX", "AEZS", "CANF", "PCSA", "CUR", "INO", "NBY"]


def make_feeds(count: int, per_feed: int, size: int = 6000) -> list[bytes]:
    releases = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]
    seed = SEED.read_text(encoding="utf-8")
    boilerplate = seed[seed.index("About the Wisconsin Alumni Research Foundation") :]
    items = []
    for i in range(count):
        source = releases[i % len(releases)]
        text = source["text"][:2500] + "\n\n" + boilerplate
        while len(text) < size:
            text += "\n\n" + boilerplate
        day = 1 + i % 28
        items.append(
            Item(
                release_id=str(3_000_000 + i),
                title=source["title"],
                text=text[:size],
                tickers=(f"Nasdaq:{SYMBOLS[i % len(SYMBOLS)]}",),
                pub_date=f"Tue, {day:02d} Sep 2026 {i % 24:02d}:{i % 60:02d} GMT",
            )
        )
    return [feed(*items[i : i + per_feed]) for i in range(0, count, per_feed)]


def time_floor(bodies: list[bytes], **flags: bool) -> float:
    started = time.perf_counter()
    for body in bodies:
        feedparser.parse(io.BytesIO(body), **flags)
    return time.perf_counter() - started


# What monitor.parse passes feedparser: it converts HTML to text itself.
BIOMON_FLAGS = {"sanitize_html": False, "resolve_relative_uris": False}


def time_round(bodies: list[bytes], chunk: int) -> tuple[float, float, float, dict[str, float]]:
    """One round: (feedparser with defaults, with biomon's flags, biomon's pipeline, its parts),
    seconds. The three alternate every `chunk` feeds, so that a slow spell of a shared machine
    (seconds long, on a virtual machine) falls on all three alike instead of on one round."""
    parts = {"parse": 0.0, "classify": 0.0, "store": 0.0}
    floor = flagged = total = 0.0

    def timed_classify(release):
        # As the poller does: with the publication day, so catalysts and outcomes too.
        t0 = time.perf_counter()
        try:
            return classify(release.title, release.text, None, release.published_utc)
        finally:
            parts["classify"] += time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.db")
        for start in range(0, len(bodies), chunk):
            some = bodies[start : start + chunk]
            floor += time_floor(some)
            flagged += time_floor(some, **BIOMON_FLAGS)
            started = time.perf_counter()
            for index, body in enumerate(some, start):
                url = f"http://127.0.0.1/feed/{index}"
                t0 = time.perf_counter()
                parsed = parse_feed(url, body, "application/rss+xml")
                t1 = time.perf_counter()
                store.save_releases(parsed.releases, feed_url=url, classify=timed_classify)
                parts["parse"] += t1 - t0
                parts["store"] += time.perf_counter() - t1  # classify's share comes off below
            total += time.perf_counter() - started
        store.close()
    parts["store"] -= parts["classify"]
    return floor, flagged, total, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=2000)
    parser.add_argument("--per-feed", type=int, default=20)
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of all three; the best counts"
    )
    parser.add_argument("--chunk", type=int, default=5, help="feeds between switches (5)")
    args = parser.parse_args()
    bodies = make_feeds(args.releases, args.per_feed)
    size = sum(map(len, bodies)) / args.releases
    # Warm every path (imports, regex compilation, caches) before timing. Within a round the
    # three alternate every few feeds (`time_round`); the fastest round of each counts, as in
    # timeit, and each round's own ratio is printed beside.
    time_round(bodies[:5], args.chunk)
    rounds = [time_round(bodies, args.chunk) for _ in range(args.rounds)]
    floors = [floor for floor, _, _, _ in rounds]
    flagged = [flags for _, flags, _, _ in rounds]
    runs = [(total, parts) for _, _, total, parts in rounds]
    floor, floor_flags = min(floors), min(flagged)
    total, parts = min(runs, key=lambda run: run[0])
    n = args.releases
    print(f"{n} releases, {size / 1024:.1f} KB of feed XML each, {args.per_feed} per feed, "
          f"best of {args.rounds} rounds, the three alternating every {args.chunk} feeds")  # fmt: skip
    print(f"{'feedparser, defaults':28s} {floor:7.2f} s  {n / floor:8.0f} releases/s")
    print(
        f"{'feedparser, biomon flags':28s} {floor_flags:7.2f} s  {n / floor_flags:8.0f} releases/s"
    )
    print(f"{'biomon parse+classify+store':28s} {total:7.2f} s  {n / total:8.0f} releases/s")
    for name, seconds in parts.items():
        print(f"  {name:26s} {seconds:7.2f} s  {seconds / n * 1000:6.2f} ms/release")
    above = (parts["parse"] - floor_flags) / n * 1000
    print(f"  {'parse above the flags floor':26s} {above:15.2f} ms/release")
    ratios = ", ".join(f"{run[0] / fl:.2f}x" for fl, run in zip(floors, runs, strict=True))
    print(f"pipeline / feedparser defaults: {total / floor:.2f}x  (target: at most 3x; "
          f"per round: {ratios})")  # fmt: skip
    ratios = ", ".join(f"{run[0] / fl:.2f}x" for fl, run in zip(flagged, runs, strict=True))
    print(f"pipeline / feedparser with biomon's flags: {total / floor_flags:.2f}x  (target: at "
          f"most 4x; per round: {ratios})")  # fmt: skip


if __name__ == "__main__":
    main()
