"""The plyer path of the desktop channel (macOS, Windows; Linux without desktop-notifier), the
probe, and the log fallback. The desktop-notifier path is in test_desktop_dbus.py.

`dbus-run-session` gives a private session bus; on it a small org.freedesktop.Notifications
server (dbus-fast) records what it is sent, and a child process uses DesktopNotifier with the
plyer backend, so plyer takes its real Linux path (dbus-python, else notify-send). System packages: dbus-daemon (for
dbus-run-session), dbus-bin (dbus-send, used by the probe) and libnotify-bin (notify-send).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from monitor.models import Message
from monitor.notify.base import NotifyError
from monitor.notify.desktop import PLYER, DesktopNotifier, LogNotifier, default_backend

SERVER = textwrap.dedent(
    """
    import asyncio, json, sys
    from dbus_fast.aio import MessageBus
    from dbus_fast.service import ServiceInterface, method

    record_path = sys.argv[1]

    class Notifications(ServiceInterface):
        def __init__(self):
            super().__init__("org.freedesktop.Notifications")
            self.last_id = 0

        @method()
        def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s",
                   body: "s", actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":
            self.last_id += 1
            with open(record_path, "a", encoding="utf-8") as out:
                out.write(json.dumps({"app_name": app_name, "summary": summary, "body": body,
                                      "expire_timeout": expire_timeout}) + "\\n")
            return self.last_id

        @method()
        def GetCapabilities(self) -> "as":
            return ["body", "body-markup"]

        @method()
        def GetServerInformation(self) -> "ssss":
            return ["biomon-test", "biomon", "0", "1.2"]

        @method()
        def CloseNotification(self, notification_id: "u"):
            pass

    async def main():
        bus = await MessageBus().connect()
        bus.export("/org/freedesktop/Notifications", Notifications())
        await bus.request_name("org.freedesktop.Notifications")
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)

# Runs inside the session: start the server (unless told "-"), send one notification with biomon.
DRIVER = textwrap.dedent(
    """
    import subprocess, sys
    from monitor.models import Message
    from monitor.notify.base import NotifyError
    from monitor.notify.desktop import DesktopNotifier

    server_py, record, title, body = sys.argv[1:5]
    server = None
    if server_py != "-":
        server = subprocess.Popen([sys.executable, server_py, record], stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "ready", "notification server did not start"
    try:
        notifier = DesktopNotifier(backend="plyer")
        print("probe:", notifier.probe(), flush=True)
        try:
            notifier.send(Message(title=title, text=body, html=""))
            print("sent", flush=True)
        except NotifyError as error:
            print("raised:", error, flush=True)
    finally:
        if server:
            server.terminate()
            server.wait(5)
    """
)


def _require_session_tools() -> None:
    missing = [tool for tool in ("dbus-run-session", "dbus-daemon") if not shutil.which(tool)]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt install dbus-daemon)")
    if not shutil.which("notify-send"):
        try:
            import dbus  # noqa: F401
        except ImportError:
            pytest.skip("plyer has no backend: install notify-send (apt install libnotify-bin)")
    pytest.importorskip("dbus_fast", reason="the test notification server needs dbus-fast")


