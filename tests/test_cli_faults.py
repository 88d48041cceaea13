"""Faults at the command line end in one line naming the file and what to do, never a traceback.

Read commands never write the database; export never clobbers, never follows a symbolic link and
neutralises spreadsheet formulas; a mistyped `--option` is an error, not query text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.models import Release, Ticker
from monitor.store import Store

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1 555 0100", "-2+3", "@SUM(A1:A9)",
            "\tTabbed", "\rReturned", "\uff1dWIDE()"]  # fmt: skip
PLAIN = "Cellectar Announces Pricing of Public Offering"
READ_COMMANDS = [
    ["history"],
    ["search", "offering"],
    ["show", "1"],
    ["stats"],
    ["timeline", "CLRB"],
    ["alerts"],
    ["export", "{tmp}/out.csv"],
]


def release(number: int, title: str, day: int = 1) -> Release:
    return Release(
        source="globenewswire",
        release_id=str(number),
        url=f"https://www.globenewswire.com/news-release/{number}",
        title=title,
        summary_html="",
        text=f"{title}. Cellectar Biosciences priced an underwritten offering.",
        published_utc=f"2023-01-{day:02d}T12:00:00Z",
        published_raw=f"Sun, {day:02d} Jan 2023 12:00 GMT",
        tickers=(Ticker("NASDAQ", "CLRB"),),
    )


@pytest.fixture
def database(tmp_path) -> Path:
    """A biomon database: one plain title and one of each formula-looking title."""
    path = tmp_path / "biomon.db"
    with Store(path) as store:
        titles = [PLAIN, *FORMULAS]
        store.save_releases(release(i, t, day=i) for i, t in enumerate(titles, 1))
    return path


@pytest.fixture
def config(tmp_path, database) -> Path:
    path = tmp_path / "biomon.toml"
    path.write_text(
        f'[storage]\npath = "{database.name}"\n[poll]\nfeeds = ["https://feeds.example/x.xml"]\n',
        encoding="utf-8",
    )
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result: Result, code: int, *expected: str) -> str:
    """The single stderr line of a failed command, checked for its exit code and its words."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def csv_titles(text: str) -> dict[str, str]:
    return {row["id"]: row["title"] for row in csv.DictReader(io.StringIO(text, newline=""))}


def read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:  # keep a quoted CR a CR
        return handle.read()


# ---- export and CSV: formulas, missing folders, existing files, symbolic links


@pytest.mark.parametrize("command", [["history", "--format", "csv"], ["export", "{out}"]])
def test_csv_cells_that_start_a_formula_get_a_quote(database, tmp_path, command):
    out = tmp_path / "out.csv"
    result = run("--db", database, *(arg.format(out=out) for arg in command))
    assert result.exit_code == 0, result.output
    titles = csv_titles(read(out) if out.exists() else result.stdout)
    assert titles["1"] == PLAIN
    for number, formula in enumerate(FORMULAS, 2):
        assert titles[str(number)] == "'" + formula


def test_json_export_keeps_titles_as_they_are(database, tmp_path):
    out = tmp_path / "out.jsonl"
    assert run("--db", database, "export", out).exit_code == 0
    titles = {json.loads(line)["title"] for line in out.read_text(encoding="utf-8").splitlines()}
    assert titles == {PLAIN, *FORMULAS}


def test_export_into_a_missing_folder_is_one_line(database, tmp_path):
    out = tmp_path / "no" / "such" / "out.csv"
    result = run("--db", database, "export", out)
    one_line_error(result, 1, str(out), "does not exist")
    assert not (tmp_path / "no").exists()


