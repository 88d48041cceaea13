"""One bad item never loses the others: wild dates, bad character references, bad UTF-8 bytes,
items without ids, hostile titles; each item is read on its own."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config
from monitor.fetch import fetch
from monitor.models import ParseResult, Release
from monitor.parse import parse_feed, prepare_body
from monitor.poller import poll_once
from monitor.sources import globenewswire
from monitor.store import Store
from tests.conftest import config_text
from tests.gnw import NS, Item, feed

URL = "http://127.0.0.1/feed.xml"
RSS = "application/rss+xml"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def parse(body: bytes, content_type: str = RSS, **options) -> ParseResult:
    return parse_feed(URL, body, content_type, **options)


def by_id(parsed: ParseResult) -> dict[str, Release]:
    return {r.release_id: r for r in parsed.releases}


def served(server, body: bytes, name: str = "feed.xml", **options) -> ParseResult:
    url = server.add(name, body, **options)
    with httpx.Client() as client:
        result = fetch(client, url)
    assert result.ok, result.error
    return parse_feed(url, result.body, result.content_type)


def assert_safe(release: Release) -> None:
    """Every string of the release encodes to UTF-8 and holds no C0 control but \\t\\n\\r."""
    strings = [
        release.source,
        release.release_id,
        release.url,
        release.title,
        release.summary_html,
        release.text,
        release.published_raw,
        release.issuer,
        release.language,
        release.feed_url,
        *release.subjects,
        *(t.exchange for t in release.tickers),
        *(t.symbol for t in release.tickers),
    ]
    if release.published_utc is not None:
        strings.append(release.published_utc)
    for value in strings:
        value.encode("utf-8")  # raises on a lone surrogate
        assert not any(ord(c) < 0x20 and c not in "\t\n\r" for c in value), repr(value)
    assert len(release.title) <= globenewswire.MAX_TITLE
    assert "\n" not in release.title and "\u202e" not in release.title


# ---- 1. dates outside 1990 .. now + 366 days


@pytest.mark.parametrize("raw", ["Fri, 31 Dec 9999 23:59 GMT", "Mon, 01 Jan 0001 00:00 GMT"])
def test_wild_date_is_no_date_but_the_item_stays_flagged(raw, tmp_path):
    parsed = parse(feed(Item("2800010", "Wild date", pub_date=raw), Item("2800011", "Good")))
    releases = by_id(parsed)
    assert releases["2800010"].published_utc is None
    assert releases["2800010"].published_raw == raw
    assert releases["2800011"].published_utc == "2023-12-19T13:30:00Z"
    assert parsed.failed_items == 0
    assert len(parsed.flagged) == 1
    assert parsed.flagged[0].startswith("item 1 (id 2800010): date out of range")
    assert raw in parsed.flagged[0]
    # The store sorts such a release by when it was first seen, and does not crash.
    with Store(tmp_path / "biomon.db") as store:
        saved = store.save_releases(parsed.releases, feed_url=URL)
        assert saved.new == 2 and store.count() == 2


def test_date_window_edges():
    def utc(raw: str) -> str | None:
        return globenewswire.published_utc(raw, now=NOW)[0]

    assert utc("Sun, 31 Dec 1989 23:59 GMT") is None
    assert utc("Mon, 01 Jan 1990 00:00 GMT") == "1990-01-01T00:00:00Z"
    assert utc((NOW + timedelta(days=300)).strftime("%a, %d %b %Y %H:%M GMT")) is not None
    assert utc((NOW + timedelta(days=400)).strftime("%a, %d %b %Y %H:%M GMT")) is None
    assert globenewswire.published_utc("Tue, 01 Dec 2026 10:00 +0100", now=NOW) == (
        "2026-12-01T09:00:00Z",
        None,
    )


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "sometime last week",
        "Fri, 31 Dec 99999 23:59 GMT",
        "Fri, 99 Dec 2026 99:99:99 GMT",
        "Fri, 31 Foo 2026 23:59 +9999",
        "Fri, 31 Dec 2026 23:59 -99999999999999999999",
        "31 Dec 2026 23:59:60 GMT",
        "\x00\ud800",
        "Mon, 01 Jan 0000 00:00 GMT",
        "Tue, 19 Dec 2023 13:30 GMT" * 1000,
    ],
)
def test_reading_a_date_never_raises(raw):
    utc, problem = globenewswire.published_utc(raw, now=NOW)
    assert utc is None or "1990" <= utc <= "2027-12-02"
    for parsed in [time.gmtime(0)[:3], (9999, 12, 31, 23, 59, 0, 0, 0, 0), (None,) * 9, "x"]:
        globenewswire.published_utc(raw, parsed, now=NOW)


def test_unreadable_date_keeps_raw_and_is_flagged():
    parsed = parse(feed(Item("2800012", "Bad date", pub_date="sometime last week")))
    assert parsed.releases[0].published_utc is None
    assert parsed.releases[0].published_raw == "sometime last week"
    assert parsed.flagged == ("item 1 (id 2800012): unreadable date: 'sometime last week'",)


# ---- 2. character references to no character


BAD_REFERENCES = [
    "&#xD800;",
    "&#xdfff;",
    "&#55296;",
    "&#x110000;",
    "&#99999999999999999999;",
    "&#x" + "F" * 5000 + ";",
    "&#" + "9" * 5000 + ";",
    "&#xD800",
    "&#0;",
    "&#x1;",
    "&#xFFFE;",
]


@pytest.mark.parametrize("reference", BAD_REFERENCES)
@pytest.mark.parametrize("where", ["title", "description", "issuer"])
def test_bad_character_reference_spoils_nothing(reference, where):
    bad = Item("2800021", "Bad reference", text="Body", issuer="Issuer Inc.")
    body = feed(Item("2800020", "Before"), bad, Item("2800022", "After"))
    old = {"title": b"Bad reference", "description": b"<p>Body</p>", "issuer": b"Issuer Inc."}
    body = body.replace(old[where], old[where][:3] + reference.encode() + b" " + old[where][3:])
    parsed = parse(body)
    releases = by_id(parsed)
    assert set(releases) == {"2800020", "2800021", "2800022"}
    assert releases["2800020"].title == "Before" and releases["2800022"].title == "After"
    for release in parsed.releases:
        assert_safe(release)
    spoiled = releases["2800021"]
    field = {"title": spoiled.title, "description": spoiled.text, "issuer": spoiled.issuer}[where]
    assert field.startswith(old[where][:3].decode().replace("<p>", ""))
    assert "character reference" in (parsed.warning or "")


@pytest.mark.parametrize(
    ("references", "expected", "warnings"),
    [
        ("&#x27;" * 50 + "&#233;", None, []),
        (
            "&#x27;" * 9 + "&#0;&#39;",
            "&#x27;" * 9 + "&#39;",
            ["1 invalid character reference replaced"],
        ),
        (
            "&#xD800;&#x27;&#xD800;",
            "&#xFFFD;&#x27;&#xFFFD;",
            ["2 invalid character references replaced"],
        ),
    ],
)
def test_a_body_is_rewritten_only_for_references_to_no_character(references, expected, warnings):
    body = f'<?xml version="1.0" encoding="utf-8"?><rss><title>{references}</title></rss>'.encode()
    prepared, found, _ = prepare_body(body)
    assert found == warnings
    if expected is None:
        assert prepared is body  # all valid (one distinct reference many times): not rewritten
    else:
        assert prepared == body.replace(references.encode(), expected.encode())


def test_valid_references_are_kept():
    body = feed(Item("2800023", "Caf&#233; &#x1F600; &#9;tab")).replace(b"&amp;#", b"&#")
    assert parse(body).releases[0].title == "Café \U0001f600 tab"


def test_release_strings_are_made_safe_whatever_feedparser_hands_over():
    entry = {
        "title": "Lone \ud800 surrogate\x00 and NUL \u202e",
        "summary": "<p>Text \udfff with\x01 control</p>",
        "dc_identifier": "2800024",
        "link": "https://example.org/\ud800",
        "published": "Tue, 19 Dec 2023 13:30 GMT\x00",
        "author": "Issuer\x00 \ud800",
        "tags": [{"term": "Subject\x07 \ud800", "scheme": None}],
        "language": "en\x00",
    }
    release = globenewswire.entry_to_release(entry, feed_url=URL)
    assert_safe(release)
    assert release.title == "Lone \ufffd surrogate and NUL"
    assert release.text == "Text \ufffd with control"


# ---- 3. one invalid UTF-8 byte


ZURICH = Item(
    "2800030",
    "Zürich biotech raises CHF 10 million",
    text="ZÜRICH, Switzerland (GLOBE NEWSWIRE) -- Zürich-based Acme AG today…",
    issuer="Acme Zürich AG",
    subjects=("Financing Agreements", "Forschung & Entwicklung: Zürich"),
)


def bad_byte_feed(declaration: str = ' encoding="utf-8"') -> bytes:
    body = feed(ZURICH, Item("2800031", "Second release MARK"), Item("2800032", "Third – ok"))
    body = body.replace(b"Second release MARK", b"Second \xff release")
    return body.replace(b' encoding="utf-8"', declaration.encode())


@pytest.mark.parametrize(
    "content_type",
    ["application/rss+xml", "application/rss+xml; charset=utf-8", "text/xml", "application/xml"],
)
def test_one_bad_byte_garbles_nothing_else(server, content_type):
    parsed = served(server, bad_byte_feed(), headers={"Content-Type": content_type})
    releases = by_id(parsed)
    zurich = releases["2800030"]
    assert zurich.title == "Zürich biotech raises CHF 10 million"
    assert zurich.issuer == "Acme Zürich AG"
    assert zurich.text.startswith("ZÜRICH, Switzerland (GLOBE NEWSWIRE) -- Zürich-based")
    assert zurich.subjects == ("Financing Agreements", "Forschung & Entwicklung: Zürich")
    assert releases["2800031"].title == "Second \ufffd release"
    assert releases["2800032"].title == "Third – ok"
    offset = bad_byte_feed().index(b"\xff")
    assert f"invalid UTF-8 at byte {offset} replaced" in parsed.warning


def test_bad_byte_in_a_feed_with_no_declaration_nor_content_type():
    parsed = parse(bad_byte_feed(declaration=""), content_type="")
    assert by_id(parsed)["2800030"].issuer == "Acme Zürich AG"
    assert "invalid UTF-8" in parsed.warning


def test_undeclared_clean_utf8_without_content_type_is_utf8():
    body = feed(ZURICH).replace(b' encoding="utf-8"', b"")
    assert parse(body, content_type="").releases[0].issuer == "Acme Zürich AG"


def test_feed_declared_latin1_is_left_to_its_encoding():
    body = feed(ZURICH).decode().replace("utf-8", "iso-8859-1").encode("latin-1", "replace")
    parsed = parse(body)
    assert parsed.releases[0].issuer == "Acme Zürich AG"
    assert "UTF-8" not in (parsed.warning or "")


def test_single_byte_feed_mislabelled_utf8_is_still_read_whole():
    # No byte sequence is valid UTF-8: replacing would lose every umlaut; feedparser's
    # windows-1252 fallback reads it right.
    body = feed(ZURICH, Item("2800035", "Über")).decode().encode("windows-1252")
    parsed = parse(body)
    assert by_id(parsed)["2800030"].issuer == "Acme Zürich AG"
    assert by_id(parsed)["2800035"].title == "Über"
    assert "invalid UTF-8" not in (parsed.warning or "")


def test_raw_control_bytes_are_dropped_and_the_feed_stays_well_formed():
    body = feed(Item("2800033", "Con\x00trol\x1b"), Item("2800034", "Other"))
    parsed = parse(body)
    assert by_id(parsed)["2800033"].title == "Control"
    # Title, guid and link (its slug) held both: 6 in all. No bozo: the strict parser read it.
    assert parsed.warnings == ("6 control characters removed",)


# ---- 4. items without any id


def anonymous_item(title: str, date: str, text: str) -> str:
    return (
        f"<item><title>{title}</title><description>{text}</description>"
        f"<pubDate>{date}</pubDate></item>"
    )


def anonymous_feed(*items: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {NS}><channel><title>t</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def test_items_without_ids_and_one_title_stay_distinct_and_stable():
    body = anonymous_feed(
        anonymous_item("Notice", "Tue, 19 Dec 2023 13:30 GMT", "First notice"),
        anonymous_item("Notice", "Wed, 20 Dec 2023 13:30 GMT", "First notice"),
        anonymous_item("Notice", "Tue, 19 Dec 2023 13:30 GMT", "Second notice"),
    )
    ids = [r.release_id for r in parse(body).releases]
    assert len(set(ids)) == 3 and all(i.startswith("h") for i in ids)
    assert [r.release_id for r in parse(body).releases] == ids  # the same item, the same id


def test_title_only_item_keeps_its_old_id():
    body = anonymous_feed("<item><title>Only a title</title></item>")
    expected = "h" + hashlib.sha1(b"Only a title").hexdigest()[:16]
    assert parse(body).releases[0].release_id == expected


# ---- 5. each item on its own


def test_item_that_cannot_be_read_is_reported_and_the_rest_kept():
    body = anonymous_feed(
        "<item><title>Kept</title><link>https://example.org/a</link></item>",
        "<item><pubDate>Tue, 19 Dec 2023 13:30 GMT</pubDate></item>",  # nothing to name it by
        "<item><title>Also kept</title><link>https://example.org/b</link></item>",
    )
    parsed = parse(body)
    assert [r.title for r in parsed.releases] == ["Kept", "Also kept"]
    assert parsed.failed_items == 1
    assert parsed.failures == (
        "item 2: ValueError: item has no dc:identifier, link, guid, title or description",
    )


def test_any_exception_in_one_item_is_one_failure(monkeypatch):
    original = globenewswire.tickers_from_categories

    def explode(entry):
        if entry.get("dc_identifier") == "2800041":
            raise RuntimeError("boom\nsecond line")
        return original(entry)

    monkeypatch.setattr(globenewswire, "tickers_from_categories", explode)
    body = feed(Item("2800040", "One"), Item("2800041", "Two"), Item("2800042", "Three"))
    parsed = parse(body)
    assert set(by_id(parsed)) == {"2800040", "2800042"}
    assert parsed.failed_items == 1
    assert parsed.failures == ("item 2 (id 2800041): RuntimeError: boom",)


def test_unclosed_comment_in_one_item_does_not_swallow_the_next():
    body = feed(Item("2800043", "One"), Item("2800044", "Two"), Item("2800045", "Three"))
    body = body.replace(b"<title>Two</title>", b"<title>Two <!-- </title>")
    parsed = parse(body)
    assert {"2800043", "2800045"} <= set(by_id(parsed))
    assert by_id(parsed)["2800045"].title == "Three"
    assert "read item by item" in parsed.warning


def test_feed_whose_parser_crashes_is_read_item_by_item(monkeypatch):
    import monitor.parse as parse_module

    real = parse_module.feedparser.parse

    def fragile(stream, **options):
        data = stream.getvalue()
        if b"2800051" in data:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")
        return real(stream, **options)

    monkeypatch.setattr(parse_module.feedparser, "parse", fragile)
    body = feed(Item("2800050", "One"), Item("2800051", "Two"), Item("2800052", "Three"))
    parsed = parse(body)
    assert set(by_id(parsed)) == {"2800050", "2800052"}
    assert parsed.failures[0].startswith("item 2 (id 2800051): unreadable (UnicodeEncodeError")


# ---- 6. hostile titles


@pytest.mark.parametrize(
    "title",
    [
        "A" * 1_000_000,
        "word " * 200_000,
        "<script>alert(1)</script> Phase 3",
        "Results \u202eevil\u202c txt.exe",
        "NUL\x00 in title",
        "Tab\tand\nnewline\r\nand\x0bvertical",
    ],
)
def test_hostile_titles_are_clipped_and_cleaned(title):
    parsed = parse(feed(Item("2800060", title), Item("2800061", "Neighbour")))
    releases = by_id(parsed)
    assert releases["2800061"].title == "Neighbour"
    assert_safe(releases["2800060"])
    if len(title) > 2000:
        assert 990 <= len(releases["2800060"].title) <= globenewswire.MAX_TITLE
        assert any("title clipped" in f for f in parsed.flagged)


def test_script_title_stays_text():
    release = parse(feed(Item("2800062", "<script>alert(1)</script> Phase 3"))).releases[0]
    assert release.title == "<script>alert(1)</script> Phase 3"  # text: escaped on output


# ---- end to end: a bad item among good ones, and a second feed


def test_poll_stores_the_good_items_of_both_feeds(server, write_config, tmp_path):
    mixed = feed(
        Item("2800070", "Good one"),
        Item("2800071", "Far future", pub_date="Fri, 31 Dec 9999 23:59 GMT"),
        Item("2800072", "Bad reference MARK"),
        Item("2800073", "Zürich good two"),
        Item("2800074", "Year one", pub_date="Mon, 01 Jan 0001 00:00 GMT"),
        Item("2800075", "Stray byte MARK"),
    )
    mixed = mixed.replace(b"Bad reference MARK", b"Bad &#xD800; reference")
    mixed = mixed.replace(b"Stray byte MARK", b"Stray \xff byte")
    first = server.add("mixed.xml", mixed)
    second = server.add("other.xml", feed(Item("2800080", "Other feed good")))
    config = write_config(config_text([first, second]))
    result = CliRunner().invoke(
        cli, ["--config", str(config), "poll", "--once"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    store = Store(tmp_path / "biomon.db")
    for release_id in ["2800070", "2800071", "2800072", "2800073", "2800074", "2800075"]:
        assert store.get(release_id), release_id
    assert store.get("2800080")
    assert store.count() == 7
    row = store.get("2800073")[0]
    assert row["title"] == "Zürich good two"
    assert store.get("2800071")[0]["published_utc"] is None


def test_poll_report_names_the_failed_and_flagged_items(server, write_config):
    body = feed(
        Item("2800090", "Good"),
        Item("2800091", "Far future", pub_date="Fri, 31 Dec 9999 23:59 GMT"),
    ).replace(
        b"</channel>", b"<item><pubDate>Tue, 19 Dec 2023 13:30 GMT</pubDate></item></channel>"
    )
    url = server.add("flagged.xml", body)
    config = load_config(write_config(config_text([url])))
    with Store(config.storage.path) as store:
        report = poll_once(config, store).feeds[0]
        assert (report.new, report.failed) == (2, 1)
        assert report.failures == (
            "item 3: ValueError: item has no dc:identifier, link, guid, title or description",
        )
        assert len(report.flagged) == 1
        assert report.flagged[0].startswith("item 2 (id 2800091): date out of range")
