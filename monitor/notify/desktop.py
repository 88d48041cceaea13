"""Desktop channel: desktop-notifier over D-Bus on Linux, plyer elsewhere; and the log fallback.

On Linux a notification goes to the session's org.freedesktop.Notifications server through
desktop-notifier (dbus-fast, no compiled dbus-python, no notify-send). Clicking it opens the
release (`[notify.desktop] open_command`, xdg-open by default). desktop-notifier is asyncio and a
click comes back later as a D-Bus signal, so each channel keeps one event loop in a background
thread for as long as the process runs; the delivery thread hands it a send and waits at most
`deadline` seconds. desktop-notifier logs a failed send instead of raising: `_Failures` takes
that record, so a failure becomes a NotifyError (the alert is retried), never a silent success.

plyer stays the path on macOS and Windows (and on Linux without desktop-notifier). Its Linux
path fails silently: with no session bus, or with neither dbus-python nor notify-send, it only
warns; it ignores notify-send's exit code; and any /app folder makes it think it runs in a
Flatpak. So `DesktopNotifier.probe` checks those conditions itself, and `send` refuses to pretend
it delivered when the probe fails.

This module is the channel's settings (its keys and their checks), read whenever a config
loads. The sending half (`DesktopNotifier`, `LogNotifier`, the D-Bus loop, subprocess) is in
`_desktop_send.py`, imported when a channel is built; its names are importable from here too.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from monitor.models import AlertContent, Message
from monitor.notify.registry import ChannelType, Key, sending_names

if TYPE_CHECKING:
    from monitor.config import ChannelConfig
    from monitor.notify.base import Notifier

SEND_DEADLINE = 10.0  # seconds one send may take in all: a stalled server must not hang delivery


def _command_problem(command: str) -> str | None:
    import shlex  # here, as in build: most configs set no open_command

    try:
        shlex.split(command)
    except ValueError as error:
        return f'{command!r} is not a command line ({error}); e.g. "firefox --new-tab"'
    return None


class DesktopChannel(ChannelType):
    """[notify.desktop]: falls back to the log where nothing can show a notification.

    `open_command`: what a click on a notification runs, with the release URL as its last
    argument (Linux; default xdg-open), e.g. "firefox --new-tab". `timeout`: seconds one send
    may take in all before it counts as failed (and is retried).
    """

    kind = "desktop"
    order = 10
    keys = {
        "open_command": Key(str, "", check=_command_problem),
        "timeout": Key((int, float), SEND_DEADLINE, bounds=(0.1, 3600)),
    }

    def build(self, channel: ChannelConfig) -> tuple[Notifier, str | None]:
        import shlex

        from monitor.notify._desktop_send import DesktopNotifier, LogNotifier

        desktop = DesktopNotifier(
            open_command=shlex.split(channel.setting("open_command") or ""),
            deadline=float(channel.setting("timeout", SEND_DEADLINE)),
        )
        problem = desktop.probe()
        if problem:
            return LogNotifier(), problem  # said once, at start-up: alerts go to the log
        return desktop, None

    def render(self, content: AlertContent, alerted_at: datetime) -> Message:
        from monitor.notify.render import desktop_text

        title, body = desktop_text(content)
        return Message(title=title, text=body, html="")


CHANNEL = DesktopChannel()


_SENDING = (
    "DBUS",
    "PLYER",
    "DesktopNotifier",
    "LogNotifier",
    "default_backend",
    "open_url",
)

__getattr__ = sending_names("monitor.notify._desktop_send", __name__, _SENDING)
