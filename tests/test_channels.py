"""Channels as plug-ins: the registry, each channel's keys checked at load, names, templates."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import textwrap
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

import monitor.notify
from monitor.cli import cli
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.models import AlertContent, Facts
from monitor.notify.apprise import auto_name, mask_url, scrub
from monitor.notify.registry import (
    NOT_CHANNELS,
    build_notifiers,
    channel_types,
    render,
    render_digest_for,
)
from monitor.notify.templates import FIELDS, template_problem

NOW = datetime(2026, 11, 25, 16, 5, 48, tzinfo=UTC)
BASE = """\
[storage]
path = "biomon.db"
[poll]
user_agent = "biomon-test/0.1"
feeds = ["http://127.0.0.1:1/feed.xml"]
[[watch]]
ticker = "CLRB"
"""
EMAIL = """
[notify.email]
host = "127.0.0.1"
from = "biomon@test"
to = ["analyst@test"]
"""
WEBHOOK = '\n[notify.webhook]\nurl = "http://127.0.0.1:1/hook"\n'


def content(**changes) -> AlertContent:
    values = dict(
        source="globenewswire",
        release_id="4000100",
        title="Cellectar Signs Exclusive License Agreement With WARF",
        url="https://www.globenewswire.com/news-release/2026/11/25/4000100/0/en/x.html",
        tickers=("NASDAQ:CLRB",),
        issuer="Cellectar Biosciences, Inc.",
        primary="licensing",
        tags=("licensing", "radiopharmaceutical"),
        evidence=(("licensing", ("Cellectar entered into an exclusive license with WARF.",)),),
        facts=Facts(amounts=("$2 million",), phases=("Phase 2",)),
        published_utc="2026-11-25T16:05:00Z",
        rule="CLRB",
        ticker="CLRB",
    )
    return AlertContent(**(values | changes))


def load(write_config, text: str):
    return load_config(write_config(BASE + text))


def config_error(write_config, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(write_config, text)
    return str(caught.value)


# ---- the registry


def test_every_channel_module_is_found_in_order():
    assert list(channel_types()) == ["desktop", "email", "webhook", "apprise"]


def test_the_scan_skips_only_modules_that_declare_no_channel():
    # Skipped: `_<kind>_send.py` (a channel's sending half) and the package's own helpers.
    for module in pkgutil.iter_modules(monitor.notify.__path__):
        declared = hasattr(importlib.import_module(f"monitor.notify.{module.name}"), "CHANNEL")
        skipped = module.name.startswith("_") or module.name in NOT_CHANNELS
        assert declared != skipped, module.name


@pytest.mark.parametrize(
    ("kind", "names"),
    [
        ("email", ["EmailNotifier", "build_email", "set_subject"]),
        ("desktop", ["DesktopNotifier", "LogNotifier", "default_backend", "DBUS", "PLYER"]),
        ("webhook", ["WebhookNotifier", "build_payload", "event", "signature", "delivery_id"]),
    ],
)
def test_a_channel_module_names_its_sending_half(kind, names):
    channel = importlib.import_module(f"monitor.notify.{kind}")
    sending = importlib.import_module(f"monitor.notify._{kind}_send")
    for name in names:
        assert getattr(channel, name) is getattr(sending, name)
    with pytest.raises(AttributeError, match="has no attribute 'Nothing'"):
        channel.Nothing  # noqa: B018


def test_a_new_module_in_monitor_notify_is_a_new_channel(tmp_path, monkeypatch, write_config):
    """Adding a channel is one file: keys, build, render and send live in it, nowhere else."""
    (tmp_path / "pager.py").write_text(
        textwrap.dedent(
            """
            from monitor.notify.registry import ChannelType, Key

            class PagerNotifier:
                def __init__(self, name, number):
                    self.name, self.number, self.sent = name, number, []

                def probe(self):
                    return None

                def send(self, message):
                    self.sent.append(message.title)

            class PagerChannel(ChannelType):
                kind = "pager"
                keys = {"number": Key(str, "", check=lambda v: None if v.isdigit() else "digits")}

                def build(self, channel):
                    return PagerNotifier(channel.name, channel.setting("number")), None

            CHANNEL = PagerChannel()
            """
        )
    )
    monkeypatch.setattr(monitor.notify, "__path__", [*monitor.notify.__path__, str(tmp_path)])
    channel_types.cache_clear()
    try:
        assert "pager" in channel_types()
        config = load(write_config, '[notify.pager]\nnumber = "555"\n')
        assert config.notify.enabled == ("pager",)
        notifiers, _ = build_notifiers(config.notify)
        pager = notifiers["pager"]
        pager.send(render(config.notify.channel("pager"), content(), NOW))
        assert pager.number == "555" and pager.sent == ["[CLRB] licensing: " + content().title]
        message = config_error(write_config, '[notify.pager]\nnumber = "call me"\n')
        assert "notify.pager.number: digits" in message
    finally:
        channel_types.cache_clear()
        sys.modules.pop("monitor.notify.pager", None)


def test_each_channel_declares_its_own_keys(write_config):
    message = config_error(write_config, WEBHOOK + "colour = 1\n")
    assert "notify.webhook.colour: unknown key; expected one of:" in message
    assert "secret_env" in message and "quiet_hours" in message and "host" not in message


def test_email_defaults_come_from_its_module(write_config):
    channel = load(write_config, EMAIL).notify.channel("email")
    assert (channel.setting("port"), channel.setting("security")) == (587, "starttls")
    assert channel.setting("timeout") == 20


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("\n[notify.webhook]\n", "notify.webhook.url", "missing"),
        ('\n[notify.webhook]\nurl = "ftp://x/y"\n', "notify.webhook.url", "not an http(s) URL"),
        (WEBHOOK + "timeout = nan\n", "notify.webhook.timeout", "finite"),
        (WEBHOOK + "timeout = 0\n", "notify.webhook.timeout", "at least 0.1"),
        (WEBHOOK + "timeout = 1e9\n", "notify.webhook.timeout", "at most 600"),
        (WEBHOOK + 'secret_env = "A\\u0000B"\n', "notify.webhook.secret_env", "U+0000"),
        (WEBHOOK + 'body_html = "<p>$title</p>"\n', "notify.webhook.body_html", "unknown key"),
        (EMAIL + 'security = "tls"\n', "notify.email.security", "must be one of starttls, ssl, none"),
        (EMAIL + 'username = "me"\n', "notify.email.password_env", "missing; username 'me'"),
        (EMAIL.replace('"analyst@test"', '"analyst"'), "notify.email.to[0]", "not an email address"),
        (EMAIL + 'subject = "$tikcer news"\n', "notify.email.subject", "unknown field $tikcer; did you mean $ticker?"),
        (EMAIL + 'body = "costs $5"\n', "notify.email.body", "bad placeholder at position 6"),
        (EMAIL + 'subject = "a\\nBcc: x"\n', "notify.email.subject", "U+000A"),
        ("\n[notify.apprise]\n", "notify.apprise.urls", "missing"),
        ('\n[notify.apprise]\nurls = ["not a url"]\n', "notify.apprise.urls[0]", "not a URL of the form"),
        ('\n[notify.apprise]\nurls = "json://x"\n', "notify.apprise.urls", "expected an array of strings or a table"),
        ('\n[notify.apprise.urls]\nemail = "json://127.0.0.1/x"\n', "notify.apprise.urls.email", "cannot name a channel"),
        ('\n[notify.apprise]\nurls = ["json://127.0.0.1/x", "json://127.0.0.1/x?method=PUT"]\n', "notify.apprise.urls[1]", "listed twice"),
        ('\n[notify]\nurgent_tags = ["licencing"]\n', "notify.urgent_tags[0]", "did you mean 'licensing'?"),
        ('\n[notify]\nurgent = ["licensing"]\n', "notify.urgent", "unknown key"),
        ('channels = ["pager"]\n', "watch[0].channels[0]", "unknown channel 'pager'"),
        ('email_to = ["bd"]\n', "watch[0].email_to[0]", "not an email address"),
        ('channels = ["webhook"]\nemail_to = ["bd@test"]\n' + WEBHOOK, "watch[0].email_to", "leave out email"),
        ('\n[daemon]\nheartbeat_channel = "pager"\n', "daemon.heartbeat_channel", "unknown channel 'pager'"),
    ],
    ids=["webhook-no-url", "webhook-scheme", "timeout-nan", "timeout-zero", "timeout-huge",
         "control-char", "html-template-on-json", "email-security", "email-password-env",
         "email-to-address", "template-typo", "template-dollar", "subject-newline",
         "apprise-no-urls", "apprise-not-url", "apprise-urls-type", "apprise-reserved-name",
         "apprise-same-url", "urgent-tag-typo", "notify-unknown-key", "watch-channel",
         "email-to-address-watch", "email-to-without-email", "heartbeat-channel"],
)  # fmt: skip
def test_bad_channel_settings_are_config_errors_at_load(write_config, text, key, expected):
    message = config_error(write_config, text)
    assert f": {key}: " in message and expected in message, message


def test_a_bad_config_names_the_key_in_one_line_on_the_cli(write_config):
    path = write_config(BASE + EMAIL + 'subject = "$nope"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "history"])
    assert result.exit_code == 2
    assert result.output.strip().startswith(f"biomon: config error: {path}: notify.email.subject")


# ---- channel names: the outbox's exactly-once is on (release, channel name)


def test_apprise_channels_are_named_by_url_and_survive_reordering(write_config):
    urls = ['"json://127.0.0.1:9/a"', '"ntfy://127.0.0.1:9/topic"']
    first = load(write_config, f"\n[notify.apprise]\nurls = [{', '.join(urls)}]\n").notify
    again = load(write_config, f"\n[notify.apprise]\nurls = [{', '.join(urls[::-1])}]\n").notify
    names = [c.name for c in first.channels if c.kind == "apprise"]
    assert names == [
        "apprise:json-" + auto_name("json://127.0.0.1:9/a")[-8:],
        auto_name("ntfy://127.0.0.1:9/topic"),
    ]
    assert sorted(names) == sorted(c.name for c in again.channels if c.kind == "apprise")


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("ntfys://ntfy.sh/biomon", "ntfys://ntfy.sh/biomon?priority=high", True),
        ("ntfys://ntfy.sh/biomon", "NTFYS://ntfy.sh/biomon#x", True),
        ("ntfys://ntfy.sh/biomon", "ntfys://ntfy.sh/other", False),
        ("tgram://1:AAA/42", "tgram://1:BBB/42", False),
    ],
)
def test_auto_names_ignore_options_not_destinations(one, other, same):
    assert (auto_name(one) == auto_name(other)) is same


def test_named_urls_keep_their_name_when_the_token_changes(write_config):
    def names(token: str) -> list[str]:
        text = f'\n[notify.apprise.urls]\nphone = "ntfy://127.0.0.1:9/{token}"\n'
        return [c.name for c in load(write_config, text).notify.channels if c.kind == "apprise"]

    assert names("old-token") == names("new-token") == ["phone"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("tgram://123456789:AAHsecret/12345", "tgram://***/***"),
        ("ntfys://ntfy.sh/biomon-topic?priority=high", "ntfys://ntfy.sh/***"),
        ("json://user:pass@127.0.0.1:8080/hook", "json://***@127.0.0.1:8080/***"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXr", "slack://***/***"),
        ("mailto://me:pw@gmail.com", "mailto://***@gmail.com"),
        ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711", "discord://***/***"),
    ],
)
def test_urls_are_shown_masked(url, shown):
    assert mask_url(url) == shown


def test_scrub_takes_every_secret_part_out_of_a_text():
    url = "tgram://123456789:AAHsecretTOKEN/98765"
    said = "Failed to send to chat 98765 with bot 123456789:AAHsecretTOKEN (AAHsecretTOKEN)"
    assert scrub(said, url) == "Failed to send to chat *** with bot *** (***)"


# ---- templates


def test_every_field_has_a_value():
    values = dict(render_fields())
    assert set(values) == set(FIELDS)
    assert values["lead"] == "CLRB" and values["tags"] == "licensing, radiopharmaceutical"
    assert values["facts"] == "Amounts: $2 million | Phases: Phase 2"
    assert values["published"] == "2026-11-25 16:05 UTC"
    assert values["evidence"] == "Cellectar entered into an exclusive license with WARF."


def render_fields():
    from monitor.notify.templates import fields

    return fields(content(), NOW).items()


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("$ticker: $title", None),
        ("${ticker}s and $$5", None),
        ("$titel", "unknown field $titel; did you mean $title?"),
        ("$zzz", "unknown field $zzz; the fields are $title, $lead"),
        ("cost $", "bad placeholder at position 5"),
        ("${ticker", "bad placeholder at position 0"),
    ],
)
def test_template_problems_are_found_before_any_send(template, problem):
    found = template_problem(template)
    assert (found is None) if problem is None else (problem in found)


def test_templates_replace_subject_and_body(write_config):
    text = EMAIL + 'subject = "$lead | $primary | $title"\nbody = "$title\\n$url\\n$facts"\n'
    channel = load(write_config, text).notify.channel("email")
    message = render(channel, content(), NOW)
    assert message.title == f"CLRB | licensing | {content().title}"
    assert (
        message.text == f"{content().title}\n{content().url}\nAmounts: $2 million | Phases: Phase 2"
    )
    assert message.html == ""  # a text template makes a text-only mail


def test_html_template_escapes_every_value_and_drops_unsafe_links(write_config):
    text = EMAIL + "body_html = '<p><a href=\"$url\">$title</a> ($issuer)</p>'\n"
    channel = load(write_config, text).notify.channel("email")
    hostile = content(title='<script>alert(1)</script> & "x"', url="javascript:alert(1)",
                      issuer="<img src=x onerror=alert(1)>")  # fmt: skip
    message = render(channel, hostile, NOW)
    assert (
        '<p><a href="">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;</a>'
        in message.html
    )
    assert "(&lt;img src=x onerror=alert(1)&gt;)" in message.html
    assert "<script>" not in message.html and "javascript:" not in message.html
    assert (
        message.text == render(load(write_config, EMAIL).notify.channel("email"), hostile, NOW).text
    )


def test_template_values_lose_control_and_bidi_characters(write_config):
    channel = load(write_config, EMAIL + 'subject = "$title"\n').notify.channel("email")
    message = render(channel, content(title="CLRB\x00 \u202esigns\r\nBcc: x@y"), NOW)
    assert message.title == "CLRB signs Bcc: x@y"


def test_channels_without_templates_keep_their_own_layout(write_config):
    notify = load(write_config, EMAIL + "[notify.desktop]\n" + WEBHOOK).notify
    email = render(notify.channel("email"), content(), NOW)
    desktop = render(notify.channel("desktop"), content(), NOW)
    assert email.title.startswith("[CLRB] licensing: ") and "<html>" in email.html
    assert desktop.title == "CLRB · licensing" and desktop.html == ""
    assert render(notify.channel("webhook"), content(), NOW).contents == (content(),)


def test_digests_carry_their_alerts_and_period(write_config):
    channel = load(write_config, WEBHOOK).notify.channel("webhook")
    digest = render_digest_for(channel, [content(), content(release_id="2")], NOW, "60 minutes")
    assert digest.digest == "60 minutes" and len(digest.contents) == 2
    assert digest.title.startswith("biomon digest: 2 alerts")
