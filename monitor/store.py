"""SQLite storage through sqlite-utils: schema and migrations, deduplicating saves, queries."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from monitor.errors import StoreError
from monitor.models import Classification, FeedReport, FeedState, Release
from monitor.query import ReleaseQuery, run_query, where_clauses
from monitor.rules import Match
from monitor.schema import DUPLICATE_WINDOW_DAYS, migrate, title_key


def utc_now() -> str:
    """The current time as the ISO 8601 UTC string stored everywhere."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SaveResult:
    new: int
    already: int


class Store:
    """The biomon database. One writer: open one Store per process."""

    def __init__(self, path: Path | str, *, clock: Callable[[], str] = utc_now) -> None:
        self.path = Path(path)
        self.clock = clock
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: durable across a crash of biomon; only a power cut may drop the
            # last transactions (the next poll fetches them again).
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            migrate(self.db)
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path}: cannot open database ({error})") from None
        except OSError as error:
            raise StoreError(f"{self.path}: cannot create database ({error.strerror})") from None

    def close(self) -> None:
        self.db.conn.close()

    # ---- writes

    def save_releases(
        self,
        releases: Iterable[Release],
        feed_url: str = "",
        classify: Callable[[Release], Classification] | None = None,
        match: Callable[[Release, Classification, int], Sequence[Match]] | None = None,
    ) -> SaveResult:
        """Store releases not yet stored (by source and release id) in one transaction.

        `classify` is called for new releases only; its tags are stored with the release.
        `match` gives the alerts of a new release; they are queued in the same transaction, so
        a release is never stored without its alerts (or alerted without being stored).
        """
        seen_at = self.clock()
        new = already = 0
        with self.db.atomic():
            for release in releases:
                row = self.db.execute(
                    "SELECT id FROM releases WHERE source = ? AND release_id = ?",
                    [release.source, release.release_id],
                ).fetchone()
                if row:
                    already += 1
                    row_id = row[0]
                else:
                    new += 1
                    classification = classify(release) if classify else None
                    original = self._original_of(release)
                    row_id = self._insert(release, seen_at, classification, original)
                    if match and classification and not original:
                        matches = match(release, classification, row_id)
                        self._queue_alerts(row_id, matches, seen_at)
                if feed_url:
                    self.db.conn.execute(
                        "INSERT OR IGNORE INTO release_feeds (release, feed_url, first_seen) "
                        "VALUES (?, ?, ?)",
                        [row_id, feed_url, seen_at],
                    )
        return SaveResult(new=new, already=already)

    def _original_of(self, release: Release) -> int | None:
        """A stored release this one repeats (an UPDATE, a correction, a copy), if any."""
        when = release.published_utc
        if not when:
            return None
        day = datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ")
        low = (day - timedelta(days=DUPLICATE_WINDOW_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        high = (day + timedelta(days=DUPLICATE_WINDOW_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        row = self.db.execute(
            "SELECT id FROM releases WHERE title_key = ? AND sort_time BETWEEN ? AND ?"
            " ORDER BY id LIMIT 1",
            [title_key(release.title), low, high],
        ).fetchone()
        return row[0] if row else None

    def _queue_alerts(self, row_id: int, matches: Sequence[Match], now: str) -> None:
        self.db["alerts"].insert_all(
            (
                {
                    "release": row_id,
                    "channel": m.channel,
                    "rule": m.rule,
                    "ticker": m.ticker,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt": now,
                    "created": now,
                }
                for m in matches
            ),
            ignore=True,
        )

    def _insert(
        self,
        release: Release,
        seen_at: str,
        classification: Classification | None,
        duplicate_of: int | None = None,
    ) -> int:
        # The hot path of ingest: plain SQL (sqlite-utils' insert re-reads the schema per call).
        primary = classification.primary if classification else None
        facts = json.dumps(classification.facts.to_dict()) if classification else None
        cursor = self.db.conn.execute(
            "INSERT INTO releases (source, release_id, url, title, summary_html, text, "
            "published_utc, published_raw, sort_time, issuer, language, subjects, tickers, "
            "first_seen, feed_url, title_key, primary_tag, facts, duplicate_of) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                release.source,
                release.release_id,
                release.url,
                release.title,
                release.summary_html,
                release.text,
                release.published_utc,
                release.published_raw,
                release.published_utc or seen_at,
                release.issuer,
                release.language,
                json.dumps(list(release.subjects)),
                json.dumps([str(t) for t in release.tickers]),
                seen_at,
                release.feed_url,
                title_key(release.title),
                primary,
                facts,
                duplicate_of,
            ],
        )
        row_id = cursor.lastrowid
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO release_tickers (release, exchange, symbol) VALUES (?, ?, ?)",
            [(row_id, t.exchange, t.symbol) for t in release.tickers],
        )
        if classification:
            self._insert_tags(row_id, classification)
        return row_id

    def _insert_tags(self, row_id: int, classification: Classification) -> None:
        self.db.conn.executemany(
            "INSERT OR REPLACE INTO release_tags (release, tag, evidence) VALUES (?, ?, ?)",
            [
                (row_id, tag, json.dumps(list(sentences)))
                for tag, sentences in _evidence_by_tag(classification)
            ],
        )

    def _save_tags(self, row_id: int, classification: Classification) -> None:
        self.db.conn.execute("DELETE FROM release_tags WHERE release = ?", [row_id])
        self._insert_tags(row_id, classification)
        self.db.conn.execute(
            "UPDATE releases SET primary_tag = ?, facts = ? WHERE id = ?",
            [classification.primary, json.dumps(classification.facts.to_dict()), row_id],
        )

    def reclassify(
        self,
        classify: Callable[[str, str], Classification],
        progress: Callable[[int, int], None] | None = None,
        batch: int = 500,
    ) -> int:
        """Classify every stored release again (after a rule change); return how many."""
        total = self.count()
        done = 0
        last_id = 0
        while True:
            rows = self.db.execute(
                "SELECT id, title, text FROM releases WHERE id > ? ORDER BY id LIMIT ?",
                [last_id, batch],
            ).fetchall()
            if not rows:
                return done
            with self.db.atomic():
                for row_id, title, text in rows:
                    self._save_tags(row_id, classify(title, text or ""))
            done += len(rows)
            last_id = rows[-1][0]
            if progress:
                progress(done, total)

    def tags_of(self, row_id: int) -> list[tuple[str, list[str]]]:
        """(tag, evidence sentences) of one stored release."""
        rows = self.db.execute(
            "SELECT tag, evidence FROM release_tags WHERE release = ? ORDER BY tag", [row_id]
        ).fetchall()
        return [(tag, json.loads(evidence or "[]")) for tag, evidence in rows]

    def known_ids(self, source: str, release_ids: Sequence[str]) -> set[str]:
        """Those of `release_ids` (of one source) already stored."""
        marks = ", ".join("?" for _ in release_ids)
        rows = self.db.conn.execute(
            f"SELECT release_id FROM releases WHERE source = ? AND release_id IN ({marks})",
            [source, *release_ids],
        )
        return {row[0] for row in rows}

    def link_seen(self, source: str, release_ids: Sequence[str], feed_url: str) -> None:
        """Record that stored releases were seen in `feed_url` (first sighting kept)."""
        if not release_ids:
            return
        marks = ", ".join("?" for _ in release_ids)
        with self.db.atomic():
            self.db.conn.execute(
                "INSERT OR IGNORE INTO release_feeds (release, feed_url, first_seen) "
                f"SELECT id, ?, ? FROM releases WHERE source = ? AND release_id IN ({marks})",
                [feed_url, self.clock(), source, *release_ids],
            )

    def backfill_state(self, url: str) -> dict:
        row = next(iter(self.db["feeds"].rows_where("url = ?", [url])), {})
        return {
            "next": row.get("backfill_next") or 0,
            "found_new": row.get("backfill_found_new") or 0,
            "done": row.get("backfill_done"),
        }

    def save_backfill_state(self, url: str, next_start: int, found_new: bool, done: str | None):
        with self.db.atomic():
            self.db["feeds"].upsert(
                {
                    "url": url,
                    "backfill_next": next_start,
                    "backfill_found_new": int(found_new),
                    "backfill_done": done,
                },
                pk="url",
            )

    def feed_state(self, url: str) -> FeedState:
        """The remembered state of one feed (a fresh state for a new feed)."""
        cursor = self.db.conn.execute("SELECT * FROM feeds WHERE url = ?", [url])
        row = cursor.fetchone()
        if row is None:
            return FeedState(url=url)
        values = dict(zip((c[0] for c in cursor.description), row, strict=True))
        return FeedState(
            **{k: v for k, v in values.items() if k in _STATE_FIELDS and v is not None}
        )

    def save_feed(self, state: FeedState, report: FeedReport, items: int | None = None) -> None:
        """Keep a feed's state and the outcome of its last poll, in one write."""
        # Plain SQL: this runs once per feed per pass, a thousand times a minute on big setups.
        now = self.clock()
        row = {name: getattr(state, name) for name in _STATE_FIELDS} | {
            "added": now,
            "last_polled": now,
            "last_status": _status_line(report),
            "last_warning": report.warning,
        }
        if items is not None:
            row["last_items"] = items
        if report.error:
            row["last_error"] = report.error
        columns = list(row)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("url", "added"))
        with self.db.atomic():
            self.db.conn.execute(
                f"INSERT INTO feeds ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)}) "
                f"ON CONFLICT(url) DO UPDATE SET {updates}",
                [row[c] for c in columns],
            )

    # ---- reads

    def feeds(self) -> list[dict]:
        return list(self.db["feeds"].rows_where(order_by="url"))

    def feed_dates(self, url: str, limit: int = 50) -> list[str]:
        """Publication times of the newest releases seen in one feed."""
        sql = (
            "SELECT r.published_utc FROM release_feeds f JOIN releases r ON r.id = f.release "
            "WHERE f.feed_url = ? AND r.published_utc IS NOT NULL "
            "ORDER BY r.published_utc DESC LIMIT ?"
        )
        return [row[0] for row in self.db.execute(sql, [url, limit]).fetchall()]

    def feed_items_since(self, url: str, since: str) -> int:
        """Releases of one feed published (or, undated, first seen) since `since` (ISO UTC)."""
        sql = (
            "SELECT count(*) FROM release_feeds f JOIN releases r ON r.id = f.release "
            "WHERE f.feed_url = ? AND r.sort_time >= ?"
        )
        return self.db.execute(sql, [url, since]).fetchone()[0]

    def count(self) -> int:
        return self.db["releases"].count

    def query(self, query: ReleaseQuery) -> list[dict]:
        """Releases matching `query`, newest first (or by relevance), decoded."""
        return [_decode(row) for row in run_query(self.db, query)]

    def matches(self, row_id: int, query: ReleaseQuery) -> bool:
        """True when stored release `row_id` matches `query` (alert rules with a query)."""
        sql = where_clauses(query)
        statement = "SELECT 1 FROM releases r WHERE r.id = ?" + "".join(
            f" AND {clause}" for clause in sql.where
        )
        return self.db.execute(statement, [row_id, *sql.params]).fetchone() is not None

    def get(self, release_ref: str) -> list[dict]:
        """Releases whose release id is `release_ref` (or `source:release_id`)."""
        source, sep, release_id = release_ref.partition(":")
        if sep:
            rows = self.db["releases"].rows_where(
                "source = ? AND release_id = ?", [source, release_id]
            )
        else:
            rows = self.db["releases"].rows_where("release_id = ?", [release_ref])
        return [_decode(row) for row in rows]

    def seen_in(self, row_id: int) -> list[str]:
        return [
            row["feed_url"]
            for row in self.db["release_feeds"].rows_where(
                "release = ?", [row_id], order_by="first_seen"
            )
        ]


_STATE_FIELDS = frozenset(f.name for f in fields(FeedState))


def _status_line(report: FeedReport) -> str:
    if report.error:
        return report.error
    if report.skipped:
        return f"ok ({report.skipped})"
    return "ok"


def _evidence_by_tag(classification: Classification) -> list[tuple[str, tuple[str, ...]]]:
    evidence = dict(classification.evidence)
    return [(tag, evidence.get(tag, ())) for tag in classification.tags]


def _decode(row: dict) -> dict:
    row = dict(row)
    for key in ("subjects", "tickers"):
        row[key] = json.loads(row.get(key) or "[]")
    row["facts"] = json.loads(row.get("facts") or "{}")
    return row
