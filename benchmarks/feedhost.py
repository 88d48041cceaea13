"""Feeds with ETags on loopback hosts, served from a process of its own (for the benchmarks).

    with FeedHost(count=40, hosts=1, latency=0.02) as host:
        host.urls              # feed i on 127.0.0.(1 + i % hosts)
        host.advance(0.05)     # one new release on every 20th feed
        host.bump(7)           # one new release on feed 7; its title
        host.counts()          # (requests, 304 answers) so far
        host.log()             # [(unix time, feed index, status), ...] so far

The servers speak HTTP/1.1 with keep-alive, as the wires' servers do (`keep_alive=False`: one
connection per request). Each answer waits `latency` seconds (a network round trip)
and carries an ETag; a request with the current ETag gets 304 Not Modified. The servers run in
a process of their own, so a poller measured in this process does not share its interpreter,
and a daemon measured through /proc does not count their work.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.gnw import Item, feed  # noqa: E402

TEXT = (
    "FLORHAM PARK, N.J., Nov. 25, 2026 (GLOBE NEWSWIRE) -- Cellectar Biosciences, Inc. "
    "(NASDAQ: CLRB) today announced an exclusive license agreement. " * 8
)


class Feeds:
    """Feed bodies with ETags; `advance` adds one new release to a share of them."""

    def __init__(self, count: int, items: int = 20) -> None:
        self.items = items
        self.version = [0] * count
        self.bodies = [self._body(i, 0) for i in range(count)]

    def _body(self, index: int, version: int) -> bytes:
        newest = version + self.items
        return feed(
            *(
                Item(f"{index:05d}{v:04d}", f"Feed {index} release {v}", text=TEXT,
                     tickers=("Nasdaq:CLRB",))
                for v in range(newest, version, -1)
            )
        )  # fmt: skip

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


def _serve(count: int, hosts: int, latency: float, keep_alive: bool, items: int, pipe) -> None:
    feeds = Feeds(count, items)
    log: list[tuple[float, int, int]] = []
    lock = threading.Lock()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A small HTTP/1.1 server on asyncio: one thread for every connection of every host,
        # so that the servers' own cost stays small beside the pollers measured.
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                index = int(lines[0].split()[1].rsplit("/", 1)[-1])
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
    threading.Thread(target=loop.run_forever, daemon=True).start()
    pipe.send([f"http://127.0.0.{i % hosts + 1}:{ports[i % hosts]}/feed/{i}" for i in range(count)])
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
                 keep_alive: bool = True, items: int = 20) -> None:  # fmt: skip
        self.here, there = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=_serve, args=(count, hosts, latency, keep_alive, items, there), daemon=True
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
