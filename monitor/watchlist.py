"""The watchlist as a thing to manage: add or remove one [[watch]] in the config file, in place,
and the figures `biomon watch list` shows for each watch.

Editing keeps the file as its owner wrote it. A new [[watch]] goes right after the last one
(before any comments that follow it); a removed one takes its header, its keys and the blank
lines before it, and leaves every comment outside it. Every other byte stays as it was: comments,
blank lines, order, quoting, line endings. tomlkit says where: it reads the file, and an edit is
made only when tomlkit writes the file back byte for byte (a layout it would rewrite, such as
[[watch]] tables far apart with other tables between them, is refused, not reformatted). The
edit itself is text spliced at that place, so nothing else can change.

Before anything is written the edited text goes through the config loader (`parse_config`): a
file that would not load is never written. Then the file is replaced whole: a temporary file in
the same folder, renamed over it, so `biomon run` (which reloads the file when its modification
time or size changes) reads the old file or the new one, never half of one.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Comment, Trivia, Whitespace

from monitor.config import Config, WatchConfig, parse_config
from monitor.errors import BiomonError, ConfigError
from monitor.models import Ticker
from monitor.tickers import parse_ticker

RECENT_DAYS = 30  # `watch list`: releases of the last this many days, by tag
_HEADER = re.compile(r"[ \t]*\[\[[ \t]*watch[ \t]*\]\][ \t]*(?:#[^\n]*)?\r?\n")


class EditError(BiomonError):
    """The config file cannot be edited in place (nothing was written)."""


@dataclass(frozen=True)
class NewWatch:
    """A [[watch]] to add: a ticker and what `biomon watch add` knows about it."""

    ticker: Ticker
    company: str = ""
    cik: int | None = None
    sec_title: str = ""  # SEC's name for the company, said in a comment beside the CIK
    feeds: tuple[str, ...] = ()
    alert_tags: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def toml(self, newline: str = "\n") -> str:
        """The table as TOML text: `[[watch]]` and one line per key."""
        table = tomlkit.table()
        table.add("ticker", str(self.ticker))
        if self.company:
            table.add("company", self.company)
        if self.cik is not None:
            cik = tomlkit.integer(self.cik)
            if self.sec_title:
                cik.comment(f"SEC: {self.sec_title}")
                cik.trivia.comment_ws = "  "
            table.add("cik", cik)
        for key in ("feeds", "alert_tags", "channels"):
            values = getattr(self, key)
            if values:
                table.add(key, list(values))
        document = tomlkit.document()
        watches = tomlkit.aot()
        watches.append(table)
        document.append("watch", watches)
        return tomlkit.dumps(document).replace("\n", newline)


def same_listing(a: Ticker, b: Ticker) -> bool:
    """True when two tickers name one listing: "CLRB" (any exchange) and "NASDAQ:CLRB" do."""
    return a.symbol == b.symbol and (a.exchange == b.exchange or not a.exchange or not b.exchange)


def watched_index(watches: Sequence[WatchConfig], ticker: Ticker) -> int | None:
    """The index of the [[watch]] on `ticker`'s listing, if one is."""
    return next(
        (i for i, w in enumerate(watches) if w.ticker and same_listing(w.ticker, ticker)), None
    )


# ---- editing the text


def add_watch(text: str, watch: NewWatch) -> str:
    """`text` with `watch` as a new [[watch]] after the last one (after its keys and the comment
    lines right below them), or at the end when there is none."""
    newline = _newline(text)
    text = _ended(text, newline)
    count = len(_watch_tables(_document(text)))
    at = _marker_offset(text, count - 1, end=True) if count else len(text)
    before = text[:at]
    lead = "" if not before.strip() or before.endswith(newline * 2) else newline
    return before + lead + watch.toml(newline) + text[at:]


