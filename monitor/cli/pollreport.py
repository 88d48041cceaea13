"""What `poll` and `catch-up` print: for people (table), for cron (`-q`), for machines (JSON).

Every failure is said once. A feed counts as failing when its last poll failed, whether it was
polled in this pass or is waiting out a backoff after failures, or when it is disabled (HTTP
410): then the command exits 1 with one line per failing feed on stderr,

    biomon: 2 of 5 feeds failing: URL: HTTP 503 (3 failures in a row; backing off until ...)

so cron mails it. The log lines that restate the report are left out (monitor.logs.REPORTED).

`--format json` prints one JSON object per line, each with a "type": "feed" (one per
configured feed, in config order), "release" (each new release of the watchlist) and one
"summary" last.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from monitor.config import Config
from monitor.models import FeedReport, PollReport
from monitor.query import ReleaseQuery
from monitor.schedule import parse_iso
from monitor.tickers import parse_ticker

if TYPE_CHECKING:  # the store imports sqlite_utils: loaded by the command that opens it
    from monitor.store import Store

FORMATS = ("table", "json")


def feed_line(report: FeedReport) -> str:
    """One line per feed: `ok url: 2 new, ...`, `skipped url: why`, `FAILED url: reason`."""
    moved = f" (moved permanently to {report.moved_to})" if report.moved_to else ""
    if report.error:
        return f"FAILED  {report.url}: {report.error}{moved}"
    if report.skipped:
        return f"skipped {report.url}: {report.skipped}{moved}"
    text = (
        f"ok      {report.url}: {report.new} new, {report.already} already stored, "
        f"{report.failed} failed"
    )
    if report.warning:
        text += f" (warning: {report.warning})"
    text += moved
    # Each item left out or kept with a problem, by its id, on a line of its own.
    text += "".join(f"\n        not stored: {failure}" for failure in report.failures)
    text += "".join(f"\n        flagged: {flag}" for flag in report.flagged)
    return text


@dataclass(frozen=True)
class Failing:
    """A feed whose last poll failed: why, and what biomon does about it."""

    url: str
    error: str
    failures: int
    not_before: str | None = None  # ISO UTC: backing off until then
    disabled: str | None = None

    @property
    def reason(self) -> str:
        times = "1 failure" if self.failures == 1 else f"{self.failures} failures in a row"
        if self.disabled:
            detail = "disabled; `biomon poll --force` tries it again"
        elif self.not_before and (parse_iso(self.not_before) or _NOW_MIN) > datetime.now(UTC):
            detail = f"{times}; backing off until {self.not_before}"
        else:
            detail = f"{times}; retried at the next poll"
        return f"{self.error} ({detail})"


_NOW_MIN = datetime.min.replace(tzinfo=UTC)


def failing_feeds(config: Config, store: Store, report: PollReport) -> list[Failing]:
    """The configured feeds that are failing after this pass, in config order."""
    rows = {row["url"]: row for row in store.feeds()}
    errors = {f.url: f.error for f in report.feeds if f.error}
    failing = []
    for url in config.feed_urls():
        row = rows.get(url) or {}
        failures = row.get("consecutive_failures") or 0
        if not (failures or row.get("disabled") or url in errors):
            continue
        error = errors.get(url) or row.get("last_error") or row.get("last_status") or "failing"
        failing.append(
            Failing(
                url=url,
                error=error,
                failures=max(failures, 1),
                not_before=row.get("not_before"),
                disabled=row.get("disabled"),
            )
        )
    return failing


def newest_release_id(store: Store) -> int:
    return store.db.execute("SELECT coalesce(max(id), 0) FROM releases").fetchone()[0]


def new_watched_releases(config: Config, store: Store, after_id: int) -> list[dict]:
    """Releases stored after row `after_id` that the watchlist is about: a watched ticker, or
    an alert rule matched them. Oldest first; each with the ticker to name it by."""
    watched = tuple(w.ticker for w in config.watch if w.ticker)
    query = ReleaseQuery(watched=watched, watched_only=True) if watched else None
    alerted = dict(
        store.db.execute(
            "SELECT release, max(coalesce(nullif(ticker, ''), rule)) FROM alerts "
            "WHERE release > ? GROUP BY release",
            [after_id],
        ).fetchall()
    )
    ids = store.db.execute(
        "SELECT id FROM releases WHERE id > ? ORDER BY sort_time, id", [after_id]
    ).fetchall()
    found = []
    for (row_id,) in ids:
        if row_id not in alerted and not (query and store.matches(row_id, query)):
            continue
        row = store.release_row(row_id)
        if row is None:
            continue
        tickers = json.loads(row["tickers"] or "[]")
        found.append(
            {
                "type": "release",
                "ticker": _ticker_of(config, tickers) or alerted.get(row_id) or "-",
                "primary": row["primary_tag"] or "other",
                "title": row["title"],
                "url": row["url"] or "",
                "id": row["release_id"],
                "source": row["source"],
                "published": row["published_utc"],
                "tickers": tickers,
                "alerted": row_id in alerted,
            }
        )
    return found


def _ticker_of(config: Config, tickers: list[str]) -> str | None:
    """The watched symbol among a release's tickers ("NASDAQ:CLRB" -> "CLRB")."""
    parsed = tuple(t for t in (parse_ticker(text) for text in tickers) if t)
    for watch in config.watch:
        if watch.ticker and watch.matches_ticker(parsed):
            return watch.ticker.symbol
    return None


