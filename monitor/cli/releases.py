"""Commands over stored releases and the classifier: history, show, classify, reclassify."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import click

from monitor.cli.app import Context, cli, parse_day
from monitor.errors import BiomonError, ConfigError
from monitor.output import FORMATS, public_row, write_classifications, write_release, write_rows
from monitor.store import ReleaseQuery
from monitor.tickers import parse_ticker


@cli.command()
@click.option(
    "--ticker",
    "tickers",
    multiple=True,
    help="Only releases listing this ticker (CLRB or NASDAQ:CLRB). Repeatable.",
)
@click.option("--tag", "tags", multiple=True, help="Only releases with this tag. Repeatable (any).")
@click.option("--since", help="Published on or after this day (YYYY-MM-DD, UTC).")
@click.option("--until", help="Published on or before this day (YYYY-MM-DD, UTC).")
@click.option(
    "--search", help='Full-text search of title and text: words, "a phrase", prefix*, OR, NOT.'
)
@click.option("--watched", is_flag=True, help="Only releases listing a ticker of the watchlist.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--offset", default=0, type=click.IntRange(min=0))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.pass_obj
def history(obj: Context, tickers, tags, since, until, search, watched, limit, offset, fmt) -> None:
    """List stored releases, newest first."""
    wanted = []
    for value in tickers:
        ticker = parse_ticker(value)
        if ticker is None:
            raise click.BadParameter(f"{value!r} is not a ticker", param_hint="--ticker")
        wanted.append(ticker)
    if watched:
        wanted.extend(w.ticker for w in obj.config.watch if w.ticker)
        if not wanted:
            raise ConfigError(
                obj.config.path, "watch", "--watched needs at least one [[watch]] ticker"
            )
    since_day = parse_day(since, "--since")
    until_day = parse_day(until, "--until")
    query = ReleaseQuery(
        tickers=tuple(wanted),
        tags=tuple(t.strip().lower() for t in tags),
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
    """Print one stored release whole, with its tags and their evidence (ID: the wire's id)."""
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
        tags = store.tags_of(row["id"])
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
        }
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        write_release(row, seen_in, tags, sys.stdout)


def _tag_rules(obj: Context):
    """The config's extra tag patterns when a config file is there; else the built-in rules."""
    from monitor.poller import tag_rules_for

    if not obj.config_path.exists():
        return None
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
    finally:
        store.close()
    click.echo(f"{done} releases reclassified")
