"""Alert latency: from a release appearing on a served feed to the email arriving.

    python benchmarks/alert_latency.py [--releases 50] [--interval 5]

`biomon run` (a real subprocess) polls a local feed every `--interval` seconds and emails alerts
to a local SMTP server (aiosmtpd). In the same run, on its own feed and SMTP server, the naive
alternative a user would write polls the same way: a loop of feedparser.parse(url), sqlite3
inserts and smtplib per new item. Releases appear one by one at random moments; prints p50 and
p95 of appearance -> message received for both. Target: biomon's p95 under interval + 1 s.
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

import feedparser

from monitor.demo import FeedServer
from tests.gnw import Item, feed
from tests.smtp import SmtpSink

BACKLOG = [
    Item(f"70000{i:02d}", f"Backlog release {i}", tickers=("Nasdaq:CLRB",)) for i in range(19)
]


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
    server: FeedServer, path: str, sink: SmtpSink, count: int, seed: int, interval: float
) -> list[float]:
    import random

    rng = random.Random(seed)
    items = list(BACKLOG)
    latencies = []
    for n in range(count):
        time.sleep(rng.uniform(0.2, interval + 0.2))  # any moment of the poll cycle
        new = release(seed * 1000 + n)
        items.insert(0, new)
        server.add(path, feed(*items[:20]))
        appeared = time.monotonic()
        title = new.title
        while not any(title in s for s in sink.subjects()):
            time.sleep(0.01)
            if time.monotonic() - appeared > 60:
                raise SystemExit(f"no alert for {title} after 60 s")
        latencies.append(time.monotonic() - appeared)
    return latencies


def summary(name: str, values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    return f"{name:10s} p50 {statistics.median(values):5.2f} s   p95 {p95:5.2f} s   max {values[-1]:5.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="biomon-latency-"))
    with FeedServer() as server:
        ours, theirs = SmtpSink().start(), SmtpSink().start()
        server.add("biomon.xml", feed(*BACKLOG))
        server.add("naive.xml", feed(*BACKLOG))
        config = workdir / "biomon.toml"
        config.write_text(
            f'[storage]\npath = "biomon.db"\n[poll]\ninterval = {args.interval:g}\nhost_gap = 0\n'
            f'feeds = ["{server.url("biomon.xml")}"]\n[[watch]]\nticker = "CLRB"\n'
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
            threading.Thread(target=lambda: results.__setitem__("biomon", measure(server, "biomon.xml", ours, args.releases, 1, args.interval))),
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
    )
    print(summary("biomon", results["biomon"]))
    print(summary("naive", results["naive"]))
    duplicates = len(ours.subjects()) - len(set(ours.subjects()))
    print(f"biomon duplicate emails: {duplicates}; target p95 < {args.interval + 1:g} s")


if __name__ == "__main__":
    main()
