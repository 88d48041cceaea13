"""`biomon init`, the config lookup order, the database in the user data folder, and `status`
naming the files it used. Every test has its own user folders (conftest's user_dirs)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config, user_data_dir
from monitor.resources import bundled
from monitor.store import Store
from tests.gnw import Item, feed

CLRB = Item(
    "6200001",
    "Cellectar Biosciences Signs Exclusive License Agreement",
    text="Cellectar Biosciences, Inc. (NASDAQ: CLRB) today announced a license agreement.",
    tickers=("Nasdaq:CLRB",),
)


def invoke(*args, **options):
    return CliRunner().invoke(cli, [str(a) for a in args], **options)


@pytest.fixture
def user_config(user_dirs) -> Path:
    return user_dirs / "config" / "biomon" / "biomon.toml"


@pytest.fixture
def user_db(user_dirs) -> Path:
    return user_dirs / "data" / "biomon" / "biomon.db"


def test_init_writes_a_commented_config_to_the_user_folder(
    user_config, user_db, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    result = invoke(
        "init", "--ticker", "CLRB", "--ticker", "NYSE American:PTN", "--email", "me@lab.test"
    )
    assert result.exit_code == 0, result.output
    text = user_config.read_text()
    config = load_config(user_config)
    assert [str(w.ticker) for w in config.watch] == ["CLRB", "NYSEAMERICAN:PTN"]
    assert config.poll.user_agent == "biomon/0.1 (me@lab.test)"
    assert config.storage.path == user_db  # [storage] path is left commented out
    assert '# path = "biomon.db"' in text
    # The example's comments stay; alert_tags is left for the user to choose.
    example = (bundled("config") / "biomon.toml").read_text()
    assert "Unknown keys are errors" in example and "Unknown keys are errors" in text
    assert text.startswith("# biomon watchlist for CLRB, PTN, written by `biomon init`")
    assert "# alert_tags = [" in text and "\nalert_tags" not in text
    assert 'company = "Palatin Technologies"' in text  # from the example's PTN entry
    assert result.output.splitlines()[0] == (
        f"wrote {user_config}: watching CLRB, NYSEAMERICAN:PTN; contact me@lab.test in the User-Agent"
    )
    assert f"database: {user_db}" in result.output
    steps = result.output.split("next:\n")[1].splitlines()
    assert [s.split("#")[0].strip() for s in steps] == [
        "biomon poll --once", "biomon run", "biomon history --watched",
    ]  # fmt: skip
    assert "biomon init --service" in steps[1]
    assert not user_db.exists()  # created by the first poll, not by init


def test_init_never_overwrites(user_config):
    first = invoke("init", "--ticker", "CLRB", "--email", "me@lab.test")
    assert first.exit_code == 0, first.output
    user_config.write_text(user_config.read_text() + "# mine\n")
    again = invoke("init", "--ticker", "SNGX", "--email", "other@lab.test")
    assert again.exit_code == 1
    assert again.output.splitlines() == [
        f"biomon: error: {user_config} exists and biomon init never overwrites it; edit it in a "
        "text editor, or write another with `biomon --config PATH init`"
    ]
    assert user_config.read_text().endswith("# mine\n")


def test_without_a_terminal_tickers_and_email_are_required(user_config):
    result = invoke("init")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "biomon: usage error: no terminal to ask on: pass --ticker and --email (e.g. biomon "
        "init --ticker CLRB --email you@example.com) (see biomon init --help)"
    ]
    assert invoke("init", "--ticker", "CLRB").output.startswith(
        "biomon: usage error: no terminal to ask on: pass --email "
    )
    assert not user_config.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--ticker", "CL RB!", "--email", "me@lab.test"], "'RB!' is not a ticker"),
        (
            ["--ticker", "CLRB", "--ticker", "NASDAQ:CLRB", "--email", "a@b.c"],
            "CLRB is given twice",
        ),
        (["--ticker", "CLRB", "--email", "me"], "'me' is not an email address"),
        (["--ticker", "CLRB", "--email", 'a"@b.c'], "is not an email address"),
    ],
    ids=["ticker", "twice", "email", "quote"],
)
def test_bad_tickers_and_contacts_are_one_line_usage_errors(user_config, args, expected):
    result = invoke("init", *args)
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("biomon: usage error: ") and expected in line
    assert not user_config.exists()


def test_config_option_and_environment_choose_where_init_writes(tmp_path, user_config, monkeypatch):
    chosen = tmp_path / "my configs" / "watch.toml"
    result = invoke("--config", chosen, "init", "--ticker", "CLRB", "--email", "me@lab.test")
    assert result.exit_code == 0, result.output
    assert chosen.is_file() and not user_config.exists()
    # biomon would not find it by itself: the next commands name it.
    assert f"biomon --config '{chosen}' poll --once" in result.output
    env_path = tmp_path / "env.toml"
    monkeypatch.setenv("BIOMON_CONFIG", str(env_path))
    result = invoke("init", "--ticker", "SNGX", "--email", "me@lab.test")
    assert result.exit_code == 0, result.output
    assert env_path.is_file() and not user_config.exists()
    assert "  biomon poll --once" in result.output  # $BIOMON_CONFIG finds it


def test_db_option_is_written_into_the_config(tmp_path, user_config):
    result = invoke(
        "--db", tmp_path / "data" / "mine.db", "init", "--ticker", "CLRB", "--email", "me@lab.test"
    )
    assert result.exit_code == 0, result.output
    assert load_config(user_config).storage.path == tmp_path / "data" / "mine.db"
    assert f"database: {tmp_path / 'data' / 'mine.db'}" in result.output


def files_used(*args) -> dict:
    result = invoke(*args, "status", "--format", "json")
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.output.splitlines()]
    assert [o["type"] for o in objects[:-1]] == ["feed"] * (len(objects) - 1)
    return objects[-1]


def test_lookup_order_config_env_user_folder_then_checkout(tmp_path, user_config, monkeypatch):
    db = tmp_path / "shared.db"
    Store(db).close()

    def write(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f'[storage]\npath = "{db}"\n[poll]\nfeeds = ["https://a.example/{path.stem}"]\n'
        )
        return path

    work = tmp_path / "work"
    checkout = write(work / "config" / "biomon.toml")
    monkeypatch.chdir(work)
    assert files_used() | {"type": "files"} == {
        "type": "files",
        "config": str(checkout),
        "config_from": "./config/biomon.toml",
        "database": str(db),
        "database_from": "[storage] path",
    }
    write(user_config)
    assert (files_used()["config"], files_used()["config_from"]) == (
        str(user_config),
        "user config folder",
    )
    env = write(tmp_path / "env.toml")
    monkeypatch.setenv("BIOMON_CONFIG", str(env))
    assert (files_used()["config"], files_used()["config_from"]) == (str(env), "$BIOMON_CONFIG")
    option = write(tmp_path / "option.toml")
    assert files_used("--config", option)["config"] == str(option)
    assert files_used("--config", option)["config_from"] == "--config"
    # $BIOMON_CONFIG naming a missing file is an error, never a fall back to the next one.
    monkeypatch.setenv("BIOMON_CONFIG", str(tmp_path / "gone.toml"))
    result = invoke("status")
    assert result.exit_code == 2 and "gone.toml: file not found" in result.output


def test_relative_storage_path_is_still_relative_to_the_config_file(tmp_path):
    config = tmp_path / "conf" / "biomon.toml"
    config.parent.mkdir()
    config.write_text('[storage]\npath = "../db/biomon.db"\n[poll]\nfeeds = []\n')
    assert load_config(config).storage.path == tmp_path / "db" / "biomon.db"
    config.write_text('[storage]\npath = "~/x.db"\n[poll]\nfeeds = []\n')
    assert load_config(config).storage.path == Path.home() / "x.db"


def test_user_data_folder_on_each_system(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert user_data_dir() == tmp_path / "xdg" / "biomon"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    assert user_data_dir() == tmp_path / ".local" / "share" / "biomon"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert user_data_dir() == tmp_path / ".local" / "share" / "biomon"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert user_data_dir() == tmp_path / "Library" / "Application Support" / "biomon"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert user_data_dir() == tmp_path / "Local" / "biomon"


def biomon(*args, env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *map(str, args)],
        capture_output=True, text=True, timeout=60, env=env, cwd=cwd,
    )  # fmt: skip


def test_from_init_to_a_poll_into_the_user_data_folder(server, user_config, user_db, tmp_path):
    """The way a new user goes: init, point it at the feeds, poll, status, history."""
    url = server.add("nasdaq.xml", feed(CLRB))
    made = biomon("init", "--ticker", "CLRB", "--email", "me@lab.test", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    text = user_config.read_text()
    # The real feeds are on the internet: this test's feed stands in for them.
    text = re.sub(r"(?s)^feeds = \[.*?\]", f'feeds = ["{url}"]', text, count=1, flags=re.M)
    text = text.replace(
        "[sources.sec]\nenabled = true", "[sources.sec]\nenabled = false"
    )  # so is SEC
    user_config.write_text(text)
    polled = biomon("poll", "--once", cwd=tmp_path)
    assert polled.returncode == 0, polled.stderr
    assert f"1 releases in {user_db}" in polled.stdout
    assert server.requests[-1][1]["User-Agent"] == "biomon/0.1 (me@lab.test)"
    status = biomon("status", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert f"config: {user_config} (user config folder)" in status.stdout
    assert (
        f"database: {user_db} (the user data folder; set [storage] path to move it)"
        in status.stdout
    )
    watched = biomon("history", "--watched", "--format", "json", cwd=tmp_path)
    assert [json.loads(line)["title"] for line in watched.stdout.splitlines()] == [CLRB.title]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the systemd unit is Linux's")
def test_init_service_writes_the_unit_for_the_new_config(user_config, user_dirs):
    result = invoke("init", "--ticker", "CLRB", "--email", "me@lab.test", "--service")
    assert result.exit_code == 0, result.output
    unit = user_dirs / "config" / "systemd" / "user" / "biomon.service"
    (exec_start,) = re.findall(r"(?m)^ExecStart=(.*)$", unit.read_text())
    assert exec_start.endswith(f" --config {user_config} run")
    assert f"wrote {unit}" in result.output
    steps = result.output.split("next:\n")[1].splitlines()
    assert steps[0].startswith("  biomon poll --once")
    assert "  systemctl --user daemon-reload && systemctl --user enable --now biomon" in steps
    assert steps[-1].startswith("  biomon history --watched")
    # Again: the config is kept (never overwritten), the unit is unchanged, exit 0.
    again = invoke("init", "--service")
    assert again.exit_code == 0, again.output
    assert f"kept {user_config} (it exists)" in again.output
    assert f"unchanged: {unit}" in again.output
    # `biomon service` still works, and writes the same unit.
    printed = invoke("service", "--print")
    assert printed.exit_code == 0 and printed.output == unit.read_text()


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_init_asks_in_a_terminal_until_the_answers_are_good(user_config, user_dirs, tmp_path):
    import pty

    env = os.environ | {
        "XDG_CONFIG_HOME": str(user_dirs / "config"),
        "XDG_DATA_HOME": str(user_dirs / "data"),
    }
    main, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "init"],
        stdin=child, stdout=child, stderr=child, env=env, cwd=tmp_path, close_fds=True,
    )  # fmt: skip
    os.close(child)
    said = b""

    def until(text: bytes) -> None:
        nonlocal said
        deadline = time.monotonic() + 30
        while text not in said:
            assert time.monotonic() < deadline, said
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                chunk = b""
            if not chunk:
                assert text in said, said
            said += chunk

    try:
        until(b"Tickers to watch")
        os.write(main, b"CLRB !!\n")
        until(b"is not a ticker")
        os.write(main, b"CLRB NYSE American:PTN\n")
        until(b"Your email")
        os.write(main, b"nobody\n")
        until(b"is not an email address")
        os.write(main, b"me@lab.test\n")
        until(b"history --watched")
        assert process.wait(timeout=30) == 0, said
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)
    config = load_config(user_config)
    assert [str(w.ticker) for w in config.watch] == ["CLRB", "NYSEAMERICAN:PTN"]
    assert config.poll.user_agent == "biomon/0.1 (me@lab.test)"
