"""One ticker vocabulary: every exchange spelling the dev set and the wire samples contain reads
the same in a dateline, in the classifier's facts, in a feed category and in the config."""

from __future__ import annotations

import pytest

from monitor.classify import classify
from monitor.config import WatchConfig, load_config
from monitor.models import Release, Ticker
from monitor.poller import Poller
from monitor.rules import match
from monitor.store import Store
from monitor.tickers import EXCHANGES, dateline_tickers, normalise_exchange, parse_ticker
from tests.conftest import config_text
from tests.gnw import Item, feed

# Every `(<exchange>: <symbol>)` spelling found in ../shared/eval-dev/releases.jsonl and
# ../shared/samples/ (scanned once by hand, written out here: the dev set is not read at test
# time), plus the forms named in issue 12. Each: the parenthetical as written, what it lists.
DATELINE_SPELLINGS = [
    # dev set
    ("(Nasdaq: SNGX)", ["NASDAQ:SNGX"]),
    ("(Nasdaq:ATHX)", ["NASDAQ:ATHX"]),
    ("(NASDAQ: CLRB)", ["NASDAQ:CLRB"]),
    ("(NASDAQ:AEZS)", ["NASDAQ:AEZS"]),
    ("(Nasdaq Stockholm: ATORX)", ["STOCKHOLM:ATORX"]),
    ("(NYSE: PFE)", ["NYSE:PFE"]),
    ("(NYSE:EBS)", ["NYSE:EBS"]),
    ("(NYSE American: CANF)", ["NYSEAMERICAN:CANF"]),
    ("(NYSE Amex: CUR)", ["NYSEAMERICAN:CUR"]),
    ("(NYSE MKT: PTN)", ["NYSEAMERICAN:PTN"]),
    ("(NYSE Alternext US:CUR)", ["NYSEAMERICAN:CUR"]),
    ("(AMEX: NVD)", ["NYSEAMERICAN:NVD"]),
    ("(AMEX:INO)", ["NYSEAMERICAN:INO"]),
    ("(OTCQB: RGRX)", ["OTC:RGRX"]),
    ("(OTCQB:CAPS)", ["OTC:CAPS"]),
    ("(OTCQX: CLRB)", ["OTC:CLRB"]),
    ("(OTCBB:AOLS)", ["OTC:AOLS"]),
    ("(OTC BB: SNGX)", ["OTC:SNGX"]),
    ("(OTC:MLCM)", ["OTC:MLCM"]),
    ("(TSX:AEZS)", ["TSX:AEZS"]),
    ("(TSX: GUD )", ["TSX:GUD"]),
    ("(NASDAQ: ACST – TSX-V: ACST)", ["NASDAQ:ACST", "TSXV:ACST"]),
    ("(TASE:CFBI)", ["TASE:CFBI"]),
    ("(TASE: KDST.TA”)", ["TASE:KDST.TA"]),
    ("(CSE:LXX)", ["CSE:LXX"]),
    ("(ASX: PGL, OTC: PGLA)", ["ASX:PGL", "OTC:PGLA"]),
    ("(Nasdaq/AIM: HCM)", ["NASDAQ:HCM", "AIM:HCM"]),
    ("(NASDAQ: “SBFM”)", ["NASDAQ:SBFM"]),
    ("(NASDAQ: BDSI, BDSIW)", ["NASDAQ:BDSI", "NASDAQ:BDSIW"]),
    # wire samples (GlobeNewswire RSS and NewsML)
    ("(TSXV: PGZ; OTCQB: PGZFF; FRA: 2EU)", ["TSXV:PGZ", "OTC:PGZFF", "FRA:2EU"]),
    ("(TSX.V: XLY)", ["TSXV:XLY"]),
    ("(OTCQX: CBWTF)", ["OTC:CBWTF"]),
    # named in issue 12, and the Nasdaq tiers and long names releases write
    ("(Nasdaq GS: DLT)", ["NASDAQ:DLT"]),
    ("(NYSE Amex: ACU)", ["NYSEAMERICAN:ACU"]),
    ("(NasdaqGS: DLT)", ["NASDAQ:DLT"]),
    ("(Nasdaq GM: ABC)", ["NASDAQ:ABC"]),
    ("(NASDAQ CM: ABC)", ["NASDAQ:ABC"]),
    ("(NASDAQ Global Select Market: ABC)", ["NASDAQ:ABC"]),
    ("(Nasdaq Capital Market: ABC)", ["NASDAQ:ABC"]),
    ("(NYSE Arca: ABC)", ["NYSEARCA:ABC"]),
    ("(TSX Venture: ABC)", ["TSXV:ABC"]),
    ("(OTC Markets: ABC)", ["OTC:ABC"]),
    ("(OTC Pink: ABC)", ["OTC:ABC"]),
    ("(Euronext Paris: ALABC)", ["EURONEXTPARIS:ALABC"]),
    ("(LSE: ABC)", ["LSE:ABC"]),
    ("(Frankfurt: 2EU)", ["FRA:2EU"]),
]

