"""`biomon poll --once` against real local servers: dedup across polls and feeds, failures per feed."""

from __future__ import annotations

import socket
import time

from click.testing import CliRunner

from monitor.cli import cli
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed

SEED = Item(
    "2796481",
    "Cellectar Biosciences Expands Iopofosine I 131 Collaboration with Wisconsin Alumni Research "
    "Foundation",
    text="FLORHAM PARK, N.J., December 19, 2023 (GLOBE NEWSWIRE) -- Cellectar Biosciences, Inc. "
    "(NASDAQ: CLRB) today announced a new licensing agreement.\n\nWe were awarded a $2 million NCI "
    "grant.",
    tickers=("Nasdaq:CLRB",),
)
OTHER = Item("2796482", "Soligenix Receives Orphan Drug Designation", tickers=("Nasdaq:SNGX",))
THIRD = Item("2796483", "Palatin Reports Results", tickers=("NYSE American:PTN",))


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_polling_twice_stores_each_release_once(server, write_config, tmp_path):
    url = server.add("nasdaq.xml", feed(SEED, OTHER))
    config = write_config(config_text([url]))
    first = run("--config", str(config), "poll", "--once")
    assert first.exit_code == 0, first.output
    assert f"{url}: 2 new, 0 already stored, 0 failed" in first.output
    server.add("nasdaq.xml", feed(THIRD, SEED, OTHER))  # the feed moves on by one release
    second = run("--config", str(config), "poll", "--once")
    assert f"{url}: 1 new, 2 already stored, 0 failed" in second.output
    assert Store(tmp_path / "biomon.db").count() == 3


def test_release_in_two_feeds_is_one_row(server, write_config, tmp_path):
    broad = server.add("nasdaq.xml", feed(SEED, OTHER))
    org = server.add("clrb.xml", feed(SEED))
    watch = f'[[watch]]\nticker = "CLRB"\nfeeds = ["{org}"]\n'
    result = run("--config", str(write_config(config_text([broad], watch))), "poll", "--once")
    assert result.exit_code == 0, result.output
    store = Store(tmp_path / "biomon.db")
    assert store.count() == 2
    rows = store.get("2796481")
    assert sorted(store.seen_in(rows[0]["id"])) == sorted([broad, org])


def test_bad_feeds_are_reported_per_feed_and_do_not_stop_others(server, write_config, tmp_path):
    good = server.add("good.xml", feed(SEED))
    error_500 = server.add("broken", b"oops", status=500, headers={"Content-Type": "text/plain"})
    html = server.add(
        "html", b"<html><body>Sign in</body></html>", headers={"Content-Type": "text/html"}
    )
    garbage = server.add(
        "garbage", b"\x00\x01not xml at all", headers={"Content-Type": "text/plain"}
    )
    unreachable = f"http://127.0.0.1:{free_port()}/feed"
    config = write_config(config_text([error_500, unreachable, html, garbage, good]))
    result = run("--config", str(config), "poll", "--once")
    # Any failing feed: exit 1, one line per failing feed on stderr (cron mails it), once.
    assert result.exit_code == 1, result.output
    failing = "biomon: 4 of 5 feeds failing: "
    assert f"{failing}{error_500}: HTTP 500 (1 failure; retried at the next poll)" in result.stderr
    assert f"{failing}{unreachable}: cannot connect" in result.stderr
    assert f"{failing}{html}: not a feed: text/html" in result.stderr
    assert f"{failing}{garbage}: not a feed" in result.stderr
    assert len(result.stderr.splitlines()) == 4, result.stderr
    assert error_500 not in result.stdout
    assert f"{good}: 1 new" in result.stdout
    assert "5 feeds, 1 new releases, 4 failing" in result.stdout
    feeds = {row["url"]: row for row in Store(tmp_path / "biomon.db").feeds()}
    assert feeds[error_500]["last_status"] == "HTTP 500"
    assert feeds[error_500]["consecutive_failures"] == 1
    assert feeds[good]["last_status"] == "ok" and feeds[good]["last_success"]


def test_slow_feed_times_out_without_holding_up_the_pass(server, write_config):
    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.end_headers()
        for _ in range(40):  # one byte every 0.1 s: each read is quick, the whole is not
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.1)

    slow = server.add("slow", handler=trickle)
    good = server.add("good.xml", feed(OTHER))
    config = write_config(config_text([slow, good], timeout=1))
    started = time.monotonic()
    result = run("--config", str(config), "poll", "--once")
    assert f"feeds failing: {slow}: timeout after 1s" in result.stderr
    assert f"{good}: 1 new" in result.output
    assert time.monotonic() - started < 3.5


def test_body_over_the_cap_is_refused(server, write_config):
    big = server.add("big.xml", b"<rss>" + b" " * 3_000_000 + b"</rss>")
    text = config_text([big]).replace("timeout = 5", "timeout = 5\nmax_bytes = 1048576")
    result = run("--config", str(write_config(text)), "poll", "--once")
    assert f"biomon: 1 of 1 feeds failing: {big}: body over 1 MB" in result.stderr
    assert result.exit_code == 1  # every feed failed


def test_user_agent_from_config_is_sent(server, write_config):
    url = server.add("nasdaq.xml", feed(SEED))
    run("--config", str(write_config(config_text([url]))), "poll", "--once")
    assert server.requests[-1][1]["User-Agent"] == "biomon-test/0.1"
