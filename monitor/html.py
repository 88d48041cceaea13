"""HTML -> plain text with paragraphs kept (beautifulsoup4; feedparser's sanitizer is not used)."""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

try:  # lxml is 4x faster than the standard library's parser under beautifulsoup4
    import lxml  # noqa: F401

    _PARSER = "lxml"
except ImportError:  # pragma: no cover
    _PARSER = "html.parser"

# Marking block boundaries in the markup is far cheaper than walking the parsed tree.
_BLOCK_TAG = re.compile(
    r"<(?:/?(?:p|div|li|tr|h[1-6]|table|ul|ol|pre|blockquote)\b[^>]*|br\s*/?)>", re.IGNORECASE
)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_MANY_BREAKS = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: one blank line between blocks, spaces collapsed."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return _tidy(html)
    marked = _BLOCK_TAG.sub(_mark, _SCRIPT.sub("", html))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(marked, _PARSER)
    return _tidy(soup.get_text())


def _mark(match: re.Match[str]) -> str:
    tag = match.group(0)
    return tag + ("\n" if tag[1:3].lower() == "br" else "\n\n")


def _tidy(text: str) -> str:
    # str.split() collapses every kind of space (nbsp, thin space) in C: twice a regex's speed.
    text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
    return _MANY_BREAKS.sub("\n\n", text).strip()
