"""Feeds with ETags on loopback hosts, served from a process of its own (for the benchmarks).

    with FeedHost(count=40, hosts=1, latency=0.02) as host:
        host.urls              # feed i on 127.0.0.(1 + i % hosts)
        host.advance(0.05)     # one new release on every 20th feed
        host.bump(7)           # one new release on feed 7; its title
        host.counts()          # (requests, 304 answers) so far
        host.config_entries()  # [poll] feeds, each naming its wire (mixed=True: three wires)
        host.log()             # [(unix time, feed index, status), ...] so far

Feed i publishes for a company of its own (ticker `symbol_of(i)`), as a watchlist's feeds do;
`one_company=True` makes every release CLRB's (the alert-latency and soak runs watch CLRB).
With `mixed=True` feed i speaks GlobeNewswire, PR Newswire or Business Wire in turn (i % 3):
the latter two carry cut summaries and their article pages are served too (any path not under
/feed/). The servers speak HTTP/1.1 with keep-alive, as the wires' servers do (`keep_alive=False`: one
connection per request). Each answer waits `latency` seconds (a network round trip)
and carries an ETag; a request with the current ETag gets 304 Not Modified. The servers run in
a process of their own, so a poller measured in this process does not share its interpreter,
and a daemon measured through /proc does not count their work.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import random
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.gnw import Item, feed  # noqa: E402

DATELINE = "FLORHAM PARK, N.J., Nov. 25, 2026 (GLOBE NEWSWIRE) -- "
WORDS = (
    "antibody assay biomarker cohort dosing efficacy enrollment formulation genome hepatic "
    "immunotherapy kinase lesion lymphoma milestone neuropathy oncology pathway placebo "
    "protocol receptor regimen remission sarcoma screening sequencing stability toxicity "
    "tumor vaccine vector viral yield adjuvant biopsy cardiac cellular clinical cytokine "
    "diagnostic endpoint enzyme fibrosis infusion inhibitor ligand marrow metabolic molecule "
    "mutation oral peptide pharmacology plasma platform potency renal retinal serum signaling "
    "subcutaneous synthesis tissue transplant"
).split()


def symbol_of(index: int, one_company: bool = False) -> str:
    """The ticker feed `index` publishes for: its own company's (four letters), or with
    `one_company` CLRB for every feed (a watchlist rule on CLRB then matches every release)."""
    if one_company:
        return "CLRB"
    letters = ""
    for _ in range(4):
        index, rest = divmod(index, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@functools.lru_cache(maxsize=4096)
def text_of(index: int, version: int, symbol: str = "CLRB") -> str:
    """The text of release `version` of feed `index`: its own news (a benchmark's releases
    must not be copies of one another, or biomon's event detection rightly merges them and
    sends one alert), ~1.2 KB like the feeds' items were."""
    rng = random.Random(index * 100_003 + version)
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(14)).capitalize() + "." for _ in range(9)
    ]
    company = "Cellectar Biosciences" if symbol == "CLRB" else f"{symbol.title()} Therapeutics"
    return f"{DATELINE}{company}, Inc. (NASDAQ: {symbol}) today announced " + " ".join(sentences)


WIRES = ("globenewswire", "prnewswire", "businesswire")


def wire_of(index: int, mixed: bool) -> str:
    """The wire feed `index` speaks: GlobeNewswire, or with `mixed` the three wires in turn."""
    return WIRES[index % len(WIRES)] if mixed else WIRES[0]


