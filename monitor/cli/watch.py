"""`biomon watch add/remove/list`: the watchlist managed from the command line, and a view of
how each watch is doing.

`add` and `remove` edit the config file in use in place (monitor/watchlist.py: comments and
layout kept, checked before written, replaced whole); a running `biomon run` reloads it within
`[daemon] reload_every` seconds. `add` fills `company` and `cik` from SEC's ticker map
(monitor/sources/sec_tickers.py) and refuses a ticker the map does not know, naming the nearest
ones, unless `--force`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from datetime import UTC, datetime

import click

from monitor.cli.app import Context, cli
from monitor.config import DEFAULT_CONFIG, tag_problem
from monitor.errors import BiomonError, ConfigError
from monitor.tickers import parse_ticker


class WatchError(click.ClickException):
    """A one-line error with exit status 2 (a ticker SEC does not know: a usage problem)."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"biomon: error: {self.message}", file=file, err=file is None)


def _names(value: str | None) -> tuple[str, ...]:
    """`licensing,grant trial` -> ("licensing", "grant", "trial"), each once."""
    return tuple(dict.fromkeys(n for n in re.split(r"[\s,;]+", value or "") if n))


def _ticker(value: str):
    ticker = parse_ticker(value)
    if ticker is None:
        raise click.BadParameter(
            f"{value!r} is not a ticker; write e.g. CLRB or NASDAQ:CLRB", param_hint="TICKER"
        )
    return ticker


@cli.group()
def watch() -> None:
    """The watchlist: add and remove tickers, see how each is doing.

    add and remove edit the [[watch]] tables of the config file in use, keeping its comments
    and layout; a running `biomon run` picks the change up without a restart.
    """


@watch.command("add")
@click.argument("ticker")
@click.option(
    "--tags",
    metavar="TAGS",
    help="Alert only on releases with one of these tags, comma-separated "
    "(e.g. licensing,grant,trial). Default: every release.",
)
@click.option(
    "--channels",
    metavar="CHANNELS",
    help="Send its alerts to these channels, comma-separated. Default: every enabled channel.",
)
@click.option(
    "--feed",
    "feeds",
    multiple=True,
    metavar="URL",
    help="A feed of its own to poll, e.g. the company's GlobeNewswire organization feed "
    "(repeatable). Its first poll stores its backlog without alerting.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Add it even when SEC's ticker map does not list it (OTC and foreign listings may be "
    "missing) or cannot be had; company and cik are then left out.",
)
@click.pass_obj
def add(
    obj: Context,
    ticker: str,
    tags: str | None,
    channels: str | None,
    feeds: tuple[str, ...],
    force: bool,
) -> None:
    """Watch a ticker (company and CIK from SEC).

    A new [[watch]] in the config file, its company and CIK from SEC's ticker map.

    TICKER: CLRB, or NASDAQ:CLRB to match that exchange only. A ticker SEC's map does not list
    is refused (exit 2) with the nearest ones it does, unless --force. A ticker already watched
    changes nothing.

    Releases stored before it was added never alert, nor does a new feed's first poll (its
    backlog): only releases that appear from now on.
    """
    from monitor.watchlist import NewWatch, add_watch, checked, read_text, watched_index, write_text

    wanted = _ticker(ticker)
    config = _own_config(obj)
    alert_tags = tuple(name.lower() for name in _names(tags))
    for name in alert_tags:
        problem = tag_problem(name, config.new_tags)
        if problem:
            raise click.BadParameter(problem, param_hint="--tags")
    index = watched_index(config.watch, wanted)
    if index is not None:
        click.echo(
            f"{config.watch[index].ticker} is already watched (watch[{index}] in "
            f"{obj.config_path}); nothing changed"
        )
        return
    company = _sec_company(config, wanted.symbol, force)
    new = NewWatch(
        ticker=wanted,
        company=company.name if company else "",
        cik=company.cik if company else None,
        sec_title=company.title if company else "",
        feeds=feeds,
        alert_tags=alert_tags,
        channels=_names(channels),
    )
    path = obj.config_path
    original, text = read_text(path)
    edited = _edit(path, lambda: add_watch(text, new))
    after = checked(edited, path)
    if watched_index(after.watch, wanted) is None or len(after.watch) != len(config.watch) + 1:
        raise BiomonError(f"{path}: the edit did not add {wanted} as expected; nothing written")
    write_text(path, edited, original)
    about = f" ({company.name}, CIK {company.cik})" if company else " (not in SEC's ticker map)"
    rule = f"alerts on {', '.join(alert_tags)}" if alert_tags else "alerts on every release"
    click.echo(f"added {wanted}{about} to {path}: {rule}")
    click.echo(
        f"a running `biomon run` picks it up within {after.daemon.reload_every:g}s; releases "
        "stored before, and a new feed's first poll (its backlog), never alert"
    )


