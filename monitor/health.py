"""Source health: is a feed working, and has it gone silent for longer than its own rhythm?"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import Config
from monitor.schedule import iso, parse_iso
from monitor.store import Store


@dataclass(frozen=True)
class FeedHealth:
    url: str
    last_success: str | None
    last_status: str | None
    consecutive_failures: int
    next_poll: str | None
    items_last_day: int
    newest_item: str | None
    median_gap_hours: float | None
    stale: str | None  # why the feed looks stale, else None
    disabled: str | None
    problems: tuple[str, ...] = ()  # items of the last read poll not stored, or stored flagged


def stale_reason(
    published: list[datetime],
    last_success: datetime | None,
    last_polled: datetime | None,
    *,
    now: datetime,
    factor: float,
    no_success_after: float,
) -> str | None:
    """Why a feed looks stale: silent for `factor` times its median gap, or no recent success."""
    if last_polled and (
        last_success is None or now - last_success > timedelta(seconds=no_success_after)
    ):
        since = f"since {last_success:%Y-%m-%d %H:%M}" if last_success else "ever"
        return f"no successful poll {since}"
    if len(published) < 3:
        return None
    ordered = sorted(published)
    gaps = [(b - a).total_seconds() for a, b in zip(ordered, ordered[1:], strict=False)]
    median = statistics.median(gaps)
    silent = (now - ordered[-1]).total_seconds()
    if median > 0 and silent > factor * median:
        return (
            f"newest item {ordered[-1]:%Y-%m-%d} is {silent / median:.0f}x its median gap of "
            f"{_span(median)}; has the company moved to another wire?"
        )
    return None


def feed_health(row: dict, published: list[str], items_last_day: int, *, now: datetime,
                factor: float, no_success_after: float) -> FeedHealth:  # fmt: skip
    """Combine a `feeds` row and its releases' dates into one health record."""
    dates = [d for d in (parse_iso(p) for p in published) if d]
    gaps = sorted(dates)
    median = None
    if len(gaps) >= 2:
        median = statistics.median(
            (b - a).total_seconds() / 3600 for a, b in zip(gaps, gaps[1:], strict=False)
        )
    return FeedHealth(
        url=row["url"],
        last_success=row.get("last_success"),
        last_status=row.get("last_status"),
        consecutive_failures=row.get("consecutive_failures") or 0,
        next_poll=row.get("not_before") or row.get("next_poll"),
        items_last_day=items_last_day,
        newest_item=max(published) if published else None,
        median_gap_hours=median,
        stale=stale_reason(
            dates,
            parse_iso(row.get("last_success")),
            parse_iso(row.get("last_polled")),
            now=now,
            factor=factor,
            no_success_after=no_success_after,
        ),
        disabled=row.get("disabled"),
        problems=tuple(json.loads(row.get("last_problems") or "[]")),
    )


def _span(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} hours"
    return f"{seconds / 60:.0f} minutes"


def feed_healths(config: Config, store: Store, now: datetime) -> list[FeedHealth]:
    """The health of every configured feed, in config order."""
    day_ago = iso(now - timedelta(days=1))
    rows = {row["url"]: row for row in store.feeds()}
    return [
        feed_health(
            rows.get(url, {"url": url}),
            store.feed_dates(url),
            store.feed_items_since(url, day_ago),
            now=now,
            factor=config.poll.stale_factor,
            no_success_after=config.poll.stale_after,
        )
        for url in config.feed_urls()
    ]
