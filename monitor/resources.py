"""Files biomon ships: the demo feeds, the example config, the service unit.

In a wheel they are package data under `monitor/bundled/` (pyproject.toml maps the checkout's
`data/demo/` and `config/` there); in a checkout (`pip install -e .`) they are read from those
folders directly. Either way `bundled(kind)` finds them.
"""

from __future__ import annotations

from pathlib import Path

from monitor.errors import BiomonError

PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = {"demo": PACKAGE.parent / "data" / "demo", "config": PACKAGE.parent / "config"}


def bundled(kind: str) -> Path:
    """The folder of one kind of shipped file: "demo" (feeds) or "config" (config, unit)."""
    for folder in (PACKAGE / "bundled" / kind, _CHECKOUT[kind]):
        if folder.is_dir():
            return folder
    raise BiomonError(
        f"{PACKAGE / 'bundled' / kind}: biomon's {kind} files are missing from this install; "
        "reinstall biomon (pipx install --force biomon)"
    )
