"""A pass survives what one feed or the database throws at it, and says so in one line."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import monitor.poller
from monitor.config import load_config
from monitor.poller import Poller
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed

A = [Item(f"76000{i:02d}", f"Feed A release {i}", tickers=("Nasdaq:CLRB",)) for i in range(3)]
B = [Item(f"77000{i:02d}", f"Feed B release {i}", tickers=("Nasdaq:SNGX",)) for i in range(3)]


def test_a_feed_that_breaks_parsing_is_reported_and_the_next_feed_is_stored(
    server, write_config, monkeypatch
):
    first = server.add("a.xml", feed(*A))
    second = server.add("b.xml", feed(*B))
    config = load_config(write_config(config_text([first, second])))
    store = Store(config.storage.path)
    poller = Poller.create(config, store)
    real_parse = monitor.poller.parse_feed

    def parse(url, *args, **kwargs):
        if url.endswith("a.xml"):
            raise RuntimeError("an unforeseen\nbug")
        return real_parse(url, *args, **kwargs)

    monkeypatch.setattr(monitor.poller, "parse_feed", parse)
    report = {r.url: r for r in poller.poll().feeds}
    assert report[second].new == 3
    assert report[first].error == (
        "could not be read (RuntimeError: an unforeseen bug); please report this feed"
    )
    assert store.count() == 3
    monkeypatch.setattr(monitor.poller, "parse_feed", real_parse)
    assert {r.url: r.new for r in poller.poll(force=True).feeds}[first] == 3
    assert store.count() == 6
    poller.client.close()


def test_releases_the_store_cannot_take_are_named_and_the_rest_stored(server, write_config):
    url = server.add("a.xml", feed(*A))
    config = load_config(write_config(config_text([url])))
    store = Store(config.storage.path)
    poller = Poller.create(config, store)

    def classify(release):
        if release.release_id == "7600001":
            raise ValueError("no tags for you")
        return Poller.classify(poller, release)

    poller.classify = classify
    report = poller.poll().feeds[0]
    assert (report.new, report.failed) == (2, 1)
    assert report.failures == ("7600001: ValueError: no tags for you",)
    assert {
        r["release_id"] for r in store.query(__import__("monitor.query").query.ReleaseQuery())
    } == {
        "7600000",
        "7600002",
    }
    poller.client.close()


@pytest.mark.skipif(not shutil.which("chattr"), reason="needs chattr (e2fsprogs)")
def test_an_immutable_database_file_is_one_line(server, tmp_path, write_config):
    url = server.add("a.xml", feed(*A))
    config = write_config(config_text([url]))
    run = [sys.executable, "-m", "monitor", "--config", str(config), "poll", "--once"]
    assert subprocess.run(run, capture_output=True, timeout=60).returncode == 0
    db = tmp_path / "biomon.db"
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("this file system or user cannot set the immutable flag")
    try:
        server.add("a.xml", feed(*A, *B))
        result = subprocess.run(
            [*run, "--force"], capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
    finally:
        subprocess.run(["chattr", "-i", str(db)], capture_output=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0], result.stderr


def test_poll_and_status_name_the_items_left_out_or_flagged(server, tmp_path, write_config):
    body = feed(
        Item("7800000", "Good one"),
        Item("7800001", "From the far future", pub_date="Fri, 31 Dec 9999 23:59 GMT"),
    ).replace(
        b"</channel>", b"<item><pubDate>Tue, 19 Dec 2023 13:30 GMT</pubDate></item></channel>"
    )
    url = server.add("odd.xml", body)
    config = write_config(config_text([url]))
    base = [sys.executable, "-m", "monitor", "--config", str(config)]
    poll = subprocess.run([*base, "poll", "--once"], capture_output=True, text=True, timeout=60)
    assert poll.returncode == 0, poll.stderr
    assert "2 new, 0 already stored, 1 failed" in poll.stdout
    assert "not stored: item 3: ValueError: item has no dc:identifier" in poll.stdout
    assert "flagged: item 2 (id 7800001): date out of range" in poll.stdout
    status = subprocess.run([*base, "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    assert "2 item(s) with problems in the last read" in status.stdout
    assert "item 2 (id 7800001): date out of range" in status.stdout
    with Store(tmp_path / "biomon.db") as store:
        row = store.get("7800001")[0]
        assert row["published_utc"] is None and row["published_raw"].startswith("Fri, 31 Dec 9999")
        assert row["sort_time"] == row["first_seen"]


def test_a_release_the_database_refuses_is_left_out_not_the_batch(tmp_path):
    from monitor.models import Release

    store = Store(tmp_path / "b.db")
    good = Release(source="globenewswire", release_id="1", url="", title="Fine", summary_html="",
                   text="", published_utc=None, published_raw="")  # fmt: skip
    bad = Release(source=None, release_id="2", url="", title="No source", summary_html="",
                  text="", published_utc=None, published_raw="")  # fmt: skip
    saved = store.save_releases([good, bad])
    assert (saved.new, len(saved.failed)) == (1, 1)
    assert saved.failed[0].startswith("2: IntegrityError: NOT NULL constraint failed")
    assert store.count() == 1
