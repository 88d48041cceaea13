"""Records that cross module boundaries (frozen dataclasses, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date


@dataclass(frozen=True)
class Ticker:
    """One listing of an issuer: normalised exchange (may be empty) and symbol."""

    exchange: str
    symbol: str

    def __str__(self) -> str:
        return f"{self.exchange}:{self.symbol}" if self.exchange else self.symbol


@dataclass(frozen=True)
class Release:
    """One press release as read from a wire feed."""

    source: str  # the wire, e.g. "globenewswire"
    release_id: str  # the wire's own id (GlobeNewswire: dc:identifier)
    url: str
    title: str
    summary_html: str
    text: str
    published_utc: str | None  # ISO 8601, "2026-09-11T23:43:00Z"; None when unparseable
    published_raw: str
    issuer: str = ""
    language: str = ""
    subjects: tuple[str, ...] = ()
    tickers: tuple[Ticker, ...] = ()
    feed_url: str = ""


@dataclass(frozen=True)
class FetchResult:
    """What one HTTP fetch of a feed gave: a body, or a one-line error."""

    url: str
    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    error: str | None = None
    elapsed: float = 0.0
    moved_to: str | None = None  # the new URL after a permanent redirect (301/308)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class FeedState:
    """What biomon remembers of one feed between polls (the `feeds` table)."""

    url: str  # as configured: the identity of the feed
    fetch_url: str = ""  # where to fetch it now (changed by permanent redirects)
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    consecutive_failures: int = 0
    not_before: str | None = None  # ISO UTC: no request before this (Retry-After, backoff)
    next_poll: str | None = None  # ISO UTC: the regular schedule, with jitter
    disabled: str | None = None  # why the feed is no longer polled (HTTP 410)
    last_success: str | None = None
    last_page_fill: str | None = None

    @property
    def target(self) -> str:
        return self.fetch_url or self.url


@dataclass(frozen=True)
class ParseResult:
    """Releases read from one feed body, items that could not be read, and warnings."""

    releases: tuple[Release, ...]
    failed_items: int = 0  # == len(failures)
    warning: str | None = None  # every warning on one line ("; "-joined `warnings`), or None
    known_ids: tuple[str, ...] = ()  # items already stored, left unparsed
    # Items lost, one line each: "item 3 (id 2800004): ValueError: ..." (position in the body).
    failures: tuple[str, ...] = ()
    # Items kept with a problem: "item 2 (id 2800004): date out of range (...): 'Fri, 31 Dec 9999'".
    flagged: tuple[str, ...] = ()
    # Feed-wide warnings: feedparser's bozo exception when entries were still usable, "invalid
    # UTF-8 at byte 1234 replaced (1 byte)", "2 invalid character references replaced", ...
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedReport:
    """The outcome of polling one feed once."""

    url: str
    new: int = 0
    already: int = 0
    failed: int = 0
    error: str | None = None
    warning: str | None = None
    elapsed: float = 0.0
    skipped: str | None = None  # why nothing was parsed: "not modified", "unchanged", "waiting"
    moved_to: str | None = None
    status: int | None = None
    failures: tuple[str, ...] = ()  # ParseResult.failures: the `failed` items, one line each
    flagged: tuple[str, ...] = ()  # ParseResult.flagged: items stored with a problem


@dataclass(frozen=True)
class PollReport:
    """The outcome of one pass over every feed."""

    feeds: tuple[FeedReport, ...]

    @property
    def new(self) -> int:
        return sum(f.new for f in self.feeds)

    @property
    def failed_feeds(self) -> int:
        return sum(1 for f in self.feeds if f.error)


@dataclass(frozen=True)
class Facts:
    """What an analyst scans a release for."""

    tickers: tuple[str, ...] = ()  # "NASDAQ:CLRB"
    amounts: tuple[str, ...] = ()  # "$2 million", "EUR 10 million"
    phases: tuple[str, ...] = ()  # "Phase 1a", "pivotal"
    trial_names: tuple[str, ...] = ()  # "CLOVER-1"
    nct_ids: tuple[str, ...] = ()  # "NCT02952508"
    agencies: tuple[str, ...] = ()  # "NCI", "BARDA"
    counterparties: tuple[str, ...] = ()  # "Wisconsin Alumni Research Foundation (WARF)"

    def to_dict(self) -> dict[str, list[str]]:
        # Not dataclasses.asdict: its deep copy cost more than storing the release's tags.
        return {f.name: list(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Catalyst:
    """One upcoming event named in a release, with its date window and the sentence saying so.

    Here (not in monitor.classify) because a Classification carries them to the store, which
    imports nothing above the models.
    """

    kind: str  # one of monitor.classify.catalysts.KINDS
    program: str | None  # drug or candidate: "cytisinicline", "SGX942", "Rekynda"
    trial: str | None  # trial name where stated: "DOM-INNATE"
    phase: str | None  # "1", "2b", "1/2", "3"
    date_text: str  # the date as written: "in the second half of 2025"
    window_start: str  # ISO date, inclusive
    window_end: str  # ISO date, inclusive
    # day, days, month_part, month, quarter, half, season, early, mid, late, year_end, year, range
    precision: str
    evidence: str  # the sentence

    @property
    def start(self) -> date:
        return date.fromisoformat(self.window_start)

    @property
    def end(self) -> date:
        return date.fromisoformat(self.window_end)

    @property
    def key(self) -> tuple[str, str]:
        """What a later release about the same event shares: kind and program, case-folded."""
        return self.kind, (self.program or "").casefold()

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Catalyst:
        """The inverse of `to_dict` (keys it does not know are ignored)."""
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Outcome:
    """An event a release reports as having happened (an approval, topline results...): it
    meets the stored catalysts of these kinds for the program."""

    kinds: tuple[str, ...]  # the catalyst kinds it meets: ("pdufa", "regulatory_decision")
    program: str | None
    evidence: str  # the sentence
    label: str  # what happened, in a word or two: "approval", "complete response letter"


@dataclass(frozen=True)
class Classification:
    """Tags of one release, the headline's tag, the sentences that earned each tag, and facts."""

    primary: str
    tags: tuple[str, ...]
    evidence: tuple[tuple[str, tuple[str, ...]], ...]  # ((tag, (sentence, ...)), ...) in tag order
    facts: Facts = Facts()
    # Filled when the publication date is known (relative dates are read against it).
    catalysts: tuple[Catalyst, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    # Where the boilerplate starts in the text (characters): the store's full-text index holds
    # text[:news_end] only. None: not known, the whole text is indexed.
    news_end: int | None = None

    def evidence_for(self, tag: str) -> tuple[str, ...]:
        return dict(self.evidence).get(tag, ())

    def to_dict(self) -> dict:
        return {
            "primary": self.primary,
            "tags": list(self.tags),
            "evidence": {tag: list(sentences) for tag, sentences in self.evidence},
            "facts": self.facts.to_dict(),
        }


@dataclass(frozen=True)
class AlertContent:
    """What an alert says about one release (built from the store; rendered by notifiers)."""

    source: str
    release_id: str
    title: str
    url: str
    tickers: tuple[str, ...]  # "NASDAQ:CLRB"
    issuer: str
    primary: str
    tags: tuple[str, ...]
    evidence: tuple[tuple[str, tuple[str, ...]], ...]  # ((tag, (sentence, ...)), ...)
    facts: Facts
    published_utc: str | None  # "2026-11-25T16:05:00Z"
    rule: str  # the watch that matched, e.g. "CLRB" or "licensing + radiopharmaceutical"
    ticker: str = ""  # the watched symbol to lead the title with, e.g. "CLRB"
    # Every place the event was printed, first seen first: (source, release id, url).
    sources: tuple[tuple[str, str, str], ...] = ()
    catalyst: CatalystNote | None = None  # a catalyst reminder or date change, not a release


@dataclass(frozen=True)
class CatalystNote:
    """What a catalyst alert says: a reminder N days ahead, or a date that moved."""

    reason: str  # "reminder" or "moved"
    ticker: str
    kind: str
    program: str
    date_text: str  # as written: "PDUFA target action date of March 15, 2026"
    window_start: str  # ISO dates, inclusive
    window_end: str
    evidence: str
    days_before: int | None = None  # a reminder: how many days before the window opens
    old_window: tuple[str, str] | None = None  # a move: the window before it


@dataclass(frozen=True)
class Message:
    """A rendered notification: a short title (email subject), plain text and HTML bodies."""

    title: str
    text: str
    html: str
    # The alerts it tells of, for channels that send data rather than prose (the webhook).
    contents: tuple[AlertContent, ...] = ()
    digest: str = ""  # the period of a digest ("60 minutes"); "" for a single alert
