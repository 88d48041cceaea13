"""Split a press release into headline, sub-headlines, body sentences and boilerplate.

Only the headline, the sub-headlines and the body earn tags; the boilerplate ("About X",
forward-looking statements, contacts) restates the company's whole history and would tag every
release with everything it has ever done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property

from .skip import skipping_pattern

HEADLINE, SUBHEAD, LEAD, BODY = "headline", "subhead", "lead", "body"

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE = rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
_WIRES = (
    r"GLOBE\s*NEWSWIRE|GlobeNewswire|BUSINESS\s*WIRE|Marketwired?|PR\s*Newswire|PRNewswire"
    r"|ACCESSWIRE|ACCESS\s*Newswire|Newsfile|Canada\s*NewsWire|EQS[- ]News"
)
# Where the body starts: after the wire marker, the surest sign; else after a "CITY, date -"
# dateline or a bare date line.
_WIRE_DATELINE = re.compile(
    rf"(?:\(\s*(?:{_WIRES})[^)\n]{{0,60}}\)|/\s*(?:{_WIRES})[^/\n]{{0,30}}/)"
    r"\s*(?:--|—|–|-)?\s*(?:\d{1,2}/\d{1,2}/\d{2,4}\s*(?:--|—|–|-)\s*)?"
)
_DATELINE = re.compile(
    rf"\b{_DATE},?\s*(?:--|—|–|\s-\s|\sI\s)\s*"
    rf"|(?<=[A-Z]{{3}}),\s*[A-Z][A-Za-z.]{{1,6}},\s*{_DATE},\s+"
    rf"|^[ \t]*(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|date \d{{4}}-\d\d-\d\d)[ \t]*$\n?"
    rf"|^[A-Z][A-Z .]{{2,30}},[^\n]{{0,30}}?{_DATE}[ \t]*$\n?"
    r"|^[A-Z][A-Z .]{2,30},\s*[A-Z][a-z]{1,5}\.\s*(?:—|--|–)\s*(?!\()",
    re.MULTILINE,
)
_DATE_PARTS = re.compile(rf"\b({_MONTH})\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?(\d{{4}})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d\d)-\d\d\b")
# "in March 2009", "on February 11, 2011", "since 2000": an event dated before the release.
_MONTH_NAME = (
    r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?"
    r"|Aug(?:ust|\.)?|Sep(?:t(?:ember)?)?\.?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)"
)
# r"\b(?:in|on|since|during|from|effective|dated|as of)\s+..." ignoring case, written to start
# with the class of the keywords' first letters in every case (with the "İ", "ı" and "ſ" that
# match "i" and "s" ignoring case), which the regex engine skips to; the rest ignores case.
# A case-blind pattern starting with "\b" is tried at every character: 1.5 times slower.
_PAST_DATE = re.compile(
    r"[iIoOsSdDfFeEaA\u0130\u0131\u017f](?<=\b.)"
    r"(?i:(?<=i)n|(?<=o)n|(?<=s)ince|(?<=d)uring|(?<=f)rom|(?<=e)ffective|(?<=d)ated|(?<=a)s of)"
    r"(?i:\s+(?:(?:early|mid|late)[- ])?"
    rf"(?:({_MONTH_NAME})(?![a-z])(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+((?:19|20)\d\d))?"
    r"|((?:19|20)\d\d))\b)"
)

# Boilerplate headings on a line of their own, tolerant of case and a trailing colon (spaces and
# tabs only: a heading never runs over two lines).
_HEADING = re.compile(
    r"^[ \t#*_]*(?:about(?:[ \t]+(?:the[ \t]+)?(?-i:[A-Z(\u201c\"]).{0,80})?"
    r"|forward[- ]looking[ \t]+statements?(?:[ \t]+disclaimer)?"
    r"|safe[ \t]+harbor(?:[ \t]+statement)?.{0,30}|cautionary[ \t]+(?:note|statement).{0,60}"
    r"|(?:media|investor|press)?[ \t]*contacts?|(?:media|investors?|press)(?:[ \t]*(?:/|and|&)"
    r"[ \t]*(?:media|investors?))?[ \t]*(?:relations|contacts?|inquiries|enquiries)"
    r"|investors?|media|###|-[ \t]*(?:ends|30)[ \t]*-|source:?[ \t].{0,80}|datasource:.*"
    r"|for[ \t]+(?:more|further)[ \t]+information[ \t]*(?:contact)?)[ \t*_]*:?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# The same headings run into a paragraph: "... http://x.com/ About Palatin Technologies, Inc.
# Palatin Technologies, Inc. is ..." (the company name repeats after the heading).
# Every alternative starts with a letter (r"\b(?:DATASOURCE|CONTACT|SOURCE):" written as
# r"D(?<!\wD)ATASOURCE:|..."), so that the regex engine skips to the letters they start with;
# a group or a "\b" first leaves it to try every character: ten times slower.
_DISCLAIMER_NEXT = r"\s+(?=This|Certain|Statements|Any|Except|Some|All)"
_INLINE_HEADING = re.compile(
    r"About (?:the )?(?P<first>[A-Z][\w'’-]+)\b[^\n]{0,90}?\s(?P=first)\b"
    rf"|Forward[- ]Looking Statements?{_DISCLAIMER_NEXT}|Safe Harbor Statement{_DISCLAIMER_NEXT}"
    rf"|Cautionary Note[^.]{{0,60}}?{_DISCLAIMER_NEXT}"
    r"|D(?<!\wD)ATASOURCE:|C(?<!\wC)ONTACT:|S(?<!\wS)OURCE:"
)
# A company-description paragraph with no heading: "Based in Houston, X is a clinical stage
# company ..." or "X is focused on the development of ...".
# The same searches made cheaper: a heading's line start found from its newline (a literal the
# engine skips to, where "^" is tried at every character), and the inline headings searched
# from the first of the openings they start with (`str.find` skips to it; the search stops at
# each of their first letters).
assert _HEADING.pattern.startswith("^")
_HEADING_AFTER_NEWLINE = re.compile("\n" + _HEADING.pattern[1:], _HEADING.flags)
_INLINE_OPENINGS = (
    "About ", "Forward Looking Statement", "Forward-Looking Statement", "Safe Harbor Statement",
    "Cautionary Note", "DATASOURCE:", "CONTACT:", "SOURCE:",
)  # fmt: skip
_DESCRIPTION = re.compile(
    r"^(?:Based in [^,]{2,40},\s+)?(?:[A-Z][\w.&'’-]*,?\s+){1,5}(?:is|are)\s+"
    r"(?:(?:an?|the)\s+(?:[\w-]+\s+){0,6}(?:company|corporation)\b|focused on\b)"
)
_GENERIC_LINE = re.compile(
    r"^\s*(?:ex(?:hibit)?[- ]?99[.\d]*\b.*|for immediate release|(?:press|news) releases?\.*"
    r"|share this article|news provided by|news article|\(?logo[:)].*"
    r"|!\[.*|\(.*@.*\))\s*$",
    re.IGNORECASE,
)

_ABBREVIATIONS = frozenset(
    "inc ltd corp co dr mr mrs ms prof no nos vs e.g i.e etc al approx est dept univ st jr sr"
    " jan feb mar apr jun jul aug sep sept oct nov dec fig figs mt ft gov sen rep u.s u.k s.a"
    " k.k n.v b.v a.g l.p ph.d m.d n.j wis calif mass md pa va fla ill conn minn"
    " ariz colo wash mich tenn ga ind inj ave blvd".split()
)
# A sentence ends at a stop and its closing quotes and brackets, then space and a capital (or
# digit, bullet, currency); or at a bullet; or at a ";" before a bullet. Written to start with
# the one character class every end starts with, which the regex engine skips to (the plain
# alternation, r"(?P<stop>[.!?][\"”’)\]]*)\s+(?=...)|[•▪●]\s+|;\s*(?=[•▪●])", was tried at
# every character: four times slower). The stop is text[start:end("closers")], when a stop.
_SENTENCE_END = re.compile(
    r"[.!?•▪●;](?:(?<=[.!?])(?P<closers>[\"”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9•$€£])"
    r"|(?<=[•▪●])\s+|(?<=;)\s*(?=[•▪●]))"
)
# A line that ends a sentence (or a clause): a stop, then only closing quotes and brackets
# (the regexes r"[.!?:][\"”’)]*$" and r"[.!?:;][\"”’)]*$" on stripped lines, as string tests).
_CLOSERS = '"”’)'
_SENTENCE_STOPS = (".", "!", "?", ":")
_CLAUSE_STOPS = (*_SENTENCE_STOPS, ";")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_BLANK_LINE = re.compile(r"\n\s*\n")
_INITIALS = re.compile(r"(?:[a-z]\.)+[a-z]")
_BULLET = re.compile(r"^\s*[•▪●*\-–]\s+")
_QUOTE_SPAN = re.compile(r"“[^”“]*(?:”|$)|\"[^\"]*(?:\"|$)")
_WORD = re.compile(r"[A-Za-z0-9$€£]+")
_TRAILING_CONNECTOR = re.compile(
    r"\b(?:of|and|the|in|into|for|to|with|a|an|on|from|by|its)$", re.IGNORECASE
)
_SCRAPE_DATE = re.compile(r"^\s*date (\d{4})-(\d\d)-\d\d\s*")
_DESCRIPTOR = re.compile(
    r",\s+an?\s+[^;]{0,300}?\b(?:company|corporation|leader|innovator|developer|organization)\b"
    r"[^;]{0,250}?,\s*(?=(?:today|announced|announces|reports?|reported|provides?|issued|"
    r"encourages?|has|have|will|together|said|confirms?)\b)"
)


# The stop of "Inc." or "Ltd." inside a sentence: the rules read "within a clause" as "no full
# stop in between", and "re-acquired from InterMune Inc. the exclusive license" is one clause.
_SUFFIXES = "Inc Ltd Corp Co Pty LLC L.P N.V S.A B.V A.G A/S AB plc".split()
_SUFFIX_STOP = re.compile(rf"\b({'|'.join(map(re.escape, _SUFFIXES))})\.(?=.)")
_SUFFIX_STOPS = tuple(f"{name}." for name in _SUFFIXES)  # every match holds one: "Inc.", ...
# The same matches, each name's "\b" tested after its first letter ("I(?<!\wI)nc"): the regex
# engine then skips to the names' first letters, where a leading "\b" is tried at every
# character (twice the time).
_SUFFIX_STOP_AFTER_LETTER = re.compile(
    "("
    + "|".join(f"{name[0]}(?<!\\w{name[0]}){re.escape(name[1:])}" for name in _SUFFIXES)
    + r")\.(?=.)"
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of the headline, a sub-headline or the body."""

    text: str  # as published, whitespace collapsed
    zone: str  # HEADLINE, SUBHEAD, LEAD or BODY
    quoted: bool = False  # mostly inside quotation marks: someone's remark, not the news
    match_text: str = ""  # text with the company's self-description and "Inc." stops cut out
    # The release's (year, month), that `dated_before` reads the sentence's dates against
    # (None: unknown, or no date makes the sentence background).
    release_date: tuple[int, int] | None = None

    @property
    def for_matching(self) -> str:
        return self.match_text or self.text

    @cached_property
    def dated_before(self) -> bool:
        """Whether the sentence names a date before the release: background. Worked out when
        first asked: only for sentences that a tag's event clause matches."""
        return _mentions_past_date(self.text, self.release_date)


