"""html_to_text reads HTML with lxml directly; its text must be what beautifulsoup4 gave."""

from __future__ import annotations

import random
import sys
import threading

import pytest

from monitor import html
from monitor.html import html_to_text


def _marked(fragment: str) -> str:
    return html._BLOCK_TAG.sub(html._mark, html._SCRIPT.sub("", fragment))


@pytest.mark.parametrize(
    "fragment",
    [
        "<p>One</p><p>Two</p>",
        "a<b>\n\n</b>c",  # a string of spaces only between tags becomes one newline
        "a<b>   </b>c",  # ... or one space
        "a<b>\t \x0c</b>c",
        "<pre>  keep\n\n\n  spaces  </pre><b>\n\n</b>x",
        "<textarea>q<b>r</b>  \n\n </textarea>s",
        "<p>before<script>var x = '<p>';",  # an unclosed script hides what follows
        "<style>p { color: red }",
        "<template><p>hidden</p></template>shown",
        "<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>字",
        "x<!-- a comment --> y<?pi data?>z<!DOCTYPE html>w",
        "\ufeff<p>byte order mark</p>",
        "<p>a</p>\ufeff",
        "a &amp; b &nbsp;c&#8217;d &bogus; e & f < g",
        "<table><tr><td>a</td>\n<td>b</td></tr>\n</table>after",
        "<b><i>mis</b>nested</i> tags </p> closed <br/> twice</br>",
        "<div>one<div>two</div>three</div><li>four<li>five",
        "<![CDATA[ data ]]> after",
        "<html><head><title>T</title></head><body>\n\n<p>body</p></body></html>",
        "<select><option>o</option></select><noscript>n</noscript>",
        "<o:p>office</o:p><xmp><b>raw</b></xmp>",
        "<br <p> broken tags <p <br>",
        "<p>Line\u2028break\u00a0and\u2009thin\u3000spaces</p>",
        "<h2>Head</h2>\r\n<p>CR\rLF</p>",
    ],
)
def test_text_is_beautifulsoups(fragment):
    marked = _marked(fragment)
    assert html._lxml_text(marked) == html._soup_text(marked)


def test_random_fragments_read_as_beautifulsoup_reads_them():
    rng = random.Random(20261203)
    tags = "p div br b i pre textarea script style template rt rp ruby table tr td li ul html body head title span a hr select option noscript xmp svg o:p h1 form".split()  # noqa: E501
    bits = [" ", "  ", "\n", "\n\n", "\t", "\r", "\xa0", "x", "word", "é", "’", "&amp;", "&nbsp;"]
    bits += ["&#160;", "&bogus;", "&", "<", ">", "<!-- c -->", "<!--", "-->", "<?pi x?>", "/"]
    bits += ["<![CDATA[ z ]]>", "<!DOCTYPE html>", "\ufeff", "'", '"', "=", "</", "<!", "&#0;"]
    for _ in range(1500):
        parts = []
        for _ in range(rng.randint(1, 25)):
            roll, tag = rng.random(), rng.choice(tags)
            if roll < 0.3:
                parts.append(f"<{tag}{rng.choice(['', ' a=1', ' class=x', '/', ' a=>'])}>")
            elif roll < 0.5:
                parts.append(f"</{tag}>")
            else:
                parts.append(rng.choice(bits))
        marked = _marked("".join(parts))
        assert html._lxml_text(marked) == html._soup_text(marked), marked


def test_other_spaces_are_every_space_python_splits_on():
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    assert set(html._OTHER_SPACES) == spaces - {" ", "\n"}


def test_tidy_is_the_line_by_line_reference():
    rng = random.Random(7)
    alphabet = [*html._OTHER_SPACES, " ", " ", "\n", "\n", "a", "b", "é", "’", "\ud800", "😀"]
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert html._tidy(text) == html._tidy_lines(text), repr(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a \t b  \n\n\n\n c\u00a0\u00a0d \n", "a b\n\nc d"),
        ("x\u2028y\r\nz", "x y\nz"),
        ("\n \n", ""),
    ],
)
def test_tidy_collapses_spaces_and_blank_lines(text, expected):
    assert html._tidy(text) == expected


def test_threads_each_read_their_own_text():
    fragments = [f"<p>release {n}</p><p>{'word ' * n}</p>" for n in range(40)]
    expected = [html_to_text(f) for f in fragments]
    results: dict[int, list[str]] = {}

    def read(worker: int) -> None:
        results[worker] = [html_to_text(f) for f in fragments * 5]

    threads = [threading.Thread(target=read, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(found == expected * 5 for found in results.values())


def test_markup_lxml_refuses_raises_as_before():
    # A lone surrogate cannot be encoded for lxml: beautifulsoup4 is asked, and says the same.
    with pytest.raises(UnicodeEncodeError):
        html_to_text("<b>\ud800</b>")
    assert html_to_text("<p>still</p><p>reads</p>") == "still\n\nreads"
