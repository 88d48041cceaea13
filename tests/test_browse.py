"""`biomon browse` serves the database in Datasette on 127.0.0.1: facets and full-text search."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from html import escape

import httpx
import pytest
from click.testing import CliRunner

import monitor.cli.browse  # noqa: F401  (registers the command even before monitor.cli does)
from monitor.browse import datasette_command, metadata
from monitor.classify import classify
from monitor.cli import cli
from monitor.models import Release, Ticker
from monitor.store import Store

ACME = Ticker("NASDAQ", "ACME")
BETA = Ticker("NYSE", "BETA")
OFFERING = "Acme Bio Announces Pricing of $50 Million Public Offering"
APPROVAL = "Acme Bio Receives FDA Approval of Widgetumab for Psoriasis"
GRANT = "Beta Therapeutics Awarded $2 Million NIH Grant to Study Sepsis"


def release(number: int, title: str, text: str, ticker: Ticker, day: str) -> Release:
    return Release(
        source="globenewswire",
        release_id=str(number),
        url=f"https://example.com/{number}",
        title=title,
        summary_html=f"<p>{text}</p>",
        text=text,
        published_utc=f"{day}T13:00:00Z",
        published_raw=day,
        issuer="Acme Bio, Inc." if ticker == ACME else "Beta Therapeutics",
        language="en",
        tickers=(ticker,),
    )


@pytest.fixture
def database(tmp_path):
    """A small real biomon database, tagged by the real classifier: watch.db."""
    path = tmp_path / "watch.db"
    store = Store(path)
    store.save_releases(
        [
            release(
                1,
                OFFERING,
                "Acme Bio, Inc. (Nasdaq: ACME) today announced the pricing of an underwritten "
                "public offering of 10,000,000 shares of its common stock.",
                ACME,
                "2026-01-05",
            ),
            release(
                2,
                APPROVAL,
                "Acme Bio, Inc. (Nasdaq: ACME) today announced that the U.S. Food and Drug "
                "Administration approved Widgetumab for adults with plaque psoriasis.",
                ACME,
                "2026-02-02",
            ),
            release(
                3,
                GRANT,
                "Beta Therapeutics (NYSE: BETA) today announced it was awarded a $2 million grant "
                "from the National Institutes of Health to fund its sepsis program.",
                BETA,
                "2026-03-03",
            ),
        ],
        classify=lambda r: classify(r.title, r.text),
    )
    store.close()
    return path


def wait_for(url: str, process: subprocess.Popen, seconds: float = 10) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_browse_serves_releases_with_facets_and_search(database, tmp_path):
    pytest.importorskip("datasette", reason="needs the web extra: pip install 'biomon[web]'")
    log = tmp_path / "stderr.txt"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--db", str(database), "browse", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        banner = process.stdout.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)", banner)
        assert found, f"no banner {banner!r}; stderr: {log.read_text()[-500:]}"
        base = found.group(1)

        page = wait_for(base + "watch/releases", process)
        assert page.status_code == 200
        for title in (OFFERING, APPROVAL, GRANT):
            assert escape(title) in page.text
        assert re.search(r">NASDAQ:ACME</a> 2<", page.text)  # the tickers array facet
        assert re.search(r">grant</a> 1<", page.text)  # the tag facet

        searched = httpx.get(base + "watch/releases", params={"_search": "sepsis"}, timeout=5)
        assert escape(GRANT) in searched.text
        assert escape(OFFERING) not in searched.text
        assert escape(APPROVAL) not in searched.text

        by_tag = httpx.get(
            base + "watch/releases_by_tag.json", params={"tag": "grant", "_shape": "array"}
        )
        assert [row["title"] for row in by_tag.json()] == [GRANT]
    finally:
        process.terminate()
        code = process.wait(timeout=10)
        process.stdout.close()
    assert code == 0
    with pytest.raises(httpx.TransportError):  # Datasette stopped with it
        httpx.get(base + "watch/releases", timeout=2)


def test_browse_without_datasette_says_how_to_install(database, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasette", None)  # what an absent package looks like
    result = CliRunner().invoke(cli, ["--db", str(database), "browse"])
    assert result.exit_code == 1
    assert "Datasette is not installed: pip install 'biomon[web]'" in result.output


def test_browse_without_a_database_says_how_to_make_one(tmp_path):
    pytest.importorskip("datasette", reason="needs the web extra: pip install 'biomon[web]'")
    missing = tmp_path / "none.db"
    result = CliRunner().invoke(cli, ["--db", str(missing), "browse"])
    assert result.exit_code == 1
    assert f"no database at {missing} yet; run biomon poll --once" in result.output
    assert not missing.exists()  # browsing never creates a database


def test_browse_on_a_busy_port_says_so(database):
    pytest.importorskip("datasette", reason="needs the web extra: pip install 'biomon[web]'")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["--db", str(database), "browse", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output


def test_metadata_is_keyed_by_the_database_file_stem(tmp_path):
    tables = metadata(tmp_path / "watch.db")["databases"]["watch"]["tables"]
    assert {"array": "tickers"} in tables["releases"]["facets"]
    assert tables["releases"]["fts_table"] == "releases_fts"
    assert tables["daemon"]["hidden"] is True


def test_datasette_listens_on_localhost_and_opens_a_browser_only_when_asked(tmp_path):
    command = datasette_command(tmp_path / "watch.db", tmp_path / "m.json", 8001)
    assert command[command.index("--host") + 1] == "127.0.0.1"
    assert "-o" not in command
    assert datasette_command("w.db", "m.json", 8001, open_browser=True)[-1] == "-o"
