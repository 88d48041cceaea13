"""Formatting of release rows for the terminal: rich tables, JSON lines, CSV."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from typing import Any, TextIO

FORMATS = ("table", "json", "csv", "markdown")
CSV_COLUMNS = (
    "id", "source", "published", "tickers", "primary", "issuer", "title", "url", "first_seen",
    "snippet",
)  # fmt: skip
HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE = "\x02", "\x03"  # set by monitor.query's snippets


def public_row(row: dict) -> dict:
    """The stable shape of a release in JSON/CSV output (a contract for scripts)."""
    return {
        "id": row["release_id"],
        "source": row["source"],
        "title": row["title"],
        "url": row["url"],
        "published": row["published_utc"],
        "published_raw": row["published_raw"],
        "tickers": row["tickers"],
        "issuer": row["issuer"],
        "language": row["language"],
        "subjects": row["subjects"],
        "first_seen": row["first_seen"],
        "primary": row.get("primary_tag"),
        **({"snippet": _marked(row["snippet"], "**")} if row.get("snippet") else {}),
    }


def _marked(snippet: str, mark: str) -> str:
    return snippet.replace(HIGHLIGHT_OPEN, mark).replace(HIGHLIGHT_CLOSE, mark)


def write_rows(
    rows: Sequence[dict], fmt: str, out: TextIO, *, title: str | None = None, full: bool = False
) -> None:
    """Write release rows as a table, JSON lines, CSV or Markdown (`full`: with the text)."""
    if fmt == "json":
        for row in rows:
            record = public_row(row) | ({"text": row["text"]} if full else {})
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    elif fmt == "markdown":
        write_markdown(rows, out)
    elif fmt == "csv":
        columns = (*CSV_COLUMNS, "text") if full else CSV_COLUMNS
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            record = public_row(row) | ({"text": row["text"]} if full else {})
            record["tickers"] = " ".join(record["tickers"])
            writer.writerow(record)
    else:
        write_table(rows, out, title=title)


def write_table(rows: Sequence[dict], out: TextIO, *, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, soft_wrap=False, width=_width(out))
    # Only the title shrinks to fit the terminal: dates, ids and tickers are what a reader scans.
    id_width = max((len(row["release_id"]) for row in rows), default=2)
    ticker_width = min(max((len(" ".join(row["tickers"])) for row in rows), default=7), 30)
    title_width = max(console.width - (16 + id_width + ticker_width + 13), 20)
    table = Table(title=title)
    table.add_column("published (UTC)", no_wrap=True, min_width=16)
    table.add_column("id", no_wrap=True, min_width=id_width)
    table.add_column("tickers", no_wrap=True, overflow="ellipsis", max_width=ticker_width)
    snippets = any(row.get("snippet") for row in rows)
    table.add_column("title", no_wrap=not snippets, overflow="ellipsis", max_width=title_width)
    for row in rows:
        published = (row["published_utc"] or row["published_raw"] or "?").replace("T", " ")[:16]
        cell = _title_cell(row) if snippets else row["title"]
        table.add_row(published, row["release_id"], " ".join(row["tickers"]), cell)
    console.print(table)
    if not rows:
        console.print("no releases match")


def _title_cell(row: dict):
    from rich.text import Text

    cell = Text(row["title"], style="bold")
    snippet = row.get("snippet") or ""
    if snippet:
        cell.append("\n")
        for index, part in enumerate(re.split("[\x02\x03]", snippet)):
            cell.append(part, style="reverse" if index % 2 else "dim")
    return cell


def write_markdown(rows: Sequence[dict], out: TextIO) -> None:
    """A Markdown table: date, tickers, linked title (and the matching text when searched)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    snippets = any(row.get("snippet") for row in rows)
    out.write(
        "| published (UTC) | id | tickers | title |" + (" match |" if snippets else "") + "\n"
    )
    out.write("|---|---|---|---|" + ("---|" if snippets else "") + "\n")
    for row in rows:
        published = (row["published_utc"] or "?").replace("T", " ")[:16]
        title = f"[{cell(row['title'])}]({row['url']})" if row["url"] else cell(row["title"])
        line = f"| {published} | {row['release_id']} | {' '.join(row['tickers'])} | {title} |"
        if snippets:
            line += f" {cell(_marked(row.get('snippet') or '', '**'))} |"
        out.write(line + "\n")


def write_stats(counts: dict[str, list], fmt: str, out: TextIO) -> None:
    """`biomon stats`: counts by tag, ticker and month."""
    if fmt == "json":
        out.write(json.dumps({k: dict(v) for k, v in counts.items()}) + "\n")
        return
    from rich.columns import Columns
    from rich.console import Console
    from rich.table import Table

    tables = []
    for name in ("tag", "ticker", "month"):
        table = Table(title=f"by {name}")
        table.add_column(name)
        table.add_column("releases", justify="right")
        for key, count in counts[name]:
            table.add_row(str(key), str(count))
        tables.append(table)
    console = Console(file=out, width=_width(out))
    console.print(f"{counts['total'][0][1]} releases")
    console.print(Columns(tables))


