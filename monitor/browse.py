"""`biomon browse`: the Datasette metadata and command line that serve the database read-only.

Datasette is an optional extra (`pip install 'biomon[web]'`). It runs as a child process so its
asyncio server, plugins and settings stay out of biomon; it opens a database that is not
immutable with `mode=ro`, so it never writes and the daemon can keep polling meanwhile.
"""

from __future__ import annotations

import errno
import importlib.util
import socket
import sys
from pathlib import Path

from monitor.errors import BiomonError

HOST = "127.0.0.1"
INSTALL_HINT = "Datasette is not installed: pip install 'biomon[web]'"

# The columns worth a glance. Datasette 0.65 has no metadata to hide a column, so the canned
# queries select these, and `?_col=` does on the table page; `truncate_cells_html` keeps the
# long text cells short there.
RELEASE_COLUMNS = ("id", "sort_time", "title", "issuer", "tickers", "primary_tag", "url")
_SELECT = "select " + ", ".join(f"r.{column}" for column in RELEASE_COLUMNS)

_RELEASES_BY_TAG = f"""\
{_SELECT}
from release_tags t join releases r on r.id = t.release
where t.tag = :tag
order by r.sort_time desc, r.id desc
limit 500"""

_RELEASES_BY_TICKER = f"""\
{_SELECT}
from release_tickers t join releases r on r.id = t.release
where t.symbol = upper(:symbol)
order by r.sort_time desc, r.id desc
limit 500"""


def database_name(db_path: Path | str) -> str:
    """The name Datasette serves a database file under: its file stem."""
    return Path(db_path).stem


def url_name(name: str) -> str:
    """A database or table name as it appears in Datasette's URLs (its "tilde encoding")."""
    parts = []
    for char in name:
        if char.isascii() and (char.isalnum() or char in "_-"):
            parts.append(char)
        elif char == " ":
            parts.append("+")
        else:
            parts.extend(f"~{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(parts)


def metadata(db_path: Path | str) -> dict:
    """Datasette metadata for a biomon database: facets, full-text search, canned queries."""
    return {
        "title": "biomon",
        "description": "Biotech press releases stored by biomon (read-only).",
        "databases": {
            database_name(db_path): {
                "tables": {
                    "releases": {
                        "sort_desc": "sort_time",
                        "label_column": "title",
                        "facets": [
                            "primary_tag",
                            {"array": "tickers"},
                            "issuer",
                            "language",
                        ],
                        # Default search mode: Datasette quotes each word, so `Phase-2` or
                        # `Nasdaq:CLRB` cannot be FTS5 syntax errors; `_searchmode=raw` opts in.
                        "fts_table": "releases_fts",
                        "fts_pk": "id",
                        "size": 50,
                    },
                    "release_tags": {"facets": ["tag"]},
                    "release_tickers": {"facets": ["symbol", "exchange"]},
                    "alerts": {"sort_desc": "created", "facets": ["status", "channel"]},
                    "daemon": {"hidden": True},
                    "channel_state": {"hidden": True},
                },
                "queries": {
                    "releases_by_tag": {
                        "title": "Releases with a tag, newest first",
                        "sql": _RELEASES_BY_TAG,
                    },
                    "releases_by_ticker": {
                        "title": "Releases listing a ticker symbol, newest first",
                        "sql": _RELEASES_BY_TICKER,
                    },
                },
            }
        },
    }


def datasette_command(
    db_path: Path | str, metadata_path: Path | str, port: int, open_browser: bool = False
) -> list[str]:
    """The `python -m datasette serve` command line for one database, bound to 127.0.0.1."""
    command = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(db_path),
        "--host",
        HOST,
        "--port",
        str(port),
        "--metadata",
        str(metadata_path),
        "--setting",
        "sql_time_limit_ms",
        "3000",
        # The default 200 ms is short for the JSON array facet on tickers in a big database.
        "--setting",
        "facet_time_limit_ms",
        "1000",
        # Release texts are long: keep table cells short (the row page shows everything).
        "--setting",
        "truncate_cells_html",
        "300",
    ]
    if open_browser:
        command.append("-o")
    return command


def datasette_available() -> str | None:
    """None when Datasette can be imported, else the one-line reason and what to do."""
    try:
        found = importlib.util.find_spec("datasette")
    except (ImportError, ValueError):
        found = None
    return None if found else INSTALL_HINT


def choose_port(port: int) -> int:
    """`port` if it is free on 127.0.0.1, or a free port when `port` is 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn does: a port whose old connections linger in TIME_WAIT is still free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            reason = "is already in use" if error.errno == errno.EADDRINUSE else error.strerror
            raise BiomonError(
                f"port {port} on {HOST} {reason}; pass another --port, or --port 0 for a free one"
            ) from None
        return probe.getsockname()[1]
