#!/usr/bin/env python3
"""Build biomon's offline demo feeds (nasdaq.xml, clrb.xml) from real press releases.

Stdlib only. Run from anywhere: `python data/demo/build_feeds.py`. Reads the CLRB seed release
and the eval-dev releases from ../shared (next to the repository) and writes GlobeNewswire-shaped
RSS next to this script. The output is byte-for-byte the same on every run.

Each <item> follows the real GlobeNewswire item
(shared/samples/globenewswire/gnw-rss-publiccompanies-2026-09-11-verbatim-2items.xml) element
for element: guid (= link), stock categories, title, CDATA HTML description, pubDate without
seconds, dc:identifier, dc:language, dc:publisher, dc:contributor, dc:modified, dc:subject.
The description is the full text as the /content/fulltext variant gives it.
What is real and what is made up is listed in README.md beside this script.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
SHARED = REPO_ROOT.parent / "shared"
SEED_PATH = SHARED / "seeds" / "clrb-2023-12-19-warf-license.txt"
RELEASES_PATH = SHARED / "eval-dev" / "releases.jsonl"

GNW = "https://www.globenewswire.com"
STOCK_DOMAIN = f"{GNW}/rss/stock"
NAMESPACES = (
    'xmlns:dc="http://dublincore.org/documents/dcmi-namespace/" '
    'xmlns:media="http://search.yahoo.com/mrss/"'
)
EXCHANGE_FEED_SIZE = 20  # GNW's exchange and public-company feeds carry the last 20 releases
MAX_TEXT_BYTES = 12_000  # trim longer bodies at a paragraph boundary
SLUG_MAX = 180  # GNW cuts long slugs mid-word (see the 2016 CLRB URL in releases.jsonl)

# Synthetic release ids: 9000000 for the seed, 9000000 + line number for eval-dev lines.
# Deliberately far above GNW's real ids (about 3.36 million in 2026) so that a synthetic
# link can never resolve to some other, real release.
SYNTHETIC_ID_BASE = 9_000_000

# The ticker field's exchange -> GNW's spelling in <category domain=".../rss/stock">.
GNW_EXCHANGE = {
    "NASDAQ": "Nasdaq",
    "NYSE": "NYSE",
    "NYSEAMERICAN": "NYSE American",
    "NYSEAMEX": "NYSE American",
    "NYSEMKT": "NYSE American",
    "NYSEALTERNEXT": "NYSE American",  # NYSE Alternext US: the 2008 name of NYSE American
    "OTCQB": "OTC Markets",
    "OTCQX": "OTC Markets",
    "OTCBB": "OTC Markets",
    "TSX": "TSX",
    "TSXV": "TSX-V",
    "TSX-V": "TSX-V",
    "FRA": "Frankfurt",
}

# Labeled primary tag (eval-dev/TAXONOMY.md) -> one subject name from GNW's own list
# (samples/globenewswire/gnw-rss-feed-directory-2025-07-12.yaml).
GNW_SUBJECT = {
    "licensing": "Licensing Agreements",
    "grant": "Business Contracts",
    "trial": "Clinical Study",
    "regulatory": "Health",
    "financing": "Financing Agreements",
    "deal": "Partnerships",
    "earnings": "Earnings Releases and Operating Results",
    "patent": "Patents",
    "preclinical": "Research Analysis and Reports",
    "conference": "Calendar of Events",
    "leadership": "Management Changes",
    "other": "Press Releases",
}

# Releases whose `published` holds only a year: a fixed date, with the reason.
DATE_OVERRIDES = {
    # Xconomy, 2015-06-16: "Cellectar Biosciences today appointed a new president and CEO".
    "clrb-caruso-ceo-2015": date(2015, 6, 16),
}

SEED_ID = "seed:clrb-2023-12-19-warf-license"
SEED_PUBLISHED = datetime(2023, 12, 19, 13, 30)  # GMT, as the brief for the demo fixes it

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
WEEKDAYS = "Mon Tue Wed Thu Fri Sat Sun".split()
MONTH_WORD = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"

# --- text cleaning -------------------------------------------------------------------------

WIRE_MARKERS = (
    "(GLOBE NEWSWIRE)",
    "/PRNewswire",
    "(BUSINESS WIRE)",
    "(Marketwire",
    "(Marketwired",
)
# "CHARLESTON, SC, USA I November 19, 2018", "HANOVER, MD – August 27, 2020",
# "PRINCETON, N.J., March 19, 2020"
GENERIC_DATELINE = re.compile(
    rf"^[A-Z][^\s,]*(?:[ .'\-][^\s,]+)*,[^\n]{{0,40}}?\b{MONTH_WORD}\s+\d{{1,2}},?\s+(?:19|20)\d\d"
)
# "MADISON, Wis. — Cellectar ..." (a dateline whose date was dropped by the copy we have)
CAPS_CITY_DATELINE = re.compile(r"^[A-Z][A-Z.'\- ]{2,},\s+[A-Z][A-Za-z.]*,?\s*[—–-]")
ARTIFACT_DATE_PREFIX = re.compile(r"^\s*date \d{4}-\d{2}-\d{2}\s+")  # wallstreet-online scrape
MARKDOWN_IMAGE_LINE = re.compile(r"^[ \t]*!\[[^\]]*\]\([^)]*\)[ \t]*\n", re.MULTILINE)
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\((?:#|https?://[^)]*)\)")
TERMINAL = re.compile(r"[.!?:;][\"”’')\]]*$")
HEADINGS = re.compile(
    r"^(?:About\s.{1,70}|Forward[- ]Looking Statements?(?: Disclaimer)?|Safe Harbor.{0,40}"
    r"|Cautionary.{0,60}|(?:Media |Investor |Company )?Contacts?|Media|Investors"
    r"|Media Contacts?|Investor Relations)\s*:?$",
    re.IGNORECASE,
)
CONTACT_LINE = re.compile(r"^(?:\S+@\S+\.\w+|(?:www\.|https?://)\S+|\+?[\d()][\d() .\-]{6,})$")
SPEECH_VERB = re.compile(r"[,”\"]\s+(?:said|stated|commented|added)$")
ET_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\s*(AM|PM)?\s*(EDT|EST|ET)\b", re.IGNORECASE)


def clean_source_text(text: str) -> str:
    """Undo scraping artifacts that no wire would send: markdown escapes, links, images."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = ARTIFACT_DATE_PREFIX.sub("", text)
    text = text.replace("\\$", "$")
    text = MARKDOWN_IMAGE_LINE.sub("", text)  # drop the whole line: no stray paragraph break
    text = MARKDOWN_IMAGE.sub("", text)
    return MARKDOWN_LINK.sub(r"\1", text)


