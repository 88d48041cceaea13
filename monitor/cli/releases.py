"""Commands over stored releases and the classifier: history, show, classify, reclassify."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli.app import Context, cli, parse_day
from monitor.errors import BiomonError, ConfigError
from monitor.output import (
    FORMATS,
    check_new_file,
    public_row,
    write_classifications,
    write_file,
    write_release,
    write_rows,
    write_stats,
    write_timeline,
)
from monitor.tickers import parse_ticker

if TYPE_CHECKING:  # monitor.query is imported by the commands that query: not `classify`
    from monitor.query import ReleaseQuery


def query_options(func):
    """The options every query command shares (history, search, export, stats)."""
    options = [
        click.argument("query", nargs=-1),
        click.option(
            "--ticker",
            "tickers",
            multiple=True,
            help="Only releases listing this ticker (CLRB or NASDAQ:CLRB). Repeatable.",
        ),
        click.option(
            "--tag", "tags", multiple=True, help="Only releases with this tag. Repeatable."
        ),
        click.option("--since", help="Published on or after this day (YYYY-MM-DD, UTC)."),
        click.option("--until", help="Published on or before this day (YYYY-MM-DD, UTC)."),
        click.option("--search", help='Full-text search: words, "a phrase", prefix*, OR, NOT.'),
        click.option("--watched", is_flag=True, help="Only releases of watchlist tickers."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


class QueryCommand(click.Command):
    """A command whose QUERY words may start with a dash (`-tag:financing`, `-word`).

    click must not read those as options, so unknown options pass through as query text; but
    an unknown `--word` is a mistyped option (`--limt`), never query text: an error naming the
    option it may mean. After `--` every word is query text.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs["context_settings"] = {
            **(kwargs.get("context_settings") or {}),
            "ignore_unknown_options": True,
        }
        super().__init__(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (param.is_flag or param.count)
        value_next = False
        for arg in args:
            if value_next:  # `--search --x`: the value of --search, whatever it looks like
                value_next = False
                continue
            if arg == "--":
                break
            if not arg.startswith("--"):
                continue
            name, equals, _ = arg.partition("=")
            if name not in takes_value:
                long_names = [known for known in takes_value if known.startswith("--")]
                raise click.NoSuchOption(name, possibilities=long_names, ctx=ctx)
            value_next = takes_value[name] and not equals
        return super().parse_args(ctx, args)


def build_query(obj: Context, query, tickers, tags, since, until, search, watched) -> ReleaseQuery:
    """One ReleaseQuery from a QUERY (or @saved-name) plus the filter options."""
    from monitor.query import ReleaseQuery, parse_query
    from monitor.rules import resolve_query

    query = " ".join(query) if isinstance(query, tuple) else query
    wanted = []
    for value in tickers:
        ticker = parse_ticker(value)
        if ticker is None:
            raise click.BadParameter(f"{value!r} is not a ticker", param_hint="--ticker")
        wanted.append(ticker)
    for tag in tags:
        tag = tag.strip().lower()
        if obj.config_path.exists():
            problem = tag_problem(tag, obj.config.new_tags)
        else:
            problem = _tag_problem_without_config(obj, tag)
        if problem:
            raise click.BadParameter(problem, param_hint="--tag")
    since_day = parse_day(since, "--since")
    until_day = parse_day(until, "--until")
    base = ReleaseQuery(
        tickers=tuple(wanted),
        tags=tuple(t.strip().lower() for t in tags),
        since=f"{since_day.isoformat()}T00:00:00Z" if since_day else None,
        until=_day_after(until_day),
        search=search,
        watched_only=True if watched else None,
    )
    needs_config = watched or "watched:" in query or query.startswith("@")
    config = obj.config if needs_config or obj.config_path.exists() else None
    if config is None:
        # No config: the built-in tags and those already stored are the known ones.
        parsed = parse_query(query, tag_problem=lambda tag: _tag_problem_without_config(obj, tag))
    else:
        parsed = resolve_query(config, query)
        base = replace(base, watched=parsed.watched)
    if base.watched_only and not base.watched:
        raise ConfigError(obj.config_path, "watch", "--watched needs at least one [[watch]] ticker")
    return base.merged(parsed)


def tag_problem(name: str, new_tags=(), *, hint: bool = False) -> str | None:
    """monitor.config.tag_problem, imported when a tag is checked (not by `biomon classify`)."""
    from monitor.config import tag_problem as problem

    return problem(name, new_tags, hint=hint)


def _tag_problem_without_config(obj: Context, tag: str) -> str | None:
    """A tag is known when built in, or when a stored release carries it (no config to ask)."""
    if tag_problem(tag) is None:
        return None
    try:
        with obj.store(readonly=True) as store:
            stored = store.tag_names()
    except BiomonError:
        stored = ()  # the command itself says what is wrong with the database
    return tag_problem(tag, stored)


def _day_after(day: date | None) -> str | None:
    """The exclusive upper bound of an inclusive --until day; None (no bound) for 9999-12-31."""
    if day is None or day == date.max:
        return None
    return f"{(day + timedelta(days=1)).isoformat()}T00:00:00Z"


def _run(obj: Context, query: ReleaseQuery) -> list[dict]:
    """The releases `query` matches, one row per event, each with all of its sources."""
    store = obj.store(readonly=True)
    try:
        return store.query_events(query)
    finally:
        store.close()


def _history(obj, query, tickers, tags, since, until, search, watched, limit, offset, fmt, rank):
    built = build_query(obj, query, tickers, tags, since, until, search, watched)
    built = replace(built, limit=limit, offset=offset, rank=rank)
    write_rows(_run(obj, built), fmt, sys.stdout)


_LIST_OPTIONS = [
    click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1)),
    click.option("--offset", default=0, type=click.IntRange(min=0)),
    click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True),
    click.option(
        "--rank",
        type=click.Choice(["newest", "relevance"]),
        default="newest",
        show_default=True,
        help="Order: newest first, or best full-text match first.",
    ),
]


