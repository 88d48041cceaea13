"""The interface every wire module fills in (`Source`), and what the wires share.

A source owns everything wire-specific: which feed URLs are its own (by host), how one
feedparser entry becomes a `Release` (id, tickers, dates, text), which items it keeps, how its
items can be recognised in the raw bytes before feedparser runs (known-item skipping), whether
its feed carries the whole text (and if not, where the article page is and how to read it), and
how its feeds page back. The poller, parser, store and backfill only ever talk to a `Source`.

Nothing here imports `monitor.parse` at module level: `parse` imports the sources.
"""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import io
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.html import clean_text, html_to_text, one_line
from monitor.models import ParseResult, Release, Ticker
from monitor.tickers import dateline_tickers

# Limits for hostile items (the same as GlobeNewswire's).
MAX_TITLE = 1000
MAX_FIELD = 300
MAX_URL = 4096
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=366)

RSS_ITEM = re.compile(rb"<item\b[^>]*>.*?</item\s*>", re.DOTALL)
ATOM_ENTRY = re.compile(rb"<entry\b[^>]*>.*?</entry\s*>", re.DOTALL)


class SkipItem(Exception):  # noqa: N818 - it is not an error: the item is not this source's kind
    """Raised by `entry_to_release` for an item the source does not want (an SEC Form 4 in the
    latest-filings feed). Not a failure: the caller drops it silently."""


@dataclass(frozen=True)
class Paging:
    """How a source's feeds page back in time (for backfill).

    `style`: "path" (GlobeNewswire `/max/N/start/M`), "query" (SEC `&start=M&count=N`) or
    "none" (PR Newswire and Business Wire RSS are rolling windows: no older pages).
    """

    style: str = "none"
    max_size: int = 0  # the largest page the wire serves
    default_size: int = 0
    start_param: str = "start"
    size_param: str = "count"

    @property
    def pages(self) -> bool:
        return self.style != "none"

    def page_url(self, url: str, size: int, start: int) -> str | None:
        """The URL of the page of `size` items starting at item `start`, or None (no paging)."""
        if self.style == "none":
            return None
        size = min(size, self.max_size) if self.max_size else size
        if self.style == "path":
            return f"{url.rstrip('/')}/max/{size}/start/{start}"
        parts = urlsplit(url)
        query = [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in (self.start_param, self.size_param)
        ]
        query += [(self.size_param, str(size)), (self.start_param, str(start))]
        return urlunsplit(parts._replace(query=urlencode(query, safe=":/,")))


NO_PAGING = Paging()


def _no_page(release: Release) -> str | None:
    return None


def _no_text(html: bytes, url: str) -> str:
    return ""


def _no_follow(html: bytes, url: str) -> str | None:
    return None


def _no_hints(release: Release) -> tuple[tuple[str, str], ...]:
    return ()


