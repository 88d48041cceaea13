"""SEC's ticker map (`company_tickers.json`): ticker -> CIK and company name, cached on disk.

One map for all of biomon: `biomon watch add` fills a [[watch]]'s `company` and `cik` from it
and names the nearest tickers for a typo; the SEC EDGAR source maps watched tickers to CIKs with
the same map and the same cache file.

Where: `<[sources.sec] base_url>/files/company_tickers.json` (default https://www.sec.gov; a
mirror or a test server otherwise). SEC's fair-access rules: every request names a contact in
its User-Agent (`[poll] user_agent`; without an e-mail address in it nothing is requested, and
the answer is a one-line config error), and the map is fetched at most once a day: the cache
beside the database (`sec_company_tickers.json`) keeps it with its date and validators, and a
day-old copy is checked with a conditional GET. When SEC cannot be reached, a cached copy of
any age is used with a warning; only without any copy is that an error.

The file: `{"0": {"cik_str": 1279704, "ticker": "CLRB", "title": "Cellectar Biosciences,
Inc."}, ...}`; one entry per ticker, so a company with several share classes has several.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.config import SEC_BASE_URL, Config
from monitor.errors import BiomonError, ConfigError

if TYPE_CHECKING:  # loading a config asks user_agent_problem: it must not import httpx
    import httpx

DEFAULT_BASE_URL = SEC_BASE_URL  # [sources.sec] base_url points elsewhere
MAP_PATH = "/files/company_tickers.json"
CACHE_NAME = "sec_company_tickers.json"
REFRESH_AFTER = timedelta(days=1)  # a copy checked this recently is used without a request
RETRY_AFTER = timedelta(hours=1)  # after a failed refresh, the stale copy serves this long
MAX_BYTES = 64 * 1024 * 1024  # the real file is about 1 MB

# SEC asks for "Sample Company Name AdminContact@<sample company domain>.com".
_EMAIL = re.compile(r"[^\s@<>()\[\];:,\"']+@[^\s@<>()\[\];:,\"']+\.[A-Za-z]{2,}")
# Legal forms and SEC's marks at the end of its titles ("Cellectar Biosciences, Inc.", "Merck &
# Co., Inc.", "ENERGY FOCUS, INC/DE", "VERTEX PHARMACEUTICALS INC / MA", "Laopu Gold Co.
# Ltd./ADR", "SOUTHERN COPPER CORP/"): left out of the company name a [[watch]] matches in the
# issuer's name.
_LEGAL_FORM = re.compile(
    r"(?:[\s,]+(?:inc|incorporated|corp|corporation|co|company|ltd|limited|p\.?l\.?c|llc|l\.?p|"
    r"n\.?v|s\.?a|s\.?p\.?a|a\.?g|se|ab|a[/ ]s|asa|oyj)\.?|\s*/\s*(?:[a-z]{2,5}/?)?|\s+&)\s*$",
    re.IGNORECASE,
)


class TickerMapError(BiomonError):
    """SEC's ticker map cannot be had (no copy on disk and SEC not reachable, or not the map)."""


@dataclass(frozen=True)
class Company:
    """One entry of the map: a ticker, its company's CIK and SEC's name for it."""

    ticker: str
    cik: int
    title: str  # as SEC writes it: "Cellectar Biosciences, Inc."

    @property
    def cik10(self) -> str:
        """The CIK as EDGAR's URLs write it: ten digits, zero-padded."""
        return f"{self.cik:010d}"

    @property
    def name(self) -> str:
        """The company's name without its legal form: "Cellectar Biosciences"."""
        return company_name(self.title)


