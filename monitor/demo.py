"""The local feed server (used by `biomon demo` and by the tests) and the offline demo itself."""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from monitor.models import Message

RSS_TYPE = "application/rss+xml; charset=utf-8"


@dataclass
class Route:
    """A canned answer: status, headers and body, or a handler for full control."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": RSS_TYPE})
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class FeedServer:
    """An HTTP server on 127.0.0.1 (a free port) serving files from a folder plus canned routes.

    Use as a context manager. `requests` records (path, headers) of every request served.
    """

    def __init__(self, directory: Path | None = None, host: str = "127.0.0.1") -> None:
        self.directory = Path(directory) if directory else None
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._server = ThreadingHTTPServer((host, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def add(self, path: str, body: bytes | str = b"", status: int = 200, **options) -> str:
        """Serve `body` at `path`; return the full URL."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.routes["/" + path.lstrip("/")] = Route(status=status, body=body, **options)
        return self.url(path)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path) or server._file_route(self.path)
                if route is None:
                    route = Route(404, b"not found", {"Content-Type": "text/plain"})
                if route.handler:
                    route.handler(self)
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args) -> None:  # keep test and demo output clean
                pass

        return Handler

    def _file_route(self, path: str) -> Route | None:
        if not self.directory:
            return None
        name = path.split("?")[0].lstrip("/")
        candidate = (self.directory / name).resolve()
        if self.directory.resolve() not in candidate.parents or not candidate.is_file():
            return None
        return Route(body=candidate.read_bytes())


# Releases the demo holds back on its first poll, then "publishes": the CLRB licensing seed (in
# both feeds: one alert), a CLRB regulatory release (stored; CLRB alerts only on licensing,
# grant and trial) and a SNGX release (SNGX alerts on every tag).
LATE_RELEASES = ("9000000", "9000016", "9000047")
_ITEM = re.compile(rb"<item>.*?</item>", re.DOTALL)


def without_items(body: bytes, release_ids: tuple[str, ...]) -> bytes:
    """A feed body with the items of `release_ids` taken out (they have not appeared yet)."""
    marks = [f"<dc:identifier>{rid}</dc:identifier>".encode() for rid in release_ids]
    return _ITEM.sub(lambda m: b"" if any(k in m.group(0) for k in marks) else m.group(0), body)


class EchoNotifier:
    """The demo's channel: prints what would be sent instead of sending it."""

    outcome = "demo"  # the alerts it shows are marked so, never "sent"

    def __init__(self, name: str, echo: Callable[[str], None]) -> None:
        self.name = name
        self.echo = echo

    def probe(self) -> str | None:
        return None

    def send(self, message: Message) -> None:
        if self.name == "email":
            self.echo(f"  email   Subject: {message.title}")
        else:
            body = message.text.replace("\n", "\n          ")
            self.echo(f"  desktop {message.title}\n          {body}")


def demo_config_text(server: FeedServer, db_path: Path) -> str:
    """The temporary watchlist the demo polls with: one exchange feed, one organization feed."""
    return f"""\
[storage]
path = "{db_path.as_posix()}"

[poll]
interval = 60
user_agent = "biomon-demo/0.1 (offline demo)"
feeds = ["{server.url("nasdaq.xml")}"]

[[watch]]
ticker = "NASDAQ:CLRB"
company = "Cellectar Biosciences"
feeds = ["{server.url("clrb.xml")}"]
alert_tags = ["licensing", "grant", "trial"]

[[watch]]
ticker = "SNGX"
company = "Soligenix"

[notify.desktop]
enabled = true

[notify.email]
enabled = true
host = "smtp.example.com"
from = "biomon <you@example.com>"
to = ["you@example.com"]
"""


def make_workdir(keep: Path | None) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """The folder for the demo's config and database: `keep`, or a temporary one."""
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        return keep, None
    tmp = tempfile.TemporaryDirectory(prefix="biomon-demo-")
    return Path(tmp.name), tmp
