"""The sending half of the desktop channel (desktop.py): desktop-notifier on an event loop of
its own over D-Bus, plyer, the probes that run dbus-send, and the log fallback.

Imported when a desktop channel is built, never when a config only loads.
"""

from __future__ import annotations

import html
import importlib.util
import logging
import os
import shlex
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import CancelledError, Future
from typing import Any
from urllib.parse import urlsplit

from monitor.models import Message
from monitor.notify.base import Deadline, NotifyError
from monitor.notify.desktop import SEND_DEADLINE
from monitor.notify.render import shorten

log = logging.getLogger("monitor.notify")

PREFIX = "no desktop notifications"
NOTIFICATIONS = "org.freedesktop.Notifications"
# Windows balloon tips hold 64/256 characters; more is cut or refused there.
TITLE_CHARS = 64
BODY_CHARS = 256
DBUS, PLYER = "desktop-notifier", "plyer"  # the two ways out
DEFAULT_OPENER = ("xdg-open",)
# desktop-notifier logs a failed send here (with the exception) instead of raising it.
FAILURE_LOGGER = "desktop_notifier.backends.base"
NO_SERVER_ERRORS = (
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
)


def default_backend(platform: str) -> str:
    """desktop-notifier on Linux when it is installed (it talks D-Bus itself), else plyer."""
    if platform.startswith("linux") and importlib.util.find_spec("desktop_notifier") is not None:
        return DBUS
    return PLYER


class DesktopNotifier:
    """Pops up `message.title` and `message.text` (see `render.desktop_text`)."""

    name = "desktop"

    def __init__(
        self,
        app_name: str = "biomon",
        show_seconds: int = 10,
        environ: Mapping[str, str] | None = None,
        platform: str | None = None,
        *,
        backend: str | None = None,
        open_command: Sequence[str] = (),
        deadline: float = SEND_DEADLINE,
    ) -> None:
        self.app_name = app_name
        self.show_seconds = show_seconds  # how long the popup stays up
        # Passed in so tests can describe a machine without patching os.environ.
        self.environ = os.environ if environ is None else environ
        self.platform = platform or sys.platform
        self.backend = backend or default_backend(self.platform)
        self.open_command = tuple(open_command) or DEFAULT_OPENER
        self.deadline = deadline  # the outbox holds its claim well beyond this
        self._deadline = Deadline(deadline)
        self._bus: _BusSender | None = None  # started at the first send over D-Bus
        self._bus_lock = threading.Lock()

    def probe(self) -> str | None:
        """None when this machine looks able to show a notification, else a one-line reason."""
        if not self.platform.startswith("linux"):
            return None  # macOS/Windows: plyer's own backends; send() catches their errors
        plyer = self.backend == PLYER
        reason = (
            _linux_bus_problem(self.environ)
            or (_linux_backend_problem(self.environ) if plyer else None)
            or _linux_server_problem(self.environ, flatpak_portal=plyer)
        )
        return f"{PREFIX}: {reason} — alerts go to the log" if reason else None

    def send(self, message: Message) -> None:
        """Show the notification, or raise `NotifyError` (never a silent no-op)."""
        title = shorten(message.title, TITLE_CHARS)
        body = shorten(message.text, BODY_CHARS, collapse=False)
        if self.backend == DBUS:
            # freedesktop servers read the body as markup: feed text must be escaped.
            body = html.escape(body, quote=False)
            url = message.contents[0].url if len(message.contents) == 1 else ""
            self._sender().send(title, body, url, self._deadline)
            return
        problem = self.probe()  # plyer would not say: ask before every send
        if problem:
            raise NotifyError(problem, self.name)
        if self.platform.startswith("linux"):
            # notify-send parses a leading '-' as an option (and plyer ignores its failure).
            title = title.lstrip("- ")
            body = html.escape(body.lstrip("- "), quote=False)
        self._deadline.run(lambda: self._send_plyer(title, body), "plyer", self.name)

    def abort(self) -> None:
        """End the send in flight now and refuse new ones (the daemon is stopping)."""
        self._deadline.abort()
        if self._bus is not None:
            self._bus.cancel()

    def close(self) -> None:
        """Stop the event loop (clicks are no longer handled) and leave the bus."""
        with self._bus_lock:
            if self._bus is not None:
                self._bus.close()
                self._bus = None

    def _sender(self) -> _BusSender:
        with self._bus_lock:
            if self._bus is None:
                self._bus = _BusSender(
                    self.app_name, self.show_seconds, self.name, self.environ, self.open_command
                )
            return self._bus

    def _send_plyer(self, title: str, body: str) -> None:
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
                    timeout=self.show_seconds,
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


def _linux_server_problem(environ: Mapping[str, str], flatpak_portal: bool = True) -> str | None:
    """Is a notification server on the bus, or startable by it? Without one notify-send fails
    and plyer ignores its exit code. Asked with dbus-send (dbus-bin); without it, trust the bus."""
    if flatpak_portal and os.path.isdir("/app"):
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


class _Failures(logging.Filter):
    """Takes desktop-notifier's "Notification failed" records of one loop thread: the reason of
    a failed send, which the channel raises as a NotifyError rather than log as a traceback."""

    def __init__(self, thread_id: int | None) -> None:
        super().__init__()
        self.thread_id = thread_id
        self.error: BaseException | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread_id:
            return True  # another channel's loop, or desktop-notifier used by someone else
        if record.exc_info and record.exc_info[1] is not None:
            self.error = record.exc_info[1]
        return False

    def reason(self) -> str:
        """The last failure in words, naming what to fix where we know it."""
        error = self.error
        if error is None:
            return "the notification server did not take it (no reason given)"
        said = _one_line(str(error)) or type(error).__name__
        if getattr(error, "type", None) in NO_SERVER_ERRORS:
            return f"no notification server on the session bus (nothing provides {NOTIFICATIONS})"
        if isinstance(error, OSError) or type(error).__name__ == "InvalidAddressError":
            return f"cannot reach the D-Bus session bus ({said})"
        return f"{type(error).__name__}: {said}"


