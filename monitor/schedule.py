"""When to poll a feed next: interval with jitter, backoff on failures, Retry-After, max-age.

Pure functions of the previous state, the fetch result and the time: no I/O, easy to test.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from monitor.models import FeedState, FetchResult

ISO = "%Y-%m-%dT%H:%M:%SZ"
_RETRY_STATUSES = {429, 503}


@dataclass(frozen=True)
class Policy:
    interval: float = 60.0
    backoff_max: float = 3600.0  # the longest wait after failures, and the cap on max-age
    jitter: float = 0.1  # up to this fraction of the interval is added to every schedule


def iso(when: datetime) -> str:
    return when.strftime(ISO)


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(value, ISO).replace(tzinfo=UTC)


def after_fetch(
    state: FeedState,
    result: FetchResult,
    *,
    now: datetime,
    policy: Policy,
    rng: random.Random | None = None,
) -> FeedState:
    """The feed's state after `result`: validators, failures, next poll and hard waits."""
    # Here, not at the top: fetch imports httpx, and `biomon status` or `run --help` read
    # parse_iso from this module without fetching anything.
    from monitor.fetch import fresh_for_seconds, retry_after_seconds

    rng = rng or random.Random()
    jitter = timedelta(seconds=rng.uniform(0, policy.jitter * policy.interval))
    next_poll = now + timedelta(seconds=policy.interval) + jitter
    if result.ok:
        not_before = None
        fresh = fresh_for_seconds(result.headers, now)
        if fresh and fresh > policy.interval:
            # The server's freshness is a lower bound, capped so a long max-age cannot hide a day.
            not_before = now + timedelta(seconds=min(fresh, policy.backoff_max))
            next_poll = max(next_poll, not_before)
        headers = result.headers
        return replace(
            state,
            fetch_url=result.moved_to or state.fetch_url,
            etag=headers.get("etag", state.etag if result.not_modified else None),
            last_modified=headers.get(
                "last-modified", state.last_modified if result.not_modified else None
            ),
            consecutive_failures=0,
            not_before=iso(not_before) if not_before else None,
            next_poll=iso(next_poll),
            last_success=iso(now),
        )
    failures = state.consecutive_failures + 1
    wait = 0.0
    if failures > 1:  # one failure may be a blip: retry on the normal schedule
        wait = min(policy.interval * 2 ** (failures - 1), policy.backoff_max)
        wait *= 1 + rng.uniform(0, policy.jitter)
    if result.status in _RETRY_STATUSES:
        retry_after = retry_after_seconds(result.headers.get("retry-after"), now)
        if retry_after is not None:
            wait = max(wait, min(retry_after, 24 * 3600.0))
    not_before = now + timedelta(seconds=wait) if wait else None
    if not_before and not_before > next_poll:
        next_poll = not_before
    return replace(
        state,
        fetch_url=result.moved_to or state.fetch_url,
        consecutive_failures=failures,
        not_before=iso(not_before) if not_before else None,
        next_poll=iso(next_poll),
        disabled=result.error if result.status == 410 else state.disabled,
    )


def waiting_reason(state: FeedState, now: datetime) -> str | None:
    """Why a feed must not be fetched now (disabled, Retry-After or backoff), else None."""
    if state.disabled:
        return f"disabled ({state.disabled}); poll with --force to try again"
    not_before = parse_iso(state.not_before)
    if not_before and not_before > now:
        return (
            f"waiting until {state.not_before} (backoff/Retry-After/max-age); --force to poll now"
        )
    return None


# ---- the daemon's slots: when in each interval a feed is polled


def host_of(url: str) -> str:
    """The host a feed's requests go to (what per-host limits and gaps count by)."""
    return (urlsplit(url).hostname or "").lower()