@dataclass(frozen=True)
class Sections:
    """A release cut into what counts (headline, sub-headlines, body) and what does not."""

    headline: str
    sentences: tuple[Sentence, ...]  # headline first, then sub-headlines, lead and body
    boilerplate: str
    release_date: tuple[int, int] | None  # (year, month) from the dateline
    # Where the boilerplate starts in the text as given (before any clean-up): the store indexes
    # text[:news_end] for full-text search and keeps the whole text for reading.
    news_end: int = 0

    @property
    def body_text(self) -> str:
        return " ".join(s.text for s in self.sentences if s.zone != HEADLINE)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations (Inc., Dr., U.S., No., e.g.) whole."""
    return [text[a:b] for a, b in _sentence_spans(text)]


def news_end(text: str) -> int:
    """Where the boilerplate (About, forward-looking statements, contacts) starts in `text`.

    A character offset into `text` as given: text[:news_end(text)] is the news (headline lines,
    dateline, lead, body), the rest restates the company. Cheaper than `split_release`: no
    sentences are cut, for splitting stored releases in bulk.
    """
    clean, scraped = _normalise(text)
    dateline = _find_dateline(clean)
    start = _boilerplate_start(clean, dateline.end() if dateline else 0)
    skipped = scraped.end() if scraped else 0
    return _original_offset(text, skipped, start, skipped + len(clean))


def _normalise(text: str) -> tuple[str, re.Match[str] | None]:
    """The text the section rules read, and the scraper's date cut from its start (if any)."""
    text = text.replace("\r\n", "\n").replace("\xa0", " ").replace("\\$", "$")
    scraped = _SCRAPE_DATE.match(text)  # a scraper's " date 2021-01-08 " ahead of the text
    return (text[scraped.end() :] if scraped else text), scraped


