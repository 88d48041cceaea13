"""What an analyst scans a release for: tickers, amounts, phases, trials, agencies, partners."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..models import Facts
from ..tickers import find_tickers
from .literals import holds_each, literals_of
from .sections import Sections, split_release

_NUMBER = (
    r"\s?\d+(?:,\d{3})*(?:\.\d+)?"
    r"(?:\s?(?:[Mm]illion|[Bb]illion|[Tt]housand|[Tt]rillion|mn|bn|MM|[MBK])\b)?"
)
# Amounts are found from their currency symbol or code (literals the engine finds fast); a
# word boundary is checked in code rather than with a leading \b, which would slow every search.
_SYMBOLS = "$€£¥"
_SYMBOL_AMOUNT = re.compile(rf"[{_SYMBOLS}]{_NUMBER}")
_CODES = "USD EUR GBP CHF CAD AUD JPY SEK DKK NOK CNY RMB".split()
_CODE_AMOUNT = re.compile(rf"(?:{'|'.join(_CODES)}|[Ee]uros?)\s{_NUMBER}")
# Where a _CODE_AMOUNT match can start: at a code or "Euro" (one scan that skips to their first
# letters: a `str.find` per code, fourteen passes over the text, took twice as long) or "euro".
_CODE_START = re.compile("|".join(f"{code[0]}(?={code[1:]})" for code in (*_CODES, "Euro")))
_SPELLED_AMOUNT = re.compile(
    r"\d+(?:,\d{3})*(?:\.\d+)?\s(?:million|billion)\s(?:euros?|dollars|pounds|Swiss francs)\b"
)
# What every _SPELLED_AMOUNT match holds, found from a literal (its search skips to "illion"):
# a text without it is not scanned from every digit.
_SPELLED_UNIT = re.compile(r"illion\s(?:euros?|dollars|pounds|Swiss francs)\b")
_DOLLAR_PREFIX = re.compile(r"(?<![A-Za-z])(?:US|USD|C|CA|CAD|A|AU|AUD|NZ|HK|S)$")
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}
_PHASE = re.compile(
    r"[Pp](?:hase|HASE|h\.)\s*([1-4]|IV|I{1,3})([abcABC])?"
    r"(?:\s*(?:/|-|–|(?i:and|to))\s*([1-4]|IV|I{1,3})([abcABC])?)?(?![A-Za-z0-9])"
)
# "\bpivotal\b" case-blind, with the leading \b checked in code: with it, the search tries every
# character; without, it skips to the letters that start the word.
_PHASE_ANCHORS = (("hase", 1), ("HASE", 1), ("h.", 1))  # where each _PHASE opening sits
_PIVOTAL = re.compile(r"pivotal\b", re.IGNORECASE)
# Found from the "-<digits>" end (a literal hyphen is fast to find), then read leftwards.
_NAME_NUMBER = re.compile(r"-\d{1,3}[A-Z]?\b")
_NAME_WORDS = re.compile(r"(?<![\w-])[A-Z]{4,}(?:-[A-Z]{2,})*$")
_TRIAL_WORD = re.compile(r"\b(?:study|studies|trial|trials|program)\b", re.IGNORECASE)
# All-caps names with a number that are not trials.
_NOT_TRIAL = frozenset("COVID SARS MERS CTLA VEGF PARP BRCA KRAS EGFR NRAS HTLV".split())
_NCT = re.compile(r"\bNCT\d{8}\b")

# Funders by the names and acronyms releases use (exact, case-sensitive, whole words).
_AGENCIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("NIH", ("NIH", "National Institutes of Health")),
    ("NCI", ("NCI", "National Cancer Institute")),
    ("NIAID", ("NIAID", "National Institute of Allergy and Infectious Diseases")),
    ("NIDA", ("NIDA", "National Institute on Drug Abuse")),
    ("NHLBI", ("NHLBI", "National Heart, Lung, and Blood Institute",
               "National Heart, Lung and Blood Institute")),
    ("NIA", ("NIA", "National Institute on Aging")),
    ("NINDS", ("NINDS", "National Institute of Neurological Disorders")),
    ("NIMH", ("NIMH", "National Institute of Mental Health")),
    ("NIDDK", ("NIDDK", "National Institute of Diabetes")),
    ("NCATS", ("NCATS", "National Center for Advancing Translational Sciences")),
    ("BARDA", ("BARDA", "Biomedical Advanced Research and Development Authority")),
    ("DoD", ("DoD", "DOD", "Department of Defense")),
    ("CDMRP", ("CDMRP", "Congressionally Directed Medical Research Program")),
    ("DTRA", ("DTRA", "Defense Threat Reduction Agency")),
    ("DARPA", ("DARPA", "Defense Advanced Research Projects Agency")),
    ("ARPA-H", ("ARPA-H", "Advanced Research Projects Agency for Health")),
    ("CPRIT", ("CPRIT", "Cancer Prevention and Research Institute of Texas",
               "Cancer Prevention & Research Institute of Texas")),
    ("CIRM", ("CIRM", "California Institute for Regenerative Medicine")),
    ("CARB-X", ("CARB-X",)),
    ("SBIR", ("SBIR", "Small Business Innovation Research",
              "Small Business Innovation and Research")),
    ("STTR", ("STTR", "Small Business Technology Transfer")),
    ("EU Horizon", ("Horizon 2020", "Horizon Europe")),
    ("European Commission", ("European Commission",)),
    ("EIC", ("EIC", "European Innovation Council")),
    ("Gates Foundation", ("Gates Foundation",)),
    ("Wellcome", ("Wellcome",)),
    ("CEPI", ("CEPI", "Coalition for Epidemic Preparedness")),
    ("MJFF", ("MJFF", "Michael J. Fox Foundation")),
    ("CFF", ("Cystic Fibrosis Foundation",)),
    ("JDRF", ("JDRF",)),
    ("LLS", ("Leukemia & Lymphoma Society", "Leukemia and Lymphoma Society")),
    ("NSF", ("NSF", "National Science Foundation")),
    ("Innovate UK", ("Innovate UK",)),
)  # fmt: skip
_AGENCY_BY_SPELLING = {spelling: name for name, spellings in _AGENCIES for spelling in spellings}


def _trie_pattern(words: Iterable[str]) -> str:
    """A regex of `words` as a tree of their common starts ("N(?:IH|CI|ational ...)"): at a
    place where several match it takes the longest, as the alternation of the words longest
    first does, but tries a letter once where that tries each word."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def branch(node: dict) -> str:
        alternatives = [re.escape(char) + branch(child) for char, child in node.items() if char]
        if not alternatives:
            return ""
        if len(alternatives) == 1 and "" not in node:
            return alternatives[0]
        # The end of a shorter word last: a longer one that matches wins.
        return "(?:" + "|".join(alternatives) + ("|" if "" in node else "") + ")"

    return branch(trie)


