"""Outcomes: events a release reports as done, which meet the catalysts announced before.

    extract_outcomes(title, text) -> tuple[Outcome, ...]

Pure and offline. Only the news that leads a release is read (headline, sub-headlines, lead
paragraph): a release about an outcome says so there ("FDA Approves X", "Announces Positive
Topline Results", "Completes Enrollment"), while the body's history paragraphs re-tell old
news. A sentence that hedges ("expects", "plans to", "will", "potential") reports nothing yet.
"""

from __future__ import annotations

import re

from ..models import Outcome
from .catalysts import _lower, _programs
from .sections import HEADLINE, LEAD, SUBHEAD, Sections, split_release

__all__ = ["extract_outcomes"]

_I = re.IGNORECASE
_REGULATORY = ("pdufa", "regulatory_decision", "adcom")

# (label, the catalyst kinds it meets, the pattern of a sentence reporting it, sets of words
# such that any match holds a word of each set, lower case: plain `in` tests that rule the
# search out)
_OUTCOMES: tuple[tuple[str, tuple[str, ...], re.Pattern[str], tuple[tuple[str, ...], ...]], ...] = (
    (
        "complete response letter",
        ("pdufa", "regulatory_decision"),
        re.compile(r"\bcomplete\s+response\s+letter\b|\bCRL\b", _I),
        (("response", "crl"),),
    ),
    (
        "approval",
        _REGULATORY,
        re.compile(
            r"\b(?:approv(?:es|ed|al\s+of|al\s+for)|grants?\s+(?:full\s+|accelerated\s+|"
            r"conditional\s+)?(?:marketing\s+)?(?:approval|authori[sz]ation)|"
            r"(?:marketing\s+)?authori[sz]ation\s+(?:granted|received)|receives?\s+"
            r"(?:FDA\s+|EC\s+|European\s+Commission\s+)?(?:full\s+|accelerated\s+)?approval)\b",
            _I,
        ),
        (("approv", "authori"),),
    ),
    (
        "advisory committee vote",
        ("adcom",),
        re.compile(r"\badvisory\s+committee\s+(?:voted|votes|recommend(?:s|ed))\b", _I),
        (("advisory",), ("committee",)),
    ),
    (
        "positive opinion",
        ("regulatory_decision",),
        re.compile(r"\b(?:positive|negative)\s+(?:CHMP\s+)?opinion\b", _I),
        (("opinion",), ("positive", "negative")),
    ),
    (
        "topline results",
        ("topline",),
        re.compile(
            r"\b(?:announc|report|present|share)\w*\s+(?:\w+\s+){0,4}?(?:top-?\s?line|"
            r"final|primary|pivotal)\s+(?:\w+\s+){0,2}?(?:data|results|readout)\b|"
            r"\b(?:met|achieved|missed|did\s+not\s+meet)\s+(?:its|the|both)\s+(?:\w+\s+){0,2}?"
            r"primary\s+(?:efficacy\s+)?endpoints?\b",
            _I,
        ),
        (("data", "results", "readout", "endpoint"),),
    ),
    (
        "interim data",
        ("interim_data",),
        re.compile(
            r"\b(?:announc|report|present|share)\w*\s+(?:\w+\s+){0,4}?(?:interim|initial|"
            r"preliminary|early)\s+(?:\w+\s+){0,2}?(?:data|results)\b",
            _I,
        ),
        (
            ("data", "results"),
            ("announc", "report", "present", "share"),
            ("interim", "initial", "preliminary", "early"),
        ),
    ),
    (
        "enrollment completed",
        ("enrollment_complete",),
        re.compile(
            r"\b(?:complet(?:es|ed|ion\s+of)|finish(?:es|ed))\s+(?:\w+\s+){0,4}?"
            r"(?:enrol(?:l)?ment|recruitment)\b|\b(?:enrol(?:l)?ment|recruitment)\s+"
            r"(?:is\s+|was\s+|has\s+been\s+)?(?:fully\s+)?complete[sd]?\b|\bfully\s+enrolled\b",
            _I,
        ),
        (("enrol", "recruitment"), ("complet", "finish", "fully")),
    ),
    (
        "first patient dosed",
        ("first_patient",),
        re.compile(
            r"\bfirst\s+(?:patient|subject|participant|cohort)s?\s+(?:has\s+been\s+|was\s+)?"
            r"(?:dosed|treated|randomi[sz]ed|enrolled)\b|\bdoses\s+first\s+patient",
            _I,
        ),
        (("first",), ("dosed", "treated", "randomi", "enrolled", "doses")),
    ),
    (
        "trial started",
        ("trial_start",),
        re.compile(
            r"\b(?:initiat(?:es|ed)|commenc(?:es|ed)|start(?:s|ed)|launch(?:es|ed)|"
            r"began|begins)\s+(?:\w+\s+){0,5}?(?:trial|study)\b",
            _I,
        ),
        (
            ("trial", "study"),
            ("initiat", "commenc", "start", "launch", "began", "begins"),
        ),
    ),
    (
        "submitted",
        ("submission",),
        re.compile(
            r"\b(?:submit(?:s|ted)|files?|filed|completes?\s+(?:the\s+)?submission\s+of|"
            r"accept(?:s|ed)\s+(?:\w+\s+){0,3}?(?:for\s+(?:priority\s+)?review|filing))\b"
            r"(?:.{0,80}?)\b(?:NDA|BLA|MAA|IND|CTA|sNDA|sBLA|application)\b",
            _I,
        ),
        (
            ("submi", "file", "accept"),
            ("nda", "bla", "maa", "ind", "cta", "application"),
        ),
    ),
    (
        "results reported",
        ("earnings_call",),
        re.compile(
            r"\b(?:reports?|announces?)\s+(?:\w+\s+){0,6}?financial\s+results\b",
            _I,
        ),
        (("financial",), ("results",), ("report", "announce")),
    ),
)

