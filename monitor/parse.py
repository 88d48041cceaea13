"""Feed bytes -> feedparser entries -> Release records (via the wire's source module)."""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import feedparser
from feedparser.urls import make_safe_absolute_uri

try:  # the very join feedparser resolves links with (private: without it, always pass the base)
    from feedparser.urls import _urljoin
except ImportError:  # pragma: no cover
    _urljoin = None

from monitor.errors import FeedError
from monitor.html import one_line
from monitor.models import ParseResult
from monitor.sources import globenewswire
from monitor.sources.base import Source, entries_to_releases

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


# Most wires carry an item's id in plain sight (GlobeNewswire's dc:identifier, a URL's number,
# EDGAR's accession number), so items already stored can be dropped before feedparser (the
# costly part) reads the rest: a changed feed is usually one new item and nineteen known ones.
# The source says how (`item_pattern`, `item_id`).


def drop_known_items(
    body: bytes, known: Callable[[list[str]], set[str]], source: Source | None = None
) -> tuple[bytes, tuple[str, ...]]:
    """The body without the items whose release ids `known` reports, and those ids.

    When any item's id cannot be read, the body is returned whole: feedparser decides.
    """
    source = source or globenewswire.PLUGIN
    if not source.item_id_patterns:
        return body, ()
    spans, ids = [], []
    for match in source.item_pattern.finditer(body):
        found = source.item_id(match.group(0))
        if found is None:
            return body, ()
        spans.append(match.span())
        ids.append(found)
    stored = known(ids) if ids else set()
    if not stored:
        return body, ()
    parts, position = [], 0
    for (start, end), release_id in zip(spans, ids, strict=True):
        if release_id in stored:
            parts.append(body[position:start])
            position = end
    parts.append(body[position:])
    return b"".join(parts), tuple(dict.fromkeys(i for i in ids if i in stored))


def parse_feed(
    url: str,
    body: bytes,
    content_type: str = "",
    known: Callable[[list[str]], set[str]] | None = None,
    now: datetime | None = None,
    *,
    source: Source | None = None,
) -> ParseResult:
    """Parse one feed body of `source`'s wire (default GlobeNewswire); raise FeedError when it
    is not a feed at all (and only then).

    With `known` (release ids -> those already stored), stored items are not parsed again;
    their ids come back in `known_ids`. Each item is read on its own: one that cannot be read
    is counted in `failures` and the others are still returned; an item the source does not
    want (`SkipItem`: an SEC Form 4) is dropped silently. `now` bounds plausible dates.
    """
    source = source or globenewswire.PLUGIN
    known_ids: tuple[str, ...] = ()
    if known is not None:
        body, known_ids = drop_known_items(body, known, source)
    body, warnings, force_utf8 = prepare_body(strip_doctype(body), content_type)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    if force_utf8:
        headers["content-type"] = _with_utf8_charset(content_type)
    try:
        parsed = _feedparse_at(url, body, headers)
    except Exception as error:  # noqa: BLE001 - feedparser crashed: read the items one by one
        parsed, crash = None, _one_line(error)
    else:
        crash = None
    entries: list[tuple[int, Any]] = list(enumerate((parsed or {}).get("entries") or [], 1))
    failures: list[str] = []
    if parsed is not None and parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        warnings.insert(0, _one_line(problem) if problem else "not clean")
    if crash is not None or len(entries) < _count_items(body):
        # A broken item (an unclosed comment, a crashing reference) may have taken its
        # neighbours down with it: read every item alone and keep whichever way read more.
        alone, alone_failures = _parse_items_alone(body, headers, source)
        if crash is not None or len(alone) > len(entries):
            entries, failures = alone, alone_failures
            warnings.append(
                f"read item by item ({crash or f'{len(alone)} of {_count_items(body)} items'})"
            )
    if crash is not None and not entries and not failures:
        if not body.strip():
            raise FeedError(url, "not a feed: empty body")
        raise FeedError(url, f"not a feed: unreadable ({crash})")
    if not entries and not failures and not known_ids and not _looks_like_feed(parsed):
        kind = content_type.split(";")[0].strip() or "unknown content type"
        if not body.strip():
            raise FeedError(url, "not a feed: empty body")
        if kind.startswith(_HTML_TYPES):
            raise FeedError(url, f"not a feed: {kind}")
        raise FeedError(url, f"not a feed: {warnings[0] if warnings else kind}")
    releases, item_failures, flagged, _ = entries_to_releases(
        source, entries, url, now or datetime.now(UTC)
    )
    failures += item_failures
    return ParseResult(
        releases=tuple(releases),
        failed_items=len(failures),
        warning="; ".join(warnings) or None,
        known_ids=known_ids,
        failures=tuple(failures),
        flagged=tuple(flagged),
        warnings=tuple(warnings),
    )


