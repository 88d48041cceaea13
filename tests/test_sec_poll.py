"""SEC EDGAR polled end to end against a local EDGAR (the real latest-filings Atom excerpt, a real
filing index and exhibit 99.1, a local company_tickers.json): watched filers only, their ticker
added, exhibit 99.1 as the text, SEC's User-Agent on every request, and a request budget that
does not grow with the watchlist."""

from __future__ import annotations

import json
import re

import pytest

from monitor.config import SEC_LATEST_FORMS, SEC_LATEST_PATH, load_config
from monitor.errors import ConfigError
from monitor.poller import SEC_MIN_GAP, Poller
from monitor.store import Store
from tests.wires import FIXTURES, localised

EDGAR = FIXTURES / "edgar"
SEC_AGENT = "Acme Research sec-contact@example.com"
AVALO_INDEX = "/Archives/edgar/data/1534120/000153412026000003/0001534120-26-000003-index.htm"
EXHIBIT = "/Archives/edgar/data/796343/000079634323000044/adbeex991q123.htm"
ATOM = {"Content-Type": "application/atom+xml"}
HTML = {"Content-Type": "text/html"}


def ticker_map(watched: int) -> dict:
    """SEC's real excerpt plus Avalo (AVTX): enough companies to watch `watched` tickers."""
    real = json.loads((FIXTURES / "sec" / "company_tickers-excerpt-2026-02-13.json").read_bytes())
    entries = list(real.values())[: watched - 1]
    entries.append({"cik_str": 1534120, "ticker": "AVTX", "title": "Avalo Therapeutics, Inc."})
    return {str(i): entry for i, entry in enumerate(entries)}


@pytest.fixture
def edgar(server):
    """A local EDGAR: both latest-filings feeds, the ticker map, Avalo's index and exhibit."""
    body = localised((EDGAR / "getcurrent-2026-01-12-excerpt.xml").read_bytes(), server.base_url)
    for form in SEC_LATEST_FORMS:
        server.add(SEC_LATEST_PATH.format(form=form), body, headers=ATOM)
    index = localised((EDGAR / "filing-index-ADBE-0000796343-23-000044.html").read_bytes(), "")
    server.add(AVALO_INDEX, index, headers=HTML)
    server.add(EXHIBIT, (EDGAR / "ex99.1-ADBE-excerpt.htm").read_bytes(), headers=HTML)
    return server


def sec_config(write_config, server, watches: list[str], agent: str = SEC_AGENT) -> str:
    watch = "".join(f'[[watch]]\nticker = "{symbol}"\n' for symbol in watches)
    text = (
        '[storage]\npath = "biomon.db"\n[poll]\ninterval = 60\nhost_gap = 0\ntimeout = 5\n'
        f'user_agent = "biomon-test/0.1"\n[sources.sec]\nenabled = true\n'
        f'base_url = "{server.base_url}"\nuser_agent = "{agent}"\n{watch}'
    )
    return write_config(text)


def polled_once(edgar, write_config, watches: list[str]) -> Store:
    """One forced pass over EDGAR for `watches`; the store, still open, to read from."""
    config = load_config(sec_config(write_config, edgar, watches))
    store = Store(config.storage.path)
    poller = Poller.create(config, store)
    poller.poll(force=True)
    poller.close()
    return store


def watched_symbols(count: int) -> list[str]:
    return [entry["ticker"] for entry in ticker_map(count).values()]


def test_200_watched_tickers_cost_two_feed_requests_a_pass(edgar, write_config):
    edgar.add("/files/company_tickers.json", json.dumps(ticker_map(200)))
    config = load_config(sec_config(write_config, edgar, watched_symbols(200)))
    assert len(config.watch) == 200
    with Store(config.storage.path) as store:
        poller = Poller.create(config, store)
        poller.poll(force=True)
        first = [path for path, _ in edgar.requests]
        edgar.requests.clear()
        poller.poll(force=True)
        second = [path for path, _ in edgar.requests]
        poller.close()
    feeds = [path for path in first if "action=getcurrent" in path]
    assert len(feeds) == 2 and first.count("/files/company_tickers.json") == 1
    assert not [path for path in first if "getcompany" in path]  # no per-company polling
    # Pages only for the watched filer's filings (Avalo's 8-K and 8-K/A): never per ticker.
    assert len(first) <= 2 + 1 + 4
    assert sorted(second) == sorted(SEC_LATEST_PATH.format(form=f) for f in SEC_LATEST_FORMS)


