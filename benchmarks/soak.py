"""Soak: `biomon run` against 200 local feeds polled every second, watched from outside.

    python benchmarks/soak.py            # 30 minutes
    python benchmarks/soak.py --quick    # 2 minutes
    python benchmarks/soak.py --minutes 3 --source /tmp/old-biomon   # the daemon of another tree

The feeds answer with ETags from a process of their own (benchmarks/feedhost.py: HTTP/1.1
keep-alive, one loopback host by default). First half: the feeds do not change (what a monitor
does most of the day): every answer is 304 Not Modified; resident memory, open file descriptors
and database size must stay flat, and the daemon's CPU time per 304 answer is the figure
(target: at most 0.5 ms). Second half: one feed in ten gets a new release every 5 s: database
growth per new release. Samples /proc/<pid> (Linux).

Baseline in the same run, before the daemon starts: the loop a competent user writes,
`feedparser.parse(url, etag=...)` over the same feeds, its CPU time per 304 answer.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from feedhost import FeedHost  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def snapshot(pid: int, db: Path, host: FeedHost) -> dict[str, float]:
    """What the daemon holds and has used at this moment, and the answers served so far."""
    requests, not_modified = host.counts()
    return {"rss": rss_mb(pid), "fds": fds(pid), "threads": threads(pid), "db": db_bytes(db),
            "cpu": cpu_seconds(pid), "at": time.monotonic(), "requests": requests,
            "304": not_modified}  # fmt: skip


def wait_for_quiet(
    host: FeedHost, feeds: int, daemon: subprocess.Popen, limit: float = 900.0
) -> float:
    """Wait until the daemon has stored the backlog and every feed has answered 304 once more.

    The first poll of each feed stores its 20 releases (classified, tagged): on a loaded machine
    that took over a minute, and a fixed wait then measured the backlog as the "quiet" half.
    Returns the seconds waited.
    """
    started = time.monotonic()
    _, first = host.counts()
    while time.monotonic() - started < limit:
        if daemon.poll() is not None:
            raise SystemExit(f"biomon run exited with {daemon.returncode} during the backlog")
        _, not_modified = host.counts()
        if not_modified - first >= 2 * feeds:  # two rounds of 304s: past the backlog pass
            time.sleep(2)
            return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"no quiet state after {limit:.0f} s: every feed should answer 304 by then")


def _naive(urls: list[str], rounds: int, pipe) -> None:
    import feedparser

    etags = {url: feedparser.parse(url).get("etag") for url in urls}
    started, answers = time.process_time(), 0
    for _ in range(rounds):
        for url in urls:
            answers += feedparser.parse(url, etag=etags[url]).get("status") == 304
    pipe.send((time.process_time() - started, answers))


def naive_cpu_per_304(urls: list[str], rounds: int = 5) -> tuple[float, int]:
    """CPU seconds per 304 answer of the ETag-aware feedparser loop, in a process of its own."""
    here, there = multiprocessing.Pipe()
    process = multiprocessing.Process(target=_naive, args=(urls, rounds, there))
    process.start()
    cpu, answers = here.recv()
    process.join()
    return cpu / max(answers, 1), answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes instead of 30")
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=1)
    parser.add_argument("--interval", type=int, default=1)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--http10", action="store_true", help="one connection per request")
    parser.add_argument("--source", type=Path, help="run the daemon from this source tree")
    args = parser.parse_args()
    minutes = args.minutes or (2 if args.quick else 30)
    workdir = Path(tempfile.mkdtemp(prefix="biomon-soak-"))
    with FeedHost(args.feeds, args.hosts, keep_alive=not args.http10, one_company=True) as host:
        naive, naive_answers = naive_cpu_per_304(host.urls)
        listed = ", ".join(f'"{u}"' for u in host.urls)
        config = workdir / "biomon.toml"
        config.write_text(
            f'[storage]\npath = "biomon.db"\n[poll]\ninterval = {args.interval}\nhost_gap = 0\n'
            f"per_host = {args.per_host}\nworkers = {args.workers}\nfeeds = [{listed}]\n"
            '[[watch]]\nticker = "CLRB"\n[notify.desktop]\nenabled = true\n'
            f"[daemon]\nidle_interval = {args.interval}\n"
        )
        db = workdir / "biomon.db"
        env = dict(os.environ)
        if args.source:
            env["PYTHONPATH"] = str(args.source.resolve())
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stderr=open(workdir / "daemon.log", "w"),  # noqa: SIM115
            cwd=workdir,  # `-m` puts the working folder first on sys.path
            env=env,
        )
        backlog = wait_for_quiet(host, len(host.urls), daemon)
        start = snapshot(daemon.pid, db, host)
        half = minutes * 30
        samples = []
        started = time.monotonic()
        while time.monotonic() - started < half:
            time.sleep(5)
            samples.append((rss_mb(daemon.pid), fds(daemon.pid)))
        quiet = snapshot(daemon.pid, db, host)
        new = 0
        while time.monotonic() - started < 2 * half:
            new += host.advance(0.1)
            time.sleep(5)
            samples.append((rss_mb(daemon.pid), fds(daemon.pid)))
        time.sleep(3)
        end = snapshot(daemon.pid, db, host)
        daemon.terminate()
        code = daemon.wait(15)
    peak = max(s[0] for s in samples)
    print(
        f"soak: {args.feeds} feeds on {args.hosts} host(s), interval {args.interval} s, "
        f"host_gap 0, per_host {args.per_host}, workers {args.workers}, "
        f"{'a connection per request' if args.http10 else 'keep-alive'}, "
        f"{minutes:g} min after the backlog ({backlog:.0f} s); {end['requests']:,} requests "
        f"served; exit {code}" + (f"; daemon from {args.source}" if args.source else "")
    )
    print(f"{'':22s} {'start':>10s} {'after quiet half':>17s} {'end':>10s}")
    print(
        f"{'resident memory (MB)':22s} {start['rss']:10.1f} {quiet['rss']:17.1f} {end['rss']:10.1f}   peak {peak:.1f}"
    )
    print(f"{'open file descriptors':22s} {start['fds']:10d} {quiet['fds']:17d} {end['fds']:10d}")
    print(f"{'threads':22s} {start['threads']:10d} {quiet['threads']:17d} {end['threads']:10d}")
    print(
        f"{'database (KB, with WAL)':22s} {start['db'] / 1024:10.0f} {quiet['db'] / 1024:17.0f} {end['db'] / 1024:10.0f}"
    )
    quiet_requests = int(quiet["requests"] - start["requests"])
    quiet_304 = int(quiet["304"] - start["304"])
    print(
        f"quiet half: memory {quiet['rss'] - start['rss']:+.1f} MB, fds {quiet['fds'] - start['fds']:+d}, "
        f"database {(quiet['db'] - start['db']) / 1024:+.0f} KB over {quiet_requests:,} requests "
        f"({quiet_304:,} answered 304)"
    )
    quiet_cpu = quiet["cpu"] - start["cpu"]
    per_304 = quiet_cpu / max(quiet_304, 1) * 1000
    seconds = quiet["at"] - start["at"]
    print(
        f"CPU of biomon run: quiet half {quiet_cpu / seconds:.0%} of one core, "
        f"{quiet_304 / seconds:.0f} answers/s, {per_304:.3f} ms per 304 answer "
        f"(target <= 0.5 ms); busy half {(end['cpu'] - quiet['cpu']) / (end['at'] - quiet['at']):.0%}"
    )
    print(
        f"baseline, feedparser.parse(url, etag=...) loop: {naive * 1000:.3f} ms CPU per 304 answer "
        f"({naive_answers:,} answers); biomon / baseline: {per_304 / (naive * 1000):.2f}x"
    )
    if new:
        print(
            f"busy half: {new} new releases, database {(end['db'] - quiet['db']) / new / 1024:.1f} KB per release"
        )


if __name__ == "__main__":
    main()
