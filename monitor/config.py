"""Load and validate the TOML config into frozen dataclasses; every problem is a ConfigError."""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import ConfigError
from monitor.models import Ticker
from monitor.paths import (  # noqa: F401 (where the config file is: kept importable from here)
    APP_NAME,
    DEFAULT_CONFIG,
    ConfigChoice,
    default_db_path,
    find_config,
    resolve_path,
    user_config_path,
    user_data_dir,
)
from monitor.tickers import parse_ticker

DEFAULT_USER_AGENT = "biomon/0.1 (+https://github.com/biomon/biomon; set [poll] user_agent)"


@dataclass(frozen=True)
class StorageConfig:
    """[storage]: the database file, and how long a writer waits for another's lock."""

    path: Path
    busy_timeout: float = 30.0  # seconds a writer waits for another process's write lock


@dataclass(frozen=True)
class PollConfig:
    """[poll]: the broad feeds, how often and how politely they are fetched, and the limits."""

    interval: int = 60
    user_agent: str = DEFAULT_USER_AGENT
    feeds: tuple[str, ...] = ()
    timeout: float = 20.0  # seconds, connect and read, and the total deadline of one fetch
    max_bytes: int = 15 * 1024 * 1024
    workers: int = 16  # feeds fetched at once, over all hosts
    per_host: int = 2  # requests in flight per host
    host_gap: float = 0.5  # seconds between request starts to one host
    backoff_max: float = 3600.0  # longest wait after repeated failures
    stale_factor: float = 6.0  # stale when the newest item is older than this many median gaps
    stale_after: float = 86400.0  # stale when no success for this many seconds
    page_size: int = 50  # items per page when paging back (GlobeNewswire /max/N/start/M)
    page_limit: int = 20  # pages fetched at most when filling a gap
    # Article pages (wires whose feed cuts the text: PR Newswire, Business Wire, SEC exhibits)
    article_max_bytes: int = 5 * 1024 * 1024  # a larger page fails (the summary stays)
    article_attempts: int = 8  # failed fetches of one page before it is given up


@dataclass(frozen=True)
class WatchConfig:
    """One watchlist entry, and the alert rule it makes."""

    ticker: Ticker | None = None  # None: a pure keyword/tag rule
    company: str = ""
    feeds: tuple[str, ...] = ()
    alert_tags: tuple[str, ...] = ()  # empty: every tag
    keywords: tuple[str, ...] = ()  # words or exact phrases; any one must appear
    exclude: tuple[str, ...] = ()  # words or phrases; none may appear
    channels: tuple[str, ...] = ()  # empty: every enabled channel
    email_to: tuple[str, ...] = ()  # its email goes to these instead of [notify.email] to
    paging: bool = False  # its feeds take GlobeNewswire's /max/N/start/M, so gaps can be filled
    query: str = ""  # a query (or @saved-query) the release must also match
    cik: int | None = None  # SEC's Central Index Key (EDGAR); `biomon watch add` fills it
    remind_days: tuple[int, ...] = ()  # alert this many days before a catalyst window opens

    @property
    def label(self) -> str:
        """How alerts name this rule: the ticker, else the company, else its tags and words."""
        if self.ticker:
            return self.ticker.symbol
        if self.company:
            return self.company
        return " + ".join([*self.alert_tags, *self.keywords, *([self.query] if self.query else [])])

    @property
    def email_channel(self) -> str:
        """The channel its email goes out on: "email", or its own recipients' channel."""
        return email_route(self.email_to) if self.email_to else "email"

    def matches_ticker(self, tickers: tuple[Ticker, ...]) -> bool:
        """True when a release listing `tickers` is about this watch's ticker."""
        if self.ticker is None:
            return False
        return any(
            t.symbol == self.ticker.symbol
            and (not self.ticker.exchange or t.exchange == self.ticker.exchange)
            for t in tickers
        )


@dataclass(frozen=True)
class ChannelConfig:
    """One channel: its type (`kind`, the module in monitor/notify/), its own settings, and
    what every channel has: quiet hours (local time), digests, urgent tags and templates."""

    name: str  # what alerts are queued under: "email", "webhook", "phone", "apprise:ntfy-1a2b..."
    enabled: bool = False
    quiet_hours: tuple[dt.time, dt.time] | None = None  # start, end; may wrap midnight
    timezone: str = "UTC"
    digest_minutes: int = 0  # 0: one message per alert
    settings: tuple[tuple[str, Any], ...] = ()  # channel-specific keys (email: host, port, ...)
    digest_at: dt.time | None = None  # digest = "daily 07:30": once a day at this local time
    kind: str = ""  # "" means the name (desktop, email, webhook)
    urgent_tags: tuple[str, ...] = ()  # alerts with one of these tags skip quiet hours, digests
    subject: str = ""  # templates (monitor/notify/templates.py); "" keeps the channel's own
    body: str = ""
    body_html: str = ""
    route: bool = False  # made for a [[watch]]'s email_to: never a default channel

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", self.name)

    def setting(self, key: str, default: Any = None) -> Any:
        return dict(self.settings).get(key, default)


