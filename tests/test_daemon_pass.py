"""The daemon's poll plan: one batched pass per tick, every feed at its slot, hosts spread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from monitor.config import load_config
from monitor.poller import Poller
from monitor.schedule import Slots, crowded_hosts, next_slot, spread
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed

T0 = 1_800_000_000.0  # a Unix time, seconds


def wire(count: int, host: str = "www.globenewswire.com") -> list[str]:
    return [f"https://{host}/RssFeed/organization/{i}" for i in range(count)]


def steps(phases: list[float], interval: float) -> list[float]:
    ordered = sorted(phases)
    return [b - a for a, b in zip(ordered, ordered[1:], strict=False)] + [
        ordered[0] + interval - ordered[-1]
    ]


@pytest.mark.parametrize(
    "feeds, interval, apart",
    [(40, 60, 1.5), (2, 60, 30), (7, 10, 10 / 7), (1, 60, 60), (200, 1, 0.005)],
)
def test_a_host_s_feeds_are_evenly_apart_over_the_interval(feeds, interval, apart):
    phases = list(spread(wire(feeds), interval).values())
    assert all(0 <= p < interval for p in phases)
    assert steps(phases, interval) == pytest.approx([apart] * feeds)


def test_each_host_is_spread_on_its_own():
    urls = wire(4, "a.example") + wire(3, "b.example") + wire(1, "c.example")
    phases = spread(urls, 60)
    for host, count in (("a.example", 4), ("b.example", 3)):
        own = [p for url, p in phases.items() if host in url]
        assert steps(own, 60) == pytest.approx([60 / count] * count)


def test_phases_are_the_same_in_every_process():
    code = (
        "import json; from monitor.schedule import spread; "
        f"print(json.dumps(spread({wire(5)!r}, 60, 'host1')))"
    )
    seen = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True,
                env={**os.environ, "PYTHONHASHSEED": seed},
            ).stdout
        )
        for seed in ("1", "2")
    ]  # fmt: skip
    assert seen[0] == seen[1] == spread(wire(5), 60, "host1")
    assert spread(wire(5), 60, "host2") != seen[0]  # another machine polls at other seconds


@pytest.mark.parametrize(
    "phase, after, slot",
    [(10, 0, 10), (10, 9.99, 10), (10, 10, 70), (10, 69.9, 70), (10, 125, 130), (59.5, 0, 59.5)],
)
def test_next_slot_is_the_first_slot_later_than_a_time(phase, after, slot):
    assert next_slot(phase, 60, T0 + after) - T0 == pytest.approx(slot + (T0 % 60))


def ticks(slots: Slots, seconds: float, every: float = 0.0, quiet=lambda: False, tick=0.5):
    """Run the plan tick by tick from T0 for `seconds`; {url: [times taken]}, most per tick."""
    taken: dict[str, list[float]] = {}
    most = 0
    for n in range(int(seconds / tick)):
        now = T0 + n * tick
        urls = slots.take(now, every=every, quiet=quiet)
        slots.finished(urls)
        most = max(most, len(urls))
        for url in urls:
            taken.setdefault(url, []).append(now - T0)
    return taken, most


def test_forty_feeds_on_one_host_are_taken_one_per_tick_each_once_an_interval():
    # GlobeNewswire only: 40 feeds, 60 s, host_gap 0.5 s fits (1.5 s apart).
    urls = wire(40)
    slots = Slots()
    slots.plan(urls, 60, now=T0, polled=urls)
    taken, most = ticks(slots, 181)
    assert most == 1  # a pass never holds two feeds of the host
    assert set(taken) == set(urls)
    for times in taken.values():
        assert len(times) == 3 and times[0] <= 60.5  # a tick after its slot, the first interval
        assert [b - a for a, b in zip(times, times[1:], strict=False)] == pytest.approx(
            [60, 60], abs=0.5
        )


def test_feeds_never_polled_are_due_at_once_the_others_at_their_slot():
    urls = wire(10)
    slots = Slots()
    slots.plan(urls, 60, now=T0, polled=urls[:6])
    assert set(slots.take(T0)) == set(urls[6:])
    taken, _ = ticks(slots, 60)
    assert set(taken) == set(urls[:6])


def test_a_feed_in_a_pass_is_not_taken_again_until_the_pass_is_over():
    (url,) = wire(1)
    slots = Slots()
    slots.plan([url], 1, now=T0)
    assert slots.take(T0) == (url,)
    assert not slots.overdue([url], T0 + 0.9)
    assert slots.take(T0 + 5) == ()  # a slow host: five slots went by
    assert slots.overdue([url], T0 + 5)  # the daemon looks again when the pass ends
    slots.finished([url])
    assert slots.take(T0 + 5.1) == (url,)
    assert slots.take(T0 + 5.2) == ()  # and its next slot is still ahead


def test_the_daemon_looks_again_at_the_next_due_time_or_when_an_overdue_pass_ends():
    urls = wire(3)
    slots = Slots()
    slots.plan(urls, 60, now=T0, polled=urls)
    first = min(slots.due.values())
    assert slots.next_due(T0) == first
    (taken,) = slots.take(first)
    assert slots.next_due(first) == min(slots.due.values())  # also the one in flight: its slot
    slow = slots.due[taken] + 1  # its pass is still running at its next slot
    assert slots.next_due(slow) == min(at for url, at in slots.due.items() if url != taken)
    assert slots.overdue([taken], slow)
    slots.finished([taken])
    assert slots.next_due(slow) <= slow and taken in slots.take(slow)  # at the next look


@pytest.mark.parametrize("quiet, polls", [(True, 2), (False, 8)])
def test_outside_busy_hours_a_feed_is_taken_every_idle_interval_only(quiet, polls):
    urls = wire(3)
    slots = Slots()
    slots.plan(urls, 60, now=T0, polled=urls)
    taken, _ = ticks(slots, 480, every=240, quiet=lambda: quiet)
    assert {len(times) for times in taken.values()} == {polls}


def test_a_config_change_keeps_unmoved_feeds_and_places_the_moved_ones():
    a, b = wire(1, "a.example"), wire(2, "b.example")
    slots = Slots()
    slots.plan(a + b, 60, now=T0, polled=a + b)
    before = dict(slots.due)
    added = wire(3, "b.example")[2:]
    slots.plan(a + b + added, 60, now=T0 + 1, polled=a + b)
    assert slots.due[a[0]] == before[a[0]]  # its host did not change
    assert slots.due[added[0]] == T0 + 1  # never polled: now
    assert all(T0 + 1 < slots.due[url] <= T0 + 61 for url in b)  # b's phases moved
    slots.plan(a, 60, now=T0 + 2)
    assert set(slots.due) == set(a)


def test_crowded_hosts_are_those_whose_feeds_do_not_fit_the_interval():
    urls = wire(40) + wire(200, "www.prnewswire.com")
    assert crowded_hosts(urls, 60, 0.5) == {"www.prnewswire.com": 200}
    assert crowded_hosts(urls, 60, 0) == {}


def test_a_kept_pool_serves_every_pass(server, write_config):
    urls = [server.add(f"f{i}.xml", feed(Item(f"78{i:05d}", f"Release {i}"))) for i in range(6)]
    config = load_config(write_config(config_text(urls) + "host_gap = 0\nworkers = 3\n"))
    poller = Poller.create(config, Store(config.storage.path))
    poller.keep_pool()
    pool = poller.pool
    try:
        for _ in range(3):
            assert len(poller.poll(force=True).feeds) == 6
        fetchers = [t for t in threading.enumerate() if t.name.startswith("fetch")]
        assert poller.pool is pool and len(fetchers) <= 3
        poller.keep_pool()  # the same size: the same pool
        assert poller.pool is pool
    finally:
        poller.close()


def test_biomon_run_polls_a_host_s_feeds_at_their_slots_not_together(server, tmp_path):
    # Four feeds of one host every 4 s: one a second. Polled together, they would come
    # host_gap (0.3 s) apart.
    times: list[tuple[float, str]] = []
    body = feed(Item("7900000", "A release"))

    def answer(name: str):
        def handler(h) -> None:
            times.append((time.monotonic(), name))
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)

        return handler

    urls = [server.add(f"f{i}.xml", handler=answer(f"f{i}")) for i in range(4)]
    config = tmp_path / "biomon.toml"
    config.write_text(
        config_text(urls).replace("interval = 60", "interval = 4") + "host_gap = 0.3\n"
        "[daemon]\nidle_interval = 1\nheartbeat_every = 0.5\n"
    )
    command = [sys.executable, "-m", "monitor", "--config", str(config)]
    subprocess.run([*command, "catch-up"], check=True, capture_output=True, timeout=60)
    log = tmp_path / "daemon.log"
    with open(log, "w") as out:
        daemon = subprocess.Popen([*command, "run"], stdout=out, stderr=subprocess.STDOUT)
        try:
            started = time.monotonic()
            time.sleep(9.5)
        finally:
            daemon.terminate()
            daemon.wait(timeout=15)
    polled = [(at - started, name) for at, name in times if at > started]
    assert len(polled) >= 8, log.read_text()[-2000:]
    first = polled[0][0]  # the daemon's start-up time (imports) varies between machines
    for name in {name for _, name in polled}:
        own = [at for at, n in polled if n == name]
        assert own[0] - first < 4.6  # its first slot, within one interval of the first poll
        assert [b - a for a, b in zip(own, own[1:], strict=False)] == pytest.approx(
            [4] * (len(own) - 1), abs=0.6
        )
    gaps = [b[0] - a[0] for a, b in zip(polled, polled[1:], strict=False)]
    assert min(gaps) > 0.5, polled  # spread: about a second apart, never host_gap apart
    assert "Traceback" not in log.read_text()


def test_biomon_run_warns_when_a_host_s_feeds_cannot_fit_the_interval(server, tmp_path):
    urls = [server.add(f"g{i}.xml", feed(Item(f"79{i:05d}", f"R {i}"))) for i in range(5)]
    config = tmp_path / "biomon.toml"
    config.write_text(
        config_text(urls).replace("interval = 60", "interval = 1") + "host_gap = 0.5\n"
    )
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        lines: list[str] = []
        while time.monotonic() < deadline and not any("biomon run:" in x for x in lines):
            lines.append(daemon.stdout.readline())
    finally:
        daemon.terminate()
        daemon.wait(timeout=15)
    text = "".join(lines)
    assert "5 feeds on 127.0.0.1 take 2.5s at [poll] host_gap = 0.5, more than the 1s" in text
