"""Formatting of release rows for the terminal: rich tables, JSON lines, CSV; export files."""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from monitor.errors import BiomonError

FORMATS = ("table", "json", "csv", "markdown")
CSV_COLUMNS = (
    "id", "source", "published", "tickers", "primary", "issuer", "title", "url", "first_seen",
    "snippet", "sources",
)  # fmt: skip
HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE = "\x02", "\x03"  # set by monitor.query's snippets
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection");
# the full-width forms too, in some locales.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


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
        # Every wire (and SEC filing) the event was printed in, first seen first.
        **({"sources": list(row["sources"])} if "sources" in row else {}),
    }


def sources_line(sources: Sequence[dict]) -> str:
    """An event's sources on one line: `globenewswire https://...; sec https://...`."""
    return "; ".join(f"{s['source']} {s['url']}".strip() for s in sources)


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
        import csv  # imported for CSV output only

        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            record = public_row(row) | ({"text": row["text"]} if full else {})
            record["tickers"] = " ".join(record["tickers"])
            record["sources"] = sources_line(record.get("sources") or ())
            writer.writerow({key: csv_cell(value) for key, value in record.items()})
    else:
        write_table(rows, out, title=title)


def csv_cell(value: Any) -> Any:
    """A value a spreadsheet shows as text: a leading formula character gets a `'` before it."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def check_new_file(path: Path, force: bool) -> None:
    """Refuse, in one line, a path `write_file` must not write (before any work is done)."""
    if path.is_symlink():
        raise BiomonError(
            f"{path}: is a symbolic link; biomon never writes through one "
            "(not even with --force): remove it or choose another name"
        )
    if not path.parent.is_dir():
        raise BiomonError(
            f"{path}: folder {path.parent} does not exist; create it or choose another path"
        )
    if path.is_dir():
        raise BiomonError(f"{path}: is a folder; give a file name")
    if path.exists():
        if not force:
            raise BiomonError(f"{path}: already exists; pass --force to replace it")
        if not path.is_file():
            # Replacing /dev/null or a FIFO by renaming over it would be worse than refusing.
            raise BiomonError(f"{path}: is not a regular file; choose another name")


def write_file(path: Path, write: Callable[[TextIO], None], *, force: bool = False) -> None:
    """Write a UTF-8 file whole or not at all: a new temporary file beside it, then renamed.

    Without `force` an existing file is never replaced (also one created meanwhile); a symbolic
    link at `path` is never followed or replaced.
    """
    check_new_file(path, force)
    temporary, handle = _new_temporary(path)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        if force:
            os.replace(temporary, path)
        else:
            _rename_new(temporary, path)
    except OSError as error:
        raise BiomonError(f"{path}: cannot write: {error.strerror or error}") from None
    finally:
        # Gone after os.replace; still there after a failure or os.link (a second name).
        temporary.unlink(missing_ok=True)


def _new_temporary(path: Path) -> tuple[Path, int]:
    """A new empty file of our own beside `path`, open for writing (O_EXCL: never one there)."""
    import secrets  # imported here only: it imports hmac, hashlib, random, base64

    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise BiomonError(
                f"{path}: cannot write in {path.parent}: {error.strerror or error}"
            ) from None
    raise BiomonError(f"{path}: cannot create a temporary file in {path.parent}")


def _rename_new(temporary: Path, path: Path) -> None:
    """Move `temporary` to `path` only if nothing is there (a link: atomic, never clobbers)."""
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise BiomonError(f"{path}: already exists; pass --force to replace it") from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # No hard links here (FAT, some network drives): claim the name, then rename onto it.
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise BiomonError(f"{path}: already exists; pass --force to replace it") from None
        os.replace(temporary, path)


def write_table(rows: Sequence[dict], out: TextIO, *, title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, soft_wrap=False, width=_width(out))
    # Only the title shrinks to fit the terminal: dates, ids and tickers are what a reader scans.
    id_width = max((len(row["release_id"]) for row in rows), default=2)
    ticker_width = min(max((len(" ".join(row["tickers"])) for row in rows), default=7), 30)
    # An event printed in several places lists them (only then: the table stays narrow).
    wires = {row["id"]: "+".join(s["source"] for s in row.get("sources") or ()) for row in rows}
    several = any(len(row.get("sources") or ()) > 1 for row in rows)
    wires_width = max(map(len, wires.values()), default=0) + 3 if several else 0
    title_width = max(console.width - (16 + id_width + ticker_width + 13 + wires_width), 20)
    table = Table(title=title)
    table.add_column("published (UTC)", no_wrap=True, min_width=16)
    table.add_column("id", no_wrap=True, min_width=id_width)
    table.add_column("tickers", no_wrap=True, overflow="ellipsis", max_width=ticker_width)
    snippets = any(row.get("snippet") for row in rows)
    table.add_column("title", no_wrap=not snippets, overflow="ellipsis", max_width=title_width)
    if several:
        table.add_column("sources", no_wrap=True)
    for row in rows:
        published = (row["published_utc"] or row["published_raw"] or "?").replace("T", " ")[:16]
        cell = _title_cell(row) if snippets else row["title"]
        shown = [wires[row["id"]]] if several else []
        table.add_row(published, row["release_id"], " ".join(row["tickers"]), cell, *shown)
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
        others = [s for s in row.get("sources") or () if s["url"] and s["url"] != row["url"]]
        if others:
            title += " (also " + ", ".join(f"[{s['source']}]({s['url']})" for s in others) + ")"
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
    row: dict,
    seen_in: Sequence[str],
    tags: Sequence[tuple[str, list[str]]],
    out: TextIO,
    sources: Sequence[dict] = (),
) -> None:
    """One release, whole, for `biomon show`: fields, every source of its event (wire and
    URL), tags with their evidence, facts, text."""
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
        *_sources_lines(sources),
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


def _sources_lines(sources: Sequence[dict]) -> list[str]:
    """`sources:` then one line per wire of the event (first seen first, it alerted)."""
    if not sources:
        return []
    return ["sources:"] + [
        f"    {s['source']}:{s['release_id']}  {s['url'] or '(no link)'}" for s in sources
    ]


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
    console = Console(file=out, width=_width(out))
    console.print(table)
    for h in healths:
        if h.problems:
            console.print(
                f"{h.url}: {len(h.problems)} item(s) with problems in the last read:",
                markup=False,
                highlight=False,
            )
            for problem in h.problems:
                console.print(f"  {problem}", markup=False, highlight=False)


def _short(value: str | None) -> str:
    return value.replace("T", " ").rstrip("Z")[:16] if value else "-"


def write_classifications(results: Sequence[tuple[str, Any]], fmt: str, out: TextIO) -> None:
    """`biomon classify` output: a block of lines per input release, or one JSON object each.

    Plain lines, not a rich table: the evidence is a whole sentence, which a table column folds
    into a narrow strip, and `classify` starts without importing rich (issue 14: start-up).
    """
    if fmt == "json":
        for item_id, result in results:
            out.write(json.dumps({"id": item_id} | result.to_dict(), ensure_ascii=False) + "\n")
        return
    blocks = []
    for item_id, result in results:
        tags = ", ".join(_primary_first(result.primary, list(result.tags))) or "-"
        lines = [f"{item_id}  {result.primary or '-'}  (tags: {tags})"]
        for sentence in result.evidence_for(result.primary)[:1]:
            lines.append(f"    evidence: {sentence}")
        for name, values in result.facts.to_dict().items():
            if values:
                lines.append(f"    {name.replace('_', ' ')}: {'; '.join(values)}")
        blocks.append("\n".join(lines))
    out.write("\n\n".join(blocks) + "\n")


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