# One case-sensitive pass; every spelling starts with a capital, which the engine skips to.
_AGENCY_SPELLING = re.compile(_trie_pattern(_AGENCY_BY_SPELLING))
# The Commission also approves drugs; it counts as a funder only where it funds.
_FUNDING_CONTEXT = re.compile(r"\b(?:grant|fund\w*|award\w*)\b", re.IGNORECASE)

_SUFFIX = (
    r"(?:,?\s+(?:Inc|Ltd|Corp|Co|LLC|plc|PLC|AG|GmbH|S\.A|SA|N\.V|B\.V|K\.K|Limited|Lda"
    r"|S\.p\.A|AB|A/S|ASA|Oy|SE|LP|L\.P)\b\.?)*"
)
# A run of capitalised words joined by "of", "and", "&" (and "for" after Institute and the
# like), a corporate suffix, then an acronym in parentheses: "Wisconsin Alumni Research
# Foundation (WARF)". A possessive ends the name: "the NCI's SBIR program" is the NCI.
_FOR = r"(?:(?<=Institute)|(?<=Center)|(?<=Centre)|(?<=Foundation)|(?<=Coalition)|(?<=Council))"
_WORD = r"[A-Z][\w&.-]*"
_NAME = (
    rf"(?:the\s+)?(?P<name>{_WORD}(?:\s+(?:(?:of|and|&|de|du|der|la|le|von|van|{_FOR}\s*for)"
    rf"\s+)?{_WORD})*{_SUFFIX})(?P<acronym>\s*\([A-Z][A-Z0-9&-]{{1,9}}\))?"
)
# "<deal word> with|from <Name>": found from the preposition (few literals, fast to find), then
# the deal word is checked to its left. "licensed to|from" and "to acquire" need no deal word.
_COUNTERPARTY = re.compile(
    r"(?:(?P<free>to [Aa]cquire|[Mm]erge [Ww]ith|[Ll]icen[cs]ed? (?:[Ff]rom|[Tt]o))"
    r"|[Ww]ith|[Ff]rom(?:\s+(?:its\s+|our\s+)?(?:partner|licensee|licensor))?)\s+" + _NAME
)
# Where a _COUNTERPARTY match can start: a literal each of its openings holds, and how far into
# the opening it sits ("with" holds "ith" one character in).
_COUNTERPARTY_ANCHORS = (("cquire", 4), ("erge ", 1), ("icen", 1), ("ith", 1), ("rom", 1))
_DEAL_LEFT = re.compile(
    r"(?:(?:agreements?|licen[cs]e|licensing|collaborat\w+|partnership|alliance|memorandum of"
    r" understanding|mou|letter of intent|joint venture|merger|deal)(?:\s*\([^)]{0,40}\))?"
    r"|(?:in-?licensed|acquired?|acquisition of)(?:\s+[\w-]+){0,3}|partner(?:ed|s)?"
    r"|(?:milestone|royalty|upfront|up-front)\s+payments?(?:\s+of\s+\S+)?)\s+$"
)
# Literals every _DEAL_LEFT match holds: a window lacking them (most) is not searched, which
# tries the alternation at each letter its words start with.
_DEAL_LEFT_LITERALS = literals_of(_DEAL_LEFT.pattern) or ()
# Their key in literals.TABLE (precomputed: see literals.py).
LITERAL_KEYS = [(_DEAL_LEFT.pattern, 0, 40, 3)]
_NOT_PARTY = re.compile(
    r"^(?:the\s+)?(?:Company|Board|FDA|EMA|SEC|U\.S\.|US|Food and Drug Administration"
    r"|European Medicines Agency|Securities and Exchange Commission|Nasdaq|NYSE)\b"
)
_HONORIFIC = re.compile(r"^(?:Professor|Prof\.|Dr\.|Mr\.|Ms\.|Mrs\.)\s+")
_ABBREVIATED = re.compile(r"(?:Inc|Ltd|Corp|Co|S\.A|N\.V|B\.V|K\.K|S\.p\.A|L\.P)\.$")


