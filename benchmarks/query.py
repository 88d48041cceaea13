"""Query benchmark: N stored releases of real size (default 1,000,000), queried as an analyst would.

    python benchmarks/query.py [--rows 1000000] [--db PATH] [--runs 30]
    python benchmarks/query.py --migration [--rows 100000]

Builds the database once (reused when PATH holds that many releases). Each release is one of
the 164 real texts of ../shared/eval-dev/ (~1.8 KB of news) followed by the real tail of the
CLRB seed release (About the company, forward-looking statements, contacts: ~4.8 KB) rewritten
for the release's company and ticker: ~6.6 KB, as on the wire. 5,000 tickers with a long tail,
tags by a realistic mix, ten years of dates. The first 20,000 rows go in through the schema's
own triggers (the full-text index over title + news, as `biomon poll` stores them), split where
the classifier splits them; the others copy those texts inside SQLite with their own ids,
titles, dates, tickers and tags, and are indexed by one FTS 'rebuild' (a million in about 10
minutes on two shared cores, not an hour; the same answers as rows stored one by one, checked
with `build(..., copy=False)`). Then times, over `--runs` runs each, a ticker+tag query and
full-text queries through biomon's query engine (`run_query`, as `biomon history` does; wall
median, p95 and CPU median), next to the naive SQL a user would write (LIKE over the JSON
ticker column and the whole text) measured in the same run, and prints the database size per
release against the text size.

`--migration` instead times the upgrade of a database made before schema 11 (feed HTML kept,
whole text indexed): opening it (migration m011) and splitting its old releases.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlite_utils

from monitor.classify.sections import news_end
from monitor.query import parse_query, run_query
from monitor.schema import migrate, title_key
from monitor.store import Store

EVAL = ROOT.parent / "shared" / "eval-dev" / "releases.jsonl"
SEED = ROOT / "tests" / "fixtures" / "clrb-2023-12-19-warf-license.txt"
TAGS = ["licensing", "grant", "trial", "regulatory", "financing", "deal", "earnings", "patent",
        "preclinical", "conference", "leadership", "other"]  # fmt: skip
TAG_WEIGHTS = [4, 3, 20, 10, 15, 5, 12, 2, 3, 10, 6, 10]
SYMBOLS = 5000
BATCH = 20_000


class Corpus:
    """Real-size release texts: a dev-set release, then the seed's tail for the row's company."""

    def __init__(self) -> None:
        self.sources = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines()]
        seed = SEED.read_text(encoding="utf-8")
        self.tail = seed[seed.index("About Cellectar Biosciences") :]
        companies = sorted({s["company"] for s in self.sources if s.get("company")})
        self.symbols = [f"T{i:04d}" for i in range(SYMBOLS)]
        self.symbols[42] = "CLRB"
        self.companies = [
            companies[i % len(companies)] + (f" {i // len(companies) + 1}" if i >= len(companies) else "")
            for i in range(SYMBOLS)
        ]  # fmt: skip
        # Where the classifier cuts each text: the news of a source ends at the same place
        # whatever company's tail follows it (checked on a sample of rows while building).
        self.news_ends = [news_end(self.text(i, 0)) for i in range(len(self.sources))]

    def text(self, source: int, symbol: int) -> str:
        company, ticker = self.companies[symbol], self.symbols[symbol]
        first = company.split()[0]
        tail = (
            self.tail.replace("Cellectar Biosciences", company)
            .replace("Cellectar", first)
            .replace("cellectar", first.lower())
            .replace("CLRB", ticker)
        )
        return f"{self.sources[source]['text']}\n\n{tail}"


def _drawn(corpus: Corpus, source: dict, i: int, rng: random.Random, weights: list[float]):
    """Release i's symbol (long-tailed), time (2010-2020), title, primary tag and ticker."""
    symbol = rng.choices(range(SYMBOLS), weights)[0]
    day = 1_262_304_000 + rng.randrange(0, 10 * 365 * 86400)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(day))
    title = f"{source['title'][:120]} ({i})"
    primary = rng.choices(TAGS, TAG_WEIGHTS)[0]
    return symbol, when, title, primary, f"NASDAQ:{corpus.symbols[symbol]}"


def _tag_rows(release: int, primary: str, rng: random.Random) -> list[tuple]:
    """The primary tag, and a second tag for 3 releases in 10."""
    rows = [(release, primary, "[]")]
    if rng.random() < 0.3:
        rows.append((release, rng.choice([t for t in TAGS if t != primary]), "[]"))
    return rows