def test_every_request_to_sec_carries_its_contact_user_agent(edgar, write_config):
    edgar.add("/files/company_tickers.json", json.dumps(ticker_map(5)))
    polled_once(edgar, write_config, ["AVTX"]).close()
    assert len(edgar.requests) >= 4
    assert {headers.get("User-Agent") for _, headers in edgar.requests} == {SEC_AGENT}


def test_only_watched_filers_are_stored_with_the_watched_ticker_and_exhibit_text(
    edgar, write_config
):
    edgar.add("/files/company_tickers.json", json.dumps(ticker_map(5)))
    with polled_once(edgar, write_config, ["AVTX"]) as store:
        filing = store.get("0001534120-26-000003")[0]
        amendment = store.get("0001534120-26-000007")[0]
        assert store.get("0001193125-26-009807") == []  # ProKidney: not watched
    assert "AVTX" in json.dumps(filing["tickers"]) and "AVTX" in json.dumps(amendment["tickers"])
    assert "Adobe" in filing["text"]  # exhibit 99.1 (the sample's) replaced the item list
    assert amendment["text"].startswith("Form 8-K/A")  # its index 404s: the summary stays


def test_a_watch_cik_needs_no_ticker_map(edgar, write_config):
    text = sec_config(write_config, edgar, []).read_text() + '[[watch]]\ncompany = "Avalo"\n'
    path = write_config(text + "cik = 1534120\n")
    config = load_config(path)
    with Store(config.storage.path) as store:
        poller = Poller.create(config, store)
        poller.poll(force=True)
        poller.close()
        assert store.get("0001534120-26-000003")
    assert "/files/company_tickers.json" not in [path for path, _ in edgar.requests]


def test_sec_requests_share_one_limiter_of_at_most_ten_a_second(edgar, write_config):
    config = load_config(sec_config(write_config, edgar, ["AVTX"]))
    with Store(config.storage.path) as store:
        poller = Poller.create(config, store)
        assert config.poll.host_gap == 0 and poller.sec_limiter.min_gap >= SEC_MIN_GAP == 0.1
        assert poller.is_sec(edgar.url(EXHIBIT)) and poller.is_sec("https://www.sec.gov/x")
        assert not poller.is_sec("https://www.prnewswire.com/x")
        poller.close()


@pytest.mark.parametrize(
    ("sec", "agent_key"),
    [
        ('[sources.sec]\nenabled = true\n', "poll.user_agent"),
        ('[sources.sec]\nenabled = true\nuser_agent = "Acme Research"\n', "sources.sec.user_agent"),
        ('[[watch]]\nticker = "AVTX"\nfeeds = ["https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=1534120&type=8-K&output=atom"]\n', "poll.user_agent"),
    ],
)  # fmt: skip
def test_sec_without_a_contact_is_a_one_line_config_error(write_config, sec, agent_key):
    path = write_config(f'[storage]\npath = "b.db"\n[poll]\nuser_agent = "biomon/0.1"\n{sec}')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert "\n" not in message and agent_key in message and "e-mail" in message


def test_sec_off_by_default_and_its_feeds_named_sec():
    from monitor.config import SourcesConfig

    assert SourcesConfig().sec_latest_feeds() == ()
    feeds = SourcesConfig(sec_base_url="http://127.0.0.1:1", sec_enabled=True).sec_latest_feeds()
    assert [("type=8-K" in f, "type=6-K" in f) for f in feeds] == [(True, False), (False, True)]


