"""Business Wire: RSS item -> Release; the full text from the article page.

What is known (`wire-formats.md` section 3, `INDEX-2.md`); no real Business Wire RSS or article
page was ever captured, so element-level details are inferred and the parser reads the common
RSS fields only:
- feeds: `https://feed.businesswire.com/rss/home/?rss=<opaque id>` (one per industry);
- item links: `https://www.businesswire.com/news/home/<YYYYMMDD><6 digits>/en/<Slug>/`, often
  with a tracking `?feedref=...` query: the id is the `/news/home/<id>/` number, and the URL is
  stored without its query. Click-tracking links (`cts.businesswire.com/ct/CT?...newsitemid=`)
  and the old portal form (`...?newsId=<id>`) carry the same id in the query;
- the dateline `CITY--(BUSINESS WIRE)--`, sometimes followed by cashtags and hashtags
  (`--(BUSINESS WIRE)--$IBKR #IBKR--`); tickers in the text as `(Nasdaq: IBKR)`,
  `(NYSE: GIG, GIG.U)`. A `$XXXX` cashtag in the dateline is a ticker with no exchange; a
  `#hashtag` is a topic (`#ASCO2024`, `#biotech`), never a ticker;
- the body of an article page is `div.bw-release-story`; the page date reads
  `March 08, 2019 04:10 PM Eastern Standard Time`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from monitor.html import one_line
from monitor.models import Release, Ticker
from monitor.sources.base import (
    Source,
    fallback_id,
    page_text,
    rss_release,
    strip_query,
    subjects_of,
    text,
)
from monitor.tickers import dateline_tickers

SOURCE = "businesswire"
HOSTS = ("businesswire.com",)

# /news/home/20210130005024/en/ : 8 date digits and a 6-digit sequence (older ids are shorter).
_PATH_ID = re.compile(r"/news/home/(\d{8,20})(?:/|$)", re.IGNORECASE)
_QUERY_ID_KEYS = ("newsitemid", "newsid")
_RAW_ID = (
    re.compile(rb"<link>\s*(?:<!\[CDATA\[)?\s*https?://[^<\s]*?/news/home/(\d{8,20})(?:/|\s|<)"),
    re.compile(
        rb"<guid\b[^>]*>\s*(?:<!\[CDATA\[)?\s*https?://[^<\s]*?/news/home/(\d{8,20})(?:/|\s|<)"
    ),
)
_BW_TAG = re.compile(r"\(\s*BUSINESS\s+WIRE\s*\)", re.IGNORECASE)
# `$IBKR`, `$BRK.B`: capitals only, so "$2 million" and "US$10" never are.
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Z]{1,6}(?:\.[A-Z]{1,2})?)(?![\w.])")
_DATELINE_REACH = 400  # cashtags count only this near the (BUSINESS WIRE) tag
_PAGE_BODY = ("div.bw-release-story", ".bw-release-story", "[itemprop=articleBody]")


def id_from_url(url: str) -> str | None:
    """The release id of a Business Wire URL: `/news/home/<id>/`, else `newsitemid=`/`newsId=`."""
    url = one_line(url)
    if not url:
        return None
    path = strip_query(url)
    match = _PATH_ID.search(path)
    if match:
        return match.group(1)
    try:
        query = parse_qsl(urlsplit(url).query)
    except ValueError:
        return None
    for key, value in query:
        if key.lower() in _QUERY_ID_KEYS and value.isdigit() and 8 <= len(value) <= 20:
            return value
    return None


def release_id(entry: Any) -> str:
    """The `/news/home/<id>/` number of the link (else the guid), tracking query ignored; else a
    stable hash of the item."""
    for candidate in (text(entry.get("link")), text(entry.get("id"))):
        found = id_from_url(candidate)
        if found:
            return found
    return fallback_id(entry)


def canonical_url(url: str) -> str:
    """An article URL without its tracking query (`?feedref=...`); other URLs unchanged."""
    return strip_query(url) if _PATH_ID.search(strip_query(url)) else url.strip()


def cashtags(text_: str) -> tuple[Ticker, ...]:
    """`$XXXX` cashtags in the dateline (near `(BUSINESS WIRE)`, else at the very start)."""
    tag = _BW_TAG.search(text_[:3000])
    start = tag.end() if tag else 0
    window = text_[start : start + _DATELINE_REACH]
    return tuple(dict.fromkeys(Ticker("", symbol) for symbol in _CASHTAG.findall(window)))


def tickers_in_text(text_: str) -> tuple[Ticker, ...]:
    """`(Nasdaq: IBKR)`-style tickers, then cashtags whose symbol was not already found."""
    found = list(dateline_tickers(text_))
    symbols = {t.symbol for t in found}
    found += [t for t in cashtags(text_) if t.symbol not in symbols]
    return tuple(found)


def entry_to_release(
    entry: Any,
    feed_url: str = "",
    *,
    now: datetime | None = None,
    notes: list[str] | None = None,
) -> Release:
    """One Business Wire RSS item as a Release (the text is the summary until the page is read)."""
    return rss_release(
        entry,
        SOURCE,
        release_id(entry),
        feed_url,
        now=now,
        notes=notes,
        subjects=subjects_of(entry),
        url_of=canonical_url,
        tickers_of=tickers_in_text,
    )


def page_url(release: Release) -> str | None:
    url = release.url.strip()
    return url if url.lower().startswith(("https://", "http://")) else None


def text_from_page(html: bytes, url: str = "") -> str:
    """The release text of a Business Wire article page (`div.bw-release-story`, else the
    page's main text)."""
    return page_text(html, _PAGE_BODY)


PLUGIN = Source(
    name=SOURCE,
    hosts=HOSTS,
    entry_to_release=entry_to_release,
    release_id=release_id,
    full_text=False,
    item_id_patterns=_RAW_ID,
    page_url=page_url,
    text_from_page=text_from_page,
    tickers_in_text=tickers_in_text,
    description="Business Wire RSS (summaries; the body from the article page; cashtags)",
)
