"""The browse command: the database in Datasette on 127.0.0.1 (the optional `web` extra)."""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
from pathlib import Path

import click

from monitor.browse import (
    HOST,
    choose_port,
    database_name,
    datasette_available,
    datasette_command,
    metadata,
    url_name,
)
from monitor.cli.app import Context, cli
from monitor.errors import BiomonError


@cli.command()
@click.option(
    "--port",
    default=8001,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--open/--no-open", "open_browser", default=False, help="Open a web browser on the page."
)
@click.pass_obj
def browse(obj: Context, port: int, open_browser: bool) -> None:
    """Browse the releases in Datasette: newest first, facets by tag, ticker, month; search."""
    missing = datasette_available()
    if missing:
        raise BiomonError(missing)
    db_path = obj.db_path or obj.config.storage.path
    if not db_path.is_file():
        raise BiomonError(
            f"no database at {db_path} yet; run biomon poll --once or biomon demo --keep DIR first"
        )
    # Read-only: refuses a file that is not a biomon database (Datasette would show any).
    obj.store(readonly=True).close()
    port = choose_port(port)
    with tempfile.TemporaryDirectory(prefix="biomon-browse-") as folder:
        metadata_path = Path(folder) / "metadata.json"
        metadata_path.write_text(json.dumps(metadata(db_path), indent=2), encoding="utf-8")
        command = datasette_command(db_path, metadata_path, port, open_browser)
        click.echo(f"Serving {db_path} at http://{HOST}:{port}/ (Ctrl-C to stop)")
        click.echo(f"Releases: http://{HOST}:{port}/{url_name(database_name(db_path))}/releases")
        code = _run_until_interrupted(command)
    if code:
        raise BiomonError(f"datasette stopped with exit code {code} (its message is above)")


def _run_until_interrupted(command: list[str]) -> int:
    """Run a server in the foreground until it exits (its code) or we are stopped (0)."""
    previous = signal.signal(signal.SIGTERM, _stop)
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        # Ctrl-C reached the child too, but SIGTERM (a service manager, a test) reached only us:
        # never leave Datasette serving behind.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