@dataclass(frozen=True)
class Source:
    """One wire, as the generic code sees it.

    - `entry_to_release(entry, feed_url="", *, now=None, notes=None) -> Release`: one feedparser
      entry; raises on an item that cannot be read (the caller counts it and goes on), raises
      `SkipItem` for an item the source does not want; survivable problems go into `notes`.
    - `release_id(entry) -> str`: the wire's stable id (what the store dedupes on).
    - `item_id_patterns`: byte regexes whose group 1 is the release id of a raw item (or None:
      no skipping before feedparser). Must agree with `release_id` (tested per wire).
    - `full_text`: whether the feed carries the whole release. When False and `page_url(release)`
      gives a URL, that page is fetched; when `follow_page(html, url)` then names another URL
      (SEC: the filing index names exhibit 99.1), that one is fetched too; and
      `with_page(release, html, url)` gives the release with the page's text (by default: the
      text of `text_from_page`, tickers from `tickers_in_text` added; the summary is kept when
      the page gives less text than it).
    - `release_filter(config)`: see the field; the poller calls it once per config.
    """

    name: str
    hosts: tuple[str, ...]
    entry_to_release: Callable[..., Release]
    release_id: Callable[[Any], str]
    full_text: bool
    paging: Paging = NO_PAGING
    item_id_patterns: tuple[re.Pattern[bytes], ...] = ()
    item_pattern: re.Pattern[bytes] = RSS_ITEM
    page_url: Callable[[Release], str | None] = _no_page
    text_from_page: Callable[[bytes, str], str] = _no_text
    follow_page: Callable[[bytes, str], str | None] = _no_follow
    tickers_in_text: Callable[[str], tuple[Ticker, ...]] = dateline_tickers
    page_to_release: Callable[[Release, bytes, str], Release] | None = None
    description: str = ""
    # (tag, evidence) the wire's own metadata suggests (SEC: an 8-K's item codes), for the
    # classifier to use where the text earns no tag of its own.
    tag_hints: Callable[[Release], tuple[tuple[str, str], ...]] = _no_hints
    # Given the Config: a function (release, feed URL) -> the release to store (completed,
    # e.g. with the watched ticker) or None (not wanted: an unwatched filer in EDGAR's
    # latest-filings feed). None: every release is stored as read.
    release_filter: Callable[[Any], Callable[[Release, str], Release | None]] | None = None

    def recognises(self, url: str) -> bool:
        """True when `url`'s host is one of this wire's hosts or a subdomain of one."""
        return host_matches(url, self.hosts)

    def item_id(self, chunk: bytes) -> str | None:
        """The release id of one raw item (`<item>...</item>`), or None when not readable."""
        for pattern in self.item_id_patterns:
            found = pattern.search(chunk)
            if found:
                return found.group(1).decode("ascii", "replace")
        return None

    def with_page(self, release: Release, html: bytes, url: str) -> Release:
        """`release` with the text of its fetched page (see the class docstring)."""
        if self.page_to_release is not None:
            return self.page_to_release(release, html, url)
        return merge_page_text(release, self.text_from_page(html, url), self.tickers_in_text)

    def __str__(self) -> str:
        return self.name


def merge_page_text(
    release: Release, page: str, tickers_in_text: Callable[[str], tuple[Ticker, ...]]
) -> Release:
    """The release with `page` as its text when the page holds more than the summary, and the
    tickers the whole text names added after the feed's own."""
    page = clean_text(page or "")
    if len(page) <= len(release.text):
        return release
    tickers = tuple(dict.fromkeys((*release.tickers, *tickers_in_text(page))))
    return replace(release, text=page, tickers=tickers)


def host_of(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.lower().rstrip(".")


def host_matches(url: str, hosts: Iterable[str]) -> bool:
    host = host_of(url)
    return bool(host) and any(host == h or host.endswith("." + h) for h in hosts)


# ---------------------------------------------------------------------------------------------
# Helpers the entry parsers share (the GlobeNewswire module keeps its own copies unchanged).


def text(value: Any) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def hash_id(*parts: str) -> str:
    anchor = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return "h" + hashlib.sha1(anchor).hexdigest()[:16]


def fallback_id(entry: Any) -> str:
    """A stable hash of the link or guid, else of title + date + description; ValueError when
    the item has none of them."""
    anchor = text(entry.get("link")).strip() or text(entry.get("id")).strip()
    if anchor:
        return hash_id(anchor)
    title = text(entry.get("title"))
    date = text(entry.get("published") or entry.get("updated")).strip()
    description = text(entry.get("summary") or entry.get("description"))
    if not title.strip() and not description.strip():
        raise ValueError("item has no link, guid, title or description")
    digest = hashlib.sha1(description.encode("utf-8", "surrogatepass")).hexdigest()
    return hash_id(title, date, digest)


def published_utc(
    raw: str, parsed: Any = None, now: datetime | None = None
) -> tuple[str | None, str | None]:
    """ISO UTC of a date (feedparser's UTC struct_time, else RFC 822 or ISO 8601 text with its
    zone) and the reason when there is none. A date without a zone is taken as UTC. Never raises.
    """
    if not raw and not parsed:
        return None, None
    try:
        if parsed:
            seconds = calendar.timegm(tuple(parsed)[:6] + (0, 0, 0))
        else:
            when = _parse_date_text(raw)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = calendar.timegm(when.utctimetuple())
    except Exception:  # noqa: BLE001 - an unreadable date is "no date", never a lost item
        return None, "unreadable date"
    latest = (now or datetime.now(UTC)) + LATEST_AHEAD
    if not EARLIEST.timestamp() <= seconds <= latest.timestamp():
        return None, "date out of range (before 1990 or over a year ahead)"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds)), None


