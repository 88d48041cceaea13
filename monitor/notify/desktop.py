"""Desktop channel (plyer) and the log channel it falls back to.

plyer's Linux path fails silently: with no session bus, or with neither dbus-python nor
notify-send, it only warns; it ignores notify-send's exit code; and any /app folder makes it
think it runs in a Flatpak. So `DesktopNotifier.probe` checks those conditions itself, and
`send` refuses to pretend it delivered when the probe fails.
"""

from __future__ import annotations

import html
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.models import AlertContent, Message
from monitor.notify.base import Notifier, NotifyError
from monitor.notify.registry import ChannelType
from monitor.notify.render import desktop_text, shorten

if TYPE_CHECKING:
    from monitor.config import ChannelConfig

log = logging.getLogger("monitor.notify")

PREFIX = "no desktop notifications"
NOTIFICATIONS = "org.freedesktop.Notifications"
# Windows balloon tips hold 64/256 characters; more is cut or refused there.
TITLE_CHARS = 64
BODY_CHARS = 256


class DesktopNotifier:
    """Pops up `message.title` and `message.text` (see `render.desktop_text`) via plyer."""

    name = "desktop"

    def __init__(
        self,
        app_name: str = "biomon",
        timeout: int = 10,
        environ: Mapping[str, str] | None = None,
        platform: str | None = None,
    ) -> None:
        self.app_name = app_name
        self.timeout = timeout
        # Passed in so tests can describe a machine without patching os.environ.
        self.environ = os.environ if environ is None else environ
        self.platform = platform or sys.platform

    def probe(self) -> str | None:
        """None when plyer has a working path on this machine, else a one-line reason."""
        if not self.platform.startswith("linux"):
            return None  # macOS/Windows: plyer's own backends; send() catches their errors
        reason = (
            _linux_bus_problem(self.environ)
            or _linux_backend_problem(self.environ)
            or _linux_server_problem(self.environ)
        )
        return f"{PREFIX}: {reason} — alerts go to the log" if reason else None

    def send(self, message: Message) -> None:
        """Show the notification, or raise `NotifyError` (never a silent no-op)."""
        problem = self.probe()
        if problem:
            raise NotifyError(problem, self.name)
        title = shorten(message.title, TITLE_CHARS)
        body = shorten(message.text, BODY_CHARS, collapse=False)
        if self.platform.startswith("linux"):
            # notify-send parses a leading '-' as an option (and plyer ignores its failure);
            # freedesktop servers read the body as markup, so feed text must be escaped.
            title = title.lstrip("- ")
            body = html.escape(body.lstrip("- "), quote=False)
        try:
            from plyer import notification
        except ImportError as error:
            raise NotifyError(f"{PREFIX}: plyer is not installed ({error})", self.name) from None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                notification.notify(
                    title=title,
                    message=body,
                    app_name=self.app_name,
                    timeout=self.timeout,
                )
            except NotImplementedError:
                # plyer's fallback facade: it found no backend and said so only in warnings.
                said = "; ".join(_one_line(str(w.message)) for w in caught) or "no backend"
                raise NotifyError(
                    f"{PREFIX}: plyer has no backend here ({said})", self.name
                ) from None
            except Exception as error:  # plyer's backends raise anything
                detail = _one_line(str(error)) or type(error).__name__
                raise NotifyError(f"{PREFIX}: plyer failed: {detail}", self.name) from None
        for warning in caught:
            # e.g. "dbus package not installed" on the way to the notify-send backend.
            log.debug("plyer warned: %s", _one_line(str(warning.message)))


class LogNotifier:
    """Writes the message to the `monitor.notify` logger at WARNING: the fallback channel."""

    name = "log"
    outcome = "logged"  # the alert's state: nobody was notified, it is in the log

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or log

    def probe(self) -> str | None:
        """Always usable."""
        return None

    def send(self, message: Message) -> None:
        """Log the title and the plain-text body."""
        self.logger.warning("ALERT %s\n%s", message.title, message.text.rstrip())


class DesktopChannel(ChannelType):
    """[notify.desktop]: no keys of its own; falls back to the log where nothing can show it."""

    kind = "desktop"
    order = 10

    def build(self, channel: ChannelConfig) -> tuple[Notifier, str | None]:
        desktop = DesktopNotifier()
        problem = desktop.probe()
        if problem:
            return LogNotifier(), problem  # said once, at start-up: alerts go to the log
        return desktop, None

    def render(self, content: AlertContent, alerted_at: datetime) -> Message:
        title, body = desktop_text(content)
        return Message(title=title, text=body, html="")


CHANNEL = DesktopChannel()


def _linux_bus_problem(environ: Mapping[str, str]) -> str | None:
    address = environ.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        # A stale address (e.g. inherited by a service after logout) points at a missing socket.
        for part in address.split(";"):
            if part.startswith("unix:path="):
                path = part.removeprefix("unix:path=").split(",")[0]
                if os.path.exists(path):
                    return None
                last_missing = path
            else:
                return None  # abstract sockets, tcp: nothing cheap to check
        return f"no D-Bus session bus (socket {last_missing} does not exist)"
    runtime_dir = environ.get("XDG_RUNTIME_DIR", "")
    if runtime_dir and os.path.exists(os.path.join(runtime_dir, "bus")):
        return None  # libdbus and GLib both fall back to $XDG_RUNTIME_DIR/bus
    where = f"{runtime_dir}/bus" if runtime_dir else "$XDG_RUNTIME_DIR/bus"
    return f"no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS unset, no {where})"


def _linux_backend_problem(environ: Mapping[str, str]) -> str | None:
    path = environ.get("PATH", os.defpath)
    if os.path.isdir("/app"):
        # plyer then uses the Flatpak portal through gdbus, whatever else is installed.
        if not os.path.exists("/.flatpak-info"):
            return "plyer takes the /app folder to mean Flatpak, but this is not a Flatpak"
        return None if shutil.which("gdbus", path=path) else "gdbus is not installed (Flatpak)"
    if importlib.util.find_spec("dbus") is not None or shutil.which("notify-send", path=path):
        return None
    return "neither dbus-python nor notify-send is installed (apt install libnotify-bin)"


def _linux_server_problem(environ: Mapping[str, str]) -> str | None:
    """Is a notification server on the bus, or startable by it? Without one notify-send fails
    and plyer ignores its exit code. Asked with dbus-send (dbus-bin); without it, trust the bus."""
    if os.path.isdir("/app"):
        return None  # Flatpak: the portal stands in for the server, and the name is not visible
    dbus_send = shutil.which("dbus-send", path=environ.get("PATH", os.defpath))
    if not dbus_send:
        return None
    for method, args in (
        ("NameHasOwner", [f"string:{NOTIFICATIONS}"]),
        ("ListActivatableNames", []),
    ):
        command = [dbus_send, "--session", "--print-reply", "--dest=org.freedesktop.DBus"]
        command += ["/org/freedesktop/DBus", f"org.freedesktop.DBus.{method}", *args]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=5, env=dict(environ)
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"cannot ask the D-Bus session bus ({_one_line(str(error))})"
        if done.returncode != 0:
            said = done.stderr.strip().splitlines() or [f"dbus-send exit {done.returncode}"]
            return f"cannot reach the D-Bus session bus ({_one_line(said[0])})"
        if "boolean true" in done.stdout or f'"{NOTIFICATIONS}"' in done.stdout:
            return None
    return f"no notification server on the session bus (nothing provides {NOTIFICATIONS})"


def _one_line(text: str) -> str:
    return " ".join(text.split())
