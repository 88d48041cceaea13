"""The direct path of `fetch` (kept-alive http.client connections) against real local servers:
it must send what httpx sends, answer what httpx answers, and reuse its connections."""

from __future__ import annotations

import gzip
import http.client
import logging
import socket
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import trustme

from monitor import fetch as fetch_module
from monitor.fetch import _ACCEPT, fetch, make_client

UA = "biomon-test/1.0 (ops@example.com)"
BODY = b"<rss><channel><item><title>One</title></item></channel></rss>"


class Recorder(ThreadingHTTPServer):
    """Answers GETs by path; records every request and counts connections."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.requests: list[tuple[int, str, list[tuple[str, str]]]] = []
        self.connections = 0
        self.open_connections = 0
        self.drop_next = 0  # read the next request(s), then close without an answer
        self.close_after = False  # close every connection after its answer, saying nothing
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1
            self.server.open_connections += 1
            self.number = self.server.connections

    def finish(self) -> None:
        super().finish()
        with self.server.lock:
            self.server.open_connections -= 1

    def do_GET(self) -> None:  # noqa: N802
        with self.server.lock:
            self.server.requests.append((self.number, self.path, list(self.headers.items())))
            drop = self.server.drop_next > 0
            self.server.drop_next -= drop
        if drop:
            self.close_connection = True
            return
        status, headers, body = route(self.path, self.headers)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.close_after:
            self.close_connection = True


def route(path: str, headers) -> tuple[int, list[tuple[str, str]], bytes]:
    if path.startswith("/feed"):
        if headers.get("If-None-Match") == '"v1"':
            return 304, [("ETag", '"v1"')], b""
        return 200, [("Content-Type", "application/rss+xml"), ("ETag", '"v1"')], BODY
    if path == "/cookie":
        return 200, [("Set-Cookie", "session=abc; Path=/")], BODY
    if path == "/gzip":
        return (
            200,
            [("Content-Encoding", "gzip"), ("Content-Type", "text/xml")],
            gzip.compress(BODY),
        )
    if path == "/moved":
        return 301, [("Location", "/feed")], b""
    if path == "/elsewhere":
        return 302, [("Location", "/feed")], b""
    if path == "/gone":
        return 410, [], b"gone"
    if path == "/broken":
        return 500, [("Retry-After", "60")], b"oops"
    if path == "/twice":
        return 200, [("X-Tag", "a"), ("X-Tag", "b")], BODY
    return 404, [], b"no"


def plain_client() -> httpx.Client:
    """The httpx client make_client stood for before the direct path: the reference."""
    return httpx.Client(
        headers={"User-Agent": UA, "Accept": _ACCEPT},
        timeout=httpx.Timeout(2.0),
        follow_redirects=True,
    )


@pytest.fixture
def served():
    with Recorder() as recorder:
        yield recorder


def test_a_304_reuses_one_kept_alive_connection(served):
    client = make_client(UA, 2.0)
    try:
        results = [fetch(client, f"{served.base}/feed", etag='"v1"') for _ in range(5)]
    finally:
        client.close()
    assert [r.status for r in results] == [304] * 5
    assert all(r.ok and r.body == b"" for r in results)
    assert results[0].headers == {"etag": '"v1"', "content-length": "0"} | {
        k: v for k, v in results[0].headers.items() if k in ("server", "date")
    }
    assert len(served.requests) == 5
    assert served.connections == 1


@pytest.mark.parametrize(
    "path, etag, last_modified, extra",
    [
        ("/feed", None, None, None),
        ("/feed?page=2&size=10", '"v0"', "Wed, 25 Nov 2026 12:00:00 GMT", None),
        ("/feed", '"v1"', None, {"User-Agent": "Sample Co admin@sample.example"}),
        ("/x/../feed", None, None, None),  # httpx removes dot segments: so must we
        ("/feed?q=a b", None, None, None),  # httpx percent-encodes the space
    ],
)
def test_request_headers_are_the_ones_httpx_sends(served, path, etag, last_modified, extra):
    sent = []
    for client in (make_client(UA, 2.0), plain_client()):
        try:
            result = fetch(
                client, served.base + path, etag=etag, last_modified=last_modified, headers=extra
            )
        finally:
            client.close()
        assert result.ok
        sent.append(served.requests[-1][1:])
    assert sent[0] == sent[1]


def test_cookies_are_kept_and_sent_back_as_httpx_does(served):
    sent = []
    for client in (make_client(UA, 2.0), plain_client()):
        try:
            fetch(client, f"{served.base}/cookie")
            fetch(client, f"{served.base}/feed")
        finally:
            client.close()
        sent.append(served.requests[-1][2])
    assert ("Cookie", "session=abc") in sent[0]
    assert sent[0] == sent[1]


@pytest.mark.parametrize("path", ["/feed", "/gzip", "/gone", "/broken", "/twice", "/nothing"])
def test_answers_are_the_ones_httpx_gives(served, path):
    results = []
    for client in (make_client(UA, 2.0), plain_client()):
        try:
            results.append(fetch(client, served.base + path))
        finally:
            client.close()
    direct, reference = results
    for result in results:
        result.headers.pop("date", None)
        object.__setattr__(result, "elapsed", 0.0)
    assert direct == reference
    if path == "/gzip":
        assert direct.body == BODY
    if path == "/gone":
        assert direct.error == "HTTP 410 Gone"


def test_a_301_is_followed_by_httpx_and_moves_the_feed(served):
    client = make_client(UA, 2.0)
    try:
        moved = fetch(client, f"{served.base}/moved")
        passing = fetch(client, f"{served.base}/elsewhere")
    finally:
        client.close()
    assert moved.ok and moved.body == BODY and moved.moved_to == f"{served.base}/feed"
    assert passing.ok and passing.body == BODY and passing.moved_to is None


def test_a_kept_alive_connection_the_server_dropped_is_retried_once(served):
    client = make_client(UA, 2.0)
    try:
        assert fetch(client, f"{served.base}/feed", etag='"v1"').status == 304
        served.drop_next = 1  # the server closes the kept-alive connection on the next request
        result = fetch(client, f"{served.base}/feed", etag='"v1"')
    finally:
        client.close()
    assert result.ok and result.status == 304
    assert len(served.requests) == 3  # the one answered, the one dropped, its retry
    assert served.connections == 2


def test_a_connection_closed_between_requests_is_not_reused(served):
    served.close_after = True  # each answer ends its connection (without Connection: close)
    client = make_client(UA, 2.0)
    try:
        results = [fetch(client, f"{served.base}/feed", etag='"v1"') for _ in range(3)]
    finally:
        client.close()
    assert [r.status for r in results] == [304] * 3
    assert len(served.requests) == 3  # no request was lost on a dead connection


def test_a_new_connection_dropped_fails_once_with_httpx_s_error(served):
    errors = []
    for client in (make_client(UA, 2.0), plain_client()):
        served.drop_next = 1
        before = len(served.requests)
        try:
            errors.append(fetch(client, f"{served.base}/feed").error)
        finally:
            client.close()
        assert len(served.requests) == before + 1  # not retried: no kept-alive connection
    assert errors[0] == errors[1]
    assert errors[0] == "RemoteProtocolError (Server disconnected without sending a response.)"


def test_connect_errors_and_timeouts_read_as_httpx_s():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    refused = [
        fetch(client, f"http://127.0.0.1:{port}/feed").error
        for client in (make_client(UA, 2.0), plain_client())
    ]
    assert refused[0] == refused[1]
    assert refused[0].startswith("cannot connect (")

    with socket.socket() as silent:  # accepts, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/feed"
        client = make_client(UA, 0.3)
        try:
            result = fetch(client, url, timeout=0.3)
        finally:
            client.close()
    assert result.error == "timeout after 0.3s"


def test_concurrent_fetches_share_the_pool_safely(served):
    client = make_client(UA, 2.0)
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(
                pool.map(lambda _: fetch(client, f"{served.base}/feed", etag='"v1"'), range(200))
            )
    finally:
        client.close()
    assert all(r.status == 304 for r in results)
    assert len(served.requests) == 200
    assert served.connections <= 8


def test_close_closes_the_kept_alive_connections(served):
    client = make_client(UA, 2.0)
    fetch(client, f"{served.base}/feed", etag='"v1"')
    assert served.open_connections == 1
    client.close()
    for _ in range(100):
        if served.open_connections == 0:
            break
        threading.Event().wait(0.02)
    assert served.open_connections == 0
    with pytest.raises(RuntimeError, match="client has been closed"):
        fetch(client, f"{served.base}/feed")


def test_a_proxy_from_the_environment_is_used(served, monkeypatch):
    # The recorder stands in for the proxy: a request through a proxy names the whole URL.
    monkeypatch.setenv("HTTP_PROXY", served.base)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = make_client(UA, 2.0)
    try:
        result = fetch(client, "http://feeds.example.invalid/feed")
    finally:
        client.close()
    assert result.status == 404  # the recorder's answer: it knows no such path
    assert served.requests[-1][1] == "http://feeds.example.invalid/feed"


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """A TLS server with a certificate of a local CA that the clients trust (SSL_CERT_FILE)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with Recorder(context) as recorder:
        yield recorder


