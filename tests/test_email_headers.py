"""Hostile feed titles in email: what a real mail parser reads back is the visible title.

Every message goes through a real SMTP server on 127.0.0.1 (aiosmtpd) and is parsed as a mail
client would (`email.message_from_bytes`, `policy.default`).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from monitor.models import AlertContent, Facts, Message
from monitor.notify.email import EmailNotifier, EmailSettings
from monitor.notify.render import desktop_text, render_alert, render_digest

pytest.importorskip("aiosmtpd.controller")
from tests.smtp import SmtpSink  # noqa: E402  (needs aiosmtpd)

NOW = datetime(2026, 11, 25, 16, 5, 48, tzinfo=UTC)
# base64 of "[CLRB] licensing: FDA approval": what a spoofed subject would decode to
SPOOF = "=?utf-8?b?W0NMUkJdIGxpY2Vuc2luZzogRkRBIGFwcHJvdmFs?="
INVISIBLE = ["\x00", "\x1b", "\x7f", "\x9b", "\u202e", "\u202a", "\u2066", "\u2069", "\u200e",
             "\u200f", "\u061c"]  # fmt: skip

# (title in the feed, the title a reader sees)
TITLES = [
    ("Cellectar\x00 licenses WARF", "Cellectar licenses WARF"),
    ("Cellectar \u202eFRAW\u202c licenses", "Cellectar FRAW licenses"),
    ("\u2066Soligenix\u2069 \u200egrant\u200f \u061cnow", "Soligenix grant now"),
    ("Colour \x1b[31mred\x1b[0m alert", "Colour [31mred[0m alert"),
    ("C1\x85next \x9bcontrol", "C1 next control"),
    ("Line one\r\nBcc: victim@example.com", "Line one Bcc: victim@example.com"),
    (f"Hello {SPOOF} world", f"Hello {SPOOF} world"),
    (SPOOF, SPOOF),
    ("Caf\u00e9 =?iso-8859-1?q?=E9vil?= r\u00e9sum\u00e9", "Caf\u00e9 =?iso-8859-1?q?=E9vil?= r\u00e9sum\u00e9"),
    ("=?", "=?"),
]  # fmt: skip


class RawSink(SmtpSink):
    """The shared sink, also keeping the bytes as they arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.raw.append(envelope.original_content)
        self.recipients = list(envelope.rcpt_tos)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def sink():
    server = RawSink().start()
    yield server
    server.stop()


def notifier(sink: SmtpSink) -> EmailNotifier:
    return EmailNotifier(
        EmailSettings(
            host="127.0.0.1",
            port=sink.port,
            security="none",
            sender="biomon <biomon@test>",
            to=("analyst@test",),
            timeout=5,
        )
    )


def alert(title: str) -> AlertContent:
    return AlertContent(
        source="globenewswire",
        release_id="1",
        title=title,
        url="https://www.globenewswire.com/news-release/1",
        tickers=("NASDAQ:CLRB",),
        issuer="Cellectar \u202eBiosciences\x00",
        primary="licensing",
        tags=("licensing",),
        evidence=(("licensing", (f"Evidence: {title}",)),),
        facts=Facts(),
        published_utc="2026-11-25T16:05:00Z",
        rule="CLRB",
        ticker="CLRB",
    )


def send_and_receive(sink: RawSink, message: Message):
    notifier(sink).send(message)
    assert sink.wait_for(lambda subjects: len(subjects) == 1)
    raw = sink.raw[0]
    return raw, message_from_bytes(raw, policy=policy.default)


@pytest.mark.parametrize(("title", "visible"), TITLES, ids=[repr(t[0])[1:25] for t in TITLES])
def test_subject_as_a_client_reads_it_is_the_visible_title(sink, title, visible):
    raw, mail = send_and_receive(sink, render_alert(alert(title), NOW))
    assert str(mail["Subject"]) == f"[CLRB] licensing: {visible}"
    assert sink.recipients == ["analyst@test"]
    assert mail["Bcc"] is None
    assert b"\x00" not in raw and b"\x1b" not in raw
    headers = raw.split(b"\r\n\r\n")[0]
    # Never in the headers as a bare encoded word of its own, which a client would decode.
    assert SPOOF.encode() not in headers and b"=?iso-8859-1?q?=E9vil?=" not in headers


@pytest.mark.parametrize(("title", "visible"), TITLES, ids=[repr(t[0])[1:25] for t in TITLES])
def test_text_and_html_show_the_visible_title_without_controls(sink, title, visible):
    _, mail = send_and_receive(sink, render_alert(alert(title), NOW))
    text = mail.get_body(("plain",)).get_content()
    page = mail.get_body(("html",)).get_content()
    assert text.splitlines()[0] == visible
    assert text.splitlines()[1] == "NASDAQ:CLRB · Cellectar Biosciences"
    assert f'<h3 style="font-size:16px;margin:0 0 4px 0">{html.escape(visible)}</h3>' in page
    assert f"<title>[CLRB] licensing: {html.escape(visible)}</title>" in page
    for char in INVISIBLE:
        assert char not in text and char not in page


def test_a_message_not_rendered_here_is_cleaned_too(sink):
    # The heartbeat alarm and future channels build Messages of their own.
    message = Message(title=f"alarm\x00\u202e {SPOOF}\n", text="body\n", html="<p>body</p>")
    _, mail = send_and_receive(sink, message)
    assert str(mail["Subject"]) == f"alarm {SPOOF}"


def test_digest_subject_and_desktop_text_drop_controls():
    contents = [alert("A\x00 \u202eB"), alert("C\u2066D")]
    digest = render_digest(contents, NOW, "16:00\x00-17:00")
    assert all(char not in digest.text + digest.html for char in INVISIBLE)
    title, body = desktop_text(alert("Cellectar\x00 \u202elicenses"))
    assert body.splitlines()[0] == "Cellectar licenses"
    assert all(char not in title + body for char in INVISIBLE)
