"""Several biomon processes on one database, stalled mail servers, held locks, full disks.

Everything runs for real: `biomon` subprocesses, an aiosmtpd sink, a TCP server that never
answers, an SQLite write lock held by another connection, a file-size limit (the kernel's
"disk full" for this process).
"""

from __future__ import annotations

import asyncio
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.models import Message
from monitor.outbox import Outbox
from monitor.rules import Match
from monitor.store import Store
from tests.gnw import Item, feed
from tests.smtp import SmtpSink

LICENSE = "Cellectar Biosciences (NASDAQ: CLRB) signed an exclusive license agreement."


def item(release_id: str, symbol: str = "CLRB") -> Item:
    return Item(release_id, f"{symbol} Announces Exclusive License Agreement {release_id}",
                tickers=(f"Nasdaq:{symbol}",), text=LICENSE.replace("CLRB", symbol))  # fmt: skip


BACKLOG = [item(f"70000{i:02d}") for i in range(5)]


def biomon(config: Path, *args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True, text=True, timeout=timeout, cwd=config.parent, **kwargs,
    )  # fmt: skip


STARTED: list[subprocess.Popen] = []


def start_biomon(config: Path, *args: str, log: Path, **kwargs) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        stdout=open(log, "a"), stderr=subprocess.STDOUT, cwd=config.parent, **kwargs,  # noqa: SIM115
    )  # fmt: skip
    STARTED.append(process)
    return process


@pytest.fixture(autouse=True)
def no_process_left():
    """Whatever a test asserts, no biomon it started outlives it."""
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def write_config(tmp_path: Path, feeds: list[str], extra: str = "", interval: int = 1) -> Path:
    listed = ", ".join(f'"{u}"' for u in feeds)
    path = tmp_path / "biomon.toml"
    path.write_text(
        f'[storage]\npath = "biomon.db"\n[poll]\ninterval = {interval}\nhost_gap = 0\n'
        f'timeout = 2\nuser_agent = "biomon-test/0.1"\nfeeds = [{listed}]\n'
        '[[watch]]\nticker = "CLRB"\n[[watch]]\nticker = "SNGX"\n'
        "[daemon]\nidle_interval = 1\ndeliver_every = 0.2\nheartbeat_every = 0.5\n"
        f"reload_every = 5\n{extra}\n"
    )
    return path


def queue_alerts(db: Path, count: int) -> None:
    """`count` stored releases, each with a pending email alert (mail was down when they came)."""
    store = Store(db)
    releases = []
    from monitor.models import Release, Ticker

    for i in range(count):
        releases.append(
            Release(
                source="globenewswire", release_id=f"9{i:05d}", url="", title=f"Queued release {i}",
                summary_html="", text=LICENSE, published_utc="2026-11-25T16:00:00Z",
                published_raw="", tickers=(Ticker("NASDAQ", "CLRB"),),
            )
        )  # fmt: skip
    from monitor.classify import classify

    with store.transaction():
        for release in releases:
            saved = store.save_release(release, classify=lambda r: classify(r.title, r.text))
            store.queue_alerts(saved.row_id, [Match("email", "CLRB", "CLRB")])
    store.close()


