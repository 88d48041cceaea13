"""`biomon watch add/remove/list` against SEC's ticker map served on 127.0.0.1 (a real excerpt,
see tests/test_sec_tickers.py), real config files and real databases."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.classify import classify
from monitor.cli import cli
from monitor.config import load_config
from monitor.models import FeedReport, FeedState, Release, Ticker
from monitor.rules import Match
from monitor.sources.sec_tickers import MAP_PATH
from monitor.store import Store
from tests.gnw import Item, feed
from tests.smtp import SmtpSink
from tests.test_sec_tickers import MAP_BYTES, map_requests, serve_map

CONFIG = """\
# My biotech watchlist: edited by hand, and by `biomon watch`.

[storage]
path = "biomon.db"   # beside this file

[poll]
interval = 60
user_agent = "biomon-test/0.1 (ops@example.com)"
timeout = 5
feeds = ["{feed}"]  # the broad feed

[sources.sec]
base_url = "{sec}"   # a local copy of SEC's map

# ---- the watchlist
[[watch]]
ticker = "CLRB"                     # Cellectar
company = "Cellectar Biosciences"
alert_tags = ["licensing", "grant", "trial"]   # what matters

# PTN: the one on NYSE American
[[watch]]
ticker = "NYSEAMERICAN:PTN"
# its own comment
company = "Palatin Technologies"

# Extra patterns, later:
# [classify.patterns]
# licensing = ["\\\\bsub-?licen[cs]e\\\\b"]

