"""Article pages still to fetch: the durable queue of releases whose feed cut the text.

A PR Newswire or Business Wire item (or an SEC filing, whose exhibit 99.1 is the release) is
stored at once with the feed's summary; its page is then fetched, the text replaced and the
release re-tagged. The queue lives in the database (table `pages`, migration m012) so that a
failed page, a crash or a restart never loses the fill, and several biomon processes never
fetch one page at once (a claim moves `next_attempt` past a lease). Two flags carry the alert
decision across passes and restarts: `alerting` (the release may alert at all: not a feed's
first poll, not `catch-up`) and `alert_pending` (no alert has been decided yet: the poller waits
for the page so the alert carries the full text; taken once, atomically).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from monitor.models import Classification, Release, Ticker


@dataclass(frozen=True)
class PageTask:
    """One page to fetch for a stored release, as claimed from the queue."""

    row_id: int
    url: str
    attempts: int  # failed fetches so far
    release: Release  # as stored: the feed's summary until the page is read


class PagesMixin:
    """`Store` methods of the article-page queue (mixed into `monitor.store.Store`)."""

    def queue_page(
        self, row_id: int, url: str, now: str, *, alerting: bool, alert_pending: bool
    ) -> None:
        """Queue the page of stored release `row_id`, due at once; a release is queued once."""
        self.db.conn.execute(
            "INSERT OR IGNORE INTO pages (release, url, state, attempts, next_attempt, "
            "alerting, alert_pending, created) VALUES (?, ?, 'pending', 0, ?, ?, ?, ?)",
            [row_id, url, now, int(alerting), int(alert_pending), now],
        )

    def claim_pages(self, now: str, lease_until: str, limit: int = 100) -> list[PageTask]:
        """The pages due at `now` (oldest first), claimed until `lease_until`: another process
        (or pass) sees them due again only if this one dies before settling them."""
        # A pass with nothing due (the usual case) reads one index entry and takes no lock.
        due = self.db.conn.execute(
            "SELECT 1 FROM pages WHERE state = 'pending' AND next_attempt <= ? LIMIT 1", [now]
        ).fetchone()
        if due is None:
            return []
        with self.transaction():
            rows = self.db.conn.execute(
                "SELECT p.release, p.url, p.attempts, r.source, r.release_id, r.url, r.title, "
                "r.summary_html, r.text, r.published_utc, r.published_raw, r.issuer, "
                "r.language, r.subjects, r.tickers, r.feed_url FROM pages p "
                "JOIN releases r ON r.id = p.release "
                "WHERE p.state = 'pending' AND p.next_attempt <= ? "
                "ORDER BY p.next_attempt, p.release LIMIT ?",
                [now, limit],
            ).fetchall()
            self.db.conn.executemany(
                "UPDATE pages SET next_attempt = ? WHERE release = ?",
                [(lease_until, row[0]) for row in rows],
            )
        return [PageTask(row[0], row[1], row[2], _release(row[3:])) for row in rows]

    def page_filled(
        self, row_id: int, release: Release, classification: Classification, now: str
    ) -> bool:
        """Store the release's text from its page and its new tags; mark the page done.
        True when the alert decision was still pending (the caller now makes it, once)."""
        # replace_text keeps the search index and the news/boilerplate split right.
        self.replace_text(row_id, release.text, title=release.title, classification=classification)
        self.db.conn.execute(
            "UPDATE releases SET tickers = ? WHERE id = ?",
            [json.dumps([str(t) for t in release.tickers]), row_id],
        )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO release_tickers (release, exchange, symbol, sort_time) "
            "SELECT id, ?, ?, sort_time FROM releases WHERE id = ?",
            [(t.exchange, t.symbol, row_id) for t in release.tickers],
        )
        # With its whole text (an 8-K's exhibit 99.1) a release may turn out to tell the news
        # of a stored event: it then joins it, and a copy never alerts.
        self.refresh_event(row_id)
        self.db.conn.execute(
            "UPDATE pages SET state = 'done', fetched = ?, last_error = NULL WHERE release = ?",
            [now, row_id],
        )
        return self.take_page_alert(row_id)

    def page_failed(self, row_id: int, error: str, next_attempt: str, *, give_up: bool) -> bool:
        """Count a failed fetch: due again at `next_attempt`, or given up (the summary stays).
        True when the alert decision was still pending (the caller alerts on the summary)."""
        self.db.conn.execute(
            "UPDATE pages SET attempts = attempts + 1, last_error = ?, next_attempt = ?, "
            "state = ? WHERE release = ?",
            [error, next_attempt, "failed" if give_up else "pending", row_id],
        )
        return self.take_page_alert(row_id)

    def take_page_alert(self, row_id: int) -> bool:
        """Take the pending alert decision of a release: True for exactly one caller."""
        cursor = self.db.conn.execute(
            "UPDATE pages SET alert_pending = 0 WHERE release = ? AND alert_pending = 1",
            [row_id],
        )
        return cursor.rowcount == 1

    def page_alerting(self, row_id: int) -> bool:
        """Whether the release of this page may alert at all (a later fill re-matches it)."""
        row = self.db.conn.execute(
            "SELECT alerting FROM pages WHERE release = ?", [row_id]
        ).fetchone()
        return bool(row and row[0])

    def page_counts(self) -> dict[str, int]:
        """Article pages by state (`biomon status`): fetched, pending (retrying), failed."""
        counts = {"fetched": 0, "pending": 0, "retrying": 0, "failed": 0}
        rows = self.db.conn.execute(
            "SELECT state, attempts > 0, count(*) FROM pages GROUP BY state, attempts > 0"
        ).fetchall()
        for state, retried, count in rows:
            if state == "done":
                counts["fetched"] += count
            elif state == "failed":
                counts["failed"] += count
            else:
                counts["pending"] += count
                if retried:
                    counts["retrying"] += count
        return counts

    def page_row(self, row_id: int) -> dict | None:
        """The queue row of one release's page (tests and `show`)."""
        cursor = self.db.conn.execute("SELECT * FROM pages WHERE release = ?", [row_id])
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cursor.description], row, strict=True))


def _release(row: tuple) -> Release:
    """A stored release back as a Release (the columns `claim_pages` selects, in order)."""
    (source, release_id, url, title, summary_html, text, published_utc, published_raw) = row[:8]
    issuer, language, subjects, tickers, feed_url = row[8:]
    return Release(
        source=source,
        release_id=release_id,
        url=url or "",
        title=title,
        summary_html=summary_html or "",
        text=text or "",
        published_utc=published_utc,
        published_raw=published_raw or "",
        issuer=issuer or "",
        language=language or "",
        subjects=tuple(json.loads(subjects or "[]")),
        tickers=tuple(_ticker(t) for t in json.loads(tickers or "[]")),
        feed_url=feed_url or "",
    )


def _ticker(text: str) -> Ticker:
    exchange, _, symbol = text.rpartition(":")
    return Ticker(exchange, symbol)
