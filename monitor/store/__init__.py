"""SQLite storage through sqlite-utils: every statement biomon runs on its database.

Schema and migrations (schema.py), deduplicating saves, feed state, the alert outbox, the
daemon's row, and queries (query.py compiles biomon's query language to SQL; the store runs
it). Nothing here imports the poller, the rules or the outbox: they call the store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Protocol

import sqlite_utils

from monitor.errors import StoreError
from monitor.models import Classification, FeedReport, FeedState, Release
from monitor.query import ReleaseQuery, facet_counts, run_query, where_clauses
from monitor.schema import check_schema, migrate
from monitor.store.catalysts import CatalystStore
from monitor.store.events import EventsMixin, title_key
from monitor.store.pages import PagesMixin


def utc_now() -> str:
    """The current time as the ISO 8601 UTC string stored everywhere."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


DEFAULT_BUSY_TIMEOUT = 30.0
MAX_PROBLEMS = 20  # item problems kept per feed for `biomon status`
# Nested transactions are savepoints of one name: SQLite's ROLLBACK TO and RELEASE act on the
# latest savepoint of a name, which is always the innermost open one here (they nest as the
# `with` blocks do). One name keeps the three statements in the connection's statement cache
# (a new name per savepoint was prepared anew every time, twice per stored release).
_SAVEPOINT = "biomon_savepoint"


def describe_sqlite_error(
    path: Path, error: sqlite3.DatabaseError, doing: str, busy_timeout: float
) -> str:
    """One line a user can act on, for an SQLite failure on the database at `path`."""
    text = str(error)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return (
            f"{path}: database is locked by another process (waited {busy_timeout:g}s); "
            "try again, or raise [storage] busy_timeout"
        )
    if "disk is full" in lowered or "disk i/o" in lowered:
        return f"{path}: cannot {doing}: {text}; free disk space and try again"
    if "readonly" in lowered or "read-only" in lowered:
        return f"{path}: cannot {doing}: the database file or its folder is read-only"
    if "malformed" in lowered or "not a database" in lowered or "encrypted" in lowered:
        return (
            f"{path}: not a readable SQLite database ({text}); restore a backup or "
            "point --db / [storage] path at another file"
        )
    if "unable to open" in lowered:
        return f"{path}: cannot open the database ({text}); check the path and its permissions"
    return f"{path}: database error while trying to {doing}: {text}"


@dataclass(frozen=True)
class SaveResult:
    new: int
    already: int
    failed: tuple[str, ...] = ()  # "release id: reason" of releases that could not be stored


@dataclass(frozen=True)
class SavedRelease:
    """One release after `save_release`: its row, whether this call stored it, what it repeats."""

    row_id: int
    new: bool
    classification: Classification | None = None  # of a new release, when classified
    duplicate_of: int | None = None  # a stored release this new one repeats (it never alerts)

    @property
    def alertable(self) -> bool:
        """New, classified and not a copy: the rules may alert on it."""
        return self.new and self.classification is not None and self.duplicate_of is None


class AlertTarget(Protocol):
    """What `queue_alerts` needs of a rule's match (monitor.rules.Match has it)."""

    channel: str
    rule: str
    ticker: str