def release_line(release: dict) -> str:
    """`-q`'s line for a new watched release: ticker, primary tag, title, URL."""
    title = " ".join(release["title"].split())
    return f"{release['ticker']}  {release['primary']}  {title}  {release['url']}".rstrip()


def feed_object(report: FeedReport, failing: Failing | None) -> dict:
    outcome = "failed" if report.error else "skipped" if report.skipped else "ok"
    return {
        "type": "feed",
        "url": report.url,
        "outcome": outcome,
        "new": report.new,
        "already": report.already,
        "failed": report.failed,
        "error": report.error,
        "skipped": report.skipped,
        "warning": report.warning,
        "moved_to": report.moved_to,
        "status": report.status,
        "elapsed": round(report.elapsed, 3),
        "failures": list(report.failures),
        "flagged": list(report.flagged),
        "failing": failing is not None,
        "reason": failing.reason if failing else None,
        "consecutive_failures": failing.failures if failing else 0,
        "not_before": failing.not_before if failing else None,
        "disabled": failing.disabled if failing else None,
    }


@dataclass
class PollPrinter:
    """Prints one pass of `poll` or `catch-up` as it goes and at its end."""

    config: Config
    store: Store
    fmt: str = "table"
    quiet: bool = False
    releases: bool = True  # -q and JSON list the new watched releases (catch-up: no)
    after_id: int = 0
    failing: list[Failing] = field(default_factory=list)

    def start(self) -> None:
        if self.releases and (self.quiet or self.fmt == "json"):
            self.after_id = newest_release_id(self.store)

    def on_feed(self, report: FeedReport) -> None:
        """Table format: a feed's line as soon as it is done; failing feeds wait for the end."""
        if self.fmt != "table":
            return
        if report.error or (report.skipped and self._failing_now(report.url)):
            return  # said once, with its reason, in the closing lines on stderr
        if self.quiet:
            for failure in report.failures:
                click.echo(f"biomon: {report.url}: item not stored: {failure}", err=True)
            if report.moved_to:
                click.echo(
                    f"biomon: {report.url} moved permanently to {report.moved_to}; "
                    "put the new URL in the config",
                    err=True,
                )
            return
        click.echo(feed_line(report))

    def _failing_now(self, url: str) -> bool:
        state = self.store.feed_state(url)
        return bool(state.consecutive_failures or state.disabled)

    def finish(self, report: PollReport) -> None:
        """Releases (-q, JSON), the feeds (JSON), the summary line (table, JSON)."""
        self.failing = failing_feeds(self.config, self.store, report)
        releases = []
        if self.releases and (self.quiet or self.fmt == "json"):
            releases = new_watched_releases(self.config, self.store, self.after_id)
        if self.fmt == "json":
            by_url = {f.url: f for f in self.failing}
            for feed in report.feeds:
                failing = by_url.get(feed.url)
                if not self.quiet or failing:
                    _json(feed_object(feed, failing))
            for release in releases:
                _json(release)
        elif self.quiet:
            for release in releases:
                click.echo(release_line(release))
        else:
            click.echo(
                f"{len(report.feeds)} feeds, {report.new} new releases, "
                f"{len(self.failing)} failing; {self.store.count()} releases in {self.store.path}"
            )

    def summary(self, report: PollReport, config_path, alerts: dict | None) -> None:
        """JSON: the closing summary object (not with -q: nothing when nothing happened)."""
        if self.fmt == "json" and not self.quiet:
            _json(
                {
                    "type": "summary",
                    "feeds": len(report.feeds),
                    "new": report.new,
                    "failing": len(self.failing),
                    "releases": self.store.count(),
                    "database": str(self.store.path),
                    "config": str(config_path),
                    "alerts": alerts,
                }
            )

    def complain(self) -> bool:
        """One line per failing feed on stderr; True when there was any (exit 1)."""
        total = len(self.config.feed_urls())
        for failing in self.failing:
            click.echo(
                f"biomon: {len(self.failing)} of {total} feeds failing: "
                f"{failing.url}: {failing.reason}",
                err=True,
            )
        return bool(self.failing)


def _json(entry: dict) -> None:
    click.echo(json.dumps(entry, ensure_ascii=False))
