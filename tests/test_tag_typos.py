"""Typos in tag names are config errors: one line, exit 2, naming the nearest known tag. A tag of
one's own is declared in `[classify] new_tags`, then has patterns and may be alerted on."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config, tag_problem

BASE = """\
[storage]
path = "biomon.db"
[poll]
feeds = ["https://www.globenewswire.com/RssFeed/exchange/NASDAQ"]
"""
RADIO = '["\\\\bradio(?:ligand|pharmaceutical)s?\\\\b"]'


def one_error_line(write_config, text: str, command: tuple[str, ...] = ("history",)) -> str:
    path = write_config(text)
    result = CliRunner().invoke(cli, ["--config", str(path), *command])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"biomon: config error: {path}: ")
    return lines[0].removeprefix(f"biomon: config error: {path}: ")


@pytest.mark.parametrize("command", [("history",), ("reclassify",), ("poll", "--once")])
def test_alert_tag_typo_names_the_nearest_tag(write_config, command):
    text = BASE + '[[watch]]\nticker = "CLRB"\nalert_tags = ["licensing", "grnat"]\n'
    assert one_error_line(write_config, text, command) == (
        "watch[0].alert_tags[1]: unknown tag 'grnat'; did you mean 'grant'?"
    )


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [("licencing", "licensing"), ("trail", "trial"), ("regulator", "regulatory"),
     ("confrence", "conference"), ("deals", "deal"), ("earning", "earnings")],
)  # fmt: skip
def test_alert_tag_typos_in_a_later_watch(write_config, typed, nearest):
    text = (
        BASE + f'[[watch]]\nticker = "CLRB"\n[[watch]]\nticker = "SNGX"\nalert_tags = ["{typed}"]\n'
    )
    assert one_error_line(write_config, text) == (
        f"watch[1].alert_tags[0]: unknown tag '{typed}'; did you mean '{nearest}'?"
    )


def test_alert_tag_far_from_every_tag_lists_the_tags(write_config):
    text = BASE + '[[watch]]\nticker = "CLRB"\nalert_tags = ["xyzzy"]\n'
    message = one_error_line(write_config, text)
    assert message.startswith(
        "watch[0].alert_tags[0]: unknown tag 'xyzzy'; the tags are licensing,"
    )
    assert "[classify] new_tags" in message


def test_pattern_key_typo_names_the_nearest_tag(write_config):
    text = BASE + "[classify.patterns]\nlicencing = " + RADIO + "\n"
    assert one_error_line(write_config, text, ("reclassify",)) == (
        "classify.patterns.licencing: unknown tag 'licencing'; did you mean 'licensing'? "
        "(new tags go in [classify] new_tags)"
    )


def test_undeclared_new_tag_in_patterns_is_an_error(write_config):
    text = BASE + "[classify.patterns]\nradiopharma = " + RADIO + "\n"
    message = one_error_line(write_config, text)
    assert message.startswith("classify.patterns.radiopharma: unknown tag 'radiopharma'")
    assert "[classify] new_tags" in message


def test_declared_new_tag_takes_patterns_and_alert_tags(write_config):
    text = (
        BASE + '[[watch]]\nticker = "CLRB"\nalert_tags = ["Radiopharma", "grant"]\n'
        '[classify]\nnew_tags = ["radiopharma"]\n'
        "[classify.patterns]\nradiopharma = "
        + RADIO
        + '\nlicensing = ["\\\\bsublicen[cs]e\\\\b"]\n'
    )
    config = load_config(write_config(text))
    assert config.new_tags == ("radiopharma",)
    assert config.watch[0].alert_tags == ("radiopharma", "grant")
    assert [tag for tag, _ in config.tag_patterns] == ["radiopharma", "licensing"]


def test_typo_of_a_declared_new_tag_names_it(write_config):
    text = (
        BASE + '[[watch]]\nticker = "CLRB"\nalert_tags = ["radiopharm"]\n'
        '[classify]\nnew_tags = ["radiopharma"]\n[classify.patterns]\nradiopharma = ' + RADIO + "\n"
    )
    assert one_error_line(write_config, text) == (
        "watch[0].alert_tags[0]: unknown tag 'radiopharm'; did you mean 'radiopharma'?"
    )


@pytest.mark.parametrize(
    ("classify", "expected"),
    [
        ('new_tags = ["grant"]\n[classify.patterns]\ngrant = ["x"]\n',
         "classify.new_tags[0]: 'grant' is a built-in tag; list only new tags here"),
        ('new_tags = ["spinout"]\n',
         "classify.new_tags[0]: new tag 'spinout' has no patterns; add spinout = "),
        ('new_tags = ["spinout"]\n[classify.patterns]\nspinout = []\n',
         "classify.new_tags[0]: new tag 'spinout' has no patterns"),
        ('new_tags = ["Spin Out"]\n',
         "classify.new_tags[0]: 'Spin Out': tag names are lower-case letters, digits, - or _"),
        ('new_tags = "spinout"\n', "classify.new_tags: expected an array of strings"),
        ('new_tag = ["spinout"]\n', "classify.new_tag: unknown key; expected one of: new_tags, patterns"),
    ],
    ids=["built-in", "no-patterns", "empty-patterns", "bad-name", "not-array", "key-typo"],
)  # fmt: skip
def test_bad_new_tags_are_one_line_errors(write_config, classify, expected):
    assert one_error_line(write_config, BASE + "[classify]\n" + classify).startswith(expected)


# -- the checker others reuse (a query's `tag:`) ---------------------------------------------------


def test_tag_problem_is_reusable():
    assert tag_problem("grant") is None
    assert tag_problem("grnat") == "unknown tag 'grnat'; did you mean 'grant'?"
    assert tag_problem("spinout", ("spinout",)) is None
    assert tag_problem("spinot", ("spinout",)) == "unknown tag 'spinot'; did you mean 'spinout'?"
    assert "\n" not in tag_problem("xyzzy")


def test_a_mistyped_tag_in_a_query_is_refused_with_the_nearest(tmp_path):
    from click.testing import CliRunner

    from monitor.cli import cli
    from monitor.store import Store

    Store(tmp_path / "b.db").close()
    for args in (
        ["history", "tag:grnat"],
        ["history", "--tag", "grnat"],
        ["stats", "ticker:CLRB OR tag:grnat"],
    ):
        result = CliRunner().invoke(cli, ["--db", str(tmp_path / "b.db"), *args])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "unknown tag 'grnat'; did you mean 'grant'?" in lines[0]
    ok = CliRunner().invoke(cli, ["--db", str(tmp_path / "b.db"), "history", "tag:grant"])
    assert ok.exit_code == 0, ok.output


def test_a_mistyped_tag_in_a_saved_query_is_a_config_error(write_config):
    from monitor.config import load_config
    from monitor.errors import ConfigError

    path = write_config('[storage]\npath = "b.db"\n[queries]\ndeals = "ticker:CLRB tag:licensng"\n')
    try:
        load_config(path)
    except ConfigError as error:
        assert "queries.deals" in str(error)
        assert "unknown tag 'licensng'; did you mean 'licensing'?" in str(error)
    else:
        raise AssertionError("a mistyped tag in [queries] was accepted")
