"""HTTP fetching of feeds with httpx: timeouts, a total deadline, a size cap, one-line errors."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from monitor.models import FetchResult

MEGABYTE = 1024 * 1024


def make_client(user_agent: str, timeout: float) -> httpx.Client:
    """One shared client for a whole pass (connection pooling; thread-safe for sync use)."""
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept": _ACCEPT},
        timeout=httpx.Timeout(timeout),
        follow_redirects=True,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
    )


_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


def fetch(
    client: httpx.Client,
    url: str,
    *,
    timeout: float = 20.0,
    max_bytes: int = 15 * MEGABYTE,
    clock: Callable[[], float] = time.monotonic,
) -> FetchResult:
    """GET one feed. Never raises for network or HTTP trouble: the result carries `error`."""
    started = clock()
    # httpx's timeout is per read, so a server trickling bytes could hold a request forever.
    deadline = started + timeout
    try:
        with client.stream("GET", url) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            content_type = headers.get("content-type", "")
            if response.status_code >= 400:
                return FetchResult(
                    url, response.status_code, b"", content_type, headers,
                    error=f"HTTP {response.status_code}", elapsed=clock() - started,
                )  # fmt: skip
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    return FetchResult(
                        url, response.status_code, b"", content_type, headers,
                        error=f"body over {_size(max_bytes)}", elapsed=clock() - started,
                    )  # fmt: skip
                if clock() > deadline:
                    return FetchResult(
                        url, response.status_code, b"", content_type, headers,
                        error=f"timeout after {timeout:g}s", elapsed=clock() - started,
                    )  # fmt: skip
            return FetchResult(
                url, response.status_code, b"".join(chunks), content_type, headers,
                elapsed=clock() - started,
            )  # fmt: skip
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


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0].strip()


def _size(n: int) -> str:
    return f"{n / MEGABYTE:g} MB" if n >= MEGABYTE else f"{n / 1024:g} KB"
