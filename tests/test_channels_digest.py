"""Daily digests: `digest = "daily 07:30"` in the channel's time zone, urgent alerts excepted."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from monitor.config import ChannelConfig, load_config
from monitor.errors import ConfigError
from monitor.outbox import Outbox, daily_moments
from monitor.poller import Poller
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import feed
from tests.test_channels_routing import BACKLOG, LICENSE, TRIAL, Recorder

DAILY = """
[notify.email]
host = "127.0.0.1"
from = "biomon@test"
to = ["analyst@test"]
digest = "daily 07:30"
timezone = "America/New_York"
"""
WATCH = '[[watch]]\nticker = "CLRB"\nalert_tags = ["licensing", "trial"]\n'


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    ("now", "latest", "following"),
    [
        ("2026-11-25T17:00:00Z", "2026-11-25T12:30:00Z", "2026-11-26T12:30:00Z"),
        ("2026-11-25T12:00:00Z", "2026-11-24T12:30:00Z", "2026-11-25T12:30:00Z"),
        ("2026-11-25T12:30:00Z", "2026-11-25T12:30:00Z", "2026-11-26T12:30:00Z"),
        # Daylight saving time starts on 2026-03-08: 07:30 stays 07:30, the UTC hour moves.
        ("2026-03-08T12:00:00Z", "2026-03-08T11:30:00Z", "2026-03-09T11:30:00Z"),
        ("2026-03-08T11:00:00Z", "2026-03-07T12:30:00Z", "2026-03-08T11:30:00Z"),
    ],
)
def test_daily_moments_are_local_wall_clock(now, latest, following):
    channel = ChannelConfig(name="email", timezone="America/New_York", digest_at=_at("07:30"))
    assert daily_moments(channel, utc(now)) == (utc(latest), utc(following))


def _at(text: str) -> time:
    return time.fromisoformat(text)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('digest = "weekly"', "notify.email.digest: 'weekly': write \"daily 07:30\""),
        ('digest = "daily 25:00"', "notify.email.digest: 'daily 25:00'"),
        ('digest = "daily 07:30"\ndigest_minutes = 60', "set digest or digest_minutes, not both"),
    ],
)
def test_bad_daily_digests_are_config_errors(write_config, setting, expected):
    text = DAILY.replace('digest = "daily 07:30"', setting)
    with pytest.raises(ConfigError, match=expected.replace("(", "\\(")):
        load_config(write_config(config_text(["http://127.0.0.1:9/f.xml"], WATCH) + text))


@pytest.fixture
def daily(server, write_config):
    """A poller whose store's clock the test moves, the backlog stored, and the outbox's clock."""
    stamp = ["2026-11-25T16:05:00Z"]

    def make(notify: str):
        url = server.add("f.xml", feed(*BACKLOG))
        config = load_config(write_config(config_text([url], WATCH) + notify))
        store = Store(config.storage.path, clock=lambda: stamp[0])
        poller = Poller.create(config, store)
        poller.poll()
        opened.append((poller, store))
        return config, store, poller

    opened = []
    yield make, stamp
    for poller, store in opened:
        poller.client.close()
        store.close()


def test_a_daily_digest_goes_out_once_after_its_time(server, daily):
    make, stamp = daily
    config, store, poller = make(DAILY)
    server.add("f.xml", feed(LICENSE, *BACKLOG))
    poller.poll(force=True)  # 11:05 in New York: waits for tomorrow's 07:30
    clock = [utc("2026-11-25T17:00:00Z")]
    email = Recorder("email")
    outbox = Outbox(store, config.notify, {"email": email}, now=lambda: clock[0])
    assert outbox.deliver().deferred == {"email": "digest due at 2026-11-26T12:30:00Z"}
    stamp[0] = "2026-11-26T12:00:00Z"  # 07:00: still before the digest
    server.add("f.xml", feed(TRIAL, LICENSE, *BACKLOG))
    poller.poll(force=True)
    clock[0] = utc("2026-11-26T12:31:00Z")
    assert outbox.deliver().sent == 2
    assert email.sent == ["biomon digest: 2 alerts (CLRB)"]
    assert outbox.deliver().sent == 0 and len(email.sent) == 1


def test_an_alert_after_the_digest_waits_for_the_next_one(server, daily):
    make, stamp = daily
    config, store, poller = make(DAILY)
    stamp[0] = "2026-11-26T12:40:00Z"  # 07:40, ten minutes after the digest time
    server.add("f.xml", feed(LICENSE, *BACKLOG))
    poller.poll(force=True)
    outbox = Outbox(
        store, config.notify, {"email": Recorder("email")}, now=lambda: utc("2026-11-26T13:00:00Z")
    )
    assert outbox.deliver().deferred == {"email": "digest due at 2026-11-27T12:30:00Z"}


def test_urgent_alerts_skip_the_daily_digest(server, daily):
    make, _ = daily
    config, store, poller = make('[notify]\nurgent_tags = ["licensing"]\n' + DAILY)
    server.add("f.xml", feed(LICENSE, TRIAL, *BACKLOG))
    poller.poll(force=True)
    email = Recorder("email")
    outbox = Outbox(store, config.notify, {"email": email}, now=lambda: utc("2026-11-25T17:00:00Z"))
    report = outbox.deliver()
    assert report.sent == 1 and email.sent == [f"[CLRB] licensing: {LICENSE.title}"]
    assert report.deferred == {"email": "digest due at 2026-11-26T12:30:00Z"}