def _send_in_session(
    tmp_path: Path, title: str, body: str, with_server: bool = True
) -> tuple[list[dict], str]:
    server, driver, record = tmp_path / "server.py", tmp_path / "driver.py", tmp_path / "seen.jsonl"
    server.write_text(SERVER)
    driver.write_text(DRIVER)
    server_arg = str(server) if with_server else "-"
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [
            "dbus-run-session",
            "--",
            sys.executable,
            str(driver),
            server_arg,
            str(record),
            title,
            body,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seen = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return seen, done.stdout


def test_notification_reaches_the_session_notification_server(tmp_path):
    _require_session_tools()
    seen, output = _send_in_session(tmp_path, "CLRB · licensing", "Cellectar expands collaboration")
    assert "probe: None" in output and "sent" in output
    assert [(n["summary"], n["body"]) for n in seen] == [
        ("CLRB · licensing", "Cellectar expands collaboration")
    ]


def test_bus_without_notification_server_is_reported_not_silently_sent(tmp_path):
    # plyer's notify-send path returns normally here: notify-send fails, its exit code is ignored.
    _require_session_tools()
    if not shutil.which("dbus-send"):
        pytest.skip("dbus-send not installed (apt install dbus-bin)")
    seen, output = _send_in_session(tmp_path, "CLRB · licensing", "body", with_server=False)
    reason = (
        "no desktop notifications: no notification server on the session bus "
        "(nothing provides org.freedesktop.Notifications) — alerts go to the log"
    )
    assert seen == []
    assert f"probe: {reason}" in output
    assert f"raised: {reason}" in output


def test_body_is_escaped_for_markup_servers(tmp_path):
    _require_session_tools()
    seen, _ = _send_in_session(tmp_path, "SNGX · fda", "-<b>R&D</b> update")
    assert seen[0]["body"] == "&lt;b&gt;R&amp;D&lt;/b&gt; update"


def test_probe_reports_missing_session_bus(tmp_path):
    notifier = DesktopNotifier(environ={"XDG_RUNTIME_DIR": str(tmp_path), "PATH": os.defpath})
    reason = notifier.probe()
    assert reason == (
        "no desktop notifications: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset, "
        f"no {tmp_path}/bus) — alerts go to the log"
    )


def test_send_without_session_bus_raises_the_probe_reason(monkeypatch, tmp_path):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    notifier = DesktopNotifier(backend=PLYER)
    with pytest.raises(NotifyError) as raised:
        notifier.send(Message(title="CLRB · licensing", text="body", html=""))
    assert str(raised.value) == notifier.probe()
    assert "\n" not in str(raised.value)


def test_dbus_send_without_session_bus_raises_one_line(monkeypatch, tmp_path):
    pytest.importorskip("desktop_notifier")
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(NotifyError) as raised:
        DesktopNotifier(platform="linux").send(Message(title="CLRB", text="body", html=""))
    assert str(raised.value).startswith(
        "desktop notification not shown: cannot reach the D-Bus session bus ("
    )
    assert "\n" not in str(raised.value)


def test_probe_reports_stale_bus_address(tmp_path):
    notifier = DesktopNotifier(environ={"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/gone"})
    assert notifier.probe() == (
        f"no desktop notifications: no D-Bus session bus (socket {tmp_path}/gone does not exist)"
        " — alerts go to the log"
    )


def test_probe_reports_missing_backend(tmp_path):
    (tmp_path / "bus").touch()  # a bus is there; only the backend is missing
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    notifier = DesktopNotifier(
        environ={"XDG_RUNTIME_DIR": str(tmp_path), "PATH": str(empty_path)}, backend=PLYER
    )
    try:
        import dbus  # noqa: F401

        pytest.skip("dbus-python is installed, so a backend exists")
    except ImportError:
        pass
    assert notifier.probe() == (
        "no desktop notifications: neither dbus-python nor notify-send is installed "
        "(apt install libnotify-bin) — alerts go to the log"
    )


def test_probe_trusts_plyer_off_linux():
    assert DesktopNotifier(environ={}, platform="darwin").probe() is None


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_plyer_is_the_backend_off_linux(platform):
    assert default_backend(platform) == PLYER


def test_desktop_notifier_needs_no_notify_send(tmp_path):
    # The D-Bus path speaks to the bus itself: an empty PATH is no reason to fall back.
    pytest.importorskip("desktop_notifier")
    (tmp_path / "bus").touch()
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    notifier = DesktopNotifier(
        environ={"XDG_RUNTIME_DIR": str(tmp_path), "PATH": str(empty_path)}, platform="linux"
    )
    assert notifier.probe() is None  # bus socket there; no dbus-send to ask it: trusted


def test_log_notifier_writes_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="monitor.notify"):
        LogNotifier().send(Message(title="[CLRB] licensing: x", text="line one\n", html="<p>"))
    assert [(r.name, r.levelno) for r in caplog.records] == [("monitor.notify", logging.WARNING)]
    assert "[CLRB] licensing: x" in caplog.text and "line one" in caplog.text
