"""HTTP fetching of feeds with httpx: conditional GET, per-host limits, deadlines, size caps.

Nothing here raises for network or HTTP trouble: a FetchResult carries a one-line `error`.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from monitor.models import FetchResult

MEGABYTE = 1024 * 1024
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
_PERMANENT = {301, 308}


def make_client(user_agent: str, timeout: float, max_connections: int = 64) -> httpx.Client:
    """One shared client for a whole pass (connection pooling; thread-safe for sync use)."""
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept": _ACCEPT},
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
    )


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
        with client.stream("GET", url, headers=headers) as response:
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
                return FetchResult(
                    **meta, error=f"body over {_size(max_bytes)}", elapsed=clock() - started
                )
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


def _finish(response: httpx.Response, limit: int = 64 * 1024) -> None:
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


def _moved_to(response: httpx.Response) -> str | None:
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
