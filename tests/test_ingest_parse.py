"""parse_feed reads a feed without its URL as base when the base changes nothing it reads:
links and ids must be what feedparser gives with the feed's URL as Content-Location."""

from __future__ import annotations

import io

import feedparser
import pytest

from monitor import parse
from monitor.parse import parse_feed
from monitor.sources import globenewswire

FEED_URL = "https://www.globenewswire.com/RssFeed/orgclass/1/feedTitle/GlobeNewswire"


def rss(*items: str, channel_attrs: str = "") -> bytes:
    body = "".join(f"<item>{item}</item>" for item in items)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://dublincore.org/documents/dcmi-namespace/">'
        f"<channel{channel_attrs}><title>t</title><link>https://www.globenewswire.com</link>"
        f"<description>d</description>{body}</channel></rss>"
    ).encode()


def item(link: str = "", guid: str = "", permalink: str | None = None, extra: str = "") -> str:
    parts = ["<title>Cellectar Signs License</title>", "<description>Text.</description>"]
    if link:
        parts.append(f"<link>{link}</link>")
    if guid:
        attr = f' isPermaLink="{permalink}"' if permalink is not None else ""
        parts.append(f"<guid{attr}>{guid}</guid>")
    return "".join(parts) + extra


def reference_links(body: bytes, url: str, content_type: str) -> list[tuple[str, str]]:
    """(link, id) of each entry as feedparser gives them with the URL as the base."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    return [(e.get("link", ""), e.get("id", "")) for e in parsed.entries]


ABSOLUTE = "https://www.globenewswire.com/news-release/2026/09/11/3360561/0/en/a.html"

CASES = {
    "absolute": rss(item(ABSOLUTE, ABSOLUTE)),
    "relative link": rss(item("/news-release/2026/09/11/3360562/0/en/b.html")),
    "relative guid as link": rss(item(guid="/news-release/2026/09/11/3360563/0/en/c.html")),
    "relative guid not a permalink": rss(item(ABSOLUTE, "3360564", permalink="false")),
    "path-relative link": rss(item("news/3360565")),
    "empty query dropped by the join": rss(item(ABSOLUTE + "?")),
    "extra slashes": rss(item("https:////www.globenewswire.com/news-release/x/3360566/")),
    "xml:base on the item": rss(
        item("3360567.html", extra="").replace("<title>", "<title>", 1),
        channel_attrs=' xml:base="https://other.example/base/"',
    ),
    "javascript base refused": rss(item("x/3360568"), channel_attrs=' xml:base="javascript:x"'),
    "protocol-relative link": rss(item("//cdn.example/3360569")),
    # A URI checked once is not checked again; another item's other URI still is.
    "guid as link, then a relative guid": rss(
        item(ABSOLUTE, ABSOLUTE), item(ABSOLUTE, "3360570", permalink="false")
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("content_type", ["application/rss+xml", ""])
def test_links_and_ids_are_those_the_feed_url_gives(name, content_type):
    body = CASES[name]
    headers = {"content-location": FEED_URL}
    if content_type:
        headers["content-type"] = content_type
    parsed = parse._feedparse_at(FEED_URL, body, headers)
    found = [(e.get("link", ""), e.get("id", "")) for e in parsed.entries]
    assert found == reference_links(body, FEED_URL, content_type)


@pytest.mark.parametrize("url", ["https://x.example/feed?", "HTTPS://x.example/feed#top"])
def test_feed_url_feedparser_rewrites_still_gives_its_links(url):
    body = CASES["relative link"]
    headers = {"content-location": url, "content-type": "application/rss+xml"}
    found = [
        (e.get("link", ""), e.get("id", ""))
        for e in parse._feedparse_at(url, body, headers).entries
    ]
    assert found == reference_links(body, url, "application/rss+xml")


def test_relative_link_resolves_against_the_feed_url():
    body = CASES["relative link"]
    release = parse_feed(FEED_URL, body, "application/rss+xml").releases[0]
    assert release.url == (
        "https://www.globenewswire.com/news-release/2026/09/11/3360562/0/en/b.html"
    )
    assert release.release_id == "3360562"


def test_feed_without_relative_links_is_read_once_without_base():
    # The fast path: same entries, and the base-dependent details are simply absent.
    body = CASES["absolute"]
    parsed = parse._feedparse_at(
        FEED_URL, body, {"content-location": FEED_URL, "content-type": "application/rss+xml"}
    )  # noqa: E501
    assert parsed.entries[0]["summary_detail"]["base"] == ""
    assert parsed.entries[0]["link"] == ABSOLUTE


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<item><description>based in Boston</description></item>", False),
        (b'<item xml:base="https://x/">', True),
        (b"<item BASE = 'x'>", True),
        (b'<!DOCTYPE rss [<!ATTLIST item xml:base CDATA "https://x/">]>', True),
    ],
)
def test_bodies_that_may_set_a_base_are_read_with_it(body, expected):
    assert parse._may_set_base(body) is expected


@pytest.mark.parametrize(
    ("url", "plain"),
    [
        (FEED_URL, True),
        ("http://127.0.0.1:8080/feed", True),
        ("", False),
        ("javascript:alert(1)", False),
        ("https://x.example/feed?", False),  # feedparser's base would be https://x.example/feed
        ("HTTPS://x.example/feed", False),
    ],
)
def test_plain_base(url, plain):
    assert parse._plain_base(url) is plain


def test_every_wire_reads_the_same_with_and_without_the_fast_path():
    # The GlobeNewswire fixture read with its real feed URL gives the same releases either way.
    body = CASES["relative guid as link"] + b""
    fast = parse_feed(FEED_URL, body, "application/rss+xml", source=globenewswire.PLUGIN)
    slow = parse_feed(FEED_URL, body, "", source=globenewswire.PLUGIN)  # always with the base
    assert [r.url for r in fast.releases] == [r.url for r in slow.releases]
