"""SEC EDGAR: 8-K, 8-K/A and 6-K filings from EDGAR's Atom feeds; exhibit 99.1 as a release.

Feeds (`wire-formats.md` section 5; real samples of both):
- per company: `/cgi-bin/browse-edgar?action=getcompany&CIK=<cik>&type=8-K&owner=include&
  start=0&count=40&output=atom`. Each entry's `<content type="text/xml">` holds
  `accession-number`, `filing-type`, `filing-date`, `filing-href` (the index page) and
  `items-desc` ("items 2.02 and 9.01"); the company is only in the feed's `<company-info>`;
  pages go back with `&start=40`. `type=8-K` is a prefix filter: 8-K/A comes with it.
- latest filings: `/cgi-bin/browse-edgar?action=getcurrent&type=8-K&count=100&output=atom`.
  Entries are flatter: title `8-K - Avalo Therapeutics, Inc. (0001534120) (Filer)`, the summary
  holds `Filed`, `AccNo`, `Size` and one `Item 2.02: ...` line per item; one accession appears
  once per filer role.
Both: `<id>urn:tag:sec.gov,2008:accession-number=...</id>`, `<updated>` with an Eastern offset
(`2026-01-12T07:53:04-05:00`), `<category label="form type" term="8-K"/>`, ISO-8859-1.

A filing becomes a Release (source "sec", release_id = the accession number, url = the filing
index page) whose text lists the form and items; other forms (4, D, DEF 14A ...) are skipped
(`SkipItem`). The filing index page names exhibit 99.1 (`find_exhibit`); its text (the press
release as filed) replaces the item list (`exhibit_into_release`). Tickers: none in the feed;
CIK -> ticker is `monitor.sources.sec_tickers`' job (step 2).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from monitor.html import clean_text, html_to_text, one_line
from monitor.models import Release
from monitor.sources.base import (
    ATOM_ENTRY,
    MAX_FIELD,
    MAX_TITLE,
    MAX_URL,
    Paging,
    SkipItem,
    Source,
    entry_date,
    page_text,
    published_utc,
    text,
)
from monitor.tickers import dateline_tickers

SOURCE = "sec"
HOSTS = ("sec.gov",)
FORMS = ("8-K", "8-K/A", "6-K", "6-K/A")
EASTERN = ZoneInfo("America/New_York")

# Item code -> (SEC's name, the biomon tag it hints at or None).
ITEMS: dict[str, tuple[str, str | None]] = {
    "1.01": ("Entry into a Material Definitive Agreement", "deal"),
    "1.02": ("Termination of a Material Definitive Agreement", "deal"),
    "1.03": ("Bankruptcy or Receivership", None),
    "1.05": ("Material Cybersecurity Incidents", None),
    "2.01": ("Completion of Acquisition or Disposition of Assets", "deal"),
    "2.02": ("Results of Operations and Financial Condition", "earnings"),
    "2.03": ("Creation of a Direct Financial Obligation", "financing"),
    "2.05": ("Costs Associated with Exit or Disposal Activities", None),
    "2.06": ("Material Impairments", None),
    "3.01": ("Notice of Delisting or Failure to Satisfy a Continued Listing Rule", None),
    "3.02": ("Unregistered Sales of Equity Securities", "financing"),
    "3.03": ("Material Modification to Rights of Security Holders", None),
    "4.01": ("Changes in Registrant's Certifying Accountant", None),
    "4.02": ("Non-Reliance on Previously Issued Financial Statements", None),
    "5.01": ("Changes in Control of Registrant", None),
    "5.02": ("Departure or Election of Directors or Certain Officers", "leadership"),
    "5.03": ("Amendments to Articles of Incorporation or Bylaws", None),
    "5.07": ("Submission of Matters to a Vote of Security Holders", None),
    "7.01": ("Regulation FD Disclosure", None),
    "8.01": ("Other Events", None),
    "9.01": ("Financial Statements and Exhibits", None),
}
# Items whose filing usually carries a press release as exhibit 99.1.
PRESS_RELEASE_ITEMS = frozenset({"2.02", "7.01", "8.01"})

_ACCESSION = re.compile(r"\b(\d{10}-\d{2}-\d{6})\b")
_CIK_IN_TITLE = re.compile(r"\((\d{6,10})\)\s*(?:\(([A-Za-z ]+)\))?\s*$")
_CIK_IN_URL = re.compile(r"/edgar/data/(\d{1,10})/", re.IGNORECASE)
_ITEM_LINE = re.compile(r"Item\s+(\d{1,2}\.\d{2})\s*:?\s*([^\n]*)", re.IGNORECASE)
_ITEM_CODE = re.compile(r"\b(\d{1,2}\.\d{2})\b")
_RAW_ID = (
    re.compile(rb"accession-number=(\d{10}-\d{2}-\d{6})"),
    re.compile(rb"<accession-number>\s*(\d{10}-\d{2}-\d{6})\s*</accession-number>"),
)


@dataclass(frozen=True)
class Filing:
    """One filing as an EDGAR feed lists it."""

    accession: str  # "0001534120-26-000003": the release id
    form: str  # "8-K", "8-K/A", "6-K"
    cik: int | None
    company: str  # "" in a per-company feed (its name is in the feed header only)
    filed_utc: str | None  # the acceptance time in UTC (the feed gives Eastern with an offset)
    filed_raw: str
    filing_date: str  # "2026-01-12" (EDGAR's date, Eastern)
    items: tuple[str, ...]  # ("2.02", "8.01")
    index_url: str  # the filing index page (-index.htm)

    @property
    def amendment(self) -> bool:
        return self.form.upper().endswith("/A")

    @property
    def item_lines(self) -> tuple[str, ...]:
        """`Item 2.02: Results of Operations and Financial Condition` per item."""
        return tuple(
            f"Item {code}: {ITEMS[code][0]}" if code in ITEMS else f"Item {code}"
            for code in self.items
        )

    @property
    def hints(self) -> tuple[str, ...]:
        """The biomon tags the items hint at (1.01 deal, 2.02 earnings, 3.02 financing ...)."""
        found = (ITEMS.get(code, ("", None))[1] for code in self.items)
        return tuple(dict.fromkeys(tag for tag in found if tag))

    @property
    def expects_press_release(self) -> bool:
        """Worth fetching the index for exhibit 99.1: a 6-K, an 8-K with item 2.02, 7.01 or
        8.01 (or exhibits, item 9.01), or an 8-K whose items the feed did not list."""
        if self.form.upper().startswith("6-K") or not self.items:
            return True
        return bool(PRESS_RELEASE_ITEMS.intersection(self.items)) or "9.01" in self.items


def _get(entry: Any, key: str) -> str:
    return one_line(text(entry.get(key)), MAX_URL)


def accession_of(entry: Any) -> str:
    """The accession number: `<accession-number>`, the `<id>` urn, the summary's AccNo, the URL."""
    for candidate in (
        _get(entry, "accession-number"),
        _get(entry, "id"),
        text(entry.get("summary")),
        _get(entry, "link"),
    ):
        found = _ACCESSION.search(candidate)
        if found:
            return found.group(1)
    raise ValueError("no accession number")


