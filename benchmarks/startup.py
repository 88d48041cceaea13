"""How fast biomon starts: `biomon --help`, `biomon classify FILE`, `biomon history --help`.

Goal (issue 14): < 150 ms for `--help` and `classify`. Each command runs N times as a fresh
process (median and min wall time); the baselines are measured in the same run, interleaved
with the commands so that load on a shared machine hits them alike:
`python -c pass` (the interpreter and site) and `python -c "import click"` (the least a click
CLI can do). Ratios against both are printed beside the milliseconds.

    .venv/bin/python benchmarks/startup.py [--runs 21]

No user config is read (HOME and the working folder are a new empty folder), except in the
"classify, with a config" line, which passes the example config/biomon.toml.

Python compiles biomon's modules from source on every start where no bytecode is cached (a
checkout run with PYTHONDONTWRITEBYTECODE=1); an installed wheel has its bytecode. With
--bytecode the runs write and read bytecode in a cache of their own (PYTHONPYCACHEPREFIX in
the temporary folder, the checkout untouched), as an installed biomon starts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = (
    "Acme Bio Announces Positive Topline Results from Phase 3 Trial of AC-1\n"
    "CAMBRIDGE, Mass., Jan. 5, 2026 (GLOBE NEWSWIRE) -- Acme Bio, Inc. (Nasdaq: ACME) today "
    "announced positive topline results from its Phase 3 trial of AC-1 in 412 patients. The "
    "trial met its primary endpoint (p<0.001).\n"
)


def biomon_command() -> list[str]:
    """The installed console script beside this Python, else `python -m monitor`."""
    script = Path(sys.executable).parent / "biomon"
    return [str(script)] if script.exists() else [sys.executable, "-m", "monitor"]


def time_once(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (median)")
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="cache compiled modules (in a temporary folder), as an installed biomon has them",
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="biomon-startup-"))
    (folder / "release.txt").write_text(RELEASE, encoding="utf-8")
    shutil.copy(ROOT / "config" / "biomon.toml", folder / "biomon.toml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIOMON_")}
    env.update(HOME=str(folder), XDG_CONFIG_HOME=str(folder / ".config"))
    if args.bytecode:  # the warm-up runs below write it
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    bytecode = "cached" if "PYTHONDONTWRITEBYTECODE" not in env else "none: compiled from source"
    biomon = biomon_command()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import click"': [sys.executable, "-c", "import click"],
        "biomon --help": [*biomon, "--help"],
        "biomon classify FILE": [*biomon, "classify", "release.txt"],
        "biomon classify --format json FILE": [
            *biomon,
            "classify",
            "--format",
            "json",
            "release.txt",
        ],
        "biomon --config EXAMPLE classify FILE": [
            *biomon,
            "--config",
            "biomon.toml",
            "classify",
            "release.txt",
        ],
        "biomon history --help": [*biomon, "history", "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for command in cases.values():  # warm the file cache once
        time_once(command, folder, env)
    for _ in range(args.runs):
        for name, command in cases.items():  # interleaved: load hits every case alike
            times[name].append(time_once(command, folder, env))
    shutil.rmtree(folder, ignore_errors=True)

    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    python, click = median["python -c pass"], median['python -c "import click"']
    print(
        f"startup, median of {args.runs} runs ({' '.join(biomon)}; Python {sys.version.split()[0]};"
        f" bytecode {bytecode})"
    )
    print(f"{'command':40} {'median':>8} {'min':>8} {'x pass':>7} {'x click':>8}  goal")
    for name, values in times.items():
        goal = ""
        if name.startswith("biomon") and "history" not in name:
            goal = "< 150 ms: " + ("ok" if median[name] < 150 else "MISSED")
        print(
            f"{name:40} {median[name]:6.0f} ms {min(values) * 1000:6.0f} ms "
            f"{median[name] / python:6.2f}x {median[name] / click:7.2f}x  {goal}"
        )


if __name__ == "__main__":
    main()
