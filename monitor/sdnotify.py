"""systemd's readiness and watchdog protocol (`sd_notify`), spoken plainly: no dependency.

Under a unit with `Type=notify`, systemd passes the path of a unix datagram socket in
$NOTIFY_SOCKET; a service sends it newline-separated `KEY=value` lines: `READY=1` once started,
`WATCHDOG=1` at least every `WatchdogSec=` (passed as $WATCHDOG_USEC), `STOPPING=1` when
shutting down. A name starting with "@" is a Linux abstract socket (a NUL byte in the address).

Outside systemd (no $NOTIFY_SOCKET: a terminal, cron, launchd, Windows) every call does nothing
and returns False. A failed send is logged at debug level and never raised: the daemon must not
stop because its supervisor went away.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger("monitor.sdnotify")


def _address(value: str) -> str | bytes | None:
    if value.startswith("@"):
        return b"\0" + value[1:].encode()  # abstract namespace (Linux)
    if value.startswith("/"):
        return value
    return None  # e.g. "vsock:..." (systemd in a VM): not supported, ignored


def notify(*states: str) -> bool:
    """Send states ("READY=1", "STATUS=...") to systemd; True when a message was sent."""
    target = os.environ.get("NOTIFY_SOCKET")
    if not target or not hasattr(socket, "AF_UNIX"):
        return False
    address = _address(target)
    if address is None:
        log.debug("NOTIFY_SOCKET=%s: unsupported address, not notifying", target)
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall("\n".join(states).encode("utf-8"))
    except OSError as error:
        log.debug("sd_notify to %s failed: %s", target, error)
        return False
    return True


def ready(status: str | None = None) -> bool:
    """Tell systemd start-up is done (Type=notify units count as started from here)."""
    return notify("READY=1", *([f"STATUS={status}"] if status else []))


def watchdog() -> bool:
    """Feed the watchdog (WatchdogSec=): the process is alive and its jobs run."""
    return notify("WATCHDOG=1")


def stopping() -> bool:
    """Tell systemd the service is shutting down (a stop it asked for, or a signal)."""
    return notify("STOPPING=1")


def watchdog_seconds() -> float | None:
    """The watchdog timeout systemd set for this process (WatchdogSec=), or None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        seconds = int(usec) / 1_000_000
    except ValueError:
        return None
    return seconds if seconds > 0 else None