def _wire_item(wire: str, base: str, index: int, v: int, symbol: str = "CLRB") -> str:
    """One RSS item in PR Newswire's or Business Wire's shape (cut summary; the article page
    at the item's link holds the whole text)."""
    title = f"Feed {index} release {v}"
    if wire == "prnewswire":
        link = f"{base}/news-releases/feed-{index}-release-{v}-{300000000 + index * 1000 + v}.html"
        summary = (
            text_of(index, v, symbol)[:200].replace("(GLOBE NEWSWIRE)", "/PRNewswire/") + "..."
        )
    else:
        link = f"{base}/news/home/20261125{index * 1000 + v:06d}/en/Feed-{index}-Release-{v}/"
        summary = (
            text_of(index, v, symbol)[:200]
            .replace(" (GLOBE NEWSWIRE) -- ", f"--(BUSINESS WIRE)--${symbol}--")
            .replace("NASDAQ", "Nasdaq")
            + "..."
        )
    return (
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        "<pubDate>Wed, 25 Nov 2026 13:30:00 +0000</pubDate>"
        f"<description><![CDATA[<p>{summary}</p>]]></description></item>"
    )


@functools.lru_cache(maxsize=4096)
def article_page(wire: str, index: int = 0, version: int = 0, symbol: str = "CLRB") -> bytes:
    """The article page of release `version` of feed `index` on `wire`: the whole release."""
    body = (
        'section class="release-body"' if wire == "prnewswire" else 'div class="bw-release-story"'
    )
    tag = body.split()[0]
    text = (
        text_of(index, version, symbol)
        + " The full release: "
        + " ".join(["More news of the release."] * 60)
    )
    return (
        f"<html><head><title>Release</title></head><body><{body}><p>{text}</p></{tag}>"
        "</body></html>"
    ).encode()


_PAGE_PATH = re.compile(r"(?i)feed-(\d+)-release-(\d+)")


class Feeds:
    """Feed bodies with ETags; `advance` adds one new release to a share of them."""

    def __init__(
        self,
        count: int,
        items: int = 20,
        mixed: bool = False,
        bases: list[str] | None = None,
        one_company: bool = False,
    ) -> None:
        self.items = items
        self.mixed = mixed
        self.one_company = one_company
        self.bases = bases or [""] * count
        self.version = [0] * count
        self.bodies = [self._body(i, 0) for i in range(count)]

    def _body(self, index: int, version: int) -> bytes:
        newest = version + self.items
        wire = wire_of(index, self.mixed)
        symbol = self.symbol(index)
        if wire != "globenewswire":
            items = "".join(
                _wire_item(wire, self.bases[index], index, v, symbol)
                for v in range(newest, version, -1)
            )
            return (
                f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
            )
        return feed(
            *(
                Item(f"{index:05d}{v:04d}", f"Feed {index} release {v}",
                     text=text_of(index, v, symbol), tickers=(f"Nasdaq:{symbol}",))
                for v in range(newest, version, -1)
            )
        )  # fmt: skip

    def symbol(self, index: int) -> str:
        return symbol_of(index, self.one_company)

    def advance(self, share: float) -> int:
        step = max(1, round(1 / share))
        changed = 0
        for index in range(0, len(self.bodies), step):
            self.version[index] += 1
            self.bodies[index] = self._body(index, self.version[index])
            changed += 1
        return changed

    def bump(self, index: int) -> str:
        """One new release on feed `index`; return its title."""
        self.version[index] += 1
        self.bodies[index] = self._body(index, self.version[index])
        return f"Feed {index} release {self.version[index] + self.items}"

    def etag(self, index: int) -> str:
        return f'"{index}-{self.version[index]}"'


