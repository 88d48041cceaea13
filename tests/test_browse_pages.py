"""The pages of a running `biomon browse`, fetched over HTTP: the listing answers questions.

`/` lands on the releases, newest first, in a few narrow columns with facets by tag (any of a
release's tags), ticker and month, and full-text search; a release's own page has its body.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from html import escape, unescape

import httpx
import pytest

from monitor.models import Classification, Release, Ticker
from monitor.store import Store

pytest.importorskip("datasette", reason="needs the web extra: pip install 'biomon[web]'")

ACME, BETA = Ticker("NASDAQ", "ACME"), Ticker("NYSE", "BETA")
# (title, text, tickers, day, primary tag, other tags): newest is "Gamma", oldest "Offering".
RELEASES = [
    ("Acme Bio Prices $50 Million Public Offering",
     "Acme Bio, Inc. priced an underwritten public offering of common stock.",
     (ACME,), "2026-01-05", "financing", ()),
    ("Acme Bio Licenses Widgetumab to Beta Therapeutics",
     "Under the exclusive license Beta Therapeutics will run the Phase 3 psoriasis trial.",
     (ACME, BETA), "2026-02-02", "licensing", ("trial",)),
    ("Beta Therapeutics Awarded $2 Million NIH Grant",
     "The award from the National Institutes of Health funds the zebrafish sepsis program.",
     (BETA,), "2026-02-20", "grant", ()),
    ("Beta Therapeutics Starts Phase 2 Trial of Gamma-1",
     "The first patient was dosed in the trial of Gamma-1 for sepsis.",
     (BETA,), "2026-03-03", "trial", ()),
]  # fmt: skip
NEWEST_FIRST = [r[0] for r in sorted(RELEASES, key=lambda r: r[3], reverse=True)]
LIST_COLUMNS = ["id", "sort_time", "tickers", "primary_tag", "title", "source"]


def save(path) -> None:
    tags = {title: Classification(primary, (primary, *more), ()) for title, _, _, _, primary, more in RELEASES}  # fmt: skip
    store = Store(path)
    store.save_releases(
        [
            Release(
                source="globenewswire",
                release_id=str(number),
                url=f"https://example.com/release/{number}",
                title=title,
                summary_html=f"<p>{text}</p>",
                text=text,
                published_utc=f"{day}T13:00:00Z",
                published_raw=day,
                issuer=title.split(" ")[0],
                language="en",
                tickers=tickers,
            )
            for number, (title, text, tickers, day, _, _) in enumerate(RELEASES, 1)
        ],
        classify=lambda release: tags[release.title],
    )
    store.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A running `biomon browse` on a free port of 127.0.0.1; yields its base URL."""
    folder = tmp_path_factory.mktemp("browse")
    database = folder / "watch.db"
    save(database)
    stderr = (folder / "stderr.txt").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--db", str(database), "browse", "--port", "0"],
        stdout=subprocess.PIPE, stderr=stderr, text=True,
    )  # fmt: skip
    try:
        banner = process.stdout.readline()
        found = re.search(r"at (http://127\.0\.0\.1:\d+)/ ", banner)
        assert found, f"no banner {banner!r}: {(folder / 'stderr.txt').read_text()[-2000:]}"
        base = found.group(1)
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(base + "/-/versions.json", timeout=2)
                break
            except httpx.TransportError:
                log = (folder / "stderr.txt").read_text()[-2000:]
                assert process.poll() is None and time.monotonic() < deadline, log
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        stderr.close()


def get(site: str, path: str, **params) -> httpx.Response:
    """A page by path, or by the absolute URL a facet links to."""
    url = path if path.startswith("http") else site + path
    # (params={} would drop the query string of the URL)
    response = httpx.get(url, params=params or None, timeout=10, follow_redirects=True)
    assert response.status_code == 200, response.text[-2000:]
    return response


def columns(page: str) -> list[str]:
    return re.findall(r'<th [^>]*class="col-([^"]+)" scope="col"', page)


def titles(page: str) -> list[str]:
    """The listing's titles in order, each with the link it has."""
    return [
        (unescape(title), href)
        for href, title in re.findall(r'<td class="col-title[^"]*"><a href="([^"]+)">([^<]+)</a>', page)
    ]  # fmt: skip