@dataclass(frozen=True)
class NotifyConfig:
    """[notify]: every channel (a [notify.<kind>] table makes one or more), and the retries."""

    channels: tuple[ChannelConfig, ...] = ()
    max_attempts: int = 8  # then the alert is marked failed
    retry_base: float = 30.0  # seconds; doubled after every failed attempt, capped at 1 hour
    warnings: tuple[str, ...] = ()  # said when channels are built: e.g. urls_env not set

    def channel(self, name: str) -> ChannelConfig | None:
        return next((c for c in self.channels if c.name == name), None)

    @property
    def enabled(self) -> tuple[str, ...]:
        """The enabled channels a [[watch]] without `channels` sends to (routes excluded)."""
        return tuple(c.name for c in self.channels if c.enabled and not c.route)

    @property
    def names(self) -> tuple[str, ...]:
        """Every channel's name, enabled or not."""
        return tuple(c.name for c in self.channels)


@dataclass(frozen=True)
class DaemonConfig:
    """`biomon run`: when to poll faster, how often to deliver, when to raise the alarm."""

    busy_hours: tuple[tuple[dt.time, dt.time], ...] = (
        (dt.time(6, 0), dt.time(9, 30)),
        (dt.time(16, 0), dt.time(20, 0)),
    )
    timezone: str = "America/New_York"
    idle_interval: float = 0.0  # seconds between polls outside busy hours; 0: 4 x interval
    deliver_every: float = 5.0  # seconds between outbox runs
    heartbeat_every: float = 30.0  # seconds between heartbeats written to the database
    heartbeat_after: float = 1800.0  # alarm when no poll succeeded for this long; 0: never
    heartbeat_channel: str = "email"
    reload_every: float = 2.0  # seconds between checks of the config file for edits


SEC_BASE_URL = "https://www.sec.gov"


# EDGAR's latest-filings feeds: every company's new filings of one form, newest first. Two
# requests per pass whatever the watchlist's size (per-company feeds are for backfill only).
SEC_LATEST_PATH = "/cgi-bin/browse-edgar?action=getcurrent&type={form}&count=100&output=atom"
SEC_LATEST_FORMS = ("8-K", "6-K")  # `type=` is a prefix filter: 8-K/A and 6-K/A come along


@dataclass(frozen=True)
class SourcesConfig:
    """[sources.<wire>]: where a wire's fixed URLs are, for mirrors and tests."""

    sec_base_url: str = SEC_BASE_URL  # [sources.sec] base_url: the ticker map, EDGAR
    sec_enabled: bool = False  # [sources.sec] enabled: poll EDGAR's latest filings
    sec_user_agent: str = ""  # [sources.sec] user_agent; "" means [poll] user_agent

    @cached_property
    def sec_netloc(self) -> str:
        """The host[:port] of `sec_base_url` (asked per request: worked out once)."""
        return urlsplit(self.sec_base_url).netloc.lower()

    def sec_latest_feeds(self) -> tuple[str, ...]:
        """EDGAR's latest 8-K and 6-K filings feeds ([sources.sec] enabled), else none."""
        if not self.sec_enabled:
            return ()
        return tuple(
            self.sec_base_url + SEC_LATEST_PATH.format(form=form) for form in SEC_LATEST_FORMS
        )


@dataclass(frozen=True)
class Config:
    """One config file, read and checked: what `load_config` returns."""

    path: Path
    storage: StorageConfig
    poll: PollConfig = PollConfig()
    watch: tuple[WatchConfig, ...] = ()
    notify: NotifyConfig = NotifyConfig()
    daemon: DaemonConfig = DaemonConfig()
    queries: tuple[tuple[str, str], ...] = ()  # [queries]: saved queries by name
    # [classify.patterns]: extra regular expressions per tag, built-in or declared new
    tag_patterns: tuple[tuple[str, tuple[str, ...]], ...] = ()
    new_tags: tuple[str, ...] = ()  # [classify] new_tags: tags the user adds to the built-in ones
    sources: SourcesConfig = SourcesConfig()  # [sources.<wire>]
    ics_path: Path | None = None  # [catalysts] ics_path: `biomon run` keeps this .ics current
    # Feeds whose wire is named explicitly (`{ url = "...", source = "prnewswire" }`) or implied
    # (EDGAR's latest-filings feeds of [sources.sec]); any other feed's wire is its host's.
    feed_sources: tuple[tuple[str, str], ...] = ()

    def saved_query(self, name: str) -> str | None:
        """The text of the saved query `name` (with or without a leading @), if any."""
        return dict(self.queries).get(name.lstrip("@"))

    def paged_feeds(self) -> frozenset[str]:
        """Feeds that can be paged back after downtime."""
        return frozenset(url for watch in self.watch if watch.paging for url in watch.feeds)

    def feed_urls(self) -> tuple[str, ...]:
        """Every feed to poll, broad feeds first, each once (EDGAR's latest filings last)."""
        urls = list(self.poll.feeds)
        for watch in self.watch:
            urls.extend(watch.feeds)
        urls.extend(self.sources.sec_latest_feeds())
        return tuple(dict.fromkeys(urls))

    def source_name(self, url: str) -> str | None:
        """The wire `url` was named with in the config, or None (its host decides)."""
        return self._named_sources.get(url)

    @cached_property
    def _named_sources(self) -> dict[str, str]:
        # Asked once per feed per pass: a dict built once, not per question.
        named = dict.fromkeys(self.sources.sec_latest_feeds(), "sec")
        named.update(self.feed_sources)
        return named

    @property
    def sec_user_agent(self) -> str:
        """The User-Agent of every request to SEC: [sources.sec] user_agent, else [poll]'s."""
        return self.sources.sec_user_agent or self.poll.user_agent