def test_https_is_verified_and_kept_alive(tls):
    client = make_client(UA, 2.0)
    try:
        first = fetch(client, f"{tls.base}/feed")
        again = [fetch(client, f"{tls.base}/feed", etag='"v1"') for _ in range(3)]
    finally:
        client.close()
    assert first.ok and first.body == BODY
    assert [r.status for r in again] == [304] * 3
    assert tls.connections == 1


def test_an_untrusted_certificate_fails_as_with_httpx(tls, monkeypatch, tmp_path):
    other = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    errors = []
    for client in (make_client(UA, 2.0), plain_client()):
        try:
            errors.append(fetch(client, f"{tls.base}/feed").error)
        finally:
            client.close()
    assert errors[0] == errors[1]
    assert "CERTIFICATE_VERIFY_FAILED" in errors[0]
    assert len(tls.requests) == 0


def test_with_http_traffic_logged_httpx_makes_the_request_and_logs_it(served, caplog):
    # `-vv` logs httpx's and httpcore's lines for every request: those come from httpx.
    client = make_client(UA, 2.0)
    try:
        with caplog.at_level(logging.INFO, logger="httpx"):
            result = fetch(client, f"{served.base}/feed", etag='"v1"')
        quiet = fetch(client, f"{served.base}/feed", etag='"v1"')
    finally:
        client.close()
    assert result.status == 304 and quiet.status == 304
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines == [f'HTTP Request: GET {served.base}/feed "HTTP/1.1 304 Not Modified"']


@pytest.mark.parametrize("poll", ["poll", "select"])
def test_an_idle_connection_the_server_closed_is_seen_as_dropped(monkeypatch, poll):
    # Windows has no select.poll(): select() tells there.
    if poll == "select":
        monkeypatch.setattr(fetch_module, "_POLL", None)
    ours, theirs = socket.socketpair()
    connection = http.client.HTTPConnection("127.0.0.1")
    connection.sock = ours
    try:
        assert not fetch_module._dropped(connection)  # open, nothing to read: reusable
        theirs.close()
        assert fetch_module._dropped(connection)  # EOF waiting: the server closed it
    finally:
        ours.close()
