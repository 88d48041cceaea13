"""GlobeNewswire: feed item -> Release (id, tickers from rss/stock categories, UTC dates)."""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.html import clean_text, html_to_text, one_line
from monitor.models import Release, Ticker
from monitor.tickers import dateline_tickers, parse_ticker

SOURCE = "globenewswire"

# /news-release/2026/09/11/3360561/37244/en/slug.html: the first number after the date is the id.
_URL_ID = re.compile(r"/news-release/\d{4}/\d{1,2}/\d{1,2}/(\d+)/")
_ANY_LONG_NUMBER = re.compile(r"/(\d{5,})(?:/|$)")

# Hostile items: what one field may hold at most (a 1 MB title is clipped, not stored).
MAX_TITLE = 1000
MAX_FIELD = 300  # issuer, a subject, an id, the raw date
MAX_URL = 4096
# A publication date outside [1990-01-01, now + 366 days] is a wrong date: not used for sorting
# or the duplicate window (year 9999 or 1 overflowed the date arithmetic), only kept as raw text.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_EARLIEST_SECONDS = EARLIEST.timestamp()
LATEST_AHEAD = timedelta(days=366)


def _text(value: Any) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _hash_id(*parts: str) -> str:
    anchor = "\x1f".join(parts).encode("utf-8", "surrogatepass")
    return "h" + hashlib.sha1(anchor).hexdigest()[:16]


def release_id(entry: Any) -> str:
    """`dc:identifier`, else the number in the article URL, else a stable hash of the item.

    The hash is of the link or guid when there is one; otherwise of the title, the date and the
    description together, so two items with one title but other contents stay two releases
    while the same item read twice keeps its id. (A title alone hashes as it always did.)
    """
    identifier = one_line(_text(entry.get("dc_identifier")))
    if identifier.isdigit() and len(identifier) <= MAX_FIELD:
        return identifier
    for candidate in (_text(entry.get("link")), _text(entry.get("id"))):
        if not candidate:
            continue
        match = _URL_ID.search(candidate) or _ANY_LONG_NUMBER.search(candidate)
        if match and len(match.group(1)) <= MAX_FIELD:
            return match.group(1)
    if identifier:
        return identifier if len(identifier) <= MAX_FIELD else _hash_id(identifier)
    anchor = _text(entry.get("link")).strip() or _text(entry.get("id")).strip()
    if anchor:
        return _hash_id(anchor)
    title = _text(entry.get("title"))
    date = _text(entry.get("published") or entry.get("dc_modified")).strip()
    description = _text(entry.get("summary") or entry.get("description"))
    if not title.strip() and not description.strip():
        raise ValueError("item has no dc:identifier, link, guid, title or description")
    if not date and not description:
        return _hash_id(title)
    digest = hashlib.sha1(description.encode("utf-8", "surrogatepass")).hexdigest()
    return _hash_id(title, date, digest)


def _is_stock_domain(scheme: str | None) -> bool:
    # In 2021 the domain was http://, in 2026 https://: compare without the scheme.
    if not scheme:
        return False
    return re.sub(r"^[a-z]+://", "", scheme.strip().lower()).rstrip("/").endswith("/rss/stock")


def tickers_from_categories(entry: Any) -> tuple[Ticker, ...]:
    """Every `<category domain=".../rss/stock">EXCHANGE:SYMBOL</category>`, ISINs ignored."""
    found: list[Ticker] = []
    for tag in entry.get("tags") or ():
        if not _is_stock_domain(tag.get("scheme")):
            continue
        ticker = parse_ticker(one_line(_text(tag.get("term")), MAX_FIELD))
        if ticker and ticker not in found:
            found.append(ticker)
    return tuple(found)