def extract_facts(title: str, text: str, sections: Sections | None = None) -> Facts:
    """Pull tickers, amounts, phases, trial names, NCT ids, agencies and counterparties."""
    sections = sections or split_release(title, text)
    full = f"{title}\n{text}".replace("\\$", "$")
    news = [s.text for s in sections.sentences]  # headline and body, not the boilerplate
    return Facts(
        tickers=_unique(str(ticker) for ticker in find_tickers(full)),
        amounts=_unique(_amounts(full)),
        phases=_unique(_phases(full)),
        trial_names=_unique(_trial_names(full)),
        nct_ids=_unique(_NCT.findall(full)) if "NCT" in full else (),
        agencies=_agencies(full),
        counterparties=_counterparties(news, _issuer(sections)),
    )


def _amounts(text: str) -> Iterable[str]:
    found = list(_matches_at(_SYMBOL_AMOUNT, _symbol_starts(text), text))
    codes = _matches_at(_CODE_AMOUNT, _code_starts(text), text)
    found += [m for m in codes if _starts_word(text, m.start())]
    if "illion" in text and _SPELLED_UNIT.search(text):
        found += [m for m in _SPELLED_AMOUNT.finditer(text) if _starts_word(text, m.start())]
    for match in sorted(found, key=lambda m: m.start()):
        amount = " ".join(match.group().split())
        prefix = _DOLLAR_PREFIX.search(text, max(0, match.start() - 3), match.start())
        yield (prefix.group() + amount) if amount.startswith("$") and prefix else amount


def _symbol_starts(text: str) -> list[int]:
    """Where a _SYMBOL_AMOUNT match can start: at each currency symbol. `str.find` skips to
    one; the regex engine's search tests every character against the four (eight times the
    work on a 6 KB release)."""
    return [start for symbol in _SYMBOLS for start in _finds(text, symbol)]


def _code_starts(text: str) -> list[int]:
    """Where a _CODE_AMOUNT match can start: every place a code, "Euro" or "euro" is."""
    return [m.start() for m in _CODE_START.finditer(text)] + _finds(text, "euro")


def _starts_word(text: str, start: int) -> bool:
    return start == 0 or not text[start - 1].isalnum()


def _phases(text: str) -> Iterable[str]:
    for match in _anchored_matches(_PHASE, _PHASE_ANCHORS, text):
        if not _starts_word(text, match.start()):
            continue
        first, first_letter, second, second_letter = match.groups()
        phase = _ROMAN.get(first, first) + (first_letter or "").lower()
        if second:
            phase += "/" + _ROMAN.get(second, second) + (second_letter or "").lower()
        yield f"Phase {phase}"
    if any(_word_start(text, start) for start in _pivotal_starts(text)):
        yield "pivotal"


def _pivotal_starts(text: str) -> Iterable[int]:
    """Where _PIVOTAL matches in `text`: tried only where the lowercased text says "pivotal"
    (the case-blind search tests every character for a "p" or "P"), unless the text holds the
    Turkish dotted or dotless i, which that search matches to "i" and lower() does not turn
    into "i". Lowercasing keeps every other character's place: only the dotted I lowers to
    two characters."""
    if "\u0130" in text or "\u0131" in text:
        return (match.start() for match in _PIVOTAL.finditer(text))
    return (start for start in _finds(text.lower(), "pivotal") if _PIVOTAL.match(text, start))


