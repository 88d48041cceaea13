"""Message templates: `subject`, `body` and (email) `body_html` per channel, in string.Template.

`$ticker: $title` with the fields of one alert (FIELDS). string.Template rather than Jinja2:
no dependency, nothing in a template can run code or loop, and every field a template names is
known when the config loads, so a template that loads can never fail at send time. The fields
are already formatted (lists joined, dates written out), which is what loops would be for.

Values are cleaned of control and bidi characters; in `body_html` each value is HTML-escaped
(and `$url` is empty unless it is an http(s) link), while the template's own markup is kept.
"""

from __future__ import annotations

import html
import string
from datetime import UTC, datetime

from monitor.models import AlertContent
from monitor.notify.render import (
    FACT_LABELS,
    clean_text,
    latency_line,
    lead_symbol,
    one_line,
    safe_href,
)

# name: what it holds (shown in the error for an unknown field, and in the README)
FIELDS = {
    "title": "the release's headline",
    "lead": "the watched symbol, else the first ticker's symbol, else the rule",
    "ticker": "the watched symbol ('' for keyword and tag rules)",
    "tickers": "every ticker of the release: NASDAQ:CLRB, NYSE:ABC",
    "issuer": "the company that issued the release",
    "primary": "the headline's tag",
    "tags": "every tag, the primary one first: licensing, trial",
    "evidence": "the first sentence that earned the primary tag, unless it is the headline",
    "facts": "amounts, phases, trials, NCT ids, agencies, counterparties, on one line",
    "url": "the release's link",
    "published": "2026-11-25 16:05 UTC, or unknown",
    "latency": "published 16:05 UTC, alerted 16:05:48 UTC",
    "rule": "the watch that matched",
    "source": "the wire, e.g. globenewswire",
    "release_id": "the wire's id of the release",
}


def template_problem(text: str) -> str | None:
    """Why `text` is no usable template (a stray `$`, an unknown field), else None."""
    template = string.Template(text)
    for found in template.pattern.finditer(text):
        if found.group("invalid") is not None:
            position = found.start()  # the $ itself
            return (
                f"bad placeholder at position {position} ({text[position : position + 12]!r}); "
                "write $name or ${name}, and $$ for a dollar sign"
            )
    for name in template.get_identifiers():
        if name not in FIELDS:
            near = _nearest(name)
            hint = f"did you mean ${near}? " if near else ""
            return f"unknown field ${name}; {hint}the fields are ${', $'.join(FIELDS)}"
    return None


def fields(content: AlertContent, alerted_at: datetime) -> dict[str, str]:
    """The value of every field for one alert, as plain one-line text."""
    tags = list(
        dict.fromkeys([content.primary, *content.tags] if content.primary else content.tags)
    )
    evidence = dict(content.evidence).get(content.primary, ())
    first = next((e for e in evidence if one_line(e) != one_line(content.title)), "")
    facts = [
        f"{label}: {'; '.join(values)}"
        for label, values in (
            (label, [v for v in getattr(content.facts, name) if v]) for name, label in FACT_LABELS
        )
        if values
    ]
    values = {
        "title": content.title,
        "lead": lead_symbol(content),
        "ticker": content.ticker,
        "tickers": ", ".join(content.tickers),
        "issuer": content.issuer,
        "primary": content.primary,
        "tags": ", ".join(tags),
        "evidence": first,
        "facts": " | ".join(facts),
        "url": content.url,
        "published": _published(content.published_utc),
        "latency": latency_line(content.published_utc, alerted_at),
        "rule": content.rule,
        "source": content.source,
        "release_id": content.release_id,
    }
    return {name: one_line(value) for name, value in values.items()}


def fill(text: str, values: dict[str, str], *, as_html: bool = False) -> str:
    """`text` with its fields filled in; `as_html`: each value HTML-escaped, unsafe links empty."""
    if as_html:
        link = safe_href(values["url"]) or ""  # never a javascript: or data: href
        values = {name: html.escape(value, quote=True) for name, value in values.items()}
        values["url"] = html.escape(link, quote=True)
    return clean_text(string.Template(text).substitute(values))


def _published(published_utc: str | None) -> str:
    try:
        moment = datetime.fromisoformat(published_utc or "")
    except ValueError:
        return "unknown"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _nearest(name: str) -> str | None:
    import difflib

    found = difflib.get_close_matches(name, list(FIELDS), n=1, cutoff=0.6)
    return found[0] if found else None
