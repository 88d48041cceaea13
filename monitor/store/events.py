"""Events: one piece of news, however many wires (or SEC filings) print it.

A release stored first is an event's root; a later release telling the same news is stored as
its copy (`releases.duplicate_of` = the root's id), never alerts, and lists with the root as one
more source of the event. Detection reads only the store (no memory), so a copy arriving after a
restart, or in another biomon process, is still recognised.

Two releases tell the same news when they are close in time (DUPLICATE_WINDOW_DAYS) and either
their titles match once UPDATE/CORRECTION prefixes are dropped (any issuer), or they share a
ticker and their leads agree: word 3-shingles of the news part of the first sentences (what
follows "announced"/"reported", past the dateline and the company's standing description),
compared as containment of the shorter in the longer, so that a cut PR Newswire summary, a
different dateline, an "Exhibit 99.1" header or added contacts do not matter. Leads that share
only the company's description, or titles that differ, keep two releases of one issuer on one
day apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from monitor.models import Release
from monitor.query import ReleaseQuery, run_query
from monitor.schema import DUPLICATE_WINDOW_DAYS
from monitor.schema import title_key as _title_key

# The store asks for a new release's title key twice (here and for its row): computed once.
title_key = lru_cache(maxsize=1024)(_title_key)

LEAD_CHARS = 1500  # of the text: the lead (90 words past headline and dateline) is near the top
LEAD_WORDS = 90  # words kept per release (the `lead` column)
_QUICK = 900  # characters that usually hold LEAD_WORDS words and more
ANCHOR_WITHIN = 60  # an "announced" further down is not the lead's
SHINGLE = 3
MAX_CANDIDATES = 200  # releases of the same tickers in the window, compared at most

# Same news when (see `same_news`):
TITLE_SAME = 0.9  # informative titles this alike (word containment), text not against it
TEXT_AGAINST = 0.3  # ... unless the leads share less than this
NEWS_SAME = 0.6  # news shingles this alike, over at least NEWS_MIN shingles, titles not against
NEWS_MIN = 12
TITLE_AGAINST = 0.5  # titles sharing less than this are against
LEAD_SAME = 0.85  # leads (and news) this alike over at least LEAD_MIN shingles
LEAD_MIN = 25
TITLE_CLOSE = 0.8  # ... and, with little news to compare, titles at least this alike

_WORD = re.compile(r"[0-9a-z]+")
# Where a dateline ends: a wire's tag and/or a dash after "CITY, Date".
_DATELINE_END = re.compile(
    r"(?:(?:--+\s*)?\(\s*(?:globe\s*newswire|business\s*wire|accesswire|newsfile)\s*\)|"
    r"/\s*prnewswire(?:-[a-z]+)?\s*/)(?:\s*(?:--+|[\u2013\u2014]))?"
    r"|\s(?:--+|[\u2013\u2014])\s"
    r"|--(?=\s*[\(A-Z])",
    re.IGNORECASE,
)
_CUT = re.compile(r"(?:\.\.\.|\u2026|\[\.\.\.\])\s*$")
_ANNOUNCE = frozenset({"announced", "announces", "announce", "reported", "reports", "today"})
_EXHIBIT_PREFIX = re.compile(r"^(?:ex(?:hibit)?\s+99(?:\s+0?\d+)?\s+)?(?:press\s+release\s+)?")
# An SEC filing's own title ("8-K Cellectar Biosciences, Inc.: Other Events") tells no news.
_FORM_TITLE = re.compile(r"^\s*(?:8-K|6-K)(?:/A)?\b", re.IGNORECASE)


@dataclass(frozen=True)
class EventSource:
    """One place an event was printed: the wire (or "sec"), its id there, the URL."""

    source: str
    release_id: str
    url: str
    first_seen: str = ""


class _Candidate(NamedTuple):  # a tuple: made by the dozen per new release (5x a dataclass)
    row_id: int
    root: int
    title: str
    lead: str


def lead_of(text: str) -> str:
    """The release's lead as normalised words: past any headline and dateline, at most
    LEAD_WORDS words, a word cut by a summary's "..." dropped."""
    head = (text or "")[:LEAD_CHARS]
    found = _DATELINE_END.search(head[:600])
    if found:
        head = head[found.end() :]
    # With more than LEAD_WORDS + 1 words in the first _QUICK characters, those are the lead's
    # words (only the last one read may be cut there), whether or not the text is cut.
    words = _WORD.findall(head[:_QUICK].lower())
    if len(words) >= LEAD_WORDS + 2:
        return " ".join(words[:LEAD_WORDS])
    cut = bool(_CUT.search(head)) and len(head) < LEAD_CHARS
    words = _WORD.findall(head.lower())
    if cut and words:
        words = words[:-1]  # "intellectu..." is no word of the full text
    return " ".join(words[:LEAD_WORDS])