def list_options(func):
    for option in reversed(_LIST_OPTIONS):
        func = option(func)
    return func


@cli.command(cls=QueryCommand)
@query_options
@list_options
@click.pass_obj
def history(obj: Context, **options) -> None:
    """List stored releases, newest first. QUERY: free text and field:value filters, or @saved.

    \b
    Examples:
      biomon history 'ticker:CLRB tag:grant since:2022'
      biomon history '"exclusive license" radiopharm* -tag:financing'
      biomon history @clrb-deals
    Fields: ticker: tag: source: issuer:"..." since: until: watched:yes (a leading - excludes
    a ticker or tag). Free text: words (all must appear), "a phrase", prefix*, AND, OR, NOT, ( ).
    """
    _history(obj, **options)


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1, required=True)
@list_options
@click.pass_obj
def search(obj: Context, query: tuple[str, ...], **options) -> None:
    """Search the history: `biomon search 'NCI grant ticker:CLRB'` (the short form of history)."""
    _history(obj, query, (), (), None, None, None, False, **options)


@cli.command(cls=QueryCommand)
@click.argument("path", type=click.Path(dir_okay=False))
@query_options
@click.option("--limit", default=1_000_000, type=click.IntRange(min=1), help="At most this many.")
@click.option(
    "--force", is_flag=True, help="Replace PATH if it exists (never through a symbolic link)."
)
@click.pass_obj
def export(obj: Context, path: str, limit: int, force: bool, **options) -> None:
    """Write the releases a query matches to PATH: .csv, or .jsonl/.json (JSON lines).

    PATH is written whole or not at all, and never replaced unless --force.
    """
    fmt = _export_format(path)
    query = replace(build_query(obj, **options), limit=limit)
    check_new_file(Path(path), force)  # before the query, which may take a while
    rows = _run(obj, query)
    write_file(Path(path), lambda out: write_rows(rows, fmt, out, full=True), force=force)
    click.echo(f"{len(rows)} releases written to {path}")


def _export_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".json", ".ndjson"):
        return "json"
    raise click.BadParameter(f"{path!r}: use a .csv or .jsonl file name", param_hint="PATH")


@cli.command(cls=QueryCommand)
@query_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def stats(obj: Context, fmt: str, **options) -> None:
    """Counts by tag, ticker and month of the releases a query matches."""
    from monitor.query import facet_counts

    query = build_query(obj, **options)
    store = obj.store(readonly=True)
    try:
        counts = facet_counts(store.db, query)
    finally:
        store.close()
    write_stats(counts, fmt, sys.stdout)


