"""The command group, its global options and the shared context."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from monitor import __version__
from monitor.config import Config, load_config, resolve_path
from monitor.errors import BiomonError, ConfigError
from monitor.query import QueryError
from monitor.store import Store


class Context:
    """What every command may need, loaded on first use."""

    def __init__(self, config_path: str | None, db_path: str | None) -> None:
        self.config_path = resolve_path(config_path)
        self.db_path = Path(db_path) if db_path else None
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def store(self) -> Store:
        # --db lets `history`/`show` read any database without a config file.
        return Store(self.db_path or self.config.storage.path)


class BiomonGroup(click.Group):
    """Turns biomon's own errors into one line and an exit code (2: config, 1: other)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            click.echo(f"biomon: config error: {error}", err=True)
            ctx.exit(2)
        except QueryError as error:
            click.echo(f"biomon: bad query: {error}", err=True)
            ctx.exit(2)
        except BiomonError as error:
            click.echo(f"biomon: error: {error}", err=True)
            ctx.exit(1)


@click.group(cls=BiomonGroup)
@click.version_option(__version__, prog_name="biomon")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $BIOMON_CONFIG, else ./config/biomon.toml).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="Database file (overrides [storage] path).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None) -> None:
    """Watch biotech press-release wires for your tickers."""
    ctx.obj = Context(config_path, db_path)


def main() -> None:
    """Entry point for `python -m monitor`."""
    cli(standalone_mode=True)


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value, or a usage error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; write YYYY-MM-DD", param_hint=option
        ) from None