# Words that make a sentence a plan or a possibility, not a report.
_HEDGE = re.compile(
    r"\b(?:expect\w*|anticipat\w*|plan(?:s|ned|ning)?\s+to|intend\w*|will|would|could|may|"
    r"might|potential(?:ly)?|on\s+track|seek\w*|aim\w*|goal|target(?:ed|ing)?\s+(?:action|date)"
    r"|upon|if|once|pending|scheduled|to\s+be|hope\w*|designed\s+to)\b",
    _I,
)
_ZONES = (HEADLINE, SUBHEAD, LEAD)


def _holds_each(lower: str, needs: tuple[tuple[str, ...], ...]) -> bool:
    """Whether the lower-cased text holds a word of each set of `needs`."""
    for words in needs:
        for word in words:
            if word in lower:
                break
        else:
            return False
    return True


def extract_outcomes(
    title: str, text: str, sections: Sections | None = None
) -> tuple[Outcome, ...]:
    """Events the release's leading news reports as done, each with its program and sentence.

    `sections`: the release already cut by `split_release` (classify has it: cutting it again
    cost as much as the rest of this)."""
    found: dict[tuple[str, str], Outcome] = {}
    sections = sections or split_release(title or "", text or "")
    for sentence in sections.sentences:
        if sentence.zone not in _ZONES or sentence.quoted:
            continue
        words = sentence.for_matching
        lower = _lower(words)
        reported = []
        for label, kinds, pattern, needs in _OUTCOMES:
            if lower is not None:  # `_holds_each`, inlined: this runs 11 times a sentence
                missing = False
                for choices in needs:
                    for word in choices:
                        if word in lower:
                            break
                    else:
                        missing = True
                        break
                if missing:
                    continue
            if pattern.search(words):
                reported.append((label, kinds))
        if not reported or _HEDGE.search(words):
            continue
        programs = _programs(words)
        program = programs[0][1] if programs else None
        for label, kinds in reported:
            key = (label, (program or "").casefold())
            found.setdefault(key, Outcome(kinds, program, sentence.text, label))
    named = {label for label, program in found if program}
    # "The trial met its primary endpoint" after the headline named the program says no more.
    return tuple(o for (label, program), o in found.items() if program or label not in named)