@dataclass(frozen=True)
class TickerMap:
    """SEC's map as biomon last got it."""

    url: str
    fetched: str  # ISO 8601 UTC: when this copy was downloaded
    companies: Mapping[str, Company] = field(default_factory=dict)  # by upper-case ticker
    warning: str | None = None  # said when a stale copy is used because SEC could not be reached

    def lookup(self, symbol: str) -> Company | None:
        """The entry of `symbol` (any case; "BRK.B" finds SEC's "BRK-B" and the reverse)."""
        symbol = symbol.strip().upper()
        for candidate in (symbol, symbol.replace(".", "-"), symbol.replace("-", ".")):
            if candidate in self.companies:
                return self.companies[candidate]
        return None

    def nearest(self, symbol: str, n: int = 3) -> list[str]:
        """The tickers closest to a mistyped `symbol`, best first (difflib's ratio >= 0.7)."""
        return difflib.get_close_matches(symbol.strip().upper(), self.companies, n, 0.7)

    def tickers_of(self, cik: int) -> list[Company]:
        """Every ticker of one company (share classes, units, warrants), in the map's order."""
        return [company for company in self.companies.values() if company.cik == cik]

    def not_found(self, symbol: str) -> str:
        """The one line that says `symbol` is not in the map, with the nearest tickers."""
        near = self.nearest(symbol)
        text = f"{symbol.strip().upper()!r} is not in SEC's ticker map"
        if not near:
            return f"{text} (no ticker near it)"
        options = near[0] if len(near) == 1 else f"{', '.join(near[:-1])} or {near[-1]}"
        return f"{text}; did you mean {options}?"


def company_name(title: str) -> str:
    """SEC's title without its legal form: "MERCK & CO., INC." -> "MERCK"."""
    name = " ".join(title.split())
    while True:
        shorter = _LEGAL_FORM.sub("", name).rstrip(" ,")
        if shorter == name or not shorter:
            return name
        name = shorter


def user_agent_problem(user_agent: str) -> str | None:
    """Why SEC would refuse this User-Agent (it names no e-mail contact), else None."""
    if _EMAIL.search(user_agent):
        return None
    return (
        f"{user_agent!r} names no contact; SEC answers only requests whose User-Agent has an "
        'e-mail address: write e.g. user_agent = "biomon/0.1 (you@example.com)"'
    )


def map_url(base_url: str = DEFAULT_BASE_URL) -> str:
    return base_url.rstrip("/") + MAP_PATH


def cache_path(config: Config) -> Path:
    """Where the map is cached: beside the database (the user data folder by default)."""
    return config.storage.path.parent / CACHE_NAME


def load_ticker_map(
    config: Config, *, client: httpx.Client | None = None, now: datetime | None = None
) -> TickerMap:
    """SEC's map for `config` ([sources.sec] base_url, [poll] user_agent), from the cache when
    it was checked within a day, else from SEC. A User-Agent without a contact is a ConfigError;
    no copy anywhere is a TickerMapError."""
    problem = user_agent_problem(config.poll.user_agent)
    if problem:
        raise ConfigError(config.path, "poll.user_agent", problem)
    return get_ticker_map(
        map_url(config.sources.sec_base_url),
        config.poll.user_agent,
        cache_path(config),
        timeout=config.poll.timeout,
        client=client,
        now=now,
    )