def load_config(path: str | os.PathLike) -> Config:
    """Read and validate one config file; raise ConfigError naming the file and key."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            path, None, "file not found; write one with `biomon init` or pass --config PATH"
        ) from None
    except OSError as error:
        raise ConfigError(path, None, f"cannot read: {error.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(path, None, "not UTF-8 text; save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(path, None, f"invalid TOML: {error}") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """Validate an already-parsed TOML document."""
    check = _Checker(path)
    check.keys(
        data,
        "",
        {"storage", "poll", "watch", "classify", "notify", "daemon", "queries", "sources"}
        | {"catalysts"},
    )
    base = path.parent

    storage = check.table(data, "storage")
    check.keys(storage, "storage", {"path", "busy_timeout"})
    # No path: the user data folder (the database lives with the user, not the config).
    # A relative path is relative to this file's folder; `~` is the home folder.
    db_path = check.get(storage, "storage", "path", str, None, nonempty=True)
    # SQLite takes the busy timeout in milliseconds as a C int: a day is plenty.
    busy_timeout = float(
        check.get(storage, "storage", "busy_timeout", (int, float), 30.0, minimum=0, maximum=86400)
    )

    poll = check.table(data, "poll")
    check.keys(poll, "poll", {f.name for f in fields(PollConfig)})
    number = (int, float)
    poll_config = PollConfig(
        interval=check.get(poll, "poll", "interval", int, 60, minimum=1),
        user_agent=check.get(poll, "poll", "user_agent", str, DEFAULT_USER_AGENT, nonempty=True),
        feeds=check.feeds(poll, "poll", "feeds"),
        timeout=float(check.get(poll, "poll", "timeout", (int, float), 20.0, minimum=0.1)),
        max_bytes=check.get(
            poll, "poll", "max_bytes", int, 15 * 1024 * 1024, minimum=1024, maximum=2**32
        ),
        workers=check.get(poll, "poll", "workers", int, 16, minimum=1, maximum=1000),
        per_host=check.get(poll, "poll", "per_host", int, 2, minimum=1, maximum=100),
        host_gap=float(check.get(poll, "poll", "host_gap", number, 0.5, minimum=0)),
        backoff_max=float(check.get(poll, "poll", "backoff_max", number, 3600, minimum=1)),
        stale_factor=float(check.get(poll, "poll", "stale_factor", number, 6, minimum=1)),
        stale_after=float(check.get(poll, "poll", "stale_after", number, 86400, minimum=60)),
        page_size=check.get(poll, "poll", "page_size", int, 50, minimum=1, maximum=1000),
        page_limit=check.get(poll, "poll", "page_limit", int, 20, minimum=1),
        article_max_bytes=check.get(
            poll, "poll", "article_max_bytes", int, 5 * 1024 * 1024, minimum=1024, maximum=2**32
        ),
        article_attempts=check.get(
            poll, "poll", "article_attempts", int, 8, minimum=1, maximum=100
        ),
    )

    classify = check.table(data, "classify")
    check.keys(classify, "classify", {"patterns", "new_tags"})
    patterns = check.table(classify, "patterns")
    check.new_tags = check.declared_tags(classify, patterns)
    queries = check.queries(check.table(data, "queries"))  # tags in them need new_tags read
    check.saved = dict(queries)
    tag_patterns = check.patterns(patterns, "classify.patterns")
    notify = check.notify(check.table(data, "notify"))  # before [[watch]]: it names channels
    watches = data.get("watch", [])
    if not isinstance(watches, list):
        raise ConfigError(path, "watch", "must be an array of tables: write [[watch]]")
    watch_configs = tuple(check.watch(entry, f"watch[{i}]") for i, entry in enumerate(watches))
    check.unique_tickers(watch_configs)
    notify = check.routes(notify, watch_configs)
    sources = _sources_config(check, data.get("sources", {}))
    _check_sec_contact(check, sources, poll_config)
    return Config(
        path=path,
        storage=StorageConfig(
            path=(base / Path(db_path).expanduser()).resolve() if db_path else default_db_path(),
            busy_timeout=busy_timeout,
        ),
        poll=poll_config,
        watch=watch_configs,
        notify=notify,
        daemon=check.daemon(check.table(data, "daemon")),
        queries=queries,
        tag_patterns=tag_patterns,
        new_tags=check.new_tags,
        sources=sources,
        feed_sources=tuple(check.feed_sources.items()),
        ics_path=_ics_path(check, check.table(data, "catalysts"), base),
    )


def email_route(recipients: Iterable[str]) -> str:
    """The channel of a [[watch]]'s own email recipients: `email:` and the sorted addresses.

    Named by the recipients, not the watch: renaming or reordering watches keeps it, and two
    watches with the same recipients share it (one mail per release).
    """
    return "email:" + ",".join(sorted(set(recipients)))


# Every number has an upper bound: huge values overflow timedelta, socket timeouts and SQLite's
# busy timeout far from the config file. 1e9 seconds is about 31 years.
NUMBER_MAX = 1_000_000_000
# NUL and other C0/C1 controls break paths, headers and SQLite text. Queries, phrases and
# regular expressions may span lines (tab, CR, LF); every other value is one line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _control_problem(value: str, multiline: bool = False) -> str | None:
    """Why `value` cannot be used: a NUL or other control character (tab/newline: multiline)."""
    found = (_CONTROL_BUT_WHITESPACE if multiline else _CONTROL).search(value)
    if found:
        return (
            f"contains the control character U+{ord(found.group()):04X} "
            f"at position {found.start()}; remove it"
        )
    return None


def _url_problem(url: str) -> str | None:
    """Why `url` cannot be fetched, in words; None for an absolute http(s) URL with a host."""
    if not url.startswith(("http://", "https://")):
        return f"not an http(s) URL: {url!r}"
    if any(c.isspace() for c in url):
        return f"not a valid URL: {url!r} has a space; write it as %20"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range or not a number)
    except ValueError as error:
        return f"not a valid URL: {url!r} ({error})"
    if not parts.hostname:
        return f"not a valid URL: {url!r} has no host"
    return None


_TAG_NAME = re.compile(r"[a-z][a-z0-9_-]{0,30}")
NEW_TAGS_HINT = "new tags go in [classify] new_tags"


def tag_problem(name: str, new_tags: Iterable[str] = (), *, hint: bool = False) -> str | None:
    """Why `name` is no tag a user may write (alert_tags, [classify.patterns] keys, `tag:` in a
    query), in one line: "unknown tag 'grnat'; did you mean 'grant'?", or the list of tags when
    none is near. None for a built-in tag or one of `new_tags` (the config's [classify]
    new_tags). `hint`: say where new tags are declared even when a tag is near."""
    from monitor.classify import KNOWN_TAGS, suggest_tag  # lazily: `biomon --help` needs none

    known = (*KNOWN_TAGS, *new_tags)
    if name in known:
        return None
    nearest = suggest_tag(name, known)
    if nearest:
        tail = f" ({NEW_TAGS_HINT})" if hint else ""
        return f"unknown tag {name!r}; did you mean {nearest!r}?{tail}"
    return f"unknown tag {name!r}; the tags are {', '.join(known)} ({NEW_TAGS_HINT})"


def _address_problem(address: str) -> str | None:
    return None if "@" in address else f"{address!r} is not an email address (no @)"


def _regex_problem(pattern: str) -> str | None:
    try:
        re.compile(pattern)
    except re.error as error:
        return f"bad regular expression {pattern!r}: {error}"
    return None


def _bounds(limits: tuple[float, float] | None) -> dict[str, float]:
    return {"minimum": limits[0], "maximum": limits[1]} if limits else {}


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}


def _type_name(value: Any) -> str:
    return {
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _sources_config(check: _Checker, table: Any) -> SourcesConfig:
    """[sources.sec] base_url: SEC's ticker map and EDGAR elsewhere (a mirror, a test server)."""
    if not isinstance(table, dict):
        raise check.fail("sources", f"must be a table ([sources.sec]), got {_type_name(table)}")
    check.keys(table, "sources", {"sec"})
    sec = table.get("sec", {})
    if not isinstance(sec, dict):
        raise check.fail("sources.sec", f"must be a table ([sources.sec]), got {_type_name(sec)}")
    check.keys(sec, "sources.sec", {"base_url", "enabled", "user_agent"})
    base_url = check.get(sec, "sources.sec", "base_url", str, SEC_BASE_URL, nonempty=True).strip()
    problem = _url_problem(base_url)
    if problem:
        raise check.fail("sources.sec.base_url", problem)
    return SourcesConfig(
        sec_base_url=base_url.rstrip("/"),
        sec_enabled=check.get(sec, "sources.sec", "enabled", bool, False),
        sec_user_agent=check.get(sec, "sources.sec", "user_agent", str, "", nonempty=True).strip(),
    )