def _own_config(obj: Context):
    """The config to edit; never the checkout's example found as a last resort."""
    config = obj.config
    fallback = not (obj.explicit_config or os.environ.get("BIOMON_CONFIG"))
    if fallback and DEFAULT_CONFIG.is_file() and os.path.samefile(obj.config_path, DEFAULT_CONFIG):
        raise BiomonError(
            f"{obj.config_path} is the example config of this checkout; write your own with "
            "`biomon init`, or edit this one with --config"
        )
    return config


def _sec_company(config, symbol: str, force: bool):
    """SEC's entry for `symbol`; with `force`, None (and a warning) when there is none."""
    from monitor.sources.sec_tickers import TickerMapError, load_ticker_map

    try:
        ticker_map = load_ticker_map(config)
    except (TickerMapError, ConfigError) as error:
        if not force:
            if isinstance(error, ConfigError):
                raise
            raise BiomonError(f"{error}; --force adds the ticker without company and CIK") from None
        click.echo(f"warning: {error}; adding {symbol} without company and CIK", err=True)
        return None
    if ticker_map.warning:
        click.echo(f"warning: {ticker_map.warning}", err=True)
    company = ticker_map.lookup(symbol)
    if company is None and not force:
        raise WatchError(
            f"{ticker_map.not_found(symbol)} (--force adds it all the same: OTC and foreign "
            "listings may be missing from the map)"
        )
    if company is None:
        click.echo(f"warning: {symbol} is not in SEC's ticker map; added as given", err=True)
    return company


def _edit(path, make):
    from monitor.watchlist import EditError

    try:
        return make()
    except EditError as error:
        raise BiomonError(f"{path}: cannot edit in place: {error}") from None


@watch.command("remove")
@click.argument("ticker")
@click.pass_obj
def remove(obj: Context, ticker: str) -> None:
    """Stop watching a ticker: its [[watch]] leaves the config file.

    The comments around it stay; its releases stay in the database.
    """
    import difflib

    from monitor.watchlist import checked, read_text, remove_watch, watched_index, write_text

    wanted = _ticker(ticker)
    config = _own_config(obj)
    path = obj.config_path
    index = watched_index(config.watch, wanted)
    if index is None:
        watched = [w.ticker.symbol for w in config.watch if w.ticker]
        near = difflib.get_close_matches(wanted.symbol, watched, 1, 0.6)
        listed = ", ".join(watched) or "none"
        hint = f"; did you mean {near[0]}?" if near else f" (watched: {listed})"
        raise BiomonError(f"{wanted} is not watched in {path}{hint}")
    gone = config.watch[index]
    original, text = read_text(path)
    edited = _edit(path, lambda: remove_watch(text, wanted))
    after = checked(edited, path)
    if watched_index(after.watch, wanted) is not None or len(after.watch) != len(config.watch) - 1:
        raise BiomonError(f"{path}: the edit did not remove {wanted} as expected; nothing written")
    write_text(path, edited, original)
    click.echo(f"removed {gone.ticker} from {path}")
    dropped = [url for url in gone.feeds if url not in after.feed_urls()]
    if dropped:
        with obj.store() as store:  # added again later, they start with a fresh backlog
            store.forget_feeds(dropped)
        click.echo(f"no longer polled: {', '.join(dropped)}")