def _feedparse(body: bytes, headers: dict[str, str]) -> Any:
    # No sanitizing and no relative-link resolving: both re-parse every item's HTML (a third of
    # feedparser's time); the text comes from our own HTML pass and links are never followed.
    return feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )


# The feed's URL goes to feedparser as Content-Location, the base of relative links. With a base,
# feedparser also re-joins the base with itself at every element (a sixth of its time): so the
# feed is read without it first, and read again with it only when the base could have changed an
# entry's link or id (the only URIs the sources read): an xml:base (or an ATTLIST giving one), or
# a link or id the base would resolve differently. So the entries are those the base gives.
# Searched in the lower-cased body: a case-blind regex is 20x slower.
_BASE_ATTRIBUTE = re.compile(rb"base\s*=")


def _may_set_base(body: bytes) -> bool:
    lowered = body.lower()
    return b"attlist" in lowered or _BASE_ATTRIBUTE.search(lowered) is not None


def _feedparse_at(url: str, body: bytes, headers: dict[str, str]) -> Any:
    """`_feedparse(body, headers)`, faster when the base (`url`) changes no link or id."""
    # Without a content type the headers must stay non-empty (feedparser then says "no
    # Content-type specified"): that case keeps the base.
    if "content-type" not in headers or not _plain_base(url) or _may_set_base(body):
        return _feedparse(body, headers)
    parsed = _feedparse(body, {"content-type": headers["content-type"]})
    plain: set[str] = set()  # URIs the base leaves as they are (an item's guid is its link)
    for entry in parsed.get("entries") or ():
        for key in ("link", "id"):
            value = entry.get(key)
            if not value or (isinstance(value, str) and value in plain):
                continue
            if not isinstance(value, str) or _urljoin(url, value) != value:
                return _feedparse(body, headers)
            plain.add(value)
    return parsed


@lru_cache(maxsize=256)
def _plain_base(url: str) -> bool:
    """True when feedparser's base for `url` is `url` itself at every element."""
    if not url or _urljoin is None:
        return False
    start = make_safe_absolute_uri("", url) or make_safe_absolute_uri(url) or ""
    return start == url and make_safe_absolute_uri(url, url) == url


_ITEM_START = re.compile(rb"<(?:item|entry)[\s>/]")
_ITEM_OR_ENTRY = re.compile(rb"<(item|entry)\b[^>]*>.*?</\1\s*>", re.DOTALL)


def _count_items(body: bytes) -> int:
    return len(_ITEM_START.findall(body))


def _parse_items_alone(
    body: bytes, headers: dict[str, str], source: Source
) -> tuple[list[tuple[int, Any]], list[str]]:
    """Each <item> (or Atom <entry>) parsed alone between the feed's head and tail."""
    spans = [m.span() for m in _ITEM_OR_ENTRY.finditer(body)]
    if not spans:
        return [], []
    head, tail = body[: spans[0][0]], body[spans[-1][1] :]
    entries: list[tuple[int, Any]] = []
    failures: list[str] = []
    for position, (start, end) in enumerate(spans, 1):
        chunk = body[start:end]
        try:
            parsed = _feedparse(head + chunk + tail, headers)
            found = parsed.get("entries") or []
        except Exception as error:  # noqa: BLE001
            found, reason = [], _one_line(error)
        else:
            problem = parsed.get("bozo_exception")
            reason = _one_line(problem) if problem else "no item found"
        if not found:
            label = _item_label(position, source.item_id(chunk))
            failures.append(f"{label}: unreadable ({reason})")
        entries += [(position, entry) for entry in found]
    return entries, failures


# Encodings: a feed declared (or defaulting to) UTF-8 with one bad byte was decoded by feedparser
# as windows-1252 as a whole, garbling every item ("Zürich" -> "ZÃ¼rich"). Such bodies are
# decoded here with the bad bytes replaced (U+FFFD) and handed on as clean UTF-8.
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_UTF8_NAMES = {"utf-8", "utf8", "utf_8"}
_VALID_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")
_WIDE_BOMS = (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)
# XML 1.0 forbids these C0 controls even as references; a raw one sends feedparser to its
# loose parser for the whole feed.
_RAW_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SAFE_BYTES = bytes(range(0x20, 0x100)) + b"\t\n\r"
# &#55296; (a surrogate), &#x110000; or &#99999999999999999999; crash feedparser's loose
# parser (chr() / UTF-8 encoding errors) and with it the whole feed.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
_REPLACEMENT_REF = b"&#xFFFD;"


