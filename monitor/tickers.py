"""Ticker symbols: exchange-name normalisation and dateline parentheticals like `(Nasdaq: CLRB)`."""

from __future__ import annotations

import re

from monitor.models import Ticker

# Spellings seen on the wires -> one canonical name. Keys are upper-case with spaces/dashes removed.
_EXCHANGE_ALIASES = {
    "NASDAQ": "NASDAQ",
    "NASDAQGS": "NASDAQ",
    "NASDAQGM": "NASDAQ",
    "NASDAQCM": "NASDAQ",
    "NYSE": "NYSE",
    "NYSEAMERICAN": "NYSEAMERICAN",
    "NYSEAMEX": "NYSEAMERICAN",
    "NYSEMKT": "NYSEAMERICAN",
    "NYSEALTERNEXT": "NYSEAMERICAN",
    "AMEX": "NYSEAMERICAN",
    "OTC": "OTC",
    "OTCMARKETS": "OTC",
    "OTHEROTC": "OTC",
    "OTCQB": "OTC",
    "OTCQX": "OTC",
    "OTCBB": "OTC",
    "OTCPINK": "OTC",
    "TSX": "TSX",
    "TSXV": "TSXV",
    "TSXVENTURE": "TSXV",
    "FRANKFURT": "FRA",
    "FRA": "FRA",
    "FSE": "FRA",
    "XETRA": "XETRA",
    "PARIS": "EURONEXTPARIS",
    "EURONEXTPARIS": "EURONEXTPARIS",
    "EURONEXTLISBON": "EURONEXTLISBON",
    "EURONEXTBRUSSELS": "EURONEXTBRUSSELS",
    "EURONEXTAMSTERDAM": "EURONEXTAMSTERDAM",
    "SWX": "SIX",
    "SIX": "SIX",
    "COPENHAGEN": "COPENHAGEN",
    "STOCKHOLM": "STOCKHOLM",
    "HELSINKI": "HELSINKI",
    "HEX": "HELSINKI",
    "OSLO": "OSLO",
    "SHENZHEN": "SHENZHEN",
    "BMV": "BMV",
    "ASX": "ASX",
    "LSE": "LSE",
    "AIM": "AIM",
    "TASE": "TASE",
    "CSE": "CSE",
}

_SQUASH = re.compile(r"[\s\-_.]+")


def normalise_exchange(name: str) -> str:
    """`Nasdaq` -> `NASDAQ`, `NYSE American` -> `NYSEAMERICAN`, `OTC Markets` -> `OTC`."""
    key = _SQUASH.sub("", name.strip().upper())
    return _EXCHANGE_ALIASES.get(key, key)


def parse_ticker(value: str) -> Ticker | None:
    """`Nasdaq:CLRB` or `CLRB` -> Ticker; split on the first colon (exchanges may hold spaces)."""
    exchange, sep, symbol = value.strip().partition(":")
    if not sep:
        exchange, symbol = "", exchange
    symbol = symbol.strip().upper()
    if not symbol or not re.fullmatch(r"[A-Z0-9][A-Z0-9.\-/]{0,14}", symbol):
        return None
    return Ticker(normalise_exchange(exchange) if exchange.strip() else "", symbol)


# `(Nasdaq: CLRB)`, `(NASDAQ:AEZS) (TSX:AEZS)`, `(TSXV: PGZ; OTCQB: PGZFF; FRA: 2EU)`.
# Only known exchange names count, so "(Note: see below)" is never a ticker.
_EXCHANGE_WORD = (
    r"(?:Nasdaq|NASDAQ|NYSE(?:\s+(?:American|Amex|MKT|Arca))?|NYSEAMERICAN|AMEX"
    r"|OTC(?:QB|QX|BB)?|OTC\s+Markets|TSX-?V|TSX|FRA|Frankfurt|ASX|LSE|AIM|TASE|SIX|Euronext\s+\w+)"
)
_PAREN = re.compile(r"\(([^()]{2,120})\)")
_PAIR = re.compile(rf"(?<![\w])({_EXCHANGE_WORD})\s*:\s*([A-Z][A-Z0-9.\-]{{0,9}})\b")


def dateline_tickers(text: str, limit: int = 3000) -> tuple[Ticker, ...]:
    """Tickers named in parentheticals near the start of a release (the dateline)."""
    found: list[Ticker] = []
    for paren in _PAREN.finditer(text[:limit]):
        for exchange, symbol in _PAIR.findall(paren.group(1)):
            ticker = Ticker(normalise_exchange(exchange), symbol.upper())
            if ticker not in found:
                found.append(ticker)
    return tuple(found)
