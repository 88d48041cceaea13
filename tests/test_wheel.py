"""Installed = complete: the wheel carries every module and the files the demo and init need.

The wheel is built from this checkout and installed into a fresh virtual environment outside
it; `biomon demo` then runs from another folder. Offline: the fresh environment borrows the
dependencies of the test environment (a .pth line), never biomon itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    (found,) = out.glob("biomon-*.whl")
    return found


def test_wheel_holds_every_module_and_the_bundled_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "monitor").rglob("*.py")}
    assert modules - names == set()
    assert {
        "monitor/bundled/demo/nasdaq.xml",
        "monitor/bundled/demo/clrb.xml",
        "monitor/bundled/config/biomon.toml",
        "monitor/bundled/config/biomon.service",
    } <= names


def test_demo_runs_from_an_installed_wheel_outside_the_checkout(wheel, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BIOMON_CONFIG")}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # Dependencies only: a path line adds the test environment's site-packages, whose own .pth
    # files (biomon's editable install among them) are not processed from there.
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import monitor; print(monitor.__file__)"],
        capture_output=True, text=True, cwd=elsewhere, env=env,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr[-2000:]
    assert str(venv) in where.stdout  # the installed copy, not the checkout
    demo = subprocess.run(
        [str(bin_dir / "biomon"), "demo"],
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "monitor/bundled/demo" in demo.stdout.replace(os.sep, "/")
    assert "4 alerts shown" in demo.stdout
    assert "0 alerts shown" in demo.stdout