class _BusSender:
    """desktop-notifier on an asyncio loop of its own, in a daemon thread that lives as long as
    the process: a click comes back as a D-Bus signal whenever the user gets to it."""

    def __init__(
        self,
        app_name: str,
        expire_seconds: int,
        channel: str,
        environ: Mapping[str, str],
        open_command: Sequence[str],
    ) -> None:
        self.app_name = app_name
        self.expire_seconds = expire_seconds
        self.channel = channel
        self.open_command = tuple(open_command)
        import asyncio  # here: `biomon classify` loads the channel types, not the loop

        _export_bus_address(environ)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=f"{channel}-dbus", daemon=True)
        self.thread.start()
        self.failures = _Failures(self.thread.ident)
        logging.getLogger(FAILURE_LOGGER).addFilter(self.failures)
        self._notifier: Any = None  # desktop_notifier.DesktopNotifier, used on the loop only
        self._in_flight: Future[None] | None = None

    def _run(self) -> None:
        import asyncio

        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def send(self, title: str, body: str, url: str, deadline: Deadline) -> None:
        """Notify within `deadline`, or raise NotifyError (the coroutine is then cancelled)."""
        import asyncio

        future = asyncio.run_coroutine_threadsafe(self._notify(title, body, url), self.loop)
        self._in_flight = future
        what = "the desktop notification server"
        try:
            deadline.run(future.result, what, self.channel)
        except NotifyError:
            future.cancel()
            raise
        except CancelledError:  # cancel(): the daemon is stopping
            raise NotifyError(f"send to {what} aborted: biomon is stopping", self.channel) from None
        finally:
            self._in_flight = None

    def cancel(self) -> None:
        """Cancel the send in flight (biomon is stopping)."""
        future = self._in_flight
        if future is not None:
            future.cancel()

    def close(self) -> None:
        """Leave the bus and stop the loop."""
        logging.getLogger(FAILURE_LOGGER).removeFilter(self.failures)
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._forget)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            if not self.thread.is_alive():
                self.loop.close()

    async def _notify(self, title: str, body: str, url: str) -> None:
        from desktop_notifier import Notification

        notifier = self._notifier or self._connect()
        self.failures.error = None
        notification = Notification(
            title,
            body,
            on_clicked=(lambda: self._clicked(url)) if url else None,
            timeout=self.expire_seconds,
        )
        try:
            await notifier.send_notification(notification)
            # Only a notification the server took is remembered: that is the sign of success.
            shown = notification.identifier in await notifier.get_current_notifications()
        except BaseException:  # cancelled at the deadline: this connection may be stuck
            self._forget()
            raise
        if not shown:
            self._forget()  # a bus that went away is not retried on the same connection
            raise NotifyError(
                f"desktop notification not shown: {self.failures.reason()}", self.channel
            )

    def _connect(self) -> Any:
        try:
            from desktop_notifier import DesktopNotifier as Backend
        except ImportError as error:
            raise NotifyError(
                f"{PREFIX}: desktop-notifier cannot be imported ({_one_line(str(error))}); "
                "reinstall biomon",
                self.channel,
            ) from None
        self._notifier = Backend(app_name=self.app_name, app_icon=None)
        return self._notifier

    def _forget(self) -> None:
        """Drop the connection: the next send makes a fresh one (clicks on older popups end)."""
        notifier, self._notifier = self._notifier, None
        # desktop-notifier has no close(); its D-Bus backend keeps the connection as `bus`.
        bus = getattr(getattr(notifier, "_backend", None), "bus", None)
        if bus is not None and getattr(bus, "connected", False):
            bus.disconnect()

    def _clicked(self, url: str) -> None:
        # On the loop: the opener may take its time (a browser starting), so it gets a thread.
        threading.Thread(
            target=open_url, args=(self.open_command, url), name="desktop-open", daemon=True
        ).start()


def open_url(command: Sequence[str], url: str) -> None:
    """Run `command url` for a clicked notification; a failure is one line in the log."""
    if urlsplit(url).scheme not in ("http", "https"):
        log.warning("not opening %r from a clicked notification: not an http(s) URL", url)
        return
    shown = shlex.join(command)
    try:
        done = subprocess.run(
            [*command, url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a browser it starts outlives neither biomon nor its signals
        )
    except OSError as error:
        log.warning(
            "cannot open %s: %s (%s); set [notify.desktop] open_command",
            url,
            shown,
            _one_line(error.strerror or str(error)),
        )
        return
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or [""])[0]
        log.warning("cannot open %s: %s exited %d %s", url, shown, done.returncode, said)
    else:
        log.info("opened %s (notification clicked)", url)


def _export_bus_address(environ: Mapping[str, str]) -> None:
    """dbus-fast reads only DBUS_SESSION_BUS_ADDRESS, where libdbus and GLib also try
    $XDG_RUNTIME_DIR/bus (a systemd user session): name that socket when it is the one."""
    if environ.get("DBUS_SESSION_BUS_ADDRESS", "").strip():
        os.environ.setdefault("DBUS_SESSION_BUS_ADDRESS", environ["DBUS_SESSION_BUS_ADDRESS"])
        return
    runtime_dir = environ.get("XDG_RUNTIME_DIR", "")
    if runtime_dir and os.path.exists(os.path.join(runtime_dir, "bus")):
        os.environ.setdefault("DBUS_SESSION_BUS_ADDRESS", f"unix:path={runtime_dir}/bus")