class SlowSink(SmtpSink):
    """An SMTP sink that takes a moment per message, so that deliverers overlap."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await asyncio.sleep(0.01)
        return await super().handle_DATA(server, session, envelope)


def test_three_polls_beside_a_daemon_send_200_queued_alerts_exactly_once(server, tmp_path):
    url = server.add("nasdaq.xml", feed(*BACKLOG))
    smtp = SlowSink().start()
    try:
        config = write_config(tmp_path, [url], smtp.email_config())
        assert biomon(config, "catch-up").returncode == 0
        queue_alerts(tmp_path / "biomon.db", 200)
        daemon = start_biomon(config, "run", log=tmp_path / "daemon.log")
        polls = [
            start_biomon(config, "poll", "--once", log=tmp_path / f"poll{i}.log") for i in range(3)
        ]
        assert all(p.wait(timeout=120) == 0 for p in polls), [
            (tmp_path / f"poll{i}.log").read_text()[-2000:] for i in range(3)
        ]
        assert smtp.wait_for(lambda s: len(s) >= 200, timeout=60)
        time.sleep(1.0)  # time for any duplicate to arrive
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=15) == 0
    finally:
        smtp.stop()
    counts = Counter(smtp.subjects())
    assert len(smtp.subjects()) == 200
    assert max(counts.values()) == 1
    with sqlite3.connect(tmp_path / "biomon.db") as db:
        assert db.execute("SELECT status, count(*) FROM alerts GROUP BY status").fetchall() == [
            ("sent", 200)
        ]


def recording_channel(sent: list[str]) -> type:
    """An email-named channel that keeps the titles it is given (the claims are under test)."""

    class Channel:
        name = "email"
        deadline = 5.0

        def send(self, message: Message) -> None:
            sent.append(message.title)

        def probe(self):
            return None

    return Channel


def test_a_deliverer_never_releases_or_recovers_another_ones_claim(tmp_path, write_config):
    config = load_config(write_config(f'[storage]\npath = "b.db"\n{SmtpSink().email_config()}'))
    queue_alerts(config.storage.path, 1)
    sent: list[str] = []
    Channel = recording_channel(sent)

    first = Outbox(Store(config.storage.path), config.notify, {"email": Channel()})
    second = Outbox(Store(config.storage.path), config.notify, {"email": Channel()})
    alert = first.store.due_alerts("email", "9999")[0]
    now = "2026-01-01T00:00:00Z"
    assert first.store.claim_alerts([alert["id"]], first.token, now, "9999-01-01T00:00:00Z")
    # The second deliverer finds the alert claimed: it sends nothing, and leaves the claim be.
    assert second.deliver().sent == 0
    assert second.recover() == 0
    row = first.store.db.execute("SELECT status, claim_token FROM alerts").fetchone()
    assert row == ("sending", first.token)
    assert sent == []


def test_a_claim_of_a_dead_process_is_recovered_at_once_a_live_one_is_not(tmp_path, write_config):
    config = load_config(write_config(f'[storage]\npath = "b.db"\n{SmtpSink().email_config()}'))
    queue_alerts(config.storage.path, 2)
    store = Store(config.storage.path)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    ids = [a["id"] for a in store.due_alerts("email", "9999")]
    far = "9999-01-01T00:00:00Z"
    store.claim_alerts([ids[0]], f"{socket.gethostname()}:{dead}:abc", "2026", far)
    store.claim_alerts([ids[1]], f"{socket.gethostname()}:{1}:abc", "2026", far)  # init: alive
    outbox = Outbox(store, config.notify, {})
    assert outbox.recover() == 1
    statuses = dict(store.db.execute("SELECT id, status FROM alerts").fetchall())
    assert statuses == {ids[0]: "pending", ids[1]: "sending"}


class SilentSmtp:
    """Accepts connections and never says a word (a stalled mail server)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.clients: list[socket.socket] = []
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.clients.append(client)

    def close(self) -> None:
        self.running = False
        self.sock.close()
        for client in self.clients:
            client.close()

    def email_config(self, timeout: float) -> str:
        return (
            '[notify.email]\nenabled = true\nhost = "127.0.0.1"\n'
            f'port = {self.port}\nsecurity = "none"\nfrom = "biomon <biomon@test>"\n'
            f'to = ["analyst@test"]\ntimeout = {timeout}\n'
        )