def is_dateline(line: str) -> bool:
    """Does this line open the release body ("CITY, State, Date (WIRE) -- ...")?"""
    if any(0 <= line.find(marker) < 200 for marker in WIRE_MARKERS):
        return True
    return bool(GENERIC_DATELINE.match(line) or CAPS_CITY_DATELINE.match(line))


def is_bare_dateline(line: str) -> bool:
    """A dateline with nothing after the date ("PRINCETON, N.J., March 19, 2020")."""
    match = GENERIC_DATELINE.match(line)
    return bool(match) and not line[match.end() :].strip()


def is_terminal(line: str) -> bool:
    return bool(TERMINAL.search(line))


def is_heading(line: str) -> bool:
    return bool(HEADINGS.match(line.strip())) and not line.strip().endswith(".")


def split_at_dateline(lines: list[str]) -> tuple[list[str], list[str]]:
    """(lines before the dateline, lines from it on). No dateline: everything is body."""
    for index, line in enumerate(lines):
        if line and is_dateline(line):
            # A dateline broken over short lines: "MILWAUKEE" / "," / "March 29, 2022" / "/PRNe...".
            while index > 0 and lines[index - 1] and len(lines[index - 1]) <= 30:
                if is_terminal(lines[index - 1]):
                    break
                index -= 1
            return lines[:index], lines[index:]
    return [], lines


