"""The catalyst calendar as rows (table, JSON, CSV) and as an iCalendar file (RFC 5545).

The iCalendar text is written here rather than with the `icalendar` library: the subset needed
(VEVENTs with dates, text and a URL) is a page of code, fully specified by the RFC (CRLF, lines
folded at 75 octets, TEXT escaping), and keeps biomon free of one more runtime dependency. The
tests parse what it writes with `icalendar`.

Calendar apps match events by UID and take the one with the higher SEQUENCE as the update, so a
UID names the entry (ticker, kind, program, trial) and SEQUENCE counts its date changes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from monitor.store.catalysts import catalyst_identity

PRODID = "-//biomon//catalyst calendar//EN"
UID_DOMAIN = "catalysts.biomon"
FOLD_OCTETS = 75

KIND_LABELS = {
    "pdufa": "PDUFA date",
    "adcom": "advisory committee",
    "topline": "topline data",
    "interim_data": "interim data",
    "enrollment_complete": "enrollment complete",
    "trial_start": "trial start",
    "first_patient": "first patient dosed",
    "submission": "submission",
    "regulatory_decision": "regulatory decision",
    "presentation": "presentation",
    "earnings_call": "earnings call",
    "other": "event",
}


@dataclass(frozen=True)
class Entry:
    """One calendar entry as shown: the stored row, its status today and its history."""

    row: dict
    status: str  # upcoming, overdue or met
    changes: tuple[dict, ...] = ()

    def public(self) -> dict:
        """The entry as JSON/CSV shows it."""
        row = self.row
        return {
            "ticker": row["ticker"],
            "issuer": row["issuer"],
            "kind": row["kind"],
            "program": row["program"],
            "trial": row["trial"],
            "phase": row["phase"],
            "date_text": row["date_text"],
            "window_start": row["window_start"],
            "window_end": row["window_end"],
            "precision": row["precision"],
            "status": self.status,
            "evidence": row["evidence"],
            "release": f"{row.get('release_source')}:{row.get('release_ref')}",
            "url": row.get("release_url") or "",
            "met_by": row.get("met_url") or row.get("met_ref") or "",
            "met_label": row.get("met_label") or "",
            "changes": len(self.changes),
            "uid": uid(row),
        }


def status_of(row: dict, today: date) -> str:
    """met when a release reported it; overdue when its window ended before today."""
    if row.get("met_release"):
        return "met"
    return "overdue" if row["window_end"] < today.isoformat() else "upcoming"


def entries(rows: list[dict], changes: dict[int, list[dict]], today: date) -> list[Entry]:
    return [Entry(row, status_of(row, today), tuple(changes.get(row["id"], ()))) for row in rows]


def title_of(row: dict) -> str:
    """`CLRB: PDUFA date, iopofosine I-131` (the event's summary line)."""
    who = row["ticker"] or row["issuer"] or "?"
    what = KIND_LABELS.get(row["kind"], row["kind"])
    program = f", {row['program']}" if row["program"] else ""
    trial = f" ({row['trial']})" if row.get("trial") else ""
    return f"{who}: {what}{program}{trial}"


def uid(row: dict) -> str:
    """A UID that stays with the entry through moves and rebuilds: its identity, hashed."""
    digest = hashlib.sha256(catalyst_identity(row).encode("utf-8")).hexdigest()[:20]
    return f"{digest}@{UID_DOMAIN}"


# ---- iCalendar


def ics_text(shown: list[Entry]) -> str:
    """A VCALENDAR of the entries (RFC 5545 text with CRLF line ends)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:biomon catalysts",
    ]
    seen: set[str] = set()
    for entry in shown:
        event_uid = uid(entry.row)
        if event_uid in seen:  # a second entry of one identity (announced again after met)
            event_uid = f"{entry.row['id']}-{event_uid}"
        seen.add(event_uid)
        lines += _event(entry, event_uid)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _event(entry: Entry, event_uid: str) -> list[str]:
    row = entry.row
    start = date.fromisoformat(row["window_start"])
    end = date.fromisoformat(row["window_end"]) + timedelta(days=1)  # DTEND is exclusive
    stamp = _stamp(row["updated"] or row["created"])
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event_uid}",
        f"DTSTAMP:{stamp}",
        f"LAST-MODIFIED:{stamp}",
        f"SEQUENCE:{row['sequence'] or 0}",
        f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
        f"DTEND;VALUE=DATE:{end:%Y%m%d}",
        "TRANSP:TRANSPARENT",  # a window of months is no busy time
        f"SUMMARY:{escape(title_of(row) + _status_suffix(entry.status))}",
        f"DESCRIPTION:{escape(_description(entry))}",
        f"CATEGORIES:{escape(row['kind'])}",
        f"STATUS:{'CONFIRMED' if row['precision'] in ('day', 'days') else 'TENTATIVE'}",
    ]
    url = row.get("release_url") or ""
    if url.startswith(("http://", "https://")):
        lines.append(f"URL;VALUE=URI:{url}")
    lines.append("END:VEVENT")
    return lines


def _status_suffix(status: str) -> str:
    return {"met": " [met]", "overdue": " [overdue]"}.get(status, "")


def _description(entry: Entry) -> str:
    row = entry.row
    parts = [
        f"Date as written: {row['date_text']} ({row['precision']}: "
        f"{row['window_start']} to {row['window_end']})",
        f"Evidence: {row['evidence']}",
        f"Release: {row.get('release_url') or row.get('release_ref') or ''}",
    ]
    if row.get("met_release"):
        parts.append(f"Met ({row.get('met_label')}): {row.get('met_url') or row.get('met_ref')}")
    for change in entry.changes:
        parts.append(
            f"Moved {change['changed'][:10]}: {change['old_start']}..{change['old_end']} -> "
            f"{change['new_start']}..{change['new_end']} ({change['new_text']})"
        )
    return "\n".join(parts)


def _stamp(iso_utc: str) -> str:
    """`2026-11-25T16:05:00Z` -> `20261125T160500Z`."""
    digits = iso_utc.replace("-", "").replace(":", "")
    return digits[:15] + "Z" if len(digits) >= 15 else f"{digits[:8]}T000000Z"


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11); control characters other than LF dropped."""
    text = "".join(c for c in (text or "") if c == "\n" or (ord(c) >= 32 and ord(c) != 127))
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    out, current, size = [], [], 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = FOLD_OCTETS if not out else FOLD_OCTETS - 1  # continuation lines start with " "
        if size + width > limit:
            out.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n ".join(out)


def write_if_changed(path: Path, text: str) -> bool:
    """Replace `path` with `text` atomically (a temporary file renamed over it), only when
    the content differs; True when written. A calendar app polling the file never reads half."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