@watch.command("list")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json: one object per watch per line.",
)
@click.pass_obj
def list_(obj: Context, fmt: str) -> None:
    """Each watch with its rule, its feeds and how it is doing.

    From the database: its last release (date, primary tag, title), its releases of the last 30
    days by tag, its alerts sent and pending, and the health of its feeds.

    The database is only read; before the first poll (no database yet) the figures are empty.
    """
    from monitor.watchlist import watch_figures

    config = obj.config
    db_path = obj.db_path or config.storage.path
    store = obj.store(readonly=True) if db_path.exists() else None
    try:
        records = watch_figures(config, store, datetime.now(UTC))
    finally:
        if store is not None:
            store.close()
    if fmt == "json":
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    _table(records, sys.stdout)
    if store is None:
        click.echo(f"no database yet ({db_path}): figures appear after the first poll")


def _table(records: list[dict], out) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    width = None if out.isatty() else max(shutil.get_terminal_size((120, 24)).columns, 120)
    table = Table(title="Watchlist", show_lines=True)
    for name in ("watch", "rule", "last release", "30 days", "alerts", "feeds"):
        table.add_column(name, overflow="fold")
    for record in records:
        cells = [
            _who(record),
            _rule(record["rule"]),
            _last(record["last_release"]),
            _recent(record["recent"]),
            _alerts(record["alerts"]),
            _feeds(record["feeds"]),
        ]
        table.add_row(*(Text(cell) for cell in cells))  # Text: a "[" in a title is no markup
    console = Console(file=out, width=width)
    console.print(table)
    if not records:
        console.print("no [[watch]] in the config; add one: biomon watch add TICKER", markup=False)


def _who(record: dict) -> str:
    lines = [record["label"]]
    if record["company"] and record["company"] != record["label"]:
        lines.append(record["company"])
    if record["cik"]:
        lines.append(f"CIK {record['cik']}")
    return "\n".join(lines)


def _rule(rule: dict) -> str:
    lines = [f"tags: {', '.join(rule['alert_tags']) or 'any'}"]
    for key, name in (("keywords", "words"), ("exclude", "not"), ("channels", "to")):
        if rule[key]:
            lines.append(f"{name}: {', '.join(rule[key])}")
    if rule["query"]:
        lines.append(f"query: {rule['query']}")
    return "\n".join(lines)


def _last(last: dict | None) -> str:
    if not last:
        return "-"
    title = last["title"] if len(last["title"]) <= 70 else last["title"][:69] + "…"
    return f"{(last['published'] or '')[:10]} {last['primary'] or '-'}\n{title}"


def _recent(recent: dict) -> str:
    if recent["releases"] is None:
        return "-"
    count = recent["releases"]
    lines = [f"{count} release{'' if count == 1 else 's'}"]
    return "\n".join([*lines, *(f"{tag} {n}" for tag, n in recent["by_tag"].items())])


def _alerts(alerts: dict) -> str:
    lines = [f"{alerts['sent']} sent", f"{alerts['pending']} pending"]
    if alerts["failed"]:
        lines.append(f"{alerts['failed']} failed")
    return "\n".join(lines)


def _feeds(feeds: list[dict]) -> str:
    """Its own feeds one by one; the broad feeds (every watch reads them) counted by health."""
    lines = [f"{f['url']}: {f['health']}" for f in feeds if f["own"]]
    broad: dict[str, int] = {}
    for feed in feeds:
        if not feed["own"]:
            verdict = feed["health"].split(":")[0]
            broad[verdict] = broad.get(verdict, 0) + 1
    if broad:
        lines.append("broad: " + ", ".join(f"{n} {verdict}" for verdict, n in broad.items()))
    return "\n".join(lines) or "-"