[notify.desktop]
enabled = false
"""
SNGX_BLOCK = (
    '\n[[watch]]\nticker = "SNGX"\ncompany = "SOLIGENIX"\ncik = 812796  # SEC: SOLIGENIX, INC.\n'
    'alert_tags = ["grant", "trial"]\n'
)
PTN_END = 'company = "Palatin Technologies"\n'


def invoke(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args])


@pytest.fixture
def config_file(server, tmp_path) -> Path:
    serve_map(server)
    path = tmp_path / "biomon.toml"
    path.write_text(CONFIG.format(feed=server.url("nasdaq.xml"), sec=server.base_url))
    load_config(path)  # the starting file is valid
    return path


def unchanged(path: Path, before: tuple[bytes, os.stat_result]) -> bool:
    after = path.stat()
    return path.read_bytes() == before[0] and (after.st_ino, after.st_mtime_ns) == (
        before[1].st_ino,
        before[1].st_mtime_ns,
    )


def snapshot(path: Path) -> tuple[bytes, os.stat_result]:
    return path.read_bytes(), path.stat()


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# ---- add


def test_add_keeps_every_byte_outside_the_new_table_and_fills_company_and_cik(config_file):
    original = config_file.read_text()
    result = invoke(config_file, "watch", "add", "SNGX", "--tags", "grant,trial")
    assert result.exit_code == 0, result.output
    assert config_file.read_text() == original.replace(PTN_END, PTN_END + SNGX_BLOCK, 1)
    watch = load_config(config_file).watch[-1]
    assert (str(watch.ticker), watch.company, watch.cik) == ("SNGX", "SOLIGENIX", 812796)
    assert watch.alert_tags == ("grant", "trial")
    assert result.output.splitlines()[0] == (
        f"added SNGX (SOLIGENIX, CIK 812796) to {config_file}: alerts on grant, trial"
    )
    assert no_temporary_files(config_file.parent)


def test_add_with_feed_and_channels_and_an_exchange(config_file, server):
    org = server.url("sngx.xml")
    result = invoke(
        config_file, "watch", "add", "NASDAQ:SNGX", "--feed", org, "--channels", "desktop"
    )
    assert result.exit_code == 0, result.output
    config = load_config(config_file)
    watch = config.watch[-1]
    assert (str(watch.ticker), watch.feeds, watch.channels) == ("NASDAQ:SNGX", (org,), ("desktop",))
    assert org in config.feed_urls()
    assert "alerts on every release" in result.output


def test_a_typo_is_exit_2_with_the_nearest_ticker_and_writes_nothing(config_file):
    before = snapshot(config_file)
    result = invoke(config_file, "watch", "add", "CLRBB")
    assert result.exit_code == 2
    assert result.output.startswith(
        "biomon: error: 'CLRBB' is not in SEC's ticker map; did you mean CLRB? (--force adds it"
    )
    assert len(result.output.strip().splitlines()) == 1
    assert unchanged(config_file, before)


def test_force_adds_a_ticker_the_map_does_not_know(config_file):
    result = invoke(config_file, "watch", "add", "OTC:ABCDF", "--force")
    assert result.exit_code == 0, result.output
    watch = load_config(config_file).watch[-1]
    assert (str(watch.ticker), watch.company, watch.cik) == ("OTC:ABCDF", "", None)
    assert "warning: ABCDF is not in SEC's ticker map; added as given" in result.output


def test_adding_a_watched_ticker_changes_nothing_and_says_so(config_file, server):
    assert invoke(config_file, "watch", "add", "SNGX").exit_code == 0
    before = snapshot(config_file)
    for spelling in ("SNGX", "sngx", "NASDAQ:SNGX"):
        result = invoke(config_file, "watch", "add", spelling, "--tags", "grant")
        assert result.exit_code == 0, result.output
        assert (
            result.output
            == f"SNGX is already watched (watch[2] in {config_file}); nothing changed\n"
        )
    assert unchanged(config_file, before)
    assert [str(w.ticker) for w in load_config(config_file).watch].count("SNGX") == 1
    # CLRB is watched already too: saying so needs no request to SEC.
    requests = len(map_requests(server))
    assert invoke(config_file, "watch", "add", "NASDAQ:CLRB").output.startswith("CLRB is already")
    assert len(map_requests(server)) == requests


def test_the_map_is_fetched_once_for_many_adds(config_file, server):
    for ticker in ("SNGX", "IMNN", "CRIS"):
        assert invoke(config_file, "watch", "add", ticker).exit_code == 0
    assert len(map_requests(server)) == 1  # the cache beside the database serves the others
    assert (config_file.parent / "sec_company_tickers.json").is_file()


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (["--channels", "pager"], "watch[2].channels[0]: unknown channel 'pager'"),
        (["--feed", "ftp://example.com/feed"], "watch[2].feeds[0]: not an http(s) URL"),
    ],
)
def test_an_edit_that_fails_validation_is_never_written(config_file, options, fragment):
    before = snapshot(config_file)
    result = invoke(config_file, "watch", "add", "SNGX", *options)
    assert result.exit_code == 2
    assert f"biomon: config error: {config_file}: {fragment}" in result.output
    assert "(after the edit; the file is unchanged)" in result.output
    assert unchanged(config_file, before)
    assert no_temporary_files(config_file.parent)


def test_a_tag_typo_is_a_usage_error(config_file):
    before = snapshot(config_file)
    result = invoke(config_file, "watch", "add", "SNGX", "--tags", "grnat")
    assert result.exit_code == 2
    assert "unknown tag 'grnat'; did you mean 'grant'?" in result.output
    assert unchanged(config_file, before)


def test_a_user_agent_without_contact_is_a_config_error(config_file):
    config_file.write_text(config_file.read_text().replace("(ops@example.com)", "(no contact)"))
    before = snapshot(config_file)
    result = invoke(config_file, "watch", "add", "SNGX")
    assert result.exit_code == 2
    assert f"biomon: config error: {config_file}: poll.user_agent:" in result.output
    assert unchanged(config_file, before)


def test_sec_unreachable_without_a_copy_is_an_error_unless_forced(config_file, server):
    server.add(MAP_PATH, b"down", status=503)
    before = snapshot(config_file)
    result = invoke(config_file, "watch", "add", "SNGX")
    assert result.exit_code == 1
    assert "HTTP 503; --force adds the ticker without company and CIK" in result.output
    assert unchanged(config_file, before)
    forced = invoke(config_file, "watch", "add", "SNGX", "--force")
    assert forced.exit_code == 0, forced.output
    assert load_config(config_file).watch[-1].cik is None


def test_offline_with_a_stale_copy_warns_and_adds(config_file, server):
    assert invoke(config_file, "watch", "add", "SNGX").exit_code == 0
    cache = config_file.parent / "sec_company_tickers.json"
    entry = json.loads(cache.read_text())
    entry["checked"] = entry["fetched"] = "2026-01-05T10:00:00Z"  # weeks ago
    cache.write_text(json.dumps(entry))
    server.add(MAP_PATH, b"down", status=503)
    result = invoke(config_file, "watch", "add", "IMNN")
    assert result.exit_code == 0, result.output
    assert "warning: SEC's ticker map could not be refreshed from" in result.output
    assert "using the copy of 2026-01-05" in result.output
    assert load_config(config_file).watch[-1].cik == 749647


# ---- remove


def test_remove_takes_out_its_table_and_keeps_the_comments_around_it(config_file):
    original = config_file.read_text()
    result = invoke(config_file, "watch", "remove", "PTN")
    assert result.exit_code == 0, result.output
    assert result.output == f"removed NYSEAMERICAN:PTN from {config_file}\n"
    table = '[[watch]]\nticker = "NYSEAMERICAN:PTN"\n# its own comment\n' + PTN_END
    assert config_file.read_text() == original.replace(table, "", 1)
    assert "# PTN: the one on NYSE American\n" in config_file.read_text()
    assert [str(w.ticker) for w in load_config(config_file).watch] == ["CLRB"]


def test_remove_the_first_watch(config_file):
    original = config_file.read_text()
    assert invoke(config_file, "watch", "remove", "NASDAQ:CLRB").exit_code == 0
    table = original[original.index('[[watch]]\nticker = "CLRB"') : original.index("\n# PTN:")]
    assert config_file.read_text() == original.replace(table, "", 1)
    assert config_file.read_text().count("[[watch]]") == 1


def test_add_then_remove_gives_back_the_file_byte_for_byte(config_file):
    original = config_file.read_bytes()
    for ticker in ("SNGX", "IMNN"):
        assert invoke(config_file, "watch", "add", ticker, "--tags", "grant").exit_code == 0
    for ticker in ("IMNN", "SNGX"):
        assert invoke(config_file, "watch", "remove", ticker).exit_code == 0
    assert config_file.read_bytes() == original


def test_remove_an_unwatched_ticker_says_so(config_file):
    before = snapshot(config_file)
    result = invoke(config_file, "watch", "remove", "CLRBB")
    assert result.exit_code == 1
    assert (
        result.output
        == f"biomon: error: CLRBB is not watched in {config_file}; did you mean CLRB?\n"
    )
    assert unchanged(config_file, before)


def test_remove_says_which_feeds_are_no_longer_polled(config_file, server):
    org = server.url("sngx.xml")
    assert invoke(config_file, "watch", "add", "SNGX", "--feed", org).exit_code == 0
    result = invoke(config_file, "watch", "remove", "SNGX")
    assert result.output.splitlines()[1] == f"no longer polled: {org}"


# ---- the file as it is on disk


def test_crlf_line_ends_permissions_and_a_symlink_are_kept(config_file, tmp_path):
    crlf = config_file.read_bytes().replace(b"\n", b"\r\n")
    real = tmp_path / "dotfiles" / "biomon.toml"
    real.parent.mkdir()
    real.write_bytes(crlf)
    real.chmod(0o600)  # it may hold an SMTP password
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    assert invoke(link, "watch", "add", "SNGX", "--tags", "grant,trial").exit_code == 0
    assert link.is_symlink()
    text = real.read_bytes()
    assert text == crlf.replace(
        PTN_END.replace("\n", "\r\n").encode(),
        (PTN_END + SNGX_BLOCK).replace("\n", "\r\n").encode(),
        1,
    )
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert invoke(link, "watch", "remove", "SNGX").exit_code == 0
    assert real.read_bytes() == crlf


def test_a_layout_tomlkit_would_rewrite_is_refused(config_file):
    # [[watch]] tables with another table between them: tomlkit would move them together.
    text = config_file.read_text().replace(
        "# PTN: the one", "[notify.webhook]\nenabled = false\n\n# PTN: the one"
    )
    config_file.write_text(text)
    load_config(config_file)
    before = snapshot(config_file)
    result = invoke(config_file, "watch", "add", "SNGX")
    assert result.exit_code == 1
    assert "cannot edit in place: its layout would change if biomon wrote it" in result.output
    assert unchanged(config_file, before)


def test_no_watch_yet_appends_the_first(server, tmp_path):
    serve_map(server)
    path = tmp_path / "biomon.toml"
    path.write_text(
        f'[poll]\nuser_agent = "t/1 (ops@example.com)"\n[sources.sec]\nbase_url = "{server.base_url}"'
    )  # no line end after the last line
    assert invoke(path, "watch", "add", "CLRB").exit_code == 0
    assert path.read_text().endswith(
        '"\n\n[[watch]]\nticker = "CLRB"\ncompany = "Cellectar Biosciences"\n'
        "cik = 1279704  # SEC: Cellectar Biosciences, Inc.\n"
    )


# ---- list

NOW = datetime.now(UTC).replace(microsecond=0)


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def wire_release(release_id: str, title: str, text: str, days: float, symbol: str = "CLRB"):
    return Release(
        source="globenewswire", release_id=release_id, url=f"https://example.com/{release_id}",
        title=title, summary_html="", text=text, published_utc=ago(days), published_raw="",
        issuer="Cellectar Biosciences, Inc." if symbol == "CLRB" else "Soligenix, Inc.",
        tickers=(Ticker("NASDAQ", symbol),),
    )  # fmt: skip


def seed(db: Path, broad: str, broken: str) -> None:
    """Four CLRB releases (one 40 days old), a SNGX one, alerts in three states, two feeds."""
    with Store(db) as store:
        releases = [
            wire_release("4001", "Cellectar Signs Exclusive License Agreement with WARF",
                         "Cellectar (NASDAQ: CLRB) signed an exclusive license agreement.", 2),
            wire_release("4002", "Cellectar Awarded NCI Grant",
                         "Cellectar received a $2 million grant from the National Cancer Institute.", 5),
            wire_release("4003", "Cellectar Doses First Patient in Phase 2 Trial",
                         "The first patient was dosed in the Phase 2 clinical trial.", 12),
            wire_release("4000", "Cellectar Announces License Amendment",
                         "Cellectar amended its license agreement.", 40),
            wire_release("5001", "Soligenix Receives Grant", "Soligenix received an NIH grant.", 1, "SNGX"),
        ]  # fmt: skip
        store.save_releases(releases, feed_url=broad, classify=lambda r: classify(r.title, r.text))
        ids = {rid: store.get(rid)[0]["id"] for rid in ("4001", "4002", "4003")}
        for rid, channel in (
            ("4001", "email"),
            ("4002", "email"),
            ("4003", "email"),
            ("4001", "desktop"),
        ):
            store.queue_alerts(ids[rid], [Match(channel=channel, rule="CLRB", ticker="CLRB")])
        pending = store.due_alerts("email", ago(-1))
        sent = [a["id"] for a in pending if a["release"] in (ids["4001"], ids["4002"])]
        assert store.claim_alerts(sent, "seed", ago(0), ago(-1))
        store.mark_sent(sent, "seed", ago(0))
        store.save_feed(FeedState(broad, last_success=ago(0)), FeedReport(broad, new=5))
        store.save_feed(
            FeedState(broken, consecutive_failures=3), FeedReport(broken, error="HTTP 503")
        )


def test_list_json_carries_the_figures_of_a_seeded_database(config_file, server):
    broad = server.url("nasdaq.xml")
    clrb_feed = server.url("clrb.xml")
    assert invoke(config_file, "watch", "remove", "CLRB").exit_code == 0
    assert (
        invoke(
            config_file,
            "watch",
            "add",
            "CLRB",
            "--tags",
            "licensing,grant,trial",
            "--feed",
            clrb_feed,
        ).exit_code
        == 0
    )
    seed(config_file.parent / "biomon.db", broad, clrb_feed)
    result = invoke(config_file, "watch", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["label"] for r in records] == ["PTN", "CLRB"]
    ptn, clrb = records
    assert clrb["ticker"] == "CLRB"
    assert (clrb["company"], clrb["cik"]) == ("Cellectar Biosciences", 1279704)
    assert clrb["rule"]["alert_tags"] == ["licensing", "grant", "trial"]
    assert clrb["last_release"] == {
        "id": "4001", "source": "globenewswire", "published": ago(2), "primary": "licensing",
        "title": "Cellectar Signs Exclusive License Agreement with WARF",
        "url": "https://example.com/4001",
    }  # fmt: skip
    recent = clrb["recent"]
    assert (recent["days"], recent["releases"]) == (30, 3)  # the 40-day-old one is left out
    assert recent["by_tag"]["licensing"] == 1
    assert recent["by_tag"]["grant"] == 1
    assert recent["by_tag"]["trial"] == 1
    assert clrb["alerts"] == {"sent": 2, "pending": 2, "failed": 0}
    assert clrb["feeds"] == [
        {"url": clrb_feed, "own": True, "health": "failing: HTTP 503", "last_success": None,
         "newest_item": None},
        {"url": broad, "own": False, "health": "ok", "last_success": ago(0),
         "newest_item": ago(1)},
    ]  # fmt: skip
    assert clrb["next_catalyst"] is None  # no catalyst calendar yet
    # PTN: nothing stored for it; its feeds are the broad one.
    assert ptn["last_release"] is None
    assert ptn["recent"]["releases"] == 0 and ptn["recent"]["by_tag"] == {}
    assert ptn["alerts"] == {"sent": 0, "pending": 0, "failed": 0}
    assert [f["url"] for f in ptn["feeds"]] == [broad]


def test_list_reads_the_database_without_writing_it(config_file, server):
    db = config_file.parent / "biomon.db"
    seed(db, server.url("nasdaq.xml"), server.url("clrb.xml"))
    before = snapshot(db)
    result = invoke(config_file, "watch", "list")
    assert result.exit_code == 0, result.output
    assert unchanged(db, before)
    lines = result.output.splitlines()
    clrb = next(i for i, line in enumerate(lines) if line.startswith("│ CLRB "))
    assert "licensing" in lines[clrb] and "2 sent" in lines[clrb]
    assert "3 releases" in lines[clrb]
    assert "broad: 1 ok, 1 failing" not in result.output  # the broken feed is not configured


def test_list_without_a_database_shows_the_watches_and_no_figures(config_file):
    result = invoke(config_file, "watch", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["ticker"] for r in records] == ["CLRB", "NYSEAMERICAN:PTN"]
    assert all(r["last_release"] is None and r["recent"]["releases"] is None for r in records)
    assert records[0]["feeds"][0]["health"] == "never polled"
    assert not (config_file.parent / "biomon.db").exists()  # not created
    table = invoke(config_file, "watch", "list")
    assert table.exit_code == 0
    assert "no database yet" in table.output


# ---- a running `biomon run` picks the change up


def release_item(release_id: str, symbol: str) -> Item:
    return Item(
        release_id,
        f"{symbol} Announces Exclusive License Agreement {release_id}",
        tickers=(f"Nasdaq:{symbol}",),
        text=f"The company (NASDAQ: {symbol}) signed an exclusive license agreement.",
        issuer="Soligenix, Inc." if symbol == "SNGX" else "Cellectar Biosciences, Inc.",
    )


class Daemon:
    def __init__(self, config: Path) -> None:
        self.log = config.parent / "daemon.log"
        self.handle = open(self.log, "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=self.handle, stderr=subprocess.STDOUT, cwd=config.parent,
        )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def wait_log(self, fragment: str, timeout: float = 15.0, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.text().count(fragment) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"{fragment!r} not logged:\n{self.text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=15)
        self.handle.close()


def test_a_running_daemon_matches_an_added_ticker_without_restart_and_its_backlog_stays_quiet(
    server, tmp_path
):
    serve_map(server)
    smtp = SmtpSink().start()
    backlog = [release_item("6000001", "CLRB"), release_item("6000002", "SNGX")]
    server.add("nasdaq.xml", feed(*backlog))
    org_backlog = [release_item(f"60001{i}", "SNGX") for i in range(3)]
    org = server.add("sngx.xml", feed(*org_backlog))
    config = tmp_path / "biomon.toml"
    config.write_text(
        f'[storage]\npath = "biomon.db"\n[poll]\ninterval = 1\nhost_gap = 0\ntimeout = 2\n'
        f'user_agent = "biomon-test/0.1 (ops@example.com)"\nfeeds = ["{server.url("nasdaq.xml")}"]\n'
        f'[sources.sec]\nbase_url = "{server.base_url}"\n\n'
        '[[watch]]\nticker = "CLRB"\n\n'
        f"{smtp.email_config()}\n"
        "[daemon]\nidle_interval = 1\ndeliver_every = 0.2\nheartbeat_every = 0.3\nreload_every = 0.2\n"
    )
    daemon = Daemon(config)
    try:
        daemon.wait_log("2 new, 0 stored")  # the broad feed's backlog: stored, no alert
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "watch", "add", "SNGX",
             "--feed", org],
            capture_output=True, text=True, timeout=30, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        daemon.wait_log("config reloaded")
        daemon.wait_log("3 new, 0 stored")  # the new feed's first poll: its backlog, no alert
        server.add("nasdaq.xml", feed(release_item("6000003", "SNGX"), *backlog))
        assert smtp.wait_for(lambda s: any("6000003" in x for x in s), timeout=10)
        time.sleep(1.0)  # time for any alert of a backlog release to arrive
        assert smtp.subjects() == [
            "[SNGX] licensing: SNGX Announces Exclusive License Agreement 6000003"
        ]
        assert daemon.process.poll() is None  # the same process all along
        assert daemon.text().count("biomon run:") == 1
    finally:
        daemon.stop()
        smtp.stop()


def test_json_of_list_is_one_object_per_watch(config_file):
    lines = invoke(config_file, "watch", "list", "--format", "json").output.splitlines()
    assert len(lines) == 2
    assert {"ticker", "label", "company", "cik", "rule", "feeds", "last_release", "recent",
            "alerts", "next_catalyst"} == set(json.loads(lines[0]))  # fmt: skip


def test_the_fixture_map_is_the_real_shape():
    entry = json.loads(MAP_BYTES)["6021"]
    assert entry == {"cik_str": 1279704, "ticker": "CLRB", "title": "Cellectar Biosciences, Inc."}


# ---- backlog: what the next poll alerts after `watch add`


def pending_alerts(db: Path) -> int:
    with Store(db, readonly=True) as store:
        return store.alert_counts().get("pending", 0)


def poll(config_file: Path) -> None:
    from monitor.poller import poll_once

    config = load_config(config_file)
    with Store(config.storage.path) as store:
        poll_once(config, store)


@pytest.fixture
def alerting_config(config_file):
    """The test config with the desktop channel on: matches queue alerts (nothing is sent)."""
    config_file.write_text(config_file.read_text().replace("enabled = false", "enabled = true"))
    return config_file


def test_after_add_only_releases_that_appear_later_alert(alerting_config, server):
    db = alerting_config.parent / "biomon.db"
    server.add("nasdaq.xml", feed(release_item("7000001", "SNGX")))
    poll(alerting_config)  # the broad feed's backlog, SNGX not yet watched
    org = server.add("sngx.xml", feed(*(release_item(f"70001{i}", "SNGX") for i in range(3))))
    assert invoke(alerting_config, "watch", "add", "SNGX", "--feed", org).exit_code == 0
    poll(alerting_config)  # the new feed's first poll: its backlog, stored without alerting
    assert pending_alerts(db) == 0
    server.add("nasdaq.xml", feed(release_item("7000002", "SNGX"), release_item("7000001", "SNGX")))
    server.add("sngx.xml", feed(release_item("7000200", "SNGX")))
    poll(alerting_config)
    assert pending_alerts(db) == 2  # the two releases that appeared after the add


def test_a_feed_added_again_after_a_removal_treats_what_it_missed_as_backlog(
    alerting_config, server
):
    db = alerting_config.parent / "biomon.db"
    server.add("nasdaq.xml", feed())
    org = server.add("sngx.xml", feed(release_item("7100000", "SNGX")))
    assert invoke(alerting_config, "watch", "add", "SNGX", "--feed", org).exit_code == 0
    poll(alerting_config)
    assert invoke(alerting_config, "watch", "remove", "SNGX").exit_code == 0
    poll(alerting_config)  # the feed is no longer polled; the company goes on publishing
    missed = [release_item(f"71001{i}", "SNGX") for i in range(5)]
    server.add("sngx.xml", feed(*missed, release_item("7100000", "SNGX")))
    assert invoke(alerting_config, "watch", "add", "SNGX", "--feed", org).exit_code == 0
    poll(alerting_config)
    assert pending_alerts(db) == 0  # was 5: one per release published while it was out


def test_the_checkouts_example_config_is_not_edited_by_default(server, tmp_path, monkeypatch):
    serve_map(server)
    example = tmp_path / "config" / "biomon.toml"
    example.parent.mkdir()
    example.write_text(CONFIG.format(feed=server.url("nasdaq.xml"), sec=server.base_url))
    monkeypatch.chdir(tmp_path)  # no user config: biomon falls back to ./config/biomon.toml
    before = snapshot(example)
    result = CliRunner().invoke(cli, ["watch", "add", "SNGX"])
    assert result.exit_code == 1
    assert (
        "is the example config of this checkout; write your own with `biomon init`" in result.output
    )
    assert unchanged(example, before)
    forced = CliRunner().invoke(cli, ["--config", "config/biomon.toml", "watch", "add", "SNGX"])
    assert forced.exit_code == 0, forced.output


def test_add_to_the_config_biomon_init_wrote(server, user_dirs):
    serve_map(server)
    assert (
        CliRunner().invoke(cli, ["init", "--ticker", "CLRB", "--email", "me@lab.test"]).exit_code
        == 0
    )
    path = user_dirs / "config" / "biomon" / "biomon.toml"
    mirror = f'[sources.sec]\nbase_url = "{server.base_url}"\n'
    path.write_text(path.read_text().replace("[sources.sec]\n", mirror, 1))
    original = path.read_text()
    # init leaves CLRB's alert_tags commented out right below its keys: that line stays CLRB's.
    clrb_end = 'feeds = []\n# alert_tags = ["licensing", "grant", "trial"]   # empty or missing: every release\n'
    assert clrb_end in original
    result = CliRunner().invoke(cli, ["watch", "add", "SNGX", "--tags", "grant,trial"])
    assert result.exit_code == 0, result.output
    assert path.read_text() == original.replace(clrb_end, clrb_end + SNGX_BLOCK, 1)
    assert CliRunner().invoke(cli, ["watch", "remove", "SNGX"]).exit_code == 0
    assert path.read_text() == original


@pytest.mark.parametrize(
    ("text", "ticker", "expected"),
    [
        # A comment right above a header (no blank line) is that header's: it stays.
        ('[[watch]]\nticker = "A"\n# B: our second\n[[watch]]\nticker = "B"\n', "A",
         '# B: our second\n[[watch]]\nticker = "B"\n'),
        # Comment lines right below its keys, then a blank line: its own, they go with it.
        ('[[watch]]\nticker = "A"\n# alert_tags = ["grant"]\n\n# [classify]\n', "A",
         "\n# [classify]\n"),
        ('[poll]\ninterval = 60\n\n\n[[watch]]\nticker = "A"\n\n[[watch]]\nticker = "B"\n', "B",
         '[poll]\ninterval = 60\n\n\n[[watch]]\nticker = "A"\n'),
        ('[[watch]]\nticker = "A"   # first\nkeywords = """\ngrant\n"""\n\n[notify.desktop]\n', "A",
         "\n[notify.desktop]\n"),
    ],
)  # fmt: skip
def test_remove_layouts(text, ticker, expected):
    from monitor.tickers import parse_ticker
    from monitor.watchlist import remove_watch

    assert remove_watch(text, parse_ticker(ticker)) == expected


def test_a_watchlist_not_written_as_tables_is_refused():
    from monitor.tickers import parse_ticker
    from monitor.watchlist import EditError, NewWatch, add_watch

    with pytest.raises(EditError, match=r"not written as \[\[watch\]\] tables"):
        add_watch('watch = [{ ticker = "CLRB" }]\n', NewWatch(parse_ticker("SNGX")))
