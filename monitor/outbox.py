"""The durable alert queue: alerts are rows, queued with their release, sent once per channel.

Lifecycle of an alert row: `pending` -> (claimed) `sending` -> `sent`; on a failed send it goes
back to `pending` with a later `next_attempt` (exponential backoff) until `max_attempts`, then
`failed` with the reason. Rows are unique on (release, channel), so no release is queued twice
for a channel.

The one window for a duplicate: the process dies after a notifier accepted a message and before
the row is marked `sent`. On restart `recover()` returns such `sending` rows to `pending` and they
are sent again. Sending first and marking after is deliberate: the other order could lose an
alert, and a rare duplicate costs less than a missed release.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config import ChannelConfig, NotifyConfig
from monitor.models import AlertContent, Facts, Message
from monitor.notify.base import Notifier, NotifyError
from monitor.notify.render import desktop_text, render_alert, render_digest
from monitor.schedule import iso, parse_iso
from monitor.store import Store

log = logging.getLogger(__name__)
RETRY_CAP = 3600.0


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: dict[str, str] = field(default_factory=dict)  # channel -> why nothing went out
    errors: list[str] = field(default_factory=list)


def in_quiet_hours(channel: ChannelConfig, now: datetime) -> bool:
    """True when `now` falls in the channel's quiet hours, in the channel's time zone."""
    if not channel.quiet_hours:
        return False
    start, end = channel.quiet_hours
    local = now.astimezone(ZoneInfo(channel.timezone)).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # the range wraps midnight, e.g. 22:00-07:00


class Outbox:
    """Delivers pending alerts through the configured notifiers."""

    def __init__(
        self,
        store: Store,
        notify: NotifyConfig,
        notifiers: Mapping[str, Notifier],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.db = store.db
        self.notify = notify
        self.notifiers = notifiers
        self.now = now

    def recover(self, older_than: float = 600.0) -> int:
        """Return alerts left `sending` by a crash to `pending`; return how many.

        Only claims older than `older_than` seconds: a deliverer still at work keeps its own.
        """
        cutoff = iso(self.now() - timedelta(seconds=older_than))
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE alerts SET status = 'pending' WHERE status = 'sending' AND claimed_at <= ?",
                [cutoff],
            )
        return cursor.rowcount

    def retry_now(self) -> int:
        """Make every pending alert due now (its backoff is forgotten); return how many."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE alerts SET next_attempt = ? WHERE status = 'pending' AND next_attempt > ?",
                [iso(self.now()), iso(self.now())],
            )
        return cursor.rowcount

    def deliver(self) -> DeliveryReport:
        """Send every due alert on every channel that has a notifier."""
        report = DeliveryReport()
        now = self.now()
        for name, notifier in self.notifiers.items():
            channel = self.notify.channel(name) or ChannelConfig(name=name, enabled=True)
            if in_quiet_hours(channel, now):
                report.deferred[name] = "quiet hours"
                continue
            due = self._due(name, now)
            if not due:
                continue
            if channel.digest_minutes:
                self._deliver_digest(channel, notifier, due, now, report)
            else:
                for alert in due:
                    message = render_for(name, self._content(alert), now)
                    self._send(notifier, [alert], message, now, report)
        return report

    def _deliver_digest(self, channel, notifier, due, now, report) -> None:
        period = timedelta(minutes=channel.digest_minutes)
        state = self.db.execute(
            "SELECT last_digest FROM channel_state WHERE channel = ?", [channel.name]
        ).fetchone()
        # A digest period opens with its first alert and closes `digest_minutes` later.
        opened = parse_iso(state[0]) if state and state[0] else None
        oldest = min(parse_iso(a["created"]) for a in due)
        start = max(opened, oldest) if opened else oldest
        if now - start < period:
            report.deferred[channel.name] = f"digest due at {iso(start + period)}"
            return
        contents = [self._content(alert) for alert in due]
        message = render_digest(contents, now, f"{channel.digest_minutes} minutes")
        if self._send(notifier, due, message, now, report):
            with self.db.atomic():
                self.db["channel_state"].upsert(
                    {"channel": channel.name, "last_digest": iso(now)}, pk="channel"
                )

    def _send(self, notifier, alerts: list[dict], message: Message, now, report) -> bool:
        ids = [a["id"] for a in alerts]
        marks = ", ".join("?" for _ in ids)
        with self.db.atomic():
            claimed = self.db.execute(
                f"UPDATE alerts SET status = 'sending', claimed_at = ? "
                f"WHERE id IN ({marks}) AND status = 'pending'",
                [iso(now), *ids],
            ).rowcount
        if claimed != len(ids):  # another deliverer took them: never send twice
            self._release(ids)
            return False
        try:
            notifier.send(message)
        except NotifyError as error:
            self._failed(alerts, str(error), now, report)
            return False
        with self.db.atomic():
            self.db.execute(
                f"UPDATE alerts SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                f"last_error = NULL WHERE id IN ({marks})",
                [iso(self.now()), *ids],
            )
        report.sent += len(ids)
        log.info("sent %d alert(s) by %s: %s", len(ids), notifier.name, message.title)
        return True

    def _release(self, ids: list[int]) -> None:
        marks = ", ".join("?" for _ in ids)
        with self.db.atomic():
            self.db.execute(
                f"UPDATE alerts SET status = 'pending' "
                f"WHERE id IN ({marks}) AND status = 'sending'",
                ids,
            )

    def _failed(self, alerts: list[dict], reason: str, now: datetime, report) -> None:
        report.errors.append(reason)
        with self.db.atomic():
            for alert in alerts:
                attempts = (alert["attempts"] or 0) + 1
                if attempts >= self.notify.max_attempts:
                    status, next_attempt = "failed", None
                    report.failed += 1
                else:
                    status = "pending"
                    wait = min(self.notify.retry_base * 2 ** (attempts - 1), RETRY_CAP)
                    next_attempt = iso(now + timedelta(seconds=wait))
                    report.retrying += 1
                self.db.execute(
                    "UPDATE alerts SET status = ?, attempts = ?, next_attempt = ?, last_error = ? "
                    "WHERE id = ?",
                    [status, attempts, next_attempt, reason, alert["id"]],
                )
        log.warning("%s: %s", alerts[0]["channel"], reason)

    def _due(self, channel: str, now: datetime) -> list[dict]:
        return list(
            self.db.query(
                "SELECT * FROM alerts WHERE channel = ? AND status = 'pending' "
                "AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY id",
                [channel, iso(now)],
            )
        )

    def _content(self, alert: dict) -> AlertContent:
        """Everything an alert says, read from the stored release."""
        row = next(self.db.query("SELECT * FROM releases WHERE id = ?", [alert["release"]]))
        tags = self.store.tags_of(row["id"])
        primary = row["primary_tag"] or (tags[0][0] if tags else "other")
        facts = json.loads(row["facts"] or "{}")
        return AlertContent(
            source=row["source"],
            release_id=row["release_id"],
            title=row["title"],
            url=row["url"] or "",
            tickers=tuple(json.loads(row["tickers"] or "[]")),
            issuer=row["issuer"] or "",
            primary=primary,
            tags=tuple(tag for tag, _ in tags) or (primary,),
            evidence=tuple((tag, tuple(sentences)) for tag, sentences in tags),
            facts=Facts(
                **{k: tuple(v) for k, v in facts.items() if k in Facts.__dataclass_fields__}
            ),
            published_utc=row["published_utc"],
            rule=alert["rule"] or "",
            ticker=alert["ticker"] or "",
        )


