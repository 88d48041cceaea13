"""SEC's ticker map (monitor/sources/sec_tickers.py), served on 127.0.0.1 from a real excerpt.

tests/fixtures/sec/company_tickers-excerpt-2026-02-13.json is shared/samples/edgar/
company_tickers-excerpt-320of10338-2026-02-13.json: 320 entries of SEC's company_tickers.json
(rows 0-199, 6000-6099 and 10318-10337, each byte for byte as SEC served it), with CLRB (row
6021) and SNGX (row 6059) among them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.sources.sec_tickers import (
    CACHE_NAME,
    MAP_PATH,
    TickerMapError,
    cache_path,
    company_name,
    load_ticker_map,
    parse_companies,
    user_agent_problem,
)

MAP_FILE = Path(__file__).parent / "fixtures" / "sec" / "company_tickers-excerpt-2026-02-13.json"
MAP_BYTES = MAP_FILE.read_bytes()
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
JSON_TYPE = {"Content-Type": "application/json"}


def serve_map(server, body: bytes = MAP_BYTES, etag: str = '"v1"') -> None:
    """SEC's map at /files/company_tickers.json, answering If-None-Match with a 304."""

    def handler(h):
        if h.headers.get("If-None-Match") == etag:
            h.send_response(304)
            h.send_header("ETag", etag)
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("ETag", etag)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    server.add(MAP_PATH, handler=handler)


def map_requests(server) -> list[dict]:
    return [headers for path, headers in server.requests if path == MAP_PATH]


@pytest.fixture
def sec_config(server, write_config):
    """A config whose [sources.sec] base_url is the local server."""

    def make(user_agent: str = "biomon-test/0.1 (ops@example.com)", base: str | None = None):
        return load_config(
            write_config(
                f'[storage]\npath = "data/biomon.db"\n[poll]\nuser_agent = "{user_agent}"\n'
                f'timeout = 5\n[sources.sec]\nbase_url = "{base or server.base_url}"\n'
            )
        )

    return make


def test_the_real_excerpt_maps_tickers_to_ciks_and_names():
    companies = parse_companies(json.loads(MAP_BYTES))
    assert len(companies) == 320
    clrb = companies["CLRB"]
    assert (clrb.cik, clrb.title, clrb.name) == (
        1279704,
        "Cellectar Biosciences, Inc.",
        "Cellectar Biosciences",
    )
    assert clrb.cik10 == "0001279704"
    assert companies["SNGX"].name == "SOLIGENIX"
    assert companies["BRK-B"].cik == 1067983


def test_lookup_any_case_and_share_class_spelling(sec_config, server):
    serve_map(server)
    ticker_map = load_ticker_map(sec_config(), now=T0)
    assert ticker_map.lookup("clrb").cik == 1279704
    assert ticker_map.lookup("BRK.B").ticker == "BRK-B"  # SEC writes share classes with "-"
    assert ticker_map.lookup("NOPE") is None
    assert [c.ticker for c in ticker_map.tickers_of(2059033)] == ["FIGXW", "FIGXU"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("CLRBB", "'CLRBB' is not in SEC's ticker map; did you mean CLRB?"),
        ("sngxx", "'SNGXX' is not in SEC's ticker map; did you mean SNGX?"),
        ("ZZZZZZQ", "'ZZZZZZQ' is not in SEC's ticker map (no ticker near it)"),
    ],
)
def test_a_typo_names_the_nearest_tickers(sec_config, server, typed, message):
    serve_map(server)
    assert load_ticker_map(sec_config(), now=T0).not_found(typed) == message


def test_fetched_once_a_day_then_checked_with_a_conditional_get(sec_config, server):
    serve_map(server)
    config = sec_config()
    first = load_ticker_map(config, now=T0)
    assert first.fetched == "2026-03-02T14:00:00Z" and first.warning is None
    assert cache_path(config) == config.storage.path.parent / CACHE_NAME  # beside the database
    assert cache_path(config).is_file()
    (request,) = map_requests(server)
    assert request["User-Agent"] == "biomon-test/0.1 (ops@example.com)"
    assert "If-None-Match" not in request

    later = load_ticker_map(config, now=T0 + timedelta(hours=23))
    assert later.lookup("CLRB").cik == 1279704
    assert len(map_requests(server)) == 1  # within a day: the cache, no request

    next_day = load_ticker_map(config, now=T0 + timedelta(hours=25))
    assert len(map_requests(server)) == 2
    assert map_requests(server)[-1]["If-None-Match"] == '"v1"'  # answered 304
    assert next_day.fetched == "2026-03-02T14:00:00Z"  # the copy's own date is kept
    assert next_day.lookup("SNGX").cik == 812796
    load_ticker_map(config, now=T0 + timedelta(hours=48))
    assert len(map_requests(server)) == 2  # the 304 counted as a check


def test_offline_a_stale_copy_is_used_with_a_warning(sec_config, server):
    serve_map(server)
    config = sec_config()
    load_ticker_map(config, now=T0)
    server.add(MAP_PATH, b"busy", status=503)
    stale = load_ticker_map(config, now=T0 + timedelta(days=3))
    assert stale.lookup("CLRB").cik == 1279704
    assert stale.warning == (
        f"SEC's ticker map could not be refreshed from {server.base_url}{MAP_PATH} (HTTP 503); "
        "using the copy of 2026-03-02, 3 days old"
    )
    requests = len(map_requests(server))
    again = load_ticker_map(config, now=T0 + timedelta(days=3, minutes=30))
    assert len(map_requests(server)) == requests  # no retry within the hour
    assert again.warning and "using the copy of 2026-03-02" in again.warning


