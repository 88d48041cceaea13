"""PR Newswire: the real RSS shape (items 1-2 real, 3 constructed by its capturer) and a real
article page, read through the source interface; fetched from a local server."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.fetch import fetch
from monitor.models import Ticker
from monitor.sources import get, prnewswire
from monitor.sources.base import drop_known_items, read_feed
from tests.conftest import FIXTURES

NOW = datetime(2026, 12, 1, tzinfo=UTC)
RSS = FIXTURES / "prnewswire" / "prn-rss-financial-services-2026-09-13.xml"
PAGE = FIXTURES / "prnewswire" / "prn-article-hackerrank-300256929.html"
SOURCE = get("prnewswire")


def fetched(server, path: str, body: bytes) -> bytes:
    url = server.add(path, body)
    with httpx.Client() as client:
        result = fetch(client, url)
    assert result.ok, result.error
    return result.body


@pytest.fixture
def parsed(server):
    body = fetched(server, "rss/financial-services-latest-news-list.rss", RSS.read_bytes())
    return read_feed(SOURCE, "https://www.prnewswire.com/rss/x.rss", body, now=NOW)


def test_every_item_with_its_id_from_the_url(parsed):
    assert parsed.failed_items == 0
    assert [r.release_id for r in parsed.releases] == ["302876446", "302876793", "302999111"]
    assert all(r.source == "prnewswire" for r in parsed.releases)


def test_dates_with_offset_become_utc_and_keep_their_raw_text(parsed):
    first, second, _ = parsed.releases
    assert first.published_utc == "2026-09-13T14:05:00Z"
    assert first.published_raw == "Sun, 13 Sep 2026 14:05:00 +0000"
    # Published late on Sept. 11 in San Mateo (the dateline), Sept. 12 in UTC.
    assert second.published_utc == "2026-09-12T02:28:00Z"
    assert "Sept. 11, 2026 /PRNewswire/" in second.text


def test_tickers_only_from_the_text(parsed):
    insurance, achieve, cryoport = parsed.releases
    assert insurance.tickers == () and achieve.tickers == ()  # the real items: no listed issuer
    assert cryoport.tickers == (Ticker("NASDAQ", "CYRX"),)


def test_issuer_subjects_and_cut_summary(parsed):
    insurance, achieve, cryoport = parsed.releases
    assert insurance.issuer == "HelloNation"
    assert cryoport.issuer == "Cryoport, Inc."
    assert cryoport.subjects == ("ERN", "Earnings")
    assert achieve.subjects == ("JVN", "Joint Ventures")
    assert all(prnewswire.is_cut(r.text) for r in parsed.releases)
    assert SOURCE.full_text is False


@pytest.mark.parametrize(
    ("dateline", "expected"),
    [
        ("Cryoport, Inc. (NASDAQ: CYRX), a leader", (Ticker("NASDAQ", "CYRX"),)),
        ("Palatin Technologies, Inc. (NYSE American: PTN) today", (Ticker("NYSEAMERICAN", "PTN"),)),
        ("Acme Bio Corp. (OTCQB: ACMB) announced", (Ticker("OTC", "ACMB"),)),
        (
            "Medicenna (TSX: MDNA) (OTCQX: MDNAF) today",
            (Ticker("TSX", "MDNA"), Ticker("OTC", "MDNAF")),
        ),
        (
            "Aeterna (NASDAQ:AEZS) (TSX:AEZS) said",
            (Ticker("NASDAQ", "AEZS"), Ticker("TSX", "AEZS")),
        ),
        ("the company (Note: see below) said", ()),
    ],
)
def test_ticker_forms_in_the_dateline(dateline, expected):
    entry = {
        "link": "https://www.prnewswire.com/news-releases/x-301234567.html",
        "title": "X",
        "summary": f"<p>NEW YORK, Jan. 5, 2026 /PRNewswire/ -- {dateline} ...</p>",
        "published": "Mon, 05 Jan 2026 13:00:00 +0000",
    }
    assert prnewswire.entry_to_release(entry, now=NOW).tickers == expected


def test_id_ignores_tracking_query_and_slug_changes():
    a = {
        "link": "https://www.prnewswire.com/news-releases/old-slug-302876446.html?tc=eml_cleartime"
    }
    b = {"link": "http://prnewswire.com/news-releases/New-Slug-302876446.html"}
    assert prnewswire.release_id(a) == prnewswire.release_id(b) == "302876446"


def test_page_gives_the_full_text_for_a_cut_summary(parsed):
    html = PAGE.read_bytes()
    text = SOURCE.text_from_page(html, "https://www.prnewswire.com/news-releases/x-300256929.html")
    assert text.startswith(
        "PALO ALTO, Calif., April 25, 2016 /PRNewswire/ -- HackerRank, a platform"
    )
    assert "SOURCE HackerRank" in text
    assert "Send a Release" not in text and "Resources" not in text  # no site navigation
    cut = parsed.releases[2]
    assert SOURCE.page_url(cut) == cut.url
    full = SOURCE.with_page(cut, html, cut.url)
    assert full.text == text and len(full.text) > 4 * len(cut.text)
    assert full.tickers == cut.tickers  # the feed's tickers stay first
    assert full.release_id == cut.release_id and full.title == cut.title


def test_page_without_the_release_section_falls_back_to_the_main_text():
    html = (
        b"<html><body><nav><a href='/'>Home</a> <a>News</a></nav><main><div class='new-body'>"
        b"<p>BOSTON, March 2, 2026 /PRNewswire/ -- Example Bio (NASDAQ: EXBI) today announced"
        b" a collaboration.</p><p>About Example Bio</p></div></main><footer>(c) Cision</footer>"
        b"</body></html>"
    )
    text = prnewswire.text_from_page(html, "")
    assert text.startswith("BOSTON, March 2, 2026 /PRNewswire/")
    assert "Home" not in text and "Cision" not in text


def test_a_page_with_less_text_keeps_the_summary(parsed):
    cut = parsed.releases[2]
    assert SOURCE.with_page(cut, b"<html><body><p>Not found</p></body></html>", cut.url) == cut
    assert SOURCE.with_page(cut, b"", cut.url) == cut


def test_malformed_items_never_stop_the_others():
    body = RSS.read_bytes().replace(
        b"</channel>",
        b"<item><pubDate>yesterday</pubDate></item>"  # nothing to identify it: a failure
        b"<item><title>No link</title><description>BOSTON -- text</description>"
        b"<pubDate>Fri, 31 Dec 9999 10:00:00 +0000</pubDate></item></channel>",
    )
    parsed = read_feed(SOURCE, "https://www.prnewswire.com/rss/x.rss", body, now=NOW)
    assert len(parsed.releases) == 4
    assert parsed.failed_items == 1 and parsed.failures[0].startswith("item 4: ValueError")
    hashed = parsed.releases[3]
    assert hashed.release_id.startswith("h") and hashed.published_utc is None
    assert any("date out of range" in f for f in parsed.flagged)


def test_known_items_are_dropped_before_feedparser_with_the_same_ids():
    body = RSS.read_bytes()
    asked: list[list[str]] = []

    def known(ids):
        asked.append(ids)
        return {"302876793"}

    rest, dropped = drop_known_items(SOURCE, body, known)
    assert asked == [["302876446", "302876793", "302999111"]]
    assert dropped == ("302876793",)
    parsed = read_feed(SOURCE, "u", rest, now=NOW)
    assert [r.release_id for r in parsed.releases] == ["302876446", "302999111"]


titles = st.text(max_size=80)
ids = st.one_of(st.integers(min_value=0, max_value=10**15).map(str), st.text(max_size=12))
dates = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S +0000")),
    st.text(max_size=30),
    st.just(""),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=titles, release=ids, date=dates, summary=st.text(max_size=200))
def test_property_any_item_gives_a_release_or_a_documented_error(title, release, date, summary):
    entry = {
        "title": title,
        "link": f"https://www.prnewswire.com/news-releases/slug-{release}.html" if release else "",
        "published": date,
        "summary": summary,
    }
    try:
        made = prnewswire.entry_to_release(entry, now=NOW, notes=[])
    except ValueError as error:  # documented: nothing identifies the item
        assert "no link, guid, title or description" in str(error)
        return
    assert made.release_id
    made.text.encode("utf-8")
    assert made.published_utc is None or made.published_utc.endswith("Z")
    if release.isdigit() and 6 <= len(release) <= 12:
        assert made.release_id == release
