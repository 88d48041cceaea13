"""HTTP fetching of feeds with httpx: conditional GET, per-host limits, deadlines, size caps.

Nothing here raises for network or HTTP trouble: a FetchResult carries a one-line `error`.

A plain GET (no proxy, no redirect) goes over kept-alive `http.client` connections of our own
(`DirectPool`): the same request headers, TLS context, timeouts and cookies as the httpx client
it belongs to, at a third of httpx's CPU per request (most polls are 304 answers: the HTTP
client's own work was most of a steady pass). Anything else (a proxy, a redirect, a URL httpx
would rewrite) goes through httpx itself.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitor.models import FetchResult

MEGABYTE = 1024 * 1024
_HTTPX_LOG = logging.getLogger("httpx")
_HTTPCORE_LOG = logging.getLogger("httpcore")
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_PERMANENT = {301, 308}
_REDIRECTS = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters httpx sends as they are in a path or query; a URL with any other goes via httpx,
# which percent-encodes it.
_PLAIN_TARGET = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")
_POLL = getattr(select, "poll", None)  # not on Windows
_PLAIN_HOST = re.compile(r"[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]")


def make_client(user_agent: str, timeout: float, max_connections: int = 64) -> httpx.Client:
    """One shared client for a whole pass (connection pooling; thread-safe for sync use)."""
    return Client(
        headers={"User-Agent": user_agent, "Accept": _ACCEPT},
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
    )


class Client(httpx.Client):
    """An httpx.Client whose plain GETs `fetch` sends over its `direct` pool."""

    def __init__(self, **kwargs) -> None:
        # One TLS context for both paths: httpx's default (certifi, or SSL_CERT_FILE/DIR).
        context = kwargs.pop("verify", None) or httpx.create_ssl_context()
        super().__init__(verify=context, **kwargs)
        limits = kwargs.get("limits") or httpx.Limits()
        self.direct = DirectPool(self, context, limits.max_keepalive_connections or 64)

    def close(self) -> None:
        self.direct.close()
        super().close()


class DirectPool:
    """Kept-alive `http.client` connections per (scheme, host, port), shared by threads.

    A connection is used by one thread at a time: taken from the idle list, put back once its
    response is read to the end. A kept-alive connection the server closed meanwhile is seen
    before use, or fails at once: the request is then sent again, once, on a new connection.
    """

    def __init__(self, client: httpx.Client, context: ssl.SSLContext, max_idle: int) -> None:
        self.client = client
        self.context = context
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._busy: set[http.client.HTTPConnection] = set()
        self._direct: dict[tuple[str, str, int], bool] = {}
        self._closed = False
        timeout = client.timeout
        self.connect_timeout = timeout.connect
        self.read_timeout = timeout.read
        self.base_headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in client.headers.raw
        ]

    def close(self) -> None:
        """Close every connection; a request in flight on one ends at once with an error."""
        with self._lock:
            self._closed = True
            connections = [c for idle in self._idle.values() for c in idle] + list(self._busy)
            self._idle.clear()
            self._busy.clear()
        for connection in connections:
            _close(connection, abort=True)

    def open(self, url: str, headers: dict[str, str]) -> DirectResponse | None:
        """GET `url`; None when httpx must do it (a proxy, an unusual URL, a redirect).

        Raises httpx's exceptions (ConnectError, ReadTimeout, ...) with httpx's messages."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or self._closed or parts.username or parts.password:
            return None
        host = parts.hostname or ""
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            return None
        if (
            not _PLAIN_HOST.fullmatch(host)
            or not _PLAIN_TARGET.fullmatch(target)
            or "/." in target  # httpx removes dot segments
        ):
            return None
        key = (scheme, host, port)
        if not self._goes_direct(key, url):
            return None
        # httpx's Host: the host in lower case, the port unless it is the scheme's default.
        netloc = host if port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
        send = self._headers(netloc, headers, url)
        connection, reused = self._take(key)
        try:
            raw = self._exchange(connection, target, send, reused)
        except _Stale:
            self._discard(connection)
            connection, reused = self._take(key, fresh=True)
            try:
                raw = self._exchange(connection, target, send, reused)
            except BaseException:
                self._discard(connection)
                raise
        except BaseException:
            self._discard(connection)
            raise
        response = DirectResponse(self, key, connection, raw, url)
        if response.headers.get("set-cookie") is not None:
            self.client.cookies.extract_cookies(response.as_httpx(b""))
        if raw.status in _REDIRECTS and "location" in response.headers:
            _finish(response)  # a short body read: the connection goes back to the pool
            response.close()
            return None  # httpx follows the chain (and knows whether the feed moved)
        return response

    def _goes_direct(self, key: tuple[str, str, int], url: str) -> bool:
        """True unless the client would send this URL elsewhere (a proxy from the environment)."""
        direct = self._direct.get(key)
        if direct is None:
            client = self.client
            try:
                direct = not client._mounts or (  # noqa: SLF001 - httpx's own proxy routing
                    client._transport_for_url(httpx.URL(url)) is client._transport  # noqa: SLF001
                )
            except Exception:  # noqa: BLE001 - any doubt: httpx decides
                direct = False
            self._direct[key] = direct
        return direct

    def _headers(self, netloc: str, extra: dict[str, str], url: str) -> list[tuple[str, str]]:
        """The headers httpx would send: Host, the client's, the request's, its cookies."""
        merged = {name.lower(): (name, value) for name, value in self.base_headers}
        for name, value in extra.items():  # httpx moves an overridden header to the end
            merged.pop(name.lower(), None)
            merged[name.lower()] = (name, value)
        if self.client.cookies.jar:
            request = httpx.Request("GET", url)
            self.client.cookies.set_cookie_header(request)
            if "cookie" in request.headers:
                merged["cookie"] = ("Cookie", request.headers["cookie"])
        return [("Host", netloc), *merged.values()]

    def _take(
        self, key: tuple[str, str, int], fresh: bool = False
    ) -> tuple[http.client.HTTPConnection, bool]:
        connection = None
        with self._lock:
            idle = self._idle.get(key)
            while idle and not fresh:
                candidate = idle.pop()
                if _dropped(candidate):
                    _close(candidate)
                    continue
                connection = candidate
                break
            if connection is None:
                scheme, host, port = key
                if scheme == "https":
                    connection = http.client.HTTPSConnection(
                        host.strip("[]"), port, timeout=self.connect_timeout, context=self.context
                    )
                else:
                    connection = http.client.HTTPConnection(
                        host.strip("[]"), port, timeout=self.connect_timeout
                    )
            self._busy.add(connection)
        return connection, connection.sock is not None

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        target: str,
        headers: list[tuple[str, str]],
        reused: bool,
    ) -> http.client.HTTPResponse:
        if not reused:
            try:
                connection.connect()
            except TimeoutError as error:
                raise httpx.ConnectTimeout(str(error) or "timed out") from None
            except OSError as error:  # refused, unknown host, TLS (an unverified certificate)
                raise httpx.ConnectError(str(error)) from None
            if connection.sock is not None:
                connection.sock.settimeout(self.read_timeout)
        try:
            connection.putrequest("GET", target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders()
            return connection.getresponse()
        except (OSError, http.client.HTTPException) as error:
            if reused and not isinstance(error, TimeoutError):
                raise _Stale(error) from None
            raise _as_httpx(error, reading=True) from None

    def _give_back(self, key: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._busy.discard(connection)
            idle = self._idle.setdefault(key, [])
            if not self._closed and connection.sock is not None and len(idle) < self.max_idle:
                idle.append(connection)
                return
        _close(connection)

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._busy.discard(connection)
        _close(connection)


class _Stale(Exception):
    """A kept-alive connection failed before an answer: send the request again, once."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class DirectResponse:
    """The part of httpx.Response that `fetch` reads, over an `http.client` response."""

    history: tuple = ()

    def __init__(
        self,
        pool: DirectPool,
        key: tuple[str, str, int],
        connection: http.client.HTTPConnection,
        raw: http.client.HTTPResponse,
        url: str,
    ) -> None:
        self.pool, self.key, self.connection, self.raw, self.url = pool, key, connection, raw, url
        self.status_code = raw.status
        self.headers = _header_dict(raw.msg.items())
        self._done = False

    def __enter__(self) -> DirectResponse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def as_httpx(self, body: bytes | None = None, stream=None) -> httpx.Response:
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.raw.msg.items()]
        request = httpx.Request("GET", self.url)
        if stream is not None:
            return httpx.Response(self.status_code, headers=raw, stream=stream, request=request)
        return httpx.Response(self.status_code, headers=raw, content=body, request=request)

    def iter_raw(self) -> Iterator[bytes]:
        while not self._done:
            try:
                chunk = self.raw.read1(65536)
            except (OSError, http.client.HTTPException, ValueError) as error:
                raise _as_httpx(error, reading=True) from None
            if not chunk:
                self._done = True
                return
            yield chunk

    def iter_bytes(self) -> Iterator[bytes]:
        if self.headers.get("content-encoding", "identity").strip().lower() == "identity":
            yield from self.iter_raw()
            return
        # gzip, deflate (and br, zstd when installed): httpx's own decoders, as httpx would.
        yield from self.as_httpx(stream=_RawStream(self)).iter_bytes()

    def read(self) -> bytes:
        return b"".join(self.iter_bytes())

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        if self._done and not self.raw.will_close:
            self.raw.close()
            self.pool._give_back(self.key, connection)  # noqa: SLF001
        else:  # an answer not read to its end leaves the connection unusable
            self.raw.close()
            self.pool._discard(connection)  # noqa: SLF001


class _RawStream(httpx.SyncByteStream):
    def __init__(self, response: DirectResponse) -> None:
        self.response = response

    def __iter__(self) -> Iterator[bytes]:
        return self.response.iter_raw()


def _header_dict(items: list[tuple[str, str]]) -> dict[str, str]:
    """Lower-case names; repeated headers joined by ", "; values decoded as httpx does."""
    if not all(value.isascii() for _, value in items):
        try:  # http.client reads latin-1; httpx takes UTF-8 when all headers are UTF-8
            items = [(k, v.encode("latin-1").decode("utf-8")) for k, v in items]
        except UnicodeError:
            pass
    headers: dict[str, str] = {}
    for name, value in items:
        name = name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """True when an idle connection has something to read: the server closed it (EOF)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        if _POLL is None:  # Windows: no poll(); select() takes sockets there
            return bool(select.select([sock], [], [], 0)[0])
        poller = _POLL()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def _close(connection: http.client.HTTPConnection, abort: bool = False) -> None:
    sock = connection.sock
    if abort and sock is not None:
        try:  # wakes a thread reading from it (close alone would wait for its file object)
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    try:
        connection.close()
    except OSError:
        pass


def _as_httpx(error: BaseException, *, reading: bool) -> httpx.HTTPError:
    """httpx's exception (and message) for an http.client/socket error."""
    if isinstance(error, TimeoutError):
        return httpx.ReadTimeout(str(error) or "timed out")
    if isinstance(error, http.client.RemoteDisconnected):
        return httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(error, http.client.IncompleteRead):
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body"
        )
    if isinstance(error, http.client.HTTPException | ValueError):
        return httpx.RemoteProtocolError(str(error) or type(error).__name__)
    return httpx.ReadError(str(error))


class HostLimiter:
    """At most `per_host` requests in flight per host, and starts at least `min_gap` s apart."""

    def __init__(
        self,
        per_host: int = 2,
        min_gap: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_host = per_host
        self.min_gap = min_gap
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            semaphore = self._slots.setdefault(host, threading.BoundedSemaphore(self.per_host))
        with semaphore:
            if self.min_gap > 0:
                with self._lock:
                    now = self.clock()
                    start = max(now, self._next_start.get(host, now))
                    self._next_start[host] = start + self.min_gap
                if start > now:
                    self.sleep(start - now)
            yield


def fetch(
    client: httpx.Client,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    timeout: float = 20.0,
    max_bytes: int = 15 * MEGABYTE,
    clock: Callable[[], float] = time.monotonic,
    headers: dict[str, str] | None = None,
) -> FetchResult:
    """GET one feed, sending validators when known. A 304 is a success with no body.

    `headers` go with this request only (SEC's User-Agent on requests to sec.gov)."""
    started = clock()
    headers = dict(headers or {})
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    # httpx's timeout is per read, so a server trickling bytes could hold a request forever.
    deadline = started + timeout
    try:
        direct = getattr(client, "direct", None)
        if direct is not None and not _traced():
            answer = direct.open(url, headers)
        else:
            answer = None  # httpx's own path, which logs its traffic (`-vv`)
        if answer is not None:
            with answer:
                return _result(answer, url, started, deadline, timeout, max_bytes, clock)
        with client.stream("GET", url, headers=headers) as response:
            return _result(response, url, started, deadline, timeout, max_bytes, clock)
    except httpx.TimeoutException:
        reason = f"timeout after {timeout:g}s"
    except httpx.ConnectError as error:
        reason = f"cannot connect ({_first_line(error) or 'connection failed'})"
    except httpx.UnsupportedProtocol:
        reason = "unsupported URL scheme; use http:// or https://"
    except httpx.InvalidURL as error:
        reason = f"invalid URL ({_first_line(error)})"
    except httpx.TooManyRedirects:
        reason = "too many redirects"
    except httpx.HTTPError as error:
        reason = f"{type(error).__name__} ({_first_line(error)})"
    return FetchResult(url, None, error=reason, elapsed=clock() - started)


def _result(
    response: httpx.Response | DirectResponse,
    url: str,
    started: float,
    deadline: float,
    timeout: float,
    max_bytes: int,
    clock: Callable[[], float],
) -> FetchResult:
    """Read one answer (httpx's or the direct pool's) within the size cap and the deadline."""
    meta = {
        "url": url,
        "status": response.status_code,
        "content_type": response.headers.get("content-type", ""),
        "headers": {k.lower(): v for k, v in response.headers.items()},
        "moved_to": _moved_to(response),
    }
    if response.status_code >= 400:
        _finish(response)
        reason = f"HTTP {response.status_code}"
        if response.status_code == 410:
            reason += " Gone"
        return FetchResult(**meta, error=reason, elapsed=clock() - started)
    if response.status_code == 304:
        _finish(response)
        return FetchResult(**meta, elapsed=clock() - started)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return FetchResult(**meta, error=f"body over {_size(max_bytes)}", elapsed=clock() - started)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            error = f"body over {_size(max_bytes)}"
            return FetchResult(**meta, error=error, elapsed=clock() - started)
        if clock() > deadline:
            error = f"timeout after {timeout:g}s"
            return FetchResult(**meta, error=error, elapsed=clock() - started)
    return FetchResult(**meta, body=b"".join(chunks), elapsed=clock() - started)


def _traced() -> bool:
    """True when httpx's or httpcore's traffic is logged (`-vv`): then httpx does the request."""
    return _HTTPX_LOG.isEnabledFor(logging.INFO) or _HTTPCORE_LOG.isEnabledFor(logging.DEBUG)


def _finish(response: httpx.Response | DirectResponse, limit: int = 64 * 1024) -> None:
    """Read a short body we do not need, so the connection goes back to the pool.

    A response closed unread closes its connection: every 304 would then cost a new TCP (and
    TLS) handshake. A long error page is not worth reading: that connection closes.
    """
    declared = response.headers.get("content-length", "")
    if response.status_code == 304 or (declared.isdigit() and int(declared) <= limit):
        try:
            response.read()
        except httpx.HTTPError:
            pass  # the answer is known; only the connection is lost


def _moved_to(response: httpx.Response | DirectResponse) -> str | None:
    # Only a chain of permanent redirects moves a feed; a 302 on the way means "for now".
    if response.history and all(r.status_code in _PERMANENT for r in response.history):
        return str(response.url)
    return None


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After: 120` or `Retry-After: Wed, 25 Nov 2026 12:00:00 GMT` -> seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-)?max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def fresh_for_seconds(headers: dict[str, str], now: datetime) -> float | None:
    """How long the server says the body stays fresh: Cache-Control max-age, else Expires."""
    control = headers.get("cache-control", "")
    if "no-cache" in control.lower() or "no-store" in control.lower():
        return None
    match = _MAX_AGE.search(control)
    if match:
        return float(match.group(1))
    expires = headers.get("expires")
    if expires:
        seconds = retry_after_seconds(expires, now)
        return seconds if seconds else None
    return None


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0].strip()


def _size(n: int) -> str:
    return f"{n / MEGABYTE:g} MB" if n >= MEGABYTE else f"{n / 1024:g} KB"
