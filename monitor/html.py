"""HTML -> plain text with paragraphs kept (beautifulsoup4; feedparser's sanitizer is not used)."""

from __future__ import annotations

import re
import warnings

try:  # lxml is 4x faster than the standard library's parser under beautifulsoup4
    import lxml  # noqa: F401

    _PARSER = "lxml"
except ImportError:  # pragma: no cover
    _PARSER = "html.parser"

# Marking block boundaries in the markup is far cheaper than walking the parsed tree.
_BLOCK_TAG = re.compile(
    r"<(?:/?(?:p|div|li|tr|h[1-6]|table|ul|ol|pre|blockquote)\b[^>]*|br\b[^>]*)>", re.IGNORECASE
)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_MANY_BREAKS = re.compile(r"\n{3,}")
# C0 controls but tab, newline and carriage return (XML 1.0 forbids them; SQLite's NUL trouble),
# and lone surrogates (from character references; no UTF-8 encoding exists for them).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# Bidirectional embeddings, overrides and isolates: they reorder what a terminal or a mail
# client shows (U+202E turns "exe.pdf" around); marks (U+200E/U+200F) stay.
_SAFE_BYTES = bytes(range(0x20, 0x100)) + b"\t\n\r"  # deleted: what is left is unsafe
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """The text without C0 controls (but tab, newline, CR); lone surrogates become U+FFFD.

    Whatever comes back encodes to UTF-8 and holds no NUL.
    """
    if not text:
        return text
    try:  # two C passes answer "nothing to do" 3x faster than one regex search
        if not text.encode("utf-8").translate(None, _SAFE_BYTES):
            return text
    except UnicodeEncodeError:
        pass
    return _UNSAFE.sub(_replace_unsafe, text)


def _replace_unsafe(match: re.Match[str]) -> str:
    return "\ufffd" if match.group(0) >= "\ud800" else ""


def one_line(text: str, limit: int | None = None) -> str:
    """Clean text on one line (every run of space one blank, no bidi overrides), clipped."""
    text = " ".join(_BIDI.sub("", clean_text(text)).split())
    return text[:limit].rstrip() if limit is not None and len(text) > limit else text


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: one blank line between blocks, spaces collapsed."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return _tidy(html)
    # bs4 takes ~60 ms to import: loading a config (which asks the sources) must not pay it.
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

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
