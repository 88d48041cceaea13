"""Business Wire: RSS items and an article page built to the known shape (no real capture
exists; item 1 and the page carry the real text of release 20210130005024)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.fetch import fetch
from monitor.models import Ticker
from monitor.sources import businesswire, get
from monitor.sources.base import drop_known_items, read_feed
from tests.conftest import FIXTURES

NOW = datetime(2026, 12, 1, tzinfo=UTC)
RSS = FIXTURES / "businesswire" / "bw-rss-constructed.xml"
PAGE = FIXTURES / "businesswire" / "bw-article-IBKR-20210130005024-constructed.html"
FEED_URL = "https://feed.businesswire.com/rss/home/?rss=G1QFDERJXkJeGFNXXQ=="
SOURCE = get("businesswire")


@pytest.fixture
def parsed(server):
    url = server.add("rss/home/", RSS.read_bytes())
    with httpx.Client() as client:
        result = fetch(client, url)
    assert result.ok, result.error
    return read_feed(SOURCE, FEED_URL, result.body, result.content_type, now=NOW)


def test_ids_from_news_home_path_and_tracking_query_stripped(parsed):
    ibkr, exon = parsed.releases
    assert ibkr.release_id == "20210130005024"
    assert ibkr.url == (
        "https://www.businesswire.com/news/home/20210130005024/en/"
        "Interactive-Brokers-Lifts-All-Trading-Restrictions-on-Options"
    )
    assert "feedref" not in ibkr.url
    assert exon.release_id == "20260302005101"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.businesswire.com/news/home/20210130005024/en/Slug/?feedref=JjAwJuNHiystnCoBq",
        "http://businesswire.com/news/home/20210130005024/en/",
        "https://www.businesswire.com/news/home/20210130005024",
        "https://cts.businesswire.com/ct/CT?id=smartlink&newsitemid=20210130005024&lan=en-US",
        "https://www.businesswire.com/portal/site/home/permalink/?ndmViewId=news_view&newsId=20210130005024",
    ],
)
def test_one_id_whatever_the_url_form(url):
    assert businesswire.release_id({"link": url}) == "20210130005024"


def test_dates_with_their_zones(parsed):
    ibkr, exon = parsed.releases
    assert ibkr.published_utc == "2021-01-31T02:41:00Z"
    assert ibkr.published_raw == "Sun, 31 Jan 2021 02:41:00 UTC"
    assert exon.published_utc == "2026-03-02T13:00:00Z"  # 08:00 EST
    assert exon.published_raw.endswith("EST")


def test_tickers_from_parentheses_and_cashtags_never_hashtags(parsed):
    ibkr, exon = parsed.releases
    # $IBKR repeats (Nasdaq: IBKR): kept once, with its exchange.
    assert ibkr.tickers == (Ticker("NASDAQ", "IBKR"),)
    assert exon.tickers == (Ticker("NYSEAMERICAN", "EXON"),)
    assert all(t.symbol != "ASCO2026" for t in exon.tickers)


def test_cashtag_alone_is_a_ticker_without_exchange_and_dollars_are_not():
    text = (
        "SAN DIEGO--(BUSINESS WIRE)--$ACAD #ACADIA--ACADIA Pharmaceuticals Inc. today announced"
        " a $150 million offering at US$10.00 per share; $CAD exposure is limited."
    )
    assert businesswire.tickers_in_text(text) == (Ticker("", "ACAD"), Ticker("", "CAD"))
    assert businesswire.cashtags("no wire tag, just $5 million") == ()
    far = "KEARNEY, NE--(BUSINESS WIRE)--" + "x " * 400 + "$BKE"
    assert businesswire.cashtags(far) == ()


def test_issuer_from_dc_creator(parsed):
    assert parsed.releases[0].issuer == "Interactive Brokers Group"


def test_malformed_item_counted_others_kept(parsed):
    assert len(parsed.releases) == 2
    assert parsed.failed_items == 1
    assert parsed.failures[0].startswith("item 3: ValueError")


def test_cut_summary_becomes_the_page_text(parsed):
    ibkr = parsed.releases[0]
    assert ibkr.text.endswith("...")
    assert SOURCE.page_url(ibkr) == ibkr.url
    full = SOURCE.with_page(ibkr, PAGE.read_bytes(), ibkr.url)
    assert full.text.startswith(
        "GREENWICH, Conn.--(BUSINESS WIRE)--$IBKR #IBKR--Interactive Brokers Group (Nasdaq: IBKR)"
    )
    assert "Barron’s ranked Interactive Brokers #1" in full.text
    assert "Services for Journalists" not in full.text  # navigation is not text
    assert full.tickers == (Ticker("NASDAQ", "IBKR"),)
    assert full.release_id == ibkr.release_id


def test_known_items_dropped_before_feedparser():
    rest, dropped = drop_known_items(SOURCE, RSS.read_bytes(), lambda ids: set())
    assert dropped == ()
    # The malformed third item has no readable id: the body goes to feedparser whole.
    assert rest == RSS.read_bytes()
    two = RSS.read_bytes().replace(
        b"<item>\n<pubDate>Mon, 02 Mar 2026 09:00:00 EST</pubDate>\n</item>", b""
    )
    rest, dropped = drop_known_items(SOURCE, two, lambda ids: {"20210130005024"} & set(ids))
    assert dropped == ("20210130005024",)
    assert [r.release_id for r in read_feed(SOURCE, FEED_URL, rest, now=NOW).releases] == [
        "20260302005101"
    ]


@settings(max_examples=150, deadline=None)
@given(
    news_id=st.integers(min_value=0, max_value=10**21),
    query=st.text(max_size=40),
    text=st.text(max_size=300),
)
def test_property_ids_and_tickers_never_raise(news_id, query, text):
    url = f"https://www.businesswire.com/news/home/{news_id}/en/Slug?{query}"
    found = businesswire.release_id({"link": url})
    if 8 <= len(str(news_id)) <= 20:
        assert found == str(news_id)
    businesswire.tickers_in_text(text)
