"""`biomon classify`, tags stored on ingest, `show` with evidence, `reclassify` after a rule change."""

from __future__ import annotations

import json

from click.testing import CliRunner

from monitor.cli import cli
from tests.conftest import FIXTURES, config_text
from tests.gnw import Item, feed

SEED = (FIXTURES / "clrb-2023-12-19-warf-license.txt").read_text(encoding="utf-8")
SEED_TITLE = "Cellectar Biosciences Expands Iopofosine I 131 Collaboration with Wisconsin Alumni Research Foundation"
SEED_BODY = SEED[SEED.index("Exclusive License Agreement to Develop") :]


def test_classify_plain_text_table():
    result = CliRunner().invoke(
        cli, ["--config", "/nonexistent.toml", "classify", "-"], input=f"{SEED_TITLE}\n{SEED_BODY}"
    )
    assert result.exit_code == 0, result.output
    assert "licensing" in result.output and "grant" in result.output
    head, evidence, *facts = result.output.splitlines()
    assert head.startswith("1  licensing  (tags: licensing, ")  # the primary tag first
    assert evidence.startswith("    evidence: ") and len(evidence) > 40  # a whole sentence
    assert "    tickers: NASDAQ:CLRB" in facts


def test_classify_json_lines_contract():
    lines = "\n".join(
        json.dumps(record)
        for record in [
            {"id": "seed", "title": SEED_TITLE, "text": SEED_BODY},
            {
                "id": "odd",
                "title": "Acme Receives Orphan Drug Designation",
                "text": "The FDA granted Orphan Drug Designation to Acme's AC-1.",
            },
            {
                "id": "opt",
                "title": "Acme Announces Inducement Grants Under Nasdaq Listing Rule 5635(c)(4)",
                "text": "Acme granted options to purchase 10,000 shares to a new employee.",
            },
        ]
    )
    result = CliRunner().invoke(
        cli, ["--config", "/nonexistent.toml", "classify", "--format", "json"], input=lines
    )
    rows = {row["id"]: row for row in map(json.loads, result.output.splitlines())}
    assert set(rows["seed"]) >= {"id", "primary", "tags", "evidence", "facts"}
    assert rows["seed"]["primary"] == "licensing"
    assert {"licensing", "grant", "trial"} <= set(rows["seed"]["tags"])
    facts = rows["seed"]["facts"]
    assert "$2 million" in facts["amounts"] and "NCI" in facts["agencies"]
    assert any("WARF" in c for c in facts["counterparties"]) and "Phase 1" in " ".join(
        facts["phases"]
    )
    assert any("NCI grant" in s for s in rows["seed"]["evidence"]["grant"])
    assert rows["odd"]["primary"] == "regulatory" and "grant" not in rows["odd"]["tags"]
    assert "grant" not in rows["opt"]["tags"]


def test_classify_bad_json_line_is_one_line_error():
    result = CliRunner().invoke(
        cli, ["--config", "/nonexistent.toml", "classify"], input='{"id": 1}\n'
    )
    assert result.exit_code == 1
    assert result.output.strip().startswith(
        "biomon: error: <stdin>: line 1: not a JSON object with a title"
    )


def polled(server, write_config, extra=""):
    url = server.add("f.xml", feed(Item("2796481", SEED_TITLE, text=SEED_BODY, tickers=("Nasdaq:CLRB",)),
                                   Item("2796482", "Acme Launches Radioligand Program", text="Acme (NASDAQ: ACME) launched a radioligand program.", tickers=("Nasdaq:ACME",))))  # fmt: skip
    path = write_config(config_text([url]) + extra)
    assert CliRunner().invoke(cli, ["--config", str(path), "poll", "--once"]).exit_code == 0
    return path


def test_tags_are_stored_on_ingest_and_shown_with_evidence(server, write_config):
    path = polled(server, write_config)
    shown = CliRunner().invoke(cli, ["--config", str(path), "show", "2796481"]).output
    assert "primary:    licensing" in shown
    assert "tag grant:" in shown and "NCI grant" in shown
    tagged = CliRunner().invoke(
        cli, ["--config", str(path), "history", "--tag", "grant", "--format", "json"]
    )
    assert [json.loads(line)["id"] for line in tagged.output.splitlines()] == ["2796481"]


def test_reclassify_applies_a_new_user_tag_from_the_config(server, write_config):
    path = polled(server, write_config)
    text = (
        path.read_text()
        + '[classify]\nnew_tags = ["radiopharma"]\n'
        + '[classify.patterns]\nradiopharma = ["\\\\bradio(?:ligand|pharmaceutical)s?\\\\b"]\n'
    )
    path.write_text(text)
    result = CliRunner().invoke(cli, ["--config", str(path), "reclassify"])
    assert result.exit_code == 0, result.output
    assert "2 releases reclassified" in result.output
    tagged = CliRunner().invoke(
        cli, ["--config", str(path), "history", "tag:radiopharma", "--format", "json"]
    )
    assert sorted(json.loads(line)["id"] for line in tagged.output.splitlines()) == [
        "2796481",
        "2796482",
    ]


def test_bad_user_pattern_is_a_config_error(server, write_config):
    path = write_config(
        config_text(["http://127.0.0.1:1/x"]) + '[classify.patterns]\nlicensing = ["(unclosed"]\n'
    )
    result = CliRunner().invoke(cli, ["--config", str(path), "reclassify"])
    assert result.exit_code == 2
    assert "classify.patterns.licensing[0]: bad regular expression '(unclosed'" in result.output
