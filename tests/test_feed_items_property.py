"""Property: whatever an RSS item holds, parse_feed returns safe releases (or says which failed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.parse import parse_feed
from monitor.sources import globenewswire
from tests.gnw import NS
from tests.test_feed_items import assert_safe

NOW = datetime(2026, 12, 1, tzinfo=UTC)
LATEST = (NOW + timedelta(days=366)).strftime("%Y-%m-%dT%H:%M:%SZ")

# Any code point, surrogates too; written raw they make invalid UTF-8 (surrogatepass).
any_char = st.characters(codec=None, categories=None)
raw_text = st.text(any_char, max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass"))
escaped_text = st.text(any_char, max_size=30).map(
    lambda s: escape(s).encode("utf-8", "surrogatepass")
)
char_ref = st.one_of(
    st.integers(min_value=0, max_value=2**80).map(lambda n: f"&#{n};"),
    st.integers(min_value=0, max_value=2**80).map(lambda n: f"&#x{n:X};"),
    st.integers(min_value=0xD800, max_value=0xDFFF).map(lambda n: f"&#x{n:x};"),
    st.integers(min_value=0, max_value=0x20).map(lambda n: f"&#{n};"),
    st.integers(min_value=0x10FFF0, max_value=0x110010).map(lambda n: f"&#x{n:X}"),
    st.sampled_from(["&#;", "&#x;", "&#xZZ;", "&#-1;", "&#" + "9" * 4400 + ";"]),
).map(str.encode)
named = st.sampled_from(
    [b"&amp;", b"&lt;", b"&gt;", b"&quot;", b"&nbsp;", b"&eacute;", b"&bogus;", b"&", b"&;"]
)
control = st.integers(min_value=0, max_value=0x1F).map(lambda n: bytes([n]))
markup = st.sampled_from(
    [
        b"<",
        b">",
        b"<b>",
        b"</b>",
        b"<!--",
        b"-->",
        b"<![CDATA[",
        b"]]>",
        b"<script>alert(1)</script>",
        "\u202e".encode(),
        b"\xff",
        b"\xc3",
        b"\xed\xa0\x80",
    ]
)
piece = st.one_of(escaped_text, raw_text, char_ref, named, control, markup)
content = st.lists(piece, max_size=8).map(b"".join)

day = st.sampled_from(["Mon", "Fri", "Xyz", ""])
month = st.sampled_from(["Jan", "Dec", "Feb", "Foo", "13", ""])
zone = st.sampled_from(["GMT", "+0000", "-0500", "+9999", "-99999999999", "EST", "Z", ""])
rfc822 = st.builds(
    lambda d, n, m, y, hh, mm, ss, z: f"{d}, {n:02d} {m} {y} {hh:02d}:{mm:02d}{ss} {z}".encode(),
    day,
    st.integers(min_value=-5, max_value=99),
    month,
    st.integers(min_value=-1, max_value=10**12),
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["", ":00", ":60", ":99"]),
    zone,
)
date = st.one_of(rfc822, content, st.just(b"Tue, 19 Dec 2023 13:30 GMT"))
identifier = st.one_of(
    st.integers(min_value=0, max_value=10**30).map(lambda n: str(n).encode()),
    st.just(b""),
    content,
)


@st.composite
def items(draw) -> bytes:
    parts = [b"<item>"]
    if draw(st.booleans()):
        parts.append(b"<title>" + draw(content) + b"</title>")
    if draw(st.booleans()):
        number = draw(st.integers(min_value=0, max_value=10**9))
        link = f"https://www.globenewswire.com/news-release/2026/12/01/{number}/0/en/x.html"
        parts.append(f"<link>{link}</link>".encode())
    description = draw(content)
    if draw(st.booleans()):
        description = b"<![CDATA[<p>" + description + b"</p>]]>"
    parts.append(b"<description>" + description + b"</description>")
    parts.append(b"<pubDate>" + draw(date) + b"</pubDate>")
    if draw(st.booleans()):
        parts.append(b"<dc:identifier>" + draw(identifier) + b"</dc:identifier>")
    if draw(st.booleans()):
        parts.append(b"<dc:contributor>" + draw(content) + b"</dc:contributor>")
    if draw(st.booleans()):
        parts.append(b"<category>" + draw(content) + b"</category>")
    if draw(st.booleans()):
        stock = b'<category domain="https://www.globenewswire.com/rss/stock">'
        parts.append(stock + draw(content) + b"</category>")
    parts.append(b"</item>")
    return b"".join(parts)


@st.composite
def feeds(draw) -> bytes:
    declaration = draw(st.sampled_from([b' encoding="utf-8"', b"", b' encoding="UTF-8"']))
    head = b'<?xml version="1.0"' + declaration + b'?>\n<rss version="2.0" ' + NS.encode()
    body = b"".join(draw(st.lists(items(), min_size=1, max_size=5)))
    return head + b"><channel><title>Test</title>" + body + b"</channel></rss>"


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    body=feeds(),
    content_type=st.sampled_from(
        ["", "application/rss+xml", "text/xml", "application/rss+xml; charset=utf-8"]
    ),
    skip_known=st.booleans(),
)
def test_any_items_parse_to_safe_releases(body, content_type, skip_known):
    known = (lambda ids: set(ids[:1])) if skip_known else None
    parsed = parse_feed("http://127.0.0.1/f.xml", body, content_type, known=known, now=NOW)
    assert parsed.failed_items == len(parsed.failures)
    assert all("\n" not in line for line in parsed.failures + parsed.flagged)
    for release in parsed.releases:
        assert_safe(release)
        assert "\x00" not in release.text + release.title + release.summary_html
        assert release.published_utc is None or "1990-01-01" <= release.published_utc <= LATEST
        assert len(release.published_raw) <= globenewswire.MAX_FIELD