def looks_hard_wrapped(lines: list[str]) -> bool:
    """Lines cut at a fixed width (SEC exhibits, some reprints), not one line per paragraph."""
    pairs = [(a, b) for a, b in zip(lines, lines[1:], strict=False) if a and b]
    wrapped = sum(1 for _, b in pairs if b[0].islower())
    return wrapped >= 4 and wrapped >= 0.25 * len(pairs)


def join_mode(
    paragraph: str, last_line: str, line: str, after_blank: bool, wrapped: bool, blank_mode: bool
) -> str | None:
    """How `line` continues `paragraph`: " ", "" or "\\n" (a <br>); None starts a new paragraph."""
    if is_heading(line) or is_heading(paragraph):
        return None
    if not after_blank:
        if CONTACT_LINE.match(line) and len(last_line) <= 60 and not wrapped:
            return "\n"  # "315-765-1462" / "investors@cellectar.com"
        if line[0] in ",.;:)" or line.startswith(('",', "”,")):
            return ""  # a name cut out onto its own line: "Lindsey Leckelt" / ", vice ..."
        if last_line.endswith((' "', " “")):
            return ""
    if line[0].islower():
        return " "  # also across a blank line: a page break in the middle of a sentence
    bullets = ("•", "- ")
    if (
        not is_terminal(last_line)
        and not line.startswith(bullets)
        and not (wrapped and paragraph.startswith(bullets))
    ):
        # A long paragraph does not end without punctuation: the line (or, for a very long one,
        # a page) was broken mid-sentence. Shorter unpunctuated blocks may be bullets: kept.
        if len(paragraph) > (300 if after_blank else 100) or SPEECH_VERB.search(last_line):
            return " "
    if after_blank:
        return None
    if last_line.endswith(",") or line.startswith("/") or is_bare_dateline(last_line):
        return " "
    if wrapped:
        if blank_mode:
            return None if line.startswith(bullets) else " "
        if line.startswith(bullets) or (is_terminal(last_line) and line[0] not in "(["):
            return None
        if paragraph.startswith(bullets):
            return None  # a wrapped bullet continues in lower case; an upper-case line is new text
        return " "
    if len(last_line) <= 60 and len(line) <= 60 and not is_terminal(last_line):
        return "\n"  # contact and address blocks: one line each
    return None


def paragraphs(lines: list[str]) -> list[str]:
    """Rebuild paragraphs from the stored plain text (blank-line, line-per-paragraph or wrapped)."""
    while lines and not lines[-1]:
        lines = lines[:-1]
    blank_mode = any(not line for line in lines)
    wrapped = looks_hard_wrapped(lines)
    result: list[str] = []
    current = ""
    last_line = ""
    after_blank = False
    for line in lines:
        if not line:
            after_blank = True
            continue
        mode = None
        if current:
            mode = join_mode(current, last_line, line, after_blank, wrapped, blank_mode)
        if mode is None:
            if current:
                result.append(current)
            current = line
        else:
            current = current + mode + line
        last_line = line
        after_blank = False
    if current:
        result.append(current)
    return result


