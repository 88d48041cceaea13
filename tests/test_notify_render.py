"""Rendering alerts: subjects, bodies, latency lines, escaping, digests, desktop text."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from html.parser import HTMLParser

from monitor.models import AlertContent, Facts
from monitor.notify.render import desktop_text, render_alert, render_digest

HOSTILE = '<script>alert(1)</script> & "x"'
ALERTED = datetime(2026, 11, 25, 16, 5, 48, tzinfo=UTC)


def alert(**changes) -> AlertContent:
    content = AlertContent(
        source="globenewswire",
        release_id="2026-11-25-clrb",
        title="Cellectar Biosciences Expands Iopofosine I 131 Collaboration with the "
        "National Cancer Institute to Phase 2 Pediatric Trials",
        url="https://www.globenewswire.com/news-release/2026/11/25/3194/0/en/clrb.html",
        tickers=("NASDAQ:CLRB",),
        issuer="Cellectar Biosciences, Inc.",
        primary="licensing",
        tags=("radiopharmaceutical", "licensing"),
        evidence=(
            ("licensing", ("Cellectar entered into an exclusive license agreement with WARF.",)),
            ("radiopharmaceutical", ("Iopofosine I 131 is a phospholipid radioconjugate.",)),
        ),
        facts=Facts(
            amounts=("$2 million",),
            phases=("Phase 2",),
            trial_names=("CLOVER-2",),
            nct_ids=("NCT02952508",),
            agencies=("NCI",),
            counterparties=("Wisconsin Alumni Research Foundation (WARF)",),
        ),
        published_utc="2026-11-25T16:05:00Z",
        rule="CLRB",
        ticker="CLRB",
    )
    return dataclasses.replace(content, **changes)


class _Collect(HTMLParser):
    """Tags, hrefs and text of an HTML body, as a mail client would parse it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [value for name, value in attrs if tag == "a" and name == "href"]

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collect:
    collect = _Collect()
    collect.feed(html)
    return collect


def test_subject_leads_with_ticker_and_primary_tag_and_cuts_the_title():
    title = render_alert(alert(), ALERTED).title
    assert title.startswith(
        "[CLRB] licensing: Cellectar Biosciences Expands Iopofosine I 131 Collaboration"
    )
    assert title.endswith("...")
    assert len(title) <= len("[CLRB] licensing: ") + 80


def test_short_title_is_not_cut():
    assert render_alert(alert(title="CLRB signs WARF license"), ALERTED).title == (
        "[CLRB] licensing: CLRB signs WARF license"
    )


def test_subject_falls_back_to_first_ticker_then_rule():
    assert render_alert(alert(ticker=""), ALERTED).title.startswith("[CLRB] licensing:")
    no_ticker = alert(ticker="", tickers=(), rule="licensing + radiopharmaceutical")
    assert render_alert(no_ticker, ALERTED).title.startswith(
        "[licensing + radiopharmaceutical] licensing:"
    )


def test_subject_stays_on_one_line():
    assert (
        "\n" not in render_alert(alert(title="Line one\r\nBcc: victim@example.com"), ALERTED).title
    )


def test_latency_line_same_day_has_times_only():
    message = render_alert(alert(), ALERTED)
    assert "published 16:05 UTC, alerted 16:05:48 UTC" in message.text.splitlines()
    assert "published 16:05 UTC, alerted 16:05:48 UTC" in message.html


def test_latency_line_other_day_has_dates():
    alerted = datetime(2026, 11, 25, 9, 0, 12, tzinfo=UTC)
    message = render_alert(alert(published_utc="2026-11-24T16:05:00Z"), alerted)
    assert (
        "published 2026-11-24 16:05 UTC, alerted 2026-11-25 09:00:12 UTC"
        in message.text.splitlines()
    )


def test_latency_line_unknown_publication():
    assert "published: unknown" in render_alert(alert(published_utc=None), ALERTED).text


def test_bodies_hold_headline_tags_evidence_facts_and_link():
    content = alert()
    message = render_alert(content, ALERTED)
    for body in (message.text, "".join(parse(message.html).text)):
        assert content.title in body
        assert "NASDAQ:CLRB" in body and "Cellectar Biosciences, Inc." in body
        assert body.index("licensing") < body.index("radiopharmaceutical")  # primary first
        assert "Cellectar entered into an exclusive license agreement with WARF." in body
        assert "Iopofosine I 131 is a phospholipid radioconjugate." in body
        for fact in ("$2 million", "Phase 2", "CLOVER-2", "NCT02952508", "NCI", "(WARF)"):
            assert fact in body
        assert content.url in body
    assert parse(message.html).hrefs == [content.url]


def test_empty_facts_are_left_out():
    message = render_alert(alert(facts=Facts(amounts=("$2 million",))), ALERTED)
    assert "Amounts: $2 million" in message.text
    assert "Phases" not in message.text and "Agencies" not in message.text
    assert "Phases" not in message.html


def test_hostile_feed_values_are_escaped_in_html():
    content = alert(
        title=HOSTILE,
        issuer=HOSTILE,
        tickers=(HOSTILE,),
        evidence=(("licensing", (HOSTILE,)),),
        facts=Facts(counterparties=(HOSTILE,)),
        url='https://example.com/"><script>alert(2)</script>',
    )
    message = render_alert(content, ALERTED)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"
    assert message.html.count(escaped) >= 5
    assert "<script" not in message.html
    collected = parse(message.html)
    assert "script" not in collected.tags
    assert HOSTILE in "".join(collected.text)  # the reader sees the text as written


def test_non_http_link_is_text_not_a_link():
    for url in (
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://example.com/x",
        "/relative",
    ):
        message = render_alert(alert(url=url), ALERTED)
        collected = parse(message.html)
        assert collected.hrefs == [], url
        assert url in "".join(collected.text)


def test_digest_gathers_every_alert():
    contents = [
        alert(),
        alert(
            title="Soligenix Receives FDA Orphan Drug Designation",
            ticker="SNGX",
            primary="regulatory",
            tags=("regulatory",),
            evidence=(("regulatory", ("The FDA granted orphan drug designation.",)),),
            url="https://www.globenewswire.com/sngx.html",
        ),
        alert(
            title="Cellectar Announces Pricing of $5 Million Offering",
            primary="financing",
            tags=("financing",),
            evidence=(("financing", ("Gross proceeds of $5 million.",)),),
            url="https://www.globenewswire.com/clrb-2.html",
        ),
    ]
    message = render_digest(contents, ALERTED, "last hour")
    assert message.title == "biomon digest: 3 alerts (CLRB, SNGX)"
    for content in contents:
        assert content.title in message.text and content.title in message.html
        assert content.url in message.text and content.url in parse(message.html).hrefs
        evidence = content.evidence[0][1][0]
        assert evidence in message.text and evidence in message.html
    assert message.text.count("published 16:05 UTC, alerted 16:05:48 UTC") == 3
    assert "last hour" in message.text


def test_digest_of_one_says_alert():
    assert render_digest([alert()], ALERTED, "today").title == "biomon digest: 1 alert (CLRB)"


def test_desktop_title_and_short_body():
    title, body = desktop_text(alert())
    assert title == "CLRB · licensing"
    assert body.startswith("Cellectar Biosciences Expands")
    assert "Cellectar entered into an exclusive license agreement with WARF." in body
    assert "radioconjugate" not in body  # only the primary tag's first sentence


def test_desktop_body_is_kept_short():
    long_evidence = (("licensing", ("word " * 200,)),)
    _, body = desktop_text(alert(evidence=long_evidence))
    assert len(body) <= 250 and body.endswith("...")