def release_id(entry: Any) -> str:
    return accession_of(entry)


def form_of(entry: Any) -> str:
    form = _get(entry, "filing-type")
    if not form:
        for tag in entry.get("tags") or ():
            if (tag.get("label") or "").lower() == "form type" or "sec.gov" in (
                tag.get("scheme") or ""
            ):
                form = one_line(text(tag.get("term")))
                break
    if not form:
        form = _get(entry, "title").split(" - ")[0].split("[")[0].strip()
    return form.upper()[:20]


def items_of(entry: Any) -> tuple[str, ...]:
    """Item codes from the summary's `Item 2.02: ...` lines, else `items-desc`."""
    summary = html_to_text(text(entry.get("summary")))
    codes = [m.group(1) for m in _ITEM_LINE.finditer(summary)]
    if not codes:
        codes = _ITEM_CODE.findall(_get(entry, "items-desc"))
    return tuple(dict.fromkeys(_normal_code(c) for c in codes))


def _normal_code(code: str) -> str:
    major, minor = code.split(".")
    return f"{int(major)}.{minor}"


def filing_from_entry(entry: Any, now: datetime | None = None) -> Filing:
    """Any EDGAR Atom entry (any form) as a Filing; ValueError without an accession number."""
    accession = accession_of(entry)
    title = _get(entry, "title")
    index_url = _get(entry, "filing-href") or _get(entry, "link")
    cik: int | None = None
    company = ""
    in_title = _CIK_IN_TITLE.search(title)
    if in_title:
        cik = int(in_title.group(1))
        head = title[: in_title.start()].strip()
        company = one_line(head.split(" - ", 1)[1] if " - " in head else "", MAX_FIELD)
    elif found := _CIK_IN_URL.search(index_url):
        cik = int(found.group(1))
    raw, parsed = entry_date(entry)
    filed, _ = published_utc(raw, parsed, now)
    filing_date = _get(entry, "filing-date")
    if not filing_date:
        summary = text(entry.get("summary"))
        found_date = re.search(r"Filed:\s*(?:</b>)?\s*(\d{4}-\d{2}-\d{2})", summary)
        filing_date = found_date.group(1) if found_date else raw[:10]
    return Filing(
        accession=accession,
        form=form_of(entry),
        cik=cik,
        company=company,
        filed_utc=filed,
        filed_raw=one_line(raw, MAX_FIELD),
        filing_date=one_line(filing_date, 10),
        items=items_of(entry),
        index_url=index_url,
    )