def published_utc(
    raw: str, parsed: Any = None, now: datetime | None = None
) -> tuple[str | None, str | None]:
    """ISO UTC of a publication date (feedparser's struct_time, else the RFC 822 text) and the
    reason when there is none: unreadable, or outside [1990-01-01, now + 366 days]. Never raises.
    """
    if not raw and not parsed:
        return None, None
    try:
        if parsed:
            # feedparser's struct_time is UTC; timegm keeps it that way.
            seconds = calendar.timegm(tuple(parsed)[:6] + (0, 0, 0))
        else:
            when = email.utils.parsedate_to_datetime(raw)
            if when.tzinfo is None:  # RFC 822 "-0000": unknown zone; GNW means GMT
                when = when.replace(tzinfo=UTC)
            seconds = calendar.timegm(when.utctimetuple())
    except Exception:  # noqa: BLE001 - any unreadable date is "no date", never a lost item
        return None, "unreadable date"
    latest = (now or datetime.now(UTC)) + LATEST_AHEAD
    if not _EARLIEST_SECONDS <= seconds <= latest.timestamp():
        return None, "date out of range (before 1990 or over a year ahead)"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds)), None


def entry_to_release(
    entry: Any,
    feed_url: str = "",
    *,
    now: datetime | None = None,
    notes: list[str] | None = None,
) -> Release:
    """Turn one feedparser entry of a GlobeNewswire feed into a Release.

    Every string of the Release encodes to UTF-8 and holds no C0 control but tab/newline/CR.
    What was wrong but survivable (a date out of range, a clipped title) is appended to `notes`.
    """
    problems = notes if notes is not None else []
    summary_html = _text(entry.get("summary") or entry.get("description"))
    contents = entry.get("content") or ()
    if contents and len(_text(contents[0].get("value"))) > len(summary_html):
        summary_html = _text(contents[0]["value"])
    text = clean_text(html_to_text(summary_html))
    title = one_line(_text(entry.get("title")))
    if len(title) > MAX_TITLE:
        problems.append(f"title clipped from {len(title):,} characters")
        title = title[:MAX_TITLE].rstrip()
    published_raw = _text(entry.get("published") or entry.get("dc_modified"))
    published, date_problem = published_utc(published_raw, entry.get("published_parsed"), now)
    published_raw = one_line(published_raw, MAX_FIELD)
    if date_problem:
        problems.append(f"{date_problem}: {published_raw!r}")
    contributors = entry.get("contributors") or ()
    issuer = (contributors[0].get("name") if contributors else "") or entry.get("author")
    subjects = tuple(
        dict.fromkeys(
            subject
            for tag in entry.get("tags") or ()
            if not tag.get("scheme") and (subject := one_line(_text(tag.get("term")), MAX_FIELD))
        )
    )
    tickers = tickers_from_categories(entry) or dateline_tickers(text)
    return Release(
        source=SOURCE,
        release_id=release_id(entry),
        url=one_line(_text(entry.get("link")) or _text(entry.get("id")), MAX_URL),
        title=title,
        summary_html=summary_html,
        text=text,
        published_utc=published,
        published_raw=published_raw,
        issuer=one_line(_text(issuer), MAX_FIELD),
        language=one_line(_text(entry.get("language")), 35),
        subjects=subjects,
        tickers=tickers,
        feed_url=feed_url,
    )


# The source interface (monitor.sources.base.Source). The feed carries the first paragraph only
# (unless the feed URL asks for /content/fulltext); biomon does not fetch GNW article pages
# (`page_url` gives None), but `text_from_page` reads one (the 2023 template, with fallbacks) for
# whoever wants to.
_PAGE_BODY = ("#main-body-container", "div.main-body-container", "[itemprop=articleBody]")


def text_from_page(html: bytes, url: str = "") -> str:
    """The release text of a GlobeNewswire article page."""
    from monitor.sources.base import page_text

    return page_text(html, _PAGE_BODY)


def _plugin():
    from monitor.sources.base import Paging, Source

    return Source(
        name=SOURCE,
        hosts=("globenewswire.com",),
        entry_to_release=entry_to_release,
        release_id=release_id,
        full_text=False,
        # "The maximum value for Max should be 50. The hard limit ... is 100."
        paging=Paging(style="path", max_size=100, default_size=50),
        item_id_patterns=(
            re.compile(rb"<dc:identifier>\s*(\d+)\s*</dc:identifier>"),
            re.compile(rb"/news-release/\d{4}/\d{1,2}/\d{1,2}/(\d+)/"),
        ),
        text_from_page=text_from_page,
        description="GlobeNewswire RSS/Atom (tickers from rss/stock categories)",
    )


PLUGIN = _plugin()
