"""The interface every notification channel implements, its one exception, and a deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar, runtime_checkable

from monitor.errors import BiomonError
from monitor.models import Message

T = TypeVar("T")


class NotifyError(BiomonError):
    """A notification was not delivered; str() is the one-line reason a user can act on.

    `permanent`: sending the same message again cannot work (a webhook answered 4xx), so the
    outbox marks the alert failed at once instead of retrying it.
    """

    def __init__(self, reason: str, channel: str = "", *, permanent: bool = False) -> None:
        # The reason alone is the message: it already names what failed (host, user, bus), and
        # the caller knows which channel it was sending on.
        self.reason = reason
        self.channel = channel
        self.permanent = permanent
        super().__init__(reason)


@runtime_checkable
class Notifier(Protocol):
    """One channel: `send` delivers or raises `NotifyError`; `probe` says if it can work.

    Optional: `deadline` (seconds one send may take in all; the outbox's claim outlasts it),
    `abort()` (end a send in flight: the daemon is stopping) and `outcome` (the alert's state
    after a send: "sent" unless it says otherwise, e.g. "logged").
    """

    name: str

    def send(self, message: Message) -> None:
        """Deliver `message`, or raise `NotifyError` saying what failed."""
        ...

    def probe(self) -> str | None:
        """None when the channel looks usable, else a one-line reason naming what is missing."""
        ...


class Deadline:
    """Runs one send at a time in a worker thread and gives up on it after `seconds`.

    For libraries that cannot be cut off from outside (a per-read timeout lets a trickling
    server hold a request for minutes): the caller gets its answer within the deadline, or at
    once on `abort()`. A send given up on may still finish in its (daemon) thread; the outbox
    then retries a message that did arrive, the one duplicate it accepts.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._changed = threading.Condition()
        self._aborted = False

    def run(self, send: Callable[[], T], what: str, channel: str) -> T:
        """send() within the deadline; NotifyError when it takes longer or biomon stops."""
        outcome: list[tuple[bool, object]] = []

        def work() -> None:
            try:
                result: tuple[bool, object] = (True, send())
            except BaseException as error:  # handed to the caller, whatever it is
                result = (False, error)
            with self._changed:
                outcome.append(result)
                self._changed.notify_all()

        with self._changed:
            if self._aborted:
                raise NotifyError(f"send to {what} aborted: biomon is stopping", channel)
        threading.Thread(target=work, name=f"send-{channel}", daemon=True).start()
        end = time.monotonic() + self.seconds
        with self._changed:
            while not outcome and not self._aborted and time.monotonic() < end:
                self._changed.wait(end - time.monotonic())
            if not outcome and self._aborted:
                raise NotifyError(f"send to {what} aborted: biomon is stopping", channel)
            if not outcome:
                raise NotifyError(
                    f"{what} did not finish within {self.seconds:g}s (total deadline); "
                    "the alert will be retried",
                    channel,
                )
            ok, value = outcome[0]
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def abort(self) -> None:
        """End the send in flight now and refuse new ones (the daemon is stopping)."""
        with self._changed:
            self._aborted = True
            self._changed.notify_all()