def _serve(
    count: int,
    hosts: int,
    latency: float,
    keep_alive: bool,
    items: int,
    mixed: bool,
    one_company: bool,
    pipe,
) -> None:
    log: list[tuple[float, int, int]] = []
    lock = threading.Lock()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A small HTTP/1.1 server on asyncio: one thread for every connection of every host,
        # so that the servers' own cost stays small beside the pollers measured.
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split()[1]
                if not path.startswith("/feed/"):  # an article page (PR Newswire, Business Wire)
                    if latency:
                        await asyncio.sleep(latency)
                    wire = "prnewswire" if "/news-releases/" in path else "businesswire"
                    found = _PAGE_PATH.search(path)
                    index, version = map(int, found.groups()) if found else (0, 0)
                    page = article_page(wire, index, version, feeds.symbol(index))
                    with lock:
                        log.append((time.time(), -1, 200))
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                        + f"Content-Length: {len(page)}\r\n\r\n".encode()
                        + page
                    )
                    await writer.drain()
                    continue
                index = int(path.rsplit("/", 1)[-1])
                asked = next((line.split(":", 1)[1].strip() for line in lines[1:]
                              if line.lower().startswith("if-none-match:")), None)  # fmt: skip
                if latency:
                    await asyncio.sleep(latency)
                etag = feeds.etag(index)
                fresh = asked == etag
                with lock:
                    log.append((time.time(), index, 304 if fresh else 200))
                body = b"" if fresh else feeds.bodies[index]
                status = "304 Not Modified" if fresh else "200 OK"
                kind = "" if fresh else "Content-Type: application/rss+xml\r\n"
                close = "" if keep_alive else "Connection: close\r\n"
                writer.write(
                    f"HTTP/1.1 {status}\r\nETag: {etag}\r\n{kind}{close}"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
                if not keep_alive:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    loop = asyncio.new_event_loop()
    servers = [
        loop.run_until_complete(asyncio.start_server(answer, f"127.0.0.{h + 1}", 0))
        for h in range(hosts)
    ]
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    bases = [f"http://127.0.0.{i % hosts + 1}:{ports[i % hosts]}" for i in range(count)]
    feeds = Feeds(count, items, mixed, bases, one_company)
    threading.Thread(target=loop.run_forever, daemon=True).start()
    pipe.send([f"{bases[i]}/feed/{i}" for i in range(count)])
    while True:
        command, argument = pipe.recv()
        if command == "stop":
            break
        if command == "advance":
            pipe.send(feeds.advance(argument))
        elif command == "bump":
            pipe.send(feeds.bump(argument))
        elif command == "counts":
            with lock:
                pipe.send((len(log), sum(1 for entry in log if entry[2] == 304)))
        elif command == "log":
            with lock:
                pipe.send(list(log))
    loop.call_soon_threadsafe(loop.stop)


class FeedHost:
    """The parent's handle on the feed servers' process."""

    def __init__(self, count: int, hosts: int = 1, latency: float = 0.0, *,
                 keep_alive: bool = True, items: int = 20, mixed: bool = False,
                 one_company: bool = False) -> None:  # fmt: skip
        self.mixed = mixed
        self.here, there = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=_serve,
            args=(count, hosts, latency, keep_alive, items, mixed, one_company, there),
            daemon=True,
        )
        self.urls: list[str] = []
        self.lock = threading.Lock()  # one question at a time on the pipe

    def __enter__(self) -> FeedHost:
        self.process.start()
        self.urls = self.here.recv()
        return self

    def __exit__(self, *exc) -> None:
        self.here.send(("stop", None))
        self.process.join(10)

    def _ask(self, command: str, argument=None):
        with self.lock:
            self.here.send((command, argument))
            return self.here.recv()

    def config_entries(self) -> str:
        """The feeds as a TOML array for [poll] feeds, each naming its wire (loopback hosts
        tell no wire)."""
        return (
            "["
            + ", ".join(
                f'{{ url = "{url}", source = "{wire_of(i, self.mixed)}" }}'
                for i, url in enumerate(self.urls)
            )
            + "]"
        )

    def advance(self, share: float) -> int:
        """Add one release to every (1/share)th feed; return how many feeds changed."""
        return self._ask("advance", share)

    def bump(self, index: int) -> str:
        """Add one release to feed `index`; return its title."""
        return self._ask("bump", index)

    def counts(self) -> tuple[int, int]:
        """(requests answered, of which 304 Not Modified) so far."""
        return self._ask("counts")

    def log(self) -> list[tuple[float, int, int]]:
        """(unix time, feed index, status) of every request so far."""
        return self._ask("log")
