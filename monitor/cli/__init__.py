"""The `biomon` command: click commands that parse options, call the library, format output."""

from monitor.cli import alerts, browse, feeds, init, releases, service, watch  # noqa: F401 (commands)
from monitor.cli.app import cli, main

__all__ = ["cli", "main"]
