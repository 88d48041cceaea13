"""Tag a biotech press release by its news events: pure and deterministic, no I/O.

    classify(title, text) -> Classification(primary, tags, evidence, facts)

The release is cut into headline, sub-headlines, lead, body and boilerplate (`sections`); each
tag's rules (`tags`) are matched sentence by sentence; the boilerplate never earns a tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from ..models import Classification
from .engine import DEFAULT_RULES, TagRules, build_rules
from .facts import extract_facts
from .sections import BODY, HEADLINE, LEAD, SUBHEAD, Sections, Sentence, split_release
from .tags import (
    HIGHLIGHT,
    KNOWN_TAGS,
    LICENCE_TERMS,
    MERGER,
    PRIORITY,
    RECAP,
    RECAP_RELEASE,
    STANDALONE_DEAL,
    TAGS,
    suggest_tag,
)

__all__ = [
    "KNOWN_TAGS",
    "TAGS",
    "TagRules",
    "build_rules",
    "classify",
    "suggest_tag",
    "with_hints",
]

_ZONE_RANK = {HEADLINE: 0, SUBHEAD: 1, LEAD: 2}
_MAX_EVIDENCE = 3

Hit = tuple[int, int, Sentence]  # (sentence index, match position, sentence)


def classify(
    title: str, text: str, rules: TagRules | None = None, published: str | None = None
) -> Classification:
    """Tag one release: every event tag it earns, the headline's tag, evidence and facts.

    With `published` (ISO 8601, the release's publication time) also its catalysts and the
    outcomes it reports: relative dates ("by year-end") are read against that day.
    """
    rules = rules or DEFAULT_RULES
    sections = split_release(title or "", text or "")
    shared = rules.shared_vetoes
    hits: dict[str, list[Hit]] = {}
    user_hits: dict[str, list[Hit]] = {}
    sentences = sections.sentences
    recap = RECAP_RELEASE.search(sections.headline) is not None
    if recap:
        sentences = _highlights_as_news(sentences)
    for index, sentence in enumerate(sentences):
        lower = sentence.for_matching.lower()
        present = rules.stems_in(lower)
        for rule in rules.triggered(present):
            position = rule.earns(sentence, shared, lower, present)
            if position is not None:
                found = user_hits if rule.user else hits
                found.setdefault(rule.name, []).append((index, position, sentence))
    _settle_deal_and_licensing(hits)
    primary = _primary(hits)
    if recap and not _in_headline(hits.get(primary, [])):
        # A review whose headline names no event is about the period, not one highlight.
        primary = "other"
        hits.setdefault("other", []).append((0, 0, sentences[0]))
    _drop_recap(hits, primary)
    # User patterns only add: tags and evidence beside the built-in ones, and the primary
    # only when the built-in rules found nothing.
    if not hits and user_hits:
        primary = _primary(user_hits)
    for tag, found in user_hits.items():
        hits[tag] = sorted(set(hits.get(tag, [])) | set(found), key=lambda h: h[:2])
    tags = tuple(sorted(hits)) if hits else ("other",)
    evidence = tuple((tag, _evidence(hits.get(tag, []), sections.headline)) for tag in tags)
    facts = extract_facts(title or "", text or "", sections)
    classification = Classification(
        primary=primary, tags=tags, evidence=evidence, facts=facts, news_end=sections.news_end
    )
    return _with_catalysts(classification, title, text, published, sections)


def with_hints(classification: Classification, hints: Sequence[tuple[str, str]]) -> Classification:
    """The classification with tags a wire's metadata suggests (an 8-K's item codes), each with
    its line as evidence, where the text earned no tag of its own ("other"): a filing read
    without its exhibit still says "earnings" for item 2.02."""
    if not hints or classification.primary != "other":
        return classification
    evidence: dict[str, list[str]] = {}
    for tag, line in hints:
        evidence.setdefault(tag, []).append(line)
    tags = tuple(sorted(evidence))
    return replace(
        classification,
        primary=hints[0][0],
        tags=tags,
        evidence=tuple((tag, tuple(evidence[tag][:_MAX_EVIDENCE])) for tag in tags),
    )


def _with_catalysts(
    classification: Classification,
    title: str,
    text: str,
    published: str | None,
    sections: Sections,
) -> Classification:
    """The classification with the release's catalysts and outcomes (none without a date)."""
    if not published:
        return classification  # no date (the error below, without raising it per release)
    try:
        day = date.fromisoformat((published or "")[:10])
    except ValueError:
        return classification
    # Imported here: their patterns take ~40% of the package's import time, and `biomon
    # classify` (no publication day) never needs them (issue 14: start < 150 ms).
    from .catalysts import extract_catalysts
    from .outcomes import extract_outcomes

    return replace(
        classification,
        catalysts=extract_catalysts(title or "", text or "", day, sections.news_end),
        outcomes=extract_outcomes(title or "", text or "", sections),
    )