def remove_watch(text: str, ticker: Ticker) -> str:
    """`text` without the [[watch]] on `ticker`'s listing: its header, its keys, the comment
    lines among them and right below them (up to a blank line), and the blank lines before it.
    Comments above its header and after it stay."""
    newline = _newline(text)
    text = _ended(text, newline)
    tickers = [_table_ticker(table) for table in _watch_tables(_document(text))]
    index = next((i for i, t in enumerate(tickers) if t and same_listing(t, ticker)), None)
    if index is None:
        raise EditError(f"no [[watch]] with ticker {ticker} in the file")
    body_start = _marker_offset(text, index, end=False)
    end = _marker_offset(text, index, end=True)
    header_start = text.rfind("\n", 0, body_start - 1) + 1
    if not _HEADER.fullmatch(text, header_start, body_start):
        raise EditError(
            f"the [[watch]] of {ticker} does not start with its own [[watch]] line; "
            "remove it by hand"
        )
    start = header_start
    while start > 0:  # the blank lines before it go with it
        previous = text.rfind("\n", 0, start - 1) + 1
        if text[previous:start].strip():
            break
        start = previous
    return text[:start] + text[end:]


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _ended(text: str, newline: str) -> str:
    """The text with a line end after its last line (so a new table starts on a line of its own)."""
    return text + newline if text and not text.endswith("\n") else text


def _document(text: str) -> tomlkit.TOMLDocument:
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as error:
        raise EditError(f"cannot read it as TOML: {error}") from None
    if tomlkit.dumps(document) != text:
        raise EditError(
            "its layout would change if biomon wrote it ([[watch]] tables apart from each "
            "other?); keep the [[watch]] tables together, or edit the file by hand"
        )
    return document


def _watch_tables(document: tomlkit.TOMLDocument) -> list:
    watches = document.get("watch")
    if watches is None:
        return []
    if not isinstance(watches, AoT):
        raise EditError(
            "its watchlist is not written as [[watch]] tables; write each watch as a "
            "[[watch]] table to edit it with biomon watch"
        )
    return list(watches.body)


def _table_ticker(table: Any) -> Ticker | None:
    value = table.get("ticker")
    return parse_ticker(str(value)) if isinstance(value, str) else None


def _marker_offset(text: str, index: int, *, end: bool) -> int:
    """Where in `text` the keys of the [[watch]] number `index` start (`end` False), or where
    it ends (`end`): after its last key and the comment lines right below that key, when a
    blank line or the end of the file follows them (comment lines that run into the next header
    are that header's).

    A comment line with a unique marker is put there in a fresh parse of the text; the marker's
    line, once written out, says the offset. The text written with the marker must be `text`
    with exactly that line added, or nothing is edited.
    """
    document = _document(text)
    tables = _watch_tables(document)
    table = tables[index]
    # Nothing after it in the file: comment lines below its keys that run to the end are its own.
    last = index == len(tables) - 1 and document.body[-1][1] is document.get("watch")
    marker = f"#biomon-edit-{secrets.token_hex(8)}"
    body = table.value.body
    at = 0
    if end:
        keys = [i for i, (key, _) in enumerate(body) if key is not None]
        at = keys[-1] + 1 if keys else len(body)
        below = at
        while below < len(body) and isinstance(body[below][1], Comment):
            below += 1
        if (below < len(body) and isinstance(body[below][1], Whitespace)) or (
            below == len(body) and last
        ):
            at = below
    body.insert(at, (None, Comment(Trivia(comment_ws="", comment=marker, trail="\n"))))
    marked = tomlkit.dumps(document)
    found = marked.find(marker)
    line_start = marked.rfind("\n", 0, found) + 1
    line_end = marked.find("\n", found) + 1
    if (
        found < 0
        or marked.count(marker) != 1
        or line_end == 0
        or marked[line_start:found].strip()
        or marked[line_start:line_end].strip() != marker
        or marked[:line_start] + marked[line_end:] != text
    ):
        raise EditError("cannot find where its [[watch]] tables are; edit the file by hand")
    return line_start


# ---- checking and writing


def checked(text: str, path: Path) -> Config:
    """The config the edited `text` makes, loaded as `biomon` would load the file; a ConfigError
    (saying the file is unchanged) when it would not load."""
    try:
        return parse_config(tomllib.loads(text), path)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            path, None, f"the edit would not be valid TOML ({error}); not written"
        ) from None
    except ConfigError as error:
        raise ConfigError(
            path, error.key, f"{error.message} (after the edit; the file is unchanged)"
        ) from None


