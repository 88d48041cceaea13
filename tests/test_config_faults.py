"""Values TOML allows but biomon cannot use: each is one config-error line naming file and key."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config

BASE = """\
[storage]
path = "biomon.db"
busy_timeout = 30
[poll]
timeout = 20
host_gap = 0.5
backoff_max = 3600
user_agent = "biomon-test/0.1"
feeds = ["https://feeds.example/nasdaq.xml"]
[[watch]]
ticker = "CLRB"
feeds = ["https://feeds.example/clrb.xml"]
keywords = ["license"]
[[watch]]
ticker = "NASDAQ:SNGX"
[notify.email]
host = "smtp.example.com"
port = 587
from = "biomon@example.com"
to = ["analyst@example.com"]
timeout = 20
[daemon]
deliver_every = 5
[queries]
grants = "tag:grant"
"""

# (what to replace, with what, the key the error names, words of the message)
CASES = [
    ("timeout = 20\nhost_gap", "timeout = inf\nhost_gap", "poll.timeout", "finite number, got inf"),
    ("timeout = 20\nhost_gap", "timeout = nan\nhost_gap", "poll.timeout", "finite number, got nan"),
    ("host_gap = 0.5", "host_gap = -inf", "poll.host_gap", "finite number"),
    ("host_gap = 0.5", "host_gap = nan", "poll.host_gap", "finite number"),
    ("backoff_max = 3600", "backoff_max = +inf", "poll.backoff_max", "finite number"),
    ("busy_timeout = 30", "busy_timeout = inf", "storage.busy_timeout", "finite number"),
    ("busy_timeout = 30", "busy_timeout = 1e12", "storage.busy_timeout", "at most 86400"),
    ("[poll]\n", "[poll]\ninterval = 9223372036854775807\n", "poll.interval", "at most 1e+09"),
    ("[poll]\n", "[poll]\nworkers = 1000000\n", "poll.workers", "at most 1000"),
    ("timeout = 20\n[daemon]", "timeout = nan\n[daemon]", "notify.email.timeout", "finite"),
    ("deliver_every = 5", "deliver_every = inf", "daemon.deliver_every", "finite number"),
    ("[queries]", "[notify]\nretry_base = nan\n[queries]", "notify.retry_base", "finite"),
    ("port = 587", "port = 99999999", "notify.email.port", "at most 65535"),
    ("port = 587", "port = 0", "notify.email.port", "at least 1"),
    ("port = 587", "port = -25", "notify.email.port", "at least 1"),
    ('"https://feeds.example/nasdaq.xml"', '"http://[::1"', "poll.feeds[0]", "'http://[::1'"),
    ('"https://feeds.example/clrb.xml"', '"http://[::1/x"', "watch[0].feeds[0]", "not a valid URL"),
    ('"https://feeds.example/nasdaq.xml"', '"https://h:99999/"', "poll.feeds[0]", "Port out of"),
    ('"https://feeds.example/nasdaq.xml"', '"https://"', "poll.feeds[0]", "has no host"),
    ('"https://feeds.example/nasdaq.xml"', '"https://a b/"', "poll.feeds[0]", "has a space"),
    ('"https://feeds.example/nasdaq.xml"', '"https://a\\u0000b/"', "poll.feeds[0]", "U+0000"),
    ('grants = "tag:grant"', 'grants = "tag:grant\\u0000"', "queries.grants", "U+0000"),
    ('grants = "tag:grant"', 'grants = "tag:grant\\u001b[2J"', "queries.grants", "U+001B"),
    ('keywords = ["license"]', 'keywords = ["lic\\u0000ense"]', "watch[0].keywords[0]", "U+0000"),
    ('"biomon-test/0.1"', '"biomon\\r\\nX-Evil: 1"', "poll.user_agent", "U+000D"),
    ('from = "biomon@example.com"', 'from = "b@x\\nBcc: e@x"', "notify.email.from", "U+000A"),
    ('["analyst@example.com"]', '["a@x\\r\\nBcc: e@x"]', "notify.email.to[0]", "U+000D"),
    ('path = "biomon.db"', 'path = "bio\\u0000mon.db"', "storage.path", "U+0000"),
    ('path = "biomon.db"', 'path = "bio\\u0085mon.db"', "storage.path", "U+0085"),
    ('ticker = "NASDAQ:SNGX"', 'ticker = "CLRB"', "watch[1].ticker", "already watched by watch[0]"),
    ('ticker = "NASDAQ:SNGX"', 'ticker = "nasdaq:clrb"', "watch[1].ticker", "watch[0]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "key", "words"), CASES, ids=[c[2] + ":" + c[1][:20] for c in CASES]
)
def test_unusable_value_is_one_config_error_line(write_config, old, new, key, words):
    assert old in BASE
    path = write_config(BASE.replace(old, new, 1))
    result = CliRunner().invoke(cli, ["--config", str(path), "history"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"biomon: config error: {path}: {key}: "), lines[0]
    assert words in lines[0]


def test_the_base_config_is_valid(write_config):
    config = load_config(write_config(BASE))
    assert [str(w.ticker) for w in config.watch] == ["CLRB", "NASDAQ:SNGX"]
    assert config.notify.channel("email").setting("port") == 587


def test_same_symbol_on_two_exchanges_is_two_tickers(write_config):
    text = BASE.replace('ticker = "NASDAQ:SNGX"', 'ticker = "TSX:CLRB"').replace(
        'ticker = "CLRB"', 'ticker = "NASDAQ:CLRB"'
    )
    config = load_config(write_config(text))
    assert [str(w.ticker) for w in config.watch] == ["NASDAQ:CLRB", "TSX:CLRB"]


def test_queries_and_phrases_may_span_lines(write_config):
    text = BASE.replace('grants = "tag:grant"', "grants = '''tag:grant\n\tsince:2022'''").replace(
        'keywords = ["license"]', 'keywords = ["exclusive\\tlicense"]'
    )
    config = load_config(write_config(text))
    assert config.saved_query("grants") == "tag:grant\n\tsince:2022"
    assert config.watch[0].keywords == ("exclusive\tlicense",)


@pytest.mark.parametrize("value", ["0.1", "3600", "20"])
def test_email_timeout_within_bounds_loads(write_config, value):
    config = load_config(
        write_config(BASE.replace("timeout = 20\n[daemon]", f"timeout = {value}\n[daemon]"))
    )
    assert config.notify.channel("email").setting("timeout") == float(value)
