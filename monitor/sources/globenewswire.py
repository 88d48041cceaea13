"""GlobeNewswire: feed item -> Release (id, tickers from rss/stock categories, UTC dates)."""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import re
import time
from datetime import UTC
from typing import Any

from monitor.html import html_to_text
from monitor.models import Release, Ticker
from monitor.tickers import dateline_tickers, parse_ticker

SOURCE = "globenewswire"

# /news-release/2026/09/11/3360561/37244/en/slug.html: the first number after the date is the id.
_URL_ID = re.compile(r"/news-release/\d{4}/\d{1,2}/\d{1,2}/(\d+)/")
_ANY_LONG_NUMBER = re.compile(r"/(\d{5,})(?:/|$)")
_SPACES = re.compile(r"\s+")


def release_id(entry: Any) -> str:
    """`dc:identifier`, else the number in the article URL, else a stable hash of the link."""
    identifier = str(entry.get("dc_identifier") or "").strip()
    if identifier.isdigit():
        return identifier
    for candidate in (entry.get("link"), entry.get("id")):
        if not candidate:
            continue
        match = _URL_ID.search(candidate) or _ANY_LONG_NUMBER.search(candidate)
        if match:
            return match.group(1)
    if identifier:
        return identifier
    anchor = entry.get("link") or entry.get("id") or entry.get("title") or ""
    if not anchor:
        raise ValueError("item has no dc:identifier, link, guid or title")
    return "h" + hashlib.sha1(anchor.encode("utf-8")).hexdigest()[:16]


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
        ticker = parse_ticker(tag.get("term") or "")
        if ticker and ticker not in found:
            found.append(ticker)
    return tuple(found)


def _published(entry: Any) -> tuple[str | None, str]:
    raw = entry.get("published") or entry.get("dc_modified") or ""
    parsed = entry.get("published_parsed")
    if parsed:
        # feedparser's struct_time is UTC; timegm keeps it that way.
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(parsed))), raw
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None, raw
    if when.tzinfo is None:  # RFC 822 "-0000": unknown zone; GNW means GMT
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), raw


def entry_to_release(entry: Any, feed_url: str = "") -> Release:
    """Turn one feedparser entry of a GlobeNewswire feed into a Release."""
    summary_html = entry.get("summary") or entry.get("description") or ""
    contents = entry.get("content") or ()
    if contents and len(contents[0].get("value", "")) > len(summary_html):
        summary_html = contents[0]["value"]
    text = html_to_text(summary_html)
    title = _SPACES.sub(" ", entry.get("title") or "").strip()
    published_utc, published_raw = _published(entry)
    contributors = entry.get("contributors") or ()
    issuer = (contributors[0].get("name") if contributors else "") or entry.get("author") or ""
    subjects = tuple(
        dict.fromkeys(
            tag["term"].strip()
            for tag in entry.get("tags") or ()
            if not tag.get("scheme") and (tag.get("term") or "").strip()
        )
    )
    tickers = tickers_from_categories(entry) or dateline_tickers(text)
    return Release(
        source=SOURCE,
        release_id=release_id(entry),
        url=(entry.get("link") or entry.get("id") or "").strip(),
        title=title,
        summary_html=summary_html,
        text=text,
        published_utc=published_utc,
        published_raw=published_raw,
        issuer=issuer.strip(),
        language=(entry.get("language") or "").strip(),
        subjects=subjects,
        tickers=tickers,
        feed_url=feed_url,
    )
