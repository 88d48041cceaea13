"""The `biomon` command: click commands that parse options, call the library, format output."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import click

from monitor import __version__
from monitor.config import Config, load_config, resolve_path
from monitor.errors import BiomonError, ConfigError
from monitor.models import FeedReport, PollReport
from monitor.output import FORMATS, write_release, write_rows
from monitor.store import ReleaseQuery, Store
from monitor.tickers import parse_ticker


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


def main() -> None:
    """Entry point: run the CLI, turning biomon errors into one line and an exit code."""
    cli(standalone_mode=True)


class BiomonGroup(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as error:
            click.echo(f"biomon: config error: {error}", err=True)
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


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def status(obj: Context, fmt: str) -> None:
    """Every feed's health: last success, status, failures, next poll, items, staleness."""
    from monitor.output import write_status

    config = obj.config
    store = obj.store()
    try:
        healths = feed_healths(config, store)
    finally:
        store.close()
    write_status(healths, fmt, sys.stdout)


def feed_healths(config: Config, store: Store) -> list:
    from datetime import UTC, datetime

    from monitor.health import feed_health
    from monitor.schedule import iso

    now = datetime.now(UTC)
    day_ago = iso(now - timedelta(days=1))
    rows = {row["url"]: row for row in store.feeds()}
    return [
        feed_health(
            rows.get(url, {"url": url}),
            store.feed_dates(url),
            store.feed_items_since(url, day_ago),
            now=now,
            factor=config.poll.stale_factor,
            no_success_after=config.poll.stale_after,
        )
        for url in config.feed_urls()
    ]


@cli.command()
@click.option("--once", is_flag=True, help="Poll every feed once and exit (the cron-style pass).")
@click.option(
    "--force", is_flag=True, help="Poll even feeds waiting on Retry-After/backoff, or disabled."
)
@click.pass_obj
def poll(obj: Context, once: bool, force: bool) -> None:
    """Poll every configured feed once and report per feed."""
    config = obj.config
    if not config.feed_urls():
        raise ConfigError(
            config.path, "poll.feeds", "no feeds to poll; add [poll] feeds or [[watch]] feeds"
        )
    store = obj.store()
    try:
        report = _poll_and_print(config, store, force=force)
    finally:
        store.close()
    if report.feeds and report.failed_feeds == len(report.feeds):
        sys.exit(1)


def _poll_and_print(config: Config, store: Store, force: bool = False) -> PollReport:
    from monitor.poller import poll_once

    def line(report: FeedReport) -> None:
        moved = f" (moved permanently to {report.moved_to})" if report.moved_to else ""
        if report.error:
            click.echo(f"FAILED  {report.url}: {report.error}{moved}")
            return
        if report.skipped:
            click.echo(f"skipped {report.url}: {report.skipped}{moved}")
            return
        text = (
            f"ok      {report.url}: {report.new} new, {report.already} already stored, "
            f"{report.failed} failed"
        )
        if report.warning:
            text += f" (warning: {report.warning})"
        click.echo(text + moved)

    report = poll_once(config, store, force=force, on_feed=line)
    click.echo(
        f"{len(report.feeds)} feeds, {report.new} new releases, "
        f"{report.failed_feeds} failed feeds; {store.count()} releases in {store.path}"
    )
    return report


def _parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; write YYYY-MM-DD", param_hint=option
        ) from None


