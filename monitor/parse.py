"""Feed bytes -> feedparser entries -> Release records (via the wire's source module)."""

from __future__ import annotations

import io
import re

import feedparser

from monitor.errors import FeedError
from monitor.models import ParseResult
from monitor.sources import globenewswire

# feedparser's fallback parser re-expands internal entities (a 220 KB feed reached 4 GiB): feeds
# never need a DTD, so drop any <!DOCTYPE ...> with its internal subset before parsing.
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TYPES = ("text/html", "application/xhtml")


def strip_doctype(body: bytes) -> bytes:
    """Remove a DOCTYPE declaration (and its internal subset) from a feed body."""
    head = body[:65536]
    if b"<!DOCTYPE" not in head.upper() and b"<!doctype" not in head:
        return body
    return _DOCTYPE.sub(b"", body, count=1)


def parse_feed(url: str, body: bytes, content_type: str = "") -> ParseResult:
    """Parse one feed body; raise FeedError when it is not a feed at all."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(
        io.BytesIO(strip_doctype(body)), response_headers=headers, sanitize_html=False
    )
    entries = parsed.get("entries") or []
    warning = None
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        warning = f"{type(problem).__name__}: {problem}".splitlines()[0] if problem else "not clean"
    if not entries and not _looks_like_feed(parsed):
        kind = content_type.split(";")[0].strip() or "unknown content type"
        if not body.strip():
            raise FeedError(url, "not a feed: empty body")
        if kind.startswith(_HTML_TYPES):
            raise FeedError(url, f"not a feed: {kind}")
        raise FeedError(url, f"not a feed: {warning or kind}")
    releases = []
    failed = 0
    for entry in entries:
        try:
            releases.append(globenewswire.entry_to_release(entry, feed_url=url))
        except (ValueError, KeyError, TypeError, AttributeError):
            failed += 1
    return ParseResult(releases=tuple(releases), failed_items=failed, warning=warning)


def _looks_like_feed(parsed) -> bool:
    # An empty but well-formed <channel> (GNW's TSX feed answers so) is a feed with no items.
    return bool(parsed.get("version")) and not parsed.get("bozo")
