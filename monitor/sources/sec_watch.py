"""Which EDGAR filings biomon keeps: those of watched companies, with the watched tickers.

EDGAR's latest-filings feeds list every company's 8-Ks and 6-Ks (two requests a pass, whatever
the watchlist's size); a filing is kept when its filer's CIK is watched: a [[watch]]'s `cik`,
else its ticker mapped to a CIK through SEC's `company_tickers.json` (`sec_tickers`). A kept
filing gets the watch's ticker, so the ticker rules match it like any wire release (EDGAR's
feed names no ticker). A per-company feed (`action=getcompany&CIK=...`) is one company's by
construction: its filings are all kept, with tickers where the CIK is watched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from monitor.config import Config
from monitor.models import Release, Ticker
from monitor.sources.sec import cik_of, is_latest_feed
from monitor.sources.sec_tickers import (
    TickerMap,
    TickerMapError,
    cache_path,
    get_ticker_map,
    map_url,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchedFilers:
    """Watched CIKs and the tickers a filing of each gets."""

    tickers: Mapping[int, tuple[Ticker, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # tickers that map to no CIK, a ticker map not had

    def keep(self, release: Release, feed_url: str) -> Release | None:
        """The filing with its watched tickers; None for an unwatched filer in the latest feed."""
        cik = cik_of(release)
        if cik is None or cik not in self.tickers:
            return None if is_latest_feed(feed_url) else release
        found = tuple(dict.fromkeys((*release.tickers, *self.tickers[cik])))
        return replace(release, tickers=found)


def watched_filers(config: Config, load_map: Callable[[], TickerMap]) -> WatchedFilers:
    """The watched filers of `config`: `cik` where given, else the ticker through the map
    (`load_map` is called only when some watched ticker has no `cik`)."""
    tickers: dict[int, list[Ticker]] = {}
    unmapped: list[Ticker] = []
    for watch in config.watch:
        if watch.cik is not None:
            tickers.setdefault(watch.cik, []).extend([watch.ticker] if watch.ticker else [])
        elif watch.ticker is not None:
            unmapped.append(watch.ticker)
    warnings: list[str] = []
    if unmapped:
        try:
            ticker_map = load_map()
        except TickerMapError as error:
            warnings.append(f"{error}; EDGAR filings of {len(unmapped)} watched tickers missed")
        else:
            if ticker_map.warning:
                warnings.append(ticker_map.warning)
            missing = _map_tickers(ticker_map, unmapped, tickers)
            if missing:
                warnings.append(
                    f"not in SEC's ticker map: {', '.join(missing)}; give their [[watch]] a cik "
                    "to read their EDGAR filings"
                )
    frozen = {cik: tuple(dict.fromkeys(found)) for cik, found in tickers.items()}
    return WatchedFilers(frozen, tuple(warnings))


def _map_tickers(
    ticker_map: TickerMap, unmapped: list[Ticker], tickers: dict[int, list[Ticker]]
) -> list[str]:
    missing = []
    for ticker in unmapped:
        company = ticker_map.lookup(ticker.symbol)
        if company is None:
            missing.append(ticker.symbol)
        else:
            tickers.setdefault(company.cik, []).append(ticker)
    return missing


def filter_for(config: Config) -> Callable[[Release, str], Release | None]:
    """`WatchedFilers.keep` for `config`, SEC's map read through its daily cache with SEC's
    User-Agent; problems are logged once, here."""

    def load_map() -> TickerMap:
        return get_ticker_map(
            map_url(config.sources.sec_base_url),
            config.sec_user_agent,
            cache_path(config),
            timeout=config.poll.timeout,
        )

    watched = watched_filers(config, load_map)
    for warning in watched.warnings:
        log.warning("SEC EDGAR: %s", warning)
    return watched.keep
