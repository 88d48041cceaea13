"""The command group, its global options and the shared context."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor import __version__
from monitor.errors import BiomonError, ConfigError

if TYPE_CHECKING:  # imported where used: `biomon --help` needs none of them
    from click.shell_completion import CompletionItem

    from monitor.config import Config
    from monitor.paths import ConfigChoice
    from monitor.store import Store


class Context:
    """What every command may need, loaded on first use."""

    def __init__(self, config_path: str | None, db_path: str | None, verbose: int = 0) -> None:
        from monitor.paths import find_config

        self.explicit_config = config_path
        self.choice: ConfigChoice = find_config(config_path)
        self.config_path = self.choice.path
        self.db_path = Path(db_path) if db_path else None
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            if not self.choice.found:
                raise ConfigError(
                    self.config_path,
                    None,
                    "not found, nor ./config/biomon.toml; write it with `biomon init`, "
                    "or pass --config PATH",
                )
            from monitor.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def store(self, readonly: bool = False) -> Store:
        """The database: --db, else the config's. `readonly` for commands that only read.

        A read-only Store never creates, migrates or writes the file, and refuses a missing
        file or one that is not a biomon database, so a mistyped --db is an error, not a new
        empty database (or 13 biomon tables added to someone else's file).
        """
        from monitor.store import Store

        # --db lets `history`/`show` read any database without a config file.
        if self.db_path:
            return Store(self.db_path, readonly=readonly)
        storage = self.config.storage
        return Store(storage.path, readonly=readonly, busy_timeout=storage.busy_timeout)


class OneLineUsageError(click.ClickException):
    """A usage error said in one line (click's own adds the usage text and a hint: 4 lines)."""

    exit_code = 2

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(error.format_message())
        self.command_path = error.ctx.command_path if error.ctx else "biomon"

    def show(self, file=None) -> None:
        message = self.message[:-1] if self.message.endswith(".") else self.message
        click.echo(
            f"biomon: usage error: {message} (see {self.command_path} --help)",
            file=file,
            err=file is None,
        )


class BiomonGroup(click.Group):
    """Turns biomon's own errors into one line and an exit code (2: config or usage, 1: other).

    It is also a lazy group: commands are named in a table (name -> "module:function" and the
    short help `biomon --help` shows) and a command's module is imported only when that command
    runs, so `biomon --help` or `biomon classify` do not pay for httpx, feedparser, sqlite_utils
    and APScheduler, which other commands need (click's "lazily loading subcommands" pattern).
    """

    def __init__(self, *args, lazy_commands: Mapping[str, tuple[str, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, tuple[str, str]] = dict(lazy_commands)

    def register(self, commands: Mapping[str, tuple[str, str]]) -> None:
        """Name commands without importing them: name -> ("module:function", short help)."""
        self.lazy_commands.update(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in self.lazy_commands:
            command = self._load(cmd_name)
        return command

    def _load(self, name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[name][0].partition(":")
        # The module's own `@cli.command()` adds its commands to `self.commands` on import.
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        self.commands.setdefault(name, command)
        return command

    def _short_help(self, name: str, limit: int) -> str | None:
        """The help line of a command, from the table while its module is not loaded yet;
        None for a hidden command."""
        command = self.commands.get(name)
        if command is not None:
            return None if command.hidden else command.get_short_help_str(limit)
        # A stand-in command shortens the table's line exactly as click shortens a docstring.
        return click.Command(name, help=self.lazy_commands[name][1]).get_short_help_str(limit)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)  # as click's own
        rows = [(name, self._short_help(name, limit)) for name in names]
        rows = [(name, help_line) for name, help_line in rows if help_line is not None]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names from the table (importing no command), then the group's options."""
        from click.shell_completion import CompletionItem

        results = []
        for name in self.list_commands(ctx):
            if name.startswith(incomplete):
                help_line = self._short_help(name, 45)
                if help_line is not None:
                    results.append(CompletionItem(name, help=help_line))
        results.extend(click.Command.shell_complete(self, ctx, incomplete))
        return results

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise OneLineUsageError(error) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise OneLineUsageError(error) from None
        except ConfigError as error:
            click.echo(f"biomon: config error: {error}", err=True)
            ctx.exit(2)
        except BiomonError as error:
            if _is_query_error(error):
                click.echo(f"biomon: bad query: {error}", err=True)
                ctx.exit(2)
            click.echo(f"biomon: error: {error}", err=True)
            ctx.exit(1)


def _is_query_error(error: BiomonError) -> bool:
    # Only a command that imported monitor.query can raise its QueryError: looking it up in
    # sys.modules spares `biomon --help` and `biomon classify` the import.
    query = sys.modules.get("monitor.query")
    return query is not None and isinstance(error, query.QueryError)


@click.group(cls=BiomonGroup, name="biomon")
@click.version_option(__version__, prog_name="biomon")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $BIOMON_CONFIG, else biomon.toml in the user config folder "
    "(`biomon init` writes it), else ./config/biomon.toml).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="Database file (overrides [storage] path).",
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log more on stderr: -v biomon's debug lines, -vv the libraries' too.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None, verbose: int) -> None:
    """Watch biotech press-release wires for your tickers.

    Start with `biomon init` (writes your config), then `biomon poll --once`.
    """
    from monitor.logs import setup_logging

    ctx.obj = Context(config_path, db_path, verbose)
    if ctx.invoked_subcommand != "run":  # `run` sets up its own log (text or JSON, INFO)
        setup_logging(verbose=verbose, daemon=False)


def main() -> None:
    """Entry point for `python -m monitor`."""
    cli(standalone_mode=True)


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value, or a usage error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        # "year 0 is out of range", "day is out of range for month": worth saying; the
        # format complaint ("Invalid isoformat string") is what "write YYYY-MM-DD" says.
        why = "" if str(error).startswith("Invalid isoformat") else f" ({error})"
        raise click.BadParameter(
            f"{value!r} is not a date{why}; write YYYY-MM-DD", param_hint=option
        ) from None
