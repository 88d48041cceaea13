"""EmailNotifier against a real SMTP server (aiosmtpd) on 127.0.0.1, with a real TLS certificate
from a throwaway CA (trustme). No mocks of smtplib: every error comes from a real exchange."""

from __future__ import annotations

import socket
import ssl
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from monitor.models import AlertContent, Facts
from monitor.notify.base import NotifyError
from monitor.notify.email import EmailNotifier, EmailSettings
from monitor.notify.render import render_alert

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")
trustme = pytest.importorskip("trustme")

USER = "alerts@biomon.test"
PASSWORD = "correct horse battery staple"
PASSWORD_ENV = "BIOMON_SMTP_PASSWORD"
HOSTILE = '<script>alert(1)</script> & "x"'
EVIDENCE = "Cellectar entered into an exclusive license agreement with WARF."


class Recorder:
    """Keeps every message the server accepts."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 2.0.0 queued"


class RefuseRecipients(Recorder):
    """Refuses every recipient, or only those in `refused`."""

    def __init__(self, refused: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refused and address not in self.refused:
            envelope.rcpt_tos.append(address)
            return "250 2.1.5 OK"
        return "550 5.1.1 mailbox unavailable"


def check_login(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    # handled=False: let aiosmtpd send its own 535 reply (the default sends none, and hangs).
    return aiosmtpd_smtp.AuthResult(success=ok, handled=False)


def free_port() -> int:
    # aiosmtpd's Controller cannot start on port 0, so take one the kernel just handed out.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def smtp_server():
    """Start an aiosmtpd server with the given options; returns (port, handler)."""
    started = []

    def start(handler=None, **options):
        handler = handler or Recorder()
        port = free_port()
        controller = aiosmtpd_controller.Controller(
            handler, hostname="127.0.0.1", port=port, **options
        )
        controller.start()
        started.append(controller)
        return port, handler

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def settings(port: int, **changes) -> EmailSettings:
    values = dict(
        host="127.0.0.1",
        port=port,
        security="starttls",
        username=USER,
        password_env=PASSWORD_ENV,
        sender="biomon <alerts@biomon.test>",
        to=("analyst@biomon.test",),
        timeout=5.0,
    )
    values.update(changes)
    return EmailSettings(**values)


def hostile_alert() -> AlertContent:
    return AlertContent(
        source="globenewswire",
        release_id="1",
        title=f"Cellectar licenses {HOSTILE}",
        url="https://www.globenewswire.com/news-release/clrb.html",
        tickers=("NASDAQ:CLRB",),
        issuer="Cellectar Biosciences, Inc.",
        primary="licensing",
        tags=("licensing",),
        evidence=(("licensing", (EVIDENCE,)),),
        facts=Facts(amounts=("$2 million",)),
        published_utc="2026-11-25T16:05:00Z",
        rule="CLRB",
        ticker="CLRB",
    )


MESSAGE = render_alert(hostile_alert(), datetime(2026, 11, 25, 16, 5, 48, tzinfo=UTC))


def received(handler):
    (envelope,) = handler.envelopes
    return envelope, message_from_bytes(envelope.original_content, policy=policy.default)


def test_starttls_with_login_delivers_multipart_alternative(
    smtp_server, server_tls, client_tls, password
):
    port, handler = smtp_server(
        tls_context=server_tls, require_starttls=True, authenticator=check_login
    )
    EmailNotifier(settings(port), ssl_context=client_tls).send(MESSAGE)

    envelope, mail = received(handler)
    assert envelope.rcpt_tos == ["analyst@biomon.test"]
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Subject"] == MESSAGE.title
    assert mail["Subject"].startswith("[CLRB] licensing: Cellectar licenses")
    assert mail["Date"] and mail["Message-ID"].endswith("@biomon.test>")
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert EVIDENCE in text and EVIDENCE in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;" in html
    assert "<script>" not in html


def test_implicit_tls_delivers(smtp_server, server_tls, client_tls, password):
    # With implicit TLS aiosmtpd offers AUTH only when told TLS is not required (it cannot tell).
    port, handler = smtp_server(
        ssl_context=server_tls, authenticator=check_login, auth_require_tls=False
    )
    EmailNotifier(settings(port, security="ssl"), ssl_context=client_tls).send(MESSAGE)
    _, mail = received(handler)
    assert mail["Subject"] == MESSAGE.title


def test_plain_smtp_without_login_delivers(smtp_server):
    port, handler = smtp_server()
    EmailNotifier(settings(port, security="none", username=None, password_env=None)).send(MESSAGE)
    _, mail = received(handler)
    assert mail.get_content_type() == "multipart/alternative"


def test_wrong_password_is_login_refused_without_the_password(
    smtp_server, server_tls, client_tls, monkeypatch
):
    monkeypatch.setenv(PASSWORD_ENV, "hunter2-wrong")
    port, handler = smtp_server(tls_context=server_tls, authenticator=check_login)
    with pytest.raises(NotifyError) as raised:
        EmailNotifier(settings(port), ssl_context=client_tls).send(MESSAGE)
    assert str(raised.value).startswith(f"login refused for user '{USER}' (535 ")
    assert "hunter2" not in str(raised.value)
    assert handler.envelopes == []


def test_missing_password_variable_is_named(smtp_server, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    port, _ = smtp_server()
    with pytest.raises(NotifyError) as raised:
        EmailNotifier(settings(port)).send(MESSAGE)
    assert str(raised.value) == "password environment variable BIOMON_SMTP_PASSWORD is not set"


def test_refused_recipient_is_named(smtp_server):
    port, _ = smtp_server(RefuseRecipients())
    with pytest.raises(NotifyError) as raised:
        EmailNotifier(settings(port, security="none", username=None)).send(MESSAGE)
    assert (
        str(raised.value)
        == "recipient refused: analyst@biomon.test (550 5.1.1 mailbox unavailable)"
    )


def test_partly_refused_recipients_are_logged_not_raised(smtp_server, caplog):
    # Raising would make the outbox send again to the recipient who already has it.
    port, handler = smtp_server(RefuseRecipients(refused=("gone@biomon.test",)))
    to = ("analyst@biomon.test", "gone@biomon.test")
    EmailNotifier(settings(port, security="none", username=None, to=to)).send(MESSAGE)
    envelope, _ = received(handler)
    assert envelope.rcpt_tos == ["analyst@biomon.test"]
    assert "recipient refused: gone@biomon.test (550 5.1.1 mailbox unavailable)" in caplog.text


def test_nothing_listening_cannot_connect():
    port = free_port()
    with pytest.raises(NotifyError) as raised:
        EmailNotifier(settings(port, security="none", username=None)).send(MESSAGE)
    assert str(raised.value) == f"cannot connect to 127.0.0.1:{port} (connection refused)"


def test_unresolvable_host_cannot_resolve():
    with pytest.raises(NotifyError) as raised:
        EmailNotifier(
            settings(25, host="smtp.biomon.invalid", security="none", username=None)
        ).send(MESSAGE)
    assert str(raised.value).startswith("cannot resolve smtp host 'smtp.biomon.invalid'")


def test_server_without_starttls_is_a_tls_failure(smtp_server, password):
    port, handler = smtp_server()
    with pytest.raises(NotifyError) as raised:
        EmailNotifier(settings(port)).send(MESSAGE)
    assert str(raised.value) == f"TLS failed with 127.0.0.1:{port}: server does not offer STARTTLS"
    assert handler.envelopes == []


def test_untrusted_certificate_is_a_tls_failure(smtp_server, server_tls, password):
    port, _ = smtp_server(tls_context=server_tls, authenticator=check_login)
    with pytest.raises(NotifyError) as raised:
        EmailNotifier(settings(port)).send(MESSAGE)  # default context: the test CA is not trusted
    assert str(raised.value).startswith(
        f"TLS failed with 127.0.0.1:{port}: certificate verify failed"
    )


def test_probe_names_missing_settings_without_connecting():
    assert EmailNotifier(settings(free_port())).probe() is None
    incomplete = EmailNotifier(EmailSettings(host="", sender="", to=()))
    assert incomplete.probe() == "email settings incomplete: host, sender, to not set"
    with pytest.raises(NotifyError, match="email settings incomplete"):
        incomplete.send(MESSAGE)
