"""Query benchmark: a database of N stored releases (default 1,000,000), queried as an analyst would.

    python benchmarks/query.py [--releases 1000000] [--db PATH] [--runs 30]

Builds the database once (reused when PATH exists with that many releases): releases made from
the real texts in ../shared/eval-dev/ (~600 bytes each), 5,000 tickers with a long tail, tags
and ten years of dates. Then times, over `--runs` runs each, a ticker+tag query and full-text
queries through biomon's query engine, next to the naive baseline a user would write (LIKE
scans over the JSON ticker column and the text) measured in the same run. Prints median and
p95 in milliseconds and the ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.query import parse_query, run_query
from monitor.schema import title_key
from monitor.store import Store

EVAL = ROOT.parent / "shared" / "eval-dev" / "releases.jsonl"
TAGS = ["licensing", "grant", "trial", "regulatory", "financing", "deal", "earnings", "patent",
        "preclinical", "conference", "leadership", "other"]  # fmt: skip
TAG_WEIGHTS = [4, 3, 20, 10, 15, 5, 12, 2, 3, 10, 6, 10]


def build(path: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    sources = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]
    symbols = [f"T{i:04d}" for i in range(5000)]
    symbols[42] = "CLRB"
    # Zipf-like: a few tickers issue many releases, most issue a few hundred in ten years.
    weights = [1 / (i + 1) ** 0.6 for i in range(len(symbols))]
    store = Store(path)
    db = store.db.conn
    db.execute("DROP TRIGGER IF EXISTS releases_ai")  # the FTS index is rebuilt once at the end
    start = time.perf_counter()
    batch = 20_000
    for offset in range(0, count, batch):
        rows, tickers, tags = [], [], []
        for i in range(offset, min(offset + batch, count)):
            source = sources[i % len(sources)]
            words = source["text"].split()
            cut = rng.randrange(0, max(1, len(words) - 90))
            text = " ".join(words[cut : cut + 90])
            symbol = rng.choices(symbols, weights)[0]
            day = 1_262_304_000 + rng.randrange(0, 10 * 365 * 86400)  # 2010-2020
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(day))
            title = f"{source['title'][:120]} ({i})"
            primary = rng.choices(TAGS, TAG_WEIGHTS)[0]
            rows.append((i + 1, "globenewswire", str(10_000_000 + i), f"https://example.org/{i}",
                         title, "", text, when, when, when, source.get("company") or "", "en",
                         "[]", json.dumps([f"NASDAQ:{symbol}"]), when, "", title_key(title), primary, "{}"))  # fmt: skip
            tickers.append((i + 1, "NASDAQ", symbol))
            tags.append((i + 1, primary, "[]"))
            if rng.random() < 0.3:
                tags.append((i + 1, rng.choice([t for t in TAGS if t != primary]), "[]"))
        with store.transaction():
            db.executemany(
                "INSERT INTO releases (id, source, release_id, url, title, summary_html, text, "
                "published_utc, published_raw, sort_time, issuer, language, subjects, tickers, "
                "first_seen, feed_url, title_key, primary_tag, facts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany("INSERT INTO release_tickers VALUES (?, ?, ?)", tickers)
            db.executemany("INSERT INTO release_tags VALUES (?, ?, ?)", tags)
        print(f"\r  {offset + len(rows):,} releases stored", end="", flush=True)
    print(f"\n  rows in {time.perf_counter() - start:.0f} s; building the full-text index...")
    started = time.perf_counter()
    db.execute("INSERT INTO releases_fts(releases_fts) VALUES ('rebuild')")
    db.commit()
    store.close()  # the insert trigger stays dropped: this database is for reading only
    print(f"  full-text index in {time.perf_counter() - started:.0f} s")


def timed(func, runs: int) -> tuple[float, float, int]:
    times, found = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        found = func()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], found


def ratio(naive: float, ours: float) -> str:
    """naive / ours: below 1 means the naive query was faster."""
    value = naive / max(ours, 1e-6)
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/biomon-bench-query.db"))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if args.db.exists():
        store = Store(args.db)
        have = store.count()
        store.close()
        if have != args.releases:
            args.db.unlink()
    if not args.db.exists():
        print(f"building {args.releases:,} releases in {args.db}")
        build(args.db, args.releases)
    store = Store(args.db)
    db = store.db
    size_mb = args.db.stat().st_size / 1e6
    print(f"\n{store.count():,} releases, {size_mb:,.0f} MB\n")
    cases = [
        ("ticker+tag", "ticker:CLRB tag:trial",
         "SELECT id FROM releases WHERE tickers LIKE '%\"NASDAQ:CLRB\"%' AND primary_tag = 'trial' "
         "ORDER BY sort_time DESC LIMIT 50"),
        ("FTS phrase", '"orphan drug designation"',
         "SELECT id FROM releases WHERE text LIKE '%orphan drug designation%' ORDER BY sort_time DESC LIMIT 50"),
        ("FTS phrase, no hits", '"Wisconsin Alumni Research Foundation"',
         "SELECT id FROM releases WHERE text LIKE '%Wisconsin Alumni Research Foundation%' ORDER BY sort_time DESC LIMIT 50"),
        ("FTS words + tag", "license agreement tag:licensing",
         "SELECT id FROM releases WHERE text LIKE '%license%' AND text LIKE '%agreement%' "
         "AND primary_tag = 'licensing' ORDER BY sort_time DESC LIMIT 50"),
        ("ticker, newest 50", "ticker:CLRB",
         "SELECT id FROM releases WHERE tickers LIKE '%\"NASDAQ:CLRB\"%' ORDER BY sort_time DESC LIMIT 50"),
    ]  # fmt: skip
    print(
        f"{'query':20s} {'biomon median':>14s} {'p95':>8s} {'rows':>5s}   {'naive median':>13s} {'ratio':>7s}"
    )
    for name, text, naive_sql in cases:
        query = parse_query(text)
        ours = timed(lambda q=query: len(run_query(db, q)), args.runs)
        naive = timed(lambda s=naive_sql: len(db.execute(s).fetchall()), max(3, args.runs // 10))
        print(
            f"{name:20s} {ours[0]:11.2f} ms {ours[1]:6.2f} ms {ours[2]:5d}   {naive[0]:10.1f} ms "
            f"{ratio(naive[0], ours[0]):>7s}"
        )
    store.close()


if __name__ == "__main__":
    main()
