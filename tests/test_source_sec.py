"""SEC EDGAR: real Atom feeds (latest filings 2026, per company 2021), a real filing index page
and real exhibit 99.1 documents, through the source interface."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from monitor.fetch import fetch
from monitor.models import Ticker
from monitor.sources import get, sec
from monitor.sources.base import SkipItem, drop_known_items, read_feed
from tests.conftest import FIXTURES

NOW = datetime(2026, 12, 1, tzinfo=UTC)
EDGAR = FIXTURES / "edgar"
CURRENT = EDGAR / "getcurrent-2026-01-12-excerpt.xml"
COMPANY = EDGAR / "getcompany-AAPL-2021-04-18-excerpt.xml"
INDEX = EDGAR / "filing-index-ADBE-0000796343-23-000044.html"
INDEX_URL = "https://www.sec.gov/Archives/edgar/data/796343/000079634323000044/0000796343-23-000044-index.htm"
SOURCE = get("sec")


@pytest.fixture
def current(server):
    url = server.add("cgi-bin/browse-edgar", CURRENT.read_bytes())
    with httpx.Client() as client:
        result = fetch(client, url)
    assert result.ok, result.error
    return read_feed(SOURCE, url, result.body, "application/atom+xml", now=NOW)


def test_latest_filings_keep_8k_8ka_and_6k_once_each(current):
    assert current.failed_items == 0
    by_id = {r.release_id: r for r in current.releases}
    # The Form 4 and the Form 144 are skipped; Avalo's 8-K is listed twice (a second filer).
    assert [r.release_id for r in current.releases] == [
        "0001193125-26-009807",  # ProKidney 8-K
        "0001534120-26-000003",  # Avalo 8-K
        "0001711279-26-000008",  # Krystal Biotech 8-K
        "0001628280-26-001760",  # ECARX 6-K
        "0001534120-26-000007",  # Avalo 8-K/A (constructed)
    ]
    assert by_id["0001534120-26-000003"].issuer == "Avalo Therapeutics, Inc."  # the first listing
    assert all(r.source == "sec" for r in current.releases)


def test_filing_record_from_a_latest_filings_entry(current):
    import feedparser

    entries = feedparser.parse(CURRENT.read_bytes()).entries
    avalo = sec.filing_from_entry(next(e for e in entries if "Avalo" in e.title), NOW)
    assert avalo.accession == "0001534120-26-000003"
    assert avalo.form == "8-K" and not avalo.amendment
    assert avalo.cik == 1534120
    assert avalo.company == "Avalo Therapeutics, Inc."
    assert avalo.items == ("2.02", "8.01")
    assert avalo.filed_utc == "2026-01-12T12:53:04Z"  # 07:53:04 -05:00
    assert avalo.filed_raw == "2026-01-12T07:53:04-05:00"
    assert avalo.filing_date == "2026-01-12"
    assert avalo.index_url.endswith("/1534120/000153412026000003/0001534120-26-000003-index.htm")
    assert avalo.hints == ("earnings",)
    assert avalo.expects_press_release
    amended = sec.filing_from_entry(next(e for e in entries if "8-K/A" in e.title), NOW)
    assert amended.form == "8-K/A" and amended.amendment and amended.items == ("5.02",)
    assert amended.hints == ("leadership",)
    ecarx = sec.filing_from_entry(next(e for e in entries if "ECARX" in e.title), NOW)
    assert ecarx.form == "6-K" and ecarx.items == () and ecarx.expects_press_release


def test_release_of_a_filing(current):
    avalo = next(r for r in current.releases if r.release_id == "0001534120-26-000003")
    assert avalo.title == (
        "8-K Avalo Therapeutics, Inc.: Results of Operations and Financial Condition; Other Events"
    )
    assert avalo.issuer == "Avalo Therapeutics, Inc."
    assert avalo.subjects == (
        "Form 8-K",
        "Item 2.02: Results of Operations and Financial Condition",
        "Item 8.01: Other Events",
    )
    assert avalo.published_utc == "2026-01-12T12:53:04Z"
    assert avalo.tickers == ()  # CIK -> ticker is the ticker map's job
    assert SOURCE.page_url(avalo) == avalo.url


def test_other_forms_are_skipped_not_failed():
    import feedparser

    entries = feedparser.parse(CURRENT.read_bytes()).entries
    form4 = next(e for e in entries if e.title.startswith("4 - "))
    with pytest.raises(SkipItem):
        sec.entry_to_release(form4)


def test_per_company_feed_items_desc_and_paging():
    parsed = read_feed(
        SOURCE, "https://www.sec.gov/cgi-bin/browse-edgar", COMPANY.read_bytes(), now=NOW
    )
    assert [r.release_id for r in parsed.releases] == [
        "0001193125-21-054710",
        "0001193125-21-032394",
        "0000320193-21-000009",
    ]
    vote, other, results = parsed.releases
    assert results.subjects == (
        "Form 8-K",
        "Item 2.02: Results of Operations and Financial Condition",
        "Item 9.01: Financial Statements and Exhibits",
    )
    assert results.title.startswith("8-K CIK 320193: Results of Operations")  # no name per entry
    assert vote.published_utc == "2021-02-24T21:31:21Z"
    # A vote result carries no press release: its index is not fetched.
    assert SOURCE.page_url(vote) is None
    assert SOURCE.page_url(other) == other.url
    assert SOURCE.paging.page_url(
        "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=0001279704&type=8-K"
        "&owner=include&start=0&count=40&output=atom",
        40,
        80,
    ) == (
        "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=0001279704&type=8-K"
        "&owner=include&output=atom&count=40&start=80"
    )
    assert SOURCE.paging.page_url("https://www.sec.gov/x?a=1", 500, 0).endswith("count=100&start=0")


def test_known_accessions_dropped_before_feedparser():
    body = CURRENT.read_bytes()
    rest, dropped = drop_known_items(SOURCE, body, lambda ids: {"0001534120-26-000003"} & set(ids))
    assert dropped == ("0001534120-26-000003",)
    ids = {r.release_id for r in read_feed(SOURCE, "u", rest, now=NOW).releases}
    assert "0001534120-26-000003" not in ids and "0001534120-26-000007" in ids


def test_filing_index_page():
    index = sec.parse_index(INDEX.read_bytes(), INDEX_URL)
    assert index.accession == "0000796343-23-000044"
    assert index.form == "8-K"
    assert index.filing_date == "2023-03-15"
    # "Accepted 2023-03-15 16:06:36" is Eastern; the page's Last-Modified says 20:06:36 GMT.
    assert index.accepted_utc == "2023-03-15T20:06:36Z"
    assert index.items == ("2.02", "9.01")
    assert index.company == "ADOBE INC." and index.cik == 796343
    primary = index.documents[0]
    assert primary.type == "8-K"
    assert primary.url.endswith("/796343/000079634323000044/adbe-20230315.htm")  # no /ix?doc=


def test_exhibit_99_1_found_in_the_index():
    assert sec.find_exhibit(INDEX.read_bytes(), INDEX_URL) == (
        "https://www.sec.gov/Archives/edgar/data/796343/000079634323000044/adbeex991q123.htm"
    )
    assert SOURCE.follow_page(INDEX.read_bytes(), INDEX_URL) == sec.find_exhibit(
        INDEX.read_bytes(), INDEX_URL
    )
    without = INDEX.read_bytes().replace(b"EX-99.1", b"EX-10.1")
    assert sec.find_exhibit(without, INDEX_URL) is None
    # 2016 markup: id="formDiv" rather than class="formDiv"; rows are still read.
    old = INDEX.read_bytes().replace(b'class="formDiv"', b'id="formDiv"')
    assert sec.find_exhibit(old, INDEX_URL).endswith("adbeex991q123.htm")


def test_exhibit_text_becomes_the_release():
    filing = sec.Filing(
        accession="0000796343-23-000044",
        form="8-K",
        cik=796343,
        company="ADOBE INC.",
        filed_utc="2023-03-15T20:06:36Z",
        filed_raw="2023-03-15T16:06:36-04:00",
        filing_date="2023-03-15",
        items=("2.02", "9.01"),
        index_url=INDEX_URL,
    )
    release = sec.release_from_filing(filing)
    exhibit = (EDGAR / "ex99.1-ADBE-excerpt.htm").read_bytes()
    full = SOURCE.with_page(release, exhibit, "https://www.sec.gov/.../adbeex991q123.htm")
    assert full.release_id == "0000796343-23-000044" and full.source == "sec"
    assert full.title == "Adobe Reports Record Revenue in Q1 Fiscal 2023"
    assert not full.text.startswith("Exhibit 99.1")
    assert "SAN JOSE, Calif. – March 15, 2023 – Adobe (Nasdaq:ADBE) today reported" in full.text
    assert full.tickers == (Ticker("NASDAQ", "ADBE"),)  # `Nasdaq&#58;ADBE` read unescaped
    assert full.url == INDEX_URL and full.published_utc == release.published_utc
    # The index page itself (a filing with no exhibit) leaves the release as it was.
    assert SOURCE.with_page(release, INDEX.read_bytes(), INDEX_URL) == release


def test_exhibit_with_its_sgml_wrapper_and_a_wire_dateline():
    text = sec.exhibit_text((EDGAR / "ex99.1-BKE-with-wrapper-excerpt.html").read_bytes())
    assert "<TYPE>" not in text and "EX-99.1" not in text and "provenance" not in text
    assert sec.headline(text) == "THE BUCKLE, INC. REPORTS THIRD QUARTER NET INCOME"
    assert "KEARNEY, NE -- (BUSINESS WIRE) -- The Buckle, Inc. (NYSE: BKE) announced" in text


def test_malformed_entries_never_stop_the_others():
    body = CURRENT.read_bytes().replace(
        b"</feed>",
        b"<entry><title>8-K - NO NUMBER INC (0000000001) (Filer)</title>"
        b'<category scheme="https://www.sec.gov/" label="form type" term="8-K"/>'
        b"<updated>not a date</updated></entry></feed>",
    )
    parsed = read_feed(SOURCE, "u", body, now=NOW)
    assert parsed.failed_items == 1
    assert "no accession number" in parsed.failures[0]
    assert len(parsed.releases) == 5


def test_item_hints():
    items = ("1.01", "3.02", "5.02", "7.01")
    filing = sec.Filing("0000000000-26-000001", "8-K", 1, "X", None, "", "", items, "")
    assert filing.hints == ("deal", "financing", "leadership")
    assert filing.item_lines[0] == "Item 1.01: Entry into a Material Definitive Agreement"
