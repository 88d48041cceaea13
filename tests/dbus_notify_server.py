"""A minimal org.freedesktop.Notifications server for tests, on a private D-Bus session.

`start_session(record)` runs `dbus-run-session -- python -m tests.dbus_notify_server ...`: the
session bus lives as long as this server, and the server prints the bus address, so the test
process (and biomon in it) joins the same private bus. Each Notify call is appended to `record`
as one JSON line. A second interface, org.biomon.test.Control, lets a test play the user: click
(ActionInvoked) or dismiss (NotificationClosed) a notification.

Modes: "serve" (answer everything), "stall" (never answer Notify, as a hung server), "absent"
(keep the bus up but never claim the name: a session with no notification server).
"""

# No `from __future__ import annotations` here: dbus-fast reads the D-Bus signatures from the
# annotations at run time, and these aliases keep them plain names (dbus-fast>=2 reads strings;
# its typed aliases came in 4.0).

import asyncio
import json
import os
import shutil
import signal as signal_module
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dbus_fast import Message, MessageType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method, signal

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
CONTROL = "org.biomon.test.Control"
SERVER_NAME = "biomon-test-notifyd"

S, U, INT32, AS, ASV, SSSS, UU, US = "s", "u", "i", "as", "a{sv}", "ssss", "uu", "us"


def _plain(value: object) -> object:
    """A hint's value without its Variant wrapper, for the JSON record."""
    return _plain(value.value) if isinstance(value, Variant) else value


class Notifications(ServiceInterface):
    """The spec's methods and signals (what desktop-notifier introspects and calls)."""

    def __init__(self, record: Path, stall: bool) -> None:
        super().__init__(NAME)
        self.record = record
        self.stall = stall
        self.last_id = 0

    @method()
    async def Notify(  # noqa: N802 (D-Bus names)
        self,
        app_name: S,
        replaces_id: U,
        app_icon: S,
        summary: S,
        body: S,
        actions: AS,
        hints: ASV,
        expire_timeout: INT32,
    ) -> U:
        if self.stall:
            await asyncio.Event().wait()  # a hung server: the call is never answered
        self.last_id += 1
        seen = {
            "id": self.last_id,
            "app_name": app_name,
            "app_icon": app_icon,
            "summary": summary,
            "body": body,
            "actions": actions,
            "hints": {key: _plain(value) for key, value in hints.items()},
            "expire_timeout": expire_timeout,
        }
        with self.record.open("a", encoding="utf-8") as out:
            out.write(json.dumps(seen) + "\n")
        return self.last_id

    @method()
    def GetCapabilities(self) -> AS:  # noqa: N802
        return ["actions", "body", "body-markup"]

    @method()
    def GetServerInformation(self) -> SSSS:  # noqa: N802
        return [SERVER_NAME, "biomon", "0", "1.2"]

    @method()
    def CloseNotification(self, notification_id: U) -> None:  # noqa: N802
        self.NotificationClosed(notification_id, 3)

    @signal()
    def ActionInvoked(self, notification_id: U, action_key: S) -> US:  # noqa: N802
        return [notification_id, action_key]

    @signal()
    def NotificationClosed(self, notification_id: U, reason: U) -> UU:  # noqa: N802
        return [notification_id, reason]


class Control(ServiceInterface):
    """What the user would do on screen, asked for by the test."""

    def __init__(self, notifications: Notifications) -> None:
        super().__init__(CONTROL)
        self.notifications = notifications

    @method()
    def Click(self, notification_id: U, action_key: S) -> None:  # noqa: N802
        self.notifications.ActionInvoked(notification_id, action_key)

    @method()
    def Dismiss(self, notification_id: U) -> None:  # noqa: N802
        self.notifications.NotificationClosed(notification_id, 2)


async def serve(record: Path, mode: str) -> None:
    """Export the server, claim the name (unless absent), say the address, run until killed."""
    bus = await MessageBus().connect()
    notifications = Notifications(record, stall=mode == "stall")
    bus.export(PATH, notifications)
    bus.export(PATH, Control(notifications))
    if mode != "absent":
        await bus.request_name(NAME)
    print(os.environ["DBUS_SESSION_BUS_ADDRESS"], flush=True)
    await asyncio.Event().wait()


@dataclass
class Session:
    """A running private session: its bus address and where the server records Notify calls."""

    address: str
    record: Path
    process: subprocess.Popen

    def seen(self) -> list[dict]:
        """Every Notify call so far, oldest first."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def click(self, notification_id: int, action_key: str = "default") -> None:
        """Emit ActionInvoked, as a notification server does when the user clicks."""
        self._control("Click", "us", [notification_id, action_key])

    def dismiss(self, notification_id: int) -> None:
        """Emit NotificationClosed with reason 2 (dismissed by the user)."""
        self._control("Dismiss", "u", [notification_id])

    def _control(self, member: str, signature: str, body: list) -> None:
        asyncio.run(_call(self.address, member, signature, body))


async def _call(address: str, member: str, signature: str, body: list) -> None:
    bus = await MessageBus(bus_address=address).connect()
    try:
        reply = await bus.call(
            Message(
                destination=NAME,
                path=PATH,
                interface=CONTROL,
                member=member,
                signature=signature,
                body=body,
            )
        )
    finally:
        bus.disconnect()
    assert reply is None or reply.message_type != MessageType.ERROR, reply.body


@contextmanager
def start_session(record: Path, mode: str = "serve") -> Iterator[Session]:
    """A private session bus with this server on it; stopped (bus and all) on leaving."""
    tool = shutil.which("dbus-run-session")
    if tool is None:
        import pytest

        pytest.skip("dbus-run-session not installed (apt install dbus-daemon)")
    env = {k: v for k, v in os.environ.items() if k not in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    command = [tool, "--", sys.executable, "-m", "tests.dbus_notify_server", str(record), mode]
    # Its own process group: stopping it stops dbus-run-session, the bus and the server at once.
    log = record.with_suffix(".log").open("w")  # the bus's and the server's stderr
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=log, text=True, env=env, start_new_session=True
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        assert address, f"the notification server did not start: {log.name}"
        yield Session(address=address, record=record, process=process)
    finally:
        os.killpg(process.pid, signal_module.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal_module.SIGKILL)
            process.wait(5)
        process.stdout and process.stdout.close()
        log.close()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "serve"))