def rows_of(corpus: Corpus, start: int, stop: int, rng: random.Random, weights: list[float]):
    """(releases rows, ticker rows, tag rows, text bytes) for release numbers start..stop-1."""
    releases, tickers, tags, size = [], [], [], 0
    for i in range(start, stop):
        source_index = i % len(corpus.sources)
        source = corpus.sources[source_index]
        symbol, when, title, primary, ticker = _drawn(corpus, source, i, rng, weights)
        text = corpus.text(source_index, symbol)
        size += len(text.encode())
        releases.append((i + 1, "globenewswire", str(10_000_000 + i), f"https://example.org/{i}",
                         title, text, corpus.news_ends[source_index], when, when, when,
                         corpus.companies[symbol], "en", "[]", json.dumps([ticker]), when, "",
                         title_key(title), primary, "{}"))  # fmt: skip
        tickers.append((i + 1, "NASDAQ", corpus.symbols[symbol]))
        tags.extend(_tag_rows(i + 1, primary, rng))
    return releases, tickers, tags, size


INSERT = (
    "INSERT INTO releases (id, source, release_id, url, title, text, news_end, published_utc, "
    "published_raw, sort_time, issuer, language, subjects, tickers, first_seen, feed_url, "
    "title_key, primary_tag, facts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


# As the store writes them: each ticker row carries its release's time (m013).
TICKERS = (
    "INSERT INTO release_tickers (release, exchange, symbol, sort_time) "
    "SELECT ?, ?, ?, sort_time FROM releases WHERE id = ?"
)


SLICE = 20_000  # releases built row by row; the rest copy their texts (see `build`)

# A copy of a first-slice release (its text and split, read inside SQLite) with its own id, title,
# date, company and ticker: the same statement and triggers as INSERT, without the text in Python.
COPY = (
    "INSERT INTO releases (id, source, release_id, url, title, text, news_end, published_utc, "
    "published_raw, sort_time, issuer, language, subjects, tickers, first_seen, feed_url, "
    "title_key, primary_tag, facts) SELECT ?, ?, ?, ?, ?, text, news_end, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ? FROM releases WHERE id = ?"
)


def copies_of(corpus: Corpus, start: int, stop: int, first: int, rng: random.Random, weights):
    """Rows for COPY (release numbers start..stop-1, each a copy of release i % first), tags."""
    releases, tickers, tags = [], [], []
    for i in range(start, stop):
        copied = i % first
        source = corpus.sources[copied % len(corpus.sources)]
        symbol, when, title, primary, ticker = _drawn(corpus, source, i, rng, weights)
        releases.append((i + 1, "globenewswire", str(10_000_000 + i), f"https://example.org/{i}",
                         title, when, when, when, corpus.companies[symbol], "en", "[]",
                         json.dumps([ticker]), when, "", title_key(title), primary, "{}",
                         copied + 1))  # fmt: skip
        tickers.append((i + 1, "NASDAQ", corpus.symbols[symbol]))
        tags.extend(_tag_rows(i + 1, primary, rng))
    return releases, tickers, tags


def build(path: Path, count: int, seed: int = 7, copy: bool = True) -> None:
    """Store `count` releases through the schema's triggers, as `biomon poll` does.

    The first SLICE releases are made in Python (real texts, each rewritten for its company);
    the others copy the text and split of release `i % SLICE` inside SQLite, with their own id,
    title, date, ticker, company and tags drawn as for the first ones, in transactions of BATCH
    releases; the full-text index of the copies is made by one 'rebuild' at the end, the INSERT
    trigger put back after it. `copy=False` inserts the very same rows as the store does (text
    from Python, one INSERT each through the trigger): the reference the copies are checked
    against (same answers to the same queries), 20 minutes for 1,000,000 where copying takes 5.
    """
    rng = random.Random(seed)
    corpus = Corpus()
    # Zipf-like: a few tickers issue many releases, most issue a few hundred in ten years.
    weights = [1 / (i + 1) ** 0.6 for i in range(SYMBOLS)]
    checked = wrong = 0
    first = min(count, SLICE)
    with Store(path) as store:
        conn = store.db.conn
        conn.execute("PRAGMA cache_size = -262144")  # this connection only: 256 MB of pages
        trigger = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'releases_ai'"
        ).fetchone()[0]
        start = time.perf_counter()
        for offset in range(0, count, BATCH):
            stop = min(offset + BATCH, count)
            if offset < first:
                releases, tickers, tags, _ = rows_of(corpus, offset, stop, rng, weights)
                for row in releases[::997]:  # the cached split is the classifier's, row by row
                    checked += 1
                    wrong += news_end(row[5]) != row[6]
                statement = INSERT
            else:
                releases, tickers, tags = copies_of(corpus, offset, stop, first, rng, weights)
                statement = COPY
                if not copy:
                    texts = {
                        row[0]: row[1:]
                        for row in conn.execute(
                            "SELECT id, text, news_end FROM releases WHERE id <= ?", [first]
                        )
                    }
                    releases = [(*row[:5], *texts[row[-1]], *row[5:-1]) for row in releases]
                    statement = INSERT
            with store.transaction():
                if copy and offset == first:
                    # The copies are indexed all at once at the end (a third of the CPU of
                    # indexing them one INSERT at a time); in the same transaction as the last
                    # batch, so an interrupted build never looks complete.
                    conn.execute("DROP TRIGGER releases_ai")
                conn.executemany(statement, releases)
                conn.executemany(TICKERS, [(*ticker, ticker[0]) for ticker in tickers])
                conn.executemany("INSERT INTO release_tags VALUES (?, ?, ?)", tags)
                if copy and offset >= first and stop == count:
                    print("\n  indexing the full text", end="", flush=True)
                    conn.execute("INSERT INTO releases_fts (releases_fts) VALUES ('rebuild')")
                    conn.execute(trigger)
            print(f"\r  {stop:,} releases stored", end="", flush=True)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"\n  stored in {time.perf_counter() - start:.0f} s; split checked on {checked:,} rows, "
          f"{wrong} differ from the classifier's")  # fmt: skip


