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
from monitor.notify.render import desktop_text, render_alert, render_digest
from monitor.schedule import iso, parse_iso
from monitor.store import Store

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

        Stops between messages when `should_stop()` turns true; what is left stays pending.
        """
        report = DeliveryReport()
        now = self.now()
        for name, notifier in self.notifiers.items():
            if self.should_stop():
                break
            channel = self.notify.channel(name) or ChannelConfig(name=name, enabled=True)
            if in_quiet_hours(channel, now):
                report.deferred[name] = "quiet hours"
                continue
            due = self.store.due_alerts(name, iso(now))
            if not due:
                continue
            if channel.digest_minutes:
                self._deliver_digest(channel, notifier, due, now, report)
                continue
            for alert in due:
                if self.should_stop():
                    break
                content = self._content(alert)
                if content is None:
                    continue
                self._send(notifier, [alert], render_for(name, content, now), report)
        return report

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
        message = render_digest(contents, now, f"{channel.digest_minutes} minutes")
        if self._send(notifier, due, message, report):
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
            self._failed(alerts, str(error), now, report)
            return False
        except BaseException:
            self.store.release_claim(ids, self.token)
            raise
        # "sent" only when a channel accepted the message; "logged" when it only went to the
        # log (no working desktop), "demo" when the demo printed it.
        outcome = getattr(notifier, "outcome", "sent")
        self.store.mark_sent(ids, self.token, iso(self.now()), status=outcome)
        if outcome == "sent":
            report.sent += len(ids)
        else:
            report.other[outcome] = report.other.get(outcome, 0) + len(ids)
        log.info("%s %d alert(s) by %s: %s", outcome, len(ids), notifier.name, message.title)
        return True

    def _failed(self, alerts: list[dict], reason: str, now: datetime, report) -> None:
        report.errors.append(reason)
        outcomes = []
        for alert in alerts:
            attempts = (alert["attempts"] or 0) + 1
            if attempts >= self.notify.max_attempts:
                outcomes.append((alert["id"], "failed", attempts, None))
                report.failed += 1
            else:
                wait = min(self.notify.retry_base * 2 ** (attempts - 1), RETRY_CAP)
                outcomes.append(
                    (alert["id"], "pending", attempts, iso(now + timedelta(seconds=wait)))
                )
                report.retrying += 1
        self.store.mark_attempt_failed(outcomes, reason, self.token)
        log.warning("%s: %s", alerts[0]["channel"], reason)

    def _content(self, alert: dict) -> AlertContent | None:
        """Everything an alert says, read from the stored release."""
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


def render_for(channel: str, content: AlertContent, now: datetime) -> Message:
    """The message a channel sends: email gets the full alert, the desktop a short one."""
    if channel == "email":
        return render_alert(content, now)
    title, body = desktop_text(content)
    return Message(title=title, text=body, html="")


def alert_rows(store: Store, status: str | None = None, limit: int = 100) -> list[dict]:
    """Alerts with their release titles, newest first, for `biomon alerts`."""
    return store.alert_rows(status, limit)


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