def release_from_filing(filing: Filing, summary_html: str = "", feed_url: str = "") -> Release:
    """A filing as a Release: the form and items until exhibit 99.1 is read."""
    who = filing.company or (f"CIK {filing.cik}" if filing.cik else "")
    what = "; ".join(ITEMS[c][0] if c in ITEMS else f"Item {c}" for c in filing.items)
    title = f"{filing.form}" + (f" {who}" if who else "") + (f": {what}" if what else "")
    lines = [f"Form {filing.form} filed {filing.filing_date}" + (f" by {who}" if who else "")]
    lines += filing.item_lines
    return Release(
        source=SOURCE,
        release_id=filing.accession,
        url=filing.index_url,
        title=one_line(title, MAX_TITLE),
        summary_html=summary_html,
        text="\n\n".join(lines),
        published_utc=filing.filed_utc,
        published_raw=filing.filed_raw,
        issuer=filing.company,
        language="en",
        subjects=(f"Form {filing.form}", *filing.item_lines),
        tickers=(),
        feed_url=feed_url,
    )


def entry_to_release(
    entry: Any,
    feed_url: str = "",
    *,
    now: datetime | None = None,
    notes: list[str] | None = None,
) -> Release:
    """An 8-K, 8-K/A or 6-K entry as a Release; SkipItem for any other form."""
    form = form_of(entry)
    if form not in FORMS:
        raise SkipItem(form)
    filing = filing_from_entry(entry, now)
    raw, parsed = entry_date(entry)
    _, date_problem = published_utc(raw, parsed, now)
    if date_problem and notes is not None:
        notes.append(f"{date_problem}: {one_line(raw, MAX_FIELD)!r}")
    return release_from_filing(filing, text(entry.get("summary")), feed_url)


def filing_of(release: Release) -> tuple[str, tuple[str, ...]]:
    """(form, item codes) back from a Release made by `release_from_filing`."""
    form = ""
    codes: list[str] = []
    for subject in release.subjects:
        if subject.startswith("Form "):
            form = subject[5:]
        elif found := _ITEM_LINE.match(subject):
            codes.append(found.group(1))
    return form, tuple(codes)


def page_url(release: Release) -> str | None:
    """The filing index page, when the filing may carry a press release (see
    `Filing.expects_press_release`): the page that names exhibit 99.1."""
    form, codes = filing_of(release)
    url = release.url.strip()
    if not url.lower().startswith(("https://", "http://")):
        return None
    if form.startswith("6-K") or not codes or PRESS_RELEASE_ITEMS.intersection(codes):
        return url
    return url if "9.01" in codes else None


# --- the filing index page -------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    seq: str
    description: str
    url: str
    type: str
    size: str


@dataclass(frozen=True)
class FilingIndex:
    """What a filing index page (`...-index.htm`) says."""

    accession: str
    form: str
    filing_date: str
    accepted_utc: str | None  # "Accepted 2023-03-15 16:06:36" is Eastern time, no zone given
    items: tuple[str, ...]
    company: str
    cik: int | None
    documents: tuple[Document, ...]


def _soup(html: bytes | str):
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(html, "lxml")


