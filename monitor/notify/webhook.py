"""[notify.webhook]: each alert POSTed as JSON to a URL of yours, signed when a secret is set.

The payload (version 1) of one alert; a digest is `{"version": 1, "type": "digest", "period",
"subject", "text", "sent", "events": [...]}` with one event object per alert:

    {"version": 1, "type": "alert",
     "id": "globenewswire:4000100",            # the event: source and the wire's release id
     "title": "...", "url": "https://...", "published": "2026-11-25T16:05:00Z",
     "tickers": ["NASDAQ:CLRB"], "ticker": "CLRB", "issuer": "...",
     "primary": "licensing", "tags": ["licensing", "radiopharmaceutical"],
     "evidence": {"licensing": ["sentence that earned the tag", ...]},
     "facts": {"amounts": [], "phases": [], "trial_names": [], "nct_ids": [], "agencies": [],
               "counterparties": [], "tickers": []},
     "sources": [{"source": "globenewswire", "release_id": "4000100", "url": "https://..."}],
     "rule": "CLRB", "channel": "webhook",
     "subject": "[CLRB] licensing: ...", "text": "...",   # the rendered message (templates)
     "sent": "2026-11-25T16:05:48Z"}

biomon's own notices (the heartbeat alarm, when `heartbeat_channel = "webhook"`) come as
`{"version": 1, "type": "notice", "channel", "subject", "text", "sent"}`.

Headers: `X-Biomon-Event` (alert, digest or notice), `X-Biomon-Delivery` (the event id: the same on
every retry, so a receiver can drop the rare duplicate), and with `secret_env` set,
`X-Biomon-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>` (as
GitHub's webhooks; compare it in constant time).

A 2xx is delivered. A 5xx, 408, 425 or 429, a timeout or a connection error is retried by the
outbox with backoff; any other 4xx, or a redirect, fails the alert at once: the same request
cannot succeed later. Errors name the host only: a webhook's path often is its secret.

This module is the channel's settings (its keys and their checks), read whenever a config
loads. The sending half (`WebhookNotifier`, the payload: `build_payload`, `event`, `signature`)
is in `_webhook_send.py`, imported when a channel is built; its names are importable from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from monitor.models import AlertContent, Message
from monitor.notify.registry import ChannelType, Key, Secret, SettingError, sending_names

if TYPE_CHECKING:
    from monitor.config import ChannelConfig
    from monitor.notify.base import Notifier


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError as error:
        return f"not a valid URL ({error})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL with a host"
    if any(c.isspace() for c in url):
        return "not a valid URL: it has a space; write it as %20"
    return None


class WebhookChannel(ChannelType):
    """[notify.webhook]: url, secret_env, timeout."""

    kind = "webhook"
    order = 30
    keys = {
        "url": Key(str, "", check=_url_problem),
        "secret_env": Key(str, ""),  # the variable holding the HMAC key, read at send time
        "timeout": Key((int, float), 10, bounds=(0.1, 600)),
    }

    def check(self, settings: Mapping[str, Any]) -> None:
        if not settings["url"]:
            raise SettingError("url", 'missing; write url = "https://your.host/path"')

    def instances(
        self,
        settings: Mapping[str, Any],
        environ: Mapping[str, str],
        warn: Callable[[str], None],
    ) -> list[tuple[str, dict[str, Any]]]:
        # The path of a webhook URL is often its secret: never in a repr of the config.
        return [(self.kind, {**settings, "url": Secret(settings["url"])})]

    def build(self, channel: ChannelConfig) -> tuple[Notifier, str | None]:
        from monitor.notify._webhook_send import WebhookNotifier

        notifier = WebhookNotifier(
            url=channel.setting("url"),
            secret_env=channel.setting("secret_env") or None,
            timeout=float(channel.setting("timeout", 10)),
            name=channel.name,
        )
        return notifier, notifier.probe()

    def render(self, content: AlertContent, alerted_at: datetime) -> Message:
        from monitor.notify.render import desktop_text, render_alert

        title = render_alert(content, alerted_at).title
        _, text = desktop_text(content)
        return Message(title=title, text=text, html="")


CHANNEL = WebhookChannel()


_SENDING = (
    "WebhookNotifier",
    "build_payload",
    "delivery_id",
    "event",
    "event_id",
    "event_sources",
    "signature",
)

__getattr__ = sending_names("monitor.notify._webhook_send", __name__, _SENDING)
