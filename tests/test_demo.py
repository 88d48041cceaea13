"""`biomon demo` serves the bundled feeds on 127.0.0.1 and stores the CLRB seed release."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner

from monitor.cli import cli


def test_demo_stores_the_clrb_seed_once_from_two_feeds_and_two_wires(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--keep", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    first, second, third = re.split(r"Second poll|Third poll", result.output)
    assert "23 new releases" in first  # the backlog: stored, no alert
    # Three releases appear; the seed's news is also on PR Newswire: stored, as a copy.
    assert "4 new releases" in second and "clrb.xml: 0 new, 9 already stored" in second
    assert "prnewswire.xml: 1 new" in second
    assert "[CLRB] licensing: Cellectar Biosciences Expands Iopofosine I 131" in second
    assert "4 alerts shown" in second  # CLRB seed and SNGX release, desktop and email
    assert "also on prnewswire: http://127.0.0.1:" in second  # one alert, both sources
    assert "Rare Pediatric" not in second.split("Alerts it would send")[1]  # regulatory: no
    assert "0 new releases" in third and "0 alerts shown" in third
    assert "Cellectar Biosciences Expands Iopofosine I 131" in result.output

    db = str(tmp_path / "biomon.db")
    found = CliRunner().invoke(
        cli, ["--db", db, "history", "--search", '"NCI grant"', "--format", "json"]
    )
    rows = [json.loads(line) for line in found.output.splitlines()]
    assert [r["title"][:40] for r in rows] == ["Cellectar Biosciences Expands Iopofosine"]
    assert rows[0]["tickers"] == ["NASDAQ:CLRB"]
    assert [s["source"] for s in rows[0]["sources"]] == ["globenewswire", "prnewswire"]
    shown = CliRunner().invoke(cli, ["--db", db, "show", rows[0]["id"], "--format", "json"])
    assert len(json.loads(shown.output)["seen_in"]) == 2
    assert len(json.loads(shown.output)["sources"]) == 2
    # The demo only printed its alerts: they are stored as such, never as sent.
    listed = CliRunner().invoke(cli, ["--db", db, "alerts", "--format", "json"])
    statuses = {json.loads(line)["status"] for line in listed.output.splitlines()}
    assert statuses == {"demo"}


def test_demo_with_missing_feeds_folder_says_what_to_do(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--feeds", str(tmp_path)])
    assert result.exit_code == 1
    assert "demo feeds not found" in result.output
