"""Apprise URLs as channels, sending through Apprise's own json://, ntfy:// and form:// to real
HTTP receivers on 127.0.0.1: each URL its own outbox channel, secrets never shown."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import ChannelConfig, load_config
from monitor.notify.apprise import AppriseNotifier, auto_name
from monitor.notify.base import NotifyError
from monitor.notify.registry import build_notifiers, render
from monitor.outbox import Outbox
from monitor.poller import Poller
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed
from tests.receiver import Answer, Receiver
from tests.smtp import free_port
from tests.test_channels import NOW, content

pytest.importorskip("apprise")

URLS_ENV = "BIOMON_TEST_APPRISE_URLS"
SECRET_TOPIC = "biomon-s3cret-topic-7f3a"


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def message():
    return render(ChannelConfig(name="apprise:x", kind="apprise", enabled=True), content(), NOW)


def test_json_url_posts_title_and_text(receiver):
    AppriseNotifier(f"json://127.0.0.1:{receiver.port}/biomon", 10).send(message())
    (request,) = receiver.requests
    body = request.json()
    assert (request.path, body["type"], body["title"]) == ("/biomon", "info", "CLRB · licensing")
    assert body["message"].splitlines() == [
        content().title,
        "Cellectar entered into an exclusive license with WARF.",
        content().url,
    ]


def test_ntfy_url_publishes_to_its_topic(receiver):
    AppriseNotifier(f"ntfy://127.0.0.1:{receiver.port}/{SECRET_TOPIC}", 10).send(message())
    body = receiver.requests[0].json()
    assert (body["topic"], body["title"]) == (SECRET_TOPIC, "CLRB · licensing")
    assert body["message"].startswith(content().title)


def test_form_url_posts_a_form(receiver):
    AppriseNotifier(f"form://127.0.0.1:{receiver.port}/form", 10).send(message())
    form = receiver.requests[0].form()
    assert form["title"] == "CLRB · licensing" and content().url in form["message"]


def test_a_refusal_says_why_with_the_secret_scrubbed(receiver):
    receiver.answer(Answer(503, b"overloaded"))
    with pytest.raises(NotifyError) as caught:
        AppriseNotifier(f"ntfy://127.0.0.1:{receiver.port}/{SECRET_TOPIC}", 10).send(message())
    said = str(caught.value)
    assert said.startswith(f"ntfy://127.0.0.1:{receiver.port}/***: ") and "503" in said
    assert SECRET_TOPIC not in said


def test_a_closed_port_is_named_with_the_os_error():
    port = free_port()
    with pytest.raises(NotifyError, match="Connection refused"):
        AppriseNotifier(f"json://127.0.0.1:{port}/x", 10).send(message())


def test_a_hanging_service_is_given_up_at_the_deadline(receiver):
    receiver.answer(Answer(delay=3))
    started = time.monotonic()
    with pytest.raises(NotifyError, match="did not finish within 1s"):
        AppriseNotifier(f"json://127.0.0.1:{receiver.port}/x", 1).send(message())
    assert time.monotonic() - started < 1.8


# ---- through the outbox: one channel per URL


BACKLOG = [Item(f"70000{i:02d}", f"Cellectar Biosciences Reports Quarter {i} Results", tickers=("Nasdaq:CLRB",),
                text="Cellectar reported results.") for i in range(3)]  # fmt: skip
NEW = Item("7000100", "Cellectar Biosciences Signs License Agreement With WARF", tickers=("Nasdaq:CLRB",),
           text="Cellectar signed an exclusive license agreement with WARF.")  # fmt: skip


@pytest.fixture
def pipeline(server, write_config):
    def make(notify: str, watch_extra: str = ""):
        url = server.add("f.xml", feed(*BACKLOG))
        watch = f'[[watch]]\nticker = "CLRB"\nalert_tags = ["licensing"]\n{watch_extra}'
        path = write_config(config_text([url], watch) + notify)
        config = load_config(path)
        store = Store(config.storage.path, clock=lambda: "2026-11-25T16:05:00Z")
        poller = Poller.create(config, store)
        poller.poll()
        server.add("f.xml", feed(NEW, *BACKLOG))
        poller.poll(force=True)
        poller.client.close()
        opened.append(store)
        return config, store, path

    opened = []
    yield make
    for store in opened:
        store.close()


def test_each_url_is_its_own_channel_one_failing_never_repeats_another(receiver, pipeline):
    good, bad = f"json://127.0.0.1:{receiver.port}/good", f"json://127.0.0.1:{receiver.port}/bad"
    config, store, _ = pipeline(f'[notify.apprise]\nurls = ["{good}", "{bad}"]\n')
    assert config.notify.enabled == (auto_name(good), auto_name(bad))
    receiver.answer(Answer(200), Answer(500, b"boom"))  # good first (config order), then bad
    clock = [datetime(2026, 11, 25, 16, 6, tzinfo=UTC)]
    outbox = Outbox(store, config.notify, build_notifiers(config.notify)[0], now=lambda: clock[0])
    report = outbox.deliver()
    assert (report.sent, report.retrying) == (1, 1)
    clock[0] += timedelta(seconds=31)
    assert outbox.deliver().sent == 1
    assert outbox.deliver().sent == 0
    assert [r.path for r in receiver.requests] == ["/good", "/bad", "/bad"]
    statuses = {row["channel"]: row["status"] for row in store.alert_rows()}
    assert statuses == {auto_name(good): "sent", auto_name(bad): "sent"}


class RootLog(logging.Handler):
    """What biomon's own log handlers (on the root logger) are given."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def root_log():
    handler, root = RootLog(), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_secrets_never_reach_alerts_status_or_the_log(pipeline, root_log):
    port = free_port()  # nothing listens: the send fails and says why
    secret_url = f"ntfy://127.0.0.1:{port}/{SECRET_TOPIC}"
    config, store, path = pipeline(f'[notify.apprise]\nurls = ["{secret_url}"]\n')
    outbox = Outbox(store, config.notify, build_notifiers(config.notify)[0])
    report = outbox.deliver()
    assert report.retrying == 1 and "Connection refused" in report.errors[0]
    shown = [
        CliRunner().invoke(cli, ["--config", str(path), command, *options]).output
        for command, options in (("alerts", ["--format", "json"]), ("alerts", []), ("status", []))
    ]
    rows = [json.loads(line) for line in shown[0].splitlines()]
    assert (
        rows[0]["channel"] == auto_name(secret_url)
        and "Connection refused" in rows[0]["last_error"]
    )
    logged = [record.getMessage() for record in root_log.records]
    assert any("Socket Exception" in line for line in logged)  # Apprise's detail, through ours
    assert not [r for r in root_log.records if r.name.startswith("apprise")]
    for text in [*shown, *logged, *report.errors, repr(config.notify)]:
        assert SECRET_TOPIC not in text


