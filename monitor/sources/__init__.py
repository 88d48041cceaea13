"""Wire sources: how one wire's feed items become Release records.

One module per wire, each exporting `PLUGIN` (a `monitor.sources.base.Source`):

- `globenewswire` (GlobeNewswire RSS, tickers from `rss/stock` categories)
- `prnewswire` (PR Newswire RSS: cut summaries, full text from the article page)
- `businesswire` (Business Wire RSS: cut summaries, cashtags, `/news/home/<id>/`)
- `sec` (SEC EDGAR Atom: 8-K, 8-K/A, 6-K filings; exhibit 99.1 as a release)

`source_for(url, explicit)` picks the source of a configured feed. Adding a wire: one module
here with its `PLUGIN`, one line in `_MODULES`, plus its tests.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from monitor.sources.base import Source

# name -> module; the order is the order hosts are tried in.
_MODULES = {
    "globenewswire": "monitor.sources.globenewswire",
    "prnewswire": "monitor.sources.prnewswire",
    "businesswire": "monitor.sources.businesswire",
    "sec": "monitor.sources.sec",
}
SOURCE_NAMES: tuple[str, ...] = tuple(_MODULES)
DEFAULT = "globenewswire"  # a feed on no known host (a local test server) is read as before


class UnknownSource(ValueError):  # noqa: N818 - reads as "unknown source 'x'"
    """An explicit `source = "..."` that names no wire."""


@cache
def get(name: str) -> Source:
    """The source called `name` (one of SOURCE_NAMES); UnknownSource otherwise."""
    key = (name or "").strip().lower()
    if key not in _MODULES:
        raise UnknownSource(f"unknown source {name!r}: expected one of {', '.join(SOURCE_NAMES)}")
    return importlib.import_module(_MODULES[key]).PLUGIN


def all_sources() -> tuple[Source, ...]:
    return tuple(get(name) for name in SOURCE_NAMES)


def recognise(url: str) -> Source | None:
    """The source whose host `url` is on, or None."""
    for source in all_sources():
        if source.recognises(url):
            return source
    return None


def source_for(url: str, explicit: str | None = None, default: str | None = DEFAULT) -> Source:
    """The source of a feed: the one named explicitly (`{ url = ..., source = "prnewswire" }`,
    for mirrors and tests), else the one whose host the URL is on, else `default`
    (GlobeNewswire, as biomon read every feed before; None: raise UnknownSource)."""
    if explicit:
        return get(explicit)
    found = recognise(url)
    if found is not None:
        return found
    if default is None:
        raise UnknownSource(f'no source recognises {url!r}: name one with source = "..."')
    return get(default)