def news_part(words: Sequence[str]) -> Sequence[str] | None:
    """What follows the lead's "announced"/"reported" (the news, past the company's standing
    description), or None when the lead has no such word near its start."""
    for index, word in enumerate(words[:ANCHOR_WITHIN]):
        if word in _ANNOUNCE:
            rest = words[index + 1 :]
            while rest and rest[0] in _ANNOUNCE:
                rest = rest[1:]
            return rest
    return None


def shingles(words: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def _shingle_keys(words: Sequence[str]) -> frozenset[str]:
    """`shingles` as "w1 w2 w3" strings (words hold no space: one string per shingle): a
    string keeps its hash, so comparing sets of them is 3x faster than sets of tuples."""
    return frozenset(" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def containment(first: Set, second: Set) -> float:
    """How much of the smaller set the larger holds (0..1): robust to one being cut short."""
    smaller = min(len(first), len(second))
    return len(first & second) / smaller if smaller else 0.0


def title_words(title: str) -> frozenset[str] | None:
    """A title's words without an "Exhibit 99.1" label; None for one that tells no news (an SEC
    filing's "8-K Company: items" title)."""
    if _FORM_TITLE.match(title or ""):
        return None
    words = _EXHIBIT_PREFIX.sub("", title_key(title or "")).split()
    return frozenset(words) or None


@dataclass(frozen=True)
class NewsFeatures:
    """What `same_news` compares of one release, computed once per release."""

    titles: frozenset[str] | None
    lead: frozenset[str]  # shingles as `_shingle_keys` gives them
    news: frozenset[str]  # the news part's shingles, or the lead's without one
    lead_words: int


@lru_cache(maxsize=4096)
def features(title: str, lead: str) -> NewsFeatures:
    """A release's features (cached: the releases of the last days are compared again and
    again as new ones arrive)."""
    words = lead.split()
    news = news_part(words)
    lead_shingles = _shingle_keys(words)
    news_shingles = _shingle_keys(news) if news is not None else None
    return NewsFeatures(title_words(title), lead_shingles, news_shingles, len(words))  # type: ignore[arg-type]


def same_news(title_a: str, lead_a: str, title_b: str, lead_b: str) -> bool:
    """True when two releases of one issuer, close in time, tell the same news (see module)."""
    return same_features(features(title_a, lead_a), features(title_b, lead_b))


def same_features(a: NewsFeatures, b: NewsFeatures) -> bool:
    """`same_news` on precomputed features."""
    if a.news is not None and b.news is not None:
        news = (a.news, b.news)
    else:
        news = (a.lead, b.lead)
    compared = min(len(news[0]), len(news[1]))
    if compared >= SHINGLE and news[0].isdisjoint(news[1]):
        # Text against (containment 0): no rule below can hold. The usual candidate, another
        # story of the same ticker, ends here without its titles or sets being compared.
        return False
    titles = containment(a.titles, b.titles) if a.titles and b.titles else None
    text = containment(*news) if compared >= SHINGLE else None
    if titles is not None and titles >= TITLE_SAME and (text is None or text >= TEXT_AGAINST):
        return True
    if text is None:
        return False
    if text >= NEWS_SAME and compared >= NEWS_MIN and (titles is None or titles >= TITLE_AGAINST):
        return True
    # A cut summary may hold only a few words of news past the company's description: its
    # whole lead must then agree, and its title must not tell another story.
    lead_count = min(a.lead_words, b.lead_words) - SHINGLE + 1
    titles_agree = compared >= NEWS_MIN or titles is None or titles >= TITLE_CLOSE
    if not (text >= LEAD_SAME and lead_count >= LEAD_MIN and titles_agree):
        return False
    return containment(a.lead, b.lead) >= LEAD_SAME


def _window(when: str) -> tuple[str, str] | None:
    try:
        moment = datetime.fromisoformat(when.removesuffix("Z"))  # 10x strptime's speed
        low = moment - timedelta(days=DUPLICATE_WINDOW_DAYS)
        high = moment + timedelta(days=DUPLICATE_WINDOW_DAYS)
    except (ValueError, OverflowError, TypeError):
        return None  # a date at the edge of the calendar: no window to look in
    return low.strftime("%Y-%m-%dT%H:%M:%SZ"), high.strftime("%Y-%m-%dT%H:%M:%SZ")


class EventsMixin:
    """Store methods for events: find the event a new release belongs to, list its sources,
    relink after a release's text changed, and list query results one event per row."""

    db: object  # sqlite_utils.Database, from Store

    def _original_of(self, release: Release, seen_at: str | None = None) -> int | None:
        """The root of the stored event this new release repeats (an UPDATE, a correction, the
        same news on another wire or in an 8-K exhibit), or None: a new event."""
        return self._event_of(release, seen_at)[0]

    def _event_of(self, release: Release, seen_at: str | None = None) -> tuple[int | None, str]:
        """(`_original_of`, the release's lead to store with it): the lead is computed once."""
        lead = lead_of(release.text)
        window = _window(release.published_utc or seen_at or "")
        if window is None:
            return None, lead
        by_title = self.db.conn.execute(  # type: ignore[attr-defined]
            "SELECT coalesce(duplicate_of, id) FROM releases WHERE title_key = ? "
            "AND sort_time BETWEEN ? AND ? ORDER BY id LIMIT 1",
            [title_key(release.title), *window],
        ).fetchone()
        if by_title:
            return by_title[0], lead
        symbols = sorted({ticker.symbol for ticker in release.tickers})
        candidates = self._event_candidates(symbols, window)
        if candidates:
            mine = features(release.title, lead)
            for candidate in candidates:
                if same_features(mine, features(candidate.title, candidate.lead)):
                    return candidate.root, lead
        return None, lead

    def _set_lead(self, row_id: int, lead: str) -> None:
        """Keep a new release's lead, for comparing the releases that come after it."""
        self.db.conn.execute(  # type: ignore[attr-defined]
            "UPDATE releases SET lead = ? WHERE id = ?", [lead, row_id]
        )

    def _event_candidates(self, symbols: Sequence[str], window: tuple[str, str]) -> list:
        """Stored releases listing one of `symbols` in the window, oldest first."""
        if not symbols:
            return []
        marks = ", ".join("?" for _ in symbols)
        rows = self.db.conn.execute(  # type: ignore[attr-defined]
            "SELECT r.id, coalesce(r.duplicate_of, r.id), r.title, r.lead, "
            f"CASE WHEN r.lead IS NULL THEN substr(r.text, 1, {LEAD_CHARS}) END "
            "FROM releases r WHERE r.id IN (SELECT t.release FROM release_tickers t "
            f"WHERE t.symbol IN ({marks}) AND t.sort_time BETWEEN ? AND ?) "
            "ORDER BY r.id LIMIT ?",
            [*symbols, *window, MAX_CANDIDATES],
        ).fetchall()
        return [
            _Candidate(row_id, root, title, lead if lead is not None else lead_of(text or ""))
            for row_id, root, title, lead, text in rows
        ]

    def event_root(self, row_id: int) -> int:
        """The id of the event's root (the release first seen) that stored release `row_id`
        belongs to."""
        row = self.db.conn.execute(  # type: ignore[attr-defined]
            "SELECT coalesce(duplicate_of, id) FROM releases WHERE id = ?", [row_id]
        ).fetchone()
        return row[0] if row else row_id

    def event_sources(self, row_id: int) -> list[EventSource]:
        """Every source of the event stored release `row_id` belongs to, first seen first."""
        return self.events_sources([row_id]).get(row_id, [])

    def events_sources(self, row_ids: Iterable[int]) -> dict[int, list[EventSource]]:
        """`event_sources` of many releases in two queries (for history and export)."""
        ids = list(dict.fromkeys(row_ids))
        if not ids:
            return {}
        conn = self.db.conn  # type: ignore[attr-defined]
        marks = ", ".join("?" for _ in ids)
        roots = dict(
            conn.execute(
                f"SELECT id, coalesce(duplicate_of, id) FROM releases WHERE id IN ({marks})", ids
            ).fetchall()
        )
        wanted = sorted(set(roots.values()))
        marks = ", ".join("?" for _ in wanted)
        by_root: dict[int, list[EventSource]] = {root: [] for root in wanted}
        for root, source, release_id, url, first_seen in conn.execute(
            "SELECT coalesce(duplicate_of, id), source, release_id, url, first_seen "
            f"FROM releases WHERE id IN ({marks}) OR duplicate_of IN ({marks}) "
            "ORDER BY first_seen, id",
            [*wanted, *wanted],
        ):
            by_root[root].append(EventSource(source, release_id, url or "", first_seen))
        return {row_id: by_root.get(root, []) for row_id, root in roots.items()}

    def refresh_event(self, row_id: int) -> int | None:
        """Call after a stored release's text or title changed (an article page or an 8-K
        exhibit was read). Its lead is computed again; a release that was an event of its own
        (no copies) and now tells the news of another event joins it, and drops its alerts not
        yet sent on the channels that event alerted on already. Returns the root it joined, or
        None. A copy stays the copy it is: a fuller text never unlinks it."""
        conn = self.db.conn  # type: ignore[attr-defined]
        with self.transaction():  # type: ignore[attr-defined]
            row = conn.execute(
                "SELECT title, text, published_utc, first_seen, duplicate_of FROM releases "
                "WHERE id = ?",
                [row_id],
            ).fetchone()
            if row is None:
                return None
            title, text, published, first_seen, duplicate_of = row
            lead = lead_of(text or "")
            self._set_lead(row_id, lead)
            if duplicate_of is not None or self._has_copies(row_id):
                return None
            root = self._matching_event(row_id, title, lead, published or first_seen)
            if root is not None:
                self._join_event(row_id, root)
            return root

    def _join_event(self, row_id: int, root: int) -> None:
        """Make release `row_id` a copy of event `root`; its pending alerts on channels the
        event alerted on already are dropped (a copy never alerts twice)."""
        conn = self.db.conn  # type: ignore[attr-defined]
        conn.execute("UPDATE releases SET duplicate_of = ? WHERE id = ?", [root, row_id])
        conn.execute(
            "DELETE FROM alerts WHERE release = ? AND status = 'pending' AND channel IN ("
            "SELECT a.channel FROM alerts a JOIN releases r ON r.id = a.release "
            "WHERE coalesce(r.duplicate_of, r.id) = ? AND a.release != ?)",
            [row_id, root, row_id],
        )

    def is_copy(self, row_id: int) -> bool:
        """True when stored release `row_id` repeats an event stored before: it never alerts."""
        return self.event_root(row_id) != row_id

    def _has_copies(self, row_id: int) -> bool:
        found = self.db.conn.execute(  # type: ignore[attr-defined]
            "SELECT 1 FROM releases WHERE duplicate_of = ? LIMIT 1", [row_id]
        ).fetchone()
        return found is not None

    def _matching_event(self, row_id: int, title: str, lead: str, when: str) -> int | None:
        """The root of another stored event telling the same news as `row_id`, if any."""
        window = _window(when)
        if window is None:
            return None
        by_title = self.db.conn.execute(  # type: ignore[attr-defined]
            "SELECT coalesce(duplicate_of, id) FROM releases WHERE title_key = ? "
            "AND sort_time BETWEEN ? AND ? AND coalesce(duplicate_of, id) != ? ORDER BY id LIMIT 1",
            [title_key(title), *window, row_id],
        ).fetchone()
        if by_title:
            return by_title[0]
        symbols = [
            row[0]
            for row in self.db.conn.execute(  # type: ignore[attr-defined]
                "SELECT DISTINCT symbol FROM release_tickers WHERE release = ?", [row_id]
            )
        ]
        for candidate in self._event_candidates(symbols, window):
            if candidate.root != row_id and same_news(title, lead, candidate.title, candidate.lead):
                return candidate.root
        return None

    def query_events(self, query: ReleaseQuery) -> list[dict]:
        """Releases matching `query`, one row per event (its root when the root matches, else
        the first matching copy), each with `sources`: every wire and URL of its event."""
        wanted = query.offset + query.limit
        fetch = wanted
        while True:
            rows = run_query(self.db, replace(query, offset=0, limit=fetch))
            events = _one_per_event(rows)
            if len(events) >= wanted or len(rows) < fetch:
                break
            fetch *= 2
        events = events[query.offset : wanted]
        sources = self.events_sources(row["id"] for row in events)
        from monitor.store import _decode  # here: monitor.store imports this module

        return [
            _decode(row) | {"sources": [_source_dict(s) for s in sources.get(row["id"], [])]}
            for row in events
        ]


def _one_per_event(rows: list[dict]) -> list[dict]:
    """The rows in their order, one per event: the root's row where it is among them."""
    chosen: dict[int, dict] = {}
    for row in rows:
        root = row.get("duplicate_of") or row["id"]
        if root not in chosen or row["id"] == root:
            chosen[root] = row  # keeps the event's place: the first of its rows
    return list(chosen.values())


def _source_dict(source: EventSource) -> dict:
    return {"source": source.source, "release_id": source.release_id, "url": source.url}