_SHRUNK = re.compile(r"\r\n|\\\$")  # what `_normalise` turns into one character


def _original_offset(original: str, skipped: int, offset: int, length: int = -1) -> int:
    """`offset` into the normalised text as an offset into `original`. `length`: the normalised
    text's length (the `skipped` characters counted), when known."""
    target, removed = offset + skipped, 0
    if length == len(original):
        return min(target, len(original))  # nothing shrunk (most texts): no scan
    for match in _SHRUNK.finditer(original):
        if match.start() - removed >= target:
            break
        removed += 1
    return min(target + removed, len(original))


def split_release(title: str, text: str) -> Sections:
    """Cut a release into headline, sub-headlines, lead and body sentences, and boilerplate."""
    original = text
    text, scraped = _normalise(text)
    skipped = scraped.end() if scraped else 0
    title = _collapse(title)
    dateline = _find_dateline(text)
    body_start = dateline.end() if dateline else 0
    boiler_start = _boilerplate_start(text, body_start)
    release_date = _release_date(text, dateline)
    if release_date is None and scraped:
        release_date = int(scraped.group(1)), int(scraped.group(2))
    header_lines = _header_lines(text[: dateline.start()] if dateline else "")
    headline = title if title and not _GENERIC_LINE.match(title) else ""
    if not headline and header_lines:
        headline = header_lines.pop(0)
    indent = body_start - (text.rfind("\n", 0, body_start) + 1)
    body_paragraphs = _paragraphs(text[body_start:boiler_start], indent)
    if not dateline:
        body_paragraphs = [p for p in body_paragraphs if not _is_headline_copy(p, headline)]
    sentences: list[Sentence] = []
    if not headline and body_paragraphs:
        headline = next(iter(split_sentences(body_paragraphs[0])), "")
    if headline:
        sentences.append(Sentence(headline, HEADLINE))
    for line in header_lines:
        if not _is_headline_copy(line, headline):
            sentences.extend(Sentence(s, SUBHEAD) for s in split_sentences(line))
    sentences.extend(_body_sentences(body_paragraphs, release_date))
    return Sections(
        headline,
        tuple(sentences),
        text[boiler_start:],
        release_date,
        _original_offset(original, skipped, boiler_start, skipped + len(text)),
    )


