"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives; it can go down and up."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    # aiosmtpd's Controller cannot start on port 0: take a port the kernel just handed out.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 queued"

    def start(self) -> SmtpSink:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.subjects()):
                return True
            time.sleep(0.05)
        return False

    def email_config(self) -> str:
        return (
            '[notify.email]\nenabled = true\nhost = "127.0.0.1"\n'
            f'port = {self.port}\nsecurity = "none"\nfrom = "biomon <biomon@test>"\n'
            'to = ["analyst@test"]\ntimeout = 2\n'
        )
