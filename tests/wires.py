"""Real wire samples (tests/fixtures) served from a local server: links rewritten to it."""

from __future__ import annotations

import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
PRN_FEED = FIXTURES / "prnewswire" / "prn-rss-financial-services-2026-09-13.xml"
PRN_PAGE = FIXTURES / "prnewswire" / "prn-article-hackerrank-300256929.html"
BW_FEED = FIXTURES / "businesswire" / "bw-rss-constructed.xml"
BW_PAGE = FIXTURES / "businesswire" / "bw-article-IBKR-20210130005024-constructed.html"
CRYOPORT_PATH = (
    "/news-releases/cryoport-reports-first-quarter-2026-financial-results-302999111.html"
)
CRYOPORT_ID = "302999111"
IBKR_PATH = (
    "/news/home/20210130005024/en/Interactive-Brokers-Lifts-All-Trading-Restrictions-on-Options"
)
CONTACT_AGENT = "biomon-test/0.1 (tests@example.com)"


def localised(body: bytes, base_url: str) -> bytes:
    """The sample with every wire and SEC address pointing at the local server instead."""
    return re.sub(
        rb"https://(?:www\.)?(?:prnewswire|businesswire|sec)\.(?:com|gov)", base_url.encode(), body
    )


def without_item(body: bytes, marker: bytes) -> bytes:
    """The feed without the item that contains `marker` (a release still to come)."""
    return re.sub(rb"<item>(?:(?!</item>).)*?" + re.escape(marker) + rb".*?</item>", b"", body,
                  flags=re.DOTALL)  # fmt: skip


EMAIL = """
[notify.email]
enabled = true
host = "127.0.0.1"
port = 1
security = "none"
from = "biomon <biomon@example.com>"
to = ["analyst@example.com"]
"""


def wire_config(feeds: str, watch: str = "", extra: str = "", timeout: float = 5) -> str:
    """A config whose [poll] feeds is the TOML array `feeds` (entries may name their wire)."""
    return (
        f'[storage]\npath = "biomon.db"\n[poll]\ninterval = 60\nuser_agent = "{CONTACT_AGENT}"\n'
        f"timeout = {timeout}\nhost_gap = 0\nfeeds = {feeds}\n{extra}\n{watch}\n{EMAIL}"
    )