def _collapse(text: str) -> str:
    """The text with each run of whitespace a single space, stripped."""
    # Every whitespace character but the space is unprintable: a printable text with no two
    # spaces running and none at either end is as collapsed (most paragraphs: no copy made).
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _find_dateline(text: str) -> re.Match[str] | None:
    # A wire marker is the surest dateline; a date line above the headline is not one.
    wire = _WIRE_DATELINE.search(text, 0, 3000)
    if wire:
        return wire
    start = _dateline_start().search(text, 0, 3000)  # _DATELINE.search(text, 0, 3000), faster
    return _DATELINE.match(text, start.start(), 3000) if start else None


@cache
def _dateline_start() -> re.Pattern[str]:
    """A search that finds where _DATELINE's first match starts (see skip.py); built on first
    use (it compiles the pattern again)."""
    return skipping_pattern(_DATELINE.pattern, _DATELINE.flags & ~re.UNICODE) or _DATELINE


def _boilerplate_start(text: str, body_start: int) -> int:
    # A heading in the first lines after the dateline is a sub-section, not the tail.
    floor = body_start + 80
    heading = _HEADING_AFTER_NEWLINE.search(text, floor - 1)  # _HEADING.search(text, floor)
    starts = [heading.start() + 1] if heading else []
    # The heading must follow whitespace.
    inline = _inline_heading(text, floor)
    while inline and not text[inline.start() - 1].isspace():
        inline = _inline_heading(text, inline.start() + 1)
    if inline:
        starts.append(inline.start())
    description = _description_start(text, body_start)
    if description is not None:
        starts.append(description)
    return min(starts, default=len(text))