def _fraction(text: str) -> float:
    """A stable number in [0, 1) for `text` (the same in every process, unlike hash())."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def spread(urls: Iterable[str], interval: float, salt: str = "") -> dict[str, float]:
    """Each feed's phase: its offset in seconds within the poll interval.

    A host's feeds are evenly apart (interval / feeds on that host), so a pass never asks one
    host for several feeds at once: 40 feeds of one wire every 60 s are 1.5 s apart. Where a
    host's first feed sits, and the order of its feeds, come from a hash of the names (and
    `salt`, e.g. the machine's name, so that installations do not all poll at one second):
    the same feed list gives the same phases after a restart.
    """
    by_host: dict[str, list[str]] = {}
    for url in dict.fromkeys(urls):
        by_host.setdefault(host_of(url), []).append(url)
    phases: dict[str, float] = {}
    for host, feeds in by_host.items():
        start = _fraction(f"{salt}|{host}")
        feeds.sort(key=lambda url: _fraction(f"{salt}|{url}"))
        for rank, url in enumerate(feeds):
            phases[url] = ((start + rank / len(feeds)) % 1.0) * interval
    return phases


def next_slot(phase: float, interval: float, after: float) -> float:
    """The first time `phase + k * interval` (seconds since the epoch) later than `after`."""
    return phase + (math.floor((after - phase) / interval) + 1) * interval


def crowded_hosts(urls: Iterable[str], interval: float, host_gap: float) -> dict[str, int]:
    """Hosts with more feeds than `host_gap` lets fit in one interval: {host: feeds}."""
    counts: dict[str, int] = {}
    for url in dict.fromkeys(urls):
        counts[host_of(url)] = counts.get(host_of(url), 0) + 1
    return {host: n for host, n in counts.items() if n * host_gap > interval}


class Slots:
    """The daemon's poll plan: every feed is due once per interval, at its slot.

    Pure bookkeeping with the time passed in (seconds since the epoch); the daemon holds a
    lock around it. `take` hands out the feeds due now and marks them in flight until
    `finished`: a feed is never in two passes at once.
    """

    def __init__(self, salt: str = "") -> None:
        self.salt = salt
        self.interval = 60.0
        self.phases: dict[str, float] = {}
        self.due: dict[str, float] = {}
        self.last_taken: dict[str, float] = {}
        self.in_flight: set[str] = set()

    def plan(
        self, urls: Iterable[str], interval: float, *, now: float, polled: Collection[str] = ()
    ) -> None:
        """Place the feeds (at start and after a config change).

        A feed never polled is due now (its first poll is its backlog); one polled before, or
        whose phase moved, waits for its next slot (at most one interval); the others keep
        their plan.
        """
        urls = list(dict.fromkeys(urls))
        phases = spread(urls, interval, self.salt)
        due: dict[str, float] = {}
        for url in urls:
            if url in self.due and phases[url] == self.phases.get(url):
                due[url] = self.due[url]
            elif url in self.due or url in polled:
                due[url] = next_slot(phases[url], interval, now)
            else:
                due[url] = now
        self.interval, self.phases, self.due = interval, phases, due
        self.last_taken = {url: t for url, t in self.last_taken.items() if url in due}

    def take(
        self, now: float, *, every: float = 0.0, quiet: Callable[[], bool] = lambda: False
    ) -> tuple[str, ...]:
        """The feeds to poll now; each gets its next slot and is in flight until `finished`.

        While `quiet()` (outside busy hours), a feed taken less than `every` seconds ago is
        passed over at its slot.
        """
        interval = self.interval
        is_quiet = None
        taken = []
        for url, at in self.due.items():
            if at > now or url in self.in_flight:
                continue
            # From half an interval on: a feed taken late keeps its phase.
            self.due[url] = next_slot(self.phases[url], interval, now + interval / 2)
            last = self.last_taken.get(url)
            if last is not None and now - last < every - interval / 2:
                if is_quiet is None:
                    is_quiet = quiet()
                if is_quiet:
                    continue
            self.last_taken[url] = now
            taken.append(url)
        self.in_flight.update(taken)
        return tuple(taken)

    def next_due(self, now: float) -> float | None:
        """When to look again: the earliest due time, leaving out feeds in flight that are
        overdue already (the end of their pass says when: see `overdue`). None: no feeds."""
        waiting = [at for url, at in self.due.items() if at > now or url not in self.in_flight]
        return min(waiting) if waiting else None

    def overdue(self, urls: Iterable[str], now: float) -> bool:
        """True when any of `urls` (feeds in a pass) came due again meanwhile."""
        return any(self.due.get(url, now + 1) <= now for url in urls)

    def finished(self, urls: Iterable[str]) -> None:
        """The pass over `urls` is over: they may be taken again."""
        self.in_flight.difference_update(urls)