def get_ticker_map(
    url: str,
    user_agent: str,
    cache_file: Path,
    *,
    timeout: float = 20.0,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> TickerMap:
    """The map at `url`, through the cache file `cache_file` (see the module's docstring)."""
    now = now or datetime.now(UTC)
    cached = _read_cache(cache_file, url)
    if cached is not None:
        checked = _parse_time(cached.get("checked"))
        attempted = _parse_time(cached.get("attempted"))
        if (checked and now - checked < REFRESH_AFTER) or (
            attempted and now - attempted < RETRY_AFTER
        ):
            return _from_cache(cached, url, _stale_warning(url, cached, now) if attempted else None)
    from monitor.fetch import fetch, make_client

    own_client = client is None
    client = client or make_client(user_agent, timeout)
    try:
        result = fetch(
            client,
            url,
            etag=cached.get("etag") if cached else None,
            last_modified=cached.get("last_modified") if cached else None,
            timeout=timeout,
            max_bytes=MAX_BYTES,
        )
    finally:
        if own_client:
            client.close()
    stamp = _iso(now)
    error = result.error
    if result.ok and result.not_modified and cached is not None:
        cached |= {"checked": stamp, "attempted": None}
        _write_cache(cache_file, cached)
        return _from_cache(cached, url)
    if result.ok and not result.not_modified:
        try:
            raw = json.loads(result.body)
            companies = parse_companies(raw)
        except ValueError as problem:
            error = f"not SEC's ticker map ({problem})"
        else:
            entry = {
                "url": url,
                "fetched": stamp,
                "checked": stamp,
                "attempted": None,
                "etag": result.headers.get("etag"),
                "last_modified": result.headers.get("last-modified"),
                "map": raw,
            }
            warning = _write_cache(cache_file, entry)
            return TickerMap(url=url, fetched=stamp, companies=companies, warning=warning)
    elif result.ok:
        error = f"HTTP {result.status} without a copy of the map on disk"
    if result.status == 403:
        error += " (SEC refuses a User-Agent without a contact, and more than 10 requests/s)"
    if cached is not None:
        cached["attempted"] = stamp
        _write_cache(cache_file, cached)
        return _from_cache(cached, url, _stale_warning(url, cached, now, error))
    raise TickerMapError(f"SEC's ticker map {url}: {error}")


def parse_companies(raw: Any) -> dict[str, Company]:
    """company_tickers.json (already JSON-decoded) -> {ticker: Company}; ValueError if it is
    not that file. Entries without a ticker, a CIK or a title are left out."""
    entries = raw.values() if isinstance(raw, dict) else raw if isinstance(raw, list) else None
    if entries is None:
        raise ValueError(f"expected a JSON object of entries, got {type(raw).__name__}")
    companies: dict[str, Company] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        ticker, cik, title = entry.get("ticker"), entry.get("cik_str"), entry.get("title")
        if isinstance(cik, str) and cik.strip().isdigit():
            cik = int(cik)
        if not (isinstance(ticker, str) and ticker.strip() and isinstance(title, str)):
            continue
        if isinstance(cik, bool) or not isinstance(cik, int) or cik <= 0:
            continue
        symbol = ticker.strip().upper()
        companies.setdefault(symbol, Company(symbol, cik, " ".join(title.split())))
    if not companies:
        raise ValueError("no entry with cik_str, ticker and title")
    return companies


def _from_cache(cached: dict, url: str, warning: str | None = None) -> TickerMap:
    return TickerMap(
        url=url,
        fetched=cached["fetched"],
        companies=parse_companies(cached["map"]),
        warning=warning,
    )


def _stale_warning(url: str, cached: dict, now: datetime, error: str | None = None) -> str:
    fetched = _parse_time(cached.get("fetched"))
    age = f", {(now - fetched).days} days old" if fetched and now - fetched >= REFRESH_AFTER else ""
    why = f" ({error})" if error else ""
    return (
        f"SEC's ticker map could not be refreshed from {url}{why}; using the copy of "
        f"{cached['fetched'][:10]}{age}"
    )


def _read_cache(path: Path, url: str) -> dict | None:
    """The cached entry for `url`, or None (no file, another URL, unreadable or damaged)."""
    try:
        cached = json.loads(path.read_bytes())
        if cached.get("url") != url or not isinstance(cached.get("fetched"), str):
            return None
        parse_companies(cached["map"])
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return None
    return cached


def _write_cache(path: Path, entry: dict) -> str | None:
    """Write the cache file whole or not at all; a warning (not an error) when it cannot."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only here: it imports shutil, bz2, lzma (config loads import us)

        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(entry, out, ensure_ascii=False, separators=(",", ":"))
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
    except OSError as error:
        return f"{path}: cannot keep SEC's ticker map there ({error.strerror or error})"
    return None


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
