"""`biomon catalysts`: the calendar of dated upcoming events the stored releases announced."""

from __future__ import annotations

import csv
import json
import re
import shlex
import sys
from datetime import date, timedelta
from typing import TextIO

import click

from monitor.calendar import Entry, entries, ics_text, title_of
from monitor.classify.catalysts import KINDS
from monitor.cli.app import Context, cli, parse_day
from monitor.query import QueryError, parse_query
from monitor.store import Store
from monitor.store.catalysts import CatalystQuery

_SPAN = re.compile(r"^\s*(\d{1,5})\s*([dwmy]?)\s*$", re.IGNORECASE)
_UNIT_DAYS = {"": 1, "d": 1, "w": 7, "m": 30, "y": 365}
_FIELDS = ("ticker:", "-ticker:", "tag:", "-tag:", "kind:")


def parse_span(value: str | None, option: str) -> int | None:
    """`90d`, `12w`, `6m`, `1y` (or a bare number of days) as days; a usage error otherwise."""
    if value is None:
        return None
    found = _SPAN.match(value)
    if not found:
        raise click.BadParameter(
            f"{value!r} is not a span of time; write e.g. 90d, 12w, 6m or 1y", param_hint=option
        )
    return int(found.group(1)) * _UNIT_DAYS[found.group(2).lower()]


def build_catalyst_query(
    text: str, today: date, within: int | None, past: int | None, tag_problem=None
) -> tuple[CatalystQuery, tuple[str, ...]]:
    """The store query for a QUERY (ticker:, tag:, kind:, words) and the time options; the
    words, which filter program, trial and evidence."""
    try:
        tokens = shlex.split(text)
    except ValueError as error:
        raise QueryError(text, -1, str(error)) from None
    kinds, history, words = [], [], []
    for token in tokens:
        lowered = token.lower()
        if lowered.startswith("kind:"):
            kind = lowered[5:].strip()
            if kind not in KINDS:
                problem = f"unknown kind {kind!r}; use one of {', '.join(KINDS)}"
                raise QueryError(text, text.lower().find(lowered), problem)
            kinds.append(kind)
        elif lowered.startswith(_FIELDS):
            history.append(token)
        elif ":" in token and not token.startswith('"'):
            problem = f"{token!r}: catalysts take ticker:, tag:, kind: and words"
            raise QueryError(text, text.find(token), problem)
        else:
            words.append(lowered)
    parsed = parse_query(" ".join(history), tag_problem=tag_problem)
    ends_after = starts_before = None
    if within is not None or past is not None:
        ends_after = (today - timedelta(days=past or 0)).isoformat()
        if within is not None:
            starts_before = (today + timedelta(days=within)).isoformat()
    query = CatalystQuery(
        tickers=tuple(t.symbol for t in parsed.tickers),
        not_tickers=tuple(t.symbol for t in parsed.exclude_tickers),
        kinds=tuple(kinds),
        tags=tuple(parsed.tags),
        ends_after=ends_after,
        starts_before=starts_before,
        open_only=within is None and past is None,
    )
    return query, tuple(words)


def read_calendar(store: Store, query: CatalystQuery, words: tuple[str, ...], today: date):
    """The entries a query selects, with their history and status as of `today`."""
    rows = store.catalyst_rows(query)
    if words:
        rows = [row for row in rows if all(word in _haystack(row) for word in words)]
    return entries(rows, store.catalyst_changes(row["id"] for row in rows), today)


def _haystack(row: dict) -> str:
    return " ".join(
        str(row.get(k) or "") for k in ("program", "trial", "evidence", "issuer")
    ).lower()


def ticker_calendar(store: Store, symbol: str, today: date | None = None) -> list[Entry]:
    """Every entry of one ticker (`biomon timeline`)."""
    return read_calendar(store, CatalystQuery(tickers=(symbol,)), (), today or date.today())


def release_calendar(store: Store, row_id: int, today: date | None = None) -> list[Entry]:
    """The entries a release announced, moved or met (`biomon show`)."""
    rows = store.catalysts_of_release(row_id)
    return entries(rows, store.catalyst_changes(r["id"] for r in rows), today or date.today())


def write_calendar(shown: list[Entry], fmt: str, out: TextIO, heading: bool = False) -> None:
    """The entries as a table, JSON lines, CSV or an iCalendar; `heading`: under a title
    and only when there are some (beside another command's output)."""
    if heading:
        if not shown:
            return
        if fmt == "table":
            out.write(f"\nCatalysts ({len(shown)}):\n")
    if fmt == "ics":
        out.write(ics_text(shown))
    elif fmt == "json":
        for entry in shown:
            record = entry.public() | {"history": [_change(c) for c in entry.changes]}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        records = [entry.public() for entry in shown]
        if records:
            writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
    else:
        _write_table(shown, out)


def _change(change: dict) -> dict:
    return {
        "changed": change["changed"],
        "release": change.get("release_ref"),
        "old": [change["old_start"], change["old_end"], change["old_text"]],
        "new": [change["new_start"], change["new_end"], change["new_text"]],
    }


def _write_table(shown: list[Entry], out: TextIO) -> None:
    if not shown:
        out.write("no catalysts (try --past 365d, or `biomon reclassify` after an upgrade)\n")
        return
    for entry in shown:
        row = entry.row
        window = row["window_start"]
        if row["window_end"] != row["window_start"]:
            window += f" .. {row['window_end']}"
        moved = f", moved {len(entry.changes)}x" if entry.changes else ""
        out.write(f"{window}  {title_of(row)}  [{entry.status}{moved}]\n")
        out.write(f"    {row['date_text']}: {_short(row['evidence'])}\n")
        if row.get("met_release"):
            out.write(
                f"    met ({row.get('met_label')}): {row.get('met_url') or row.get('met_ref')}\n"
            )
        link = row.get("release_url") or f"{row.get('release_source')}:{row.get('release_ref')}"
        out.write(f"    {link}\n")


def _short(text: str, limit: int = 240) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@cli.command()
@click.argument("query", nargs=-1)
@click.option("--within", help="Windows opening within this span from today: 90d, 12w, 6m, 1y.")
@click.option("--past", help="Also windows that ended within this span before today: 30d.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv", "ics"]),
    default="table",
    show_default=True,
    help="ics: an iCalendar file for any calendar app.",
)
@click.option("--today", "today_text", help="Read the calendar as of this day (YYYY-MM-DD).")
@click.pass_obj
def catalysts(
    obj: Context, query: tuple[str, ...], within, past, fmt: str, today_text: str | None
) -> None:
    """The catalyst calendar: dated upcoming events the releases announced, with evidence.

    \b
    Without --within/--past: every entry not yet met (upcoming and overdue). Examples:
      biomon catalysts --within 90d
      biomon catalysts 'ticker:CLRB kind:topline' --past 30d
      biomon catalysts --format ics > catalysts.ics
    QUERY: ticker: tag: kind: (pdufa, adcom, topline, interim_data, enrollment_complete,
    trial_start, first_patient, submission, regulatory_decision, presentation, earnings_call,
    other) and words found in the program, trial or evidence.
    """
    today = parse_day(today_text, "--today") or date.today()
    built, words = build_catalyst_query(
        " ".join(query), today, parse_span(within, "--within"), parse_span(past, "--past")
    )
    with obj.store(readonly=True) as store:
        shown = read_calendar(store, built, words, today)
    if fmt == "ics":  # bytes: its CRLF line ends must survive a text-mode stdout
        sys.stdout.flush()
        sys.stdout.buffer.write(ics_text(shown).encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    write_calendar(shown, fmt, sys.stdout)