def read_text(path: Path) -> tuple[bytes, str]:
    """The config file's bytes (to check nothing changed them meanwhile) and its text."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise BiomonError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        return raw, raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, None, "not UTF-8 text; save the file as UTF-8") from None


def write_text(path: Path, text: str, original: bytes) -> None:
    """Replace the file at `path` (through a symbolic link: the file it points to) by `text`,
    whole or not at all, keeping its permissions; refused when it changed since `original`."""
    target = path.resolve()
    try:
        if target.read_bytes() != original:
            raise EditError(f"{path}: changed while biomon was editing it; run the command again")
        mode = stat.S_IMODE(target.stat().st_mode)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
    except OSError as error:
        raise BiomonError(f"{path}: cannot write: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        raise BiomonError(
            f"{path}: cannot write: {error.strerror or error}; the file is unchanged"
        ) from None
    finally:
        Path(temporary).unlink(missing_ok=True)


# ---- figures for `biomon watch list`


def rule_of(watch: WatchConfig) -> dict:
    """What makes a release alert for this watch, beyond its ticker or company."""
    return {
        "alert_tags": list(watch.alert_tags),
        "keywords": list(watch.keywords),
        "exclude": list(watch.exclude),
        "query": watch.query or None,
        "channels": list(watch.channels),
        "email_to": list(watch.email_to),
    }


def watch_figures(config: Config, store, now: datetime) -> list[dict]:
    """One record per [[watch]]: its rule, its feeds and their health, and (from the database
    `store`, None when there is none yet) its last release, its releases of the last 30 days
    by tag and its alerts. `next_catalyst` is None until biomon keeps a catalyst calendar."""
    from monitor.health import feed_health, feed_healths

    if store is not None:
        healths = {h.url: h for h in feed_healths(config, store, now)}
    else:
        healths = {
            url: feed_health(
                {"url": url},
                [],
                0,
                now=now,
                factor=config.poll.stale_factor,
                no_success_after=config.poll.stale_after,
            )
            for url in config.feed_urls()
        }
    since = (now - timedelta(days=RECENT_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = []
    for watch in config.watch:
        symbol = watch.ticker.symbol if watch.ticker else ""
        exchange = watch.ticker.exchange if watch.ticker else ""
        feeds = [
            _feed_record(healths[url], own=url in watch.feeds)
            for url in dict.fromkeys([*watch.feeds, *config.poll.feeds])
            if url in healths
        ]
        last = total = None
        by_tag: dict[str, int] = {}
        alerts: dict[str, int] = {}
        if store is not None:
            if symbol or watch.company:
                row = store.watch_last_release(symbol, exchange, watch.company)
                last = _release_record(row) if row else None
                total, by_tag = store.watch_tag_counts(symbol, exchange, watch.company, since)
            alerts = store.watch_alert_counts(watch.label)
        records.append(
            {
                "ticker": str(watch.ticker) if watch.ticker else None,
                "label": watch.label,
                "company": watch.company or None,
                "cik": watch.cik,
                "rule": rule_of(watch),
                "feeds": feeds,
                "last_release": last,
                "recent": {"days": RECENT_DAYS, "releases": total, "by_tag": by_tag},
                "alerts": {
                    "sent": alerts.get("sent", 0),
                    "pending": alerts.get("pending", 0) + alerts.get("sending", 0),
                    "failed": alerts.get("failed", 0),
                    **{
                        status: n
                        for status, n in alerts.items()
                        if status not in ("sent", "pending", "sending", "failed")
                    },
                },
                "next_catalyst": None,
            }
        )
    return records


def _release_record(row: dict) -> dict:
    return {
        "id": row["release_id"],
        "source": row["source"],
        "published": row["published_utc"] or row["sort_time"],
        "primary": row["primary_tag"],
        "title": row["title"],
        "url": row["url"],
    }


def _feed_record(health, *, own: bool) -> dict:
    if health.disabled:
        verdict = f"disabled: {health.disabled}"
    elif health.consecutive_failures:
        verdict = f"failing: {health.last_status}"
    elif health.stale:
        verdict = f"stale: {health.stale}"
    elif health.last_success:
        verdict = "ok"
    else:
        verdict = "never polled"
    return {
        "url": health.url,
        "own": own,
        "health": verdict,
        "last_success": health.last_success,
        "newest_item": health.newest_item,
    }
