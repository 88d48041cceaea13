"""`biomon demo` serves the bundled feeds on 127.0.0.1 and stores the CLRB seed release."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from monitor.cli import cli


def test_demo_stores_the_clrb_seed_once_from_two_feeds(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--keep", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    first_poll = result.output.split("Second poll")[0]
    already = [int(n) for n in re.findall(r"(\d+) already stored", first_poll)]
    assert sum(already) == 3  # three releases are in both feeds: stored once
    assert "26 new releases" in first_poll
    assert "0 new releases, 0 failed feeds" in result.output  # the second poll stores nothing
    assert "Cellectar Biosciences Expands Iopofosine I 131" in result.output

    db = str(tmp_path / "biomon.db")
    found = CliRunner().invoke(
        cli, ["--db", db, "history", "--search", '"NCI grant"', "--format", "json"]
    )
    rows = [json.loads(line) for line in found.output.splitlines()]
    assert [r["title"][:40] for r in rows] == ["Cellectar Biosciences Expands Iopofosine"]
    assert rows[0]["tickers"] == ["NASDAQ:CLRB"]
    shown = CliRunner().invoke(cli, ["--db", db, "show", rows[0]["id"], "--format", "json"])
    assert len(json.loads(shown.output)["seen_in"]) == 2


def test_demo_with_missing_feeds_folder_says_what_to_do(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--feeds", str(tmp_path)])
    assert result.exit_code == 1
    assert "demo feeds not found" in result.output
