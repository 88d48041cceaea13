"""benchmarks/ingest.py reports parse, classify and store apart, against its two floors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ingest_benchmark_prints_each_part():
    result = subprocess.run(
        [sys.executable, "benchmarks/ingest.py", "--releases", "20", "--per-feed", "10"]
        + ["--rounds", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = result.stdout
    for part in ("parse", "classify", "store"):
        assert re.search(rf"^  {part}\s+[\d.]+ s\s+[\d.]+ ms/release$", out, re.MULTILINE), out
    assert "parse above the flags floor" in out
    assert "feedparser, defaults" in out and "feedparser, biomon flags" in out
    assert "pipeline / feedparser defaults:" in out
    assert "pipeline / feedparser with biomon's flags:" in out
