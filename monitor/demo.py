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
# both feeds, and on PR Newswire: one event, one alert), a CLRB regulatory release (stored; CLRB
# alerts only on licensing, grant and trial) and a SNGX release (SNGX alerts on every tag).
LATE_RELEASES = ("9000000", "9000016", "9000047")
_ITEM = re.compile(rb"<item>.*?</item>", re.DOTALL)


# The demo's second wire: the CLRB seed's news as PR Newswire prints it (a cut summary in the
# feed, the whole text on the article page), served from the demo's own server. Built at run
# time from the seed item of clrb.xml (its URLs must point at the local server): one piece of
# news on two wires, stored as one event, alerting once.
PRN_FEED = "prnewswire.xml"
DEMO_FEEDS = ("nasdaq.xml", "clrb.xml")
SEED_ID = "9000000"
PRN_ID = "302018855"  # synthetic, like the GlobeNewswire ids of the demo
PRN_SUMMARY_CHARS = 300  # PR Newswire cuts its feed summaries near here, with "..."
_SEED_PARTS = re.compile(
    rb"<title>(?P<title>.*?)</title>.*?<description><!\[CDATA\[(?P<body>.*?)\]\]></description>",
    re.DOTALL,
)


def _seed_item(folder: Path) -> tuple[str, list[str]]:
    """The seed release's title and paragraphs (HTML-escaped, as in the feed) from clrb.xml."""
    body = (folder / "clrb.xml").read_bytes()
    item = next(m.group(0) for m in _ITEM.finditer(body) if SEED_ID.encode() in m.group(0))
    found = _SEED_PARTS.search(item)
    if found is None:
        raise ValueError(f"{folder / 'clrb.xml'}: the seed item {SEED_ID} has no description")
    paragraphs = re.findall(rb"<p>(.*?)</p>", found.group("body"), re.DOTALL)
    return found.group("title").decode(), [p.decode() for p in paragraphs]


def _prn_dateline(paragraph: str) -> str:
    return paragraph.replace("December 19, 2023 (GLOBE NEWSWIRE)", "Dec. 19, 2023 /PRNewswire/")


def prn_copy(server: FeedServer, folder: Path, *, published: bool) -> tuple[bytes, bytes]:
    """(the PR Newswire feed, the article page) of the seed's news; the feed is empty until
    the news is `published`. Links point at `server`, so the demo never leaves the machine."""
    title, paragraphs = _seed_item(folder)
    link = server.url(f"news-releases/cellectar-biosciences-expands-iopofosine-{PRN_ID}.html")
    lead = _prn_dateline(paragraphs[0])
    summary = lead[:PRN_SUMMARY_CHARS].rsplit(" ", 1)[0] + "..."
    item = (
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        "<pubDate>Tue, 19 Dec 2023 13:31:00 +0000</pubDate>"
        f"<description><![CDATA[<p>{summary}</p>]]></description>"
        "<dc:contributor><![CDATA[Cellectar Biosciences, Inc.]]></dc:contributor>"
        "<dc:publisher>PR Newswire Association LLC.</dc:publisher></item>"
    )
    feed = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>PR Newswire: Cellectar Biosciences (biomon demo)</title>"
        f"<link>{server.base_url}</link><description>biomon offline demo</description>"
        f"{item if published else ''}</channel></rss>"
    )
    body = "".join(f"<p>{p}</p>" for p in [lead, *paragraphs[1:]])
    page = (
        f'<html><head><title>{title}</title></head><body><header class="release-header">'
        f'<h1>{title}</h1></header><section class="release-body">{body}</section></body></html>'
    )
    return feed.encode(), page.encode()


def serve_demo_feeds(server: FeedServer, folder: Path, *, published: bool) -> None:
    """Serve the demo's feeds: before `published`, without the releases that "appear" later."""
    for name in DEMO_FEEDS:
        if published:
            server.routes.pop("/" + name, None)  # the files themselves again
        else:
            server.add(name, without_items((folder / name).read_bytes(), LATE_RELEASES))
    feed, page = prn_copy(server, folder, published=published)
    server.add(PRN_FEED, feed)
    server.add(page_path(server, feed), page, headers={"Content-Type": "text/html"})


def page_path(server: FeedServer, feed: bytes) -> str:
    """The local path of the article page the PR Newswire feed links to (or a dummy)."""
    found = re.search(rb"<link>(http[^<]+)</link>\s*<guid>", feed)
    return found.group(1).decode()[len(server.base_url) :] if found else "/no-page"


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
            # The event's other places (the same news on another wire), as the email lists them.
            also = message.text.split("also on:\n", 1)[1:]
            for line in also[0].splitlines()[:3] if also else ():
                if line.startswith("  "):
                    self.echo(f"          also on {line.strip()}")
        else:
            body = message.text.replace("\n", "\n          ")
            self.echo(f"  desktop {message.title}\n          {body}")


def demo_config_text(server: FeedServer, db_path: Path) -> str:
    """The temporary watchlist the demo polls with: one exchange feed and a PR Newswire feed
    (named so: it is on 127.0.0.1), one organization feed."""
    return f"""\
[storage]
path = "{db_path.as_posix()}"

[poll]
interval = 60
user_agent = "biomon-demo/0.1 (offline demo)"
feeds = [
  "{server.url("nasdaq.xml")}",
  {{ url = "{server.url(PRN_FEED)}", source = "prnewswire" }},
]

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
