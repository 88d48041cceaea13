"""The source interface: the registry (by host, by explicit name), every source's contract, and
GlobeNewswire wrapped without a change of behaviour."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor import parse
from monitor.sources import (
    SOURCE_NAMES,
    UnknownSource,
    all_sources,
    get,
    globenewswire,
    recognise,
    source_for,
)
from monitor.sources.base import NO_PAGING, Source, drop_known_items, read_feed
from tests.conftest import FIXTURES

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        (
            "https://www.globenewswire.com/RssFeed/orgclass/1/feedTitle/GlobeNewswire",
            "globenewswire",
        ),
        (
            "https://rss.globenewswire.com/RssFeed/organization/vlXa3ip4O0JMbJucCiUeUg==",
            "globenewswire",
        ),
        (
            "https://www.prnewswire.com/rss/health-latest-news/biotechnology-latest-news-list.rss",
            "prnewswire",
        ),
        ("https://PRNEWSWIRE.COM/rss/news-releases-list.rss", "prnewswire"),
        ("https://feed.businesswire.com/rss/home/?rss=G1QFDERJXkJeGFNXXQ==", "businesswire"),
        (
            "https://www.businesswire.com/portal/site/home/news/industry/?vnsId=31392&rss=1",
            "businesswire",
        ),
        ("https://www.sec.gov/cgi-bin/browse-edgar?action=getcurrent&type=8-K&output=atom", "sec"),
        ("https://data.sec.gov/submissions/CIK0001279704.json", "sec"),
    ],
)
def test_recognised_by_host(url, name):
    assert recognise(url).name == name
    assert source_for(url).name == name


@pytest.mark.parametrize(
    "url",
    [
        "https://notprnewswire.com/rss.xml",  # a host that merely ends in the name
        "https://prnewswire.com.evil.example/rss.xml",
        "https://example.com/www.sec.gov/feed",  # the name in the path
        "http://127.0.0.1:8080/feed.xml",
        "not a url",
        "",
    ],
)
def test_other_hosts_are_not_recognised(url):
    assert recognise(url) is None
    assert source_for(url).name == "globenewswire"  # the default: every feed read as before
    with pytest.raises(UnknownSource):
        source_for(url, default=None)


def test_explicit_name_wins_over_the_host():
    assert source_for("http://127.0.0.1:8080/prn.rss", "prnewswire").name == "prnewswire"
    assert source_for("https://www.globenewswire.com/x", "SEC").name == "sec"
    with pytest.raises(UnknownSource, match="expected one of globenewswire, prnewswire"):
        source_for("https://www.globenewswire.com/x", "reuters")


def test_every_source_fills_the_interface():
    assert SOURCE_NAMES == ("globenewswire", "prnewswire", "businesswire", "sec")
    for source in all_sources():
        assert isinstance(source, Source)
        assert source is get(source.name)
        assert str(source) == source.name
        assert source.hosts and all(source.recognises(f"https://{h}/x") for h in source.hosts)
        assert callable(source.entry_to_release) and callable(source.release_id)
        assert isinstance(source.full_text, bool)
        assert source.item_id_patterns  # every wire can skip known items before feedparser


def test_wires_with_cut_summaries_name_a_page():
    for name in ("prnewswire", "businesswire", "sec"):
        assert get(name).full_text is False
    assert get("prnewswire").paging is NO_PAGING and not get("businesswire").paging.pages
    assert get("sec").paging.pages and get("globenewswire").paging.pages


# --- GlobeNewswire through the interface: the same results as before -----------------------


@pytest.fixture(params=["gnw-undeclared-namespaces.xml", "gnw-declared-namespaces.xml"])
def gnw_body(request):
    return (FIXTURES / request.param).read_bytes()


def test_globenewswire_module_api_is_unchanged():
    plugin = get("globenewswire")
    assert globenewswire.SOURCE == "globenewswire"
    assert plugin.entry_to_release is globenewswire.entry_to_release
    assert plugin.release_id is globenewswire.release_id
    # GNW article pages are not fetched (as before): no page URL for its releases.
    release = read_feed(
        plugin, "u", (FIXTURES / "gnw-declared-namespaces.xml").read_bytes()
    ).releases[0]
    assert plugin.full_text is False and plugin.page_url(release) is None


def test_globenewswire_read_through_the_interface_equals_parse_feed(gnw_body):
    url = "https://www.globenewswire.com/RssFeed/orgclass/1"
    before = parse.parse_feed(url, gnw_body, now=NOW)
    after = read_feed(get("globenewswire"), url, gnw_body, now=NOW)
    assert after.releases == before.releases
    assert after.failed_items == before.failed_items


def test_globenewswire_known_item_skipping_matches_parse(gnw_body):
    known = {"3360561"}

    def ask(ids):
        return known & set(ids)

    assert drop_known_items(get("globenewswire"), gnw_body, ask) == parse.drop_known_items(
        gnw_body, ask
    )


def test_globenewswire_paging_is_the_backfill_path():
    from monitor.backfill import page_url

    feed = "https://www.globenewswire.com/RssFeed/organization/abc=="
    assert get("globenewswire").paging.page_url(feed, 50, 100) == page_url(feed, 50, 100)
    assert get("globenewswire").paging.page_url(feed, 500, 0).endswith("/max/100/start/0")


def test_globenewswire_article_page_text():
    html = (FIXTURES / "globenewswire" / "gnw-article-segment-1300478-excerpt.html").read_bytes()
    text = globenewswire.text_from_page(html)
    assert text.startswith("SAN FRANCISCO, CA--(Marketwired - April 06, 2016) - Segment")
    assert "Newsroom" not in text and "footer" not in text


def test_every_wire_item_id_pattern_agrees_with_its_release_id():
    cases = {
        "globenewswire": FIXTURES / "gnw-declared-namespaces.xml",
        "prnewswire": FIXTURES / "prnewswire" / "prn-rss-financial-services-2026-09-13.xml",
        "sec": FIXTURES / "edgar" / "getcurrent-2026-01-12-excerpt.xml",
    }
    for name, path in cases.items():
        source = get(name)
        body = path.read_bytes()
        raw = [source.item_id(m.group(0)) for m in source.item_pattern.finditer(body)]
        parsed = read_feed(source, "u", body, now=NOW)
        assert {r.release_id for r in parsed.releases} <= set(raw), name
