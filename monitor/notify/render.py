"""Turn alerts into messages: email subject + plain text + HTML, desktop title + body.

Pure functions, no I/O. Every value here came from a feed, so the HTML escapes all of it, only
http(s) links become links, and control characters and bidirectional overrides are dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from monitor.models import AlertContent, Facts, Message

SUBJECT_TITLE_CHARS = 80
DESKTOP_BODY_CHARS = 250
DIGEST_TITLE_LEADS = 5
ELLIPSIS = "..."

# (Facts field, label) in the order an analyst reads them; tickers are shown in the header.
FACT_LABELS = (
    ("amounts", "Amounts"),
    ("phases", "Phases"),
    ("trial_names", "Trials"),
    ("nct_ids", "NCT ids"),
    ("agencies", "Agencies"),
    ("counterparties", "Counterparties"),
)

# C0/C1 controls (NUL, ESC, ...) and the bidirectional marks, embeddings, overrides and isolates
# that make "CLRB" display as "BRLC" or hide a word: never shown. Tab, LF and CR are kept here
# (one-line fields collapse them); the other whitespace controls become a space.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)

_FONT = "font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.45;color:#222"
_MUTED = "color:#666;font-size:12px"
_QUOTE = "margin:4px 0 4px 0;padding:2px 0 2px 10px;border-left:3px solid #ccc;color:#333"
_LABEL_CELL = "padding:1px 12px 1px 0;color:#666;vertical-align:top"


def render_alert(content: AlertContent, alerted_at: datetime) -> Message:
    """One alert as an email-sized message: subject, plain text body and HTML body."""
    if content.catalyst is not None:
        return render_catalyst(content, alerted_at)
    title = (
        f"[{lead_symbol(content)}] {_label(content)}: {shorten(content.title, SUBJECT_TITLE_CHARS)}"
    )
    text = clean_text("\n".join(_item_text(content, alerted_at, with_facts=True))) + "\n"
    body = "".join(_item_html(content, alerted_at, with_facts=True))
    return Message(title=title, text=text, html=html_document(title, body))


def render_catalyst(content: AlertContent, alerted_at: datetime) -> Message:
    """A catalyst reminder ("in 7 days") or moved date: ticker, kind, program, the date as
    written and its window, the evidence sentence and the release link."""
    note = content.catalyst
    assert note is not None
    what = " ".join(x for x in (note.kind.replace("_", " "), note.program) if x)
    window = note.window_start + (
        f" to {note.window_end}" if note.window_end != note.window_start else ""
    )
    if note.reason == "reminder":
        when = "today" if note.days_before == 0 else f"in {note.days_before} day(s)"
        title = f"[{lead_symbol(content)}] catalyst {when}: {what}"
        lead = f"The window of this catalyst opens {when} ({window})."
    else:
        old = " to ".join(dict.fromkeys(note.old_window or ("?",)))
        was = (note.old_window or ("?",))[0]
        title = (
            f"[{lead_symbol(content)}] catalyst moved to {note.window_start} (was {was}): {what}"
        )
        lead = f"The date moved from {old} to {window}."
    lines = [
        lead,
        f"Ticker: {note.ticker}",
        f"Kind: {note.kind}",
        f"Program: {note.program or 'not named'}",
        f"Date as written: {note.date_text}",
        f"Window: {window}",
        "",
        f"Evidence: {note.evidence}",
        "",
        _one_line(content.url) or "(no link)",
    ]
    if content.rule:
        lines.append(f"Matched watch: {_one_line(content.rule)}")
    text = clean_text("\n".join(lines)) + "\n"
    href = safe_href(content.url)
    link = f'<a href="{_esc(href)}">{_esc(href)}</a>' if href else _esc(content.url)
    body = "".join(
        [f"<p>{_esc(line)}</p>" for line in lines[:6]]
        + [f'<blockquote style="{_QUOTE}">{_esc(note.evidence)}</blockquote>', f"<p>{link}</p>"]
    )
    title = shorten(_one_line(title), SUBJECT_TITLE_CHARS + 20)
    return Message(title=title, text=text, html=html_document(title, body))


def desktop_text(content: AlertContent) -> tuple[str, str]:
    """(title, body) for a desktop popup: `CLRB · licensing`, headline + first evidence."""
    title = f"{lead_symbol(content)} · {_label(content)}"
    body = _one_line(content.title)
    evidence = _evidence(content, content.primary) if content.primary else ()
    # The headline is often the first evidence: show the first sentence that adds something.
    extra = [e for e in evidence if _one_line(e) != _one_line(content.title)]
    if extra:
        body = f"{body}\n{_one_line(extra[0])}"
    return title, shorten(body, DESKTOP_BODY_CHARS, collapse=False)


def render_digest(contents: Sequence[AlertContent], alerted_at: datetime, period: str) -> Message:
    """Many alerts in one message, e.g. `biomon digest: 3 alerts (CLRB, SNGX)`."""
    count = f"{len(contents)} alert{'' if len(contents) == 1 else 's'}"
    leads = list(dict.fromkeys(lead_symbol(c) for c in contents))
    shown = ", ".join(leads[:DIGEST_TITLE_LEADS])
    if len(leads) > DIGEST_TITLE_LEADS:
        shown += f", +{len(leads) - DIGEST_TITLE_LEADS} more"
    title = f"biomon digest: {count}" + (f" ({shown})" if shown else "")

    heading = f"biomon digest, {_one_line(period)}: {count}"
    text_lines = [heading, "=" * len(heading), ""]
    html_parts = [f'<h2 style="font-size:18px;margin:0 0 12px 0">{_esc(heading)}</h2>']
    for number, content in enumerate(contents):
        if number:
            text_lines += ["", "-" * 40, ""]
        text_lines += _item_text(content, alerted_at, with_facts=False)
        html_parts.append(
            '<div style="margin:0 0 18px 0;padding:0 0 12px 0;border-bottom:1px solid #ddd">'
        )
        html_parts += _item_html(content, alerted_at, with_facts=False)
        html_parts.append("</div>")
    return Message(
        title=title,
        text=clean_text("\n".join(text_lines)) + "\n",
        html=html_document(title, "".join(html_parts)),
    )


def lead_symbol(content: AlertContent) -> str:
    """What leads the title: the watched symbol, else the first ticker's symbol, else the rule."""
    if content.ticker:
        return _one_line(content.ticker)
    if content.tickers:
        return _one_line(content.tickers[0].rsplit(":", 1)[-1])
    return _one_line(content.rule)