def _parse_date_text(raw: str) -> datetime:
    raw = raw.strip()
    if re.match(r"\d{4}-\d{2}-\d{2}", raw):
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return email.utils.parsedate_to_datetime(raw)


def entry_date(entry: Any) -> tuple[str, Any]:
    """The raw publication date of an entry and feedparser's parse of it (published, else
    updated: `dc:date` and Atom `<updated>` land there)."""
    if entry.get("published"):
        return text(entry.get("published")), entry.get("published_parsed")
    return text(entry.get("updated")), entry.get("updated_parsed")


def clip_title(title: str, problems: list[str]) -> str:
    title = one_line(title)
    if len(title) > MAX_TITLE:
        problems.append(f"title clipped from {len(title):,} characters")
        title = title[:MAX_TITLE].rstrip()
    return title


def summary_html(entry: Any) -> str:
    html = text(entry.get("summary") or entry.get("description"))
    contents = entry.get("content") or ()
    if contents and len(text(contents[0].get("value"))) > len(html):
        html = text(contents[0]["value"])
    return html


def rss_release(
    entry: Any,
    source: str,
    release_id: str,
    feed_url: str,
    *,
    now: datetime | None,
    notes: list[str] | None,
    subjects: tuple[str, ...],
    url_of: Callable[[str], str] = lambda url: url,
    tickers_of: Callable[[str], tuple[Ticker, ...]] | None = None,
) -> Release:
    """One RSS item of a wire whose feed carries a summary (its text until the page is read).

    Problems with the item that do not lose it (a clipped title, a date out of range) are
    appended to `notes`.
    """
    problems = notes if notes is not None else []
    html = summary_html(entry)
    body = clean_text(html_to_text(html))
    title = clip_title(text(entry.get("title")), problems)
    raw, parsed = entry_date(entry)
    published, date_problem = published_utc(raw, parsed, now)
    raw = one_line(raw, MAX_FIELD)
    if date_problem:
        problems.append(f"{date_problem}: {raw!r}")
    link = one_line(text(entry.get("link")) or text(entry.get("id")), MAX_URL)
    extra = {"tickers": tickers_of(body)} if tickers_of else {}
    return Release(
        source=source,
        release_id=release_id,
        url=url_of(link),
        title=title,
        summary_html=html,
        text=body,
        published_utc=published,
        published_raw=raw,
        issuer=issuer_of(entry),
        language=one_line(text(entry.get("language")), 35),
        subjects=subjects,
        feed_url=feed_url,
        **extra,
    )


def issuer_of(entry: Any) -> str:
    contributors = entry.get("contributors") or ()
    issuer = (contributors[0].get("name") if contributors else "") or entry.get("author")
    return one_line(text(issuer), MAX_FIELD)


def subjects_of(entry: Any, *extra: Any) -> tuple[str, ...]:
    found = [tag.get("term") for tag in entry.get("tags") or () if not tag.get("scheme")]
    found += list(extra)
    return tuple(dict.fromkeys(s for value in found if (s := one_line(text(value), MAX_FIELD))))