def _check_sec_contact(check: _Checker, sources: SourcesConfig, poll: PollConfig) -> None:
    """SEC's fair-access rule: when biomon reads EDGAR, its User-Agent names a contact."""
    uses_sec = sources.sec_enabled or "sec" in check.feed_sources.values()
    if not uses_sec:
        from monitor.sources import recognise

        uses_sec = any(
            (found := recognise(url)) is not None and found.name == "sec"
            for url in check.all_feeds
            if url not in check.feed_sources
        )
    if not uses_sec:
        return
    from monitor.sources.sec_tickers import user_agent_problem

    problem = user_agent_problem(sources.sec_user_agent or poll.user_agent)
    if problem:
        key = "sources.sec.user_agent" if sources.sec_user_agent else "poll.user_agent"
        raise check.fail(key, f"SEC EDGAR is polled and {problem}")


def _ics_path(check: _Checker, table: dict, base: Path) -> Path | None:
    """[catalysts] ics_path, relative to the config file's folder."""
    check.keys(table, "catalysts", {"ics_path"})
    value = check.get(table, "catalysts", "ics_path", str, None, nonempty=True)
    return (base / Path(value).expanduser()).resolve() if value else None


def _remind_days(check: _Checker, entry: dict, where: str) -> tuple[int, ...]:
    """`remind_days = [7, 1]`: whole days before a catalyst window opens, 0 to 365."""
    days = entry.get("remind_days", [])
    if not isinstance(days, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 365 for d in days
    ):
        raise check.fail(f"{where}.remind_days", "must be a list of whole days 0-365, e.g. [7, 1]")
    return tuple(sorted(set(days), reverse=True))


