"""A wrong config exits 2 with one line naming the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config

GOOD = """\
[storage]
path = "../data/biomon.db"
[poll]
interval = 60
user_agent = "biomon/0.1 (you@example.com)"
feeds = ["https://www.globenewswire.com/RssFeed/exchange/NASDAQ"]
[[watch]]
ticker = "CLRB"
company = "Cellectar Biosciences"
feeds = []
alert_tags = ["licensing", "grant", "trial"]
"""


def history_with(write_config, text: str):
    path = write_config(text)
    return path, CliRunner().invoke(cli, ["--config", str(path), "history"])


def test_contract_shape_loads_with_paths_relative_to_the_file(write_config, tmp_path):
    config = load_config(write_config(GOOD))
    assert config.storage.path == (tmp_path.parent / "data" / "biomon.db").resolve()
    assert config.watch[0].ticker.symbol == "CLRB"
    assert config.watch[0].alert_tags == ("licensing", "grant", "trial")


def test_example_config_is_valid():
    config = load_config(Path(__file__).parent.parent / "config" / "biomon.toml")
    assert any(w.ticker.symbol == "CLRB" for w in config.watch)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("[poll]", "[poll\n"), ": invalid TOML: "),
        (GOOD.replace("interval = 60", "intervall = 60"), ": poll.intervall: unknown key"),
        (GOOD.replace("interval = 60", 'interval = "often"'), ": poll.interval: expected an integer, got a string 'often'"),
        (GOOD.replace("interval = 60", "interval = 0"), ": poll.interval: must be at least 1"),
        (GOOD.replace('ticker = "CLRB"', "ticker = 42"), ": watch[0].ticker: expected a string, got an integer 42"),
        (GOOD.replace('ticker = "CLRB"', 'ticker = "not a ticker!"'), ": watch[0].ticker: not a ticker"),
        (GOOD.replace('feeds = []', "feeds = [1]"), ": watch[0].feeds[0]: expected a string"),
        (GOOD.replace('feeds = ["https', 'feeds = ["ftp'), ": poll.feeds[0]: not an http(s) URL"),
        (GOOD.split("[[watch]]")[0] + "[[watch]]\nfeeds = []\n", ": watch[0]: needs a ticker, a company, keywords, alert_tags or a query"),
        (GOOD + '[notify.email]\nhost = "smtp.example.com"\nfrom = "a@b"\n', ": notify.email.to: missing"),
        (GOOD + '[notify.desktop]\nquiet_hours = "late"\n', ': notify.desktop.quiet_hours: \'late\' is not a time range; write "22:00-07:00"'),
        (GOOD + '[notify.desktop]\ntimezone = "Mars/Olympus"\n', ": notify.desktop.timezone: unknown time zone"),
        (GOOD.replace("feeds = []", 'feeds = []\nchannels = ["pager"]'), ": watch[0].channels[0]: unknown channel 'pager'"),
        (GOOD + '[classify.patterns]\nlicensing = ["(unclosed"]\n', ": classify.patterns.licensing[0]: bad regular expression"),
        (GOOD + "[extra]\n", ": extra: unknown key"),
        ("watch = 3\n" + GOOD.split("[[watch]]")[0], ": watch: must be an array of tables"),
        (GOOD.replace('"grant", "trial"]', '"grnat", "trial"]'), ": watch[0].alert_tags[1]: unknown tag 'grnat'; did you mean 'grant'?"),
        (GOOD + '[classify.patterns]\ngrnat = ["x"]\n', ": classify.patterns.grnat: unknown tag 'grnat'; did you mean 'grant'?"),
    ],
    ids=["bad-toml", "unknown-key", "wrong-type", "out-of-range", "ticker-type", "ticker-value",
         "feed-type", "feed-scheme", "empty-watch", "email-no-to", "quiet-hours", "timezone",
         "channel", "bad-pattern", "unknown-table", "watch-not-array", "alert-tag-typo",
         "pattern-tag-typo"],
)  # fmt: skip
def test_bad_config_exits_2_with_one_line(write_config, text, expected):
    path, result = history_with(write_config, text)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"biomon: config error: {path}")
    assert expected in lines[0]
    assert "Traceback" not in result.output


def test_missing_file_exits_2(tmp_path):
    missing = tmp_path / "nope.toml"
    result = CliRunner().invoke(cli, ["--config", str(missing), "poll", "--once"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"biomon: config error: {missing}: file not found; write one with `biomon init` or pass --config PATH"
    )


def test_environment_variable_names_the_config(write_config, monkeypatch, tmp_path):
    path = write_config(GOOD.replace("interval = 60", "interval = -1"), name="env.toml")
    monkeypatch.setenv("BIOMON_CONFIG", str(path))
    result = CliRunner().invoke(cli, ["history"])
    assert result.exit_code == 2
    assert str(path) in result.output


def test_config_option_beats_environment(write_config, monkeypatch):
    monkeypatch.setenv("BIOMON_CONFIG", "/nonexistent/biomon.toml")
    good = write_config(GOOD.replace("../data/biomon.db", "b.db"))
    result = CliRunner().invoke(cli, ["--config", str(good), "history"])
    # The good config is read: its database is named (not there yet: reading never creates it).
    assert result.exit_code == 1, result.output
    assert f"{good.parent / 'b.db'}: no such database" in result.output


def test_without_any_config_file_the_error_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["history"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"biomon: config error: {tmp_path / 'xdg' / 'biomon' / 'biomon.toml'}: not found, nor "
        "./config/biomon.toml; write it with `biomon init`, or pass --config PATH"
    )
