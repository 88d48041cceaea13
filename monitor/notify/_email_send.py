"""The sending half of the email channel (email.py): smtplib, ssl and the email package.

Imported when an email channel is built, never when a config only loads.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import threading
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from monitor.models import Message
from monitor.notify.base import NotifyError
from monitor.notify.email import SECURITY_MODES, EmailSettings
from monitor.notify.render import one_line

log = logging.getLogger("monitor.notify")


class EmailNotifier:
    """Sends a `Message` as text + HTML mail through one SMTP server."""

    name = "email"

    def __init__(
        self,
        settings: EmailSettings,
        ssl_context: ssl.SSLContext | None = None,
        name: str = "email",
    ) -> None:
        self.settings = settings
        self.name = name  # "email", or "email:bd@example.com" for a watch's own recipients
        # Tests pass a context that trusts their self-signed certificate.
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._open: set[smtplib.SMTP] = set()  # connections in flight, for abort()
        self._open_lock = threading.Lock()
        self._aborted = False

    @property
    def deadline(self) -> float:
        """The longest one send may take in all: connect, TLS, login and data together.

        `timeout` bounds each step; a server that answers each step just in time (or never
        answers at all) is cut off here, so a send never outlives its claim in the outbox.
        """
        return 2 * self.settings.timeout

    def abort(self) -> None:
        """End every send in flight now and refuse new ones (the daemon is stopping)."""
        with self._open_lock:
            self._aborted = True
            connections = list(self._open)
        for smtp in connections:
            _cut(smtp)

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def probe(self) -> str | None:
        """None if the settings look complete; never connects."""
        s = self.settings
        missing = [k for k, v in (("host", s.host), ("sender", s.sender), ("to", s.to)) if not v]
        if missing:
            return f"email settings incomplete: {', '.join(missing)} not set"
        if s.security not in SECURITY_MODES:
            return f"email security must be one of {', '.join(SECURITY_MODES)}, not {s.security!r}"
        if s.username and not s.password_env:
            return f"email username {s.username!r} is set but password_env is not"
        return None

    def send(self, message: Message) -> None:
        """Deliver `message` to every recipient, or raise `NotifyError` saying what failed."""
        problem = self.probe()
        if problem:
            raise NotifyError(problem, self.name)
        password = self._password()
        email = build_email(message, self.settings)
        smtp = self._new_connection()
        timer = threading.Timer(self.deadline, _cut, [smtp])
        timer.daemon = True
        timer.start()
        try:
            self._connect(smtp)
            self._secure(smtp)
            if self.settings.username:
                self._login(smtp, password or "")
            self._deliver(smtp, email, password)
        except NotifyError:
            if self._aborted:
                raise self._error(f"send to {self.where} aborted: biomon is stopping") from None
            if not timer.is_alive():
                raise self._error(
                    f"{self.where} did not finish within {self.deadline:g}s "
                    "(total deadline: 2 x timeout); the alert will be retried"
                ) from None
            raise
        finally:
            timer.cancel()
            with self._open_lock:
                self._open.discard(smtp)
            _close(smtp)

    def _new_connection(self) -> smtplib.SMTP:
        """An unconnected SMTP client, registered so that abort() can cut it."""
        s = self.settings
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(timeout=s.timeout, context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(timeout=s.timeout)
        # What the constructor sets when given a host; SMTP_SSL and starttls() check the
        # certificate against it.
        smtp._host = s.host
        with self._open_lock:
            if self._aborted:
                raise self._error(f"send to {self.where} aborted: biomon is stopping")
            self._open.add(smtp)
        return smtp

    def _password(self) -> str | None:
        name = self.settings.password_env
        if not self.settings.username or not name:
            return None
        password = os.environ.get(name)
        if password is None:
            raise NotifyError(f"password environment variable {name} is not set", self.name)
        return password

    def _connect(self, smtp: smtplib.SMTP) -> None:
        s = self.settings
        try:
            code, reply = smtp.connect(s.host, s.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, reply)
        except socket.gaierror as error:
            raise self._error(f"cannot resolve smtp host {s.host!r} ({error.strerror})") from None
        except ssl.SSLError as error:
            raise self._error(f"TLS failed with {self.where}: {_tls_reason(error)}") from None
        except TimeoutError:
            raise self._error(
                f"cannot connect to {self.where} (timed out after {s.timeout:g}s)"
            ) from None
        except ConnectionRefusedError:
            raise self._error(f"cannot connect to {self.where} (connection refused)") from None
        except smtplib.SMTPConnectError as error:
            raise self._error(
                f"cannot connect to {self.where} (server said {_reply(error)})"
            ) from None
        except smtplib.SMTPServerDisconnected as error:
            raise self._error(
                f"cannot connect to {self.where} (closed: {_one_line(str(error))})"
            ) from None
        except OSError as error:
            raise self._error(
                f"cannot connect to {self.where} ({error.strerror or error})"
            ) from None

    def _secure(self, smtp: smtplib.SMTP) -> None:
        if self.settings.security != "starttls":
            return
        try:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise self._error(f"TLS failed with {self.where}: server does not offer STARTTLS")
            smtp.starttls(context=self.ssl_context)
        except ssl.SSLError as error:
            raise self._error(f"TLS failed with {self.where}: {_tls_reason(error)}") from None
        except smtplib.SMTPResponseException as error:
            raise self._error(f"TLS failed with {self.where}: {_reply(error)}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise self._session_error(error) from None

    def _login(self, smtp: smtplib.SMTP, password: str) -> None:
        user = self.settings.username
        try:
            smtp.login(user or "", password)
        except smtplib.SMTPAuthenticationError as error:
            reply = _scrub(_reply(error), password)
            raise self._error(f"login refused for user {user!r} ({reply})") from None
        except smtplib.SMTPNotSupportedError:
            hint = " without TLS" if self.settings.security == "none" else ""
            raise self._error(
                f"{self.where} does not offer AUTH{hint}; cannot log in as {user!r}"
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise self._session_error(error, password) from None

    def _deliver(self, smtp: smtplib.SMTP, email: EmailMessage, password: str | None) -> None:
        s = self.settings
        try:
            refused = smtp.send_message(email, from_addr=s.sender, to_addrs=list(s.to))
        except smtplib.SMTPRecipientsRefused as error:
            raise self._error(f"recipient refused: {_refusals(error.recipients)}") from None
        except smtplib.SMTPSenderRefused as error:
            raise self._error(f"sender refused: {error.sender} ({_reply(error)})") from None
        except smtplib.SMTPDataError as error:
            raise self._error(f"{self.where} refused the message ({_reply(error)})") from None
        except (smtplib.SMTPException, OSError) as error:
            raise self._session_error(error, password) from None
        if refused:
            # Some recipients got it: raising would make the outbox resend to them too.
            log.warning("email delivered, but recipient refused: %s", _refusals(refused))

    def _session_error(self, error: Exception, password: str | None = None) -> NotifyError:
        if isinstance(error, smtplib.SMTPServerDisconnected):
            return self._error(f"{self.where} closed the connection ({_one_line(str(error))})")
        if isinstance(error, TimeoutError):
            return self._error(
                f"{self.where} stopped answering (timed out after {self.settings.timeout:g}s)"
            )
        if isinstance(error, smtplib.SMTPResponseException):
            return self._error(f"SMTP error from {self.where}: {_scrub(_reply(error), password)}")
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return self._error(f"SMTP error with {self.where}: {_scrub(_one_line(detail), password)}")

    def _error(self, reason: str) -> NotifyError:
        return NotifyError(reason, self.name)


def build_email(message: Message, settings: EmailSettings) -> EmailMessage:
    """The multipart/alternative mail (text/plain, then text/html) for `message`."""
    email = EmailMessage()
    set_subject(email, message.title)
    email["From"] = settings.sender
    email["To"] = ", ".join(settings.to)
    email["Date"] = formatdate(usegmt=True)
    # A domain of our own: make_msgid() would otherwise call getfqdn(), a DNS lookup.
    domain = settings.sender.rpartition("@")[2].strip("<> ") or "biomon.localhost"
    email["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834: tells servers and vacation responders not to auto-reply to alerts.
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text)
    if message.html:  # a channel with a text-only body template sends text alone
        email.add_alternative(message.html, subtype="html")
    return email


def _cut(smtp: smtplib.SMTP) -> None:
    """Break a connection from another thread: a blocked read or write returns at once."""
    sock = getattr(smtp, "sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def set_subject(email: EmailMessage, title: str) -> None:
    """The Subject: one line, no control or bidi-override characters, and read as written."""
    subject = one_line(title)
    if "=?" not in subject:
        email["Subject"] = subject
        return
    # A literal "=?utf-8?b?...?=" in a feed title would be decoded, by the email package when
    # set and by mail clients when sent as plain text, into whatever it encodes: a spoofed
    # subject. Sent inside encoded words of its own, it is read back exactly as written.
    email.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


def _close(smtp: smtplib.SMTP) -> None:
    # The mail is already accepted (or the error already raised): QUIT failing changes nothing.
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _one_line(f"{error.smtp_code} {text}")


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    parts = []
    for address, (code, text) in recipients.items():
        reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        parts.append(f"{address} ({_one_line(f'{code} {reply}')})")
    return ", ".join(parts)


def _tls_reason(error: ssl.SSLError) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate verify failed: {error.verify_message}"
    return _one_line(str(error.reason or error))


def _scrub(text: str, password: str | None) -> str:
    # Servers should never echo the password, but the error text must not carry it if one does.
    return text.replace(password, "***") if password else text


def _one_line(text: str) -> str:
    return " ".join(text.split())