def _word_start(text: str, start: int) -> bool:
    """Whether \b holds before the word character at `start`."""
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")


def _trial_names(text: str) -> Iterable[str]:
    for match in _NAME_NUMBER.finditer(text):
        words = _NAME_WORDS.search(text, max(0, match.start() - 40), match.start())
        if not words or words.group().split("-")[0] in _NOT_TRIAL:
            continue
        name = words.group() + match.group()
        window = text[max(0, match.start() - 80) : match.end() + 80]
        if _TRIAL_WORD.search(window):
            yield name


def _agencies(text: str) -> tuple[str, ...]:
    found: dict[str, int] = {}
    for match in _AGENCY_SPELLING.finditer(text):
        start, end = match.span()
        if not _starts_word(text, start) or (end < len(text) and text[end].isalnum()):
            continue
        name = _AGENCY_BY_SPELLING[match.group()]
        sentence_start, sentence_end = text.rfind(".", 0, start) + 1, text.find(".", end)
        if name == "European Commission" and not _FUNDING_CONTEXT.search(
            text, sentence_start, sentence_end if sentence_end >= 0 else len(text)
        ):
            continue  # in its own sentence the Commission funds nothing: it regulates
        found.setdefault(name, start)
    return tuple(sorted(found, key=found.__getitem__))


def _issuer(sections: Sections) -> str:
    """The first word of the issuing company's name, from the lead sentence."""
    lead = next((s.text for s in sections.sentences if s.zone != "headline"), "")
    first = re.match(r"[A-Z][\w&.’'-]*", lead)
    return first.group().rstrip(",.").lower() if first else ""


def _counterparties(sentences: Iterable[str], issuer: str = "") -> tuple[str, ...]:
    names: list[str] = []
    for sentence in sentences:
        for match in _anchored_matches(_COUNTERPARTY, _COUNTERPARTY_ANCHORS, sentence):
            left = sentence[max(0, match.start() - 80) : match.start()].lower()
            if match.group("free") is None and not (
                holds_each(left, _DEAL_LEFT_LITERALS) and _DEAL_LEFT.search(left)
            ):
                continue
            name = _clean_name(match.group("name"))
            if not name or _NOT_PARTY.match(name) or len(name.split()) > 10:
                continue
            if issuer and name.lower().split()[0].rstrip(",") == issuer:
                continue  # "a joint venture partner with RegeneRx" in RegeneRx's own release
            names.append(name + (match.group("acronym") or ""))
    # Keep the fullest form of a name: "Healios" is "HEALIOS K.K.", "Nikkah" is "Guido Nikkah".
    kept: list[str] = []
    for name in names:
        key = name.lower()
        if any(key != other.lower() and _has_words(other.lower(), key) for other in names):
            continue
        if key not in (k.lower() for k in kept):
            kept.append(name)
    return tuple(kept)


def _anchored_matches(
    pattern: re.Pattern[str], anchors: tuple[tuple[str, int], ...], text: str
) -> Iterable[re.Match[str]]:
    """pattern.finditer(text), tried only where a match can start: `anchors` are literals every
    match holds, each with its distance from the match's start (the search would try each
    character its first letters can be; `str.find` skips to the anchors)."""
    starts = []
    for anchor, offset in anchors:
        found = text.find(anchor, offset)
        while found >= 0:
            starts.append(found - offset)
            found = text.find(anchor, found + 1)
    return _matches_at(pattern, starts, text)


def _finds(text: str, literal: str) -> list[int]:
    """Every place `literal` is in `text` (overlapping ones too)."""
    found: list[int] = []
    at = text.find(literal)
    while at >= 0:
        found.append(at)
        at = text.find(literal, at + 1)
    return found


def _matches_at(
    pattern: re.Pattern[str], starts: Iterable[int], text: str
) -> Iterable[re.Match[str]]:
    """pattern.finditer(text) when every match starts at one of `starts`: tried only there."""
    end = 0
    for start in sorted(set(starts)):
        if start >= end:
            match = pattern.match(text, start)
            if match:
                end = match.end()
                yield match


def _has_words(longer: str, shorter: str) -> bool:
    return longer.startswith(shorter) or f" {shorter}" in longer


def _clean_name(name: str) -> str:
    name = _HONORIFIC.sub("", name.strip())
    name = re.split(r"(?:’s|'s)\b", name)[0]
    name = re.sub(r",?\s*Ph\.?D\.?$", "", name)
    if name.endswith(".") and not _ABBREVIATED.search(name):
        name = name[:-1]
    return name.strip(" ,")


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """First spelling of each item, case aside ("$2 Million", then "$2 million")."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return tuple(seen.values())
