"""Alert latency: from a release appearing on a served feed to the email arriving.

    python benchmarks/alert_latency.py [--releases 50] [--interval 5]
    python benchmarks/alert_latency.py --feeds 200 --hosts 5 --releases 50 --parallel 5
    python benchmarks/alert_latency.py --wire prnewswire [--releases 50] [--interval 5]

`biomon run` (a real subprocess) polls local feeds every `--interval` seconds and emails alerts
to a local SMTP server (aiosmtpd). In the same run, on feeds and an SMTP server of its own, the
naive alternative a user would write polls the same way: a loop of feedparser.parse(url) over
the feeds, sqlite3 inserts and smtplib per new item. Releases appear one by one at random
moments; prints p50 and p95 of appearance -> message received for both. Target: biomon's p95
under interval + 1 s.

One feed (the default): biomon runs with host_gap 0. With `--feeds N --hosts H`, the feeds are
spread over H loopback hosts (benchmarks/feedhost.py, ETags, keep-alive) and biomon runs at its
defaults (host_gap 0.5 s, per_host 2, workers 16; `idle_interval` = interval so that every slot
is polled at any hour); the naive loop sends ETags. `--parallel K`: K releases in flight at
once, on different feeds (a 60 s interval otherwise takes an hour for 50 releases).

`--wire prnewswire`: biomon's feed is PR Newswire-shaped (the real feed's elements, a cut
summary) and each release's article page is served too: the alert waits for the page fetch
(feed + page), so the latency includes it. Target: p95 <= interval + 2 s.
"""

from __future__ import annotations

import argparse
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import feedparser

from monitor.demo import FeedServer
from tests.gnw import Item, feed
from tests.smtp import SmtpSink

BACKLOG = [
    Item(f"70000{i:02d}", f"Backlog release {i}", tickers=("Nasdaq:CLRB",)) for i in range(19)
]


def prn_feed(server: FeedServer, items: list[Item]) -> bytes:
    """PR Newswire's RSS for `items` (cut summaries), their article pages served by `server`."""
    from html import escape

    parts = []
    for item in items:
        path = f"news-releases/{item.release_id}-{item.release_id}0.html"
        link = server.url(path)
        server.add(path, f"<html><body><section class='release-body'><p>MADISON, Wis., "
                   f"/PRNewswire/ -- {escape(item.text)} {_detail(item.release_id)}</p></section>"
                   "</body></html>", headers={"Content-Type": "text/html"})  # fmt: skip
        lead = f"MADISON, Wis. /PRNewswire/ -- {item.text[:60]}..."
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>Wed, 25 Nov 2026 16:05:00 +0000</pubDate>"
            f"<description><![CDATA[<p>{escape(lead)}</p>]]></description>"
            f"<dc:contributor>{escape(item.issuer)}</dc:contributor></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>PR Newswire</title>'
        f"{''.join(parts)}</channel></rss>"
    ).encode()


def _detail(release_id: str) -> str:
    """Forty words of body this release alone has: releases telling the same words would be
    one piece of news (one event, one alert), which is right, but not what is measured."""
    return " ".join(f"term{release_id}w{k}" for k in range(40)) + "."


def release(n: int) -> Item:
    return Item(f"71{n:05d}", f"Cellectar Biosciences Signs Exclusive License Agreement {n}",
                tickers=("Nasdaq:CLRB",),
                text="Cellectar Biosciences (NASDAQ: CLRB) signed an exclusive license agreement.")  # fmt: skip


def naive_poller(
    url: str, port: int, interval: float, stop: threading.Event, db_path: Path
) -> None:
    """What a user writes by hand: parse the URL, insert, mail each new item."""
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, title TEXT)")
    first = True
    while not stop.is_set():
        parsed = feedparser.parse(url)
        for entry in parsed.entries:
            cursor = db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (entry.id, entry.title))
            if cursor.rowcount and not first:
                message = EmailMessage()
                message["Subject"], message["From"], message["To"] = entry.title, "a@test", "b@test"
                message.set_content(entry.get("summary", ""))
                with smtplib.SMTP("127.0.0.1", port) as smtp:
                    smtp.send_message(message)
        db.commit()
        first = False
        stop.wait(interval)