@cli.command()
@click.option(
    "--ticker",
    "tickers",
    multiple=True,
    help="Only releases listing this ticker (CLRB or NASDAQ:CLRB). Repeatable.",
)
@click.option("--since", help="Published on or after this day (YYYY-MM-DD, UTC).")
@click.option("--until", help="Published on or before this day (YYYY-MM-DD, UTC).")
@click.option(
    "--search", help='Full-text search of title and text: words, "a phrase", prefix*, OR, NOT.'
)
@click.option("--watched", is_flag=True, help="Only releases listing a ticker of the watchlist.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--offset", default=0, type=click.IntRange(min=0), hidden=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def history(obj: Context, tickers, since, until, search, watched, limit, offset, fmt) -> None:
    """List stored releases, newest first."""
    wanted = []
    for value in tickers:
        ticker = parse_ticker(value)
        if ticker is None:
            raise click.BadParameter(f"{value!r} is not a ticker", param_hint="--ticker")
        wanted.append(ticker)
    if watched:
        wanted.extend(w.ticker for w in obj.config.watch)
        if not wanted:
            raise ConfigError(
                obj.config.path, "watch", "--watched needs at least one [[watch]] ticker"
            )
    since_day = _parse_day(since, "--since")
    until_day = _parse_day(until, "--until")
    query = ReleaseQuery(
        tickers=tuple(wanted),
        since=f"{since_day.isoformat()}T00:00:00Z" if since_day else None,
        until=f"{(until_day + timedelta(days=1)).isoformat()}T00:00:00Z" if until_day else None,
        search=search,
        limit=limit,
        offset=offset,
    )
    store = obj.store()
    try:
        rows = store.query(query)
    finally:
        store.close()
    write_rows(rows, fmt, sys.stdout)


@cli.command()
@click.argument("release_id")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def show(obj: Context, release_id: str, fmt: str) -> None:
    """Print one stored release whole (ID is the wire's id, or SOURCE:ID)."""
    store = obj.store()
    try:
        rows = store.get(release_id)
        if not rows:
            raise BiomonError(
                f"no release with id {release_id!r} in {store.path}; see `biomon history`"
            )
        if len(rows) > 1:
            choices = ", ".join(f"{r['source']}:{r['release_id']}" for r in rows)
            raise BiomonError(f"id {release_id!r} is ambiguous; use one of {choices}")
        row = rows[0]
        seen_in = store.seen_in(row["id"])
    finally:
        store.close()
    if fmt == "json":
        import json

        from monitor.output import public_row

        record = public_row(row) | {
            "text": row["text"],
            "summary_html": row["summary_html"],
            "seen_in": seen_in,
        }
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        write_release(row, seen_in, sys.stdout)


@cli.command()
@click.option(
    "--feeds",
    "feeds_dir",
    type=click.Path(file_okay=False, exists=True),
    help="Folder of demo feeds.",
)
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    help="Keep the demo's config and database in this folder.",
)
def demo(feeds_dir: str | None, keep: str | None) -> None:
    """Serve the bundled feeds on 127.0.0.1, poll them into a new database, show what was stored."""
    from monitor.demo import DEMO_FEEDS, FeedServer, demo_config_text, make_workdir

    folder = Path(feeds_dir) if feeds_dir else DEMO_FEEDS
    if not (folder / "nasdaq.xml").is_file():
        raise BiomonError(
            f"{folder}: demo feeds not found; "
            "run from a checkout (pip install -e .) or pass --feeds DIR"
        )
    workdir, tmp = make_workdir(Path(keep) if keep else None)
    try:
        with FeedServer(folder) as server:
            config_path = workdir / "biomon.toml"
            config_path.write_text(
                demo_config_text(server, workdir / "biomon.db"), encoding="utf-8"
            )
            config = load_config(config_path)
            click.echo(f"Serving {folder} at {server.base_url}; config {config_path}\n")
            store = Store(config.storage.path)
            try:
                click.echo("First poll:")
                _poll_and_print(config, store)
                click.echo("\nSecond poll (an unchanged feed is not even parsed again):")
                _poll_and_print(config, store)
                click.echo("")
                watched = tuple(w.ticker for w in config.watch)
                rows = store.query(ReleaseQuery(tickers=watched, limit=15))
                write_rows(
                    rows, "table", sys.stdout, title="Watchlist releases (CLRB, SNGX), newest first"
                )
                rows = store.query(ReleaseQuery(search='"NCI grant"', limit=5))
                write_rows(rows, "table", sys.stdout, title='Full-text search: "NCI grant"')
            finally:
                store.close()
        if keep:
            click.echo(f"\nKept. Try: biomon --db {config.storage.path} history --ticker CLRB")
        else:
            click.echo("\nTo keep the database: biomon demo --keep DIR")
    finally:
        if tmp:
            tmp.cleanup()


if __name__ == "__main__":  # pragma: no cover
    main()