class Store(EventsMixin, PagesMixin, CatalystStore):
    """The biomon database: one connection; every write in a transaction of `transaction()`.

    Several biomon processes may share a database: a writer starts its transaction with
    `BEGIN IMMEDIATE` and waits up to `busy_timeout` seconds for another writer to finish, then
    gives up with a one-line StoreError. `readonly=True` (the read commands) opens an existing
    biomon database without writing a byte to it, also in a read-only folder.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], str] = utc_now,
        readonly: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self.path = Path(path)
        self.clock = clock
        self.readonly = readonly
        self.busy_timeout = busy_timeout
        try:
            conn = self._open_readonly() if readonly else self._open_readwrite()
            # The driver's implicit transactions are off: `transaction()` says where they are.
            conn.isolation_level = None
            self.db = sqlite_utils.Database(conn)
            if readonly:
                check_schema(self.db, self.path)
            else:
                self.db.execute("PRAGMA journal_mode = WAL")
                # WAL + NORMAL: durable across a crash of biomon; only a power cut may drop the
                # last transactions (the next poll fetches them again).
                self.db.execute("PRAGMA synchronous = NORMAL")
                self.db.execute("PRAGMA foreign_keys = ON")
                migrate(self.db, begin=self._begin)
        except sqlite3.DatabaseError as error:
            raise self._error(error, "open") from None
        except OSError as error:
            raise StoreError(f"{self.path}: cannot create database ({error.strerror})") from None

    def _open_readwrite(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False)

    def _open_readonly(self) -> sqlite3.Connection:
        if not self.path.is_file():
            what = "is not a file" if self.path.exists() else "no such database"
            raise StoreError(
                f"{self.path}: {what}; check --db or [storage] path "
                "(`biomon poll` creates the database)"
            )
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(
            f"{uri}?mode=ro", uri=True, timeout=self.busy_timeout, check_same_thread=False
        )
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # A WAL database in a folder we cannot write (no -shm to create): nobody can be
            # writing it there either, so read it as an immutable file.
            conn.close()
            conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        return conn

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- transactions

    def _begin(self) -> None:
        self.db.conn.execute("BEGIN IMMEDIATE")

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One write transaction (a savepoint when nested); a failing SQLite is one line.

        `BEGIN IMMEDIATE` takes the write lock first, waiting for another process up to
        `busy_timeout`: a deferred transaction that reads, then writes, fails at once instead.
        """
        conn = self.db.conn
        try:
            if conn.in_transaction:
                conn.execute(f"SAVEPOINT {_SAVEPOINT}")
                try:
                    yield self
                except BaseException:
                    if conn.in_transaction:
                        conn.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                        conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
                    raise
                conn.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
                return
            self._begin()
            try:
                yield self
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.ProgrammingError):
            raise  # about the row being written, not the database: the caller decides
        except sqlite3.DatabaseError as error:
            raise self._error(error, "write") from None

    def _error(self, error: sqlite3.DatabaseError, doing: str) -> StoreError:
        return StoreError(describe_sqlite_error(self.path, error, doing, self.busy_timeout))

    # ---- writes

    def save_releases(
        self,
        releases: Iterable[Release],
        feed_url: str = "",
        classify: Callable[[Release], Classification] | None = None,
    ) -> SaveResult:
        """Store releases not yet stored (by source and release id) in one transaction.

        `classify` is called for new releases only, all of them before the write transaction
        (`classify_ahead`); its tags are stored with the release. Nothing alerts: the poller
        queues alerts itself (`save_release`, then `queue_alerts`).

        Each release is stored on its own savepoint: one that cannot be classified or stored
        is left out and named in `failed`, the others are stored. A failing database (disk
        full, locked, corrupt) rolls the whole call back and raises StoreError.
        """
        releases = list(releases)
        seen_at = self.clock()
        if classify is not None:
            classify = self.classify_ahead(releases, classify)
        new = already = 0
        failed: list[str] = []
        with self.transaction():
            for release in releases:
                try:
                    saved = self.save_release(
                        release, feed_url=feed_url, classify=classify, seen_at=seen_at
                    )
                except StoreError:
                    raise
                except sqlite3.OperationalError:
                    raise
                except Exception as error:  # one bad item never stops the others
                    failed.append(f"{release.release_id}: {one_line(error)}")
                    continue
                if saved.new:
                    new += 1
                else:
                    already += 1
        return SaveResult(new=new, already=already, failed=tuple(failed))

    def classify_ahead(
        self, releases: Sequence[Release], classify: Callable[[Release], Classification]
    ) -> Callable[[Release], Classification]:
        """Run `classify` now on those of `releases` not stored yet; return a classify for
        `save_release` that answers them from what was computed (raising what `classify` raised
        for one) and calls `classify` itself for any other release.

        Call it before the write transaction: the classifier then runs without holding the
        write lock, and classifying a feed's new releases one after another, then storing
        them one after another, keeps each part's code and data in the CPU's caches (a tenth
        of ingest's time, parse + classify + store). A release stored meanwhile by another
        process is found stored by `save_release` as before: its classification goes unused.
        """
        ids: dict[str, list[str]] = {}
        for release in releases:
            ids.setdefault(release.source, []).append(release.release_id)
        stored = {
            (source, release_id)
            for source, group in ids.items()
            for start in range(0, len(group), 500)  # well under SQLite's limit of parameters
            for release_id in self.known_ids(source, group[start : start + 500])
        }
        ahead: dict[int, tuple[Release, Classification | None, Exception | None]] = {}
        for release in releases:
            key = (release.source, release.release_id)
            if key in stored:
                continue
            stored.add(key)  # a repeat of it in `releases` is classified if it is reached
            try:
                ahead[id(release)] = (release, classify(release), None)
            except Exception as error:  # noqa: BLE001 - raised again where it was due
                ahead[id(release)] = (release, None, error)

        def classified(release: Release) -> Classification:
            found = ahead.pop(id(release), None)
            if found is None or found[0] is not release:
                return classify(release)
            if found[2] is not None:
                raise found[2]
            return found[1]  # type: ignore[return-value]

        return classified

    def save_release(
        self,
        release: Release,
        *,
        feed_url: str = "",
        classify: Callable[[Release], Classification] | None = None,
        seen_at: str | None = None,
    ) -> SavedRelease:
        """Store one release unless stored already (on a savepoint of its own); note its feed.

        `classify` runs only for a release not yet stored. An exception from it (or a row the
        database refuses) leaves nothing of this release behind and propagates.
        """
        seen_at = seen_at or self.clock()
        with self.transaction():
            row = self.db.conn.execute(
                "SELECT id FROM releases WHERE source = ? AND release_id = ?",
                [release.source, release.release_id],
            ).fetchone()
            if row:
                saved = SavedRelease(row_id=row[0], new=False)
            else:
                classification = classify(release) if classify else None
                # One event per piece of news: a copy (another wire, an 8-K exhibit, an
                # UPDATE) points at its event's root and never alerts (monitor/store/events.py).
                original, lead = self._event_of(release, seen_at)
                row_id = self._insert(release, seen_at, classification, original, lead)
                if classification and original is None:  # a copy adds no catalyst
                    self.track_catalysts(row_id, release, classification, seen_at)
                saved = SavedRelease(row_id, True, classification, original)
            if feed_url:
                self.db.conn.execute(
                    "INSERT OR IGNORE INTO release_feeds (release, feed_url, first_seen) "
                    "VALUES (?, ?, ?)",
                    [saved.row_id, feed_url, seen_at],
                )
        return saved

    def queue_alerts(
        self, row_id: int, matches: Iterable[AlertTarget], now: str | None = None
    ) -> None:
        """Queue one pending alert per match of stored release `row_id` (one per channel).

        Call it in the transaction that stored the release: a release is then never stored
        without its alerts, nor alerted without being stored.
        """
        now = now or self.clock()
        with self.transaction():
            if self.is_copy(row_id):
                return  # a copy of an event (another wire, an 8-K exhibit) never alerts
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO alerts (release, channel, rule, ticker, status, attempts, "
                "next_attempt, created) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
                [(row_id, m.channel, m.rule, m.ticker, now, now) for m in matches],
            )

    def _insert(
        self,
        release: Release,
        seen_at: str,
        classification: Classification | None,
        duplicate_of: int | None = None,
        lead: str | None = None,
    ) -> int:
        # The hot path of ingest: plain SQL (sqlite-utils' insert re-reads the schema per call).
        # The feed's HTML (summary_html) is not kept: nothing reads it, the text says the same.
        primary = classification.primary if classification else None
        facts = json.dumps(classification.facts.to_dict()) if classification else None
        sort_time = release.published_utc or seen_at
        cursor = self.db.conn.execute(
            "INSERT INTO releases (source, release_id, url, title, text, news_end, "
            "published_utc, published_raw, sort_time, issuer, language, subjects, tickers, "
            "first_seen, feed_url, title_key, primary_tag, facts, duplicate_of, lead) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                release.source,
                release.release_id,
                release.url,
                release.title,
                release.text,
                _news_end(classification, release.text),
                release.published_utc,
                release.published_raw,
                sort_time,
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
                lead,
            ],
        )
        row_id = cursor.lastrowid
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO release_tickers (release, exchange, symbol, sort_time) "
            "VALUES (?, ?, ?, ?)",
            [(row_id, t.exchange, t.symbol, sort_time) for t in release.tickers],
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
        if classification.news_end is not None:
            # A changed split re-indexes the row (trigger releases_au); an unchanged one is free.
            self.db.conn.execute(
                "UPDATE releases SET news_end = min(?, length(text)) "
                "WHERE id = ? AND news_end IS NOT min(?, length(text))",
                [classification.news_end, row_id, classification.news_end],
            )

    def replace_text(
        self,
        row_id: int,
        text: str,
        *,
        title: str | None = None,
        classification: Classification | None = None,
    ) -> bool:
        """Give stored release `row_id` a new text (and title), keeping its search index right.

        The one way to re-text a release (a page fetched after the feed's summary, a
        correction): the full-text index then finds the new words and no longer the old.
        With `classification` (of the new text) its tags, facts and news/boilerplate split are
        stored too; without it the whole new text is indexed. False when there is no such row.
        """
        news_end = _news_end(classification, text)
        with self.transaction():
            if title is None:
                changed = self.db.conn.execute(
                    "UPDATE releases SET text = ?, news_end = ? WHERE id = ?",
                    [text, news_end, row_id],
                ).rowcount
            else:
                changed = self.db.conn.execute(
                    "UPDATE releases SET text = ?, news_end = ?, title = ?, title_key = ? "
                    "WHERE id = ?",
                    [text, news_end, title, title_key(title), row_id],
                ).rowcount
            if changed and classification is not None:
                self._save_tags(row_id, classification)
        return bool(changed)

    def unsplit_count(self) -> int:
        """Releases whose text is not yet split into news and boilerplate (indexed whole)."""
        return self.db.execute("SELECT count(*) FROM releases WHERE news_end IS NULL").fetchone()[0]

    def split_news(
        self,
        news_end: Callable[[str], int],
        progress: Callable[[int, int], None] | None = None,
        batch: int = 1000,
    ) -> int:
        """Split releases stored before the split existed (news_end NULL); return how many.

        `news_end(text)` says where the boilerplate starts (monitor.classify.sections.news_end:
        the store may not import the classifier). One transaction per `batch` rows, so a long
        run can be stopped and resumed, and other writers get their turn between batches.
        """
        total = self.unsplit_count()
        done, last_id = 0, 0
        while True:
            rows = self.db.execute(
                "SELECT id, text FROM releases WHERE news_end IS NULL AND id > ? "
                "ORDER BY id LIMIT ?",
                [last_id, batch],
            ).fetchall()
            if not rows:
                return done
            with self.transaction():
                self.db.conn.executemany(
                    "UPDATE releases SET news_end = ? WHERE id = ? AND news_end IS NULL",
                    [(min(news_end(text or ""), len(text or "")), row_id) for row_id, text in rows],
                )
            done += len(rows)
            last_id = rows[-1][0]
            if progress:
                progress(done, total)

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
            with self.transaction():
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
        with self.transaction():
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
        with self.transaction():
            self.db["feeds"].upsert(
                {
                    "url": url,
                    "backfill_next": next_start,
                    "backfill_found_new": int(found_new),
                    "backfill_done": done,
                },
                pk="url",
            )

    def forget_feeds(self, urls: Sequence[str]) -> int:
        """Forget what biomon knew of feeds taken out of the config (validators, last success,
        backfill position): added again later, a feed's first poll is then a backlog again,
        stored without alerting, instead of alerting on all it published meanwhile. Its
        releases stay. Returns how many feeds were known."""
        if not urls:
            return 0
        with self.transaction():
            cursor = self.db.conn.executemany(
                "DELETE FROM feeds WHERE url = ?", [(url,) for url in urls]
            )
        return cursor.rowcount

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
        if not report.skipped and not report.error:
            problems = [*report.failures, *report.flagged]
            row["last_problems"] = json.dumps(problems[:MAX_PROBLEMS]) if problems else None
        if items is not None:
            row["last_items"] = items
        if report.error:
            row["last_error"] = report.error
        columns = tuple(row)
        values = [row[c] for c in columns]
        conn = self.db.conn
        if conn.in_transaction:
            # The poller's batch: one statement is atomic by itself, so no savepoint of its
            # own (two more statements per feed per pass; a failure still reaches the
            # caller's savepoint, which turns it into a StoreError).
            conn.execute(_upsert_feed_sql(columns), values)
            return
        with self.transaction():
            conn.execute(_upsert_feed_sql(columns), values)

    # ---- the alert outbox (status: pending -> sending (claimed) -> sent | failed)

    def due_alerts(self, channel: str, now: str) -> list[dict]:
        """Pending alerts of one channel whose next attempt is due, oldest first."""
        return list(
            self.db.query(
                "SELECT * FROM alerts WHERE channel = ? AND status = 'pending' "
                "AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY id",
                [channel, now],
            )
        )

    def claim_alerts(self, ids: Sequence[int], token: str, now: str, lease_until: str) -> bool:
        """Claim all of `ids` for the deliverer holding `token`, or none of them.

        A row is claimed only while it is pending; when another deliverer holds any of them,
        nothing is claimed and the answer is False.
        """
        marks = ", ".join("?" for _ in ids)
        with self.transaction():
            claimed = self.db.conn.execute(
                "UPDATE alerts SET status = 'sending', claimed_at = ?, claim_token = ?, "
                f"lease_until = ? WHERE id IN ({marks}) AND status = 'pending'",
                [now, token, lease_until, *ids],
            ).rowcount
            if claimed != len(ids):
                # Undo only what this call took: the rows another deliverer holds stay its own.
                self.db.conn.execute(
                    "UPDATE alerts SET status = 'pending', claim_token = NULL, lease_until = NULL "
                    f"WHERE id IN ({marks}) AND status = 'sending' AND claim_token = ?",
                    [*ids, token],
                )
                return False
        return True

    def renew_claim(self, ids: Sequence[int], token: str, now: str, lease_until: str) -> bool:
        """Extend this deliverer's lease on `ids`; False when any of them is no longer its own."""
        marks = ", ".join("?" for _ in ids)
        with self.transaction():
            renewed = self.db.conn.execute(
                f"UPDATE alerts SET lease_until = ? WHERE id IN ({marks}) AND status = 'sending' "
                "AND claim_token = ? AND lease_until > ?",
                [lease_until, *ids, token, now],
            ).rowcount
        return renewed == len(ids)

    def release_claim(self, ids: Sequence[int], token: str) -> int:
        """Return this deliverer's claims on `ids` to pending (never another's)."""
        marks = ", ".join("?" for _ in ids)
        with self.transaction():
            return self.db.conn.execute(
                "UPDATE alerts SET status = 'pending', claim_token = NULL, lease_until = NULL "
                f"WHERE id IN ({marks}) AND status = 'sending' AND claim_token = ?",
                [*ids, token],
            ).rowcount

    def mark_sent(self, ids: Sequence[int], token: str, now: str, status: str = "sent") -> int:
        """Record that this deliverer's claimed alerts went out (`status`: sent or logged)."""
        marks = ", ".join("?" for _ in ids)
        with self.transaction():
            return self.db.conn.execute(
                f"UPDATE alerts SET status = ?, sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL, claim_token = NULL, lease_until = NULL "
                f"WHERE id IN ({marks}) AND claim_token = ?",
                [status, now, *ids, token],
            ).rowcount

    def mark_attempt_failed(
        self, outcomes: Sequence[tuple[int, str, int, str | None]], reason: str, token: str
    ) -> None:
        """(alert id, new status, attempts, next attempt) of failed sends, with the reason."""
        with self.transaction():
            self.db.conn.executemany(
                "UPDATE alerts SET status = ?, attempts = ?, next_attempt = ?, last_error = ?, "
                "claim_token = NULL, lease_until = NULL WHERE id = ? AND claim_token = ?",
                [
                    (status, attempts, next_attempt, reason, alert_id, token)
                    for alert_id, status, attempts, next_attempt in outcomes
                ],
            )

    def recover_alerts(self, now: str) -> int:
        """Return claims whose lease ran out (their deliverer died) to pending; how many."""
        with self.transaction():
            return self.db.conn.execute(
                "UPDATE alerts SET status = 'pending', claim_token = NULL, lease_until = NULL "
                "WHERE status = 'sending' AND (lease_until IS NULL OR lease_until <= ?)",
                [now],
            ).rowcount

    def claim_tokens(self) -> list[str]:
        """The tokens of the deliverers holding claims now."""
        rows = self.db.conn.execute(
            "SELECT DISTINCT claim_token FROM alerts WHERE status = 'sending' "
            "AND claim_token IS NOT NULL"
        )
        return [row[0] for row in rows]

    def release_claims_of(self, token: str) -> int:
        """Return every claim of one (dead) deliverer to pending."""
        with self.transaction():
            return self.db.conn.execute(
                "UPDATE alerts SET status = 'pending', claim_token = NULL, lease_until = NULL "
                "WHERE status = 'sending' AND claim_token = ?",
                [token],
            ).rowcount

    def retry_alerts_now(self, now: str) -> int:
        """Make every pending alert due now (its backoff is forgotten); return how many."""
        with self.transaction():
            return self.db.conn.execute(
                "UPDATE alerts SET next_attempt = ? WHERE status = 'pending' AND next_attempt > ?",
                [now, now],
            ).rowcount

    def last_digest(self, channel: str) -> str | None:
        row = self.db.execute(
            "SELECT last_digest FROM channel_state WHERE channel = ?", [channel]
        ).fetchone()
        return row[0] if row else None

    def set_last_digest(self, channel: str, when: str) -> None:
        with self.transaction():
            self.db.conn.execute(
                "INSERT INTO channel_state (channel, last_digest) VALUES (?, ?) "
                "ON CONFLICT(channel) DO UPDATE SET last_digest = excluded.last_digest",
                [channel, when],
            )

    def tag_names(self) -> tuple[str, ...]:
        """Every tag some stored release carries."""
        return tuple(row[0] for row in self.db.execute("SELECT DISTINCT tag FROM release_tags"))

    def release_row(self, row_id: int) -> dict | None:
        """One stored release as a plain row (no decoding)."""
        return next(iter(self.db.query("SELECT * FROM releases WHERE id = ?", [row_id])), None)

    def alert_rows(self, status: str | None = None, limit: int = 100) -> list[dict]:
        """Alerts with their release titles, newest first, for `biomon alerts`."""
        sql = (
            "SELECT a.id, a.status, a.channel, a.rule, a.attempts, a.created, a.sent_at, "
            "a.next_attempt, a.last_error, r.release_id, r.title FROM alerts a "
            "JOIN releases r ON r.id = a.release"
        )
        params: list = []
        if status:
            sql += " WHERE a.status = ?"
            params.append(status)
        sql += " ORDER BY a.id DESC LIMIT ?"
        params.append(limit)
        return list(self.db.query(sql, params))

    def alert_counts(self) -> dict[str, int]:
        """How many alerts are in each status."""
        return dict(self.db.execute("SELECT status, count(*) FROM alerts GROUP BY status"))

    # ---- the daemon's row: the running (or last) `biomon run`, its heartbeat and alarm

    def heartbeat(self, pid: int, now: str, *, started: bool = False) -> tuple[dict, str | None]:
        """Write the daemon's heartbeat (and, `started`, a fresh start); return its row and the
        newest successful poll of any feed."""
        row: dict = {"id": 1, "pid": pid, "last_beat": now}
        if started:
            row |= {"started": now, "stopped": None, "alarm_since": None}
        with self.transaction():
            table = self.db["daemon"]
            table.upsert(row, pk="id", alter=True)
            state = table.get(1)
            last_success = self.db.conn.execute("SELECT max(last_success) FROM feeds").fetchone()
        return state, last_success[0]

    def set_daemon_alarm(self, since: str | None) -> None:
        """Record that the no-successful-poll alarm went out at `since` (None: it ended)."""
        with self.transaction():
            self.db.conn.execute("UPDATE daemon SET alarm_since = ? WHERE id = 1", [since])

    def record_daemon_stop(self, now: str) -> None:
        """Record a clean stop of the daemon."""
        with self.transaction():
            self.db.conn.execute("UPDATE daemon SET stopped = ?, pid = NULL WHERE id = 1", [now])

    def daemon_row(self) -> dict:
        """The daemon's row (pid, started, last_beat, stopped, alarm_since), {} if none ran."""
        return next(iter(self.db.query("SELECT * FROM daemon WHERE id = 1")), {})

    def poll_times(self) -> tuple[str | None, str | None]:
        """The latest poll and the latest successful poll over all feeds (ISO UTC or None)."""
        row = self.db.conn.execute("SELECT max(last_polled), max(last_success) FROM feeds")
        return tuple(row.fetchone())  # type: ignore[return-value]

    # ---- reads

    def feeds(self) -> list[dict]:
        """Every feed's row (state and last outcome), by URL."""
        return list(self.db["feeds"].rows_where(order_by="url"))

    def polled_feeds(self) -> set[str]:
        """URLs of the feeds polled at least once."""
        rows = self.db.conn.execute("SELECT url FROM feeds WHERE last_polled IS NOT NULL")
        return {row[0] for row in rows}

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

    def facet_counts(self, query: ReleaseQuery, top: int = 15) -> dict[str, list[tuple[str, int]]]:
        """Counts by tag, ticker and month of the releases matching `query` (`biomon stats`)."""
        return facet_counts(self.db, query, top)

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

    # ---- watchlist figures

    @staticmethod
    def _watch_releases(symbol: str, exchange: str, company: str) -> tuple[str, list]:
        """SQL on `releases r` for one watch's releases, as its rule finds them: its ticker
        (on `exchange` when given), or its company in the issuer's name; copies left out."""
        found, params = [], []
        if symbol:
            on_exchange = " AND t.exchange = ?" if exchange else ""
            found.append(
                f"r.id IN (SELECT t.release FROM release_tickers t WHERE t.symbol = ?{on_exchange})"
            )
            params += [symbol, exchange] if exchange else [symbol]
        if company:
            found.append("instr(lower(r.issuer), ?) > 0")
            params.append(company.lower())
        if not found:
            return "0", []
        return f"r.duplicate_of IS NULL AND ({' OR '.join(found)})", params

    def watch_last_release(self, symbol: str, exchange: str = "", company: str = "") -> dict | None:
        """The newest release of a watch (see `_watch_releases`), or None."""
        where, params = self._watch_releases(symbol, exchange, company)
        rows = self.db.query(
            "SELECT r.id, r.source, r.release_id, r.url, r.title, r.published_utc, r.sort_time, "
            f"r.primary_tag FROM releases r WHERE {where} "
            "ORDER BY r.sort_time DESC, r.id DESC LIMIT 1",
            params,
        )
        return next(iter(rows), None)

    def watch_tag_counts(
        self, symbol: str, exchange: str, company: str, since: str
    ) -> tuple[int, dict[str, int]]:
        """A watch's releases published (or, undated, first seen) since `since` (ISO UTC):
        how many, and how many carry each tag (most first)."""
        where, params = self._watch_releases(symbol, exchange, company)
        total = self.db.execute(
            f"SELECT count(*) FROM releases r WHERE {where} AND r.sort_time >= ?", [*params, since]
        ).fetchone()[0]
        rows = self.db.execute(
            "SELECT g.tag, count(*) FROM releases r JOIN release_tags g ON g.release = r.id "
            f"WHERE {where} AND r.sort_time >= ? GROUP BY g.tag ORDER BY count(*) DESC, g.tag",
            [*params, since],
        ).fetchall()
        return total, dict(rows)

    def watch_alert_counts(self, rule: str) -> dict[str, int]:
        """How many alerts a watch (by its label, as alerts record it) has in each status."""
        rows = self.db.execute(
            "SELECT status, count(*) FROM alerts WHERE rule = ? GROUP BY status", [rule]
        ).fetchall()
        return dict(rows)