def measure(
    server: FeedServer,
    path: str,
    sink: SmtpSink,
    count: int,
    seed: int,
    interval: float,
    wire: str = "globenewswire",
) -> list[float]:
    import random

    rng = random.Random(seed)
    items = list(BACKLOG)
    latencies = []
    for n in range(count):
        time.sleep(rng.uniform(0.2, interval + 0.2))  # any moment of the poll cycle
        new = release(seed * 1000 + n)
        items.insert(0, new)
        body = prn_feed(server, items[:20]) if wire == "prnewswire" else feed(*items[:20])
        server.add(path, body)
        appeared = time.monotonic()
        title = new.title
        while not any(title in s for s in sink.subjects()):
            time.sleep(0.01)
            if time.monotonic() - appeared > 60:
                raise SystemExit(f"no alert for {title} after 60 s")
        latencies.append(time.monotonic() - appeared)
    return latencies


def naive_many(
    urls: list[str], port: int, interval: float, stop: threading.Event, db_path: Path
) -> None:
    """The naive loop over many feeds: feedparser.parse(url, etag=...) each, then wait."""
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, title TEXT)")
    etags: dict[str, str | None] = {}
    first = True
    while not stop.is_set():
        started = time.monotonic()
        for url in urls:
            parsed = feedparser.parse(url, etag=etags.get(url))
            etags[url] = parsed.get("etag", etags.get(url))
            for entry in parsed.entries:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO seen VALUES (?, ?)", (entry.id, entry.title)
                )
                if cursor.rowcount and not first:
                    message = EmailMessage()
                    message["Subject"], message["From"], message["To"] = (
                        entry.title,
                        "a@test",
                        "b@test",
                    )
                    message.set_content(entry.get("summary", ""))
                    with smtplib.SMTP("127.0.0.1", port) as smtp:
                        smtp.send_message(message)
        db.commit()
        first = False
        stop.wait(max(0.0, interval - (time.monotonic() - started)))


def measure_many(
    host, sink: SmtpSink, count: int, seed: int, interval: float, parallel: int
) -> list[float]:
    """`count` releases on random feeds of `host`, `parallel` in flight: latencies."""
    import random

    rng = random.Random(seed)
    free = list(range(len(host.urls)))
    rng.shuffle(free)
    lock = threading.Lock()
    latencies: list[float] = []

    def one_after_another(runs: int, feeds: list[int]) -> None:
        for n in range(runs):
            time.sleep(rng.uniform(0.2, interval + 0.2))
            title = host.bump(feeds[n % len(feeds)])
            appeared = time.monotonic()
            while not any(title in s for s in sink.subjects()):
                time.sleep(0.01)
                if time.monotonic() - appeared > 5 * interval + 60:
                    raise SystemExit(f"no alert for {title}")
            with lock:
                latencies.append(time.monotonic() - appeared)

    threads = [
        threading.Thread(
            target=one_after_another, args=(len(range(k, count, parallel)), free[k::parallel])
        )
        for k in range(parallel)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return f"{name:10s} p50 {statistics.median(values):5.2f} s   p95 {p95:5.2f} s   max {values[-1]:5.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--feeds", type=int, default=1)
    parser.add_argument("--hosts", type=int, default=1)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--wire", choices=["globenewswire", "prnewswire"], default="globenewswire")
    args = parser.parse_args()
    if args.feeds > 1:
        return many(args)
    workdir = Path(tempfile.mkdtemp(prefix="biomon-latency-"))
    with FeedServer() as server:
        ours, theirs = SmtpSink().start(), SmtpSink().start()
        prn = args.wire == "prnewswire"
        server.add("biomon.xml", prn_feed(server, BACKLOG) if prn else feed(*BACKLOG))
        server.add("naive.xml", feed(*BACKLOG))
        entry = (
            f'{{ url = "{server.url("biomon.xml")}", source = "prnewswire" }}'
            if prn
            else f'"{server.url("biomon.xml")}"'
        )
        config = workdir / "biomon.toml"
        config.write_text(
            f'[storage]\npath = "biomon.db"\n[poll]\ninterval = {args.interval:g}\nhost_gap = 0\n'
            f'feeds = [{entry}]\n[[watch]]\nticker = "CLRB"\n'
            f"{ours.email_config()}\n[daemon]\nidle_interval = {args.interval:g}\n"
        )
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stderr=open(workdir / "daemon.log", "w"),  # noqa: SIM115
        )
        stop = threading.Event()
        naive = threading.Thread(
            target=naive_poller,
            args=(server.url("naive.xml"), theirs.port, args.interval, stop, workdir / "naive.db"),
            daemon=True,
        )
        naive.start()
        time.sleep(args.interval + 2)  # both have stored the backlog
        results: dict[str, list[float]] = {}
        runs = [
            threading.Thread(target=lambda: results.__setitem__("biomon", measure(server, "biomon.xml", ours, args.releases, 1, args.interval, args.wire))),
            threading.Thread(target=lambda: results.__setitem__("naive", measure(server, "naive.xml", theirs, args.releases, 2, args.interval))),
        ]  # fmt: skip
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        stop.set()
        daemon.terminate()
        daemon.wait(10)
        ours.stop()
        theirs.stop()
    print(
        f"{args.releases} releases each, poll interval {args.interval:g} s, email to a local SMTP server"
        + (
            "; biomon on a PR Newswire feed + article page fetch"
            if args.wire == "prnewswire"
            else ""
        )
    )
    print(summary("biomon", results["biomon"]))
    print(summary("naive", results["naive"]))
    duplicates = len(ours.subjects()) - len(set(ours.subjects()))
    target = args.interval + (2 if args.wire == "prnewswire" else 1)
    print(f"biomon duplicate emails: {duplicates}; target p95 < {target:g} s")


