"""`biomon run` as a service: the systemd unit and launchd plist, and sd_notify to a real socket."""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import sdnotify
from monitor.cli import cli
from monitor.cli.service import biomon_command, service_text, systemd_quote, write_service_unit
from monitor.config import DaemonConfig
from monitor.resources import bundled
from tests.gnw import Item, feed

VENV_BIOMON = Path(sys.executable).parent / ("biomon.exe" if os.name == "nt" else "biomon")
needs_script = pytest.mark.skipif(
    not VENV_BIOMON.is_file(), reason=f"no biomon script beside {sys.executable}"
)


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "biomon.toml"
    path.write_text(
        '[storage]\npath = "biomon.db"\n[poll]\nfeeds = ["https://example.com/feed.xml"]\n'
    )
    return path


def exec_start(unit: str) -> str:
    (line,) = re.findall(r"(?m)^ExecStart=(.*)$", unit)
    return line


def service(*args: str, executable: list[str] | None = None, **options):
    command = executable or [sys.executable, "-m", "monitor"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, **options)


def verify(unit: Path) -> None:
    """systemd-analyze verify: syntax, known keys, and an executable ExecStart."""
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (no systemd here)")
    # A user manager needs a session ($XDG_RUNTIME_DIR); the system mode checks the same file.
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    complaints = [line for line in checked.stderr.splitlines() if unit.name in line]
    assert checked.returncode == 0 and not complaints, checked.stderr


@needs_script
def test_unit_runs_the_biomon_that_wrote_it_and_never_restarts_on_a_config_error(config):
    written = service("--config", str(config), "service", "--print")
    assert written.returncode == 0, written.stderr
    unit = written.stdout
    # `python -m monitor` in a venv: the venv's own biomon script, by absolute path.
    assert exec_start(unit) == f"{VENV_BIOMON} --config {config} run"
    assert "RestartPreventExitStatus=2" in unit.splitlines()
    assert "Type=notify" in unit.splitlines()
    settings = [line for line in unit.splitlines() if not line.startswith("#")]
    assert not [line for line in settings if "network-online" in line]  # a no-op in a user unit
    assert "%h/biomon/.venv" not in unit


@needs_script
def test_unit_keeps_the_path_biomon_was_started_by(config, tmp_path):
    # pipx and `uv tool` put a link in ~/.local/bin to the script in their own venv.
    link = tmp_path / "bin" / "biomon"
    link.parent.mkdir()
    link.symlink_to(VENV_BIOMON)
    written = service("--config", str(config), "service", executable=[str(link)], cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert exec_start(written.stdout) == f"{link} --config {config} run"


def test_without_a_script_the_unit_runs_python_dash_m_monitor(monkeypatch, tmp_path):
    python = tmp_path / "bin" / "python3"
    python.parent.mkdir()
    python.touch()
    monkeypatch.setattr(sys, "argv", ["/somewhere/monitor/__main__.py"])
    monkeypatch.setattr(sys, "executable", str(python))
    assert biomon_command() == [str(python), "-m", "monitor"]


@needs_script
def test_systemd_analyze_verify_accepts_the_unit(config, tmp_path):
    unit = tmp_path / "biomon.service"
    unit.write_text(service_text("systemd", config))
    verify(unit)


@needs_script
def test_paths_with_blanks_and_percent_signs_are_quoted_for_systemd(tmp_path):
    folder = tmp_path / "my biomon 100%"
    folder.mkdir()
    config = folder / "biomon.toml"
    unit = tmp_path / "biomon.service"
    unit.write_text(service_text("systemd", config))
    assert exec_start(unit.read_text()) == f'{VENV_BIOMON} --config "{tmp_path}/my biomon 100%%/biomon.toml" run'  # fmt: skip
    verify(unit)
    assert systemd_quote("$HOME") == "$$HOME"
    assert systemd_quote('a "b"') == '"a \\"b\\""'


def test_watchdog_is_well_above_the_default_heartbeat():
    template = (bundled("config") / "biomon.service").read_text()
    (watchdog,) = re.findall(r"(?m)^WatchdogSec=(\d+)$", template)
    assert int(watchdog) >= 4 * DaemonConfig().heartbeat_every


def test_the_shipped_plist_parses_and_the_written_one_runs_this_biomon(config):
    template = plistlib.loads((bundled("config") / "biomon.plist").read_bytes())
    assert template["Label"] == "com.biomon.run"
    plist = plistlib.loads(service_text("launchd", config).encode())
    assert plist["ProgramArguments"] == [*biomon_command(), "--config", str(config), "run"]
    assert Path(plist["ProgramArguments"][0]).is_absolute()
    assert plist["KeepAlive"] == {"SuccessfulExit": False}  # not after a clean stop
    assert Path(plist["StandardErrorPath"]).is_absolute()


def test_write_installs_once_and_never_overwrites_an_edited_unit(config, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    target = tmp_path / "xdg" / "systemd" / "user" / "biomon.service"
    args = ["--config", str(config), "service", "--write", "--kind", "systemd"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert f"wrote {target}" in first.output
    assert "systemctl --user daemon-reload && systemctl --user enable --now biomon" in first.output
    assert exec_start(target.read_text()).endswith(f"--config {config} run")
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and f"unchanged: {target}" in again.output
    target.write_text(target.read_text() + "# mine\n")
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1
    assert "exists and differs" in refused.output
    assert target.read_text().endswith("# mine\n")
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0 and "# mine" not in target.read_text()


def test_write_service_unit_to_a_path_for_biomon_init(config, tmp_path):
    path, written = write_service_unit("launchd", config, path=tmp_path / "agent.plist")
    assert written and plistlib.loads(path.read_bytes())["Label"] == "com.biomon.run"


def test_a_missing_config_is_refused(tmp_path):
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "none.toml"), "service"])
    assert result.exit_code == 2
    assert "none.toml" in result.output


