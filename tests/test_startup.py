"""Fast start: `biomon --help` and `biomon classify` import only what they need (issue 14).

Speed itself is measured in benchmarks/startup.py; these tests check the cause instead: which
modules a real `python -X importtime` process loads. A heavy library that leaks in (httpx pulls
its own CLI, rich and pygments; feedparser, bs4, sqlite_utils, APScheduler) fails them.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import monitor.cli
from monitor.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("httpx", "feedparser", "bs4", "sqlite_utils", "apscheduler", "rich", "pygments")
RELEASE = (
    "Acme Bio Announces Positive Topline Results from Phase 3 Trial\n"
    "Acme Bio today announced positive topline results from its Phase 3 trial of AC-1.\n"
)


def imported_modules(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh `python -X importtime -m monitor ARGS` process imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "monitor", *args],
        cwd=cwd,
        env={**_clean_env(cwd), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "click" in names  # the importtime lines were read
    return names


def _clean_env(home: Path) -> dict[str, str]:
    # No config of the user's or the checkout's: HOME and the working folder are empty.
    env = {key: value for key, value in os.environ.items() if not key.startswith("BIOMON_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONPATH=str(ROOT))
    return env


HEAVY_OWN = ("monitor.poller", "monitor.store", "monitor.fetch", "monitor.daemon")


def heavy_in(names: set[str], allowed: tuple[str, ...] = ()) -> list[str]:
    """The heavy modules among `names`: libraries in HEAVY (but `allowed`), biomon's own."""
    top = {name: name.split(".")[0] for name in names}
    return sorted(
        name
        for name in names
        if (top[name] in HEAVY and top[name] not in allowed) or name in HEAVY_OWN
    )


def test_help_imports_no_command_module(tmp_path):
    names = imported_modules(["--help"], tmp_path)
    assert heavy_in(names) == []
    assert not [
        name for name in names if name.startswith("monitor.cli.") and name != "monitor.cli.app"
    ]


@pytest.mark.parametrize("name", ["history", "classify", "watch", "run"])
def test_command_help_imports_no_heavy_library(tmp_path, name):
    # The group's callback runs before a command's --help: it must stay light too.
    names = imported_modules([name, "--help"], tmp_path)
    assert heavy_in(names) == []


def test_classify_json_imports_only_the_classifier(tmp_path):
    (tmp_path / "release.txt").write_text(RELEASE, encoding="utf-8")
    names = imported_modules(["classify", "--format", "json", "release.txt"], tmp_path)
    assert heavy_in(names) == []
    assert "monitor.classify.engine" in names


# What `biomon classify` must not import, whatever the format: the feed, HTTP and database
# libraries and the modules of the commands that use them, the query language, the config's
# rules, the writer of the rule literals' table and the catalyst extractors (only with a
# publication day).
CLASSIFY_NEVER = (
    "monitor.query",
    "monitor.rules",
    "monitor.notify.registry",
    "monitor.classify.catalysts",
    "monitor.classify.outcomes",
    "monitor.classify.make_literal_table",
    "sqlite3",
    "html.parser",
    "asyncio",
    "smtplib",
    "email.message",
)


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_classify_without_a_config_imports_only_what_it_uses(tmp_path, fmt):
    (tmp_path / "release.txt").write_text(RELEASE, encoding="utf-8")
    names = imported_modules(["classify", "--format", fmt, "release.txt"], tmp_path)
    assert heavy_in(names) == []  # the table is plain lines: no rich
    assert [name for name in CLASSIFY_NEVER if name in names] == []
    assert "monitor.classify.literal_table" in names


def test_classify_with_a_config_imports_no_poller_nor_feed_libraries(tmp_path):
    shutil.copy(ROOT / "config" / "biomon.toml", tmp_path / "biomon.toml")
    (tmp_path / "release.txt").write_text(RELEASE, encoding="utf-8")
    names = imported_modules(
        ["--config", "biomon.toml", "classify", "--format", "json", "release.txt"], tmp_path
    )
    assert "monitor.config" in names
    assert heavy_in(names) == []


# What loading a config must not import: the sending half of every channel (smtplib, ssl, the
# email package, subprocess, the D-Bus loop, httpx, apprise), the renderer (html), the query
# executor's SQLite and the feed libraries. A channel's settings are still checked at load.
CONFIG_NEVER = (
    "smtplib",
    "ssl",
    "email.message",
    "subprocess",
    "asyncio",
    "sqlite3",
    "zoneinfo",
    "html",
    "httpx",
    "feedparser",
    "bs4",
    "sqlite_utils",
    "apprise",
    "rich",
    "monitor.notify.render",
    "monitor.notify._email_send",
    "monitor.notify._desktop_send",
    "monitor.notify._webhook_send",
    "monitor.store",
    "monitor.fetch",
    "monitor.poller",
)