def facet(page: str, name: str) -> dict[str, tuple[int, str]]:
    """One facet's values: {label: (count, link)}."""
    block = re.search(
        rf'<strong>{re.escape(name)}\s*<span class="facet-info-total">.*?</ul>', page, re.DOTALL
    )
    assert block, f"no facet {name!r}"
    return {
        unescape(label): (int(count), unescape(href))
        for href, label, count in re.findall(r'<li><a href="([^"]+)">([^<]+)</a> (\d+)</li>', block.group(0))
    }  # fmt: skip


def test_home_lands_on_the_releases_newest_first(site):
    home = httpx.get(site + "/", timeout=10)
    assert home.status_code == 302
    assert home.headers["location"] == "/watch/releases"
    page = get(site, "/").text
    assert [title for title, _ in titles(page)] == NEWEST_FIRST
    assert "4 rows" in page


def test_the_listing_shows_narrow_columns_and_links_each_title_to_its_release(site):
    page = get(site, "/watch/releases").text
    assert columns(page) == LIST_COLUMNS
    for _, text, *_ in RELEASES:
        assert escape(text) not in page  # the body is on the release's page only
    links = dict(titles(page))
    assert links[RELEASES[0][0]] == "/watch/releases/1"
    assert ">NYSE:BETA</a>" in page and ">2026-03-03 13:00<" in page


def test_facets_by_any_tag_ticker_and_month_filter_the_listing(site):
    page = get(site, "/watch/releases").text
    tags = facet(page, "tag (release_tags)")
    # "trial" counts the licensing release too: its second tag, not its primary one.
    assert {tag: count for tag, (count, _) in tags.items()} == {
        "trial": 2, "financing": 1, "grant": 1, "licensing": 1,
    }  # fmt: skip
    trial = get(site, tags["trial"][1]).text
    assert [t for t, _ in titles(trial)] == [NEWEST_FIRST[0], RELEASES[1][0]]
    assert columns(trial) == LIST_COLUMNS

    tickers = facet(page, "tickers (array)")
    assert {t: c for t, (c, _) in tickers.items()} == {"NYSE:BETA": 3, "NASDAQ:ACME": 2}
    acme = get(site, tickers["NASDAQ:ACME"][1]).text
    assert sorted(t for t, _ in titles(acme)) == sorted(r[0] for r in RELEASES[:2])

    months = facet(page, "sort_time (month)")
    assert list(months) == ["2026-03", "2026-02", "2026-01"]  # newest first
    assert months["2026-02"][0] == 2
    february = get(site, months["2026-02"][1]).text
    assert sorted(t for t, _ in titles(february)) == sorted(r[0] for r in RELEASES[1:3])


def test_search_finds_words_of_the_body_and_keeps_the_narrow_listing(site):
    page = get(site, "/watch/releases", _search="zebrafish").text
    assert [t for t, _ in titles(page)] == [RELEASES[2][0]]
    assert columns(page) == LIST_COLUMNS
    both = get(site, "/watch/releases", _search="sepsis").text
    assert [t for t, _ in titles(both)] == [NEWEST_FIRST[0], RELEASES[2][0]]
    # Punctuation is not FTS syntax: a hyphenated word is searched as it is written.
    assert [t for t, _ in titles(get(site, "/watch/releases", _search="Gamma-1").text)] == [
        NEWEST_FIRST[0]
    ]


def test_the_release_page_has_the_body_and_links_to_the_wire(site):
    page = get(site, "/watch/releases/3").text
    title, text = RELEASES[2][:2]
    assert escape(text) in page
    assert f'<a href="https://example.com/release/3">{escape(title)}</a>' in page
    assert "the feed's HTML" not in page  # summary_html is no longer stored (schema 11)
    fields = re.findall(r'<tr><th scope="row">([^<]+)</th>', page)
    assert fields[:7] == ["title", "sort_time", "tickers", "primary_tag", "issuer", "url", "text"]
    assert fields[-1] == "summary_html"


def test_asking_for_columns_or_json_gets_them(site):
    page = get(site, "/watch/releases", _col="issuer").text
    assert columns(page) == ["id", "issuer"]
    rows = get(site, "/watch/releases.json", _shape="array").json()
    assert {"text", "summary_html", "url", "facts"} <= set(rows[0])
    assert [row["title"] for row in rows] == NEWEST_FIRST