def test_export_never_replaces_a_file_without_force(database, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("keep me\n", encoding="utf-8")
    result = run("--db", database, "export", out)
    one_line_error(result, 1, str(out), "already exists; pass --force")
    assert out.read_text(encoding="utf-8") == "keep me\n"


def test_export_with_force_replaces_the_file_whole(database, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    result = run("--db", database, "export", out, "--force")
    assert result.exit_code == 0, result.output
    assert csv_titles(read(out))["1"] == PLAIN
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_export_refuses_a_symbolic_link_even_with_force(database, tmp_path, force, dangling):
    victim = tmp_path / "victim.txt"
    if not dangling:
        victim.write_text("precious\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    out.symlink_to(victim)
    result = run("--db", database, "export", out, *force)
    one_line_error(result, 1, str(out), "symbolic link")
    assert out.is_symlink()
    if dangling:
        assert not victim.exists()
    else:
        assert victim.read_text(encoding="utf-8") == "precious\n"


def test_export_to_a_folder_is_one_line(database, tmp_path):
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    one_line_error(run("--db", database, "export", folder, "--force"), 2, str(folder), "directory")


def test_export_with_a_wrong_suffix_is_one_usage_line(database, tmp_path):
    one_line_error(run("--db", database, "export", tmp_path / "out.xlsx"), 2, "out.xlsx", ".csv")


# ---- read commands never write


@pytest.fixture
def foreign(tmp_path) -> Path:
    """Somebody else's SQLite file."""
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.close()
    return path


def tables(path: Path) -> list[str]:
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
    conn.close()
    return names


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_read_command_refuses_a_database_that_is_not_biomons(foreign, tmp_path, command):
    before = digest(foreign)
    args = [arg.format(tmp=tmp_path) for arg in command]
    result = run("--db", foreign, *args)
    one_line_error(result, 1, str(foreign), "not a biomon database")
    assert digest(foreign) == before
    assert tables(foreign) == ["notes"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite"]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_read_command_with_a_mistyped_db_creates_nothing(tmp_path, command):
    missing = tmp_path / "biomom.db"
    args = [arg.format(tmp=tmp_path) for arg in command]
    result = run("--db", missing, *args)
    one_line_error(result, 1, str(missing), "no such database")
    assert list(tmp_path.iterdir()) == []


def test_status_reads_without_creating_the_database(tmp_path):
    path = tmp_path / "biomon.toml"
    path.write_text('[storage]\npath = "biomon.db"\n[poll]\nfeeds = ["https://a.example/f"]\n')
    one_line_error(run("--config", path, "status"), 1, str(tmp_path / "biomon.db"), "no such")
    assert [p.name for p in tmp_path.iterdir()] == ["biomon.toml"]


@pytest.mark.parametrize(
    "command", [*READ_COMMANDS, ["status"], ["status", "--format", "json"]], ids=str
)
def test_read_commands_leave_the_database_file_as_it_was(config, database, tmp_path, command):
    before = digest(database)
    args = [arg.format(tmp=tmp_path) for arg in command]
    result = run("--config", config, *args)
    assert result.exit_code == 0, result.output
    assert digest(database) == before


def test_a_database_in_a_read_only_folder_can_be_read(database, tmp_path):
    folder = tmp_path / "readonly"
    folder.mkdir()
    moved = folder / "biomon.db"
    shutil.move(database, moved)  # the store closed cleanly: no -wal or -shm beside it
    assert sorted(p.name for p in folder.iterdir()) == ["biomon.db"]
    command = [sys.executable, "-m", "monitor", "--db", str(moved), "history", "--format", "json"]
    if os.geteuid() == 0:
        # root writes anywhere: drop the capabilities that let it, so the modes below count.
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv")
        caps = "-dac_override,-dac_read_search,-fowner"
        command = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", *command]
    moved.chmod(0o444)
    folder.chmod(0o555)
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent
        )
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 + len(FORMULAS)


# ---- a mistyped --option is an error; -words and words after -- are query text


@pytest.mark.parametrize(
    ("args", "wrong", "meant"),
    [
        (["history", "--limt", "3"], "--limt", "--limit"),
        (["history", "CLRB", "--tga=grant"], "--tga", "--tag"),
        (["search", "offering", "--formt", "json"], "--formt", "--format"),
        (["stats", "--sinse", "2023-01-01"], "--sinse", "--since"),
        (["export", "{tmp}/out.csv", "--forse"], "--forse", "--force"),
    ],
    ids=["history", "equals", "search", "stats", "export"],
)
def test_mistyped_long_option_is_a_usage_error(database, tmp_path, args, wrong, meant):
    result = run("--db", database, *(arg.format(tmp=tmp_path) for arg in args))
    line = one_line_error(result, 2, wrong, meant, f"biomon {args[0]} --help")
    assert "bad query" not in line
    assert not (tmp_path / "out.csv").exists()


def test_single_dash_words_are_still_query_text(database):
    result = run("--db", database, "history", "--format", "json", "offering", "-ticker:CLRB")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # every release is CLRB's
    result = run("--db", database, "history", "--format", "json", "-tag:financing", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_words_after_double_dash_are_query_text(database):
    # As an option, --limit would lack its value (and --limt would be unknown).
    for word in ("--limit", "--limt"):
        result = run("--db", database, "history", "--format", "json", "--", word)
        assert result.exit_code == 0, result.output
    result = run("--db", database, "search", "--format", "json", "--", "Announces")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["1"]


def test_an_option_value_that_starts_with_dashes_is_a_value(database):
    result = run("--db", database, "history", "--format", "json", "--search", "--limt")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    # --tag takes its value too, and says when it is no tag.
    result = run("--db", database, "history", "--format", "json", "--tag", "--x")
    assert result.exit_code == 2 and "unknown tag '--x'" in result.output


# ---- dates at the ends of the calendar


def test_until_the_last_day_of_the_calendar_means_no_upper_bound(database):
    result = run("--db", database, "history", "--until", "9999-12-31", "--format", "json")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + len(FORMULAS)


@pytest.mark.parametrize(
    ("option", "value", "why"),
    [
        ("--since", "0000-01-01", "year 0 is out of range"),
        ("--until", "10000-01-01", "write YYYY-MM-DD"),
        ("--since", "2023-02-30", "day is out of range for month"),
    ],
)
def test_impossible_dates_are_one_usage_line(database, option, value, why):
    result = run("--db", database, "history", option, value)
    one_line_error(result, 2, option, value, why)
