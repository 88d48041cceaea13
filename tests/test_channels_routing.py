"""Routing: which channels a watch sends to, its own email recipients, urgent tags that skip
quiet hours and digests, and a failing channel that delays only itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import load_config
from monitor.models import Message
from monitor.notify.base import NotifyError
from monitor.notify.registry import build_notifiers
from monitor.outbox import Outbox
from monitor.poller import Poller
from monitor.rules import watch_channels
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed
from tests.smtp import SmtpSink

BACKLOG = [Item(f"50000{i:02d}", f"Cellectar Biosciences Reports Quarter {i} Results", tickers=("Nasdaq:CLRB",),
                text="Cellectar Biosciences reported financial results for the quarter.") for i in range(5)]  # fmt: skip
LICENSE = Item(
    "5000100",
    "Cellectar Biosciences Signs Exclusive License Agreement With WARF",
    text="Cellectar Biosciences, Inc. (NASDAQ: CLRB) today announced an exclusive license "
    "agreement with the Wisconsin Alumni Research Foundation (WARF) for iopofosine I 131.",
    tickers=("Nasdaq:CLRB",),
)
TRIAL = Item(
    "5000101",
    "Cellectar Biosciences Doses First Patient in Phase 2 Trial",
    text="Cellectar dosed the first patient in its Phase 2 trial of iopofosine.",
    tickers=("Nasdaq:CLRB",),
)
CHANNELS = """
[notify.email]
host = "127.0.0.1"
from = "biomon@test"
to = ["analyst@test"]
[notify.webhook]
url = "http://127.0.0.1:9/hook"
[notify.apprise.urls]
phone = "json://127.0.0.1:9/p"
"""


class Recorder:
    """A channel that keeps the titles it is given, or fails while `down`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[str] = []
        self.attempts = 0
        self.down = False

    def send(self, message: Message) -> None:
        self.attempts += 1
        if self.down:
            raise NotifyError("cannot connect to 127.0.0.1:9 (connection refused)", self.name)
        self.sent.append(message.title)

    def probe(self) -> str | None:
        return None


# ---- which channels a watch's alerts go to


@pytest.mark.parametrize(
    ("watch", "expected"),
    [
        ("", ["email", "webhook", "phone"]),
        ('channels = ["webhook"]', ["webhook"]),
        ('channels = ["apprise"]', ["phone"]),
        ('channels = ["phone", "email"]', ["phone", "email"]),
        ('email_to = ["bd@test"]', ["email:bd@test", "webhook", "phone"]),
        ('channels = ["email"]\nemail_to = ["ceo@test", "bd@test"]', ["email:bd@test,ceo@test"]),
        ('channels = ["desktop"]', []),  # named but not enabled
    ],
)  # fmt: skip
def test_watch_channels(write_config, watch, expected):
    text = config_text(["http://127.0.0.1:9/f.xml"], f'[[watch]]\nticker = "CLRB"\n{watch}\n')
    text += CHANNELS
    config = load_config(write_config(text))
    assert watch_channels(config.watch[0], config.notify.enabled) == expected


def test_email_to_channels_are_not_defaults_and_are_shared(write_config):
    watches = (
        '[[watch]]\nticker = "CLRB"\nemail_to = ["bd@test"]\n'
        '[[watch]]\nticker = "SNGX"\nemail_to = ["bd@test"]\n'
        '[[watch]]\nticker = "PTN"\n'
    )
    config = load_config(
        write_config(config_text(["http://127.0.0.1:9/f.xml"], watches) + CHANNELS)
    )
    routes = [c for c in config.notify.channels if c.route]
    assert [(c.name, c.setting("to"), c.setting("host")) for c in routes] == [
        ("email:bd@test", ("bd@test",), "127.0.0.1")
    ]
    assert "email:bd@test" not in config.notify.enabled
    assert "email:bd@test" in build_notifiers(config.notify)[0]


# ---- end to end: per-watch recipients through a real SMTP server


@pytest.fixture
def pipeline(server, write_config):
    """Feed server, config, store on a fixed clock, poller; the backlog already stored."""

    def make(watches: str, notify: str):
        url = server.add("f.xml", feed(*BACKLOG))
        config = load_config(write_config(config_text([url], watches) + notify))
        store = Store(config.storage.path, clock=lambda: "2026-11-25T16:05:00Z")
        poller = Poller.create(config, store)
        poller.poll()
        made.append((poller, store))
        return config, store, poller

    made = []
    yield make
    for poller, store in made:
        poller.client.close()
        store.close()


def publish(server, poller, *items: Item) -> None:
    server.add("f.xml", feed(*items, *BACKLOG))
    poller.poll(force=True)


