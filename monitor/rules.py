"""Watchlist rules: does a release alert, for which rule, on which channels."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from monitor.config import WatchConfig
from monitor.models import Classification, Release


@dataclass(frozen=True)
class Match:
    """One alert to create: a release goes to `channel` because of rule `rule`."""

    channel: str
    rule: str
    ticker: str  # the watched symbol, "" for keyword/tag rules


@lru_cache(maxsize=1024)
def _phrase(text: str) -> re.Pattern[str]:
    # Whole words, case-insensitive; a phrase matches with any run of spaces between its words.
    words = [re.escape(word) for word in text.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def mentions(text: str, phrases: Sequence[str]) -> bool:
    """True when any of the words or exact phrases appears in `text`."""
    return any(_phrase(phrase).search(text) for phrase in phrases)


def rule_matches(
    watch: WatchConfig,
    release: Release,
    classification: Classification,
    query_check: Callable[[str], bool] | None = None,
) -> bool:
    """True when `release` is news for this watch entry.

    `query_check(text)` answers whether the stored release matches a query (the rule's `query`).
    """
    if watch.ticker or watch.company:
        by_ticker = watch.matches_ticker(release.tickers)
        by_company = bool(watch.company) and watch.company.lower() in release.issuer.lower()
        if not (by_ticker or by_company):
            return False
    if watch.alert_tags and not set(watch.alert_tags) & set(classification.tags):
        return False
    if watch.keywords or watch.exclude:
        text = f"{release.title}\n{release.text}"
        if watch.keywords and not mentions(text, watch.keywords):
            return False
        if watch.exclude and mentions(text, watch.exclude):
            return False
    if watch.query and query_check is not None and not query_check(watch.query):
        return False
    return True


def match(
    release: Release,
    classification: Classification,
    watches: Sequence[WatchConfig],
    enabled_channels: Sequence[str],
    query_check: Callable[[str], bool] | None = None,
) -> list[Match]:
    """The alerts `release` makes: one per channel, from the first rule naming that channel."""
    found: dict[str, Match] = {}
    for watch in watches:
        if not rule_matches(watch, release, classification, query_check):
            continue
        channels = [c for c in (watch.channels or enabled_channels) if c in enabled_channels]
        for channel in channels:
            symbol = watch.ticker.symbol if watch.ticker else ""
            found.setdefault(channel, Match(channel=channel, rule=watch.label, ticker=symbol))
    return list(found.values())
