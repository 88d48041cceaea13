"""Poll-pass benchmark: 1,000 feeds on loopback, 95% answering 304, 5% carrying one new release.

    python benchmarks/poll_pass.py [--feeds 1000] [--hosts 20] [--latency 0.02]

Prints seconds per pass for biomon's concurrent pass, for the same pass one feed at a time, and
for the naive baseline (a loop of GET + feedparser.parse with no validators), all in this run.
The feeds are spread over several loopback addresses (127.0.0.x) because biomon limits requests
per host; each answer waits `--latency` seconds to stand in for a network round trip. The
servers run in a process of their own, so the pollers measured do not share its interpreter.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import feedparser  # noqa: E402
import httpx  # noqa: E402

from monitor.config import load_config  # noqa: E402
from monitor.demo import FeedServer  # noqa: E402
from monitor.poller import Poller  # noqa: E402
from monitor.store import Store  # noqa: E402
from tests.gnw import Item, feed  # noqa: E402

TEXT = (
    "FLORHAM PARK, N.J., Nov. 25, 2026 (GLOBE NEWSWIRE) -- Cellectar Biosciences, Inc. "
    "(NASDAQ: CLRB) today announced an exclusive license agreement. " * 8
)


class Feeds:
    """Feed bodies with ETags; `advance` adds one new release to a share of them."""

    def __init__(self, count: int, latency: float) -> None:
        self.latency = latency
        self.version = [0] * count
        self.lock = threading.Lock()
        self.bodies = [self._body(i, 0) for i in range(count)]

    def _body(self, index: int, version: int) -> bytes:
        items = [
            Item(
                f"{index:05d}{v:03d}",
                f"Feed {index} release {v}",
                text=TEXT,
                tickers=("Nasdaq:CLRB",),
            )
            for v in range(version + 20, version, -1)
        ]
        return feed(*items)

    def advance(self, share: float) -> None:
        step = int(1 / share)
        for index in range(0, len(self.bodies), step):
            self.version[index] += 1
            self.bodies[index] = self._body(index, self.version[index])

    def handler(self, index: int):
        def answer(h) -> None:
            time.sleep(self.latency)
            etag = f'"{index}-{self.version[index]}"'
            if h.headers.get("If-None-Match") == etag:
                h.send_response(304)
                h.send_header("ETag", etag)
                h.send_header("Content-Length", "0")
                h.end_headers()
                return
            body = self.bodies[index]
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.send_header("ETag", etag)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

        return answer


def naive_pass(urls: list[str]) -> float:
    started = time.perf_counter()
    with httpx.Client() as client:
        for url in urls:
            body = client.get(url).content
            feedparser.parse(io.BytesIO(body))
    return time.perf_counter() - started


def biomon_pass(poller: Poller) -> tuple[float, int]:
    started = time.perf_counter()
    report = poller.poll(force=True)
    return time.perf_counter() - started, report.new


def serve(count: int, hosts: int, latency: float, pipe) -> None:
    """The feed servers' process: send the URLs, then advance the feeds on request."""
    feeds = Feeds(count, latency)
    servers = [FeedServer(host=f"127.0.0.{h + 1}").__enter__() for h in range(hosts)]
    pipe.send([servers[i % hosts].add(f"feed/{i}", handler=feeds.handler(i)) for i in range(count)])
    while True:
        command = pipe.recv()
        if command == "stop":
            break
        feeds.advance(command)
        pipe.send("ok")
    for server in servers:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--workers", type=int, default=40)
    args = parser.parse_args()

    here, there = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=serve, args=(args.feeds, args.hosts, args.latency, there)
    )
    process.start()
    urls = here.recv()

    def advance(share: float) -> None:
        here.send(share)
        here.recv()

    workdir = Path(tempfile.mkdtemp(prefix="biomon-bench-"))
    results = {}
    for label, workers, per_host in (
        ("biomon, concurrent", args.workers, 2),
        ("biomon, one by one", 1, 1),
    ):
        config_path = workdir / f"{workers}.toml"
        listed = ", ".join(f'"{u}"' for u in urls)
        config_path.write_text(
            f'[storage]\npath = "{workers}.db"\n[poll]\nworkers = {workers}\nper_host = {per_host}\n'
            f"host_gap = 0\ntimeout = 20\nfeeds = [{listed}]\n"
        )
        config = load_config(config_path)
        poller = Poller.create(config, Store(config.storage.path))
        warm, _ = biomon_pass(poller)  # first pass: every feed is new, validators get stored
        advance(0.05)
        seconds, new = biomon_pass(poller)
        results[label] = (seconds, new)
        print(f"{label:22s} first pass {warm:7.2f} s   steady pass {seconds:7.2f} s   ({new} new)")
        poller.client.close()
    advance(0.05)
    naive = naive_pass(urls)
    print(f"{'naive sequential':22s} {'':24s}steady pass {naive:7.2f} s")
    here.send("stop")
    process.join(10)
    concurrent = results["biomon, concurrent"][0]
    print()
    print(
        f"feeds {args.feeds}, hosts {args.hosts}, latency {args.latency * 1000:.0f} ms, workers {args.workers}"
    )
    print(f"speed-up vs one by one:       {results['biomon, one by one'][0] / concurrent:6.1f}x")
    print(f"speed-up vs naive sequential: {naive / concurrent:6.1f}x")


if __name__ == "__main__":
    main()
