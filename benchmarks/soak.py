"""Soak: `biomon run` against 200 local feeds polled every second, watched from outside.

    python benchmarks/soak.py            # 30 minutes
    python benchmarks/soak.py --quick    # 2 minutes

First half: the feeds do not change (what a monitor does most of the day): resident memory, open
file descriptors and database size must stay flat. Second half: one feed in ten gets a new
release every few seconds: database growth per new release. Samples /proc/<pid> (Linux).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.demo import FeedServer
from tests.gnw import Item, feed

TEXT = "Cellectar Biosciences (NASDAQ: CLRB) announced results from its Phase 2 trial. " * 20


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def snapshot(pid: int, db: Path, requests: int) -> dict[str, float]:
    """What the daemon holds and has used at this moment, and the requests served so far."""
    return {"rss": rss_mb(pid), "fds": fds(pid), "db": db_bytes(db), "cpu": cpu_seconds(pid),
            "at": time.monotonic(), "requests": requests}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes instead of 30")
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--feeds", type=int, default=200)
    args = parser.parse_args()
    minutes = args.minutes or (2 if args.quick else 30)
    workdir = Path(tempfile.mkdtemp(prefix="biomon-soak-"))
    rng = random.Random(3)
    with FeedServer() as server:
        items = {i: [Item(f"8{i:03d}{n:04d}", f"Feed {i} release {n}", text=TEXT,
                          tickers=("Nasdaq:CLRB",)) for n in range(20)] for i in range(args.feeds)}  # fmt: skip
        urls = [server.add(f"f/{i}", feed(*items[i])) for i in range(args.feeds)]
        listed = ", ".join(f'"{u}"' for u in urls)
        config = workdir / "biomon.toml"
        config.write_text(
            f'[storage]\npath = "biomon.db"\n[poll]\ninterval = 1\nhost_gap = 0\nper_host = 8\n'
            f"workers = 16\nfeeds = [{listed}]\n"
            '[[watch]]\nticker = "CLRB"\n[notify.desktop]\nenabled = true\n'
            "[daemon]\nidle_interval = 1\n"
        )
        db = workdir / "biomon.db"
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stderr=open(workdir / "daemon.log", "w"),  # noqa: SIM115
        )
        time.sleep(15)  # first polls: the backlog of every feed
        start = snapshot(daemon.pid, db, len(server.requests))
        half = minutes * 30
        samples = []
        started = time.monotonic()
        while time.monotonic() - started < half:
            time.sleep(5)
            samples.append((rss_mb(daemon.pid), fds(daemon.pid)))
        quiet = snapshot(daemon.pid, db, len(server.requests))
        new = 0
        while time.monotonic() - started < 2 * half:
            for i in rng.sample(range(args.feeds), max(1, args.feeds // 10)):
                new += 1
                items[i].insert(0, Item(f"9{i:03d}{new:05d}", f"Feed {i} new release {new}", text=TEXT,
                                        tickers=("Nasdaq:CLRB",)))  # fmt: skip
                server.add(f"f/{i}", feed(*items[i][:20]))
            time.sleep(5)
            samples.append((rss_mb(daemon.pid), fds(daemon.pid)))
        time.sleep(3)
        end = snapshot(daemon.pid, db, len(server.requests))
        daemon.terminate()
        code = daemon.wait(15)
    peak = max(s[0] for s in samples)
    print(
        f"soak: {args.feeds} feeds, 1 s interval, {minutes:g} min; {len(server.requests):,} requests served; exit {code}"
    )
    print(f"{'':22s} {'start':>10s} {'after quiet half':>17s} {'end':>10s}")
    print(
        f"{'resident memory (MB)':22s} {start['rss']:10.1f} {quiet['rss']:17.1f} {end['rss']:10.1f}   peak {peak:.1f}"
    )
    print(f"{'open file descriptors':22s} {start['fds']:10d} {quiet['fds']:17d} {end['fds']:10d}")
    print(
        f"{'database (KB, with WAL)':22s} {start['db'] / 1024:10.0f} {quiet['db'] / 1024:17.0f} {end['db'] / 1024:10.0f}"
    )
    quiet_requests = int(quiet["requests"] - start["requests"])
    print(
        f"quiet half: memory {quiet['rss'] - start['rss']:+.1f} MB, fds {quiet['fds'] - start['fds']:+d}, "
        f"database {(quiet['db'] - start['db']) / 1024:+.0f} KB over {quiet_requests:,} requests"
    )
    quiet_cpu = quiet["cpu"] - start["cpu"]
    print(
        f"CPU of biomon run: quiet half {quiet_cpu / (quiet['at'] - start['at']):.0%} of one core "
        f"({quiet_cpu / max(quiet_requests, 1) * 1000:.2f} ms per feed request), busy half "
        f"{(end['cpu'] - quiet['cpu']) / (end['at'] - quiet['at']):.0%}"
    )
    if new:
        print(
            f"busy half: {new} new releases, database {(end['db'] - quiet['db']) / new / 1024:.1f} KB per release "
            f"(release text ~{len(TEXT) / 1024:.1f} KB)"
        )


if __name__ == "__main__":
    main()
