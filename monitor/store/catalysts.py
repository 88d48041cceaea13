"""The catalyst calendar's SQL: entries kept current release by release, their history, and the
outbox rows of catalyst reminders and date changes.

An entry is one event of one ticker: its kind and program (and trial, when two trials of one
program read out apart). A later release about it moves its window (the old and new windows go
to `catalyst_changes`) or, reporting the event done, marks it met. Whether an entry is overdue
is worked out when read, against the reader's today: stored, it would go stale every midnight
and need a writer, and read-only databases (`biomon browse`, a copy) could not keep it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from monitor.models import Catalyst, Classification, Outcome, Release, Ticker

# An outcome meets an entry whose window opens at most this long after the outcome's release:
# an approval months before its PDUFA date happens; one a year early is another approval.
EARLY_OUTCOME_DAYS = 120
_MARKS = re.compile(r"™|®|©|\((?:R|TM|C)\)", re.IGNORECASE)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")

Extract = Callable[[str, str, str | None], Classification]


def program_key(program: str | None) -> str:
    """A program name as entries match it: no case, trademark signs, spaces or dashes."""
    return _NON_ALNUM.sub("", _MARKS.sub("", program or "").casefold())


def catalyst_identity(entry: dict) -> str:
    """What names an entry for calendars and alert keys, across rebuilds: ticker (else
    issuer), kind, program and trial. "CLRB/pdufa/iopofosine"."""
    who = entry["ticker"] or program_key(entry["issuer"]) or "-"
    parts = [who, entry["kind"], entry["program_key"] or "-"]
    if entry.get("trial"):
        parts.append(program_key(entry["trial"]))
    return "/".join(parts)


@dataclass(frozen=True)
class CatalystQuery:
    """Which calendar entries to read; windows overlap [ends_after, starts_before]."""

    tickers: tuple[str, ...] = ()  # symbols
    not_tickers: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # entries announced by a release with one of these tags
    ends_after: str | None = None  # ISO date: the window ends on or after it
    starts_before: str | None = None  # ISO date: the window starts on or before it
    open_only: bool = False  # leave out met entries
    limit: int = 10_000


class CatalystStore:
    """Store methods of the catalyst calendar (a mixin of monitor.store.Store)."""

    db: object  # the Store's sqlite_utils.Database
    clock: Callable[[], str]

    # ---- kept current, in the transaction that stores the release

    def track_catalysts(
        self, row_id: int, release: Release, classification: Classification, now: str
    ) -> None:
        """Add, move or meet calendar entries from a newly stored release (not a copy)."""
        ticker = release.tickers[0].symbol if release.tickers else ""
        published = release.published_utc or now
        for outcome in classification.outcomes:
            self._meet(row_id, ticker, release.issuer, outcome, published)
        for catalyst in classification.catalysts:
            self._keep(row_id, ticker, release.issuer, catalyst, published, now)

    def _open_entries(self, ticker: str, issuer: str, kinds: Iterable[str]) -> list[dict]:
        kinds = tuple(kinds)
        marks = ", ".join("?" for _ in kinds)
        who, value = ("ticker = ?", ticker) if ticker else ("ticker = '' AND issuer = ?", issuer)
        cursor = self.db.conn.execute(
            f"SELECT c.*, r.sort_time AS set_at FROM catalysts c "
            f"JOIN releases r ON r.id = c.updated_release WHERE {who} AND kind IN ({marks}) "
            "AND met_release IS NULL ORDER BY window_start, id",
            [value, *kinds],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _keep(
        self, row_id: int, ticker: str, issuer: str, catalyst: Catalyst, published: str, now: str
    ) -> None:
        entry = _matching(self._open_entries(ticker, issuer, [catalyst.kind]), catalyst)
        if entry is None:
            self._add_entry(row_id, ticker, issuer, catalyst, now)
            return
        if entry["updated_release"] == row_id or entry["set_at"] > published:
            return  # said twice in one release, or an older release read late (a backfill)
        fill = {
            "program": entry["program"] or catalyst.program,
            "program_key": entry["program_key"] or program_key(catalyst.program),
            "trial": entry["trial"] or catalyst.trial,
            "phase": entry["phase"] or catalyst.phase,
        }
        moved = (entry["window_start"], entry["window_end"]) != (
            catalyst.window_start,
            catalyst.window_end,
        )
        if moved:
            self.db.conn.execute(
                "INSERT INTO catalyst_changes (catalyst, release, changed, old_start, old_end, "
                "old_text, new_start, new_end, new_text) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    entry["id"], row_id, now, entry["window_start"], entry["window_end"],
                    entry["date_text"], catalyst.window_start, catalyst.window_end,
                    catalyst.date_text,
                ],
            )  # fmt: skip
            fill |= {
                "window_start": catalyst.window_start,
                "window_end": catalyst.window_end,
                "date_text": catalyst.date_text,
                "precision": catalyst.precision,
                "evidence": catalyst.evidence,
                "updated_release": row_id,
                "updated": now,
                "sequence": (entry["sequence"] or 0) + 1,
            }
        columns = ", ".join(f"{name} = ?" for name in fill)
        self.db.conn.execute(
            f"UPDATE catalysts SET {columns} WHERE id = ?", [*fill.values(), entry["id"]]
        )

    def _add_entry(
        self, row_id: int, ticker: str, issuer: str, catalyst: Catalyst, now: str
    ) -> None:
        self.db.conn.execute(
            "INSERT INTO catalysts (ticker, issuer, kind, program, program_key, trial, phase, "
            "date_text, window_start, window_end, precision, evidence, release, "
            "updated_release, created, updated, sequence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            [
                ticker, issuer or "", catalyst.kind, catalyst.program,
                program_key(catalyst.program), catalyst.trial, catalyst.phase,
                catalyst.date_text, catalyst.window_start, catalyst.window_end,
                catalyst.precision, catalyst.evidence, row_id, row_id, now, now,
            ],
        )  # fmt: skip

    def _meet(self, row_id: int, ticker: str, issuer: str, outcome: Outcome, published: str):
        latest = (date.fromisoformat(published[:10]) + timedelta(EARLY_OUTCOME_DAYS)).isoformat()
        entries = [
            e
            for e in self._open_entries(ticker, issuer, outcome.kinds)
            if e["release"] != row_id and e["set_at"] <= published and e["window_start"] <= latest
        ]
        key = program_key(outcome.program)
        for kind in outcome.kinds:
            of_kind = [e for e in entries if e["kind"] == kind]
            if key:
                of_kind = [e for e in of_kind if e["program_key"] == key]
            elif len({e["program_key"] for e in of_kind}) > 1:
                continue  # no program named, and several programs wait: not ours to guess
            if of_kind:
                self.db.conn.execute(
                    "UPDATE catalysts SET met_release = ?, met_label = ?, met_evidence = ? "
                    "WHERE id = ?",
                    [row_id, outcome.label, outcome.evidence, of_kind[0]["id"]],
                )

    def rebuild_catalysts(self, extract: Extract) -> int:
        """Forget the calendar and build it again from every stored release (not the copies),
        oldest first, as they arrived; return how many entries there are.

        Catalyst alerts already sent stay: their reasons name the entry by ticker, kind and
        program, so a rebuilt entry is not reminded of twice. Pending ones are dropped; the
        next reminder check queues them again if still due."""
        with self.transaction():
            self.db.conn.execute(
                "DELETE FROM alerts WHERE catalyst IS NOT NULL AND status = 'pending'"
            )
            self.db.conn.execute("DELETE FROM catalyst_changes")
            self.db.conn.execute("DELETE FROM catalysts")
            rows = self.db.conn.execute(
                "SELECT id, source, release_id, title, text, published_utc, sort_time, issuer, "
                "tickers FROM releases WHERE duplicate_of IS NULL ORDER BY sort_time, id"
            ).fetchall()
            for row_id, source, ref, title, text, published, sort_time, issuer, tickers in rows:
                release = _release_of(source, ref, title, text, sort_time, issuer, tickers)
                classification = extract(title, text or "", published)
                self.track_catalysts(row_id, release, classification, sort_time)
        return self.db.conn.execute("SELECT count(*) FROM catalysts").fetchone()[0]

    # ---- reads

    def catalyst_rows(self, query: CatalystQuery) -> list[dict]:
        """Calendar entries with the link of the release that set them, by window start."""
        where, params = ["1"], []
        for column, values, negate in (
            ("c.ticker", query.tickers, False),
            ("c.ticker", query.not_tickers, True),
            ("c.kind", query.kinds, False),
        ):
            if values:
                marks = ", ".join("?" for _ in values)
                where.append(f"{column} {'NOT ' if negate else ''}IN ({marks})")
                params += list(values)
        if query.tags:
            marks = ", ".join("?" for _ in query.tags)
            where.append(
                "(c.release IN (SELECT release FROM release_tags WHERE tag IN "
                f"({marks})) OR c.updated_release IN (SELECT release FROM release_tags "
                f"WHERE tag IN ({marks})))"
            )
            params += [*query.tags, *query.tags]
        if query.ends_after:
            where.append("c.window_end >= ?")
            params.append(query.ends_after)
        if query.starts_before:
            where.append("c.window_start <= ?")
            params.append(query.starts_before)
        if query.open_only:
            where.append("c.met_release IS NULL")
        sql = (
            "SELECT c.*, r.url AS release_url, r.source AS release_source, "
            "r.release_id AS release_ref, r.title AS release_title, m.url AS met_url, "
            "m.release_id AS met_ref, m.sort_time AS met_time FROM catalysts c "
            "JOIN releases r ON r.id = c.updated_release "
            "LEFT JOIN releases m ON m.id = c.met_release "
            f"WHERE {' AND '.join(where)} ORDER BY c.window_start, c.window_end, c.id LIMIT ?"
        )
        return list(self.db.query(sql, [*params, query.limit]))

    def catalyst_changes(self, catalyst_ids: Iterable[int]) -> dict[int, list[dict]]:
        """The history of each entry's window: old and new window, the release, when."""
        ids = list(catalyst_ids)
        found: dict[int, list[dict]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self.db.query(
                "SELECT g.*, r.release_id AS release_ref, r.url AS release_url "
                "FROM catalyst_changes g JOIN releases r ON r.id = g.release "
                f"WHERE g.catalyst IN ({marks}) ORDER BY g.id",
                chunk,
            ):
                found[row["catalyst"]].append(row)
        return found

    def catalysts_of_release(self, row_id: int) -> list[dict]:
        """Entries a release announced, moved or met (`biomon show`)."""
        return list(
            self.db.query(
                "SELECT * FROM catalysts WHERE (release = ? OR "
                "updated_release = ? OR met_release = ? OR id IN (SELECT catalyst FROM "
                "catalyst_changes WHERE release = ?)) ORDER BY window_start, id",
                [row_id] * 4,
            )
        )

    def catalyst_row(self, catalyst_id: int) -> dict | None:
        """One entry with the URL of the release that set its window."""
        rows = self.db.query(
            "SELECT c.*, r.url AS release_url FROM catalysts c "
            "JOIN releases r ON r.id = c.updated_release WHERE c.id = ?",
            [catalyst_id],
        )
        return next(iter(rows), None)

    def catalyst_changes_since(self, since: str) -> list[dict]:
        """Window changes recorded at or after `since` (ISO UTC), of entries not yet met."""
        return list(
            self.db.query(
                "SELECT g.*, c.ticker, c.issuer FROM catalyst_changes g "
                "JOIN catalysts c ON c.id = g.catalyst WHERE g.changed >= ? "
                "AND c.met_release IS NULL ORDER BY g.id",
                [since],
            )
        )

    # ---- catalyst alerts in the outbox

    def queue_catalyst_alerts(
        self,
        catalyst: dict,
        reason: str,
        targets: Iterable[tuple[str, str]],
        now: str | None = None,
    ) -> int:
        """Queue one alert per (channel, rule) for `reason` ("remind:7:2026-03-15",
        "moved:12") of an entry, unless that entry, reason and channel has one already: the
        unique index makes it once across restarts and processes. Returns how many are new."""
        now = now or self.clock()
        with self.transaction():
            before = self.db.conn.total_changes
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO alerts (release, channel, rule, ticker, status, attempts, "
                "next_attempt, created, catalyst, reason) "
                "VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
                [
                    (catalyst["updated_release"], channel, rule, catalyst["ticker"], now, now,
                     catalyst["id"], reason)
                    for channel, rule in targets
                ],
            )  # fmt: skip
            return self.db.conn.total_changes - before


def _matching(entries: list[dict], catalyst: Catalyst) -> dict | None:
    """The open entry a new catalyst of the same ticker and kind speaks of, if one is clear.

    The same program (case and trademark signs aside) and no other trial; a program-less
    catalyst, or an entry without one, matches only when it is the only candidate."""
    key = program_key(catalyst.program)
    trial = program_key(catalyst.trial)
    entries = [
        e for e in entries if not (trial and e["trial"] and program_key(e["trial"]) != trial)
    ]
    if key:
        same = [e for e in entries if e["program_key"] == key]
        if same:
            return same[-1]
        unnamed = [e for e in entries if not e["program_key"]]
        return unnamed[0] if len(unnamed) == 1 and len(entries) == 1 else None
    if trial:
        same = [e for e in entries if program_key(e["trial"]) == trial]
        if len(same) == 1:
            return same[0]
    return entries[0] if len(entries) == 1 else None


def _release_of(source, release_id, title, text, published, issuer, tickers) -> Release:
    listed = []
    for value in json.loads(tickers or "[]"):
        exchange, _, symbol = value.rpartition(":")
        listed.append(Ticker(exchange, symbol))
    return Release(
        source=source, release_id=release_id, url="", title=title, summary_html="",
        text=text or "", published_utc=published, published_raw="", issuer=issuer or "",
        tickers=tuple(listed),
    )  # fmt: skip


__all__ = ["CatalystQuery", "CatalystStore", "catalyst_identity", "program_key"]
