"""Every wire through the generic poller: a feed entry names (or implies) its source; the
releases of PR Newswire and Business Wire arrive in the store with their ids, tickers and full
page text; `source:` filters them; backfill pages only wires that page."""

from __future__ import annotations

import pytest

from monitor.backfill import backfill_feed
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.poller import Poller
from monitor.query import QueryError, parse_query
from monitor.store import Store
from tests.gnw import Item, feed
from tests.wires import (
    BW_FEED,
    BW_PAGE,
    CRYOPORT_PATH,
    IBKR_PATH,
    PRN_FEED,
    PRN_PAGE,
    localised,
    wire_config,
)


def poll(write_config, feeds: str, watch: str = "") -> tuple[Store, Poller]:
    config = load_config(write_config(wire_config(feeds, watch)))
    store = Store(config.storage.path)
    poller = Poller.create(config, store)
    poller.poll(force=True)
    return store, poller


def test_prnewswire_polled_end_to_end(server, write_config):
    url = server.add("/prn.rss", localised(PRN_FEED.read_bytes(), server.base_url))
    server.add(CRYOPORT_PATH, PRN_PAGE.read_bytes(), headers={"Content-Type": "text/html"})
    store, poller = poll(write_config, f'[{{ url = "{url}", source = "prnewswire" }}]')
    rows = store.query(parse_query("source:prnewswire"))
    assert sorted(r["release_id"] for r in rows) == ["302876446", "302876793", "302999111"]
    cryoport = store.get("302999111")[0]
    assert cryoport["source"] == "prnewswire" and "NASDAQ:CYRX" in cryoport["tickers"]
    assert "HackerRank" in cryoport["text"]  # the page's text (the sample page) replaced it
    assert cryoport["published_utc"] == "2026-09-11T11:00:00Z"
    assert store.query(parse_query("source:globenewswire")) == []
    poller.close()
    store.close()


def test_businesswire_polled_end_to_end(server, write_config):
    url = server.add("/bw.rss", localised(BW_FEED.read_bytes(), server.base_url))
    server.add(IBKR_PATH, BW_PAGE.read_bytes(), headers={"Content-Type": "text/html"})
    store, poller = poll(write_config, f'[{{ url = "{url}", source = "businesswire" }}]')
    ibkr = store.get("20210130005024")[0]
    assert ibkr["source"] == "businesswire" and "?feedref" not in ibkr["url"]
    assert any(t.endswith("IBKR") for t in ibkr["tickers"])
    assert len(ibkr["text"]) > 400  # the article page, not the cut summary
    assert [p for p, _ in server.requests].count(IBKR_PATH) == 1
    assert len(store.query(parse_query("source:businesswire"))) == 2  # the malformed one: no
    poller.close()
    store.close()


def test_known_items_of_any_wire_are_not_read_again(server, write_config):
    body = localised(PRN_FEED.read_bytes(), server.base_url)
    url = server.add("/prn.rss", body)
    store, poller = poll(write_config, f'[{{ url = "{url}", source = "prnewswire" }}]')
    server.add("/prn.rss", body + b"<!-- changed -->")
    report = poller.poll(force=True)
    assert (report.feeds[0].new, report.feeds[0].already) == (0, 3)
    poller.close()
    store.close()


def test_a_plain_url_on_an_unknown_host_is_read_as_globenewswire(server, write_config):
    url = server.add("/gnw.xml", feed(Item("3000001", "Cellectar Signs License")))
    store, poller = poll(write_config, f'["{url}"]')
    assert store.get("3000001")[0]["source"] == "globenewswire"
    assert poller.source_of("https://www.prnewswire.com/rss/news-releases-list.rss").name == (
        "prnewswire"
    )
    assert poller.source_of("https://feed.businesswire.com/rss/home/?rss=G1").name == (
        "businesswire"
    )
    assert poller.source_of("https://www.sec.gov/cgi-bin/browse-edgar?x").name == "sec"
    poller.close()
    store.close()


def test_backfill_skips_a_wire_without_paging_with_a_note(server, write_config):
    url = server.add("/prn.rss", localised(PRN_FEED.read_bytes(), server.base_url))
    store, poller = poll(write_config, f'[{{ url = "{url}", source = "prnewswire" }}]')
    report = backfill_feed(poller, url)
    assert report.pages == 0 and report.outcome.startswith("skipped: prnewswire")
    poller.close()
    store.close()


@pytest.mark.parametrize(
    ("entry", "key", "says"),
    [
        ('[{ url = "https://a.example/f", source = "reuters" }]', "poll.feeds[0].source", "globenewswire, prnewswire, businesswire, sec"),
        ('[{ source = "prnewswire" }]', "poll.feeds[0].url", "missing"),
        ('[{ url = "ftp://x/f", source = "sec" }]', "poll.feeds[0].url", "not an http(s) URL"),
        ('[{ url = "https://a.example/f", wire = "sec" }]', "poll.feeds[0].wire", "unknown key"),
        ("[3]", "poll.feeds[0]", "expected a string"),
        ('[{ url = "https://a.example/f", source = "sec" }, { url = "https://a.example/f", source = "prnewswire" }]', "poll.feeds[1].source", "already named"),
    ],
)  # fmt: skip
def test_bad_feed_entries_are_one_line_errors(write_config, entry, key, says):
    path = write_config(wire_config(entry))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "\n" not in message and key in message and says in message


def test_named_and_plain_feed_entries_load(write_config):
    entries = (
        '["https://www.prnewswire.com/rss/health-latest-news.rss", '
        '{ url = "http://127.0.0.1:9/mirror.rss", source = "BusinessWire" }]'
    )
    config = load_config(write_config(wire_config(entries)))
    assert config.feed_urls() == (
        "https://www.prnewswire.com/rss/health-latest-news.rss",
        "http://127.0.0.1:9/mirror.rss",
    )
    assert config.source_name("http://127.0.0.1:9/mirror.rss") == "businesswire"
    assert config.source_name("https://www.prnewswire.com/rss/health-latest-news.rss") is None


def test_source_filter_names_the_wires_when_unknown():
    with pytest.raises(QueryError) as error:
        parse_query("source:reuters")
    assert "globenewswire, prnewswire, businesswire, sec" in str(error.value)
    assert parse_query("source:PRNewswire").sources == ("prnewswire",)