def declared_encoding(body: bytes, content_type: str = "") -> str | None:
    """The encoding the HTTP charset, else a BOM, else the XML declaration names (lower case)."""
    charset = _CHARSET.search(content_type or "")
    if charset:
        return charset.group(1).lower()
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if body.startswith(_WIDE_BOMS) or body[:4] in _WIDE_MARKERS:
        return "utf-16/32"
    declared = _XML_ENCODING.match(body[:512])
    return declared.group(1).decode("ascii").lower() if declared else None


_WIDE_MARKERS = (b"\x00\x00\x00<", b"<\x00\x00\x00", b"\x00<\x00?", b"<\x00?\x00")


def prepare_body(body: bytes, content_type: str = "") -> tuple[bytes, list[str], bool]:
    """A UTF-8 (or undeclared) body made safe for feedparser, what was done, and whether
    feedparser must be told it is UTF-8 (a body with no declaration and no content type
    would be read as ISO-8859-1).

    Invalid UTF-8 bytes become U+FFFD (unless no byte sequence at all is valid UTF-8: then
    the feed is single-byte text mislabelled, left to feedparser's fallback), raw C0 controls
    are dropped, character references to no XML character become U+FFFD (controls: dropped).
    Single-byte encodings get the last two; other encodings (UTF-16, ...) pass unchanged.
    """
    warnings: list[str] = []
    encoding = declared_encoding(body, content_type)
    utf8 = encoding is None or encoding in _UTF8_NAMES
    ascii_compatible = utf8 or _single_byte(encoding)
    force_utf8 = False
    if utf8:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            text = body.decode("utf-8", "replace")
            if _VALID_NON_ASCII.search(text):
                bad = text.count("\ufffd") - body.count("\ufffd".encode())
                warnings.append(
                    f"invalid UTF-8 at byte {error.start} replaced ({bad} bad byte sequence"
                    f"{'s' if bad != 1 else ''})"
                )
                body = text.encode("utf-8")
            else:
                # Not one valid UTF-8 sequence: a single-byte feed declared UTF-8. feedparser's
                # fallback (windows-1252) reads all of it right; replacing would lose every é.
                text = ""
        force_utf8 = encoding is None and not content_type and not text.isascii()
    if ascii_compatible and body.translate(None, _SAFE_BYTES):  # 8x faster than re.search
        body, removed = _RAW_CONTROLS.subn(b"", body)
        warnings.append(f"{removed} control character{'s' if removed != 1 else ''} removed")
    # A feed holds a few distinct references many times over (&#x27; for every apostrophe):
    # the body is rewritten only when one of them is no XML character.
    if (
        ascii_compatible
        and b"&#" in body
        and not all(_xml_char(_ref_value(*ref)) for ref in set(_CHAR_REF.findall(body)))
    ):
        replaced = 0

        def fix(match: re.Match[bytes]) -> bytes:
            nonlocal replaced
            value = _ref_value(match.group(1), match.group(2))
            if _xml_char(value):
                return match.group(0)
            replaced += 1
            return b"" if 0 <= value < 0x20 else _REPLACEMENT_REF

        body = _CHAR_REF.sub(fix, body)
        if replaced:
            warnings.append(
                f"{replaced} invalid character reference{'s' if replaced != 1 else ''} replaced"
            )
    return body, warnings, force_utf8


def _ref_value(hex_digits: bytes, decimal_digits: bytes) -> int:
    """The code point a character reference's digits name (-1: more than 8 digits)."""
    digits = hex_digits or decimal_digits
    return -1 if len(digits) > 8 else int(digits, 16 if hex_digits else 10)


def _xml_char(value: int) -> bool:
    return (
        value in (0x9, 0xA, 0xD)
        or 0x20 <= value <= 0xD7FF
        or 0xE000 <= value <= 0xFFFD
        or 0x10000 <= value <= 0x10FFFF
    )


def _single_byte(encoding: str | None) -> bool:
    if not encoding:
        return False
    name = encoding.replace("_", "-")
    return name in ("us-ascii", "ascii", "latin1", "latin-1", "l1") or name.startswith(
        ("iso-8859", "iso8859", "windows-125", "cp125", "koi8")
    )


def _with_utf8_charset(content_type: str) -> str:
    kind = content_type.split(";")[0].strip() or "application/xml"
    return f"{kind}; charset=utf-8"


def _one_line(error: object) -> str:
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    lines = text.strip().splitlines()
    return one_line(lines[0] if lines else type(error).__name__, 200)


def _item_label(position: int, item_id: str | None) -> str:
    return f"item {position} (id {item_id})" if item_id else f"item {position}"


def _looks_like_feed(parsed) -> bool:
    # An empty but well-formed <channel> (GNW's TSX feed answers so) is a feed with no items.
    return parsed is not None and bool(parsed.get("version")) and not parsed.get("bozo")
