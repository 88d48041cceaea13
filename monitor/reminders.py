"""Catalyst upkeep after a pass and on a timer: reminders, moved-date alerts, the .ics file.

A `[[watch]]` with `remind_days = [7, 1]` gets an alert N days before a catalyst window of its
ticker opens, and one when such a window moves. Each is an outbox row keyed by its reason
(which names the entry, the day count and the date) and channel: the unique index makes it once
across restarts and processes, and a moved date is a new date, so its reminders arm again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from monitor.calendar import entries, ics_text, write_if_changed
from monitor.config import Config, WatchConfig
from monitor.models import AlertContent, CatalystNote, Facts
from monitor.rules import watch_channels
from monitor.store import Store
from monitor.store.catalysts import CatalystQuery, catalyst_identity

log = logging.getLogger(__name__)
MOVED_LOOKBACK = timedelta(days=2)  # date changes this recent still alert (a daemon was down)


@dataclass(frozen=True)
class Upkeep:
    reminders: int = 0
    moved: int = 0
    ics_written: bool = False


def catalyst_upkeep(config: Config, store: Store, now: datetime | None = None) -> Upkeep:
    """Queue due reminders and moved-date alerts; rewrite the .ics file if it changed."""
    now = now or datetime.now(UTC)
    reminders = moved = 0
    for watch in config.watch:
        if watch.ticker is None or not watch.remind_days:
            continue
        channels = watch_channels(watch, config.notify.enabled)
        targets = [(channel, watch.label) for channel in channels]
        if targets:
            reminders += queue_reminders(store, watch, targets, now)
            moved += queue_moved(store, watch, targets, now)
    written = write_ics(config, store, now.date()) if config.ics_path else False
    if reminders or moved:
        log.info("catalysts: %d reminder(s), %d date change(s) queued", reminders, moved)
    return Upkeep(reminders, moved, written)


def due_reminder(window_start: date, days: tuple[int, ...], today: date) -> int | None:
    """The reminder due today: the fewest days before the window opens that have passed (a
    7-day reminder missed while down gives way to the 1-day one), or None."""
    if today > window_start:
        return None
    passed = [n for n in days if window_start - timedelta(days=n) <= today]
    return min(passed) if passed else None


def queue_reminders(store: Store, watch: WatchConfig, targets, now: datetime) -> int:
    today = now.date()
    horizon = today + timedelta(days=max(watch.remind_days))
    query = CatalystQuery(
        tickers=(watch.ticker.symbol,),
        ends_after=today.isoformat(),
        starts_before=horizon.isoformat(),
        open_only=True,
    )
    queued = 0
    for row in store.catalyst_rows(query):
        days = due_reminder(date.fromisoformat(row["window_start"]), watch.remind_days, today)
        if days is not None:
            reason = f"remind:{days}:{row['window_start']}:{catalyst_identity(row)}"
            queued += store.queue_catalyst_alerts(row, reason, targets, _iso(now))
    return queued


def queue_moved(store: Store, watch: WatchConfig, targets, now: datetime) -> int:
    queued = 0
    for change in store.catalyst_changes_since(_iso(now - MOVED_LOOKBACK)):
        if change["ticker"] != watch.ticker.symbol:
            continue
        row = store.catalyst_row(change["catalyst"])
        if row is None:
            continue
        reason = (
            f"moved:{change['old_start']}..{change['old_end']}>{change['new_start']}.."
            f"{change['new_end']}:{catalyst_identity(row)}"
        )
        queued += store.queue_catalyst_alerts(row, reason, targets, _iso(now))
    return queued


def write_ics(config: Config, store: Store, today: date) -> bool:
    """Write [catalysts] ics_path when its content changed; a failure is logged, not raised."""
    rows = store.catalyst_rows(CatalystQuery())
    text = ics_text(entries(rows, store.catalyst_changes(r["id"] for r in rows), today))
    try:
        return write_if_changed(config.ics_path, text)
    except OSError as error:
        log.error("%s: cannot write the catalyst calendar (%s); check [catalysts] ics_path",
                  config.ics_path, error.strerror or error)  # fmt: skip
        return False


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def catalyst_content(store: Store, alert: dict) -> AlertContent | None:
    """What a catalyst alert says (the outbox renders it): the entry as it is now."""
    row = store.catalyst_row(alert["catalyst"])
    if row is None:
        return None
    reason = alert.get("reason") or ""
    kind, _, rest = reason.partition(":")
    days = old = None
    if kind == "remind":
        days = int(rest.split(":", 1)[0])
    elif kind == "moved":
        before = rest.split(">", 1)[0].split("..")
        old = (before[0], before[1]) if len(before) == 2 else None
    note = CatalystNote(
        reason="reminder" if kind == "remind" else "moved",
        ticker=row["ticker"] or row["issuer"] or "",
        kind=row["kind"],
        program=row["program"] or "",
        date_text=row["date_text"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        evidence=row["evidence"],
        days_before=days,
        old_window=old,
    )
    return AlertContent(
        source="", release_id="", title=row["evidence"], url=row.get("release_url") or "",
        tickers=(row["ticker"],) if row["ticker"] else (), issuer=row["issuer"] or "",
        primary=row["kind"], tags=(row["kind"],), evidence=(), facts=Facts(),
        published_utc=None, rule=alert.get("rule") or "", ticker=alert.get("ticker") or "",
        catalyst=note,
    )  # fmt: skip
