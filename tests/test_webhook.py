"""The JSON webhook against a real HTTP receiver on 127.0.0.1: payload, HMAC signature,
retries on 5xx and timeouts, none on 4xx, deadlines and abort."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import ChannelConfig, load_config
from monitor.models import Message
from monitor.notify.base import NotifyError
from monitor.notify.registry import build_notifiers, render
from monitor.notify.webhook import WebhookNotifier
from monitor.outbox import Outbox
from monitor.poller import Poller
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed
from tests.receiver import Answer, Receiver
from tests.smtp import free_port
from tests.test_channels import NOW, content

SECRET_ENV = "BIOMON_TEST_WEBHOOK_SECRET"
PAYLOAD_KEYS = {
    "version", "type", "id", "title", "url", "published", "tickers", "ticker", "issuer",
    "primary", "tags", "evidence", "facts", "sources", "rule", "channel", "subject", "text",
    "sent",
}  # fmt: skip


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def message(**changes) -> Message:
    return render(ChannelConfig(name="webhook", enabled=True), content(**changes), NOW)


def test_payload_carries_the_documented_fields(receiver):
    WebhookNotifier(receiver.url("/biomon")).send(message())
    (request,) = receiver.requests
    body = request.json()
    assert (request.method, request.path) == ("POST", "/biomon")
    assert request.headers["content-type"] == "application/json"
    assert set(body) == PAYLOAD_KEYS
    assert body["version"] == 1 and body["type"] == "alert"
    assert body["id"] == "globenewswire:4000100"
    assert (body["tickers"], body["ticker"], body["primary"]) == (
        ["NASDAQ:CLRB"],
        "CLRB",
        "licensing",
    )
    assert body["tags"] == ["licensing", "radiopharmaceutical"]
    assert body["evidence"] == {
        "licensing": ["Cellectar entered into an exclusive license with WARF."]
    }
    assert body["facts"]["amounts"] == ["$2 million"] and body["facts"]["phases"] == ["Phase 2"]
    assert body["sources"] == [
        {"source": "globenewswire", "release_id": "4000100", "url": content().url}
    ]
    assert (body["url"], body["published"]) == (content().url, "2026-11-25T16:05:00Z")
    assert body["subject"] == f"[CLRB] licensing: {content().title}"
    assert request.headers["x-biomon-event"] == "alert"
    assert request.headers["x-biomon-delivery"] == "globenewswire:4000100"
    assert "x-biomon-signature-256" not in request.headers


def test_signature_is_an_hmac_sha256_of_the_exact_body(receiver):
    notifier = WebhookNotifier(
        receiver.url(), secret_env=SECRET_ENV, environ={SECRET_ENV: "s3cret"}
    )
    notifier.send(message())
    (request,) = receiver.requests
    expected = "sha256=" + hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-biomon-signature-256"], expected)


def test_a_missing_secret_is_named_and_nothing_is_sent(receiver):
    notifier = WebhookNotifier(receiver.url(), secret_env=SECRET_ENV, environ={})
    assert SECRET_ENV in notifier.probe()
    with pytest.raises(NotifyError, match=f"{SECRET_ENV} is not set"):
        notifier.send(message())
    assert receiver.requests == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 425, 429])
def test_server_errors_and_later_are_retried(receiver, status):
    receiver.answer(Answer(status, b"try again"))
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(receiver.url()).send(message())
    assert not caught.value.permanent
    assert f"answered {status}" in str(caught.value) and "will be retried" in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
def test_client_errors_fail_without_retry(receiver, status):
    receiver.answer(Answer(status, b'{"error": "bad payload"}'))
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(receiver.url()).send(message())
    assert caught.value.permanent
    assert f"refused the alert: {status}" in str(caught.value) and "bad payload" in str(
        caught.value
    )


def test_redirects_are_not_followed(receiver):
    receiver.answer(Answer(301, headers={"Location": "https://new.example.com/hook"}))
    with pytest.raises(
        NotifyError, match="301 Moved Permanently \\(to new.example.com\\)"
    ) as caught:
        WebhookNotifier(receiver.url()).send(message())
    assert caught.value.permanent and len(receiver.requests) == 1


def test_a_slow_receiver_times_out_and_is_retried(receiver):
    receiver.answer(Answer(delay=2))
    with pytest.raises(NotifyError, match="timed out \\(ReadTimeout, timeout 0.3s\\)") as caught:
        WebhookNotifier(receiver.url(), timeout=0.3).send(message())
    assert not caught.value.permanent


def test_a_trickling_receiver_is_cut_at_the_total_deadline(receiver):
    receiver.answer(Answer(trickle=0.1))  # each byte within the read timeout, never done
    started = time.monotonic()
    with pytest.raises(NotifyError, match="did not finish within 1s \\(total deadline\\)"):
        WebhookNotifier(receiver.url(), timeout=0.5).send(message())
    assert time.monotonic() - started < 1.5


def test_abort_ends_a_send_in_flight_at_once(receiver):
    receiver.answer(Answer(delay=5))
    notifier = WebhookNotifier(receiver.url(), timeout=4)
    threading.Timer(0.3, notifier.abort).start()
    started = time.monotonic()
    with pytest.raises(NotifyError, match="aborted: biomon is stopping"):
        notifier.send(message())
    assert time.monotonic() - started < 1.5
    with pytest.raises(NotifyError, match="aborted"):
        notifier.send(message())  # and nothing new starts


def test_errors_name_the_host_never_the_path():
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/T0KEN-very-secret"
    with pytest.raises(NotifyError) as caught:
        WebhookNotifier(url).send(message())
    assert f"cannot reach webhook 127.0.0.1:{port}" in str(caught.value)
    assert "T0KEN" not in str(caught.value)


def test_a_notice_without_a_release_has_its_own_type(receiver):
    WebhookNotifier(receiver.url()).send(
        Message("biomon: no successful poll", "for 31 minutes", "")
    )
    body = receiver.requests[0].json()
    assert (body["type"], body["subject"], body["text"]) == (
        "notice",
        "biomon: no successful poll",
        "for 31 minutes",
    )
    assert receiver.requests[0].headers["x-biomon-delivery"].startswith("notice:")


# ---- through the outbox


BACKLOG = [Item(f"60000{i:02d}", f"Cellectar Biosciences Reports Quarter {i} Results", tickers=("Nasdaq:CLRB",),
                text="Cellectar reported results.") for i in range(3)]  # fmt: skip
NEW = [Item(f"600010{i}", f"Cellectar Biosciences Signs License Agreement {i}", tickers=("Nasdaq:CLRB",),
            text="Cellectar signed an exclusive license agreement with WARF.") for i in range(2)]  # fmt: skip


@pytest.fixture
def queued(server, receiver, write_config, monkeypatch):
    """One (or two) new releases queued for the webhook, which points at `receiver`."""
    monkeypatch.setenv(SECRET_ENV, "s3cret")

    def make(count: int = 1, extra: str = ""):
        url = server.add("f.xml", feed(*BACKLOG))
        notify = f'[notify.webhook]\nurl = "{receiver.url()}"\nsecret_env = "{SECRET_ENV}"\n{extra}'
        watch = '[[watch]]\nticker = "CLRB"\nalert_tags = ["licensing"]\n'
        config = load_config(write_config(config_text([url], watch) + notify))
        store = Store(config.storage.path, clock=lambda: "2026-11-25T16:05:00Z")
        poller = Poller.create(config, store)
        poller.poll()
        server.add("f.xml", feed(*NEW[:count], *BACKLOG))
        poller.poll(force=True)
        poller.client.close()
        opened.append(store)
        return config, store

    opened = []
    yield make
    for store in opened:
        store.close()


def test_a_5xx_is_retried_after_backoff_and_sent_once(receiver, queued):
    config, store = queued()
    clock = [datetime(2026, 11, 25, 16, 6, tzinfo=UTC)]
    outbox = Outbox(store, config.notify, build_notifiers(config.notify)[0], now=lambda: clock[0])
    receiver.answer(Answer(503, b"maintenance"))
    assert outbox.deliver().retrying == 1
    assert store.alert_rows()[0]["status"] == "pending"
    clock[0] += timedelta(seconds=31)
    assert outbox.deliver().sent == 1
    assert outbox.deliver().sent == 0
    first, second = receiver.requests
    assert first.headers["x-biomon-delivery"] == second.headers["x-biomon-delivery"]
    expected = "sha256=" + hmac.new(b"s3cret", second.body, hashlib.sha256).hexdigest()
    assert second.headers["x-biomon-signature-256"] == expected
    assert store.alert_rows()[0]["status"] == "sent"


def test_a_4xx_fails_the_alert_at_once(receiver, queued):
    config, store = queued()
    clock = [datetime(2026, 11, 25, 16, 6, tzinfo=UTC)]
    outbox = Outbox(store, config.notify, build_notifiers(config.notify)[0], now=lambda: clock[0])
    receiver.answer(Answer(422, b"unknown field"))
    report = outbox.deliver()
    assert (report.failed, report.retrying) == (1, 0)
    (row,) = store.alert_rows()
    assert row["status"] == "failed" and "422 Unprocessable" in row["last_error"]
    clock[0] += timedelta(hours=2)
    outbox.retry_now()
    assert outbox.deliver().sent == 0 and len(receiver.requests) == 1


def test_a_digest_posts_every_event(receiver, queued):
    config, store = queued(count=2, extra="digest_minutes = 10\n")
    clock = [datetime(2026, 11, 25, 16, 16, tzinfo=UTC)]
    outbox = Outbox(store, config.notify, build_notifiers(config.notify)[0], now=lambda: clock[0])
    assert outbox.deliver().sent == 2
    body = receiver.requests[0].json()
    assert (body["type"], body["period"]) == ("digest", "10 minutes")
    assert sorted(e["id"] for e in body["events"]) == [
        "globenewswire:6000100",
        "globenewswire:6000101",
    ]
    assert receiver.requests[0].headers["x-biomon-event"] == "digest"


def test_notify_test_posts_to_the_webhook(receiver, write_config):
    path = write_config(
        config_text(["http://127.0.0.1:1/x"]) + f'[notify.webhook]\nurl = "{receiver.url()}"\n'
    )
    result = CliRunner().invoke(cli, ["--config", str(path), "notify-test", "--channel", "webhook"])
    assert (result.exit_code, result.output.strip()) == (0, "webhook: sent")
    assert receiver.requests[0].json()["title"] == "biomon test alert: your notifications work"
