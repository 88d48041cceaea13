"""The database schema: numbered migrations (PRAGMA user_version counts those applied).

Each migration runs once, in order, in one transaction, through sqlite-utils. A later schema
change is a new function at the end of MIGRATIONS; existing databases are upgraded on open
without losing rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlite_utils

from monitor.errors import StoreError


def _m001_base(db: sqlite_utils.Database) -> None:
    db["releases"].create(
        {
            "id": int,
            "source": str,
            "release_id": str,
            "url": str,
            "title": str,
            "summary_html": str,
            "text": str,
            "published_utc": str,
            "published_raw": str,
            "sort_time": str,  # published_utc, or first_seen when the date was unreadable
            "issuer": str,
            "language": str,
            "subjects": str,  # JSON array
            "tickers": str,  # JSON array of "EXCHANGE:SYMBOL"
            "first_seen": str,
            "feed_url": str,  # the feed it was first seen in
        },
        pk="id",
        not_null={"source", "release_id", "title", "first_seen", "sort_time"},
    )
    db["releases"].create_index(["source", "release_id"], unique=True)
    db["releases"].create_index(["sort_time"])
    db["release_tickers"].create(
        {"release": int, "exchange": str, "symbol": str},
        pk=("release", "exchange", "symbol"),
        foreign_keys=[("release", "releases", "id")],
    )
    db["release_tickers"].create_index(["symbol", "exchange"])
    db["feeds"].create(
        {
            "url": str,
            "added": str,
            "last_polled": str,
            "last_success": str,
            "last_status": str,  # "ok", or the one-line reason of the last failure
            "last_error": str,
            "last_warning": str,
            "consecutive_failures": int,
            "last_items": int,
        },
        pk="url",
    )


def _m002_seen_in_and_fts(db: sqlite_utils.Database) -> None:
    db["release_feeds"].create(
        {"release": int, "feed_url": str, "first_seen": str},
        pk=("release", "feed_url"),
        foreign_keys=[("release", "releases", "id")],
    )
    db["releases"].enable_fts(["title", "text"], create_triggers=True, tokenize="porter")


def _m003_feed_state(db: sqlite_utils.Database) -> None:
    feeds = db["feeds"]
    for column in (
        "fetch_url",
        "etag",
        "last_modified",
        "body_hash",
        "not_before",
        "next_poll",
        "disabled",
        "last_page_fill",
    ):
        feeds.add_column(column, str)
    db["release_feeds"].create_index(["feed_url", "first_seen"])


def _m004_tags(db: sqlite_utils.Database) -> None:
    db["releases"].add_column("primary_tag", str)
    db["releases"].add_column("facts", str)  # JSON object of lists
    db["release_tags"].create(
        {"release": int, "tag": str, "evidence": str},  # evidence: JSON array of sentences
        pk=("release", "tag"),
        foreign_keys=[("release", "releases", "id")],
    )
    db["release_tags"].create_index(["tag", "release"])


def _m005_alerts(db: sqlite_utils.Database) -> None:
    db["releases"].add_column("title_key", str)
    db["releases"].add_column("duplicate_of", int)
    for row_id, title in db.execute("SELECT id, title FROM releases").fetchall():
        db.execute("UPDATE releases SET title_key = ? WHERE id = ?", [title_key(title), row_id])
    db["releases"].create_index(["title_key"])
    db["alerts"].create(
        {
            "id": int,
            "release": int,
            "channel": str,
            "rule": str,
            "ticker": str,
            "status": str,  # pending | sending | sent | failed
            "attempts": int,
            "next_attempt": str,
            "last_error": str,
            "created": str,
            "claimed_at": str,
            "sent_at": str,
        },
        pk="id",
        not_null={"release", "channel", "status", "created"},
        foreign_keys=[("release", "releases", "id")],
    )
    # The exactly-once key: one alert per release and channel, whatever matched it.
    db["alerts"].create_index(["release", "channel"], unique=True)
    db["alerts"].create_index(["status", "channel", "next_attempt"])
    db["channel_state"].create({"channel": str, "last_digest": str}, pk="channel")


def _m006_daemon(db: sqlite_utils.Database) -> None:
    # One row: the running (or last) `biomon run`, its heartbeat and its alarm state.
    db["daemon"].create(
        {
            "id": int,
            "pid": int,
            "started": str,
            "last_beat": str,
            "stopped": str,
            "alarm_since": str,
        },
        pk="id",
    )


def _m007_backfill(db: sqlite_utils.Database) -> None:
    feeds = db["feeds"]
    feeds.add_column("backfill_next", int)  # the offset an interrupted backfill resumes at
    feeds.add_column("backfill_found_new", int)
    feeds.add_column("backfill_done", str)  # when the last backfill finished


def _m008_fts_on_text_changes(db: sqlite_utils.Database) -> None:
    # sqlite-utils' update trigger re-indexes a release's text on any UPDATE (re-tagging, marking
    # a copy): re-index only when the indexed columns change. Same name, so sqlite-utils'
    # disable_fts/enable_fts(replace=True) still find it.
    db.execute("DROP TRIGGER IF EXISTS releases_au")
    db.execute(
        "CREATE TRIGGER releases_au AFTER UPDATE OF title, text ON releases BEGIN\n"
        "  INSERT INTO releases_fts (releases_fts, rowid, title, text)"
        " VALUES ('delete', old.rowid, old.title, old.text);\n"
        "  INSERT INTO releases_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text);\n"
        "END"
    )


def _m009_alert_claims(db: sqlite_utils.Database) -> None:
    # A claim is owned: the deliverer's token, and the time until which no one else may take it.
    db["alerts"].add_column("claim_token", str)
    db["alerts"].add_column("lease_until", str)
    db.execute(
        "UPDATE alerts SET lease_until = claimed_at "
        "WHERE status = 'sending' AND claimed_at IS NOT NULL"
    )


def _m010_feed_item_problems(db: sqlite_utils.Database) -> None:
    # The items of a feed's last poll that were not stored or stored with a problem (JSON array
    # of one-line "item 3 (id 123): reason" strings), for `biomon status`.
    db["feeds"].add_column("last_problems", str)


MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _m001_base,
    _m002_seen_in_and_fts,
    _m003_feed_state,
    _m004_tags,
    _m005_alerts,
    _m006_daemon,
    _m007_backfill,
    _m008_fts_on_text_changes,
    _m009_alert_claims,
    _m010_feed_item_problems,
)

# Updates and corrections arrive as new releases; their title, less this prefix, finds the original.
_UPDATE_PREFIX = re.compile(
    r"^\s*(?:update[ds]?|correct(?:ion|ed|ing)(?:\s+and\s+replacing)?|replacing|repeat|"
    r"re-?issued?|retransmission|notice\s+to\s+disregard)\b\s*(?:--|[-:\u2013\u2014])?\s*",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^0-9a-z]+")
DUPLICATE_WINDOW_DAYS = 3


def title_key(title: str) -> str:
    """A title reduced for finding copies: no UPDATE/CORRECTION prefix, case or punctuation."""
    previous = None
    while previous != title:
        previous, title = title, _UPDATE_PREFIX.sub("", title, count=1)
    return _NON_WORD.sub(" ", title.lower()).strip()


def migrate(
    db: sqlite_utils.Database,
    upto: int | None = None,
    begin: Callable[[], None] | None = None,
) -> int:
    """Apply pending migrations (all, or up to number `upto`); return the schema version.

    Each step reads the version inside its own write transaction (`begin`, default BEGIN
    IMMEDIATE), so two processes opening a new database at once never apply a step twice.
    """
    target = len(MIGRATIONS) if upto is None else upto
    conn = db.conn
    version = _version(db)
    while version < target:
        if begin is not None:
            begin()
        else:
            conn.execute("BEGIN IMMEDIATE")
        try:
            version = _version(db)
            if version < target:
                MIGRATIONS[version](db)
                version += 1
                db.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return version


def _version(db: sqlite_utils.Database) -> int:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(
            f"{db.conn.execute('PRAGMA database_list').fetchone()[2]}: schema version {version}"
            " is newer than this biomon knows; upgrade biomon"
        )
    return version


def check_schema(db: sqlite_utils.Database, path) -> None:
    """Refuse (StoreError) a file that is not a biomon database of this version, for reading."""
    version = _version(db)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 or "releases" not in tables:
        raise StoreError(
            f"{path}: not a biomon database (no releases table); check --db or [storage] path"
        )
    if version < len(MIGRATIONS):
        raise StoreError(
            f"{path}: made by an older biomon (schema {version} of {len(MIGRATIONS)}); "
            "run `biomon poll` (or any command that writes) once to upgrade it"
        )