def latency_line(published_utc: str | None, alerted_at: datetime) -> str:
    """`published 16:05 UTC, alerted 16:05:48 UTC`; dates appear when the days differ."""
    alerted = _as_utc(alerted_at)
    published = _parse_utc(published_utc)
    if published is None:
        return f"published: unknown, alerted {alerted:%Y-%m-%d %H:%M:%S} UTC"
    if published.date() == alerted.date():
        return f"published {published:%H:%M} UTC, alerted {alerted:%H:%M:%S} UTC"
    return f"published {published:%Y-%m-%d %H:%M} UTC, alerted {alerted:%Y-%m-%d %H:%M:%S} UTC"


def clean_text(value: str) -> str:
    """`value` without control characters or bidirectional overrides (tab, LF, CR kept)."""
    return _INVISIBLE.sub(lambda found: " " if found.group().isspace() else "", value)


def one_line(value: str) -> str:
    """`value` cleaned (see clean_text) with every run of whitespace, newlines too, one space."""
    return " ".join(clean_text(value).split())


def shorten(text: str, limit: int, collapse: bool = True) -> str:
    """Cut `text` to at most `limit` chars at a word boundary, ending with an ellipsis."""
    text = _one_line(text) if collapse else clean_text(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS) + 1]
    # Prefer a word boundary unless that would throw away most of the text.
    space = cut.rfind(" ")
    cut = cut[:space] if space > limit // 2 else cut[:-1]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def safe_href(url: str) -> str | None:
    """The URL if it is safe to put in an href (absolute http or https), else None."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if (
        parts.scheme.lower() in ("http", "https")
        and parts.netloc
        and not any(c.isspace() for c in url)
    ):
        return url
    return None


def _item_text(content: AlertContent, alerted_at: datetime, with_facts: bool) -> list[str]:
    lines = [_one_line(content.title), _who(content)]
    tags = _ordered_tags(content)
    if tags:
        lines.append("Tags: " + ", ".join(_tag_label(content, tag) for tag in tags))
    evidence = [(tag, _evidence(content, tag)) for tag in tags if _evidence(content, tag)]
    if evidence:
        lines.append("")
        for tag, sentences in evidence:
            lines.append(f"{_one_line(tag)}:")
            lines += [f"  - {_one_line(sentence)}" for sentence in sentences]
    facts = _facts(content.facts) if with_facts else []
    if facts:
        lines.append("")
        lines += [f"{label}: {'; '.join(values)}" for label, values in facts]
    lines += ["", _one_line(content.url) or "(no link)", *_also_text(content)]
    lines.append(latency_line(content.published_utc, alerted_at))
    if content.rule:
        lines.append(f"Matched watch: {_one_line(content.rule)}")
    return lines


def _item_html(content: AlertContent, alerted_at: datetime, with_facts: bool) -> list[str]:
    parts = [
        f'<h3 style="font-size:16px;margin:0 0 4px 0">{_esc(_one_line(content.title))}</h3>',
        f'<div style="{_MUTED}">{_esc(_who(content))}</div>',
    ]
    tags = _ordered_tags(content)
    if tags:
        labels = ", ".join(
            f"<b>{_esc(tag)}</b> (primary)" if tag == content.primary else _esc(tag) for tag in tags
        )
        parts.append(f'<p style="margin:8px 0 4px 0">Tags: {labels}</p>')
    for tag in tags:
        sentences = _evidence(content, tag)
        if not sentences:
            continue
        parts.append(f'<div style="margin:6px 0 0 0;font-weight:bold">{_esc(tag)}</div>')
        parts += [f'<blockquote style="{_QUOTE}">{_esc(s)}</blockquote>' for s in sentences]
    facts = _facts(content.facts) if with_facts else []
    if facts:
        rows = "".join(
            f'<tr><td style="{_LABEL_CELL}">{_esc(label)}</td>'
            f"<td>{'; '.join(_esc(v) for v in values)}</td></tr>"
            for label, values in facts
        )
        parts.append(
            f'<table style="border-collapse:collapse;margin:8px 0;font-size:14px">{rows}</table>'
        )
    href = safe_href(content.url)
    if href:
        link = f'<a href="{_esc(href)}" style="color:#1a5fb4">{_esc(href)}</a>'
    else:
        link = _esc(content.url) or "(no link)"
    parts.append(f'<p style="margin:8px 0 2px 0">{link}</p>')
    parts += [f'<div style="{_MUTED}">{_esc(line)}</div>' for line in _also_text(content)]
    parts.append(
        f'<div style="{_MUTED}">{_esc(latency_line(content.published_utc, alerted_at))}</div>'
    )
    if content.rule:
        parts.append(f'<div style="{_MUTED}">Matched watch: {_esc(content.rule)}</div>')
    return parts


def other_sources(content: AlertContent) -> list[tuple[str, str]]:
    """(source, url) of the event's other places: the same news on another wire or in an
    8-K exhibit (the alert itself links the release first seen)."""
    return [
        (source, url)
        for source, release_id, url in content.sources
        if (source, release_id) != (content.source, content.release_id)
    ]


def _also_text(content: AlertContent) -> list[str]:
    others = other_sources(content)
    if not others:
        return []
    head = f"Source: {_one_line(content.source)}; also on:"
    return [head] + [
        f"  {_one_line(source)}: {_one_line(url) or '(no link)'}" for source, url in others
    ]


def html_document(title: str, body: str) -> str:
    """A complete HTML page around `body` (an already escaped fragment), titled `title`."""
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{_esc(title)}</title></head>\n"
        f'<body style="margin:0;padding:16px;{_FONT}">'
        f'<div style="max-width:680px">{body}</div></body></html>\n'
    )


def _label(content: AlertContent) -> str:
    return _one_line(content.primary or (content.tags[0] if content.tags else "release"))


def _who(content: AlertContent) -> str:
    who = " · ".join(x for x in (", ".join(content.tickers), content.issuer) if x)
    return _one_line(who) or "issuer unknown"


def _ordered_tags(content: AlertContent) -> list[str]:
    """Tags with the primary one first, each once."""
    lead = [content.primary] if content.primary else []
    return list(dict.fromkeys(lead + list(content.tags)))


def _tag_label(content: AlertContent, tag: str) -> str:
    return f"{_one_line(tag)} (primary)" if tag == content.primary else _one_line(tag)


def _evidence(content: AlertContent, tag: str) -> tuple[str, ...]:
    return dict(content.evidence).get(tag, ())


def _facts(facts: Facts) -> list[tuple[str, tuple[str, ...]]]:
    found = [(label, tuple(v for v in getattr(facts, name) if v)) for name, label in FACT_LABELS]
    return [(label, values) for label, values in found if values]


def _parse_utc(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return _as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _as_utc(moment: datetime) -> datetime:
    # A naive datetime is taken as UTC: the store keeps everything in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# Feed text can hold newlines and tabs; subjects and list items must stay on one line.
_one_line = one_line


def _esc(value: str) -> str:
    return html.escape(clean_text(value), quote=True)
