"""The desktop channel on Linux: desktop-notifier over a real private D-Bus session.

Each test starts `dbus-run-session` with the small org.freedesktop.Notifications server of
tests/dbus_notify_server.py (dbus-fast) and points this process at that bus, so biomon talks
real D-Bus to a real server. A click is the server's ActionInvoked signal; the "browser" is
a script that records the URL it was asked to open.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.models import AlertContent, Facts, Message
from monitor.notify.base import NotifyError
from monitor.notify.desktop import DBUS, DesktopNotifier, LogNotifier
from monitor.store import Store
from tests.conftest import config_text
from tests.dbus_notify_server import start_session
from tests.gnw import Item, feed

pytest.importorskip("desktop_notifier", reason="the Linux desktop channel needs desktop-notifier")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="D-Bus is Linux's")

URL = "https://www.globenewswire.com/news-release/2026/11/25/4000100/0/en/x.html"
BACKLOG = [Item("7000100", "Cellectar Biosciences Reports Third Quarter Results",
                tickers=("Nasdaq:CLRB",), text="Cellectar reported results.")]  # fmt: skip


class PlainLinkItem(Item):
    """An item whose headline has markup characters but whose link is a plain slug."""

    @property
    def url(self) -> str:
        return (
            f"https://www.globenewswire.com/news-release/2026/11/25/{self.release_id}/0/en/x.html"
        )


NEW = PlainLinkItem("7000101", "Cellectar Signs <Exclusive> License & Supply Agreement With WARF",
                    tickers=("Nasdaq:CLRB",), text="Cellectar signed an exclusive license agreement with WARF.")  # fmt: skip


@pytest.fixture
def session(tmp_path, monkeypatch):
    """A private session bus with a notification server, joined by this process."""
    with start_session(tmp_path / "seen.jsonl") as running:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", running.address)
        yield running


@pytest.fixture
def opener(tmp_path) -> tuple[list[str], Path]:
    """A stand-in browser: the command line of a script that appends its argument to a file."""
    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            with open(sys.argv[1], "a", encoding="utf-8") as out:
                out.write(sys.argv[2] + "\\n")
            """
        )
    )
    return [sys.executable, str(script), str(opened)], opened


def content(**changes) -> AlertContent:
    values = dict(
        source="globenewswire",
        release_id="4000100",
        title="Cellectar Signs Exclusive License Agreement With WARF",
        url=URL,
        tickers=("NASDAQ:CLRB",),
        issuer="Cellectar Biosciences, Inc.",
        primary="licensing",
        tags=("licensing",),
        evidence=(),
        facts=Facts(),
        published_utc="2026-11-25T16:05:00Z",
        rule="CLRB",
        ticker="CLRB",
    )
    return AlertContent(**(values | changes))


def alert(title="CLRB · licensing", text="Cellectar signs", **changes) -> Message:
    return Message(title=title, text=text, html="", contents=(content(**changes),))


