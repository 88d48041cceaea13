"""`biomon run` as a real subprocess against a local feed server and a local SMTP server."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.gnw import Item, feed
from tests.smtp import SmtpSink

BACKLOG = [Item(f"50000{i:02d}", f"Cellectar Biosciences Backlog Item {i}", tickers=("Nasdaq:CLRB",),
                text="Cellectar Biosciences reported results.") for i in range(5)]  # fmt: skip
INTERVAL = 1


def release(release_id: str, symbol: str = "CLRB", title: str | None = None) -> Item:
    return Item(release_id, title or f"{symbol} Announces Exclusive License Agreement {release_id}",
                tickers=(f"Nasdaq:{symbol}",),
                text=f"The company (NASDAQ: {symbol}) signed an exclusive license agreement.")  # fmt: skip


class Daemon:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.log = config.parent / "daemon.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> Daemon:
        self.handle = open(self.log, "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(self.config), "run"],
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            cwd=self.config.parent,
        )
        return self

    def text(self) -> str:
        return self.log.read_text()

    def wait_log(self, fragment: str, timeout: float = 10.0, count: int = 1) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.text().count(fragment) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"{fragment!r} not logged:\n{self.text()[-3000:]}")

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)
        self.handle.close()
        return self.process.returncode


@pytest.fixture
def world(server, tmp_path):
    smtp = SmtpSink().start()
    server.add("nasdaq.xml", feed(*BACKLOG))
    daemons: list[Daemon] = []

    def write(watch: str = '[[watch]]\nticker = "CLRB"\n', extra: str = "") -> Path:
        path = tmp_path / "biomon.toml"
        path.write_text(
            f'[storage]\npath = "biomon.db"\n[poll]\ninterval = {INTERVAL}\nhost_gap = 0\ntimeout = 2\n'
            f'feeds = ["{server.url("nasdaq.xml")}"]\n{watch}\n{smtp.email_config()}\n'
            "[daemon]\nidle_interval = 1\ndeliver_every = 0.2\nheartbeat_every = 0.3\n"
            f"reload_every = 0.2\n{extra}\n"
        )
        return path

    def start(config: Path | None = None) -> Daemon:
        daemon = Daemon(config or write()).start()
        daemons.append(daemon)
        return daemon

    yield server, smtp, write, start, tmp_path
    for daemon in daemons:
        daemon.stop(signal.SIGKILL)
    smtp.stop()


def stored(tmp_path: Path, release_id: str) -> bool:
    with sqlite3.connect(tmp_path / "biomon.db") as db:
        return bool(
            db.execute("SELECT 1 FROM releases WHERE release_id = ?", [release_id]).fetchone()
        )


def test_new_release_is_stored_and_alerted_within_two_poll_intervals(world):
    server, smtp, write, start, tmp_path = world
    daemon = start()
    daemon.wait_log("5 new, 0 stored")
    server.add("nasdaq.xml", feed(release("5000100"), *BACKLOG))
    appeared = time.monotonic()
    assert smtp.wait_for(lambda s: any("5000100" in x for x in s), timeout=2 * INTERVAL + 1.5)
    assert time.monotonic() - appeared <= 2 * INTERVAL + 1.5
    assert stored(tmp_path, "5000100")
    assert smtp.subjects() == [
        "[CLRB] licensing: CLRB Announces Exclusive License Agreement 5000100"
    ]


def test_sigterm_exits_0_promptly_even_with_a_fetch_hanging(world):
    server, smtp, write, start, tmp_path = world
    gate = threading.Event()

    def hang(h):
        h.send_response(200)
        h.end_headers()
        gate.wait(20)

    hanging = server.add("hang.xml", handler=hang)
    config = write(extra="")
    config.write_text(config.read_text().replace("feeds = [", f'feeds = ["{hanging}", '))
    daemon = start(config)
    daemon.wait_log("5 new, 0 stored")
    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    gate.set()
    assert time.monotonic() - started < 6
    assert "stopped" in daemon.text()


def test_second_instance_is_refused(world):
    server, smtp, write, start, tmp_path = world
    first = start()
    first.wait_log("biomon run:")
    second = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(first.config), "run"],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    assert second.returncode == 1
    assert "already in use by biomon run (pid" in second.stderr
    assert first.process.poll() is None
    status = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(first.config), "status"],
        capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    assert f"daemon: running (pid {first.process.pid}, since" in status.stdout
    assert "alerts pending: 0" in status.stdout


def test_kill_9_then_restart_loses_nothing_and_sends_each_alert_once(world):
    server, smtp, write, start, tmp_path = world
    daemon = start()
    daemon.wait_log("5 new, 0 stored")
    smtp.stop()  # alerts pile up as pending while mail is down
    new = [release(f"50002{i:02d}") for i in range(3)]
    server.add("nasdaq.xml", feed(*new, *BACKLOG))
    daemon.wait_log("3 new, 5 stored")
    daemon.stop(signal.SIGKILL)
    smtp.start()
    restarted = start()
    assert smtp.wait_for(lambda s: len(s) >= 3, timeout=10)
    time.sleep(1.0)  # time for any duplicate to arrive
    assert sorted(smtp.subjects()) == sorted(
        f"[CLRB] licensing: CLRB Announces Exclusive License Agreement {r.release_id}" for r in new
    )
    assert all(stored(tmp_path, r.release_id) for r in new)
    assert restarted.stop() == 0


def test_config_edit_adds_a_ticker_without_restart(world):
    server, smtp, write, start, tmp_path = world
    daemon = start()
    daemon.wait_log("5 new, 0 stored")
    time.sleep(0.05)
    write('[[watch]]\nticker = "CLRB"\n[[watch]]\nticker = "SNGX"\n')
    daemon.wait_log("config reloaded")
    server.add("nasdaq.xml", feed(release("5000300", "SNGX"), *BACKLOG))
    assert smtp.wait_for(lambda s: any("[SNGX]" in x for x in s), timeout=5)


def test_a_feed_taken_out_of_the_config_and_put_back_starts_with_a_backlog(world):
    server, smtp, write, start, tmp_path = world
    org = server.add("clrb.xml", feed(release("5000500")))
    with_org = '[[watch]]\nticker = "CLRB"\nfeeds = ["' + org + '"]\n'
    daemon = start(write(watch=with_org))
    daemon.wait_log("1 new, 0 stored")  # the organisation feed's backlog
    write()  # the watch loses its own feed
    daemon.wait_log("config reloaded")
    missed = [release(f"500060{i}") for i in range(3)]  # published while it was out
    server.add("clrb.xml", feed(*missed, release("5000500")))
    time.sleep(3 * INTERVAL)
    write(watch=with_org)  # and back
    daemon.wait_log("3 new, 1 stored")  # polled afresh: what it missed is its backlog
    time.sleep(1.0)  # time for any alert of those to arrive
    assert smtp.subjects() == []
    assert all(stored(tmp_path, r.release_id) for r in missed)


def test_broken_edit_keeps_the_old_config(world):
    server, smtp, write, start, tmp_path = world
    daemon = start()
    daemon.wait_log("5 new, 0 stored")
    config = daemon.config
    config.write_text(config.read_text().replace("[poll]", "[poll\n"))
    daemon.wait_log("keeping the last good config")
    assert "biomon.toml: invalid TOML" in daemon.text()
    server.add("nasdaq.xml", feed(release("5000400"), *BACKLOG))
    assert smtp.wait_for(lambda s: any("5000400" in x for x in s), timeout=5)


def test_heartbeat_alarm_fires_when_polling_fails_and_again_on_recovery(world):
    server, smtp, write, start, tmp_path = world
    # Polls come up to ~2 s apart (1 s interval, idle gating, jitter) and times are stored to
    # the second: an alarm after 4 s of silence never fires while polling works.
    daemon = start(write(extra="heartbeat_after = 4"))
    daemon.wait_log("5 new, 0 stored")
    server.add("nasdaq.xml", b"down", status=503)  # the feed server goes away
    assert smtp.wait_for(lambda s: "biomon: no successful poll" in s, timeout=15)
    assert smtp.subjects().count("biomon: no successful poll") == 1
    server.add("nasdaq.xml", feed(*BACKLOG))
    assert smtp.wait_for(lambda s: "biomon: polling again" in s, timeout=30)  # after backoff
    time.sleep(1)
    assert smtp.subjects().count("biomon: no successful poll") == 1
    assert smtp.subjects().count("biomon: polling again") == 1


def test_json_logs_are_one_object_per_line(world):
    server, smtp, write, start, tmp_path = world
    config = write()
    daemon = Daemon(config)
    daemon.handle = open(daemon.log, "a")  # noqa: SIM115
    daemon.process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run", "--log-format", "json"],
        stdout=daemon.handle, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    daemon.wait_log("5 new, 0 stored")
    assert daemon.stop() == 0
    records = [json.loads(line) for line in daemon.text().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any("5 new, 0 stored, 0 failed" in r["message"] for r in records)


def test_db_option_chooses_the_daemons_database(world):
    server, smtp, write, start, tmp_path = world
    config = write()
    other = tmp_path / "elsewhere.db"
    daemon = Daemon(config)
    daemon.handle = open(daemon.log, "a")  # noqa: SIM115
    daemon.process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(other), "run"],
        stdout=daemon.handle, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        daemon.wait_log("5 new, 0 stored")
        with sqlite3.connect(other) as db:
            assert db.execute("SELECT count(*) FROM releases").fetchone()[0] == 5
        assert not (tmp_path / "biomon.db").exists()
    finally:
        assert daemon.stop() == 0


def test_sigterm_ends_the_daemon_at_once_however_long_the_config_checks_wait(world):
    # The main thread waits `reload_every` between looks at the config file: a signal must
    # end that wait (it is no polling loop any more).
    server, smtp, write, start, tmp_path = world
    config = write()
    config.write_text(config.read_text().replace("reload_every = 0.2", "reload_every = 60"))
    daemon = start(config)
    daemon.wait_log("5 new, 0 stored")
    started = time.monotonic()
    assert daemon.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 3
    assert "stopped" in daemon.text()
