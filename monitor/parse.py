"""Feed bytes -> feedparser entries -> Release records (via the wire's source module)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

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


# GlobeNewswire items carry their id in plain sight, so items already stored can be dropped
# before feedparser (the costly part) reads the rest: a changed feed is usually one new item
# and nineteen known ones.
_ITEM = re.compile(rb"<item\b[^>]*>.*?</item\s*>", re.DOTALL)
_ITEM_ID = re.compile(rb"<dc:identifier>\s*(\d+)\s*</dc:identifier>")
_ITEM_URL_ID = re.compile(rb"/news-release/\d{4}/\d{1,2}/\d{1,2}/(\d+)/")


def drop_known_items(
    body: bytes, known: Callable[[list[str]], set[str]]
) -> tuple[bytes, tuple[str, ...]]:
    """The body without the items whose release ids `known` reports, and those ids.

    When any item's id cannot be read, the body is returned whole: feedparser decides.
    """
    spans, ids = [], []
    for match in _ITEM.finditer(body):
        chunk = match.group(0)
        found = _ITEM_ID.search(chunk) or _ITEM_URL_ID.search(chunk)
        if not found:
            return body, ()
        spans.append(match.span())
        ids.append(found.group(1).decode())
    stored = known(ids) if ids else set()
    if not stored:
        return body, ()
    parts, position = [], 0
    for (start, end), release_id in zip(spans, ids, strict=True):
        if release_id in stored:
            parts.append(body[position:start])
            position = end
    parts.append(body[position:])
    return b"".join(parts), tuple(i for i in ids if i in stored)


def parse_feed(
    url: str,
    body: bytes,
    content_type: str = "",
    known: Callable[[list[str]], set[str]] | None = None,
) -> ParseResult:
    """Parse one feed body; raise FeedError when it is not a feed at all.

    With `known` (release ids -> those already stored), stored items are not parsed again;
    their ids come back in `known_ids`.
    """
    known_ids: tuple[str, ...] = ()
    if known is not None:
        body, known_ids = drop_known_items(body, known)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # No sanitizing and no relative-link resolving: both re-parse every item's HTML (a third of
    # feedparser's time); the text comes from our own HTML pass and links are never followed.
    parsed = feedparser.parse(
        io.BytesIO(strip_doctype(body)),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    entries = parsed.get("entries") or []
    warning = None
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        warning = f"{type(problem).__name__}: {problem}".splitlines()[0] if problem else "not clean"
    if not entries and not known_ids and not _looks_like_feed(parsed):
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
    return ParseResult(
        releases=tuple(releases), failed_items=failed, warning=warning, known_ids=known_ids
    )


def _looks_like_feed(parsed) -> bool:
    # An empty but well-formed <channel> (GNW's TSX feed answers so) is a feed with no items.
    return bool(parsed.get("version")) and not parsed.get("bozo")