def trim(paras: list[str], limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Keep whole paragraphs up to about `limit` bytes of text (always at least the first)."""
    kept: list[str] = []
    size = 0
    for para in paras:
        size += len(para.encode("utf-8"))
        if kept and size > limit:
            break
        kept.append(para)
    return kept


def body_html(paras: list[str]) -> str:
    """<p> paragraphs, text HTML-escaped, line breaks inside a paragraph as <br />."""
    out = []
    for para in paras:
        escaped = html.escape(para, quote=False).replace("\n", "<br />")
        out.append(f"<p>{escaped}</p>")
    return "".join(out)


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


# --- releases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Release:
    source_id: str  # eval-dev id, or SEED_ID
    release_id: str  # GNW's numeric id (real or synthetic)
    url: str
    url_is_real: bool
    published: datetime  # naive, GMT
    time_source: str
    title: str
    company: str
    contributor: str
    categories: tuple[str, ...]
    subject: str
    paras: tuple[str, ...]


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def gnw_url(published: date, release_id: str, slug: str) -> str:
    return (
        f"{GNW}/news-release/{published.year:04d}/{published.month:02d}/{published.day:02d}"
        f"/{release_id}/0/en/{slug}.html"
    )


REAL_GNW_URL = re.compile(
    r"globenewswire\.com/news-release/(\d{4})/(\d{2})/(\d{2})/(\d+)/\d+/[a-z]{2}/([^?#/]+)\.html"
)


def exchange_pairs(text: str) -> list[tuple[str, str]]:
    """(EXCHANGE, SYMBOL) pairs from dateline parentheses: "(NASDAQ:AEZS) (TSX:AEZS)"."""
    pairs = []
    for group in re.findall(r"\(([^()]{2,80})\)", text[:600]):
        for part in re.split(r"[;,]", group):
            match = re.fullmatch(
                r"\s*(Nasdaq|NASDAQ|NYSE American|NYSE MKT|NYSE Amex|NYSE|TSX-V|TSXV|TSX"
                r"|OTCQB|OTCQX|OTCBB|OTC BB|FRA|TASE)\s*:\s*([A-Z][A-Z0-9.]{0,9})\s*",
                part,
            )
            if match:
                pairs.append((re.sub(r"[\s-]", "", match.group(1)).upper(), match.group(2)))
    return pairs


def stock_categories(ticker: str, body_start: str) -> tuple[str, ...]:
    """The ticker field first, then other listings the dateline names (in GNW's spelling)."""
    exchange, _, symbol = ticker.partition(":")
    found = [f"{GNW_EXCHANGE[exchange.upper()]}:{symbol}"]
    for text_exchange, text_symbol in exchange_pairs(body_start):
        gnw_exchange = GNW_EXCHANGE.get(text_exchange)
        if gnw_exchange is None:
            continue  # e.g. TASE: GNW's spelling for it is not in any sample, so leave it out
        category = f"{gnw_exchange}:{text_symbol}"
        if category not in found:  # the dateline repeats the main listing too
            found.append(category)
    return tuple(found)


def legal_names(company: str, texts: list[str]) -> str:
    """The issuer's name as its releases spell it most often ("Cellectar Biosciences, Inc.")."""
    pattern = re.compile(
        re.escape(company) + r"(?:,?\s(?:Inc|Ltd|Corp|Corporation|plc|LLC|S\.A|N\.V|AG)\b\.?)"
    )
    counts = Counter(m for text in texts for m in pattern.findall(text[:3000]))
    if not counts:
        return company
    return sorted(counts.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))[0][0]


def eastern_offset_hours(day: date) -> int:
    """US Eastern time's offset from GMT on `day` (the post-2007 DST rule)."""
    march = date(day.year, 3, 8)
    dst_start = march + timedelta(days=(6 - march.weekday()) % 7)  # second Sunday in March
    november = date(day.year, 11, 1)
    dst_end = november + timedelta(days=(6 - november.weekday()) % 7)  # first Sunday in November
    return 4 if dst_start <= day < dst_end else 5


def stated_time(preamble: str, day: date) -> datetime | None:
    """A release time the reprint states before the dateline ("07:00 ET"), converted to GMT."""
    match = ET_TIME.search(preamble)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    meridian = (match.group(3) or "").upper()
    if meridian == "PM" and hour < 12:
        hour += 12
    if meridian == "AM" and hour == 12:
        hour = 0
    zone = match.group(4).upper()
    offset = {"EDT": 4, "EST": 5}.get(zone, eastern_offset_hours(day))
    return datetime(day.year, day.month, day.day, hour, minute) + timedelta(hours=offset)


def parse_published(value: str | None, source_id: str) -> date | None:
    if source_id in DATE_OVERRIDES:
        return DATE_OVERRIDES[source_id]
    if value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    return None  # missing or year only, and no override: not used


def title_from_text(title: str, lines: list[str]) -> str:
    """Replace a page title that is not a headline ("Exhibit 99.1") by the headline line."""
    if not re.match(r"(?i)exhibit\s+99", title.strip()):
        return title.strip()
    for line in lines:
        if line and not re.match(r"(?i)(exhibit\s+99|for immediate release)", line):
            return line
    return title.strip()


def build_release(record: dict, line_number: int | None, contributors: dict[str, str]) -> Release:
    """One source record (eval-dev line or the seed) -> a GNW-shaped Release."""
    source_id = record["id"]
    lines = [line.strip() for line in clean_source_text(record["text"]).split("\n")]
    preamble, body = split_at_dateline(lines)
    paras = tuple(trim(paragraphs(body)))
    if source_id == SEED_ID:
        published, time_source = SEED_PUBLISHED, "fixed by the brief (13:30 GMT)"
    else:
        day = parse_published(record.get("published"), source_id)
        published = stated_time("\n".join(preamble), day)
        time_source = "stated in the source (ET)"
        if published is None:
            published = datetime(day.year, day.month, day.day, 12, 0) + timedelta(
                minutes=3 * (line_number or 0)
            )
            time_source = "synthetic (12:00 GMT + 3 min x line number)"
    title = title_from_text(record["title"], lines)
    real = REAL_GNW_URL.search(record.get("source_url") or "")
    if real:
        year, month, day_, release_id, slug = real.groups()
        url = gnw_url(date(int(year), int(month), int(day_)), release_id, slug.lower())
    else:
        release_id = str(SYNTHETIC_ID_BASE + (line_number or 0))
        url = gnw_url(published.date(), release_id, slugify(title))
    return Release(
        source_id=source_id,
        release_id=release_id,
        url=url,
        url_is_real=bool(real),
        published=published,
        time_source=time_source,
        title=title,
        company=record["company"],
        contributor=contributors[record["company"]],
        categories=stock_categories(record["ticker"], paras[0] if paras else ""),
        subject=GNW_SUBJECT[record["primary"]],
        paras=paras,
    )


def load_seed() -> dict:
    """The CLRB release that started the project, as an eval-dev-shaped record."""
    text = SEED_PATH.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    # Line 1 is the date ("December 19, 2023"), line 2 the headline, line 3 the sub-headline.
    return {
        "id": SEED_ID,
        "source_url": "",
        "published": "2023-12-19",
        "ticker": "NASDAQ:CLRB",
        "company": "Cellectar Biosciences",
        "title": lines[1],
        "text": text,
        "primary": "licensing",  # a WARF license; the NCI grant is only mentioned in a quote
    }


def load_releases() -> list[Release]:
    """Every usable source record (dated, with a ticker) as a Release, seed included."""
    records = [(load_seed(), None)]
    with RELEASES_PATH.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                records.append((json.loads(line), number))
    by_company: dict[str, list[str]] = {}
    for record, _ in records:
        by_company.setdefault(record["company"], []).append(record["text"])
    contributors = {name: legal_names(name, texts) for name, texts in by_company.items()}
    usable = [
        (record, number)
        for record, number in records
        if record.get("ticker") and parse_published(record.get("published"), record["id"])
    ]
    return [build_release(record, number, contributors) for record, number in usable]


# --- RSS ------------------------------------------------------------------------------------


def rfc822(moment: datetime) -> str:
    """GNW's pubDate: "Tue, 19 Dec 2023 13:30 GMT" (no seconds), locale-independent."""
    return (
        f"{WEEKDAYS[moment.weekday()]}, {moment.day:02d} {MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d} GMT"
    )


def item_xml(release: Release) -> str:
    """One <item>, laid out like the verbatim sample (attributes wrapped onto the next line)."""
    url = html.escape(release.url)
    when = rfc822(release.published)
    parts = [f'<item><guid\n        isPermaLink="true">{url}</guid><link>{url}</link>']
    for category in release.categories:
        term = html.escape(category, quote=False)
        parts.append(f'<category\n        domain="{STOCK_DOMAIN}">{term}</category>')
    parts.append(f"<title>{html.escape(release.title, quote=False)}</title>")
    parts.append(f"<description>{cdata(body_html(list(release.paras)))}</description>")
    parts.append(f"<pubDate>{when}</pubDate>")
    parts.append(f"<dc:identifier>{release.release_id}</dc:identifier>")
    parts.append("<dc:language>en</dc:language>")
    parts.append("<dc:publisher>GlobeNewswire Inc.</dc:publisher>")
    parts.append(
        f"<dc:contributor>{html.escape(release.contributor, quote=False)}</dc:contributor>"
    )
    parts.append(f"<dc:modified>{when}</dc:modified>")
    parts.append(f"<dc:subject>{html.escape(release.subject, quote=False)}</dc:subject></item>")
    return "".join(parts)


def feed_xml(title: str, link: str, description: str, items: list[Release]) -> bytes:
    built = rfc822(items[0].published)
    header = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<!-- biomon demo feed, generated by data/demo/build_feeds.py: do not edit by hand.\n"
        "     Real press releases in GlobeNewswire's RSS item shape; ids, times and some URLs\n"
        "     are synthetic. See data/demo/README.md. -->\n"
        f'<rss version="2.0" {NAMESPACES}><channel>'
        f"<title>{html.escape(title, quote=False)}</title>"
        f"<link>{html.escape(link, quote=False)}</link>"
        f"<description>{html.escape(description, quote=False)}</description>"
        "<language>en</language>"
        f"<pubDate>{built}</pubDate><lastBuildDate>{built}</lastBuildDate>\n"
    )
    body = "\n".join(item_xml(release) for release in items)
    return (header + body + "\n</channel></rss>\n").encode("utf-8")


