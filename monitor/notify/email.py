"""Email channel: the standard library's smtplib, one multipart/alternative message per alert.

Every failure becomes a `NotifyError` whose text says which step failed (DNS, connect, TLS,
login, sender, recipient) against which host, so a user can fix the right setting. The
password is read from the environment at send time and never appears in a log or an error.

This module is the channel's settings: its keys, their checks and `EmailSettings`, read
whenever a config loads. The sending half (smtplib, ssl and the email package: `EmailNotifier`,
`build_email`, `set_subject`) is in `_email_send.py`, imported when a channel is built; its
names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.notify.registry import ChannelType, Key, SettingError, sending_names

if TYPE_CHECKING:
    from monitor.config import ChannelConfig
    from monitor.notify.base import Notifier

SECURITY_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True, kw_only=True)
class EmailSettings:
    """Where and how to send mail; `password_env` names the variable holding the password."""

    host: str
    port: int = 587
    security: str = "starttls"  # "starttls" | "ssl" (implicit TLS, usually 465) | "none"
    username: str | None = None
    password_env: str | None = None
    sender: str = ""  # the From address
    to: tuple[str, ...] = ()
    timeout: float = 20.0


def _address_problem(address: str) -> str | None:
    return None if "@" in address else f"{address!r} is not an email address"


class EmailChannel(ChannelType):
    """[notify.email]: one SMTP server; a [[watch]] with `email_to` gets a channel of its own."""

    kind = "email"
    html = True
    order = 20
    keys = {
        "host": Key(str, ""),
        "port": Key(int, 587, bounds=(1, 65535)),
        "security": Key(str, "starttls", choices=SECURITY_MODES),
        "username": Key(str, ""),
        "password_env": Key(str, ""),  # the variable holding the password, read at send time
        "from": Key(str, ""),
        "to": Key(list, (), check=_address_problem),
        "timeout": Key((int, float), 20, bounds=(0.1, 3600)),
    }

    def check(self, settings: Mapping[str, Any]) -> None:
        for key in ("host", "from"):
            if not settings[key]:
                raise SettingError(key, "missing; email needs host, from and to")
        if not settings["to"]:
            raise SettingError("to", "missing; list at least one recipient")
        if settings["username"] and not settings["password_env"]:
            raise SettingError(
                "password_env",
                f"missing; username {settings['username']!r} needs the name of the "
                "environment variable holding its password",
            )

    def build(self, channel: ChannelConfig) -> tuple[Notifier, str | None]:
        from monitor.notify._email_send import EmailNotifier

        return EmailNotifier(email_settings(channel), name=channel.name), None


def email_settings(channel: ChannelConfig) -> EmailSettings:
    """The SMTP settings of an email channel (a watch's own channel has its own `to`)."""
    return EmailSettings(
        host=channel.setting("host"),
        port=channel.setting("port", 587),
        security=channel.setting("security", "starttls"),
        username=channel.setting("username") or None,
        password_env=channel.setting("password_env") or None,
        sender=channel.setting("from"),
        to=tuple(channel.setting("to", ())),
        timeout=float(channel.setting("timeout", 20)),
    )


CHANNEL = EmailChannel()


_SENDING = ("EmailNotifier", "build_email", "set_subject")

__getattr__ = sending_names("monitor.notify._email_send", __name__, _SENDING)