def eastern_to_utc(value: str) -> str | None:
    """`2023-03-15 16:06:36` (EDGAR's Eastern wall clock) -> `2023-03-15T20:06:36Z`."""
    try:
        when = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=EASTERN)
    except ValueError:
        return None
    return when.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_index(html: bytes | str, url: str) -> FilingIndex:
    """A filing index page, read tolerantly (`div.formDiv` in 2026, `div#formDiv` in 2016)."""
    soup = _soup(html)
    info: dict[str, str] = {}
    for head in soup.select(".infoHead"):
        value = head.find_next_sibling(class_="info")
        if value is not None:
            info[head.get_text(" ", strip=True)] = value.get_text("\n", strip=True)
    form_name = soup.select_one("#formName")
    form = ""
    if form_name is not None:
        found = re.search(r"Form\s+(\S+)", form_name.get_text(" ", strip=True))
        form = found.group(1).upper() if found else ""
    accession = ""
    sec_num = soup.select_one("#secNum")
    for candidate in (sec_num.get_text(" ", strip=True) if sec_num else "", url):
        if found := _ACCESSION.search(candidate):
            accession = found.group(1)
            break
    items = tuple(
        dict.fromkeys(_normal_code(m.group(1)) for m in _ITEM_LINE.finditer(info.get("Items", "")))
    )
    company, cik = "", None
    name = soup.select_one(".companyName")
    if name is not None:
        label = name.get_text(" ", strip=True)
        company = one_line(re.split(r"\s*\((?:Filer|Subject|Filed by)\)", label)[0], MAX_FIELD)
        if found := re.search(r"CIK\W+(\d{1,10})", label):
            cik = int(found.group(1))
    documents: list[Document] = []
    for table in soup.select("table.tableFile"):
        for row in table.find_all("tr"):
            cells = row.find_all("td")
            if len(cells) < 4:
                continue
            link = cells[2].find("a")
            href = link.get("href", "") if link is not None else ""
            documents.append(
                Document(
                    seq=cells[0].get_text(strip=True),
                    description=cells[1].get_text(" ", strip=True),
                    url=document_url(href, url) if href else "",
                    type=cells[3].get_text(strip=True).upper(),
                    size=cells[4].get_text(strip=True) if len(cells) > 4 else "",
                )
            )
    return FilingIndex(
        accession=accession,
        form=form,
        filing_date=info.get("Filing Date", ""),
        accepted_utc=eastern_to_utc(info.get("Accepted", "")),
        items=items,
        company=company,
        cik=cik,
        documents=tuple(documents),
    )


def document_url(href: str, index_url: str) -> str:
    """An absolute document URL; the inline-XBRL viewer prefix (`/ix?doc=`) removed."""
    href = href.strip()
    if href.startswith("/ix?doc="):
        href = href[len("/ix?doc=") :]
    return urljoin(index_url, href)


_EX99 = re.compile(r"^EX-99(?:\.0?1)?$")


def find_exhibit(html: bytes | str, index_url: str) -> str | None:
    """The URL of exhibit 99.1 in a filing index page (type `EX-99.1`, else `EX-99.01` or
    `EX-99`, else the first `EX-99.x`), or None when the filing has none."""
    documents = [d for d in parse_index(html, index_url).documents if d.url]
    for wanted in (
        lambda d: d.type == "EX-99.1",
        lambda d: bool(_EX99.match(d.type)) or d.description.upper() == "EX-99.1",
        lambda d: d.type.startswith("EX-99"),
    ):
        for document in documents:
            if wanted(document):
                return document.url
    return None


# --- exhibit 99.1 ----------------------------------------------------------------------------

# The SGML wrapper of a document cut from the complete submission file.
_SGML_HEAD = re.compile(rb"^\s*<DOCUMENT>.*?<TEXT>\s*", re.DOTALL)
_SGML_TAIL = re.compile(rb"</TEXT>\s*</DOCUMENT>[\s\S]*$")
_EXHIBIT_LABEL = re.compile(r"^\s*(?:EX(?:HIBIT)?[\s.-]*99(?:\.\d+)?)\s*\n+", re.IGNORECASE)
_DATELINE = re.compile(
    r"(?:\(\s*BUSINESS\s+WIRE\s*\)|/\s*PRNewswire|GLOBE\s+NEWSWIRE|ACCESS\s*(?:Newswire|WIRE)"
    r"|^[A-Z][A-Z .,'’]{2,40},?.{0,40}?\b(?:19|20)\d{2}\b\s*(?:[–—-]|/))"
)
_NOT_HEADLINE = re.compile(
    r"@|https?://|www\.|\(\d{3}\)\s*\d|\d{3}[-.]\d{3}[-.]\d{4}|^(?:for immediate release|"
    r"exhibit\s+99|contacts?\b|investor|media|press)",
    re.IGNORECASE,
)