def stored_at(db: Path, release_id: str, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                if conn.execute(
                    "SELECT 1 FROM releases WHERE release_id = ?", [release_id]
                ).fetchone():
                    return time.monotonic()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    return None


def test_silent_smtp_server_delays_no_poll_and_sigterm_exits_within_10s(server, tmp_path):
    silent = SilentSmtp()
    url = server.add("nasdaq.xml", feed(*BACKLOG))
    other = server.add("other.xml", feed(item("7100000", "SNGX")))
    try:
        config = write_config(tmp_path, [url, other], silent.email_config(timeout=5))
        assert biomon(config, "catch-up").returncode == 0
        queue_alerts(tmp_path / "biomon.db", 6)
        daemon = start_biomon(config, "run", log=tmp_path / "daemon.log")
        time.sleep(2.0)  # the deliverer is now stuck on the silent server
        server.add("other.xml", feed(item("7100001", "SNGX"), item("7100000", "SNGX")))
        appeared = time.monotonic()
        seen = stored_at(tmp_path / "biomon.db", "7100001", timeout=20)
        assert seen is not None, (tmp_path / "daemon.log").read_text()[-3000:]
        assert seen - appeared <= 1 + 1.5  # one interval, plus the jitter and a margin
        stopping = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        assert time.monotonic() - stopping <= 10
    finally:
        silent.close()
    with sqlite3.connect(tmp_path / "biomon.db") as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM alerts GROUP BY status"))
    assert statuses.get("sent", 0) == 0 and "sending" not in statuses  # all still to be sent
    assert "Traceback" not in (tmp_path / "daemon.log").read_text()


def hold_write_lock(db: Path, seconds: float) -> threading.Thread:
    locked = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE feeds SET last_items = last_items")
        locked.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(5)
    return thread


def test_poll_waits_for_another_process_write_lock(server, tmp_path):
    url = server.add("nasdaq.xml", feed(*BACKLOG))
    config = write_config(tmp_path, [url])
    assert biomon(config, "catch-up").returncode == 0
    server.add("nasdaq.xml", feed(item("7200000"), *BACKLOG))
    holder = hold_write_lock(tmp_path / "biomon.db", 2.0)
    result = biomon(config, "poll", "--once", "--force")
    holder.join()
    assert result.returncode == 0, result.stderr
    assert "1 new" in result.stdout


def test_poll_gives_up_on_a_held_lock_after_busy_timeout_in_one_line(server, tmp_path):
    url = server.add("nasdaq.xml", feed(*BACKLOG))
    config = write_config(tmp_path, [url])
    assert biomon(config, "catch-up").returncode == 0
    config.write_text(
        config.read_text().replace('path = "biomon.db"', 'path = "biomon.db"\nbusy_timeout = 0.5')
    )
    holder = hold_write_lock(tmp_path / "biomon.db", 6.0)
    result = biomon(config, "poll", "--once", "--force")
    holder.join()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "biomon.db: database is locked by another process (waited 0.5s)" in lines[0]
    assert "busy_timeout" in lines[0]


def limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_full_disk_during_poll_is_one_line_and_loses_nothing(server, tmp_path):
    url = server.add("nasdaq.xml", feed(*BACKLOG))
    config = write_config(tmp_path, [url])
    assert biomon(config, "catch-up").returncode == 0
    big = "Cellectar Biosciences signed an exclusive license agreement. " * 400
    new = [Item(f"73000{i:02d}", f"CLRB release {i}", text=big, tickers=("Nasdaq:CLRB",))
           for i in range(30)]  # fmt: skip
    server.add("nasdaq.xml", feed(*new, *BACKLOG))
    db = tmp_path / "biomon.db"
    size = db.stat().st_size
    full = biomon(config, "poll", "--once", "--force", preexec_fn=limit_file_size(size + 65536))
    assert full.returncode == 1
    assert "Traceback" not in full.stderr
    errors = full.stderr.strip().splitlines()
    assert len(errors) == 1 and "free disk space" in errors[0], full.stderr
    assert "30 new" not in full.stdout
    # Room again: the next poll stores all thirty, and the backlog is still there.
    again = biomon(config, "poll", "--once", "--force")
    assert again.returncode == 0, again.stderr
    assert "30 new" in again.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM releases").fetchone()[0] == 35


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_full_disk_in_the_daemon_logs_one_line_and_no_false_new(server, tmp_path):
    url = server.add("nasdaq.xml", feed(*BACKLOG))
    config = write_config(tmp_path, [url])
    assert biomon(config, "catch-up").returncode == 0
    big = "Cellectar Biosciences signed an exclusive license agreement. " * 400
    new = [Item(f"74000{i:02d}", f"CLRB release {i}", text=big, tickers=("Nasdaq:CLRB",))
           for i in range(30)]  # fmt: skip
    db = tmp_path / "biomon.db"
    size = db.stat().st_size
    log = tmp_path / "daemon.log"
    daemon = start_biomon(config, "run", log=log, preexec_fn=limit_file_size(size + 65536))
    time.sleep(1.5)
    server.add("nasdaq.xml", feed(*new, *BACKLOG))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and log.read_text().count("free disk space") < 2:
        time.sleep(0.1)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=15)
    text = log.read_text()
    assert text.count("free disk space") >= 2, text[-3000:]
    assert "Traceback" not in text
    assert "30 new" not in text


def test_corrupt_database_is_one_line(server, tmp_path):
    url = server.add("nasdaq.xml", feed(*BACKLOG))
    config = write_config(tmp_path, [url])
    assert biomon(config, "catch-up").returncode == 0
    db = tmp_path / "biomon.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    data[4096 : 4096 * 3] = b"\x13" * (4096 * 2)  # pages 2 and 3 overwritten
    db.write_bytes(bytes(data))
    server.add("nasdaq.xml", feed(item("7500000"), *BACKLOG))
    result = biomon(config, "poll", "--once", "--force")
    assert result.returncode in (1, 2)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "biomon.db" in lines[0], result.stderr


def test_a_deliverer_that_outlived_its_lease_cannot_send_or_mark(tmp_path, write_config):
    config = load_config(write_config(f'[storage]\npath = "b.db"\n{SmtpSink().email_config()}'))
    queue_alerts(config.storage.path, 1)
    sent: list[str] = []
    Channel = recording_channel(sent)

    slow = Outbox(Store(config.storage.path), config.notify, {"email": Channel()})
    alert_id = slow.store.due_alerts("email", "9999")[0]["id"]
    # The slow deliverer claimed the alert at 10:00 with a lease to 10:02, then stalled.
    assert slow.store.claim_alerts(
        [alert_id], slow.token, "2026-01-01T10:00:00Z", "2026-01-01T10:02:00Z"
    )
    later = Outbox(Store(config.storage.path), config.notify, {"email": Channel()})
    assert later.recover() == 1  # the lease ran out: the alert is free again
    assert later.deliver().sent == 1
    # The stalled one wakes up: its claim is gone, so it neither sends nor marks.
    assert not slow.store.renew_claim(
        [alert_id], slow.token, "2026-01-01T10:03:00Z", "2026-01-01T10:05:00Z"
    )
    assert slow.store.mark_sent([alert_id], slow.token, "2026-01-01T10:03:00Z") == 0
    assert len(sent) == 1
