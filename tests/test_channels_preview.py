"""`biomon watch-test`: the stored history replayed through the current rules, nothing sent."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config
from monitor.poller import Poller
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import Item, feed
from tests.receiver import Receiver

LICENSE = Item(
    "8000001",
    "Cellectar Biosciences Signs Exclusive License Agreement With WARF",
    text="Cellectar signed an exclusive license agreement with WARF for iopofosine I 131.",
    tickers=("Nasdaq:CLRB",),
    pub_date="Wed, 25 Nov 2026 16:05 GMT",
)
RESULTS = Item(
    "8000002",
    "Cellectar Biosciences Reports Third Quarter Results",
    text="Cellectar reported a net loss for the quarter.",
    tickers=("Nasdaq:CLRB",),
    pub_date="Tue, 24 Nov 2026 12:00 GMT",
)
OTHER = Item(
    "8000003",
    "Acme Licenses Radiopharmaceutical Antibody",
    text="Acme (NASDAQ: ACME) signed an exclusive license agreement for a radiopharmaceutical.",
    tickers=("Nasdaq:ACME",),
    issuer="Acme Inc.",
    pub_date="Mon, 23 Nov 2026 09:00 GMT",
)


@pytest.fixture
def stored(server, write_config):
    """The three releases stored by a first poll (a backlog: no alerts), and the config path."""
    with Receiver() as receiver:
        url = server.add("f.xml", feed(LICENSE, RESULTS, OTHER))
        watches = (
            '[[watch]]\nticker = "CLRB"\nalert_tags = ["licensing"]\n'
            '[[watch]]\nkeywords = ["radiopharmaceutical"]\nchannels = ["webhook"]\n'
        )
        notify = (
            '[notify.email]\nhost = "127.0.0.1"\nfrom = "b@test"\nto = ["a@test"]\n'
            f'[notify.webhook]\nurl = "{receiver.url()}"\n'
        )
        path = write_config(config_text([url], watches) + notify)
        config = load_config(path)
        store = Store(config.storage.path)
        poller = Poller.create(config, store)
        poller.poll()
        poller.client.close()
        assert store.db["alerts"].count == 0
        yield path, store, receiver
        store.close()


def run(path, *args):
    return CliRunner().invoke(cli, ["--config", str(path), "watch-test", *args])


def test_watch_test_says_what_would_have_alerted_where(stored):
    path, store, receiver = stored
    result = run(path, "--since", "2026-11-01")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "2026-11-23 09:00  globenewswire:8000003  radiopharmaceutical -> webhook",
        f"    {OTHER.title}",
        "2026-11-25 16:05  globenewswire:8000001  CLRB -> email, webhook",
        f"    {LICENSE.title}",
        "2 of 3 releases since 2026-11-01 would have alerted (3 alerts); nothing was sent or queued",
    ]
    assert store.db["alerts"].count == 0 and receiver.requests == []


def test_watch_test_one_watch_as_json(stored):
    path, _, _ = stored
    result = run(path, "--since", "2026-11-01", "--watch", "clrb", "--format", "json")
    records = [json.loads(line) for line in result.output.splitlines()]
    assert records == [
        {
            "release": "globenewswire:8000001",
            "published": "2026-11-25T16:05:00Z",
            "title": LICENSE.title,
            "alerts": [{"rule": "CLRB", "channels": ["email", "webhook"]}],
        }
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--watch", "XYZ"], "no watch 'XYZ'; the watches: CLRB, radiopharmaceutical"),
        (["--since", "last week"], "'last week' is not a date"),
    ],
)
def test_watch_test_bad_options_are_usage_errors(stored, args, expected):
    path, _, _ = stored
    result = run(path, *args)
    assert result.exit_code == 2 and expected in result.output


def test_watch_test_since_leaves_out_older_releases(stored):
    path, _, _ = stored
    result = run(path, "--since", "2026-11-24")
    assert result.output.splitlines()[-1].startswith("1 of 2 releases since 2026-11-24")


@pytest.mark.parametrize(
    ("since", "start"),
    [
        ("30d", "2026-11-03T16:00:00Z"),
        ("12h", "2026-12-03T04:00:00Z"),
        ("2026-11-01", "2026-11-01T00:00:00Z"),
    ],
)
def test_since_takes_days_hours_or_a_date(since, start):
    from datetime import UTC, datetime

    from monitor.cli.alerts import _since

    assert _since(since, datetime(2026, 12, 3, 16, 0, tzinfo=UTC)) == start
