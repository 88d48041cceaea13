"""When to poll a feed next: interval with jitter, backoff on failures, Retry-After, max-age.

Pure functions of the previous state, the fetch result and the time: no I/O, easy to test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from monitor.fetch import fresh_for_seconds, retry_after_seconds
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