def many(args) -> None:
    """Many feeds on several hosts at biomon's defaults: the daemon's slots under test."""
    from feedhost import FeedHost

    workdir = Path(tempfile.mkdtemp(prefix="biomon-latency-"))
    interval = int(args.interval)
    ours, theirs = SmtpSink().start(), SmtpSink().start()
    with (
        FeedHost(args.feeds, args.hosts, one_company=True) as mine,
        FeedHost(args.feeds, args.hosts, one_company=True) as naive_host,
    ):
        listed = ", ".join(f'"{u}"' for u in mine.urls)
        config = workdir / "biomon.toml"
        config.write_text(
            f'[storage]\npath = "biomon.db"\n[poll]\ninterval = {interval}\nfeeds = [{listed}]\n'
            f'[[watch]]\nticker = "CLRB"\n{ours.email_config()}\n[daemon]\nidle_interval = {interval}\n'
        )
        command = [sys.executable, "-m", "monitor", "--config", str(config)]
        subprocess.run([*command, "catch-up"], check=True, capture_output=True, cwd=workdir)
        daemon = subprocess.Popen([*command, "run"], stderr=open(workdir / "daemon.log", "w"),  # noqa: SIM115
                                  cwd=workdir)  # fmt: skip
        stop = threading.Event()
        naive = threading.Thread(target=naive_many, daemon=True,
                                 args=(naive_host.urls, theirs.port, interval, stop, workdir / "naive.db"))  # fmt: skip
        naive.start()
        time.sleep(interval + 5)  # the naive loop has stored every backlog
        results: dict[str, list[float]] = {}
        runs = [
            threading.Thread(target=lambda: results.__setitem__("biomon", measure_many(mine, ours, args.releases, 1, interval, args.parallel))),
            threading.Thread(target=lambda: results.__setitem__("naive", measure_many(naive_host, theirs, args.releases, 2, interval, args.parallel))),
        ]  # fmt: skip
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        stop.set()
        daemon.terminate()
        daemon.wait(15)
    ours.stop()
    theirs.stop()
    print(
        f"{args.releases} releases each ({args.parallel} at once on different feeds); {args.feeds} feeds "
        f"on {args.hosts} hosts, interval {interval} s; biomon at its defaults (host_gap 0.5 s, "
        "per_host 2, workers 16); email to a local SMTP server"
    )
    print(summary("biomon", results["biomon"]))
    print(summary("naive", results["naive"]))
    duplicates = len(ours.subjects()) - len(set(ours.subjects()))
    print(f"biomon duplicate emails: {duplicates}; target p95 < {interval + 1:g} s")


if __name__ == "__main__":
    main()
