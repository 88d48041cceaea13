"""Watchlist rules and the outbox: backlog without alerts, one alert per release and channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import load_config
from monitor.models import Message
from monitor.notify.base import NotifyError
from monitor.outbox import Outbox, in_quiet_hours
from monitor.poller import Poller
from monitor.schema import title_key
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed

LICENSE_TEXT = (
    "FLORHAM PARK, N.J., Nov. 25, 2026 (GLOBE NEWSWIRE) -- Cellectar Biosciences, Inc. "
    "(NASDAQ: CLRB) today announced an exclusive license agreement with the Wisconsin Alumni "
    "Research Foundation (WARF) to develop and commercialize iopofosine I 131 radiopharmaceutical."
)
BACKLOG = [
    Item(f"40000{i:02d}", f"Cellectar Biosciences Reports Quarter {i} Results", tickers=("Nasdaq:CLRB",),
         text="Cellectar Biosciences reported financial results for the quarter.")
    for i in range(20)
]  # fmt: skip
NEW = Item(
    "4000100",
    "Cellectar Biosciences Signs Exclusive License Agreement With WARF",
    text=LICENSE_TEXT,
    tickers=("Nasdaq:CLRB",),
    pub_date="Wed, 25 Nov 2026 16:05 GMT",
)
WATCH = """
[[watch]]
ticker = "CLRB"
alert_tags = ["licensing", "grant", "trial"]
[notify.email]
enabled = true
host = "127.0.0.1"
port = 1
security = "none"
from = "biomon <biomon@example.com>"
to = ["analyst@example.com"]
"""


class Recorder:
    """A channel that keeps what it is given (for the queue's own logic; SMTP has its own tests)."""

    name = "email"

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.down = False

    def send(self, message: Message) -> None:
        if self.down:
            raise NotifyError("cannot connect to 127.0.0.1:1 (connection refused)")
        self.sent.append(message)

    def probe(self) -> str | None:
        return None


@pytest.fixture
def setup(server, write_config):
    url = server.add("nasdaq.xml", feed(*BACKLOG))
    config = load_config(write_config(config_text([url], WATCH)))
    # The outbox tests run on fixed clocks: the store's must agree with them whatever the date.
    store = Store(config.storage.path, clock=lambda: "2026-11-25T16:05:00Z")
    poller = Poller.create(config, store)
    yield server, config, store, poller
    poller.client.close()
    store.close()


def pending(store: Store) -> list[dict]:
    return list(store.db.query("SELECT * FROM alerts WHERE status = 'pending'"))


def test_first_poll_stores_the_backlog_without_alerting(setup):
    server, config, store, poller = setup
    assert poller.poll().feeds[0].new == 20
    assert store.db["alerts"].count == 0


def test_new_release_after_the_backlog_alerts_once(setup):
    server, config, store, poller = setup
    poller.poll()
    server.add("nasdaq.xml", feed(NEW, *BACKLOG[:19]))
    assert poller.poll(force=True).feeds[0].new == 1
    alerts = pending(store)
    assert [(a["channel"], a["rule"], a["ticker"]) for a in alerts] == [("email", "CLRB", "CLRB")]
    # Polling the same feed again, even a changed copy of it, queues nothing more.
    server.add("nasdaq.xml", feed(NEW, *BACKLOG[:18]))
    poller.poll(force=True)
    assert store.db["alerts"].count == 1


def test_release_outside_alert_tags_stores_without_alert(setup):
    server, config, store, poller = setup
    poller.poll()
    earnings = Item("4000200", "Cellectar Biosciences Reports Third Quarter 2026 Financial Results",
                    tickers=("Nasdaq:CLRB",), text="Cellectar reported a net loss of $5 million.")  # fmt: skip
    server.add("nasdaq.xml", feed(earnings, *BACKLOG))
    assert poller.poll(force=True).feeds[0].new == 1
    assert store.db["alerts"].count == 0


def test_update_of_a_release_does_not_alert_twice(setup):
    server, config, store, poller = setup
    poller.poll()
    server.add("nasdaq.xml", feed(NEW, *BACKLOG))
    poller.poll(force=True)
    update = Item("4000101", "UPDATE -- " + NEW.title, text=LICENSE_TEXT, tickers=("Nasdaq:CLRB",),
                  pub_date="Wed, 25 Nov 2026 17:10 GMT")  # fmt: skip
    server.add("nasdaq.xml", feed(update, NEW, *BACKLOG))
    assert poller.poll(force=True).feeds[0].new == 1
    assert store.db["alerts"].count == 1
    copy = store.get("4000101")[0]
    assert copy["duplicate_of"] == store.get("4000100")[0]["id"]


def test_title_key_drops_update_and_correction_prefixes():
    assert title_key("UPDATE -- Cellectar Signs License") == title_key("Cellectar Signs License")
    assert (
        title_key("CORRECTING and REPLACING: Cellectar, Signs License") == "cellectar signs license"
    )


def test_catch_up_stores_without_alerting(setup):
    server, config, store, poller = setup
    poller.poll()
    server.add("nasdaq.xml", feed(NEW, *BACKLOG))
    poller.catch_up = True
    poller.poll(force=True)
    assert store.get("4000100") and store.db["alerts"].count == 0


def test_keyword_rule_without_ticker_and_exclude(server, write_config):
    rule = """
[[watch]]
alert_tags = ["licensing"]
keywords = ["radiopharmaceutical", "iopofosine I 131"]
exclude = ["terminated"]
[notify.email]
enabled = true
host = "127.0.0.1"
from = "a@example.com"
to = ["b@example.com"]
"""
    url = server.add("f.xml", feed(BACKLOG[0]))
    config = load_config(write_config(config_text([url], rule)))
    store = Store(config.storage.path)
    poller = Poller.create(config, store)
    poller.poll()
    other = Item(
        "4000300",
        "Acme Licenses Antibody",
        text="Acme (NASDAQ: ACME) signed an exclusive license agreement for an antibody.",
    )
    ended = Item(
        "4000301",
        "Beta Terminated License",
        text="Beta terminated its exclusive license agreement for a radiopharmaceutical.",
    )
    server.add("f.xml", feed(NEW, other, ended, BACKLOG[0]))
    poller.poll(force=True)
    alerts = pending(store)
    assert len(alerts) == 1
    assert alerts[0]["rule"] == "licensing + radiopharmaceutical + iopofosine I 131"
    poller.client.close()


def test_outbox_retries_with_backoff_then_delivers_once(setup):
    server, config, store, poller = setup
    poller.poll()
    server.add("nasdaq.xml", feed(NEW, *BACKLOG))
    poller.poll(force=True)
    clock = [datetime(2026, 11, 25, 16, 6, tzinfo=UTC)]
    recorder = Recorder()
    outbox = Outbox(store, config.notify, {"email": recorder}, now=lambda: clock[0])
    recorder.down = True
    report = outbox.deliver()
    assert (report.sent, report.retrying) == (0, 1)
    assert "connection refused" in report.errors[0]
    assert outbox.deliver().sent == 0  # not due yet: backoff
    clock[0] += timedelta(seconds=31)
    recorder.down = False
    assert outbox.deliver().sent == 1
    assert outbox.deliver().sent == 0  # never twice
    assert len(recorder.sent) == 1
    assert recorder.sent[0].title.startswith("[CLRB] licensing: Cellectar Biosciences Signs")


def test_alert_fails_after_max_attempts_with_its_reason(setup):
    server, config, store, poller = setup
    poller.poll()
    server.add("nasdaq.xml", feed(NEW, *BACKLOG))
    poller.poll(force=True)
    clock = [datetime(2026, 11, 25, 16, 6, tzinfo=UTC)]
    recorder = Recorder()
    recorder.down = True
    outbox = Outbox(store, config.notify, {"email": recorder}, now=lambda: clock[0])
    for _ in range(config.notify.max_attempts):
        outbox.deliver()
        clock[0] += timedelta(hours=2)
    row = next(store.db.query("SELECT * FROM alerts"))
    assert row["status"] == "failed" and "connection refused" in row["last_error"]


def test_crash_between_claim_and_mark_is_recovered_and_sent_once(setup):
    server, config, store, poller = setup
    poller.poll()
    server.add("nasdaq.xml", feed(NEW, *BACKLOG))
    poller.poll(force=True)
    # A deliverer claimed the alert and died before sending.
    store.db.execute("UPDATE alerts SET status = 'sending', claimed_at = '2026-11-25T16:00:00Z'")
    recorder = Recorder()
    clock = [datetime(2026, 11, 25, 16, 30, tzinfo=UTC)]
    outbox = Outbox(store, config.notify, {"email": recorder}, now=lambda: clock[0])
    assert outbox.deliver().sent == 0  # a claimed alert is never sent by another deliverer
    assert outbox.recover() == 1
    assert outbox.deliver().sent == 1 and len(recorder.sent) == 1


def test_quiet_hours_defer_then_deliver(setup, write_config):
    server, config, store, poller = setup
    quiet = WATCH.replace(
        "[notify.email]\n",
        '[notify.email]\nquiet_hours = "22:00-07:00"\ntimezone = "America/New_York"\n',
    )
    config = load_config(
        write_config(config_text([server.url("nasdaq.xml")], quiet), name="q.toml")
    )
    poller.config = config
    poller.poll()
    server.add("nasdaq.xml", feed(NEW, *BACKLOG))
    poller.poll(force=True)
    night = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 23:00 in New York
    assert in_quiet_hours(config.notify.channel("email"), night)
    clock = [night]
    recorder = Recorder()
    outbox = Outbox(store, config.notify, {"email": recorder}, now=lambda: clock[0])
    report = outbox.deliver()
    assert report.sent == 0 and report.deferred == {"email": "quiet hours"}
    clock[0] = datetime(2026, 11, 26, 12, 5, tzinfo=UTC)  # 07:05 in New York
    assert outbox.deliver().sent == 1


def test_digest_gathers_alerts_into_one_message(setup, write_config):
    server, config, store, poller = setup
    digest = WATCH.replace("[notify.email]\n", "[notify.email]\ndigest_minutes = 60\n")
    config = load_config(
        write_config(config_text([server.url("nasdaq.xml")], digest), name="d.toml")
    )
    poller.config = config
    poller.poll()
    more = [Item(f"40005{i:02d}", f"Cellectar Biosciences Announces Phase 2 Trial Result {i}",
                 tickers=("Nasdaq:CLRB",), text="Cellectar dosed the first patient in its Phase 2 trial of iopofosine.")
            for i in range(2)]  # fmt: skip
    server.add("nasdaq.xml", feed(NEW, *more, *BACKLOG))
    poller.poll(force=True)
    created = datetime.strptime(pending(store)[0]["created"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC
    )
    clock = [created + timedelta(minutes=10)]
    recorder = Recorder()
    outbox = Outbox(store, config.notify, {"email": recorder}, now=lambda: clock[0])
    report = outbox.deliver()
    assert report.sent == 0 and report.deferred["email"].startswith("digest due at")
    clock[0] = created + timedelta(minutes=61)
    assert outbox.deliver().sent == 3
    assert len(recorder.sent) == 1 and "3 alerts" in recorder.sent[0].title


def test_notify_test_sends_through_a_real_smtp_server_and_names_failures(write_config):
    from click.testing import CliRunner

    from monitor.cli import cli
    from tests.smtp import SmtpSink, free_port

    sink = SmtpSink().start()
    try:
        path = write_config(config_text(["http://127.0.0.1:1/x"]) + sink.email_config())
        result = CliRunner().invoke(
            cli, ["--config", str(path), "notify-test", "--channel", "email"]
        )
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "email: sent"
        assert sink.subjects() == ["[TEST] other: biomon test alert: your notifications work"]
    finally:
        sink.stop()
    closed = write_config(
        config_text(["http://127.0.0.1:1/x"])
        + sink.email_config().replace(f"port = {sink.port}", f"port = {free_port()}"),
        name="closed.toml",
    )
    result = CliRunner().invoke(cli, ["--config", str(closed), "notify-test", "--channel", "email"])
    assert result.exit_code == 1
    assert result.output.startswith("email: FAILED cannot connect to 127.0.0.1:")


def test_watch_with_a_saved_query_alerts_only_on_matches(server, write_config):
    rule = """
[queries]
radiopharma-deals = 'tag:licensing (radiopharm* OR radioligand)'
[[watch]]
query = "@radiopharma-deals"
[notify.email]
enabled = true
host = "127.0.0.1"
from = "a@example.com"
to = ["b@example.com"]
"""
    url = server.add("f.xml", feed(BACKLOG[0]))
    config = load_config(write_config(config_text([url], rule)))
    store = Store(config.storage.path)
    poller = Poller.create(config, store)
    poller.poll()
    other = Item(
        "4000400",
        "Acme Licenses Antibody",
        text="Acme (NASDAQ: ACME) signed an exclusive license agreement for an antibody.",
    )
    server.add("f.xml", feed(NEW, other, BACKLOG[0]))
    poller.poll(force=True)
    alerts = pending(store)
    assert [(a["release"], a["rule"]) for a in alerts] == [
        (store.get("4000100")[0]["id"], "@radiopharma-deals")
    ]
    poller.client.close()


def test_alert_that_only_reached_the_log_is_logged_not_sent(setup):
    from monitor.notify.desktop import LogNotifier

    server, config, store, poller = setup
    poller.poll()
    server.add("nasdaq.xml", feed(NEW, *BACKLOG))
    poller.poll(force=True)
    outbox = Outbox(store, config.notify, {"email": LogNotifier()},
                    now=lambda: datetime(2026, 11, 25, 16, 6, tzinfo=UTC))  # fmt: skip
    report = outbox.deliver()
    assert (report.sent, report.other) == (0, {"logged": 1})
    assert [a["status"] for a in store.alert_rows()] == ["logged"]
    assert outbox.deliver().other == {}  # done: never again