def strip_query(url: str) -> str:
    """The URL without its query and fragment (tracking: `?feedref=...`, `?tc=eml_cleartime`)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    return urlunsplit(parts._replace(query="", fragment=""))


# ---------------------------------------------------------------------------------------------
# Article pages: the release body by the wire's selectors, else a readable fallback.

_CHROME = ("script", "style", "noscript", "nav", "header", "footer", "form", "iframe", "svg")


def page_text(html: bytes | str, selectors: Sequence[str]) -> str:
    """The text of the first element matching one of `selectors` (CSS) that holds some text;
    else `<article>`; else the page's body without its navigation, header, footer and scripts.
    Paragraphs are kept (one blank line between blocks), as `html_to_text` gives them."""
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    if not html:
        return ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    for selector in (*selectors, "article"):
        for node in soup.select(selector):
            found = html_to_text(str(node))
            if len(found) >= 40:
                return clean_text(found)
    body = soup.body or soup
    for tag in body.find_all(_CHROME):
        tag.decompose()
    return clean_text(html_to_text(str(body)))


# ---------------------------------------------------------------------------------------------
# Reading a feed body with a given source. Step 2 moves this into `monitor.parse.parse_feed`
# (which then takes a `source`); until then tests and tools use it.


def entries_to_releases(
    source: Source,
    entries: Iterable[tuple[int, Any]],
    feed_url: str = "",
    now: datetime | None = None,
) -> tuple[list[Release], list[str], list[str], int]:
    """(releases, failures, flagged, skipped): each entry alone, one bad item never stops the
    others; repeats of one release id within the feed are kept once (EDGAR repeats an
    accession once per filer role)."""
    when = now or datetime.now(UTC)
    releases: list[Release] = []
    failures: list[str] = []
    flagged: list[str] = []
    skipped = 0
    seen: set[str] = set()
    for position, entry in entries:
        notes: list[str] = []
        try:
            release = source.entry_to_release(entry, feed_url=feed_url, now=when, notes=notes)
        except SkipItem:
            skipped += 1
            continue
        except Exception as error:  # noqa: BLE001 - one bad item never stops the others
            failures.append(f"{_label(position, _safe_id(source, entry))}: {_one_line(error)}")
            continue
        if release.release_id in seen:
            continue
        seen.add(release.release_id)
        releases.append(release)
        flagged += [f"{_label(position, release.release_id)}: {note}" for note in notes]
    return releases, failures, flagged, skipped


def read_feed(
    source: Source,
    url: str,
    body: bytes,
    content_type: str = "",
    known: Callable[[list[str]], set[str]] | None = None,
    now: datetime | None = None,
) -> ParseResult:
    """Parse one feed body with `source`'s entry parser, using `monitor.parse`'s body
    preparation (DOCTYPE stripped, bad bytes replaced) and its feedparser settings."""
    import feedparser

    from monitor import parse

    known_ids: tuple[str, ...] = ()
    if known is not None:
        body, known_ids = drop_known_items(source, body, known)
    body, warns, force_utf8 = parse.prepare_body(parse.strip_doctype(body), content_type)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    if force_utf8:
        headers["content-type"] = "application/xml; charset=utf-8"
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if parsed.get("bozo") and parsed.get("bozo_exception"):
        warns.insert(0, _one_line(parsed["bozo_exception"]))
    entries = list(enumerate(parsed.get("entries") or [], 1))
    releases, failures, flagged, _ = entries_to_releases(source, entries, url, now)
    return ParseResult(
        releases=tuple(releases),
        failed_items=len(failures),
        warning="; ".join(warns) or None,
        known_ids=known_ids,
        failures=tuple(failures),
        flagged=tuple(flagged),
        warnings=tuple(warns),
    )


def drop_known_items(
    source: Source, body: bytes, known: Callable[[list[str]], set[str]]
) -> tuple[bytes, tuple[str, ...]]:
    """`parse.drop_known_items` for any source: the body without the items whose ids `known`
    reports, and those ids. When any item's id cannot be read, the body is returned whole."""
    if not source.item_id_patterns:
        return body, ()
    spans, ids = [], []
    for match in source.item_pattern.finditer(body):
        item_id = source.item_id(match.group(0))
        if item_id is None:
            return body, ()
        spans.append(match.span())
        ids.append(item_id)
    stored = known(ids) if ids else set()
    if not stored:
        return body, ()
    parts, position = [], 0
    for (start, end), item_id in zip(spans, ids, strict=True):
        if item_id in stored:
            parts.append(body[position:start])
            position = end
    parts.append(body[position:])
    return b"".join(parts), tuple(dict.fromkeys(i for i in ids if i in stored))


def _one_line(error: object) -> str:
    text_ = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    lines = text_.strip().splitlines()
    return one_line(lines[0] if lines else type(error).__name__, 200)


def _label(position: int, item_id: str | None) -> str:
    return f"item {position} (id {item_id})" if item_id else f"item {position}"


def _safe_id(source: Source, entry: Any) -> str | None:
    try:
        return source.release_id(entry)
    except Exception:  # noqa: BLE001
        return None