_STATE_FIELDS = frozenset(f.name for f in fields(FeedState))


@cache
def _upsert_feed_sql(columns: tuple[str, ...]) -> str:
    """The feed upsert for these columns: built once per column set, not once per feed."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("url", "added"))
    return (
        f"INSERT INTO feeds ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT(url) DO UPDATE SET {updates}"
    )


def _status_line(report: FeedReport) -> str:
    if report.error:
        return report.error
    if report.skipped:
        return f"ok ({report.skipped})"
    return "ok"


def _evidence_by_tag(classification: Classification) -> list[tuple[str, tuple[str, ...]]]:
    evidence = dict(classification.evidence)
    return [(tag, evidence.get(tag, ())) for tag in classification.tags]


def _news_end(classification: Classification | None, text: str) -> int | None:
    """Where the stored text's news ends (for the index), from the classification if any."""
    if classification is None or classification.news_end is None:
        return None
    return max(0, min(classification.news_end, len(text)))


def _decode(row: dict) -> dict:
    row = dict(row)
    for key in ("subjects", "tickers"):
        row[key] = json.loads(row.get(key) or "[]")
    row["facts"] = json.loads(row.get("facts") or "{}")
    return row


def one_line(error: BaseException) -> str:
    """An exception as "Type: message" on one line (at most 300 characters)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text}"[:300]