def test_each_watch_mails_its_own_recipients_once(server, pipeline):
    sink = SmtpSink().start()
    try:
        watches = (
            '[[watch]]\nticker = "CLRB"\nalert_tags = ["licensing"]\n'
            '[[watch]]\nkeywords = ["WARF"]\nemail_to = ["bd@test", "ceo@test"]\n'
        )
        config, store, poller = pipeline(watches, sink.email_config())
        publish(server, poller, LICENSE)
        notifiers, _ = build_notifiers(config.notify)
        outbox = Outbox(store, config.notify, notifiers)
        assert outbox.deliver().sent == 2
        assert outbox.deliver().sent == 0
        assert sink.wait_for(lambda subjects: len(subjects) == 2)
        received = sorted((str(m["To"]), str(m["Subject"])) for m in sink.messages)
        assert [to for to, _ in received] == ["analyst@test", "bd@test, ceo@test"]
        assert all("License Agreement With WARF" in subject for _, subject in received)
        channels = sorted(a["channel"] for a in store.alert_rows())
        assert channels == ["email", "email:bd@test,ceo@test"]
    finally:
        sink.stop()


# ---- urgent tags skip quiet hours and digests


QUIET = """
[notify]
urgent_tags = ["licensing"]
[notify.email]
host = "127.0.0.1"
from = "biomon@test"
to = ["analyst@test"]
"""
WATCH = '[[watch]]\nticker = "CLRB"\nalert_tags = ["licensing", "trial"]\n'
NIGHT = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 23:00 in New York


def test_urgent_alert_skips_quiet_hours_others_wait(server, pipeline):
    notify = QUIET + 'quiet_hours = "22:00-07:00"\ntimezone = "America/New_York"\n'
    config, store, poller = pipeline(WATCH, notify)
    publish(server, poller, LICENSE, TRIAL)
    clock = [NIGHT]
    email = Recorder("email")
    outbox = Outbox(store, config.notify, {"email": email}, now=lambda: clock[0])
    report = outbox.deliver()
    assert report.sent == 1 and report.deferred == {"email": "quiet hours"}
    assert email.sent == [f"[CLRB] licensing: {LICENSE.title}"]
    clock[0] = datetime(2026, 11, 26, 12, 5, tzinfo=UTC)  # 07:05 in New York
    assert outbox.deliver().sent == 1 and email.sent[1] == f"[CLRB] trial: {TRIAL.title}"


def test_channel_urgent_tags_override_the_notify_ones(server, pipeline):
    notify = (
        QUIET + 'quiet_hours = "22:00-07:00"\ntimezone = "America/New_York"\nurgent_tags = []\n'
    )
    config, store, poller = pipeline(WATCH, notify)
    publish(server, poller, LICENSE)
    outbox = Outbox(store, config.notify, {"email": Recorder("email")}, now=lambda: NIGHT)
    assert outbox.deliver().sent == 0


def test_urgent_alert_skips_the_digest(server, pipeline):
    config, store, poller = pipeline(WATCH, QUIET + "digest_minutes = 60\n")
    publish(server, poller, LICENSE, TRIAL)
    created = datetime(2026, 11, 25, 16, 5, tzinfo=UTC)
    clock = [created + timedelta(minutes=5)]
    email = Recorder("email")
    outbox = Outbox(store, config.notify, {"email": email}, now=lambda: clock[0])
    report = outbox.deliver()
    assert report.sent == 1 and report.deferred["email"].startswith("digest due at")
    assert email.sent == [f"[CLRB] licensing: {LICENSE.title}"]
    clock[0] = created + timedelta(minutes=61)
    assert outbox.deliver().sent == 1
    assert email.sent[1] == "biomon digest: 1 alert (CLRB)"


# ---- one channel down delays only itself


def test_a_failing_channel_waits_out_its_backoff_alone(server, pipeline):
    notify = QUIET.replace("[notify]\nurgent_tags", "[notify]\nretry_base = 60\nurgent_tags")
    notify += '[notify.webhook]\nurl = "http://127.0.0.1:9/hook"\n'
    config, store, poller = pipeline(WATCH, notify)
    third = Item("5000102", "Cellectar Licenses A Second Asset To Partner", tickers=("Nasdaq:CLRB",),
                 text="Cellectar signed an exclusive license agreement for a second asset.")  # fmt: skip
    publish(server, poller, LICENSE, TRIAL, third)
    clock = [datetime(2026, 11, 25, 16, 6, tzinfo=UTC)]
    email, webhook = Recorder("email"), Recorder("webhook")
    email.down = True
    outbox = Outbox(
        store, config.notify, {"email": email, "webhook": webhook}, now=lambda: clock[0]
    )
    first = outbox.deliver()
    assert (first.sent, first.retrying, email.attempts) == (3, 1, 1)  # one try, not three
    second = outbox.deliver()
    assert email.attempts == 1 and second.deferred["email"].startswith(
        "retrying at 2026-11-25T16:07:00Z"
    )
    assert "connection refused" in second.deferred["email"]
    clock[0] += timedelta(seconds=61)
    email.down = False
    assert outbox.deliver().sent == 3 and len(email.sent) == 3 and len(webhook.sent) == 3