def _watch_cik(check: _Checker, entry: dict, where: str) -> int | None:
    """A [[watch]]'s `cik`: 1279704, or EDGAR's zero-padded "0001279704"."""
    value = entry.get("cik")
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,10}\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise check.fail(
            f"{where}.cik",
            f'expected SEC\'s CIK, a number: cik = 1279704 (or "0001279704"), got {value!r}',
        )
    check.number(value, f"{where}.cik", 1, 9_999_999_999)
    return value


class _Checker:
    """Small validators that raise ConfigError with the file and dotted key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saved: dict[str, str] = {}
        self.new_tags: tuple[str, ...] = ()  # [classify] new_tags, read before anything names tags
        self.channel_groups: dict[str, tuple[str, ...]] = {}  # channel or type -> channels
        self.feed_sources: dict[str, str] = {}  # feed URL -> the wire named for it
        self.all_feeds: list[str] = []  # every feed URL read, in order

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.path, key, message)

    def keys(self, table: dict, where: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                dotted = f"{where}.{key}" if where else key
                raise self.fail(
                    dotted, f"unknown key; expected one of: {', '.join(sorted(allowed))}"
                )

    def table(self, data: dict, key: str) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table ([{key}]), got {_type_name(value)}")
        return value

    def get(
        self,
        table,
        where,
        key,
        types,
        default,
        *,
        minimum=None,
        maximum=NUMBER_MAX,
        nonempty=False,
        multiline=False,
    ):
        """table[key] checked: its type, a finite number within bounds, text without controls."""
        dotted = f"{where}.{key}"
        if key not in table:
            return default
        value = table[key]
        types_tuple = types if isinstance(types, tuple) else (types,)
        # bool is an int in Python, never a valid number here.
        if (
            isinstance(value, bool)
            and bool not in types_tuple
            or not isinstance(value, types_tuple)
        ):
            expected = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types_tuple)
            raise self.fail(dotted, f"expected {expected}, got {_type_name(value)} {value!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.number(value, dotted, minimum, maximum)
        if isinstance(value, str):
            problem = _control_problem(value, multiline)
            if problem:
                raise self.fail(dotted, problem)
            if nonempty and not value.strip():
                raise self.fail(dotted, "must not be empty")
        return value

    def number(self, value: float, dotted: str, minimum: float | None, maximum: float | None):
        # TOML allows inf and nan; both compare False against any bound, so test them first.
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(dotted, f"must be a finite number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(dotted, f"must be at least {minimum}, got {value!r}")
        if maximum is not None and value > maximum:
            raise self.fail(dotted, f"must be at most {maximum:g}, got {value!r}")

    def strings(
        self,
        table: dict,
        where: str,
        key: str,
        check: Callable[[str], str | None] | None = None,
        *,
        multiline: bool = False,
    ) -> tuple[str, ...]:
        dotted = f"{where}.{key}"
        values = table.get(key, [])
        if not isinstance(values, list):
            raise self.fail(dotted, f"expected an array of strings, got {_type_name(values)}")
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.fail(f"{dotted}[{i}]", f"expected a string, got {_type_name(value)}")
            problem = _control_problem(value, multiline) or (check(value) if check else None)
            if problem:
                raise self.fail(f"{dotted}[{i}]", problem)
        return tuple(values)

    def urls(self, table: dict, where: str, key: str) -> tuple[str, ...]:
        return self.strings(table, where, key, _url_problem)

    def feeds(self, table: dict, where: str, key: str) -> tuple[str, ...]:
        """Feed entries: a URL (its wire known by its host; any other host is read as
        GlobeNewswire's format, as biomon always did), or `{ url = "...", source = "..." }`."""
        dotted = f"{where}.{key}"
        values = table.get(key, [])
        if not isinstance(values, list):
            raise self.fail(dotted, f"expected an array of URLs, got {_type_name(values)}")
        urls = []
        for i, value in enumerate(values):
            if isinstance(value, dict):
                url = self.named_feed(value, f"{dotted}[{i}]")
            elif isinstance(value, str):
                url = value
                self.check_url(url, f"{dotted}[{i}]")
            else:
                raise self.fail(
                    f"{dotted}[{i}]",
                    f'expected a string (a URL) or {{ url = "...", source = "..." }}, '
                    f"got {_type_name(value)}",
                )
            urls.append(url)
        self.all_feeds += urls
        return tuple(urls)

    def check_url(self, url: str, dotted: str) -> None:
        problem = _control_problem(url) or _url_problem(url)
        if problem:
            raise self.fail(dotted, problem)

    def named_feed(self, entry: dict, dotted: str) -> str:
        """`{ url = "...", source = "prnewswire" }`: a feed whose wire is named (a mirror)."""
        from monitor.sources import SOURCE_NAMES

        self.keys(entry, dotted, {"url", "source"})
        url = self.get(entry, dotted, "url", str, "", nonempty=True).strip()
        if not url:
            raise self.fail(f"{dotted}.url", 'missing; write { url = "https://...", source = ... }')
        self.check_url(url, f"{dotted}.url")
        name = self.get(entry, dotted, "source", str, "", nonempty=True).strip().lower()
        if name not in SOURCE_NAMES:
            raise self.fail(
                f"{dotted}.source",
                f"unknown source {name!r}; use one of: {', '.join(SOURCE_NAMES)}",
            )
        if self.feed_sources.get(url, name) != name:
            raise self.fail(
                f"{dotted}.source",
                f"{url} is already named {self.feed_sources[url]!r}; name each feed's wire once",
            )
        self.feed_sources[url] = name
        return url

    def queries(self, table: dict) -> tuple[tuple[str, str], ...]:
        result = []
        for name, text in table.items():
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", name):
                raise self.fail(f"queries.{name}", "names are letters, digits, - or _")
            if not isinstance(text, str):
                raise self.fail(f"queries.{name}", f"expected a string, got {_type_name(text)}")
            problem = _control_problem(text, multiline=True)
            if problem:
                raise self.fail(f"queries.{name}", problem)
            self.query(text, f"queries.{name}")
            result.append((name, text))
        return tuple(result)

    def query(self, text: str, key: str) -> None:
        """A query (`[queries]`, a [[watch]]'s `query`) must parse and name only known tags."""
        from monitor.query import QueryError, parse_query

        try:
            parse_query(text, tag_problem=lambda tag: tag_problem(tag, self.new_tags))
        except QueryError as error:
            raise self.fail(key, str(error)) from None

    def declared_tags(self, classify: dict, patterns: dict) -> tuple[str, ...]:
        """[classify] new_tags: each a tag name, not a built-in one, with patterns to earn it."""
        from monitor.classify import KNOWN_TAGS

        names = self.strings(classify, "classify", "new_tags")
        for i, name in enumerate(names):
            key = f"classify.new_tags[{i}]"
            if not _TAG_NAME.fullmatch(name):
                raise self.fail(key, f"{name!r}: tag names are lower-case letters, digits, - or _")
            if name in KNOWN_TAGS:
                raise self.fail(
                    key,
                    f"{name!r} is a built-in tag; list only new tags here (its patterns "
                    "go in [classify.patterns] as they are)",
                )
            if not patterns.get(name):
                raise self.fail(
                    key,
                    f'new tag {name!r} has no patterns; add {name} = ["regex", ...] '
                    "under [classify.patterns]",
                )
        return tuple(dict.fromkeys(names))

    def patterns(self, table: dict, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        result = []
        for tag in table:
            if not _TAG_NAME.fullmatch(tag):
                raise self.fail(
                    f"{where}.{tag}", "tag names are lower-case letters, digits, - or _"
                )
            problem = tag_problem(tag, self.new_tags, hint=True)
            if problem:
                raise self.fail(f"{where}.{tag}", problem)
            result.append((tag, self.strings(table, where, tag, _regex_problem, multiline=True)))
        return tuple(result)

    def tags(self, entry: dict, where: str, key: str) -> tuple[str, ...]:
        """An array of tag names (lower-cased), each built-in or declared in new_tags."""
        values = self.strings(entry, where, key)
        names = tuple(value.strip().lower() for value in values)
        for i, name in enumerate(names):
            problem = tag_problem(name, self.new_tags)
            if problem:
                raise self.fail(f"{where}.{key}[{i}]", problem)
        return names

    def watch(self, entry: Any, where: str) -> WatchConfig:
        if not isinstance(entry, dict):
            raise self.fail(where, f"must be a table, got {_type_name(entry)}")
        self.keys(entry, where, {f.name for f in fields(WatchConfig)})
        ticker = None
        if "ticker" in entry:
            raw_ticker = self.get(entry, where, "ticker", str, "", nonempty=True)
            ticker = parse_ticker(raw_ticker)
            if ticker is None:
                raise self.fail(
                    f"{where}.ticker",
                    f'not a ticker: {raw_ticker!r}; write "CLRB" or "NASDAQ:CLRB"',
                )
        watch = WatchConfig(
            ticker=ticker,
            company=self.get(entry, where, "company", str, "").strip(),
            feeds=self.feeds(entry, where, "feeds"),
            alert_tags=self.tags(entry, where, "alert_tags"),
            keywords=self.phrases(entry, where, "keywords"),
            exclude=self.phrases(entry, where, "exclude"),
            channels=self.watch_channels(entry, where),
            email_to=self.strings(entry, where, "email_to", _address_problem),
            paging=self.get(entry, where, "paging", bool, False),
            query=self.get(entry, where, "query", str, "", multiline=True).strip(),
            cik=_watch_cik(self, entry, where),
            remind_days=_remind_days(self, entry, where),
        )
        if watch.query:
            text = (
                self.saved.get(watch.query.lstrip("@"))
                if watch.query.startswith("@")
                else watch.query
            )
            if text is None:
                raise self.fail(f"{where}.query", f"no saved query {watch.query!r} in [queries]")
            self.query(text, f"{where}.query")
        if watch.email_to and watch.channels and "email" not in watch.channels:
            raise self.fail(
                f"{where}.email_to",
                'its channels leave out email; add "email" to channels, or drop email_to',
            )
        if not (watch.ticker or watch.company or watch.keywords or watch.alert_tags or watch.query):
            raise self.fail(
                where,
                "needs a ticker, a company, keywords, alert_tags or a query to match releases",
            )
        return watch

    def phrases(self, entry: dict, where: str, key: str) -> tuple[str, ...]:
        values = self.strings(entry, where, key, multiline=True)
        return tuple(value.strip() for value in values if value.strip())

    def unique_tickers(self, watches: tuple[WatchConfig, ...]) -> None:
        """Two [[watch]] entries on one ticker would alert twice; name both."""
        seen: dict[tuple[str, str], int] = {}
        for index, watch in enumerate(watches):
            if watch.ticker is None:
                continue
            for (symbol, exchange), first in seen.items():
                # "CLRB" (any exchange) and "NASDAQ:CLRB" watch the same releases.
                if symbol == watch.ticker.symbol and (
                    exchange == watch.ticker.exchange or not exchange or not watch.ticker.exchange
                ):
                    raise self.fail(
                        f"watch[{index}].ticker",
                        f"{watch.ticker.symbol} is already watched by watch[{first}]; "
                        "merge the two [[watch]] entries into one",
                    )
            seen[(watch.ticker.symbol, watch.ticker.exchange)] = index

    def notify(self, table: dict) -> NotifyConfig:
        """[notify]: a table per channel type (monitor/notify/registry.py), retries, urgent tags."""
        from monitor.notify.registry import channel_types

        types = channel_types()
        self.keys(table, "notify", {*types, "max_attempts", "retry_base", "urgent_tags"})
        urgent = self.tags(table, "notify", "urgent_tags")
        channels: list[ChannelConfig] = []
        warnings: list[str] = []
        for kind, channel_type in types.items():
            if kind in table:
                section = self.table(table, kind)
                channels += self.channel_section(channel_type, section, urgent, warnings)
            else:
                channels.append(ChannelConfig(name=kind))
        # What a [[watch]]'s channels may name: a channel, or a type for all of its channels.
        self.channel_groups = {
            kind: tuple(c.name for c in channels if c.kind == kind) for kind in types
        }
        self.channel_groups |= {c.name: (c.name,) for c in channels}
        return NotifyConfig(
            channels=tuple(channels),
            max_attempts=self.get(table, "notify", "max_attempts", int, 8, minimum=1, maximum=1000),
            retry_base=float(self.get(table, "notify", "retry_base", (int, float), 30, minimum=1)),
            warnings=tuple(warnings),
        )

    def channel_section(
        self, channel_type: Any, section: dict, urgent: tuple[str, ...], warnings: list[str]
    ) -> list[ChannelConfig]:
        """The channels one [notify.<kind>] table makes, its keys checked as its type declares."""
        from monitor.notify.registry import COMMON_KEYS, HTML_KEYS, SettingError

        kind = channel_type.kind
        where = f"notify.{kind}"
        html_keys = HTML_KEYS if channel_type.html else ()
        self.keys(section, where, {*COMMON_KEYS, *html_keys, *channel_type.keys})
        settings = {
            key: self.channel_setting(section, where, key, spec)
            for key, spec in channel_type.keys.items()
        }
        enabled = self.get(section, where, "enabled", bool, True)
        common = {
            "enabled": enabled,
            "quiet_hours": self.quiet_hours(section, where),
            "timezone": self.timezone(section, where),
            "digest_minutes": self.get(section, where, "digest_minutes", int, 0, minimum=0),
            "digest_at": self.daily(section, where),
            "urgent_tags": (
                self.tags(section, where, "urgent_tags") if "urgent_tags" in section else urgent
            ),
            "subject": self.template(section, where, "subject"),
            "body": self.template(section, where, "body"),
            "body_html": self.template(section, where, "body_html"),
        }
        try:
            if enabled:
                channel_type.check(settings)
            made = channel_type.instances(settings, os.environ, warnings.append)
        except SettingError as error:
            raise self.fail(f"{where}.{error.key}", error.message) from None
        return [
            ChannelConfig(name=name, kind=kind, settings=tuple(own.items()), **common)
            for name, own in made
        ]

    def channel_setting(self, section: dict, where: str, key: str, spec: Any) -> Any:
        """One key of a channel's table, checked against its `registry.Key`."""
        dotted = f"{where}.{key}"
        types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
        value = section.get(key)
        if dict in types and isinstance(value, dict):
            for name, text in value.items():
                if not isinstance(text, str):
                    raise self.fail(
                        f"{dotted}.{name}", f"expected a string, got {_type_name(text)}"
                    )
                problem = _control_problem(name) or _control_problem(text)
                if problem:
                    raise self.fail(f"{dotted}.{name}", problem)
            return tuple(value.items())
        if list in types:
            if key in section and not isinstance(value, list):
                table = " or a table" if dict in types else ""
                raise self.fail(
                    dotted, f"expected an array of strings{table}, got {_type_name(value)}"
                )
            return self.strings(section, where, key, spec.check) if key in section else ()
        value = self.get(section, where, key, spec.type, spec.default, **_bounds(spec.bounds))
        if isinstance(value, str) and value:
            if spec.choices and value not in spec.choices:
                raise self.fail(dotted, f"must be one of {', '.join(spec.choices)}, not {value!r}")
            problem = spec.check(value) if spec.check else None
            if problem:
                raise self.fail(dotted, problem)
        return value

    def daily(self, section: dict, where: str) -> dt.time | None:
        """`digest = "daily 07:30"`: the local time of a channel's daily digest."""
        value = self.get(section, where, "digest", str, "")
        if not value:
            return None
        match = re.fullmatch(r"\s*daily\s+(\d{1,2}):(\d{2})\s*", value)
        try:
            if not match:
                raise ValueError
            at = dt.time(int(match.group(1)), int(match.group(2)))
        except ValueError:
            raise self.fail(f"{where}.digest", f'{value!r}: write "daily 07:30"') from None
        if section.get("digest_minutes"):
            raise self.fail(f"{where}.digest", "set digest or digest_minutes, not both")
        return at

    def template(self, section: dict, where: str, key: str) -> str:
        """A message template (subject, body, body_html): every field it names must exist."""
        from monitor.notify.templates import template_problem

        text = self.get(section, where, key, str, "", multiline=key != "subject")
        problem = template_problem(text) if text else None
        if problem:
            raise self.fail(f"{where}.{key}", problem)
        return text

    def watch_channels(self, entry: dict, where: str) -> tuple[str, ...]:
        """A [[watch]]'s channels, a channel type standing for all its channels."""
        result: list[str] = []
        for i, name in enumerate(self.strings(entry, where, "channels")):
            group = self.channel_groups.get(name)
            if group is None:
                raise self.fail(
                    f"{where}.channels[{i}]",
                    f"unknown channel {name!r}; use one of: {', '.join(self.channel_groups)}",
                )
            # A type with no channels now (urls_env unset) stays named: it matches nothing,
            # where an empty list would mean every channel.
            result += group or (name,)
        return tuple(dict.fromkeys(result))

    def routes(self, notify: NotifyConfig, watches: tuple[WatchConfig, ...]) -> NotifyConfig:
        """A channel per distinct `email_to` of the watches: [notify.email] with its own `to`."""
        email = notify.channel("email")
        if email is None:
            return notify
        made: dict[str, ChannelConfig] = {}
        for watch in watches:
            if watch.email_to and watch.email_channel not in made:
                settings = tuple(
                    (key, watch.email_to if key == "to" else value) for key, value in email.settings
                )
                made[watch.email_channel] = replace(
                    email, name=watch.email_channel, kind="email", settings=settings, route=True
                )
        return replace(notify, channels=notify.channels + tuple(made.values()))

    def quiet_hours(self, section: dict, where: str) -> tuple[dt.time, dt.time] | None:
        value = self.get(section, where, "quiet_hours", str, "")
        return self.time_range(value, f"{where}.quiet_hours") if value else None

    def time_range(self, value: str, key: str) -> tuple[dt.time, dt.time]:
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", value)
        try:
            if not match:
                raise ValueError
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            return dt.time(h1, m1), dt.time(h2, m2)
        except ValueError:
            raise self.fail(key, f'{value!r} is not a time range; write "22:00-07:00"') from None

    def daemon(self, table: dict) -> DaemonConfig:
        self.keys(table, "daemon", {f.name for f in fields(DaemonConfig)})
        number, default = (int, float), DaemonConfig()
        hours = default.busy_hours
        if "busy_hours" in table:
            ranges = self.strings(table, "daemon", "busy_hours")
            hours = tuple(
                self.time_range(v, f"daemon.busy_hours[{i}]") for i, v in enumerate(ranges)
            )
        channel = self.get(table, "daemon", "heartbeat_channel", str, "email")
        if channel not in self.channel_groups:
            raise self.fail(
                "daemon.heartbeat_channel",
                f"unknown channel {channel!r}; use one of: {', '.join(self.channel_groups)}",
            )

        def seconds(key: str, minimum: float) -> float:
            return float(
                self.get(table, "daemon", key, number, getattr(default, key), minimum=minimum)
            )

        return DaemonConfig(
            busy_hours=hours,
            timezone=self.timezone(table, "daemon") if "timezone" in table else default.timezone,
            idle_interval=seconds("idle_interval", 0),
            deliver_every=seconds("deliver_every", 0.2),
            heartbeat_every=seconds("heartbeat_every", 0.2),
            heartbeat_after=seconds("heartbeat_after", 0),
            heartbeat_channel=channel,
            reload_every=seconds("reload_every", 0.2),
        )

    def timezone(self, section: dict, where: str) -> str:
        import zoneinfo  # here: it reads sysconfig, and most configs name no time zone

        name = self.get(section, where, "timezone", str, "UTC")
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise self.fail(
                f"{where}.timezone", f"unknown time zone {name!r}; write e.g. America/New_York"
            ) from None
        return name
