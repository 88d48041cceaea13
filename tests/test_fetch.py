"""Fetch hygiene against a misbehaving HTTP server on 127.0.0.1 started by the tests."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config
from monitor.poller import Poller
from monitor.schedule import parse_iso
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed

ONE = Item("3000001", "Cellectar Announces Phase 2 Data", tickers=("Nasdaq:CLRB",))
TWO = Item("3000002", "Soligenix Receives Grant", tickers=("Nasdaq:SNGX",))
RSS = feed(ONE, TWO)


@pytest.fixture
def make_poller(write_config, tmp_path):
    made = []

    def make(urls, extra: str = "", watch: str = "") -> Poller:
        overrides = {line.split("=")[0].strip() for line in extra.splitlines() if "=" in line}
        base = config_text(urls, watch, timeout=2).splitlines()
        kept = [line for line in base if line.split("=")[0].strip() not in overrides]
        gap = "" if "host_gap" in overrides else "host_gap = 0\n"
        text = "\n".join(kept).replace("[poll]", f"[poll]\n{gap}{extra}", 1) + "\n"
        config = load_config(write_config(text))
        poller = Poller.create(config, Store(config.storage.path))
        made.append(poller)
        return poller

    yield make
    for poller in made:
        poller.client.close()
        poller.store.close()


def answer(handler, status=200, body=b"", headers=None):
    handler.send_response(status)
    for name, value in (headers or {"Content-Type": "application/rss+xml"}).items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def test_etag_round_trip_gets_a_304_that_is_not_parsed(server, make_poller):
    def handler(h):
        if h.headers.get("If-None-Match") == '"v1"':
            answer(h, 304, headers={"ETag": '"v1"'})
        else:
            answer(h, 200, RSS, {"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    url = server.add("etag.xml", handler=handler)
    poller = make_poller([url])
    assert poller.poll(force=True).feeds[0].new == 2
    second = poller.poll(force=True).feeds[0]
    assert server.requests[-1][1]["If-None-Match"] == '"v1"'
    assert second.skipped == "not modified" and second.status == 304 and second.error is None
    assert poller.store.feed_state(url).etag == '"v1"'


def test_last_modified_round_trip(server, make_poller):
    stamp = "Wed, 25 Nov 2026 10:00:00 GMT"

    def handler(h):
        if h.headers.get("If-Modified-Since") == stamp:
            answer(h, 304)
        else:
            answer(h, 200, RSS, {"Content-Type": "application/rss+xml", "Last-Modified": stamp})

    url = server.add("lm.xml", handler=handler)
    poller = make_poller([url])
    poller.poll(force=True)
    second = poller.poll(force=True).feeds[0]
    assert server.requests[-1][1]["If-Modified-Since"] == stamp
    assert second.skipped == "not modified"


def test_unchanged_body_without_validators_is_not_parsed_again(server, make_poller):
    url = server.add("plain.xml", RSS)
    poller = make_poller([url])
    assert poller.poll().feeds[0].new == 2
    second = poller.poll(force=True).feeds[0]
    assert (second.skipped, second.new, second.already) == ("unchanged", 0, 0)
    server.add("plain.xml", feed(Item("3000003", "New one"), ONE, TWO))
    assert poller.poll(force=True).feeds[0].new == 1


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_429_retry_after_delays_the_next_poll(server, make_poller, write_config, form):
    later = datetime.now(UTC) + timedelta(seconds=600)
    value = "600" if form == "seconds" else format_datetime(later, usegmt=True)
    url = server.add("busy.xml", b"slow down", status=429, headers={"Retry-After": value})
    poller = make_poller([url])
    assert poller.poll().feeds[0].error == "HTTP 429"
    not_before = parse_iso(poller.store.feed_state(url).not_before)
    assert timedelta(seconds=590) < not_before - datetime.now(UTC) < timedelta(seconds=610)
    requests = len(server.requests)
    waiting = poller.poll().feeds[0]
    assert waiting.skipped.startswith("waiting until") and len(server.requests) == requests
    # `poll --once` respects it too, unless --force.
    config = poller.config.path
    # Waiting after a failure is failing: exit 1 with the reason and the wait, said once.
    result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once"])
    assert result.exit_code == 1 and len(server.requests) == requests
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"biomon: 1 of 1 feeds failing: {url}: HTTP 429 (1 failure; backing off until "
    )
    assert url not in result.stdout
    result = CliRunner().invoke(cli, ["--config", str(config), "poll", "--once", "--force"])
    assert f"{url}: HTTP 429 (2 failures in a row; backing off until" in result.stderr
    assert len(server.requests) == requests + 1


def test_500s_back_off_exponentially_and_recover(server, make_poller):
    url = server.add("flaky.xml", b"boom", status=500)
    poller = make_poller([url], extra="interval = 10\nbackoff_max = 100")
    waits = []
    for _ in range(5):
        started = datetime.now(UTC)
        assert poller.poll(force=True).feeds[0].error == "HTTP 500"
        state = poller.store.feed_state(url)
        waits.append(
            (parse_iso(state.not_before) - started).total_seconds() if state.not_before else 0
        )
    assert state.consecutive_failures == 5
    assert waits[0] == 0  # one failure is retried on the normal schedule
    assert 19 <= waits[1] <= 23 and 39 <= waits[2] <= 45 and 79 <= waits[3] <= 89
    assert 99 <= waits[4] <= 111  # capped at backoff_max (plus jitter)
    server.add("flaky.xml", RSS)
    assert poller.poll(force=True).feeds[0].new == 2
    state = poller.store.feed_state(url)
    assert (state.consecutive_failures, state.not_before) == (0, None)


def test_hanging_read_times_out_while_other_feeds_are_stored(server, make_poller):
    release = threading.Event()

    def hang(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()
        release.wait(10)

    hanging = server.add("hang.xml", handler=hang)
    good = server.add("good.xml", RSS)
    poller = make_poller([hanging, good])
    started = time.monotonic()
    reports = {r.url: r for r in poller.poll().feeds}
    release.set()
    assert reports[hanging].error == "timeout after 2s"
    assert reports[good].new == 2
    assert time.monotonic() - started < 5


def test_20_mb_body_is_cut_off(server, make_poller):
    sent = []

    def flood(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.end_headers()  # no Content-Length: the cap must hold while streaming
        chunk = b"<!-- " + b"x" * 65536 + b" -->"
        try:
            for _ in range(320):  # ~20 MB
                h.wfile.write(chunk)
                sent.append(len(chunk))
        except OSError:
            pass

    url = server.add("huge.xml", handler=flood)
    report = make_poller([url]).poll().feeds[0]
    assert report.error == "body over 15 MB"


def test_declared_oversize_body_is_refused_before_reading(server, make_poller):
    url = server.add("big.xml", b"x" * 2_000_000)
    report = make_poller([url], extra="max_bytes = 1048576").poll().feeds[0]
    assert report.error == "body over 1 MB"


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    b'<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>'
    b'<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title>'
    b"<link>https://www.globenewswire.com/news-release/2026/01/01/4000001/0/en/x.html</link>"
    b"</item></channel></rss>"
)
LATIN1 = (
    '<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>t</title>'
    "<item><title>Société Générale Biotech Signs License</title>"
    "<link>https://www.globenewswire.com/news-release/2026/01/01/4000002/0/en/x.html</link>"
    "</item></channel></rss>"
).encode("latin-1")
BAD_UTF8 = RSS.replace(b"Soligenix Receives Grant", b"Soligenix Receives \xff\xfe Grant")
EMPTY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>TSX</title></channel></rss>'


@pytest.mark.parametrize(
    ("body", "content_type", "expect"),
    [
        (
            b"<html><body><h1>Sign in</h1></body></html>",
            "text/html",
            {"error": "not a feed: text/html"},
        ),
        (
            RSS[: RSS.index(b"<item>", 200) + 400],
            "application/rss+xml",
            {"new": 1, "warning": True},
        ),
        (
            LATIN1,
            "application/rss+xml",
            {"new": 1, "title": "Société Générale Biotech Signs License"},
        ),
        (BAD_UTF8, "application/rss+xml", {"new": 2}),
        (EMPTY, "application/rss+xml", {"new": 0}),
        (BILLION_LAUGHS, "application/rss+xml", {"no_expansion": True}),
        (b"", "application/rss+xml", {"error": "not a feed: empty body"}),
    ],
    ids=[
        "html",
        "truncated",
        "latin-1",
        "bad-utf8",
        "empty-channel",
        "billion-laughs",
        "empty-body",
    ],
)
def test_bad_bodies_give_a_reason_and_never_crash(server, make_poller, body, content_type, expect):
    url = server.add("odd.xml", body, headers={"Content-Type": content_type})
    good = server.add("good.xml", RSS)
    poller = make_poller([url, good])
    reports = {r.url: r for r in poller.poll().feeds}
    report = reports[url]
    assert reports[good].new + reports[good].already == 2  # the other feed is never hurt
    if "error" in expect:
        assert report.error == expect["error"]
        return
    assert report.error is None, report.error
    if "new" in expect:  # new here, or already stored from the good feed: parsed either way
        assert report.new + report.already == expect["new"]
    if expect.get("warning"):
        assert report.warning
    if "title" in expect:
        assert poller.store.get("4000002")[0]["title"] == expect["title"]
    if expect.get("no_expansion"):
        rows = poller.store.get("4000001")
        assert all(len(r["title"]) < 1000 for r in rows)


def test_301_updates_the_stored_url(server, make_poller):
    new = server.add("new.xml", RSS)
    old = server.add("old.xml", status=301, headers={"Location": new})
    poller = make_poller([old])
    report = poller.poll().feeds[0]
    assert report.new == 2 and report.moved_to == new
    assert poller.store.feed_state(old).fetch_url == new
    server.requests.clear()
    poller.poll(force=True)
    assert [path for path, _ in server.requests] == ["/new.xml"]


def test_302_does_not_move_the_feed(server, make_poller):
    new = server.add("temp.xml", RSS)
    old = server.add("old.xml", status=302, headers={"Location": new})
    poller = make_poller([old])
    poller.poll()
    assert poller.store.feed_state(old).fetch_url in ("", None)


def test_410_disables_the_feed_with_a_reason(server, make_poller):
    url = server.add("gone.xml", b"", status=410)
    poller = make_poller([url])
    assert poller.poll().feeds[0].error == "HTTP 410 Gone"
    assert poller.store.feed_state(url).disabled == "HTTP 410 Gone"
    requests = len(server.requests)
    assert poller.poll().feeds[0].skipped.startswith("disabled (HTTP 410 Gone)")
    assert len(server.requests) == requests


def test_per_host_limit_holds(server, make_poller):
    lock = threading.Lock()
    active, peak = [0], [0]

    def counted(h):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.15)
        with lock:
            active[0] -= 1
        answer(h, 200, RSS)

    urls = [server.add(f"f{i}.xml", handler=counted) for i in range(8)]
    poller = make_poller(urls, extra="per_host = 2\nworkers = 8")
    reports = poller.poll().feeds
    assert all(r.error is None for r in reports)
    assert peak[0] == 2


def test_min_gap_per_host_spaces_request_starts(server, make_poller):
    starts = []

    def stamped(h):
        starts.append(time.monotonic())
        answer(h, 200, RSS)

    urls = [server.add(f"g{i}.xml", handler=stamped) for i in range(4)]
    make_poller(urls, extra="per_host = 4\nworkers = 4\nhost_gap = 0.2").poll()
    starts.sort()
    assert len(starts) == 4
    assert all(b - a >= 0.18 for a, b in zip(starts, starts[1:], strict=False))


def test_stale_feed_shows_as_stale(server, make_poller):
    old_items = [
        Item(
            f"31{i:05d}",
            f"Old release {i}",
            pub_date=format_datetime(datetime(2023, 1, 1 + i * 7, tzinfo=UTC), usegmt=True),
        )
        for i in range(4)
    ]
    url = server.add("moved.xml", feed(*old_items))
    poller = make_poller([url])
    poller.poll()
    result = CliRunner().invoke(
        cli, ["--config", str(poller.config.path), "status", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert '"stale": "newest item 2023-01-22 is' in result.output
    assert "moved to another wire" in result.output
    table = CliRunner().invoke(cli, ["--config", str(poller.config.path), "status"])
    assert "stale" in table.output


def test_feed_never_succeeding_is_stale(server, make_poller):
    url = server.add("down.xml", b"", status=503)
    poller = make_poller([url], extra="stale_after = 60")
    poller.poll()
    poller.store.db["feeds"].update(url, {"added": "2020-01-01T00:00:00Z"})
    result = CliRunner().invoke(
        cli, ["--config", str(poller.config.path), "status", "--format", "json"]
    )
    assert "no successful poll ever" in result.output


def test_paging_back_fills_a_gap_until_a_known_release(server, make_poller):
    known = Item("3200000", "Known release")
    older = [Item(f"32000{i:02d}", f"Missed {i}") for i in range(1, 6)]
    newest = [Item(f"32001{i:02d}", f"Newest {i}") for i in range(3)]
    org = server.add("org", feed(known))
    poller = make_poller([], watch=f'[[watch]]\nticker = "CLRB"\nfeeds = ["{org}"]\npaging = true\n',
                         extra="page_size = 3")  # fmt: skip
    assert poller.poll().feeds[0].new == 1
    # Downtime: the feed's window now holds only releases never seen; the gap lies behind it.
    server.add("org", feed(*newest))
    server.add("org/max/3/start/3", feed(*older[:3]))
    server.add("org/max/3/start/6", feed(*older[3:], known))
    report = poller.poll().feeds[0]
    assert report.new == 8
    assert poller.store.count() == 9
    assert [p for p, _ in server.requests if "/max/" in p] == [
        "/org/max/3/start/3",
        "/org/max/3/start/6",
    ]


def test_cache_control_max_age_is_a_lower_bound_on_the_next_poll(server, make_poller):
    url = server.add(
        "cached.xml",
        RSS,
        headers={"Content-Type": "application/rss+xml", "Cache-Control": "public, max-age=900"},
    )
    poller = make_poller([url], extra="interval = 60")
    poller.poll()
    state = poller.store.feed_state(url)
    wait = parse_iso(state.not_before) - datetime.now(UTC)
    assert timedelta(seconds=880) < wait <= timedelta(seconds=900)
    assert poller.poll().feeds[0].skipped.startswith("waiting until")


def test_short_max_age_does_not_delay_the_interval(server, make_poller):
    url = server.add(
        "short.xml",
        RSS,
        headers={"Content-Type": "application/rss+xml", "Cache-Control": "max-age=10"},
    )
    poller = make_poller([url], extra="interval = 60")
    poller.poll()
    assert poller.store.feed_state(url).not_before is None


def test_backfill_stops_at_a_known_release_and_resumes_after_an_interruption(server, make_poller):
    from monitor.backfill import backfill_feed

    items = [Item(f"33000{i:02d}", f"Release {i}") for i in range(12)]  # newest first
    org = server.add("org", feed(*items[:3]))
    for start in (0, 3, 6, 9):
        server.add(f"org/max/3/start/{start}", feed(*items[start : start + 3]))
    server.add("org/max/3/start/12", feed())
    poller = make_poller([], watch=f'[[watch]]\nticker = "CLRB"\nfeeds = ["{org}"]\npaging = true\n',
                         extra="page_size = 3")  # fmt: skip
    poller.poll()  # the live window: items 0-2
    poller.store.save_releases([r for r in _parse(feed(items[8]))])  # known from long ago
    server.add("org/max/3/start/6", b"busy", status=503)  # the interruption
    first = backfill_feed(poller, org)
    assert first.outcome == "interrupted" and "HTTP 503" in first.error
    assert (first.pages, first.new) == (2, 3)  # page 0 (known) and page 3 (items 3-5)
    server.add("org/max/3/start/6", feed(*items[6:9]))
    server.requests.clear()
    second = backfill_feed(poller, org)
    assert [p for p, _ in server.requests] == ["/org/max/3/start/6"]  # resumed, then stopped
    assert second.outcome == "reached known releases" and second.new == 2
    assert poller.store.count() == 9  # items 0-8; 9-11 lie behind the known release
    assert poller.store.db["alerts"].count == 0
    assert backfill_feed(poller, org).outcome.startswith("already complete")
    result = CliRunner().invoke(cli, ["--config", str(poller.config.path), "backfill", "--again"])
    assert result.exit_code == 0, result.output
    # Again from the top: known pages are walked through, the older 9-11 are loaded.
    assert f"{org}: 5 pages, 3 new releases; end of feed" in " ".join(result.output.split())


def _parse(body):
    from monitor.parse import parse_feed

    return parse_feed("http://127.0.0.1/x", body).releases