def sizes(path: Path, db: sqlite_utils.Database) -> None:
    """The database per release against the text it holds, and where the bytes are."""
    count = db.execute("SELECT count(*) FROM releases").fetchone()[0]
    text, news = db.execute(
        "SELECT sum(length(CAST(text AS BLOB))), "
        "sum(length(CAST(substr(text, 1, coalesce(news_end, length(text))) AS BLOB))) FROM releases"
    ).fetchone()
    file_size = path.stat().st_size
    print(f"\n{count:,} releases, {file_size / 1e6:,.0f} MB: {file_size / count / 1024:.1f} KB per "
          f"release for {text / count / 1024:.1f} KB of text ({news / count / 1024:.1f} KB of it "
          f"news, indexed): {file_size / text:.2f}x the text (goal: under 2x)")  # fmt: skip
    try:
        parts = db.execute(
            "SELECT CASE WHEN name LIKE 'releases_fts%' THEN 'full-text index' "
            "WHEN name = 'releases' THEN 'releases (text, whole)' ELSE 'tags, tickers, indexes' "
            "END part, sum(pgsize) FROM dbstat GROUP BY part ORDER BY 2 DESC"
        ).fetchall()
    except sqlite3.OperationalError:
        return  # no dbstat in this SQLite
    print("  " + ", ".join(f"{part} {size / count / 1024:.1f} KB" for part, size in parts))


def timed(func, runs: int) -> tuple[float, float, int, float]:
    """Median and p95 wall milliseconds, the result, and the median CPU milliseconds (the
    figure to trust on a shared machine: other processes slow the wall clock, not the CPU)."""
    times, cpu, found = [], [], 0
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        found = func()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    times.sort()
    return (
        statistics.median(times),
        times[int(0.95 * (len(times) - 1))],
        found,
        statistics.median(cpu),
    )


def ratio(naive: float, ours: float) -> str:
    """naive / ours: below 1 means the naive query was faster."""
    value = naive / max(ours, 1e-6)
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