def _inline_heading(text: str, start: int, end: int | None = None) -> re.Match[str] | None:
    """_INLINE_HEADING.search(text, start, end), begun where the first opening is (every match
    starts with one), and none where none is."""
    end = len(text) if end is None else end
    found = [at for at in (text.find(one, start, end) for one in _INLINE_OPENINGS) if at >= 0]
    return _INLINE_HEADING.search(text, min(found), end) if found else None


def _description_start(text: str, body_start: int) -> int | None:
    offset, paragraph, previous = body_start, 0, ""
    for line in text[body_start:].split("\n"):
        stripped = line.strip()
        starts_paragraph = not previous or previous.rstrip(_CLOSERS).endswith(_SENTENCE_STOPS)
        if stripped and starts_paragraph:
            # Only paragraphs after the first two: the lead may describe the company too.
            if paragraph >= 2 and _DESCRIPTION.match(stripped):
                return offset + len(line) - len(line.lstrip())
            paragraph += 1
        previous = stripped
        offset += len(line) + 1
    return None


def _release_date(text: str, dateline: re.Match[str] | None) -> tuple[int, int] | None:
    window = text[max(0, dateline.start() - 60) : dateline.end()] if dateline else text[:400]
    iso = _ISO_DATE.search(window)
    if iso:
        return int(iso.group(1)), int(iso.group(2))
    found = _DATE_PARTS.search(window)
    if found:
        return int(found.group(2)), _MONTHS[found.group(1)[:3].lower()]
    return None


def _header_lines(header: str) -> list[str]:
    lines: list[str] = []
    raw = [line.strip() for line in header.split("\n")]
    if raw and len(raw[-1]) <= 80:
        raw[-1] = ""  # "CITY, State, date" ahead of the wire marker
    for line in raw:
        if not line or _GENERIC_LINE.match(line):
            continue
        if lines and (line[0].islower() or _ends_in_connector(lines[-1])):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return [ln for ln in lines if len(_WORD.findall(ln)) >= 3 and not _is_date_line(ln)]


def _ends_in_connector(line: str) -> bool:
    """_TRAILING_CONNECTOR.search(line): tried only where a match can start, in the last four
    characters (its words are at most four long)."""
    return _TRAILING_CONNECTOR.search(line, max(0, len(line) - 4)) is not None


def _is_date_line(line: str) -> bool:
    return len(line) < 60 and bool(_DATE_PARTS.search(line)) and len(line.split()) <= 8


def _is_headline_copy(line: str, headline: str) -> bool:
    a, b = _normal(line), _normal(headline)
    if not a or not b:
        return False
    if a in b or b in a or a[:60] == b[:60]:
        return True
    words = set(_WORD.findall(line.lower()))
    return len(words & set(_WORD.findall(headline.lower()))) >= 0.8 * len(words)


def _normal(text: str) -> str:
    return _NOT_ALNUM.sub("", text.lower())


def _paragraphs(text: str, indent: int = 0) -> list[str]:
    """Blank lines part paragraphs; single newlines are soft wraps unless a line ends a sentence.

    `indent` is how far into its line the text starts (after a dateline), so that the first
    line's wrap is judged on its full width.
    """
    paragraphs: list[str] = []
    for block in _BLANK_LINE.split(text):
        current, width = "", 0
        for line in (ln.strip() for ln in block.split("\n")):
            if not line or _GENERIC_LINE.match(line):
                continue
            if current and _is_soft_wrap(current, width + indent, line):
                current, width = f"{current} {line}", len(line)
                continue
            if current:
                paragraphs.append(current)
            current, width = line, len(line)
        indent = 0
        if current:
            paragraphs.append(current)
    return [_collapse(p) for p in paragraphs]