def exhibit_text(html: bytes | str) -> str:
    """The text of an exhibit 99.1 document (its SGML wrapper and "Exhibit 99.1" label off)."""
    body = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    body = _SGML_TAIL.sub(b"", _SGML_HEAD.sub(b"", body, count=1), count=1)
    found = page_text(body, ())
    return _EXHIBIT_LABEL.sub("", found, count=1).strip()


def headline(exhibit: str) -> str:
    """The release's headline: the first line after "For Immediate Release" (or from the top)
    that reads like one (4+ words, no contact details), before the dateline; "" if none."""
    lines = [line.strip() for line in exhibit.split("\n") if line.strip()]
    end = next((i for i, line in enumerate(lines[:80]) if _DATELINE.search(line[:160])), None)
    if end is None:
        return ""
    start = next(
        (i + 1 for i, line in enumerate(lines[:end]) if line.lower().startswith("for immediate")),
        0,
    )
    for line in lines[start:end]:
        if len(line.split()) >= 4 and not _NOT_HEADLINE.search(line) and len(line) <= 300:
            return line
    return ""


def exhibit_into_release(release: Release, html: bytes, url: str) -> Release:
    """The filing's release with exhibit 99.1's text, headline and dateline tickers. A page
    that is no exhibit (the index page itself: the filing has none) leaves it unchanged."""
    if b"EDGAR Filing Documents" in html[:4096] or b"tableFile" in html:
        return release
    found = clean_text(exhibit_text(html))
    if len(found) <= len(release.text):
        return release
    title = headline(found) or release.title
    return replace(
        release,
        text=found,
        title=one_line(title, MAX_TITLE),
        tickers=tuple(dict.fromkeys((*release.tickers, *dateline_tickers(found)))),
    )


def text_from_page(html: bytes, url: str = "") -> str:
    return exhibit_text(html)


def release_filter(config: Any) -> Any:
    """Keep the filings of watched filers (see `monitor.sources.sec_watch`)."""
    from monitor.sources.sec_watch import filter_for

    return filter_for(config)


def tag_hints(release: Release) -> tuple[tuple[str, str], ...]:
    """(tag, the item line) for each item of the filing that hints at a tag (1.01 deal, 2.02
    earnings, 3.02 financing, 5.02 leadership ...): what a filing without a readable exhibit
    says of itself."""
    hints = []
    for line in release.subjects:
        found = _ITEM_LINE.match(line)
        tag = ITEMS.get(found.group(1), ("", None))[1] if found else None
        if tag:
            hints.append((tag, line))
    return tuple(hints)


PLUGIN = Source(
    name=SOURCE,
    hosts=HOSTS,
    entry_to_release=entry_to_release,
    release_id=release_id,
    full_text=False,
    # getcompany: `&start=N&count=M`, at most 100 a page (the feeds default to 40).
    paging=Paging(style="query", max_size=100, default_size=40),
    item_id_patterns=_RAW_ID,
    item_pattern=ATOM_ENTRY,
    page_url=page_url,
    text_from_page=text_from_page,
    follow_page=find_exhibit,
    tickers_in_text=dateline_tickers,
    page_to_release=exhibit_into_release,
    description="SEC EDGAR Atom (8-K, 8-K/A, 6-K; exhibit 99.1 from the filing index)",
    tag_hints=tag_hints,
    release_filter=release_filter,
)


def cik_of(release: Release) -> int | None:
    """The filer's CIK of a filing release (its index URL: `/edgar/data/<cik>/...`)."""
    found = _CIK_IN_URL.search(release.url)
    return int(found.group(1)) if found else None


def is_latest_feed(url: str) -> bool:
    """True for EDGAR's latest-filings feed (`action=getcurrent`): every company's filings."""
    return "action=getcurrent" in url.lower()
