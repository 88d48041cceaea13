"""The durable alert queue: alerts are rows, queued with their release, sent once per channel.

Lifecycle of an alert row: `pending` -> (claimed) `sending` -> `sent`; on a failed send it goes
back to `pending` with a later `next_attempt` (exponential backoff) until `max_attempts`, then
`failed` with the reason. Rows are unique on (release, channel), so no release is queued twice
for a channel.

Claims are owned: a deliverer claims rows with its own token and a lease (a time until which no
one else may take them), renews the lease right before it sends, and releases or marks only the
rows that carry its token. Any number of deliverers (`poll --once` runs beside `biomon run`)
can work on one database: a row is sent by the one that claimed it. A send has a total deadline
shorter than the lease, so a claim never runs out while its message is on the way.

The one window for a duplicate: the process dies after a notifier accepted a message and before
the row is marked `sent`. When the dead deliverer's lease has run out, `recover()` returns such
`sending` rows to `pending` and they are sent again. Sending first and marking after is
deliberate: the other order could lose an alert, and a rare duplicate costs less than a missed
release.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config import ChannelConfig, NotifyConfig
from monitor.models import AlertContent, Facts, Message
from monitor.notify.base import Notifier, NotifyError
from monitor.notify.registry import build_notifiers, render, render_digest_for
from monitor.reminders import catalyst_content
from monitor.schedule import iso, parse_iso
from monitor.store import Store

__all__ = ["DeliveryReport", "Outbox", "build_notifiers", "in_quiet_hours", "send_deadline"]

log = logging.getLogger(__name__)
RETRY_CAP = 3600.0
LEASE_MIN = 120.0  # seconds a claim is held at least
DEFAULT_SEND_DEADLINE = 30.0  # seconds one send may take, for a notifier that does not say


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    other: dict[str, int] = field(default_factory=dict)  # "logged"/"demo" -> alerts done so
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


def daily_moments(channel: ChannelConfig, now: datetime) -> tuple[datetime, datetime]:
    """The latest `digest_at` in the channel's time zone at or before `now`, and the next one.

    Built from the wall-clock date, so a DST change moves the instant, never the 07:30.
    """
    zone = ZoneInfo(channel.timezone)
    local = now.astimezone(zone)
    today = datetime.combine(local.date(), channel.digest_at, tzinfo=zone)
    day = local.date() if today <= local else local.date() - timedelta(days=1)
    latest = datetime.combine(day, channel.digest_at, tzinfo=zone)
    following = datetime.combine(day + timedelta(days=1), channel.digest_at, tzinfo=zone)
    return latest.astimezone(UTC), following.astimezone(UTC)


class Outbox:
    """Delivers pending alerts through the configured notifiers.

    It uses its own Store (its own connection) in the daemon, and holds no transaction while a
    message is on the way: delivery never blocks polling.
    """

    def __init__(
        self,
        store: Store,
        notify: NotifyConfig,
        notifiers: Mapping[str, Notifier],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        should_stop: Callable[[], bool] = lambda: False,
        token: str | None = None,
    ) -> None:
        self.store = store
        self.notify = notify
        self.notifiers = notifiers
        self.now = now
        self.should_stop = should_stop
        self.token = token or new_token()
        # channel -> (until, reason): after a failed send the channel waits out its backoff
        # whole, so a service that hangs costs one deadline per retry, not one per alert.
        self._held: dict[str, tuple[datetime, str]] = {}

    def recover(self) -> int:
        """Return alerts whose deliverer died to `pending`; return how many.

        A claim is taken back when its lease ran out, or at once when its token names a process
        of this machine that no longer runs. A deliverer still at work keeps its own: its lease
        runs beyond its send's deadline.
        """
        recovered = 0
        for token in self.store.claim_tokens():
            if token != self.token and _dead_here(token):
                recovered += self.store.release_claims_of(token)
        return recovered + self.store.recover_alerts(iso(self.now()))

    def retry_now(self) -> int:
        """Make every pending alert due now (its backoff is forgotten); return how many."""
        return self.store.retry_alerts_now(iso(self.now()))

    def deliver(self) -> DeliveryReport:
        """Send every due alert on every channel that has a notifier.

        Quiet hours defer a channel and a digest gathers its alerts, except alerts with one of
        the channel's `urgent_tags`: those go out at once, one by one. A channel whose send
        failed waits out its backoff before it tries again; the others go on meanwhile.
        Stops between messages when `should_stop()` turns true; what is left stays pending.
        """
        report = DeliveryReport()
        now = self.now()
        for name, notifier in self.notifiers.items():
            if self.should_stop():
                break
            channel = self.notify.channel(name) or ChannelConfig(name=name, enabled=True)
            held = self._held.pop(name, None)
            if held and now < held[0]:
                self._held[name] = held
                report.deferred[name] = f"retrying at {iso(held[0])} after: {held[1]}"
                continue
            quiet = in_quiet_hours(channel, now)
            if quiet and not channel.urgent_tags:
                report.deferred[name] = "quiet hours"
                continue
            due = self.store.due_alerts(name, iso(now))
            if quiet or channel.digest_minutes or channel.digest_at:
                urgent = [a for a in due if self._urgent(channel, a)]
                self._deliver_each(channel, notifier, urgent, now, report)
                due = [a for a in due if a not in urgent]
                if quiet:
                    report.deferred[name] = "quiet hours"
                    continue
                if name in self._held:  # an urgent send just failed: the rest waits too
                    continue
            if not due:
                continue
            if channel.digest_at:
                self._deliver_daily_digest(channel, notifier, due, now, report)
            elif channel.digest_minutes:
                self._deliver_digest(channel, notifier, due, now, report)
            else:
                self._deliver_each(channel, notifier, due, now, report)
        return report

    def _deliver_each(self, channel, notifier, alerts: list[dict], now, report) -> None:
        for alert in alerts:
            if self.should_stop() or channel.name in self._held:
                break
            content = self._content(alert)
            if content is not None:
                self._send(notifier, [alert], render(channel, content, now), report)

    def _urgent(self, channel: ChannelConfig, alert: dict) -> bool:
        content = self._content(alert)
        return content is not None and bool(set(content.tags) & set(channel.urgent_tags))

    def _deliver_digest(self, channel, notifier, due, now, report) -> None:
        period = timedelta(minutes=channel.digest_minutes)
        last = self.store.last_digest(channel.name)
        # A digest period opens with its first alert and closes `digest_minutes` later.
        opened = parse_iso(last) if last else None
        oldest = min(parse_iso(a["created"]) for a in due)
        start = max(opened, oldest) if opened else oldest
        if now - start < period:
            report.deferred[channel.name] = f"digest due at {iso(start + period)}"
            return
        contents = [c for c in (self._content(alert) for alert in due) if c is not None]
        if not contents:
            return
        message = render_digest_for(channel, contents, now, f"{channel.digest_minutes} minutes")
        if self._send(notifier, due, message, report):
            self.store.set_last_digest(channel.name, iso(now))

    def _deliver_daily_digest(self, channel, notifier, due, now, report) -> None:
        """`digest = "daily 07:30"`: what came before the latest 07:30 (the channel's time zone)
        goes out in one message at the first delivery after it, once a day."""
        latest, following = daily_moments(channel, now)
        last = self.store.last_digest(channel.name)
        waiting = [a for a in due if parse_iso(a["created"]) <= latest]
        if not waiting or (last and parse_iso(last) >= latest):
            report.deferred[channel.name] = f"digest due at {iso(following)}"
            return
        contents = [c for c in (self._content(alert) for alert in due) if c is not None]
        if not contents:
            return
        period = f"daily at {channel.digest_at:%H:%M} {channel.timezone}"
        if self._send(notifier, due, render_digest_for(channel, contents, now, period), report):
            self.store.set_last_digest(channel.name, iso(now))

    def lease(self, notifier: Notifier) -> float:
        """Seconds a claim is held: well beyond the notifier's whole send deadline."""
        return max(LEASE_MIN, 3 * send_deadline(notifier) + 30)

    def _send(self, notifier, alerts: list[dict], message: Message, report) -> bool:
        ids = [a["id"] for a in alerts]
        lease = timedelta(seconds=self.lease(notifier))
        claimed_at = self.now()
        if not self.store.claim_alerts(ids, self.token, iso(claimed_at), iso(claimed_at + lease)):
            return False  # another deliverer holds them: it sends, never both
        # Renewed right before the send: the lease outlasts the send's deadline, so no one can
        # take these rows back while the message is on the way.
        now = self.now()
        if self.should_stop() or not self.store.renew_claim(
            ids, self.token, iso(now), iso(now + lease)
        ):
            self.store.release_claim(ids, self.token)
            return False
        try:
            notifier.send(message)
        except NotifyError as error:
            if self.should_stop():  # cut off by a shutdown: not the channel's fault
                self.store.release_claim(ids, self.token)
                return False
            self._failed(alerts, error, now, report)
            return False
        except BaseException:
            self.store.release_claim(ids, self.token)
            raise
        # "sent" only when a channel accepted the message; "logged" when it only went to the
        # log (no working desktop), "demo" when the demo printed it.
        self._held.pop(alerts[0]["channel"], None)
        outcome = getattr(notifier, "outcome", "sent")
        self.store.mark_sent(ids, self.token, iso(self.now()), status=outcome)
        if outcome == "sent":
            report.sent += len(ids)
        else:
            report.other[outcome] = report.other.get(outcome, 0) + len(ids)
        log.info("%s %d alert(s) by %s: %s", outcome, len(ids), notifier.name, message.title)
        return True

    def _failed(self, alerts: list[dict], error: NotifyError, now: datetime, report) -> None:
        reason = str(error)
        report.errors.append(reason)
        outcomes = []
        for alert in alerts:
            attempts = (alert["attempts"] or 0) + 1
            # A permanent refusal (a webhook's 4xx) fails at once: the same send cannot work.
            if attempts >= self.notify.max_attempts or error.permanent:
                outcomes.append((alert["id"], "failed", attempts, None))
                report.failed += 1
            else:
                wait = min(self.notify.retry_base * 2 ** (attempts - 1), RETRY_CAP)
                retry_at = now + timedelta(seconds=wait)
                outcomes.append((alert["id"], "pending", attempts, iso(retry_at)))
                report.retrying += 1
                held = self._held.get(alert["channel"])
                if held is None or retry_at < held[0]:
                    self._held[alert["channel"]] = (retry_at, reason)
        self.store.mark_attempt_failed(outcomes, reason, self.token)
        log.warning("%s: %s", alerts[0]["channel"], reason)

    def _content(self, alert: dict) -> AlertContent | None:
        """Everything an alert says, read from the stored release."""
        if alert.get("catalyst"):  # a catalyst reminder or moved date (monitor/reminders.py)
            return catalyst_content(self.store, alert)
        row = self.store.release_row(alert["release"])
        if row is None:
            return None
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
            sources=tuple(
                (s.source, s.release_id, s.url) for s in self.store.event_sources(row["id"])
            ),
        )


def new_token() -> str:
    """A claim token unique to this deliverer: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(6)}"


def _dead_here(token: str) -> bool:
    """True when `token` names a process of this machine that is not running any more."""
    if sys.platform == "win32":  # pragma: no cover (os.kill would end the process there)
        return False
    host, _, rest = token.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # it runs (as another user), or we cannot tell: wait for its lease
    return False


def send_deadline(notifier: Notifier) -> float:
    """The longest one send of this notifier may take (its own `deadline`, else a default)."""
    deadline = getattr(notifier, "deadline", None)
    return float(deadline) if deadline else DEFAULT_SEND_DEADLINE


def alert_rows(store: Store, status: str | None = None, limit: int = 100) -> list[dict]:
    """Alerts with their release titles, newest first, for `biomon alerts`."""
    return store.alert_rows(status, limit)