# ---- sd_notify


@pytest.fixture
def notify_socket(monkeypatch):
    """A unix datagram socket standing in for systemd's; yields (socket, $NOTIFY_SOCKET)."""
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no unix sockets here")
    folder = tempfile.mkdtemp(prefix="sd-", dir="/tmp")  # short: a socket path has ~100 bytes
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    yield sock, path
    sock.close()
    shutil.rmtree(folder)


def test_notify_sends_one_datagram_and_is_silent_without_systemd(notify_socket, monkeypatch):
    sock, path = notify_socket
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    assert sdnotify.ready("polling 2 feeds") is True
    assert sock.recv(4096) == b"READY=1\nSTATUS=polling 2 feeds"
    monkeypatch.setenv("NOTIFY_SOCKET", path + "-gone")
    assert sdnotify.watchdog() is False  # systemd went away: no exception


def test_watchdog_seconds_is_for_this_process_only(monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "120000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert sdnotify.watchdog_seconds() == 120
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert sdnotify.watchdog_seconds() is None


def start_daemon(server, tmp_path, **env: str) -> tuple[subprocess.Popen, socket.socket, Path]:
    """`biomon run` on a local feed with $NOTIFY_SOCKET set to a socket of ours (abstract)."""
    server.add("nasdaq.xml", feed(Item("5000001", "Cellectar Announces a Thing")))
    config = tmp_path / "biomon.toml"
    config.write_text(
        f'[storage]\npath = "biomon.db"\n[poll]\ninterval = 1\nhost_gap = 0\ntimeout = 2\n'
        f'feeds = ["{server.url("nasdaq.xml")}"]\n[[watch]]\nticker = "CLRB"\n'
        "[notify.desktop]\nenabled = false\n"
        "[daemon]\nheartbeat_every = 0.3\nreload_every = 0.5\n"
    )
    name = f"biomon-test-{uuid.uuid4().hex}"  # systemd's "@name": an abstract socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(b"\0" + name.encode())
    listener.settimeout(15)
    log = tmp_path / "daemon.log"
    environment = {k: v for k, v in os.environ.items() if k != "WATCHDOG_PID"}
    environment |= {"NOTIFY_SOCKET": f"@{name}", **env}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, env=environment,
        )  # fmt: skip
    return process, listener, log


class Received:
    """The sd_notify lines a socket got, in order."""

    def __init__(self, listener: socket.socket, log: Path) -> None:
        self.listener, self.log, self.lines = listener, log, []

    def until(self, state: str, count: int = 1) -> None:
        while self.lines.count(state) < count:
            try:
                self.lines += self.listener.recv(4096).decode().split("\n")
            except TimeoutError:
                raise AssertionError(f"no {state}: {self.lines}\n{self.log.read_text()}") from None


linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="abstract unix sockets are Linux's"
)


@linux_only
def test_biomon_run_tells_systemd_ready_then_alive_at_each_heartbeat_then_stopping(
    server, tmp_path
):
    process, listener, log = start_daemon(server, tmp_path, WATCHDOG_USEC="120000000")
    got = Received(listener, log)
    try:
        got.until("READY=1")
        assert "STATUS=polling 1 feeds" in got.lines
        got.until("WATCHDOG=1")
        assert got.lines.index("READY=1") < got.lines.index("WATCHDOG=1")
        started = time.monotonic()
        got.until("WATCHDOG=1", count=4)  # one per heartbeat, every 0.3 s
        assert time.monotonic() - started < 5
        assert "STOPPING=1" not in got.lines
        process.send_signal(signal.SIGTERM)
        got.until("STOPPING=1")
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        listener.close()
    assert "heartbeat_every" not in log.read_text()  # 0.3 s is well below 120 s: no warning


@linux_only
def test_a_heartbeat_too_slow_for_the_watchdog_is_logged(server, tmp_path):
    process, listener, log = start_daemon(server, tmp_path, WATCHDOG_USEC="500000")
    try:
        Received(listener, log).until("READY=1")
        assert "[daemon] heartbeat_every (0.3s) is not well below the unit's WatchdogSec (0.5s)" in log.read_text()  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=15)
        listener.close()
