"""A feed in the real GlobeNewswire item shape, fetched from a local server, read into Releases."""

from __future__ import annotations

import httpx
import pytest

from monitor.errors import FeedError
from monitor.fetch import fetch
from monitor.models import Ticker
from monitor.parse import parse_feed
from tests.conftest import FIXTURES
from tests.gnw import Item, feed


def fetch_and_parse(server, name: str, body: bytes):
    url = server.add(name, body)
    with httpx.Client() as client:
        result = fetch(client, url)
    assert result.ok, result.error
    return parse_feed(url, result.body, result.content_type)


@pytest.fixture(params=["gnw-undeclared-namespaces.xml", "gnw-declared-namespaces.xml"])
def sample(request, server):
    parsed = fetch_and_parse(server, "feed.xml", (FIXTURES / request.param).read_bytes())
    return request.param, {r.title.split()[0]: r for r in parsed.releases}, parsed


def test_sample_yields_every_item(sample):
    _, releases, parsed = sample
    assert set(releases) == {"Axe", "Pan"}
    assert parsed.failed_items == 0


def test_release_id_from_dc_identifier_or_url_path(sample):
    _, releases, _ = sample
    assert releases["Axe"].release_id == "3360561"
    # The declared-namespace copy has no dc:identifier for this item: the URL path gives it.
    assert releases["Pan"].release_id == "3360538"


def test_several_tickers_per_item_with_foreign_listings_and_no_isin(sample):
    _, releases, _ = sample
    assert releases["Axe"].tickers == (Ticker("NASDAQ", "AGPU"),)
    assert releases["Pan"].tickers == (
        Ticker("TSXV", "PGZ"),
        Ticker("FRA", "2EU"),
        Ticker("OTC", "PGZFF"),
    )
    assert all("US74033P1003" not in str(t) for t in releases["Axe"].tickers)


def test_dates_without_seconds_become_utc(sample):
    _, releases, _ = sample
    assert releases["Axe"].published_utc == "2026-09-11T23:43:00Z"
    assert releases["Axe"].published_raw == "Fri, 11 Sep 2026 23:43 GMT"
    assert releases["Pan"].published_utc == "2026-09-11T21:35:00Z"


def test_issuer_language_subjects(sample):
    _, releases, _ = sample
    assert releases["Pan"].issuer == "Pan Global Resources Inc."
    assert releases["Axe"].language == "en"
    assert releases["Axe"].subjects == ("Changes in company's own shares",)


def test_plain_text_from_cdata_html(sample):
    _, releases, _ = sample
    text = releases["Pan"].text
    assert text.startswith(
        "VANCOUVER, British Columbia, Sept. 11, 2026 (GLOBE NEWSWIRE) -- Pan Global"
    )
    assert "<p" not in text and "  " not in text
    assert releases["Pan"].summary_html.startswith('<p align="justify">')


def test_undeclared_namespaces_are_a_warning_not_a_failure(sample):
    name, _, parsed = sample
    if name == "gnw-undeclared-namespaces.xml":
        assert parsed.warning and "unbound prefix" in parsed.warning
    else:
        assert parsed.warning is None


def test_dateline_parenthetical_is_the_ticker_fallback(server):
    item = Item(
        "2800001",
        "Cellectar Expands Collaboration",
        text="FLORHAM PARK, N.J., December 19, 2023 (GLOBE NEWSWIRE) -- Cellectar Biosciences, "
        "Inc. (NASDAQ: CLRB), a late-stage company (Note: see below), today announced...",
    )
    parsed = fetch_and_parse(server, "f.xml", feed(item))
    assert parsed.releases[0].tickers == (Ticker("NASDAQ", "CLRB"),)


def test_category_tickers_win_over_dateline(server):
    item = Item("2800002", "X", text="(Nasdaq: ZZZZ) text", tickers=("Nasdaq:CLRB",))
    parsed = fetch_and_parse(server, "f.xml", feed(item))
    assert parsed.releases[0].tickers == (Ticker("NASDAQ", "CLRB"),)


def test_exchange_with_space_splits_on_first_colon(server):
    item = Item("2800003", "X", tickers=("NYSE American:PTN", "Other OTC:AB:C"))
    parsed = fetch_and_parse(server, "f.xml", feed(item))
    assert parsed.releases[0].tickers[0] == Ticker("NYSEAMERICAN", "PTN")


def test_unparseable_date_keeps_raw_and_item(server):
    item = Item("2800004", "Bad date", pub_date="sometime last week")
    parsed = fetch_and_parse(server, "f.xml", feed(item))
    assert parsed.releases[0].published_utc is None
    assert parsed.releases[0].published_raw == "sometime last week"


def test_html_page_is_not_a_feed(server):
    url = server.add(
        "page", b"<html><body>Maintenance</body></html>", headers={"Content-Type": "text/html"}
    )
    with httpx.Client() as client:
        result = fetch(client, url)
    with pytest.raises(FeedError, match="not a feed: text/html"):
        parse_feed(url, result.body, result.content_type)


def test_doctype_entity_bomb_is_stripped_quickly():
    entity = "A" * 10000
    refs = "&big;" * 20000
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{entity}">]>'
        f'<rss version="2.0"><channel><title>t</title><item><title>x</title>'
        f"<description>{refs}</description><link>https://example.org/news-release/2023/12/19/123456/0/en/x.html</link>"
        f"</item></channel></rss>"
    ).encode()
    parsed = parse_feed("http://127.0.0.1/bomb", body)
    assert len(parsed.releases) == 1
    assert "AAAAAAAAAA" not in parsed.releases[0].text  # the entity was never expanded


def test_plain_text_keeps_paragraphs_and_collapses_every_kind_of_space():
    from monitor.html import html_to_text

    html = (
        "<p>ROCKVILLE,\u00a0Md.,  Dec. 1, 2026\u2009(GLOBE NEWSWIRE)\t--\n Acme\u202fInc. </p>"
        "<p> </p><p>Second<br/>  line</p><script>var x = 1;</script><ul><li>One</li></ul>"
    )
    assert html_to_text(html) == (
        "ROCKVILLE, Md., Dec. 1, 2026 (GLOBE NEWSWIRE) --\nAcme Inc.\n\nSecond\nline\n\nOne"
    )


def test_a_line_break_with_attributes_still_breaks_the_line():
    # Wires write <br class="..."> and <BR CLEAR=all>; read as text they must not glue words.
    from monitor.html import html_to_text

    html = '<p>Chief Executive Officer<br class="dnr">Acme Inc.<BR CLEAR=all>Boston</p><brand>'
    assert html_to_text(html) == "Chief Executive Officer\nAcme Inc.\nBoston"
