"""`poll` and `catch-up` for cron: quiet unless there is news or trouble, each failure said once,
exit 1 while any feed is failing or backing off, JSON for machines, -v/-vv log levels.

Real processes (`python -m monitor`, so logging is configured as in a crontab) against real
local feed servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import config_text
from tests.gnw import Item, feed

CLRB = Item(
    "6100001",
    "Cellectar Biosciences Signs Exclusive License Agreement for Iopofosine in Asia",
    text="FLORHAM PARK, N.J. (GLOBE NEWSWIRE) -- Cellectar Biosciences, Inc. (NASDAQ: CLRB) "
    "today announced an exclusive license agreement granting rights in Asia.",
    tickers=("Nasdaq:CLRB",),
)
SNGX = Item(
    "6100002", "Soligenix Receives Orphan Drug Designation", tickers=("Nasdaq:SNGX",),
    issuer="Soligenix, Inc.",
)  # fmt: skip
PTN = Item("6100003", "Palatin Reports Results", tickers=("NYSE American:PTN",), issuer="Palatin")
CLRB_LATER = Item(
    "6100004",
    "Cellectar Awarded $2 Million NCI Grant",
    text="Cellectar Biosciences, Inc. (NASDAQ: CLRB) was awarded a $2 million NCI grant.",
    tickers=("Nasdaq:CLRB",),
)
WATCH = '[[watch]]\nticker = "CLRB"\n'


def biomon(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *map(str, args)],
        capture_output=True, text=True, timeout=60, cwd=cwd,
    )  # fmt: skip


def test_quiet_prints_only_new_watched_releases_one_line_each(server, write_config):
    url = server.add("nasdaq.xml", feed(CLRB, SNGX, PTN))
    config = write_config(config_text([url], WATCH))
    first = biomon("--config", config, "poll", "-q")
    assert first.returncode == 0 and first.stderr == "", first.stderr
    # The ticker, the primary tag, the title and the URL; the SNGX and PTN releases are stored
    # (broad feed) but not the watchlist's: not printed.
    assert first.stdout.splitlines() == [f"CLRB  licensing  {CLRB.title}  {CLRB.url}"]
    nothing = biomon("--config", config, "poll", "--once", "--quiet")
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (0, "", "")
    server.add("nasdaq.xml", feed(CLRB_LATER, CLRB, SNGX, PTN))
    later = biomon("--config", config, "poll", "-q")
    assert later.returncode == 0, later.stderr
    assert later.stdout.splitlines() == [f"CLRB  grant  {CLRB_LATER.title}  {CLRB_LATER.url}"]


def test_a_failing_feed_exits_1_says_why_once_and_keeps_saying_it_while_backing_off(
    server, write_config
):
    good = server.add("good.xml", feed(SNGX))
    down = server.add("down.xml", b"busy", status=503, headers={"Retry-After": "600"})
    config = write_config(config_text([good, down], WATCH))
    first = biomon("--config", config, "poll", "--once")
    assert first.returncode == 1
    # Once: no log line repeating it (the root logger's last resort printed one before).
    (line,) = first.stderr.splitlines()
    assert line.startswith(
        f"biomon: 1 of 2 feeds failing: {down}: HTTP 503 (1 failure; backing off until 20"
    )
    assert down not in first.stdout
    assert f"{good}: 1 new" in first.stdout and "2 feeds, 1 new releases, 1 failing" in first.stdout
    # The next pass leaves it alone (Retry-After) but it is still failing: still exit 1.
    requests = len(server.requests)
    waiting = biomon("--config", config, "poll", "-q")
    assert waiting.returncode == 1 and waiting.stdout == ""
    (line,) = waiting.stderr.splitlines()
    assert f"{down}: HTTP 503 (1 failure; backing off until " in line
    assert [p for p, _ in server.requests[requests:]] == ["/good.xml"]
    # Fixed, and polled at once with --force: all well, exit 0.
    server.add("down.xml", feed(PTN))
    fixed = biomon("--config", config, "poll", "--force", "-q")
    assert (fixed.returncode, fixed.stderr) == (0, ""), fixed.stderr


def test_second_failure_backs_off_and_a_gone_feed_is_failing_until_forced(server, write_config):
    flaky = server.add("flaky.xml", b"boom", status=500)
    gone = server.add("gone.xml", b"gone", status=410)
    config = write_config(config_text([flaky, gone]))
    first = biomon("--config", config, "poll", "-q")
    assert first.returncode == 1
    assert sorted(first.stderr.splitlines()) == sorted([
        f"biomon: 2 of 2 feeds failing: {flaky}: HTTP 500 (1 failure; retried at the next poll)",
        f"biomon: 2 of 2 feeds failing: {gone}: HTTP 410 Gone (disabled; `biomon poll --force` tries it again)",
    ])  # fmt: skip
    second = biomon("--config", config, "poll", "-q")
    assert second.returncode == 1 and second.stdout == ""
    lines = second.stderr.splitlines()
    assert any(f"{flaky}: HTTP 500 (2 failures in a row; backing off until " in x for x in lines)
    assert any(f"{gone}: HTTP 410 Gone (disabled;" in x for x in lines), lines
    forced = biomon("--config", config, "poll", "-q", "--force")
    assert forced.returncode == 1 and len(forced.stderr.splitlines()) == 2


def test_json_is_one_object_per_feed_and_release_then_a_summary(server, write_config, tmp_path):
    good = server.add("good.xml", feed(CLRB, SNGX))
    down = server.add("down.xml", b"oops", status=500)
    config = write_config(config_text([good, down], WATCH))
    result = biomon("--config", config, "poll", "--format", "json")
    assert result.returncode == 1
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["type"] for o in objects] == ["feed", "feed", "release", "summary"]
    feeds = {o["url"]: o for o in objects if o["type"] == "feed"}
    assert feeds[good]["outcome"] == "ok" and feeds[good]["new"] == 2 and not feeds[good]["failing"]
    assert feeds[down]["outcome"] == "failed" and feeds[down]["error"] == "HTTP 500"
    assert feeds[down]["failing"] and feeds[down]["reason"].startswith("HTTP 500 (1 failure")
    release = objects[2]
    assert (release["ticker"], release["primary"], release["title"], release["url"]) == (
        "CLRB", "licensing", CLRB.title, CLRB.url,
    )  # fmt: skip
    summary = objects[-1]
    assert summary["feeds"] == 2 and summary["new"] == 2 and summary["failing"] == 1
    assert summary["database"] == str(tmp_path / "biomon.db")
    assert summary["config"] == str(config)
    # The reason on stderr too (the exit status's), in one line.
    assert result.stderr.splitlines() == [
        f"biomon: 1 of 2 feeds failing: {down}: {feeds[down]['reason']}"
    ]
    # -q with JSON: only what -q prints as text (here: nothing new, the failing feed).
    quiet = biomon("--config", config, "poll", "--format", "json", "-q")
    assert [json.loads(line)["url"] for line in quiet.stdout.splitlines()] == [down]


def test_catch_up_exits_1_when_feeds_fail_and_is_silent_with_q_when_all_is_well(
    server, write_config
):
    good = server.add("good.xml", feed(CLRB))
    down = server.add("down.xml", b"", status=502)
    config = write_config(config_text([good, down], WATCH))
    failed = biomon("--config", config, "catch-up")
    assert failed.returncode == 1
    assert failed.stderr.splitlines() == [
        f"biomon: 1 of 2 feeds failing: {down}: HTTP 502 (1 failure; retried at the next poll)"
    ]
    assert f"{good}: 1 new" in failed.stdout
    server.add("down.xml", feed(SNGX))
    well = biomon("--config", config, "catch-up", "-q")
    assert (well.returncode, well.stdout, well.stderr) == (0, "", "")
    # catch-up stores without alerting, and -q prints no release (the backlog is skipped).
    assert "CLRB" not in well.stdout


def test_verbose_is_biomons_debug_and_vv_adds_the_libraries(server, write_config):
    url = server.add("nasdaq.xml", feed(CLRB))
    config = write_config(config_text([url]))
    plain = biomon("--config", config, "poll")
    assert plain.returncode == 0 and plain.stderr == ""
    one = biomon("--config", config, "-v", "poll", "--force")
    assert one.returncode == 0
    # Nothing new is a DEBUG line (the daemon logs at INFO: one per feed per interval
    # would be most of its log); -v shows it.
    assert f"DEBUG monitor.poller: {url}: unchanged" in one.stderr
    assert "httpcore" not in one.stderr and "httpx" not in one.stderr
    two = biomon("-vv", "--config", config, "poll", "--force")
    assert "DEBUG httpcore" in two.stderr and "DEBUG monitor.poller" in two.stderr


def _run_daemon(args: list[str], config: Path, log: Path, wanted: str) -> str:
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), *args],
            stdout=out, stderr=subprocess.STDOUT, cwd=config.parent,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while wanted not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        return log.read_text()
    finally:
        process.send_signal(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
        process.wait(timeout=20)


@pytest.mark.parametrize(
    ("args", "wanted", "absent"),
    [
        (["run", "-v"], "INFO monitor.poller", "httpcore"),
        (["-vv", "run"], "DEBUG httpcore", None),
        (["run"], "INFO monitor.poller", "httpcore"),
    ],
    ids=["run -v", "-vv run", "run"],
)
def test_run_log_levels(server, write_config, tmp_path, args, wanted, absent):
    url = server.add("nasdaq.xml", feed(CLRB))
    text = config_text([url]).replace("interval = 60", "interval = 1\nhost_gap = 0")
    config = write_config(text + "[daemon]\nheartbeat_every = 0.3\n")
    log = _run_daemon(args, config, tmp_path / "daemon.log", wanted)
    assert wanted in log, log
    if absent:
        assert absent not in log


def test_an_alert_that_cannot_be_sent_is_said_once(server, write_config):
    url = server.add("nasdaq.xml", feed(SNGX))
    email = (
        '[notify.email]\nenabled = true\nhost = "127.0.0.1"\nport = 1\nsecurity = "none"\n'
        'from = "biomon@lab.test"\nto = ["me@lab.test"]\ntimeout = 2\n'
    )
    config = write_config(config_text([url], WATCH + email))
    assert biomon("--config", config, "poll", "-q").returncode == 0  # the backlog: no alert
    server.add("nasdaq.xml", feed(CLRB, SNGX))
    result = biomon("--config", config, "poll", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"CLRB  licensing  {CLRB.title}  {CLRB.url}"]
    (line,) = result.stderr.splitlines()  # and no log line saying it again
    assert line.startswith("alert not sent: ") and "127.0.0.1:1" in line
