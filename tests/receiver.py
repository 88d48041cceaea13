"""A real HTTP server on 127.0.0.1 that records every request and answers as it is told.

For the channels that POST (webhook, Apprise's json://, ntfy://, form://): tests read what
arrived (`requests`: method, path, headers, body) and script the answers (`answer(...)`), e.g.
a 503 then a 200, a reply that comes too late, or one trickled a byte at a time.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    trickle: float = 0.0  # seconds between the bytes of the status line and headers


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class Receiver:
    """Use as a context manager; `url(path)` is where to send."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: deque[Answer] = deque()
        self.default = Answer()
        self.arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/hook", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def answer(self, *answers: Answer) -> None:
        """Answer the next requests so, in order; then `default` (a 200)."""
        self.answers.extend(answers)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
            return len(self.requests) >= count

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.arrived:
                    receiver.requests.append(Received(self.command, self.path, headers, body))
                    receiver.arrived.notify_all()
                answer = receiver.answers.popleft() if receiver.answers else receiver.default
                time.sleep(answer.delay)
                head = f"HTTP/1.1 {answer.status} X\r\n"
                for name, value in {"Content-Type": "text/plain", **answer.headers}.items():
                    head += f"{name}: {value}\r\n"
                head += f"Content-Length: {len(answer.body)}\r\nConnection: close\r\n\r\n"
                try:
                    if answer.trickle:
                        for byte in head.encode():
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(answer.trickle)
                    else:
                        self.wfile.write(head.encode())
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up: that is what some tests are about
                self.close_connection = True

            do_POST = do_PUT = do_GET = _any  # noqa: N815 (http.server's naming)

            def log_message(self, *args) -> None:
                pass

        return Handler
