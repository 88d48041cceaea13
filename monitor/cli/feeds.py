"""Commands that poll: poll, catch-up, status, demo."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli.app import Context, cli
from monitor.cli.pollreport import FORMATS, PollPrinter
from monitor.config import Config, load_config
from monitor.errors import BiomonError, ConfigError
from monitor.models import PollReport
from monitor.output import write_rows
from monitor.query import ReleaseQuery

if TYPE_CHECKING:  # the store imports sqlite_utils: loaded by the commands that open it
    from monitor.store import Store


def poll_and_print(
    config: Config,
    store: Store,
    *,
    force: bool = False,
    catch_up: bool = False,
    printer: PollPrinter | None = None,
) -> PollReport:
    """One pass over every feed, printed by `printer` (default: the table for people)."""
    from monitor.poller import poll_once

    if not config.feed_urls():
        raise ConfigError(
            config.path, "poll.feeds", "no feeds to poll; add [poll] feeds or [[watch]] feeds"
        )
    printer = printer or PollPrinter(config, store)
    printer.start()
    report = poll_once(config, store, force=force, catch_up=catch_up, on_feed=printer.on_feed)
    printer.finish(report)
    return report


def deliver_and_print(config: Config, store: Store, *, fmt: str = "table", quiet: bool = False):
    """Send due alerts (cron use needs no daemon) and say what happened in a line or two.

    Returns what happened as a dict for JSON output (None when no channel is on). Errors and
    channel warnings (a channel that cannot deliver: cron has no desktop) go to stderr in every
    format, also with `quiet`; the counts only to the table, and not with `quiet`.
    """
    from monitor.outbox import Outbox, build_notifiers

    notifiers, warnings = build_notifiers(config.notify)
    for warning in warnings:
        click.echo(warning, err=True)
    if not notifiers:
        return None
    outbox = Outbox(store, config.notify, notifiers)
    outbox.recover()
    report = outbox.deliver()
    for error in dict.fromkeys(report.errors):
        click.echo(f"alert not sent: {error}", err=True)
    if fmt == "table" and not quiet:
        deferred = "".join(f"; {name} deferred: {why}" for name, why in report.deferred.items())
        logged = "".join(f", {n} {outcome}" for outcome, n in report.other.items())
        click.echo(
            f"alerts: {report.sent} sent{logged}, {report.retrying} to retry, "
            f"{report.failed} failed{deferred}"
        )
    return {
        "sent": report.sent,
        **report.other,
        "retrying": report.retrying,
        "failed": report.failed,
        "deferred": report.deferred,
        "errors": list(dict.fromkeys(report.errors)),
    }


_QUIET = click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Print only new releases of the watchlist and errors (for cron: no news, no mail).",
)
_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="json: one object per line (type feed, release, summary).",
)


@cli.command()
@click.option("--once", is_flag=True, help="Poll every feed once and exit (the cron-style pass).")
@click.option(
    "--force", is_flag=True, help="Poll even feeds waiting on Retry-After/backoff, or disabled."
)
@_QUIET
@_FORMAT
@click.pass_obj
def poll(obj: Context, once: bool, force: bool, quiet: bool, fmt: str) -> None:
    """Poll every configured feed once, report per feed, then send due alerts.

    Exits 1 when any feed is failing (its last poll failed, it is backing off after failures,
    or it is disabled), with one line per such feed on stderr; else 0.
    """
    config = obj.config
    store = obj.store()
    printer = PollPrinter(config, store, fmt=fmt, quiet=quiet)
    try:
        report = poll_and_print(config, store, force=force, printer=printer)
        from monitor.reminders import catalyst_upkeep

        catalyst_upkeep(config, store)  # reminders due, moved dates, [catalysts] ics_path
        alerts = deliver_and_print(config, store, fmt=fmt, quiet=quiet)
        printer.summary(report, obj.config_path, alerts)
    finally:
        store.close()
    if printer.complain():
        sys.exit(1)


@cli.command("catch-up")
@_QUIET
@_FORMAT
@click.pass_obj
def catch_up(obj: Context, quiet: bool, fmt: str) -> None:
    """Poll every feed once and store what is there without alerting (skip a backlog).

    `-q` prints only errors. Exits 1 when any feed is failing, as `poll` does.
    """
    config = obj.config
    store = obj.store()
    printer = PollPrinter(config, store, fmt=fmt, quiet=quiet, releases=False)
    try:
        report = poll_and_print(config, store, force=True, catch_up=True, printer=printer)
        printer.summary(report, obj.config_path, None)
    finally:
        store.close()
    if printer.complain():
        sys.exit(1)


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def status(obj: Context, fmt: str) -> None:
    """Every feed's health: last success, status, failures, next poll, items, staleness.

    Also which config file and database it read (JSON: a last object of type "files").
    """
    from dataclasses import asdict

    from monitor.daemon import daemon_summary
    from monitor.health import feed_healths
    from monitor.output import write_status

    store = obj.store(readonly=True)
    try:
        healths = feed_healths(obj.config, store, datetime.now(UTC))
        summary = daemon_summary(obj.config, store, sum(1 for h in healths if h.stale))
        pages = store.page_counts()
    finally:
        store.close()
    files = {
        "type": "files",
        "config": str(obj.config_path),
        "config_from": obj.choice.source,
        "database": str(store.path),
        "database_from": "--db" if obj.db_path else _database_source(obj.config),
    }
    if fmt == "json":
        for health in healths:
            click.echo(json.dumps({"type": "feed"} | asdict(health), ensure_ascii=False))
        click.echo(json.dumps(files, ensure_ascii=False))
        return
    write_status(healths, fmt, sys.stdout)
    click.echo("\n".join(summary))
    click.echo(
        f"article pages: {pages['fetched']} fetched, {pages['pending']} pending "
        f"({pages['retrying']} retrying), {pages['failed']} failed"
    )
    click.echo(f"config: {files['config']} ({files['config_from']})")
    click.echo(f"database: {files['database']} ({files['database_from']})")


def _database_source(config: Config) -> str:
    from monitor.config import default_db_path

    if config.storage.path == default_db_path():
        return "the user data folder; set [storage] path to move it"
    return "[storage] path"


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
    from monitor.demo import FeedServer, demo_config_text, make_workdir
    from monitor.resources import bundled
    from monitor.store import Store

    folder = Path(feeds_dir) if feeds_dir else bundled("demo")
    if not (folder / "nasdaq.xml").is_file():
        raise BiomonError(
            f"{folder}: demo feeds not found (nasdaq.xml, clrb.xml); pass --feeds DIR"
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
                _demo_polls(config, store, server, folder)
                watched = tuple(w.ticker for w in config.watch if w.ticker)
                rows = store.query_events(ReleaseQuery(tickers=watched, limit=15))
                write_rows(
                    rows, "table", sys.stdout, title="Watchlist releases (CLRB, SNGX), newest first"
                )
                rows = store.query_events(ReleaseQuery(search='"NCI grant"', limit=5))
                write_rows(rows, "table", sys.stdout, title='Full-text search: "NCI grant"')
            finally:
                store.close()
        if keep:
            click.echo(f"\nKept. Try: biomon --db {config.storage.path} history ticker:CLRB")
        else:
            click.echo("\nTo keep the database: biomon demo --keep DIR")
    finally:
        if tmp:
            tmp.cleanup()


def _demo_polls(config: Config, store: Store, server, folder: Path) -> None:
    """Backlog without alerts, then new releases alert once, then nothing twice."""
    from monitor.demo import EchoNotifier, serve_demo_feeds
    from monitor.outbox import Outbox

    serve_demo_feeds(server, folder, published=False)
    outbox = Outbox(
        store,
        config.notify,
        {name: EchoNotifier(name, click.echo) for name in ("desktop", "email")},
    )
    click.echo("First poll: the feeds' backlog is stored without alerting")
    poll_and_print(config, store)
    serve_demo_feeds(server, folder, published=True)  # three releases "appear", one twice
    click.echo(
        "\nSecond poll: new releases appear (one is in both GlobeNewswire feeds: stored once;"
        " PR Newswire prints it too: one event, two sources)"
    )
    poll_and_print(config, store)
    click.echo("\nAlerts it would send (CLRB alerts on licensing, grant, trial; SNGX on any tag):")
    report = outbox.deliver()
    click.echo(f"  {report.other.get('demo', 0)} alerts shown (stored as 'demo', never 'sent')")
    click.echo("\nThird poll: nothing changed, nothing parsed, nothing sent twice")
    poll_and_print(config, store)
    click.echo(f"  {outbox.deliver().other.get('demo', 0)} alerts shown\n")


@cli.command()
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="-v: biomon's debug lines; -vv: the libraries' too (as `biomon -v run`).",
)
@click.pass_obj
def run(obj: Context, log_format: str, verbose: int) -> None:
    """Run in the foreground: poll every feed on its schedule and send alerts, until stopped."""
    from monitor.daemon import Daemon
    from monitor.logs import setup_logging

    setup_logging(log_format, obj.verbose + verbose)
    if not obj.choice.found:
        obj.config  # noqa: B018 (no config anywhere: the one-line error, exit 2)
    sys.exit(Daemon(obj.config_path, db_path=obj.db_path).run())


@cli.command()
@click.option("--max-pages", default=200, show_default=True, type=click.IntRange(min=1))
@click.option("--again", is_flag=True, help="Walk feeds whose backfill already completed again.")
@click.pass_obj
def backfill(obj: Context, max_pages: int, again: bool) -> None:
    """Load older releases of the watchlist from feeds that page ([[watch]] paging = true).

    Resumable: an interrupted backfill goes on from its last page. Nothing it finds alerts.
    """
    from rich.progress import Progress

    from monitor.backfill import backfill_feed
    from monitor.poller import Poller

    config = obj.config
    urls = sorted(config.paged_feeds())
    if not urls:
        raise ConfigError(
            config.path,
            "watch",
            "no feed to page back; set paging = true on a [[watch]] with feeds",
        )
    store = obj.store()
    poller = Poller.create(config, store)
    failed = False
    try:
        with Progress() as progress:
            for url in urls:
                task = progress.add_task(url[-60:], total=max_pages)

                def step(_url: str, pages: int, new: int, task=task) -> None:
                    progress.update(task, completed=pages, description=f"{_url[-50:]} +{new}")

                report = backfill_feed(poller, url, max_pages=max_pages, again=again, on_page=step)
                progress.update(task, completed=max_pages)
                line = f"{url}: {report.pages} pages, {report.new} new releases; {report.outcome}"
                if report.error:
                    line += f" ({report.error}); run biomon backfill again to resume"
                    failed = True
                progress.console.print(line)
    finally:
        poller.client.close()
        store.close()
    if failed:
        sys.exit(1)