@cli.command()
@click.argument("ticker")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(min=1))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def timeline(obj: Context, ticker: str, limit: int, fmt: str) -> None:
    """One ticker's releases in time order, with tags and facts (amounts, phases, partners)."""
    from monitor.query import ReleaseQuery

    parsed = parse_ticker(ticker)
    if parsed is None:
        raise click.BadParameter(f"{ticker!r} is not a ticker", param_hint="TICKER")
    store = obj.store(readonly=True)
    try:
        rows = store.query(ReleaseQuery(tickers=(parsed,), limit=limit))
        tags = {row["id"]: [t for t, _ in store.tags_of(row["id"])] for row in rows}
        from monitor.cli.catalysts import ticker_calendar, write_calendar

        calendar = ticker_calendar(store, parsed.symbol)
    finally:
        store.close()
    write_timeline(list(reversed(rows)), tags, fmt, sys.stdout)
    if fmt == "table":
        write_calendar(calendar, "table", sys.stdout, heading=True)


@cli.command()
@click.argument("release_id")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.pass_obj
def show(obj: Context, release_id: str, fmt: str) -> None:
    """Print one stored release whole, with its tags and their evidence (ID: the wire's id)."""
    store = obj.store(readonly=True)
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
        tags = store.tags_of(row["id"])
        sources = [_source(s) for s in store.event_sources(row["id"])]
        from monitor.cli.catalysts import release_calendar, write_calendar

        calendar = release_calendar(store, row["id"])
    finally:
        store.close()
    if fmt == "json":
        record = public_row(row) | {
            "primary": row.get("primary_tag"),
            "tags": [tag for tag, _ in tags],
            "evidence": dict(tags),
            "facts": row.get("facts") or {},
            "text": row["text"],
            "summary_html": row["summary_html"],
            "seen_in": seen_in,
            "sources": sources,
            "catalysts": [entry.public() for entry in calendar],
        }
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        write_release(row, seen_in, tags, sys.stdout, sources)
        write_calendar(calendar, "table", sys.stdout, heading=True)


def _source(source) -> dict:
    """One source of an event as output shows it (monitor.store.events.EventSource)."""
    return {"source": source.source, "release_id": source.release_id, "url": source.url}


def _tag_rules(obj: Context):
    """The config's extra tag patterns when a config file is there; else the built-in rules."""
    if not obj.config_path.exists():
        return None
    from monitor.rules import tag_rules_for  # not imported by `biomon classify` without one

    return tag_rules_for(obj.config)


@cli.command()
@click.argument("source", default="-", type=click.File("r", encoding="utf-8"))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def classify(obj: Context, source, fmt: str) -> None:
    """Tag releases: a plain-text release (first line the title) or JSON lines (id, title, text).

    SOURCE is a file or - for standard input.
    """
    from monitor.classify import classify as classify_release

    rules = _tag_rules(obj)
    text = source.read()
    items = _read_items(text, getattr(source, "name", "-"))
    results = [(item_id, classify_release(title, body, rules)) for item_id, title, body in items]
    write_classifications(results, fmt, sys.stdout)


def _read_items(text: str, name: str) -> list[tuple[str, str, str]]:
    if text.lstrip().startswith("{"):
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                items.append(
                    (str(record.get("id", number)), record["title"], record.get("text", ""))
                )
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
                raise BiomonError(
                    f"{name}: line {number}: not a JSON object with a title ({error})"
                ) from None
        return items
    lines = text.strip().splitlines()
    if not lines:
        raise BiomonError(f"{name}: empty input; give a release (first line its title)")
    return [("1", lines[0].strip(), "\n".join(lines[1:]).strip())]


@cli.command()
@click.pass_obj
def reclassify(obj: Context) -> None:
    """Classify every stored release again (after a rule change), with a progress bar."""
    from rich.progress import Progress

    from monitor.classify import classify as classify_release

    rules = _tag_rules(obj)
    store = obj.store()
    try:
        with Progress(transient=False) as progress:
            task = progress.add_task("reclassifying", total=store.count())
            done = store.reclassify(
                lambda title, text: classify_release(title, text, rules),
                progress=lambda done, total: progress.update(task, completed=done),
            )
        # The catalyst calendar is built from the classifications: build it again, in order.
        entries = store.rebuild_catalysts(
            lambda title, text, published: classify_release(title, text, rules, published)
        )
    finally:
        store.close()
    click.echo(f"{done} releases reclassified; {entries} catalyst entries")