def test_urls_from_the_environment_can_be_named_and_routed(receiver, pipeline, monkeypatch):
    phone = f"ntfy://127.0.0.1:{receiver.port}/{SECRET_TOPIC}"
    other = f"json://127.0.0.1:{receiver.port}/other"
    monkeypatch.setenv(URLS_ENV, f"phone={phone}\n  {other}")
    notify = f'[notify.apprise]\nurls_env = "{URLS_ENV}"\n'
    config, store, _ = pipeline(notify, watch_extra='channels = ["phone"]\n')
    assert config.notify.names[-2:] == ("phone", auto_name(other))
    assert [a["channel"] for a in store.alert_rows()] == ["phone"]
    outbox = Outbox(store, config.notify, build_notifiers(config.notify)[0])
    assert outbox.deliver().sent == 1
    assert receiver.requests[0].json()["topic"] == SECRET_TOPIC


def test_an_unset_urls_env_is_a_warning_not_an_error(write_config, monkeypatch):
    monkeypatch.delenv(URLS_ENV, raising=False)
    text = config_text(["http://127.0.0.1:1/x"]) + f'[notify.apprise]\nurls_env = "{URLS_ENV}"\n'
    config = load_config(write_config(text))
    notifiers, warnings = build_notifiers(config.notify)
    assert notifiers == {}
    assert warnings == [f"apprise: urls_env {URLS_ENV} is not set; no Apprise URLs from it"]


def test_an_env_url_apprise_cannot_use_is_named_without_its_value(write_config, monkeypatch):
    monkeypatch.setenv(URLS_ENV, "json://127.0.0.1/ok tgram://s3cretbot/")
    text = config_text(["http://127.0.0.1:1/x"]) + f'[notify.apprise]\nurls_env = "{URLS_ENV}"\n'
    path = write_config(text)
    result = CliRunner().invoke(cli, ["--config", str(path), "history"])
    assert result.exit_code == 2
    assert (
        f"notify.apprise.urls_env: entry 2 of ${URLS_ENV}: Apprise cannot use this tgram:// URL"
        in result.output
    )
    assert "s3cretbot" not in result.output


def test_without_apprise_installed_its_alerts_wait(receiver, pipeline, monkeypatch):
    config, store, _ = pipeline(
        f'[notify.apprise]\nurls = ["json://127.0.0.1:{receiver.port}/x"]\n'
    )
    monkeypatch.setitem(sys.modules, "apprise", None)  # what an install without the extra sees
    notifiers, warnings = build_notifiers(config.notify)
    assert notifiers == {}
    assert warnings == [
        "apprise is not installed (pip install 'biomon[apprise]'); Apprise alerts stay pending until it is"
    ]
    assert [a["status"] for a in store.alert_rows()] == ["pending"]


def test_notify_test_sends_through_every_apprise_url(receiver, write_config):
    urls = [f"json://127.0.0.1:{receiver.port}/one", f"form://127.0.0.1:{receiver.port}/two"]
    text = config_text(["http://127.0.0.1:1/x"]) + f"[notify.apprise]\nurls = {json.dumps(urls)}\n"
    path = write_config(text)
    result = CliRunner().invoke(cli, ["--config", str(path), "notify-test", "--channel", "apprise"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{auto_name(url)}: sent" for url in urls]
    assert [r.path for r in receiver.requests] == ["/one", "/two"]