def render_for(channel: str, content: AlertContent, now: datetime) -> Message:
    """The message a channel sends: email gets the full alert, the desktop a short one."""
    if channel == "email":
        return render_alert(content, now)
    title, body = desktop_text(content)
    return Message(title=title, text=body, html="")


def alert_rows(store: Store, status: str | None = None, limit: int = 100) -> list[dict]:
    """Alerts with their release titles, newest first, for `biomon alerts`."""
    sql = (
        "SELECT a.id, a.status, a.channel, a.rule, a.attempts, a.created, a.sent_at, "
        "a.next_attempt, a.last_error, r.release_id, r.title FROM alerts a "
        "JOIN releases r ON r.id = a.release"
    )
    params: list = []
    if status:
        sql += " WHERE a.status = ?"
        params.append(status)
    sql += " ORDER BY a.id DESC LIMIT ?"
    params.append(limit)
    return list(store.db.query(sql, params))


def build_notifiers(notify: NotifyConfig) -> tuple[dict[str, Notifier], list[str]]:
    """A notifier per enabled channel, and one-line warnings (a desktop with no backend).

    A desktop channel that cannot show notifications falls back to the log, said once here.
    """
    from monitor.notify.desktop import DesktopNotifier, LogNotifier
    from monitor.notify.email import EmailNotifier, EmailSettings

    notifiers: dict[str, Notifier] = {}
    warnings: list[str] = []
    for channel in notify.channels:
        if not channel.enabled:
            continue
        if channel.name == "desktop":
            desktop = DesktopNotifier()
            problem = desktop.probe()
            if problem:
                warnings.append(problem)
                notifiers["desktop"] = LogNotifier()
            else:
                notifiers["desktop"] = desktop
        elif channel.name == "email":
            notifiers["email"] = EmailNotifier(
                EmailSettings(
                    host=channel.setting("host"),
                    port=channel.setting("port", 587),
                    security=channel.setting("security", "starttls"),
                    username=channel.setting("username") or None,
                    password_env=channel.setting("password_env") or None,
                    sender=channel.setting("from"),
                    to=tuple(channel.setting("to", ())),
                    timeout=float(channel.setting("timeout", 20)),
                )
            )
    return notifiers, warnings
