"""Catalyst reminders and moved-date alerts: once per catalyst, day and channel, through the
outbox to a real webhook receiver on 127.0.0.1, with two deliverers and restarts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from monitor.config import load_config
from monitor.outbox import Outbox, build_notifiers
from monitor.reminders import catalyst_upkeep, due_reminder
from monitor.store import Store
from tests.receiver import Receiver
from tests.test_catalyst_store import pdufa, save


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def config(tmp_path, receiver):
    path = tmp_path / "biomon.toml"
    path.write_text(
        '[storage]\npath = "b.db"\n[poll]\nfeeds = ["http://127.0.0.1:1/x"]\n'
        f'[notify.webhook]\nurl = "{receiver.url()}"\n'
        '[[watch]]\nticker = "ACME"\nremind_days = [7, 1]\n'
        '[catalysts]\nics_path = "cal/catalysts.ics"\n'
    )
    loaded = load_config(path)
    with Store(loaded.storage.path) as store:
        save(store, pdufa("1", "March 15, 2026", "2025-05-01T12:00:00Z"))
    return loaded


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def deliver(config, when: datetime) -> int:
    """One deliverer (its own connection and token), as another process would be."""
    with Store(config.storage.path) as store:
        notifiers, _ = build_notifiers(config.notify)
        return Outbox(store, config.notify, notifiers, now=lambda: when).deliver().sent


def upkeep(config, when: datetime):
    with Store(config.storage.path) as store:
        return catalyst_upkeep(config, store, when)


def bodies(receiver: Receiver) -> list[str]:
    return [request.body.decode("utf-8") for request in receiver.requests]


def test_a_reminder_goes_out_once_across_processes_and_restarts(config, receiver):
    when = at("2026-03-08T09:00:00")
    assert upkeep(config, when).reminders == 1
    assert upkeep(config, when).reminders == 0  # a second process, or a restart: nothing new
    assert deliver(config, when) + deliver(config, when) == 1
    assert upkeep(config, at("2026-03-09T09:00:00")).reminders == 0
    assert deliver(config, at("2026-03-09T09:00:00")) == 0
    [body] = bodies(receiver)
    assert "catalyst in 7 day(s)" in body and "zorbalimab" in body
    assert "March 15, 2026" in body and "https://example.test/1" in body


def test_the_one_day_reminder_follows_the_seven_day_one(config, receiver):
    upkeep(config, at("2026-03-08T09:00:00"))
    deliver(config, at("2026-03-08T09:00:00"))
    assert upkeep(config, at("2026-03-14T09:00:00")).reminders == 1
    deliver(config, at("2026-03-14T09:00:00"))
    assert ["in 7 day(s)" in b for b in bodies(receiver)] == [True, False]
    assert "in 1 day(s)" in bodies(receiver)[1]


def test_a_moved_date_alerts_and_re_arms_the_reminder(config, receiver):
    upkeep(config, at("2026-03-08T09:00:00"))
    deliver(config, at("2026-03-08T09:00:00"))
    with Store(config.storage.path) as store:
        save(store, pdufa("2", "June 15, 2026", "2026-03-09T12:00:00Z"))
    result = upkeep(config, at("2026-03-09T13:00:00"))
    assert (result.reminders, result.moved) == (0, 1)
    deliver(config, at("2026-03-09T13:00:00"))
    assert "catalyst moved" in bodies(receiver)[1] and "2026-03-15" in bodies(receiver)[1]
    assert upkeep(config, at("2026-06-08T09:00:00")).reminders == 1  # for the new date
    assert upkeep(config, at("2026-06-08T10:00:00")).reminders == 0


def test_the_ics_file_is_rewritten_only_when_it_changes(config):
    path = config.ics_path
    assert upkeep(config, at("2026-03-01T09:00:00")).ics_written
    assert path.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    assert not upkeep(config, at("2026-03-01T10:00:00")).ics_written
    with Store(config.storage.path) as store:
        save(store, pdufa("2", "June 15, 2026", "2026-03-02T12:00:00Z"))
    assert upkeep(config, at("2026-03-02T13:00:00")).ics_written
    assert b"20260615" in path.read_bytes()


@pytest.mark.parametrize(
    ("today", "expected"),
    [("2026-03-01", None), ("2026-03-08", 7), ("2026-03-13", 7), ("2026-03-14", 1),
     ("2026-03-15", 1), ("2026-03-16", None)],
)  # fmt: skip
def test_due_reminder_is_the_nearest_passed_day(today, expected):
    assert due_reminder(date(2026, 3, 15), (7, 1), date.fromisoformat(today)) == expected


def test_bad_remind_days_is_a_config_error(tmp_path):
    from monitor.errors import ConfigError

    path = tmp_path / "biomon.toml"
    path.write_text('[storage]\npath = "b.db"\n[[watch]]\nticker = "ACME"\nremind_days = ["7"]\n')
    with pytest.raises(ConfigError, match="remind_days"):
        load_config(path)