# Exchange names as feed stock categories, the NewsML ticker keyword and the config write them.
NAME_SPELLINGS = [
    ("Nasdaq", "NASDAQ"), ("NASDAQ GS", "NASDAQ"), ("Nasdaq Global Market", "NASDAQ"),
    ("NYSE", "NYSE"), ("NYSE American", "NYSEAMERICAN"), ("NYSE Amex", "NYSEAMERICAN"),
    ("NYSE MKT", "NYSEAMERICAN"), ("NYSEAMERICAN", "NYSEAMERICAN"), ("AMEX", "NYSEAMERICAN"),
    ("NYSE Alternext US", "NYSEAMERICAN"), ("OTC", "OTC"), ("OTC Markets", "OTC"),
    ("Other OTC", "OTC"), ("OTCQB", "OTC"), ("OTCQX", "OTC"), ("OTCBB", "OTC"), ("TSX", "TSX"),
    ("TSX-V", "TSXV"), ("TSXV", "TSXV"), ("TSX.V", "TSXV"), ("TSX VENTURE", "TSXV"),
    ("Frankfurt", "FRA"), ("FRA", "FRA"), ("CSE", "CSE"), ("ASX", "ASX"), ("AIM", "AIM"),
    ("TASE", "TASE"), ("Nasdaq Stockholm", "STOCKHOLM"), ("Euronext Brussels", "EURONEXTBRUSSELS"),
]  # fmt: skip


@pytest.mark.parametrize(("paren", "expected"), DATELINE_SPELLINGS)
def test_dateline_and_facts_read_every_spelling_alike(paren, expected):
    text = f"BOSTON, May 5, 2025 (GLOBE NEWSWIRE) -- Acme Bio, Inc. {paren} today announced news."
    assert [str(t) for t in dateline_tickers(text)] == expected
    assert list(classify("Acme Bio Announces News", text).facts.tickers) == expected


@pytest.mark.parametrize(("name", "normal"), NAME_SPELLINGS)
def test_exchange_names_normalise_alike_in_categories_and_config(name, normal):
    assert normalise_exchange(name) == normal
    assert parse_ticker(f"{name}:ABC") == Ticker(normal, "ABC")


def test_every_normal_form_is_its_own_spelling():
    for normal in EXCHANGES:
        assert normalise_exchange(normal) == normal


@pytest.mark.parametrize(
    "text",
    [
        "(Note: see below)",
        "Time: 10:00 a.m. Eastern",
        "The aim: A study of safety. (Aim: To dose)",
        "Cohort six: ABC enrolled",
        "(Nasdaq: the company's shares)",
        "Listed on Nasdaq: ticker to follow",
    ],
)
def test_words_that_are_not_tickers(text):
    assert dateline_tickers(text) == ()
    assert classify("X", text).facts.tickers == ()


def test_tickers_past_the_dateline_are_facts_not_release_tickers():
    text = "Acme (Nasdaq: ACME) news. " + "Words. " * 500 + "Partner Beta (NYSE: BETA) too."
    assert dateline_tickers(text) == (Ticker("NASDAQ", "ACME"),)
    assert classify("X", text).facts.tickers == ("NASDAQ:ACME", "NYSE:BETA")


# -- a dateline ticker alerts a watch when the feed item has no stock category -------------------

DLT_TEXT = (
    "SAN DIEGO, May 5, 2025 (GLOBE NEWSWIRE) -- Delta Therapeutics, Inc. (Nasdaq GS: DLT), a "
    "clinical-stage company, today announced an exclusive license agreement with Kestrel Bio "
    "granting worldwide rights to develop and commercialize DT-101."
)
DLT_TITLE = "Delta Therapeutics Signs Exclusive License With Kestrel Bio"


def _release(tickers: tuple[Ticker, ...]) -> Release:
    return Release(
        source="globenewswire", release_id="1", url="https://example.com/1", title=DLT_TITLE,
        summary_html="", text=DLT_TEXT, published_utc=None, published_raw="", tickers=tickers,
    )  # fmt: skip


@pytest.mark.parametrize("watched", ["DLT", "NASDAQ:DLT", "Nasdaq GS:DLT", "NasdaqGS:DLT"])
def test_watch_on_dlt_matches_the_nasdaq_gs_dateline(watched):
    release = _release(dateline_tickers(DLT_TEXT))
    watch = WatchConfig(ticker=parse_ticker(watched), alert_tags=("licensing",))
    assert match(release, classify(DLT_TITLE, DLT_TEXT), [watch], ["email"])
    assert not match(_release(()), classify(DLT_TITLE, DLT_TEXT), [watch], ["email"])


def test_nyse_amex_watch_matches_nyse_american_dateline():
    text = "NEW YORK -- Acu Corp. (NYSE American: ACU) said."
    watch = WatchConfig(ticker=parse_ticker("NYSE Amex:ACU"))
    assert watch.matches_ticker(dateline_tickers(text))


def test_poll_alerts_a_dlt_watch_from_the_dateline(server, write_config):
    backlog = [Item(f"90000{i:02d}", f"Backlog {i}", text="Old news.", issuer="Other Co")
               for i in range(5)]  # fmt: skip
    new = Item("9000100", DLT_TITLE, text=DLT_TEXT, issuer="Delta Therapeutics, Inc.", pub_date="Mon, 05 May 2025 12:00 GMT")  # fmt: skip
    url = server.add("nasdaq.xml", feed(*backlog))
    watch = (
        '[[watch]]\nticker = "DLT"\nalert_tags = ["licensing"]\n[notify.desktop]\nenabled = true\n'
    )
    config = load_config(write_config(config_text([url], watch)))
    store = Store(config.storage.path)
    poller = Poller.create(config, store)
    try:
        poller.poll()
        server.add("nasdaq.xml", feed(new, *backlog))
        assert poller.poll(force=True).feeds[0].new == 1
        (row,) = store.get("9000100")
        assert "NASDAQ:DLT" in str(row["tickers"])
        alerts = list(store.db.query("SELECT rule, ticker FROM alerts"))
        assert [(a["rule"], a["ticker"]) for a in alerts] == [("DLT", "DLT")]
    finally:
        poller.client.close()
        store.close()
