"""The sending half of the webhook channel (webhook.py, whose docstring gives the payload):
the JSON body, its signature, and the POST through httpx (imported at the first send).

Imported when a webhook channel is built, never when a config only loads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from monitor import __version__
from monitor.models import AlertContent, Message
from monitor.notify.base import Deadline, NotifyError
from monitor.notify.render import clean_text

if TYPE_CHECKING:
    import httpx


PAYLOAD_VERSION = 1
RETRY_STATUSES = frozenset({408, 425, 429})  # 4xx that say "later", not "never"
ERROR_SNIPPET = 200  # characters of a refusal's body quoted in the error


class WebhookNotifier:
    """POSTs `message.contents` as JSON (see the module docstring) to one URL."""

    def __init__(
        self,
        url: str,
        secret_env: str | None = None,
        timeout: float = 10.0,
        name: str = "webhook",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.secret_env = secret_env
        self.timeout = timeout
        self.name = name
        self.environ = os.environ if environ is None else environ
        self._client: httpx.Client | None = None  # made at the first send
        self._deadline = Deadline(self.deadline)

    @property
    def client(self) -> httpx.Client:
        import httpx  # here: loading the config (which finds this module) needs no httpx

        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                headers={"User-Agent": f"biomon/{__version__} (webhook)"},
            )
        return self._client

    @property
    def deadline(self) -> float:
        """The longest one send takes in all: `timeout` bounds each step, this the whole."""
        return 2 * self.timeout

    @property
    def where(self) -> str:
        """The receiver as errors name it: host and port, never the path (often a secret)."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)

    def probe(self) -> str | None:
        """None when the HMAC secret is there (or none is asked for)."""
        if self.secret_env and not self.environ.get(self.secret_env):
            return (
                f"webhook: secret_env {self.secret_env} is not set; "
                "its alerts fail until it is (they are retried)"
            )
        return None

    def abort(self) -> None:
        """End the send in flight now and refuse new ones (the daemon is stopping)."""
        self._deadline.abort()
        if self._client is not None:
            self._client.close()

    def send(self, message: Message) -> None:
        """POST the payload of `message`; NotifyError (permanent for a refusal) if not 2xx."""
        secret = None
        if self.secret_env:
            secret = self.environ.get(self.secret_env)
            if not secret:
                raise NotifyError(
                    f"webhook secret environment variable {self.secret_env} is not set", self.name
                )
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = build_payload(message, self.name, now)
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-Biomon-Event": payload["type"],
            "X-Biomon-Delivery": delivery_id(message),
        }
        if secret:
            headers["X-Biomon-Signature-256"] = signature(secret, body)
        self._deadline.run(lambda: self._post(body, headers), f"webhook {self.where}", self.name)

    def _post(self, body: bytes, headers: dict[str, str]) -> None:
        import httpx

        try:
            with self.client.stream("POST", self.url, content=body, headers=headers) as response:
                status = response.status_code
                if 200 <= status < 300:
                    return
                # A refusal's first bytes say why; the rest (maybe huge) is never read.
                said = next(response.iter_bytes(), b"")[:ERROR_SNIPPET]
                location = response.headers.get("location", "")
        except httpx.TimeoutException as error:
            raise NotifyError(
                f"webhook {self.where} timed out ({type(error).__name__}, "
                f"timeout {self.timeout:g}s); the alert will be retried",
                self.name,
            ) from None
        except httpx.HTTPError as error:
            detail = " ".join(str(error).split()) or type(error).__name__
            raise NotifyError(
                f"cannot reach webhook {self.where} ({detail}); the alert will be retried",
                self.name,
            ) from None
        reply = f"{status} {_reason(status)}"
        text = " ".join(clean_text(said.decode("utf-8", "replace")).split())
        quoted = f": {text!r}" if text else ""
        if status >= 500 or status in RETRY_STATUSES:
            raise NotifyError(
                f"webhook {self.where} answered {reply}{quoted}; the alert will be retried",
                self.name,
            )
        if 300 <= status < 400:
            moved = urlsplit(location).hostname or "elsewhere"
            raise NotifyError(
                f"webhook {self.where} answered {reply} (to {moved}); set [notify.webhook] url "
                "to the new address (redirects are not followed)",
                self.name,
                permanent=True,
            )
        raise NotifyError(
            f"webhook {self.where} refused the alert: {reply}{quoted}; not retried",
            self.name,
            permanent=True,
        )


def build_payload(message: Message, channel: str, sent: str) -> dict[str, Any]:
    """The JSON object POSTed for `message`: one alert, or a digest of several."""
    head = {"version": PAYLOAD_VERSION}
    rendered = {"subject": clean_text(message.title), "text": clean_text(message.text)}
    if not message.contents:  # biomon's own notice (the heartbeat alarm): no release
        return head | {"type": "notice", "channel": channel} | rendered | {"sent": sent}
    if message.digest or len(message.contents) != 1:
        events = [event(content, channel) for content in message.contents]
        digest = {"type": "digest", "period": message.digest, "channel": channel}
        return head | digest | rendered | {"sent": sent, "events": events}
    alert = event(message.contents[0], channel)
    return head | {"type": "alert"} | alert | rendered | {"sent": sent}


def event(content: AlertContent, channel: str) -> dict[str, Any]:
    """What one alert says, as data (the fields of the payload's docstring)."""
    return {
        "id": event_id(content),
        "title": clean_text(content.title),
        "url": content.url,
        "published": content.published_utc,
        "tickers": list(content.tickers),
        "ticker": content.ticker or None,
        "issuer": clean_text(content.issuer),
        "primary": content.primary,
        "tags": list(content.tags),
        "evidence": {
            tag: [clean_text(sentence) for sentence in sentences]
            for tag, sentences in content.evidence
        },
        "facts": content.facts.to_dict(),
        "sources": [
            {"source": source, "release_id": release_id, "url": url}
            for source, release_id, url in event_sources(content)
        ],
        "rule": content.rule,
        "channel": channel,
    }


def event_sources(content: AlertContent) -> tuple[tuple[str, str, str], ...]:
    """Every (source, release id, url) of the alert's event; the alerted release alone when the
    content was built without them."""
    return content.sources or ((content.source, content.release_id, content.url),)


def event_id(content: AlertContent) -> str:
    """The event's id: its wire and the wire's release id, e.g. `globenewswire:4000100`."""
    return f"{content.source}:{content.release_id}"


def delivery_id(message: Message) -> str:
    """The same for every retry of one message: the event id, else a hash of what it says."""
    ids = [event_id(content) for content in message.contents]
    if len(ids) == 1 and not message.digest:
        return ids[0]
    kind = "digest" if ids else "notice"
    text = "\n".join(ids) if ids else f"{message.title}\n{message.text}"
    return f"{kind}:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the exact body bytes, keyed with the secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _reason(status: int) -> str:
    import httpx

    try:
        return httpx.codes.get_reason_phrase(status)
    except ValueError:
        return ""
