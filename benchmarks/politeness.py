"""Politeness: 40 feeds on one host (a GlobeNewswire-only watchlist) at biomon's defaults.

    python benchmarks/politeness.py [--feeds 40] [--latency 0.02] [--interval 60] [--cycles 2]

Defaults throughout: host_gap 0.5 s, per_host 2, workers 16, interval 60 s (and
`idle_interval` = interval: every slot polled, busy hours or not); the feeds answer from one
loopback host (benchmarks/feedhost.py), `--latency` late, with ETags.

1. The pass `biomon poll --once` makes (`Poller.poll` over all 40): after a first pass that
   stores the backlogs, a steady pass gets 40 answers 304. It is bound by politeness alone:
   target within 10% of feeds x host_gap (20 s), and CPU per 304 answer at most 0.5 ms.
   Baseline in the same run: the naive loop with validators a competent user writes,
   `feedparser.parse(url, etag=...)` one feed after another (no gap at all).
2. `biomon run` as a process, `--cycles` intervals after a `biomon catch-up`: the daemon
   spreads the host's feeds over the interval (1.5 s apart for 40 in 60 s), so no request
   waits for the gap and none comes closer than host_gap; every feed is asked once an
   interval. Seen from the server: gaps between requests, each feed's period, and the
   daemon's CPU per 304 answer (/proc).
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from feedhost import FeedHost  # noqa: E402
from soak import cpu_seconds, naive_cpu_per_304  # noqa: E402

from monitor.config import load_config  # noqa: E402
from monitor.poller import Poller  # noqa: E402
from monitor.store import Store  # noqa: E402


def write_config(path: Path, urls: list[str], interval: int) -> Path:
    listed = ", ".join(f'"{u}"' for u in urls)
    # idle_interval = interval: every slot is polled, also outside the busy hours.
    path.write_text(
        f'[storage]\npath = "biomon.db"\n[poll]\ninterval = {interval}\nfeeds = [{listed}]\n'
        f"[daemon]\nidle_interval = {interval}\n"
    )
    return path


def naive_pass(urls: list[str]) -> float:
    """The ETag-aware loop: seconds for one steady pass."""
    import feedparser

    etags = {url: feedparser.parse(url).get("etag") for url in urls}
    started = time.perf_counter()
    for url in urls:
        feedparser.parse(url, etag=etags[url])
    return time.perf_counter() - started


def bare_paced(urls: list[str], gap: float) -> float:
    """CPU ms per 304 of the floor at biomon's pace: a bare `http.client` conditional GET on
    one kept-alive connection, one request every `gap` seconds, nothing parsed or stored.
    At this pace every answer is a wake-up after a sleep; this is what one costs here."""
    parts = [urlsplit(url) for url in urls]
    connection = http.client.HTTPConnection(parts[0].hostname, parts[0].port, timeout=20)
    etags = []
    for part in parts:
        connection.request("GET", part.path)
        answer = connection.getresponse()
        answer.read()
        etags.append(answer.getheader("ETag"))
    cpu = time.process_time()
    answered = 0
    for part, etag in zip(parts, etags, strict=True):
        time.sleep(gap)
        connection.request("GET", part.path, headers={"If-None-Match": etag})
        answer = connection.getresponse()
        answer.read()
        answered += answer.status == 304
    cpu = time.process_time() - cpu
    connection.close()
    return cpu / max(answered, 1) * 1000


def library_pass(urls: list[str], workdir: Path) -> tuple[float, float, int]:
    """(seconds, CPU ms per 304, 304 answers) of a steady `Poller.poll` over every feed."""
    config = load_config(write_config(workdir / "pass.toml", urls, 60))
    poller = Poller.create(config, Store(config.storage.path))
    try:
        poller.poll(force=True)  # the backlogs, and the validators
        started, cpu = time.perf_counter(), time.process_time()
        report = poller.poll(force=True)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        poller.close()
    not_modified = sum(1 for feed in report.feeds if feed.status == 304)
    return seconds, cpu / max(not_modified, 1) * 1000, not_modified


def daemon_run(host: FeedHost, workdir: Path, interval: int, cycles: int) -> dict:
    """Run `biomon run` for `cycles` intervals after a catch-up; what the server saw."""
    config = write_config(workdir / "daemon" / "biomon.toml", host.urls, interval)
    command = [sys.executable, "-m", "monitor", "--config", str(config)]
    subprocess.run([*command, "catch-up"], check=True, capture_output=True, cwd=config.parent)
    log = open(config.parent / "daemon.log", "w")  # noqa: SIM115
    daemon = subprocess.Popen([*command, "run"], stderr=log, cwd=config.parent)
    time.sleep(2)
    since, cpu = time.time(), cpu_seconds(daemon.pid)
    time.sleep(interval * cycles)
    cpu = cpu_seconds(daemon.pid) - cpu
    daemon.terminate()
    daemon.wait(15)
    seen = [(at, index, status) for at, index, status in host.log() if at >= since]
    seen = [entry for entry in seen if entry[0] <= since + interval * cycles]
    times = [at for at, _, _ in seen]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    periods = []
    for index in {index for _, index, _ in seen}:
        own = [at for at, i, _ in seen if i == index]
        periods += [b - a for a, b in zip(own, own[1:], strict=False)]
    not_modified = sum(1 for entry in seen if entry[2] == 304)
    return {"requests": len(seen), "304": not_modified, "gaps": gaps, "periods": periods,
            "feeds": len({index for _, index, _ in seen}), "cpu_ms": cpu / max(not_modified, 1) * 1000}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--interval", type=int, default=60)
    parser.add_argument("--cycles", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="biomon-polite-"))
    (workdir / "daemon").mkdir()
    gap = 0.5
    bound = args.feeds * gap
    with FeedHost(args.feeds, hosts=1, latency=args.latency) as host:
        naive = naive_pass(host.urls)
        naive_cpu, _ = naive_cpu_per_304(host.urls, rounds=2)
        seconds, cpu_ms, not_modified = library_pass(host.urls, workdir)
        bare_ms = bare_paced(host.urls, gap)
        bare_daemon_ms = bare_paced(host.urls[:20], args.interval / args.feeds)
        daemon = daemon_run(host, workdir, args.interval, args.cycles)
    print(
        f"{args.feeds} feeds on one host, latency {args.latency * 1000:.0f} ms, defaults: "
        f"host_gap {gap:g} s, per_host 2, workers 16, interval {args.interval} s"
    )
    print()
    print("1. one steady pass over every feed (`biomon poll --once`)")
    print(f"   biomon Poller.poll      {seconds:6.2f} s   ({not_modified} answers 304, "
          f"{cpu_ms:.3f} ms CPU per 304)")  # fmt: skip
    print(f"   naive ETag loop         {naive:6.2f} s   ({naive_cpu * 1000:.3f} ms CPU per 304, "
          "back to back)")  # fmt: skip
    print(
        f"   floor at biomon's pace: a bare http.client 304 every {gap:g} s, nothing parsed "
        f"or stored: {bare_ms:.3f} ms CPU per 304; biomon / floor = {cpu_ms / bare_ms:.2f}x"
    )
    print(
        f"   politeness bound, feeds x host_gap = {bound:g} s: biomon / bound = "
        f"{seconds / bound:.3f} (target 0.90-1.10); biomon / naive = {seconds / naive:.1f}x "
        f"slower, by design: the naive loop asks one host {args.feeds / naive:.0f} times a second"
    )
    print()
    gaps, periods = daemon["gaps"], daemon["periods"]
    print(f"2. `biomon run`, {args.cycles} intervals after a catch-up")
    print(
        f"   {daemon['requests']} requests ({daemon['304']} answered 304) from "
        f"{daemon['feeds']} feeds; expected {args.feeds * args.cycles}"
    )
    if gaps:
        print(
            f"   gaps between requests to the host: min {min(gaps):.2f} s, median "
            f"{statistics.median(gaps):.2f} s (even spread: {args.interval / args.feeds:.2f} s; "
            f"host_gap {gap:g} s)"
        )
    if periods:
        print(
            f"   each feed asked every {statistics.median(periods):.2f} s (median; min "
            f"{min(periods):.2f}, max {max(periods):.2f}; interval {args.interval} s)"
        )
    print(
        f"   CPU of biomon run: {daemon['cpu_ms']:.3f} ms per 304 answer (target <= 0.5 ms; "
        f"includes its idle ticks and heartbeats)"
    )
    print(
        f"   floor at the daemon's pace: a bare http.client 304 every "
        f"{args.interval / args.feeds:g} s: {bare_daemon_ms:.3f} ms CPU per 304; "
        f"biomon run / floor = {daemon['cpu_ms'] / bare_daemon_ms:.2f}x"
    )


if __name__ == "__main__":
    main()
