"""HTML -> plain text with paragraphs kept (beautifulsoup4; feedparser's sanitizer is not used)."""

from __future__ import annotations

import re
import threading
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
    marked = _BLOCK_TAG.sub(_mark, _SCRIPT.sub("", html))
    if _PARSER == "lxml":
        try:
            return _tidy(_lxml_text(marked))
        except Exception:  # noqa: BLE001 - lxml refused it: beautifulsoup4 decides, as before
            pass
    return _tidy(_soup_text(marked))


def _soup_text(marked: str) -> str:
    # bs4 takes ~60 ms to import: loading a config (which asks the sources) must not pay it.
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(marked, _PARSER)
    return soup.get_text()


# `BeautifulSoup(markup, "lxml").get_text()` without the tree (a third of biomon's parse time):
# the same lxml HTML parser fed the same way, its events read as beautifulsoup4 4.x reads them.
# Text between two events is one string; a string of ASCII spaces only becomes "\n" (when it
# holds one) or " ", except inside <pre>/<textarea>; strings inside <script>, <style>,
# <template>, <rt>, <rp>, comments, processing instructions and doctypes are not text.
# tests/test_ingest_html.py holds it to beautifulsoup4's answer.
_ASCII_SPACES = " \n\t\f\r"
_PRESERVE = frozenset(("pre", "textarea"))
_CONTAINERS = frozenset(("rt", "rp", "style", "script", "template"))
_SPECIAL = _PRESERVE | _CONTAINERS


class _TextTarget:
    """An lxml parser target collecting the text beautifulsoup4's `get_text()` would give."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending: list[str] = []
        # lxml calls list.append itself for every piece of text: no Python frame per piece.
        self.data = self.pending.append
        self.stack: list[str] = []
        self.preserve = 0  # open <pre>/<textarea>
        self.hidden = 0  # open <script>, <style>, <template>, <rt>, <rp>

    def reset(self) -> None:
        self.parts.clear()
        self.pending.clear()  # in place: `data` appends to this very list
        self.stack.clear()
        self.preserve = self.hidden = 0

    def _flush(self) -> None:
        text = "".join(self.pending)
        self.pending.clear()
        if not self.preserve and not text.strip(_ASCII_SPACES):
            text = "\n" if "\n" in text else " "
        if not self.hidden:
            self.parts.append(text)

    def start(self, tag: str, attrib: object, nsmap: object = None) -> None:
        if self.pending:
            self._flush()
        self.stack.append(tag)
        if tag in _SPECIAL:
            if tag in _PRESERVE:
                self.preserve += 1
            else:
                self.hidden += 1

    def end(self, tag: str) -> None:
        if self.pending:
            self._flush()
        # beautifulsoup4's _popToTag: close every tag down to the last open `tag`, if any.
        stack = self.stack
        if tag not in stack:
            return
        while True:
            name = stack.pop()
            if name in _SPECIAL:
                if name in _PRESERVE:
                    self.preserve -= 1
                else:
                    self.hidden -= 1
            if name == tag:
                return

    def comment(self, text: str) -> None:
        if self.pending:
            self._flush()

    def pi(self, target: str, data: str) -> None:
        if self.pending:
            self._flush()

    def doctype(self, name: str, pubid: str, system: str) -> None:
        if self.pending:
            self._flush()

    def close(self) -> str:
        if self.pending:
            self._flush()
        return "".join(self.parts)


_PARSERS = threading.local()  # one lxml parser per thread: making one costs a fifth of a parse


def _lxml_text(marked: str) -> str:
    if marked[:1] == "\ufeff":  # as beautifulsoup4 does (lxml bug 1948551)
        marked = marked[1:]
    cached = getattr(_PARSERS, "parser", None)
    _PARSERS.parser = None  # a parse that raises leaves no half-used parser behind
    if cached is None:
        from lxml import etree

        target = _TextTarget()
        cached = (etree.HTMLParser(target=target, recover=True, huge_tree=False), target)
    parser, target = cached
    target.reset()
    parser.feed(marked)
    text = parser.close()
    _PARSERS.parser = cached
    return text


def _mark(match: re.Match[str]) -> str:
    tag = match.group(0)
    return tag + ("\n" if tag[1:3].lower() == "br" else "\n\n")


# Every character str.split() and str.strip() take for a space (str.isspace()) but " " and "\n",
# as UTF-8 (tests/test_ingest_html.py checks the list against Python's).
_OTHER_SPACES = (
    "\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ASCII_OTHER = bytes.maketrans(b"\t\x0b\x0c\r\x1c\x1d\x1e\x1f", b" " * 8)
_WIDE_CHARS = tuple(c for c in _OTHER_SPACES if c > "\x7f")
# The others in UTF-8; UTF-8 is self-synchronising: a match is always a whole character.
_WIDE_OTHER = re.compile(
    rb"\xc2[\x85\xa0]|\xe1\x9a\x80|\xe2\x80[\x80-\x8a\xa8\xa9\xaf]|\xe2\x81\x9f|\xe3\x80\x80"
)


def _tidy(text: str) -> str:
    """Every line's spaces collapsed and stripped, at most one blank line in a row, the whole
    stripped: `"\\n".join(" ".join(line.split()) for line in text.split("\\n"))`, then runs of
    3+ newlines made 2, then `.strip()` (what it was) in bytes operations, 5x faster."""
    try:
        data = text.encode("utf-8", "surrogatepass").translate(_ASCII_OTHER)
    except UnicodeEncodeError:  # pragma: no cover - str always encodes with surrogatepass
        return _tidy_lines(text)
    if not text.isascii() and any(space in text for space in _WIDE_CHARS):  # 3x the regex's speed
        data = _WIDE_OTHER.sub(b" ", data)
    while b"  " in data:
        data = data.replace(b"  ", b" ")
    data = data.replace(b" \n", b"\n").replace(b"\n ", b"\n")
    while b"\n\n\n" in data:
        data = data.replace(b"\n\n\n", b"\n\n")
    return data.decode("utf-8", "surrogatepass").strip()


def _tidy_lines(text: str) -> str:
    # The reference _tidy: str.split() collapses every kind of space (nbsp, thin space) in C.
    text = "\n".join([" ".join(line.split()) for line in text.split("\n")])
    return _MANY_BREAKS.sub("\n\n", text).strip()