def write_timeline(rows: Sequence[dict], tags: dict, fmt: str, out: TextIO) -> None:
    """`biomon timeline`: a ticker's releases oldest first with tags and facts."""
    if fmt == "json":
        for row in rows:
            record = public_row(row) | {"tags": tags.get(row["id"], []), "facts": row["facts"]}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="timeline")
    table.add_column("published", no_wrap=True)
    table.add_column("tags", overflow="fold")
    table.add_column("title", overflow="fold", ratio=3)
    table.add_column("facts", overflow="fold", ratio=2)
    for row in rows:
        facts = row.get("facts") or {}
        shown = [
            "; ".join(facts.get(key) or [])
            for key in ("amounts", "phases", "trial_names", "agencies", "counterparties")
        ]
        table.add_row(
            (row["published_utc"] or "?")[:10],
            ", ".join(_primary_first(row.get("primary_tag"), tags.get(row["id"], []))),
            row["title"],
            " | ".join(part for part in shown if part),
        )
    Console(file=out, width=_width(out)).print(table)
    if not rows:
        Console(file=out).print("no releases for this ticker")


def _primary_first(primary: str | None, tags: list[str]) -> list[str]:
    return sorted(tags, key=lambda tag: tag != primary)


def write_release(
    row: dict, seen_in: Sequence[str], tags: Sequence[tuple[str, list[str]]], out: TextIO
) -> None:
    """One release, whole, for `biomon show`: fields, tags with their evidence, facts, text."""
    lines = [
        row["title"],
        "",
        f"id:         {row['source']}:{row['release_id']}",
        f"url:        {row['url']}",
        f"published:  {row['published_utc'] or 'unknown'} (raw: {row['published_raw']!r})",
        f"issuer:     {row['issuer']}",
        f"tickers:    {' '.join(row['tickers']) or '-'}",
        f"subjects:   {'; '.join(row['subjects']) or '-'}",
        f"language:   {row['language'] or '-'}",
        f"first seen: {row['first_seen']}",
        f"seen in:    {', '.join(seen_in) or '-'}",
        f"primary:    {row.get('primary_tag') or '-'}",
    ]
    for tag, sentences in tags:
        lines.append(f"tag {tag}:")
        lines.extend(f"    - {sentence}" for sentence in sentences)
    for name, values in (row.get("facts") or {}).items():
        if values:
            lines.append(f"{name.replace('_', ' ')}: {'; '.join(values)}")
    lines += ["", row["text"]]
    out.write("\n".join(lines) + "\n")


def _width(out: TextIO) -> int | None:
    import shutil

    if hasattr(out, "isatty") and out.isatty():
        return None
    return max(shutil.get_terminal_size((120, 24)).columns, 100)


def write_status(healths: Sequence, fmt: str, out: TextIO) -> None:
    """Feed health as a table or JSON lines."""
    if fmt == "json":
        from dataclasses import asdict

        for health in healths:
            out.write(json.dumps(asdict(health)) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Feeds")
    for name in ("feed", "last success", "last status", "fails", "next poll", "24h", "health"):
        table.add_column(name, overflow="fold")
    for h in healths:
        if h.disabled:
            verdict = f"[red]disabled[/]: {h.disabled}"
        elif h.stale:
            verdict = f"[yellow]stale[/]: {h.stale}"
        elif h.last_success:
            verdict = "[green]ok[/]"
        else:
            verdict = "never polled" if not h.last_status else "[red]failing[/]"
        table.add_row(
            h.url,
            _short(h.last_success),
            h.last_status or "-",
            str(h.consecutive_failures),
            _short(h.next_poll),
            str(h.items_last_day),
            verdict,
        )
    Console(file=out, width=_width(out)).print(table)


def _short(value: str | None) -> str:
    return value.replace("T", " ").rstrip("Z")[:16] if value else "-"


def write_classifications(results: Sequence[tuple[str, Any]], fmt: str, out: TextIO) -> None:
    """`biomon classify` output: a table, or one JSON object per input release."""
    if fmt == "json":
        for item_id, result in results:
            out.write(json.dumps({"id": item_id} | result.to_dict(), ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for name in ("id", "primary", "tags", "evidence (primary)", "facts"):
        table.add_column(name, overflow="fold")
    for item_id, result in results:
        facts = "; ".join(f"{k}: {', '.join(v)}" for k, v in result.facts.to_dict().items() if v)
        evidence = " ".join(result.evidence_for(result.primary)[:1])
        table.add_row(item_id, result.primary, ", ".join(result.tags), evidence, facts)
    Console(file=out, width=_width(out)).print(table)


def write_alerts(rows: Sequence[dict], fmt: str, out: TextIO) -> None:
    """`biomon alerts` output."""
    if fmt == "json":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Alerts")
    for name in ("id", "status", "channel", "rule", "release", "created", "tries", "note"):
        table.add_column(name, overflow="fold")
    for row in rows:
        note = row["last_error"] or ""
        if row["status"] == "sent":
            note = f"sent {_short(row['sent_at'])}"
        elif row["status"] == "pending" and row["next_attempt"]:
            note = f"next try {_short(row['next_attempt'])}" + (f"; {note}" if note else "")
        table.add_row(
            str(row["id"]),
            row["status"],
            row["channel"],
            row["rule"] or "",
            f"{row['release_id']} {row['title'][:60]}",
            _short(row["created"]),
            str(row["attempts"] or 0),
            note,
        )
    Console(file=out, width=_width(out)).print(table)
    if not rows:
        Console(file=out).print("no alerts")
