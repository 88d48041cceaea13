"""Watchlist rules: does a release alert, for which rule, on which channels (routing)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from monitor.config import WatchConfig
from monitor.models import Classification, Release

if TYPE_CHECKING:
    from monitor.classify.engine import TagRules
    from monitor.config import Config
    from monitor.query import ReleaseQuery


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
        symbol = watch.ticker.symbol if watch.ticker else ""
        for channel in watch_channels(watch, enabled_channels):
            found.setdefault(channel, Match(channel=channel, rule=watch.label, ticker=symbol))
    return list(found.values())


def watch_channels(watch: WatchConfig, enabled_channels: Sequence[str]) -> list[str]:
    """Where a watch's alerts go: its `channels` (default: every enabled one) that are enabled,
    its email to its own recipients' channel when it has `email_to`."""
    wanted = [c for c in (watch.channels or enabled_channels) if c in enabled_channels]
    return [watch.email_channel if c == "email" else c for c in wanted]


@dataclass(frozen=True)
class Preview:
    """What one stored release would have alerted: for which rule, on which channels."""

    release: int  # the row id
    reference: str  # "globenewswire:4000100"
    published_utc: str | None
    title: str
    alerts: tuple[tuple[str, tuple[str, ...]], ...]  # (rule, channels) in rule order

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for _, channels in self.alerts for c in channels)


def preview(
    candidates: Iterable[tuple[int, Release, Classification]],
    watches: Sequence[WatchConfig],
    enabled_channels: Sequence[str],
    query_check: Callable[[int, str], bool] | None = None,
) -> list[Preview]:
    """Replay releases through the rules (`biomon watch-test`): nothing is queued or sent.

    `candidates`: (row id, release, its classification); `query_check(row_id, text)` answers
    a rule's query against the stored release.
    """
    found = []
    for row_id, release, classification in candidates:
        check = (lambda text, row_id=row_id: query_check(row_id, text)) if query_check else None
        matches = match(release, classification, watches, enabled_channels, check)
        if not matches:
            continue
        by_rule: dict[str, list[str]] = {}
        for m in matches:
            by_rule.setdefault(m.rule, []).append(m.channel)
        found.append(
            Preview(
                release=row_id,
                reference=f"{release.source}:{release.release_id}",
                published_utc=release.published_utc,
                title=release.title,
                alerts=tuple((rule, tuple(channels)) for rule, channels in by_rule.items()),
            )
        )
    return found


def resolve_query(config: Config, text: str) -> ReleaseQuery:
    """A query string or @saved-name, parsed, with `watched:` bound to the watchlist."""
    from dataclasses import replace

    from monitor.config import tag_problem
    from monitor.query import QueryError, parse_query

    if text.startswith("@"):
        saved = config.saved_query(text)
        if saved is None:
            raise QueryError(text, 0, f"no saved query {text[1:]!r} in {config.path} [queries]")
        text = saved
    query = parse_query(text, tag_problem=lambda tag: tag_problem(tag, config.new_tags))
    return replace(query, watched=tuple(w.ticker for w in config.watch if w.ticker))


def tag_rules_for(config: Config) -> TagRules | None:
    """The classifier's rules with the config's extra patterns (None: the built-in rules).

    Imported lazily: `biomon classify` and `history` need these without the classifier's
    compiled rules or the poller (httpx, feedparser) loaded up front.
    """
    if not config.tag_patterns:
        return None
    from monitor.classify.engine import build_rules
    from monitor.errors import ConfigError

    try:
        return build_rules({tag: list(patterns) for tag, patterns in config.tag_patterns})
    except ValueError as error:
        raise ConfigError(config.path, "classify.patterns", str(error)) from None
