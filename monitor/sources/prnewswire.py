"""PR Newswire: RSS item -> Release; the full text from the article page.

What the real feed shows (`wire-formats.md` section 2; a 2026-09-13 capture):
- `<link>` = `<guid>` = `https://www.prnewswire.com/news-releases/<slug>-<9-digit id>.html`:
  the id is the trailing number (the slug changes, the number does not).
- `<pubDate>Sun, 13 Sep 2026 14:05:00 +0000</pubDate>` (RFC 822 with seconds and an offset).
- `<description>` is a CDATA `<p>` with the dateline `CITY, Sept. 13, 2026 /PRNewswire/ --`,
  **cut with "..."**: the body is only on the article page (`section.release-body`).
- No `<category>` and no ticker field: tickers exist only in the text, `(NASDAQ: XXXX)`,
  `(NYSE American: XXX)`, `(OTCQB: XXXX)`, `(TSX: XXX)`, read through `monitor.tickers`.
- `dc:contributor` is the issuer; `dc:subject` a code (ERN, JVN); `prn:subject` its name.
  feedparser keeps only the last of several `prn:industry` (not used).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from monitor.html import one_line
from monitor.models import Release
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

SOURCE = "prnewswire"
HOSTS = ("prnewswire.com",)

# `...-302876446.html`: the release id is the number the path ends with.
_URL_ID = re.compile(r"-(\d{6,12})\.html?$")
_ANY_LONG_NUMBER = re.compile(r"/(?:[^/]*?-)?(\d{6,12})(?:\.html?)?/?$")
# The same id in the raw item, for skipping stored items before feedparser reads them.
_RAW_ID = (
    re.compile(rb"<link>\s*(?:<!\[CDATA\[)?\s*https?://[^<\s?#]*?-(\d{6,12})\.html?"),
    re.compile(rb"<guid\b[^>]*>\s*(?:<!\[CDATA\[)?\s*https?://[^<\s?#]*?-(\d{6,12})\.html?"),
)
# "...helps consumers understand..." / "…": the feed's description is a cut summary.
_CUT = re.compile(r"(?:\.\.\.|…)\s*$")
_PAGE_BODY = ("section.release-body", "div.release-body", ".release-body")


def release_id(entry: Any) -> str:
    """The trailing number of the article URL (link, else guid), else a stable hash."""
    for candidate in (text(entry.get("link")), text(entry.get("id"))):
        path = strip_query(one_line(candidate))
        if not path:
            continue
        match = _URL_ID.search(path) or _ANY_LONG_NUMBER.search(path)
        if match:
            return match.group(1)
    return fallback_id(entry)


def is_cut(summary_text: str) -> bool:
    """True when a feed description ends cut ("..." or "…")."""
    return bool(_CUT.search(summary_text))


def entry_to_release(
    entry: Any,
    feed_url: str = "",
    *,
    now: datetime | None = None,
    notes: list[str] | None = None,
) -> Release:
    """One PR Newswire RSS item as a Release (the text: the cut summary until the page is read)."""
    return rss_release(
        entry,
        SOURCE,
        release_id(entry),
        feed_url,
        now=now,
        notes=notes,
        subjects=subjects_of(entry, entry.get("prn_subject")),
        tickers_of=dateline_tickers,
    )


def page_url(release: Release) -> str | None:
    """The article page (the feed's link), when it is a web address."""
    url = release.url.strip()
    return url if url.lower().startswith(("https://", "http://")) else None


def text_from_page(html: bytes, url: str = "") -> str:
    """The release text of a PR Newswire article page: `section.release-body` (the dateline
    paragraph through "SOURCE ..."), else the page's main text."""
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
    tickers_in_text=dateline_tickers,
    description="PR Newswire RSS (cut summaries; the body from the article page)",
)