CASES = [
    ("ticker+tag", "ticker:CLRB tag:trial",
     "SELECT id FROM releases WHERE tickers LIKE '%\"NASDAQ:CLRB\"%' AND primary_tag = 'trial' "
     "ORDER BY sort_time DESC LIMIT 50"),
    ("FTS phrase", '"orphan drug designation"',
     "SELECT id FROM releases WHERE text LIKE '%orphan drug designation%' ORDER BY sort_time DESC LIMIT 50"),
    ("FTS rare phrase", '"Wisconsin Alumni Research Foundation"',
     "SELECT id FROM releases WHERE text LIKE '%Wisconsin Alumni Research Foundation%' ORDER BY sort_time DESC LIMIT 50"),
    ("FTS words + tag", "license agreement tag:licensing",
     "SELECT id FROM releases WHERE text LIKE '%license%' AND text LIKE '%agreement%' "
     "AND primary_tag = 'licensing' ORDER BY sort_time DESC LIMIT 50"),
    ("FTS prefix", "radiopharm*",
     "SELECT id FROM releases WHERE text LIKE '%radiopharm%' ORDER BY sort_time DESC LIMIT 50"),
    ("ticker, newest 50", "ticker:CLRB",
     "SELECT id FROM releases WHERE tickers LIKE '%\"NASDAQ:CLRB\"%' ORDER BY sort_time DESC LIMIT 50"),
]  # fmt: skip


def bench_queries(args: argparse.Namespace) -> None:
    if args.db.exists():
        with Store(args.db) as store:
            have = store.count()
        if have != args.rows:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{args.db}{suffix}").unlink(missing_ok=True)
    if not args.db.exists():
        print(f"building {args.rows:,} releases in {args.db}")
        build(args.db, args.rows)
    with Store(args.db) as store:
        db = store.db
        sizes(args.db, db)
        print(f"\n{'query':20s} {'biomon median':>14s} {'p95':>8s} {'CPU':>8s} {'rows':>5s}   "
              f"{'naive median':>13s} {'ratio':>7s}")  # fmt: skip
        for name, text, naive_sql in CASES:
            query = parse_query(text)
            ours = timed(lambda q=query: len(run_query(db, q)), args.runs)
            naive = timed(
                lambda s=naive_sql: len(db.execute(s).fetchall()), max(3, args.runs // 10)
            )
            print(f"{name:20s} {ours[0]:11.2f} ms {ours[1]:6.2f} ms {ours[3]:5.2f} ms {ours[2]:5d}   "
                  f"{naive[0]:10.1f} ms {ratio(naive[0], ours[0]):>7s}")  # fmt: skip


def bench_migration(args: argparse.Namespace) -> None:
    """A schema-10 database (HTML kept, whole text indexed) opened by this biomon, then split."""
    path = args.db.with_name(args.db.stem + "-old.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    print(f"building {args.rows:,} releases as schema 10 stored them, in {path}")
    conn = sqlite3.connect(path)
    conn.isolation_level = None
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode = WAL")
    migrate(db, upto=10)
    corpus, rng = Corpus(), random.Random(7)
    weights = [1 / (i + 1) ** 0.6 for i in range(SYMBOLS)]
    for offset in range(0, args.rows, BATCH):
        releases, tickers, tags, _ = rows_of(
            corpus, offset, min(offset + BATCH, args.rows), rng, weights
        )
        old = [(*row[:5], f"<p>{row[5]}</p>", row[5], *row[7:]) for row in releases]
        conn.execute("BEGIN")
        conn.executemany(INSERT.replace("text, news_end", "summary_html, text"), old)
        conn.executemany(
            "INSERT INTO release_tickers (release, exchange, symbol) VALUES (?, ?, ?)", tickers
        )
        conn.executemany("INSERT INTO release_tags VALUES (?, ?, ?)", tags)
        conn.execute("COMMIT")
        print(f"\r  {offset + len(releases):,} releases stored", end="", flush=True)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = path.stat().st_size
    print(f"\n  {before / 1e6:,.0f} MB ({before / args.rows / 1024:.1f} KB per release)")
    started = time.perf_counter()
    with Store(path) as store:
        opened = time.perf_counter() - started
        print(f"  open (migration m011: feed HTML cleared, index rebuilt): {opened:.1f} s")
        started = time.perf_counter()
        split = store.split_news(news_end)
        print(f"  split_news: {split:,} releases in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        store.db.execute("VACUUM")
        print(f"  VACUUM (gives the freed pages back): {time.perf_counter() - started:.1f} s")
        sizes(path, store.db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", "--releases", type=int, default=1_000_000, dest="rows")
    parser.add_argument("--db", type=Path, default=Path("/tmp/biomon-bench-query.db"))
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--migration", action="store_true", help="time the schema-11 upgrade")
    args = parser.parse_args()
    if args.migration:
        bench_migration(args)
    else:
        bench_queries(args)


if __name__ == "__main__":
    main()