def newest_first(releases: list[Release]) -> list[Release]:
    return sorted(releases, key=lambda r: (r.published, r.release_id), reverse=True)


def main() -> None:
    releases = load_releases()
    exchange_items = newest_first(releases)[:EXCHANGE_FEED_SIZE]
    clrb_items = newest_first([r for r in releases if r.categories[0].endswith(":CLRB")])
    for feed in (exchange_items, clrb_items):
        if not any(r.source_id == SEED_ID for r in feed):
            raise SystemExit("the CLRB seed release must be in every demo feed")
    feeds = {
        "nasdaq.xml": feed_xml(
            "GlobeNewswire - NASDAQ",
            f"{GNW}/RssFeed/exchange/NASDAQ",
            f"biomon offline demo: the last {len(exchange_items)} releases, in the shape of "
            "GlobeNewswire's exchange feed (data/demo/README.md says what is real)",
            exchange_items,
        ),
        "clrb.xml": feed_xml(
            "GlobeNewswire - Cellectar Biosciences, Inc.",
            f"{GNW}/search/organization/Cellectar%20Biosciences%CE%B4%20Inc%C2%A7",
            "biomon offline demo: every Cellectar Biosciences release in the data, in the shape "
            "of a GlobeNewswire organization feed (data/demo/README.md says what is real)",
            clrb_items,
        ),
    }
    for name, payload in feeds.items():
        (HERE / name).write_bytes(payload)
        print(f"{name}: {payload.count(b'<item>')} items, {len(payload):,} bytes")


if __name__ == "__main__":
    main()
