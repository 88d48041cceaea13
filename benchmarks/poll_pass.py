"""Poll-pass benchmark: 1,000 feeds on loopback, 95% answering 304, 5% carrying one new release.

    python benchmarks/poll_pass.py [--feeds 1000] [--hosts 20] [--latency 0.02] [--workers 40]
                                   [--mixed] [--one-company]

Prints seconds per pass for biomon's concurrent pass, for the same pass one feed at a time, and
for two baselines, all in this run: the naive loop with validators a competent user writes
(`feedparser.parse(url, etag=...)`, one feed after another: the target is 20x this) and the
loop without validators (GET every feed with httpx, `feedparser.parse` every body). The feeds
are spread over several loopback addresses (127.0.0.x: biomon limits requests per host) and
served from a process of their own (benchmarks/feedhost.py: HTTP/1.1 keep-alive, ETags); each
answer waits `--latency` seconds to stand in for a network round trip. biomon runs with
`host_gap = 0` and `per_host = 2` here (politeness has its own benchmark: politeness.py).
Each feed publishes for a company of its own, as a watchlist's feeds do (`--one-company`:
every release is CLRB's on one day, so that event detection compares each new release with
the 200 stored ones it allows: the worst case). `--mixed`: a third of the feeds each
GlobeNewswire, PR Newswire and Business Wire; biomon also reads the article page of every new
PR Newswire and Business Wire release (the naive loops read no pages).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import feedparser  # noqa: E402
import httpx  # noqa: E402
from feedhost import FeedHost  # noqa: E402

from monitor.config import load_config  # noqa: E402
from monitor.poller import Poller  # noqa: E402
from monitor.store import Store  # noqa: E402


def naive_pass(urls: list[str]) -> float:
    """GET every feed without validators and parse every body."""
    started = time.perf_counter()
    with httpx.Client() as client:
        for url in urls:
            body = client.get(url).content
            feedparser.parse(io.BytesIO(body))
    return time.perf_counter() - started


def naive_etag_pass(urls: list[str], etags: dict[str, str | None]) -> float:
    """feedparser.parse(url, etag=...) for every feed, keeping the ETags it is given."""
    started = time.perf_counter()
    for url in urls:
        parsed = feedparser.parse(url, etag=etags.get(url))
        etags[url] = parsed.get("etag", etags.get(url))
    return time.perf_counter() - started


def biomon_pass(poller: Poller) -> tuple[float, int, float]:
    """(seconds, new releases, CPU ms per feed) of one pass over every feed."""
    started, cpu = time.perf_counter(), time.process_time()
    report = poller.poll(force=True)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, report.new, cpu / max(len(report.feeds), 1) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--workers", type=int, default=40)
    parser.add_argument("--mixed", action="store_true", help="three wires, article pages too")
    parser.add_argument(
        "--one-company",
        action="store_true",
        help="every release CLRB's on one day (each new one is compared with 200 stored ones)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="biomon-bench-"))
    results = {}
    with FeedHost(
        args.feeds, args.hosts, args.latency, mixed=args.mixed, one_company=args.one_company
    ) as host:
        urls = host.urls
        etags: dict[str, str | None] = {}
        naive_etag_pass(urls, etags)  # its first pass: the ETags
        for label, workers, per_host in (
            ("biomon, concurrent", args.workers, 2),
            ("biomon, one by one", 1, 1),
        ):
            config_path = workdir / f"{workers}.toml"
            config_path.write_text(
                f'[storage]\npath = "{workers}.db"\n[poll]\nworkers = {workers}\n'
                f"per_host = {per_host}\nhost_gap = 0\ntimeout = 20\n"
                f"feeds = {host.config_entries()}\n"
            )
            config = load_config(config_path)
            poller = Poller.create(config, Store(config.storage.path))
            warm, _, _ = biomon_pass(poller)  # first pass: every feed is new, validators stored
            while poller.store.page_counts()["pending"]:  # the backlog's article pages (--mixed)
                poller.fill_pages()
            host.advance(0.05)
            seconds, new, cpu_ms = biomon_pass(poller)
            results[label] = seconds
            print(
                f"{label:22s} first pass {warm:7.2f} s   steady pass {seconds:7.2f} s   "
                f"({new} new, {cpu_ms:.3f} ms CPU per feed)"
            )
            poller.close()
        host.advance(0.05)
        with_etags = naive_etag_pass(urls, etags)
        print(f"{'naive, with ETags':22s} {'':24s}steady pass {with_etags:7.2f} s")
        host.advance(0.05)
        naive = naive_pass(urls)
        print(f"{'naive, no validators':22s} {'':24s}steady pass {naive:7.2f} s")
    concurrent = results["biomon, concurrent"]
    print()
    print(
        f"feeds {args.feeds}, hosts {args.hosts}, latency {args.latency * 1000:.0f} ms, "
        f"workers {args.workers}, per_host 2, host_gap 0"
        + (
            ", wires: GlobeNewswire, PR Newswire, Business Wire (+ article pages)"
            if args.mixed
            else ""
        )
        + (", every release CLRB's" if args.one_company else ", a company per feed")
    )
    print(
        f"speed-up vs one by one:                   {results['biomon, one by one'] / concurrent:6.1f}x"
    )
    print(f"speed-up vs naive with ETags (target 20x): {with_etags / concurrent:6.1f}x")
    print(f"speed-up vs naive without validators:     {naive / concurrent:6.1f}x")


if __name__ == "__main__":
    main()
