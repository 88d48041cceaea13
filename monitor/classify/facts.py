"""What an analyst scans a release for: tickers, amounts, phases, trials, agencies, partners."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..models import Facts
from .sections import Sections, split_release

_EXCHANGE = (
    r"(?i:NASDAQ(?:\s+(?:GS|GM|CM|Global Select Market|Global Market|Capital Market"
    r"|Stockholm|Copenhagen|Helsinki|First North))?|NYSE(?:\s+(?:American|MKT|Amex|Arca"
    r"|Alternext(?:\s+US)?))?|AMEX|TSX(?:-?V|\s+Venture)?|CSE|OTC(?:\s*(?:QB|QX|BB|Pink"
    r"|Markets))?|FRA|FSE|Frankfurt|XETRA|TASE|ASX|LSE|AIM|Euronext(?:\s+[A-Z][a-z]+)?"
    r"|HKEX|SEHK|KOSDAQ|KRX|SIX)"
)
_TICKER = re.compile(rf"\b({_EXCHANGE})\s*:\s*([A-Z0-9][A-Z0-9.]{{0,9}})\b(?<!\.)")
_NASDAQ_TIER = re.compile(r"^NASDAQ(?:GS|GM|CM|GLOBALSELECTMARKET|GLOBALMARKET|CAPITALMARKET)$")

_SCALE = r"(?:\s?(?:million|billion|thousand|trillion|mn|bn|MM|[MBK])\b)?"
_AMOUNT = re.compile(
    r"(?:(?<![A-Za-z])(?:US|USD|C|CA|CAD|A|AU|AUD|NZ|HK|S)?\$|[€£¥]"
    r"|\b(?:USD|EUR|GBP|CHF|CAD|AUD|JPY|SEK|DKK|NOK|CNY|RMB|euros?)\s)"
    rf"\s?\d[\d,]*(?:\.\d+)?{_SCALE}"
    r"|\b\d[\d,]*(?:\.\d+)?\s(?:million|billion)\s(?:euros?|dollars|pounds|Swiss francs)\b",
    re.IGNORECASE,
)
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}
_PHASE = re.compile(
    r"\b(?i:phase|ph\.)\s*([1-4]|IV|I{1,3})([abcABC])?"
    r"(?:\s*(?:/|-|–|(?i:and|to))\s*([1-4]|IV|I{1,3})([abcABC])?)?(?![A-Za-z0-9])"
)
_PIVOTAL = re.compile(r"\bpivotal\b", re.IGNORECASE)
_TRIAL_NAME = re.compile(r"\b([A-Z]{4,}(?:-[A-Z]{2,})*-\d{1,3}[A-Z]?)\b")
_TRIAL_WORD = re.compile(r"\b(?:study|studies|trial|trials|program)\b", re.IGNORECASE)
# All-caps names with a number that are not trials.
_NOT_TRIAL = frozenset("COVID SARS MERS CTLA VEGF PARP BRCA KRAS EGFR NRAS HTLV".split())
_NCT = re.compile(r"\bNCT\d{8}\b")

# Funders by the names and acronyms releases use (exact, case-sensitive, whole words). Literal
# lookups, not regexes: thirty-odd alternations over a whole release are slow.
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
# The Commission also approves drugs; it counts as a funder only where it funds.
_FUNDING_CONTEXT = re.compile(r"\b(?:grant|fund\w*|award\w*)\b", re.IGNORECASE)

_SUFFIX = (
    r"(?:,?\s+(?:Inc|Ltd|Corp|Co|LLC|plc|PLC|AG|GmbH|S\.A|SA|N\.V|B\.V|K\.K|Limited|Lda"
    r"|S\.p\.A|AB|A/S|ASA|Oy|SE|LP|L\.P)\b\.?)*"
)
_NAME = (
    r"(?:the\s+)?(?P<name>[A-Z][\w'’&.-]*(?:\s+(?:(?:of|and|&|for|de|du|der|la|le|von|van)\s+)?"
    rf"[A-Z][\w'’&.-]*)*{_SUFFIX})(?P<acronym>\s*\([A-Z][A-Z0-9&-]{{1,9}}\))?"
)
_COUNTERPARTY = re.compile(
    r"(?i:(?:agreements?|licen[cs]e|licensing|collaborat\w+|partnership|alliance"
    r"|memorandum of understanding|MOU|letter of intent|joint venture|merger|deal)"
    r"(?:\s*\([^)]{0,40}\))?\s+(?:with|between)|licen[cs]ed?\s+(?:from|to)"
    r"|(?:in-?licensed|acquired?|acquisition of)\s+(?:[\w-]+\s+){0,3}from|partner(?:ed|s)?\s+with"
    r"|(?:milestone|royalty|upfront|up-front)\s+payments?\s+(?:of\s+\S+\s+)?from"
    r"(?:\s+(?:its\s+|our\s+)?(?:partner|licensee|licensor))?|to acquire|merge with)\s+"
    + _NAME
)
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
        tickers=_unique(_tickers(full)),
        amounts=_unique(" ".join(m.group().split()) for m in _AMOUNT.finditer(full)),
        phases=_unique(_phases(full)),
        trial_names=_unique(_trial_names(full)),
        nct_ids=_unique(_NCT.findall(full)),
        agencies=_agencies(full),
        counterparties=_counterparties(news),
    )


def _tickers(text: str) -> Iterable[str]:
    for exchange, symbol in _TICKER.findall(text):
        exchange = re.sub(r"[\s-]", "", exchange.upper())
        yield f"{'NASDAQ' if _NASDAQ_TIER.match(exchange) else exchange}:{symbol}"


def _phases(text: str) -> Iterable[str]:
    for match in _PHASE.finditer(text):
        first, first_letter, second, second_letter = match.groups()
        phase = _ROMAN.get(first, first) + (first_letter or "").lower()
        if second:
            phase += "/" + _ROMAN.get(second, second) + (second_letter or "").lower()
        yield f"Phase {phase}"
    if _PIVOTAL.search(text):
        yield "pivotal"


def _trial_names(text: str) -> Iterable[str]:
    for match in _TRIAL_NAME.finditer(text):
        name = match.group(1)
        if name.split("-")[0] in _NOT_TRIAL:
            continue
        window = text[max(0, match.start() - 80) : match.end() + 80]
        if _TRIAL_WORD.search(window):
            yield name


def _agencies(text: str) -> tuple[str, ...]:
    found = []
    for name, spellings in _AGENCIES:
        starts = [p for spelling in spellings if (p := _find_word(text, spelling)) >= 0]
        if starts:
            found.append((min(starts), name))
    return tuple(name for _, name in sorted(found))


def _find_word(text: str, word: str) -> int:
    """Index of `word` standing alone in `text` (a funder's context checked too), or -1."""
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        alone = (start == 0 or not text[start - 1].isalnum()) and (
            end == len(text) or not text[end].isalnum()
        )
        if alone and (
            word != "European Commission"
            or _FUNDING_CONTEXT.search(text, max(0, start - 100), end + 100)
        ):
            return start
        start = text.find(word, end)
    return -1


def _counterparties(sentences: Iterable[str]) -> tuple[str, ...]:
    names: list[str] = []
    for sentence in sentences:
        for match in _COUNTERPARTY.finditer(sentence):
            name = _clean_name(match.group("name"))
            if not name or _NOT_PARTY.match(name) or len(name.split()) > 10:
                continue
            names.append(name + (match.group("acronym") or ""))
    # Keep the fullest form of each name: "Healios" and "HEALIOS K.K." are one party.
    kept: list[str] = []
    for name in names:
        key = name.lower()
        if any(other.lower().startswith(key) and other != name for other in names):
            continue
        if key not in (k.lower() for k in kept):
            kept.append(name)
    return tuple(kept)


def _clean_name(name: str) -> str:
    name = _HONORIFIC.sub("", name.strip())
    name = re.sub(r"(?:’s|'s)$", "", name)
    name = re.sub(r",?\s*Ph\.?D\.?$", "", name)
    if name.endswith(".") and not _ABBREVIATED.search(name):
        name = name[:-1]
    return name.strip(" ,")


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