def test_a_wire_release_and_its_8k_exhibit_read_later_are_one_event_and_one_alert(
    edgar, write_config
):
    # The 8-K arrives with only its item list; its exhibit 99.1, read in the same pass, tells
    # the news a wire printed: the filing joins the wire's event and never alerts.
    from monitor.html import html_to_text
    from tests.gnw import Item, feed
    from tests.wires import EMAIL

    edgar.add("/files/company_tickers.json", json.dumps(ticker_map(5)))
    exhibit = html_to_text((EDGAR / "ex99.1-ADBE-excerpt.htm").read_text(encoding="utf-8"))
    news = exhibit[exhibit.index("SAN JOSE") :]
    wire = Item(
        "9100001", "Adobe Reports Record Revenue in Q1 Fiscal 2023", text=news,
        tickers=("Nasdaq:AVTX",), pub_date="Mon, 12 Jan 2026 13:00 GMT",
    )  # fmt: skip
    latest = {SEC_LATEST_PATH.format(form=form) for form in SEC_LATEST_FORMS}
    full = {path: edgar.routes["/" + path.lstrip("/")].body for path in latest}
    empty = re.sub(rb"<entry\b.*?</entry>\s*", b"", next(iter(full.values())), flags=re.DOTALL)
    for path in latest:  # the first pass: nothing filed yet (a first poll alerts on nothing)
        edgar.add(path, empty, headers=ATOM)
    gnw = edgar.add("gnw.xml", feed(Item("9100000", "An older release", tickers=("Nasdaq:AVTX",))))
    text = sec_config(write_config, edgar, ["AVTX"]).read_text()
    path = write_config(text.replace("[sources.sec]", f'feeds = ["{gnw}"]\n{EMAIL}\n[sources.sec]'))
    config = load_config(path)
    with Store(config.storage.path) as store:
        poller = Poller.create(config, store)
        poller.poll(force=True)
        edgar.add("gnw.xml", feed(wire, Item("9100000", "An older release")))
        for path in latest:
            edgar.add(path, full[path], headers=ATOM)
        poller.poll(force=True)
        poller.close()
        [released] = store.get("9100001")
        [filing] = store.get("0001534120-26-000003")
        assert filing["duplicate_of"] == released["id"]
        sources = [s.source for s in store.event_sources(released["id"])]
        assert sorted(sources) == ["globenewswire", "sec"]
        alerted = sorted(row["release_id"] for row in store.alert_rows())
    # The 8-K/A (its index 404s) is news of its own, alerted on its summary; the 8-K is not.
    assert alerted == ["0001534120-26-000007", "9100001"]


def test_a_filing_read_without_its_exhibit_is_tagged_by_its_items(edgar, write_config):
    # The 8-K/A's index 404s: its text is the item list. Made an item 3.02 filing here, whose
    # name earns no tag from the text ("Unregistered Sales of Equity Securities"): the item
    # says "financing", with its line as the evidence.
    edgar.add("/files/company_tickers.json", json.dumps(ticker_map(5)))
    for form in SEC_LATEST_FORMS:
        path = SEC_LATEST_PATH.format(form=form)
        body = edgar.routes["/" + path.lstrip("/")].body
        item = re.sub(
            rb"Item 5\.02: [^\n]*", b"Item 3.02: Unregistered Sales of Equity Securities", body
        )
        edgar.add(path, item, headers=ATOM)
    with polled_once(edgar, write_config, ["AVTX"]) as store:
        [amendment] = store.get("0001534120-26-000007")
        tags = dict(store.tags_of(amendment["id"]))
    assert amendment["primary_tag"] == "financing"
    assert tags == {"financing": ["Item 3.02: Unregistered Sales of Equity Securities"]}


def test_item_hints_never_replace_tags_the_text_earned():
    from monitor.classify import classify, with_hints

    earned = classify("Acme Signs Exclusive License Agreement", "Acme signed a license.")
    hinted = with_hints(earned, [("deal", "Item 1.01: Entry into a Material Definitive Agreement")])
    assert hinted == earned
    nothing = classify("8-K Acme: Other Events", "Form 8-K filed 2026-01-12")
    assert with_hints(nothing, [("earnings", "Item 2.02: Results")]).tags == ("earnings",)