def modules_after(script: str, cwd: Path) -> set[str]:
    """sys.modules after `script` runs in a fresh Python (importtime misses import_module's)."""
    result = subprocess.run(
        [sys.executable, "-c", f"{script}\nimport sys; print(*sorted(sys.modules))"],
        cwd=cwd,
        env=_clean_env(cwd),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(result.stdout.split())


def test_classify_with_the_example_config_imports_no_sending_machinery(tmp_path):
    # What `biomon --config EXAMPLE classify FILE` (benchmarks/startup.py) loads.
    shutil.copy(ROOT / "config" / "biomon.toml", tmp_path / "biomon.toml")
    (tmp_path / "release.txt").write_text(RELEASE, encoding="utf-8")
    names = modules_after(
        "from monitor.cli import cli\n"
        "cli(['--config', 'biomon.toml', 'classify', 'release.txt'], standalone_mode=False)",
        tmp_path,
    )
    assert {"monitor.config", "monitor.notify.email", "monitor.notify.desktop"} <= names
    assert [name for name in CONFIG_NEVER if name in names] == []


FULL_CONFIG = """\
[storage]
path = "biomon.db"
[poll]
user_agent = "biomon-test/0.1 (a@example.com)"
feeds = ["http://127.0.0.1:1/feed.xml"]
[queries]
deals = 'tag:licensing OR tag:deal since:2024-06 -ticker:XYZ'
[[watch]]
ticker = "CLRB"
query = "@deals"
email_to = ["bd@example.com"]
[[watch]]
keywords = ["radioligand"]
query = 'issuer:"Cellectar" until:2026-02'
channels = ["desktop", "webhook"]
[notify]
urgent_tags = ["licensing"]
[notify.desktop]
open_command = "firefox --new-tab"
[notify.email]
host = "127.0.0.1"
from = "biomon@test"
to = ["analyst@test"]
subject = "[$ticker] $title"
body_html = "<p>$title</p>"
[notify.webhook]
url = "http://127.0.0.1:1/hook"
"""
# Loaded with it: the templates' renderer (html) and zoneinfo (each channel's time zone). Not
# in it: Apprise URLs, which Apprise itself checks when the config loads (importing apprise).
FULL_CONFIG_NEEDS = ("html", "monitor.notify.render", "zoneinfo")


def test_loading_every_channel_and_query_checks_them_without_sending_machinery(tmp_path):
    (tmp_path / "biomon.toml").write_text(FULL_CONFIG, encoding="utf-8")
    script = (
        "from monitor.config import load_config\n"
        "config = load_config('biomon.toml')\n"
        "assert config.notify.enabled == ('desktop', 'email', 'webhook'), config\n"
        "assert config.notify.channel('email:bd@example.com').route\n"
    )
    names = modules_after(script, tmp_path)
    assert {"monitor.query", "monitor.notify.templates", *FULL_CONFIG_NEEDS} <= names
    assert [name for name in CONFIG_NEVER if name in names and name not in FULL_CONFIG_NEEDS] == []


def test_completion_lists_commands_without_importing_them(tmp_path):
    script = (
        "import sys; from monitor.cli import cli\n"
        "try:\n    cli(prog_name='biomon')\nexcept SystemExit:\n    pass\n"
        "print('LOADED', *sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{HEAVY!r} or m.startswith('monitor.cli.')))\n"
    )
    env = {**_clean_env(tmp_path), "_BIOMON_COMPLETE": "bash_complete"}
    env.update(COMP_WORDS="biomon c", COMP_CWORD="1")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    lines = result.stdout.splitlines()
    assert "plain,catch-up" in lines and "plain,classify" in lines
    assert lines[-1].split() == ["LOADED", "monitor.cli.app"]


def test_completion_of_a_subcommand_loads_it(tmp_path):
    env = {**_clean_env(tmp_path), "_BIOMON_COMPLETE": "bash_complete"}
    env.update(COMP_WORDS="biomon watch a", COMP_CWORD="2")
    script = "from monitor.cli import cli; cli(prog_name='biomon')"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert "plain,add" in result.stdout.splitlines()


def _all_commands() -> dict[str, click.Command]:
    """Every command the modules of monitor/cli define, by importing them all."""
    for module in pkgutil.iter_modules(monitor.cli.__path__):
        importlib.import_module(f"monitor.cli.{module.name}")
    return dict(cli.commands)


def test_the_table_names_every_command_and_only_those():
    assert sorted(_all_commands()) == sorted(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_table_entry_points_at_the_command_and_its_help(name):
    target, short_help = COMMANDS[name]
    module_name, _, attribute = target.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    assert isinstance(command, click.Command) and command.name == name
    # The table's line is the start of the docstring's first sentence (it may be cut, "...").
    assert command.get_short_help_str(limit=1000).startswith(short_help.removesuffix("..."))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_works(name):
    result = CliRunner().invoke(cli, ["--config", "/nonexistent.toml", name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: biomon {name}" in result.output


def test_help_lists_every_command_with_its_line():
    result = CliRunner().invoke(cli, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1]
    for name, (_, short_help) in COMMANDS.items():
        assert f"  {name} " in listed
        assert short_help.removesuffix("...")[:30] in listed


def test_unknown_command_is_a_one_line_usage_error():
    result = CliRunner().invoke(cli, ["--config", "/nonexistent.toml", "clasify"])
    assert result.exit_code == 2
    assert "No such command 'clasify'" in result.output


def test_python_dash_m_monitor_runs_a_command(tmp_path):
    (tmp_path / "release.txt").write_text(RELEASE, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "classify", "--format", "json", "release.txt"],
        cwd=tmp_path,
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert '"primary": "trial"' in result.stdout
