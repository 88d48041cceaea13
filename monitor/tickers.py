"""Ticker symbols: the one vocabulary of exchange names, and tickers written in text.

Every place that reads an exchange name uses this module: feed stock categories
(`Nasdaq:CLRB`), the config's `ticker = "NYSE American:PTN"`, queries (`ticker:NASDAQ:CLRB`),
dateline parentheticals (`(Nasdaq GS: DLT)`, `(TSX-V: PGZ; OTCQB: PGZFF)`) and the
classifier's facts. So one listing has one name wherever it was read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from monitor.models import Ticker

# Normal form -> the spellings releases, feeds and users write for it. In a spelling, a space,
# dash or dot between two parts stands for any run of spaces, dashes and dots, or none: "TSX-V"
# also reads "TSXV", "TSX.V" and "TSX V"; "Nasdaq GS" also reads "NasdaqGS" and "Nasdaq-GS".
# Found in text: an all-caps spelling ("AIM", "SIX", "OTC BB") only in capitals, so "Aim:" or
# "six:" in a sentence is never an exchange; a spelling with lower-case letters in any case
# ("Nasdaq" reads "NASDAQ" and "nasdaq"). Normalising a name (`normalise_exchange`) ignores
# case, spaces, dashes and dots.
EXCHANGES: dict[str, tuple[str, ...]] = {
    "NASDAQ": (
        "Nasdaq", "Nasdaq GS", "Nasdaq GM", "Nasdaq CM", "Nasdaq Global Select Market",
        "Nasdaq Global Select", "Nasdaq Global Market", "Nasdaq Capital Market",
        "Nasdaq Stock Market",
    ),
    "NYSE": ("NYSE", "New York Stock Exchange"),
    "NYSEAMERICAN": (
        "NYSE American", "NYSE Amex", "NYSE MKT", "NYSE Alternext", "NYSE Alternext US",
        "AMEX", "American Stock Exchange",
    ),
    "NYSEARCA": ("NYSE Arca",),
    "OTC": (
        "OTC", "OTCQB", "OTCQX", "OTC BB", "OTC Pink", "OTC Markets", "Other OTC",
        "OTC Bulletin Board", "Pink Sheets",
    ),
    "TSX": ("TSX", "Toronto Stock Exchange"),
    "TSXV": ("TSX-V", "TSX Venture", "TSX Venture Exchange"),
    "CSE": ("CSE", "Canadian Securities Exchange"),
    "NEO": ("NEO", "Cboe Canada"),
    "ASX": ("ASX", "Australian Securities Exchange"),
    "LSE": ("LSE", "London Stock Exchange"),
    "AIM": ("AIM", "LSE AIM"),
    "EURONEXT": ("Euronext",),
    "EURONEXTPARIS": ("Euronext Paris", "Paris"),
    "EURONEXTBRUSSELS": ("Euronext Brussels", "Brussels"),
    "EURONEXTAMSTERDAM": ("Euronext Amsterdam", "Amsterdam"),
    "EURONEXTLISBON": ("Euronext Lisbon", "Lisbon"),
    "EURONEXTDUBLIN": ("Euronext Dublin",),
    "EURONEXTGROWTH": ("Euronext Growth",),
    "OSLO": ("Oslo", "Oslo Børs", "Oslo Bors", "Euronext Oslo"),
    "STOCKHOLM": ("Nasdaq Stockholm", "Stockholm", "Nasdaq OMX Stockholm"),
    "COPENHAGEN": ("Nasdaq Copenhagen", "Copenhagen"),
    "HELSINKI": ("Nasdaq Helsinki", "Helsinki", "HEX"),
    "FIRSTNORTH": ("Nasdaq First North", "First North", "Nasdaq First North Growth Market"),
    "FRA": ("FRA", "FSE", "Frankfurt", "Frankfurt Stock Exchange"),
    "XETRA": ("Xetra",),
    "SIX": ("SIX", "SWX", "SIX Swiss Exchange"),
    "TASE": ("TASE", "Tel Aviv Stock Exchange"),
    "HKEX": ("HKEX", "SEHK", "HKSE", "Hong Kong Stock Exchange"),
    "KOSDAQ": ("KOSDAQ",),
    "KRX": ("KRX", "Korea Exchange"),
    "SHENZHEN": ("Shenzhen", "SZSE"),
    "BMV": ("BMV",),
}  # fmt: skip

_SQUASH = re.compile(r"[\s\-_.]+")


def _key(name: str) -> str:
    return _SQUASH.sub("", name.strip().upper())


_NORMAL: dict[str, str] = {
    _key(spelling): normal
    for normal, spellings in EXCHANGES.items()
    for spelling in (normal, *spellings)
}


def normalise_exchange(name: str) -> str:
    """`Nasdaq GS` -> `NASDAQ`, `NYSE Amex` -> `NYSEAMERICAN`, `OTCQB` -> `OTC`; an unknown
    name in upper case without spaces, dashes or dots."""
    key = _key(name)
    return _NORMAL.get(key, key)


def known_exchange(name: str) -> bool:
    """True when `name` is one of the spellings in EXCHANGES (any case)."""
    return _key(name) in _NORMAL


def parse_ticker(value: str) -> Ticker | None:
    """`Nasdaq:CLRB` or `CLRB` -> Ticker; split on the first colon (exchanges may hold spaces)."""
    exchange, sep, symbol = value.strip().partition(":")
    if not sep:
        exchange, symbol = "", exchange
    symbol = symbol.strip().upper()
    if not symbol or not re.fullmatch(r"[A-Z0-9][A-Z0-9.\-/]{0,14}", symbol):
        return None
    return Ticker(normalise_exchange(exchange) if exchange.strip() else "", symbol)


def _spelling_pattern(spelling: str) -> str:
    parts = [re.escape(part) for part in re.split(r"[\s\-.]+", spelling)]
    pattern = r"[\s\-.]*".join(parts)
    return pattern if spelling.upper() == spelling else f"(?i:{pattern})"


_SPELLINGS = sorted({s for spellings in EXCHANGES.values() for s in spellings}, key=len)
_LONGEST = max(len(s) for s in _SPELLINGS) * 2 + 8  # how far left of a colon to look


@cache  # compiled on first use: `biomon --help` and the config loader never need it
def _exchanges_before() -> re.Pattern[str]:
    """One exchange, or several sharing the symbol (`Nasdaq/AIM`), ending where a search ends.
    Found from each colon leftwards: colons are few, and a search for every exchange name
    through the whole text is slow."""
    one = "|".join(_spelling_pattern(s) for s in reversed(_SPELLINGS))
    return re.compile(rf"(?<!\w)((?:{one})(?:\s*/\s*(?:{one}))*)\s*$")


# After the colon: a symbol (`2EU`, `KDST.TA`, `BRK-B`, maybe quoted: `“SBFM”`), then more
# symbols of the same exchange when a comma, semicolon or `)` ends each: `(NASDAQ: BDSI, BDSIW)`.
_SYM = r"""["“'‘]?([A-Z0-9](?:[A-Z0-9]|[.\-](?=[A-Z0-9])){0,11})(?!\w)["”'’]?"""
_SYMBOL_AFTER = re.compile(rf"\s*{_SYM}")
_MORE_SYMBOLS = re.compile(rf"\s*,\s*{_SYM}(?=\s*(?:[),;]|$))")


def find_tickers(text: str) -> Iterator[Ticker]:
    """Every `<exchange>: <symbol>` in `text`, in order, exchange normalised (repeats kept)."""
    colon = text.find(":")
    while colon >= 0:
        after = _SYMBOL_AFTER.match(text, colon + 1)
        if after:
            before = _exchanges_before().search(text, max(0, colon - _LONGEST), colon)
            if before:
                symbols = [after.group(1)]
                end = after.end()
                while more := _MORE_SYMBOLS.match(text, end):
                    symbols.append(more.group(1))
                    end = more.end()
                for exchange in before.group(1).split("/"):
                    for symbol in symbols:
                        yield Ticker(normalise_exchange(exchange), symbol)
        colon = text.find(":", colon + 1)


_PAREN = re.compile(r"\(([^()]{2,120})\)")


def dateline_tickers(text: str, limit: int = 3000) -> tuple[Ticker, ...]:
    """Tickers in parentheticals near the start of a release (the dateline): `(Nasdaq: CLRB)`,
    `(NASDAQ:AEZS) (TSX:AEZS)`, `(TSXV: PGZ; OTCQB: PGZFF; FRA: 2EU)`. Only known exchange
    names count, so "(Note: see below)" is never a ticker."""
    found: list[Ticker] = []
    for paren in _PAREN.finditer(text[:limit]):
        for ticker in find_tickers(paren.group(1)):
            if ticker not in found:
                found.append(ticker)
    return tuple(found)