def _settle_deal_and_licensing(hits: dict[str, list[Hit]]) -> None:
    # A collaboration that comes with a licence is a licensing deal: the headline's
    # "collaboration" then speaks for the licence, so its hits move over. A deal stays a deal
    # of its own when a sentence names, without a licence, a transaction a licence does not
    # make: a merger or acquisition, a research or supply agreement, co-development.
    if "licensing" not in hits or "deal" not in hits:
        return
    for _, _, sentence in hits["deal"]:
        text = sentence.for_matching
        if MERGER.search(text) or (STANDALONE_DEAL.search(text) and not LICENCE_TERMS.search(text)):
            return
    moved = [hit for hit in hits.pop("deal") if hit[2].zone in (HEADLINE, SUBHEAD)]
    hits["licensing"] = sorted(set(hits["licensing"]) | set(moved), key=lambda h: h[:2])


def _in_headline(tag_hits: list[Hit]) -> bool:
    return any(sentence.zone in (HEADLINE, SUBHEAD) for _, _, sentence in tag_hits)


def _highlights_as_news(sentences: tuple[Sentence, ...]) -> tuple[Sentence, ...]:
    """In a results or year-review release the listed highlights are the period's news: a
    highlight ("Completed the acquisition of X in July") counts as a lead sentence, and a date
    inside the period is no sign of background."""
    return tuple(
        replace(sentence, zone=LEAD, release_date=None)
        if sentence.zone == BODY and HIGHLIGHT.match(sentence.text)
        else sentence
        for sentence in sentences
    )


def _drop_recap(hits: dict[str, list[Hit]], primary: str) -> None:
    """Drop tags that, given what the release is about, are background when named only past
    the lead (see tags.RECAP): the quarter's news in a results release, say."""
    for tag in RECAP.get(primary, ()):
        if tag in hits and all(s.zone not in _ZONE_RANK for _, _, s in hits[tag]):
            del hits[tag]


def _primary(hits: dict[str, list[Hit]]) -> str:
    """The tag the headline is about: the earliest event named in the headline, else in the
    sub-headlines, else in the lead; else the tag with the most evidence."""
    builtin = [tag for tag in hits if tag in PRIORITY]
    for zone in (HEADLINE, SUBHEAD, LEAD):
        found = [
            (index, position, PRIORITY.index(tag), tag)
            for tag in builtin
            for index, position, sentence in hits[tag]
            if sentence.zone == zone
        ]
        if found:
            return min(found)[3]
    if builtin:
        return max(builtin, key=lambda tag: (len(hits[tag]), -PRIORITY.index(tag)))
    return min(hits) if hits else "other"


def _evidence(tag_hits: list[Hit], headline: str) -> tuple[str, ...]:
    """Up to three sentences, headline zone first, then the shortest of the rest."""
    if not tag_hits:
        return (headline,) if headline else ()
    ranked = sorted(tag_hits, key=lambda h: (_ZONE_RANK.get(h[2].zone, 3), len(h[2].text)))
    chosen: list[str] = []
    for _, _, sentence in ranked:
        if sentence.text not in chosen:
            chosen.append(sentence.text)
        if len(chosen) == _MAX_EVIDENCE:
            break
    return tuple(chosen)
