"""The interface every notification channel implements, and its one exception."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from monitor.errors import BiomonError
from monitor.models import Message


class NotifyError(BiomonError):
    """A notification was not delivered; str() is the one-line reason a user can act on."""

    def __init__(self, reason: str, channel: str = "") -> None:
        # The reason alone is the message: it already names what failed (host, user, bus), and
        # the caller knows which channel it was sending on.
        self.reason = reason
        self.channel = channel
        super().__init__(reason)


@runtime_checkable
class Notifier(Protocol):
    """One channel: `send` delivers or raises `NotifyError`; `probe` says if it can work."""

    name: str

    def send(self, message: Message) -> None:
        """Deliver `message`, or raise `NotifyError` saying what failed."""
        ...

    def probe(self) -> str | None:
        """None when the channel looks usable, else a one-line reason naming what is missing."""
        ...