def wait_for(condition, seconds: float = 10.0) -> bool:
    """Poll `condition` until true; False when it never was (the assertion then fails)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_linux_sends_through_desktop_notifier():
    assert DesktopNotifier(platform="linux").backend == DBUS


def test_server_receives_title_escaped_body_and_a_default_action(session):
    DesktopNotifier().send(alert(text="-<b>R&D</b> update"))
    [seen] = session.seen()
    assert (seen["app_name"], seen["summary"]) == ("biomon", "CLRB · licensing")
    assert seen["body"] == "-&lt;b&gt;R&amp;D&lt;/b&gt; update"
    assert seen["actions"][:2] == ["default", ""]
    assert seen["expire_timeout"] == 10_000


def test_clicking_the_notification_opens_the_release_url(session, opener):
    command, opened = opener
    DesktopNotifier(open_command=command).send(alert())
    [seen] = session.seen()
    session.click(seen["id"])
    assert wait_for(lambda: lines(opened) == [URL]), lines(opened)


def test_other_actions_and_dismissals_open_nothing(session, opener):
    command, opened = opener
    notifier = DesktopNotifier(open_command=command)
    notifier.send(alert())
    notifier.send(alert())
    first, second = session.seen()
    session.click(first["id"], "some-button")
    session.dismiss(second["id"])
    session.click(second["id"])  # already dismissed: forgotten
    session.click(999)  # another application's notification
    notifier.send(alert(url="https://example.org/third"))
    session.click(session.seen()[2]["id"])
    assert wait_for(lambda: lines(opened) == ["https://example.org/third"]), lines(opened)


def test_a_non_http_url_is_not_opened(session, opener, caplog):
    command, opened = opener
    DesktopNotifier(open_command=command).send(alert(url="file:///etc/passwd"))
    session.click(session.seen()[0]["id"])
    assert wait_for(lambda: "not an http(s) URL" in caplog.text), caplog.text
    assert lines(opened) == []


def test_a_missing_opener_is_one_line_in_the_log(session, tmp_path, caplog):
    missing = str(tmp_path / "no-such-browser")
    DesktopNotifier(open_command=[missing]).send(alert())
    session.click(session.seen()[0]["id"])
    assert wait_for(lambda: "cannot open" in caplog.text), caplog.text
    [record] = [r for r in caplog.records if "cannot open" in r.getMessage()]
    assert record.getMessage() == (
        f"cannot open {URL}: {missing} (No such file or directory); "
        "set [notify.desktop] open_command"
    )


def test_a_server_that_never_answers_times_out_with_one_line(tmp_path, monkeypatch):
    with start_session(tmp_path / "seen.jsonl", mode="stall") as stalled:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", stalled.address)
        notifier = DesktopNotifier(deadline=1)
        with pytest.raises(NotifyError) as raised:
            notifier.send(alert())
    assert str(raised.value) == (
        "the desktop notification server did not finish within 1s (total deadline); "
        "the alert will be retried"
    )


def test_abort_ends_a_stalled_send_at_once(tmp_path, monkeypatch):
    with start_session(tmp_path / "seen.jsonl", mode="stall") as stalled:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", stalled.address)
        notifier = DesktopNotifier(deadline=60)
        threading.Timer(0.5, notifier.abort).start()
        with pytest.raises(NotifyError, match="aborted: biomon is stopping"):
            notifier.send(alert())


def test_sending_with_no_server_on_the_bus_raises_one_line(tmp_path, monkeypatch):
    with start_session(tmp_path / "seen.jsonl", mode="absent") as empty:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", empty.address)
        with pytest.raises(NotifyError) as raised:
            DesktopNotifier().send(alert())
    assert str(raised.value) == (
        "desktop notification not shown: no notification server on the session bus "
        "(nothing provides org.freedesktop.Notifications)"
    )


def test_no_server_on_the_bus_probes_to_one_line(tmp_path, monkeypatch):
    with start_session(tmp_path / "seen.jsonl", mode="absent") as empty:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", empty.address)
        reason = DesktopNotifier().probe()
    assert reason == (
        "no desktop notifications: no notification server on the session bus "
        "(nothing provides org.freedesktop.Notifications) — alerts go to the log"
    )


@pytest.fixture
def polled_config(server, write_config):
    """A config watching CLRB with only the desktop channel on; the backlog already stored."""

    def make(notify: str) -> Path:
        url = server.add("f.xml", feed(*BACKLOG))
        watch = '[[watch]]\nticker = "CLRB"\nalert_tags = ["licensing"]\n'
        path = write_config(config_text([url], watch) + notify)
        first = CliRunner().invoke(cli, ["--config", str(path), "poll", "--once"])
        assert first.exit_code == 0, first.output
        server.add("f.xml", feed(NEW, *BACKLOG))
        return path

    return make


def test_poll_once_pops_up_the_new_release_and_a_click_opens_it(
    session, opener, polled_config, caplog
):
    command, opened = opener
    open_command = " ".join(command)
    path = polled_config(f'[notify.desktop]\nenabled = true\nopen_command = "{open_command}"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "poll", "--once", "--force"])
    assert result.exit_code == 0, result.output
    assert "alerts: 1 sent" in result.output
    [seen] = session.seen()
    assert seen["summary"] == "CLRB · licensing"
    assert seen["body"].startswith("Cellectar Signs &lt;Exclusive&gt; License &amp; Supply")
    assert seen["actions"][:2] == ["default", ""]
    session.click(seen["id"])  # the channel's loop outlives the command in this process
    assert wait_for(lambda: lines(opened) == [NEW.url]), (lines(opened), caplog.text)
    again = CliRunner().invoke(cli, ["--config", str(path), "poll", "--once", "--force"])
    assert again.exit_code == 0 and len(session.seen()) == 1  # no duplicate


def test_poll_without_a_server_says_so_once_and_logs_the_alert(
    tmp_path, monkeypatch, polled_config
):
    path = polled_config("[notify.desktop]\nenabled = true\n")
    with start_session(tmp_path / "seen.jsonl", mode="absent") as empty:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", empty.address)
        result = CliRunner().invoke(cli, ["--config", str(path), "poll", "--once", "--force"])
    assert result.exit_code == 0, result.output
    reason = (
        "no desktop notifications: no notification server on the session bus "
        "(nothing provides org.freedesktop.Notifications) — alerts go to the log"
    )
    assert result.output.count(reason) == 1
    assert "alerts: 0 sent, 1 logged" in result.output


def test_a_stalled_server_leaves_the_alert_pending(tmp_path, monkeypatch, polled_config):
    path = polled_config("[notify.desktop]\nenabled = true\ntimeout = 1\n")
    with start_session(tmp_path / "seen.jsonl", mode="stall") as stalled:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", stalled.address)
        result = CliRunner().invoke(cli, ["--config", str(path), "poll", "--once", "--force"])
    assert result.exit_code == 0, result.output
    assert "did not finish within 1s (total deadline); the alert will be retried" in result.output
    assert "1 to retry" in result.output
    store = Store(tmp_path / "biomon.db")
    try:
        assert [a["status"] for a in store.alert_rows(None, 10)] == ["pending"]
    finally:
        store.close()


def test_log_fallback_is_what_the_probe_chooses(tmp_path, monkeypatch):
    from monitor.config import ChannelConfig
    from monitor.notify.registry import build_channel

    with start_session(tmp_path / "seen.jsonl", mode="absent") as empty:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", empty.address)
        notifier, warning = build_channel(ChannelConfig(name="desktop", enabled=True))
    assert (
        isinstance(notifier, LogNotifier) and warning and warning.endswith("alerts go to the log")
    )