def test_no_copy_and_no_sec_is_an_error(sec_config, server):
    server.add(MAP_PATH, b"busy", status=503)
    with pytest.raises(
        TickerMapError,
        match=r"SEC's ticker map http://127\.0\.0\.1:\d+/files/company_tickers\.json: HTTP 503$",
    ):
        load_ticker_map(sec_config(), now=T0)


def test_a_page_that_is_not_the_map_is_refused_and_not_cached(sec_config, server):
    server.add(MAP_PATH, b"<html>Request Rate Threshold Exceeded</html>", headers=JSON_TYPE)
    config = sec_config()
    with pytest.raises(TickerMapError, match="not SEC's ticker map"):
        load_ticker_map(config, now=T0)
    assert not cache_path(config).exists()


def test_403_says_why_sec_refuses(sec_config, server):
    server.add(MAP_PATH, b"forbidden", status=403)
    with pytest.raises(
        TickerMapError, match=r"HTTP 403 \(SEC refuses a User-Agent without a contact"
    ):
        load_ticker_map(sec_config(), now=T0)


def test_a_user_agent_without_a_contact_asks_nothing(sec_config, server):
    serve_map(server)
    with pytest.raises(ConfigError) as caught:
        load_ticker_map(sec_config(user_agent="biomon/0.1"), now=T0)
    assert caught.value.key == "poll.user_agent"
    assert "SEC answers only requests whose User-Agent has an e-mail address" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert map_requests(server) == []


@pytest.mark.parametrize(
    ("user_agent", "ok"),
    [
        ("biomon/0.1 (you@example.com)", True),
        ("Sample Company Name AdminContact@sample.com", True),
        ("biomon/0.1 (+https://github.com/biomon/biomon; set [poll] user_agent)", False),
        ("biomon/0.1 (you@localhost)", False),
        ("biomon/0.1", False),
    ],
)
def test_user_agent_contact_rule(user_agent, ok):
    assert (user_agent_problem(user_agent) is None) is ok


def test_another_base_url_is_another_map(sec_config, server):
    serve_map(server)
    config = sec_config()
    load_ticker_map(config, now=T0)
    mirror = sec_config(base=f"{server.base_url}/mirror/")  # a trailing slash is dropped
    assert mirror.sources.sec_base_url == f"{server.base_url}/mirror"
    server.add(f"/mirror{MAP_PATH}", MAP_BYTES, headers=JSON_TYPE)
    load_ticker_map(mirror, now=T0 + timedelta(minutes=1))  # the cache is of the other URL
    assert [p for p, _ in server.requests][-1] == f"/mirror{MAP_PATH}"


def test_a_damaged_cache_is_fetched_again(sec_config, server):
    serve_map(server)
    config = sec_config()
    cache_path(config).parent.mkdir(parents=True)
    cache_path(config).write_text("{not json")
    assert load_ticker_map(config, now=T0).lookup("CLRB")
    assert json.loads(cache_path(config).read_text())["etag"] == '"v1"'


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Cellectar Biosciences, Inc.", "Cellectar Biosciences"),
        ("SOLIGENIX, INC.", "SOLIGENIX"),
        ("Merck & Co., Inc.", "Merck"),
        ("ENERGY FOCUS, INC/DE", "ENERGY FOCUS"),
        ("BANK OF AMERICA CORP /DE/", "BANK OF AMERICA"),
        ("VERTEX PHARMACEUTICALS INC / MA", "VERTEX PHARMACEUTICALS"),
        ("Laopu Gold Co. Ltd./ADR", "Laopu Gold"),
        ("Range Capital Acquisition Corp II", "Range Capital Acquisition Corp II"),
        ("JOHNSON & JOHNSON", "JOHNSON & JOHNSON"),
        ("Sanofi", "Sanofi"),
        ("Inc.", "Inc."),
    ],
)
def test_company_name_drops_the_legal_form(title, name):
    assert company_name(title) == name


@pytest.mark.parametrize(
    ("table", "key", "fragment"),
    [
        ('[sources.sec]\nbase_url = "ftp://x"\n', "sources.sec.base_url", "not an http(s) URL"),
        ('[sources.sec]\nurl = "http://x"\n', "sources.sec.url", "unknown key"),
        ('[sources.edgar]\nbase_url = "http://x"\n', "sources.edgar", "unknown key"),
        ("[sources]\nsec = 1\n", "sources.sec", "must be a table"),
        ('[[watch]]\nticker = "CLRB"\ncik = "CIK1279704"\n', "watch[0].cik", "expected SEC's CIK"),
        ('[[watch]]\nticker = "CLRB"\ncik = 0\n', "watch[0].cik", "at least 1"),
        ('[[watch]]\nticker = "CLRB"\ncik = true\n', "watch[0].cik", "expected SEC's CIK"),
    ],
)
def test_config_keys_are_checked(write_config, table, key, fragment):
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(f'[storage]\npath = "x.db"\n{table}'))
    assert caught.value.key == key
    assert fragment in caught.value.message


@pytest.mark.parametrize(("value", "cik"), [("1279704", 1279704), ('"0001279704"', 1279704)])
def test_watch_cik_as_a_number_or_edgars_ten_digits(write_config, value, cik):
    config = load_config(write_config(f'[[watch]]\nticker = "CLRB"\ncik = {value}\n'))
    assert config.watch[0].cik == cik
    assert config.sources.sec_base_url == "https://www.sec.gov"