def _is_soft_wrap(previous: str, width: int, line: str) -> bool:
    if _BULLET.match(line):
        return False
    if previous.rstrip(_CLOSERS).endswith(_CLAUSE_STOPS):
        return previous.endswith(".") and _ends_in_abbreviation(previous)
    return not line[0].isupper() or width >= 40 or previous.endswith(",")


def _body_sentences(paragraphs: list[str], release_date: tuple[int, int] | None) -> list[Sentence]:
    sentences: list[Sentence] = []
    substantial = 0
    for paragraph in paragraphs:
        lead_done = substantial > 0
        quotes = (
            [m.span() for m in _QUOTE_SPAN.finditer(paragraph) if m.end() - m.start() >= 30]
            if '"' in paragraph or "“" in paragraph  # `in` skips to a character: the search
            else []  # stops at each character to test it against the two (ten times slower)
        )
        for start, end in _sentence_spans(paragraph):
            text = _unbulleted(paragraph[start:end]).strip()
            if not text:
                continue
            # The lead is the first paragraph with a full sentence (and any short lines before).
            zone = LEAD if not lead_done and len(sentences) < 4 else BODY
            # Eight words or more; the paragraph's whitespace is collapsed to single spaces.
            substantial += text.count(" ") >= 7
            inside = sum(max(0, min(end, b) - max(start, a)) for a, b in quotes) if quotes else 0
            stripped = _DESCRIPTOR.sub(" ", text, count=1) if zone == LEAD else text
            if _holds_suffix_stop(stripped):
                stripped = _SUFFIX_STOP_AFTER_LETTER.sub(r"\1", stripped)
            sentences.append(
                Sentence(
                    text,
                    zone,
                    quoted=inside * 2 >= end - start,
                    match_text=stripped if stripped != text else "",
                    release_date=release_date,
                )
            )
    return sentences


def _holds_suffix_stop(text: str) -> bool:
    """Whether one of _SUFFIX_STOPS ends before the last character of `text`, as every
    _SUFFIX_STOP match does: tested at each stop, all of them at once (`str.endswith`)."""
    last = len(text) - 1
    at = text.find(".", 0, last)
    while at >= 0:
        if text.endswith(_SUFFIX_STOPS, 0, at + 1):
            return True
        at = text.find(".", at + 1, last)
    return False


def _unbulleted(text: str) -> str:
    """_BULLET.sub("", text): the pattern is anchored at the start, so one match at most."""
    bullet = _BULLET.match(text)
    return text[bullet.end() :] if bullet else text


def _mentions_past_date(text: str, release_date: tuple[int, int] | None) -> bool:
    """Whether the text dates something before the release: "in March 2009", or "In February,"
    in a March release (a month without a year is taken to be in the release's year)."""
    if release_date is None or not _may_name_date(text):
        return False
    for match in _PAST_DATE.finditer(text):
        month_name, year, bare_year = match.groups()
        if bare_year:
            if int(bare_year) < release_date[0]:
                return True
            continue
        month = _MONTHS[month_name[:3].lower()]
        if (int(year) if year else release_date[0], month) < release_date:
            return True
    return False


def _may_name_date(text: str) -> bool:
    """False when `text` holds neither a year nor a month name, so _PAST_DATE cannot match (a
    few substring tests instead of a case-blind search of every "in" and "on")."""
    if "19" in text or "20" in text or "\u017f" in text:  # the long s matches "s" case-blind
        return True
    lower = text.lower()
    for month in _MONTHS:
        if month in lower:
            return True
    return False


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        stop = match.group("closers") is not None  # else a bullet's or a ";"'s
        if stop and _ends_in_abbreviation(text[start : match.start() + 1]):
            continue
        end = match.end("closers") if stop else match.start()
        chunk = text[start:end]
        if chunk.strip():  # the span starts at its first non-space
            spans.append((start + len(chunk) - len(chunk.lstrip()), end))
        start = match.end()
    rest = text[start:]
    if rest.strip():
        spans.append((start + len(rest) - len(rest.lstrip()), len(text)))
    return spans


def _ends_in_abbreviation(chunk: str) -> bool:
    words = chunk.rstrip(".").rsplit(None, 1)  # the last word: no need to split them all
    word = words[-1].lstrip('("“').lower() if words else ""
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    return "." in word and _INITIALS.fullmatch(word) is not None  # initials hold a stop
