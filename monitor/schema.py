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


def news_of(row: str) -> str:
    """SQL for the news part of a release's text (`row` is "new", "old" or a table alias).

    Full-text search indexes text[:news_end], the headline lines, dateline, lead and body; the
    boilerplate after it (About, forward-looking statements, contacts) is kept but not indexed.
    news_end NULL (stored unclassified, or not split yet): the whole text.
    """
    return f"substr({row}.text, 1, coalesce({row}.news_end, length({row}.text)))"


def _m011_news_index(db: sqlite_utils.Database) -> None:
    # The index covered the whole text: in a typical release three quarters of it are the same
    # About/forward-looking/contacts paragraphs, which made every search slower and matched
    # words no news said. Now an external-content FTS5 table over a view of title + news: the
    # text is stored once (in releases.text, whole) and the index holds only the news. Old rows
    # have news_end NULL (indexed whole, as before) until Store.split_news or reclassify splits
    # them; the split needs the classifier, which the store may not import.
    db["releases"].add_column("news_end", int)
    # The feed's HTML: nothing reads it (the text says the same), and it doubled the row.
    db.execute("UPDATE releases SET summary_html = NULL WHERE summary_html IS NOT NULL")
    for trigger in ("releases_ai", "releases_ad", "releases_au"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE IF EXISTS releases_fts")
    db.execute(
        f"CREATE VIEW releases_news AS SELECT r.id, r.title, {news_of('r')} AS news FROM releases r"
    )
    db.execute(
        "CREATE VIRTUAL TABLE releases_fts USING FTS5 (title, news, content='releases_news', "
        "content_rowid='id', tokenize='porter')"
    )
    # Same trigger names as sqlite-utils' (tools that drop releases_ai for a bulk load still can).
    db.execute(
        "CREATE TRIGGER releases_ai AFTER INSERT ON releases BEGIN\n"
        "  INSERT INTO releases_fts (rowid, title, news)"
        f" VALUES (new.id, new.title, {news_of('new')});\n"
        "END"
    )
    db.execute(
        "CREATE TRIGGER releases_ad AFTER DELETE ON releases BEGIN\n"
        "  INSERT INTO releases_fts (releases_fts, rowid, title, news)"
        f" VALUES ('delete', old.id, old.title, {news_of('old')});\n"
        "END"
    )
    # Re-index only when what is indexed changes (re-tagging or marking a copy leaves it).
    db.execute(
        "CREATE TRIGGER releases_au AFTER UPDATE OF title, text, news_end ON releases\n"
        "WHEN old.title IS NOT new.title OR old.text IS NOT new.text"
        " OR old.news_end IS NOT new.news_end BEGIN\n"
        "  INSERT INTO releases_fts (releases_fts, rowid, title, news)"
        f" VALUES ('delete', old.id, old.title, {news_of('old')});\n"
        "  INSERT INTO releases_fts (rowid, title, news)"
        f" VALUES (new.id, new.title, {news_of('new')});\n"
        "END"
    )
    db.execute("INSERT INTO releases_fts (releases_fts) VALUES ('rebuild')")
    # Newest-first answers sort their matches by date: from this small index rather than from
    # each match's whole row (monitor.query.ID_DATE_INDEX).
    db.execute("CREATE INDEX releases_id_date ON releases (id, sort_time)")


def _m013_event_leads(db: sqlite_utils.Database) -> None:
    # One event per piece of news (monitor/store/events.py): each release's lead (normalised
    # words) is kept to compare later copies against; rows stored before stay NULL and are read
    # from their text when compared. The index lists an event's copies (its sources).
    db["releases"].add_column("lead", str)
    db["releases"].create_index(["duplicate_of"], if_not_exists=True)
    # A new release is compared with the releases of its tickers in a few days around it:
    # (symbol, sort_time) finds those without reading a ticker's whole history.
    db["release_tickers"].add_column("sort_time", str)
    db.execute(
        "UPDATE release_tickers SET sort_time = "
        "(SELECT sort_time FROM releases WHERE releases.id = release_tickers.release)"
    )
    db["release_tickers"].create_index(["symbol", "sort_time"], if_not_exists=True)


def _m014_catalysts(db: sqlite_utils.Database) -> None:
    # The catalyst calendar: one row per event of a ticker (kind + program [+ trial]), its
    # current window, and the release that set it; `met_release` once a release reports it.
    db["catalysts"].create(
        {
            "id": int,
            "ticker": str,  # the symbol ("CLRB"), or "" when the release lists none
            "issuer": str,
            "kind": str,
            "program": str,
            "program_key": str,  # the program case-folded, without trademark signs
            "trial": str,
            "phase": str,
            "date_text": str,
            "window_start": str,  # ISO dates, inclusive
            "window_end": str,
            "precision": str,
            "evidence": str,
            "release": int,  # the release that announced it
            "updated_release": int,  # the release that set the current window
            "created": str,
            "updated": str,  # when the window last changed (the iCal DTSTAMP)
            "sequence": int,  # bumped on every change of the window (the iCal SEQUENCE)
            "met_release": int,
            "met_label": str,
            "met_evidence": str,
        },
        pk="id",
        not_null={"kind", "window_start", "window_end", "release", "created"},
        foreign_keys=[("release", "releases", "id")],
    )
    db["catalysts"].create_index(["ticker", "kind", "program_key"])
    db["catalysts"].create_index(["window_start"])
    db["catalyst_changes"].create(
        {
            "id": int,
            "catalyst": int,
            "release": int,
            "changed": str,
            "old_start": str,
            "old_end": str,
            "old_text": str,
            "new_start": str,
            "new_end": str,
            "new_text": str,
        },
        pk="id",
        foreign_keys=[("catalyst", "catalysts", "id"), ("release", "releases", "id")],
    )
    db["catalyst_changes"].create_index(["catalyst"])
    # Catalyst alerts (reminders, moved dates) are outbox rows too, keyed by reason (which names
    # the entry, the day and the date) and channel: once each, whatever the number of
    # processes, and across a rebuild of the calendar. Release alerts keep their key.
    db["alerts"].add_column("catalyst", int)
    db["alerts"].add_column("reason", str)  # "remind:7:2026-03-15:CLRB/pdufa/iopofosine"
    db.execute("DROP INDEX IF EXISTS idx_alerts_release_channel")
    db.execute(
        "CREATE UNIQUE INDEX idx_alerts_release_channel ON alerts (release, channel) "
        "WHERE catalyst IS NULL"
    )
    db.execute(
        "CREATE UNIQUE INDEX idx_alerts_reason_channel "
        "ON alerts (reason, channel) WHERE catalyst IS NOT NULL"
    )


def _m015_ticker_release_index(db: sqlite_utils.Database) -> None:
    # A ticker's releases listed from the index alone: `symbol = ?` (and `AND exchange = ?`)
    # read the release ids without visiting each row (a busy ticker has 13,000 releases in a
    # million: 40 ms to 1 ms). It serves all the (symbol, exchange) index did, which goes.
    db["release_tickers"].create_index(["symbol", "exchange", "release"], if_not_exists=True)
    db.execute("DROP INDEX IF EXISTS idx_release_tickers_symbol_exchange")


def _m012_article_pages(db: sqlite_utils.Database) -> None:
    # Releases whose feed cut the text (PR Newswire, Business Wire, SEC exhibit 99.1) wait here
    # for their article page: durable, so a failed page is retried with backoff across restarts
    # and never lost. See monitor/store/pages.py.
    db["pages"].create(
        {
            "release": int,
            "url": str,
            "state": str,  # "pending", "done", "failed" (given up: the summary stays)
            "attempts": int,  # failed fetches so far
            "next_attempt": str,  # ISO UTC: due then (a claim moves it past a lease)
            "last_error": str,
            "alerting": int,  # 1: the release may alert (not a first poll, not catch-up)
            "alert_pending": int,  # 1: its alert waits for the page (decided once)
            "created": str,
            "fetched": str,
        },
        pk="release",
        foreign_keys=[("release", "releases", "id")],
        not_null={"url", "state", "next_attempt"},
    )
    db["pages"].create_index(["state", "next_attempt"])


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
    _m011_news_index,
    _m012_article_pages,
    _m013_event_leads,
    _m014_catalysts,
    _m015_ticker_release_index,
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
