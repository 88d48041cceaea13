"""The tag-rule engine: compiled clauses, per-tag rules and the matching of one sentence.

The rules themselves are data, in tags.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from . import tags
from .literals import required_literals
from .sections import HEADLINE, LEAD, SUBHEAD, Sentence

_WORDS = re.compile(r"[a-z0-9]+")
_NO_STEMS: frozenset[str] = frozenset()
Search = Callable[[str], "re.Match[str] | None"]


@dataclass(frozen=True)
class Clause:
    """Regexes that must all match one sentence; the first one's match gives the position."""

    patterns: tuple[re.Pattern[str], ...]
    cased: tuple[bool, ...]  # True: the pattern needs the original case (searches `text`)
    # Trigger stems named in the regexes: with none of them in the sentence the clause cannot
    # match, so it is not run. None: always run.
    gate: frozenset[str] | None = None
    # Per pattern: its search, whether it reads `text`, and sets of literals such that any
    # match holds one literal of each set (None: not known; see literals.py). A sentence
    # lacking a set is not searched: a substring test is tens of times cheaper than a search.
    steps: tuple[tuple[Search, bool, tuple[tuple[str, ...], ...] | None], ...] = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        # The first pattern's literals are tested on every sentence that passes the gate, the
        # others' only when the first's are there: they may be more.
        steps = tuple(
            (pattern.search, cased, None if cased else required_literals(pattern, 100 if i else 40))
            for i, (pattern, cased) in enumerate(zip(self.patterns, self.cased, strict=True))
        )
        object.__setattr__(self, "steps", steps)

    def match(self, text: str, lower: str, present: frozenset[str] | None = None) -> int | None:
        """Start of the match in the sentence (`lower` is `text` lowercased), or None."""
        if self.gate is not None and present is not None and self.gate.isdisjoint(present):
            return None
        return self.find(text, lower)

    def find(self, text: str, lower: str) -> int | None:
        """`match` without the gate test."""
        for _, cased, required in self.steps:
            if required is not None:
                target = text if cased else lower
                for literals in required:  # holds_each(target, required), inlined: hot
                    for literal in literals:
                        if literal in target:
                            break
                    else:
                        return None
        start = None
        for search, cased, _ in self.steps:
            found = search(text if cased else lower)
            if found is None:
                return None
            start = found.start() if start is None else start
        return start


@dataclass(frozen=True)
class TagRule:
    """The compiled rule of one tag."""

    name: str
    mention: tuple[Clause, ...]
    event: tuple[Clause, ...]
    veto: tuple[Clause, ...]
    shared: tuple[str, ...] = ()
    deep: bool = True
    subhead_mentions: bool = True
    # Concrete events that count even inside a quote or beside a hedge ("we were awarded a
    # grant", "first patient enrollment is anticipated"): still subject to the tag's vetoes.
    strong: tuple[Clause, ...] = ()
    triggers: frozenset[str] | None = None  # None: test every sentence
    user: bool = False

    def earns(
        self,
        sentence: Sentence,
        shared: Mapping[str, tuple[Clause, ...]],
        lower: str = "",
        present: frozenset[str] | None = None,
    ) -> int | None:
        """Where in the sentence this tag is earned, or None.

        `lower` is the sentence lowercased and `present` the trigger stems in it (both are
        worked out here when not given).
        """
        text = sentence.for_matching
        lower = lower or text.lower()
        if sentence.zone in (HEADLINE, SUBHEAD):
            mentions = self.mention if sentence.zone == HEADLINE or self.subhead_mentions else ()
            # The position of the topic word (mention clauses name it first), not of a verb the
            # tags share: in "Announces Closing of Acquisition and Exclusive License" the
            # acquisition comes first.
            position = first_match(mentions, text, lower, present, earliest=True)
            if position is None:
                position = first_match(self.event, text, lower, present, earliest=True)
            if position is None or first_match(self.veto, text, lower) is not None:
                return None
            return position
        if sentence.zone != LEAD and not self.deep:
            return None
        if self.strong and not sentence.dated_before:
            position = first_match(self.strong, text, lower, present)
            if position is not None and first_match(self.veto, text, lower) is None:
                return position
        if (sentence.quoted and "quote" in self.shared) or (
            sentence.dated_before and "dated" in self.shared
        ):
            return None
        position = first_match(self.event, text, lower, present)
        if position is None or first_match(self.veto, text, lower) is not None:
            return None
        if any(first_match(shared.get(name, ()), text, lower) is not None for name in self.shared):
            return None
        return position

    def is_triggered(self, present: frozenset[str]) -> bool:
        """Whether any of this tag's trigger stems is among `present`."""
        return self.triggers is None or not self.triggers.isdisjoint(present)


@dataclass(frozen=True)
class TagRules:
    """Every tag's compiled rule, in a fixed order, plus the shared vetoes."""

    rules: tuple[TagRule, ...]
    shared: tuple[tuple[str, tuple[Clause, ...]], ...]
    # word, and whitespace-separated token ("(nasdaq:"), -> the trigger stems it carries;
    # filled as they are met (caches: same answers)
    _word_stems: dict[str, frozenset[str]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    _token_stems: dict[str, frozenset[str]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def shared_vetoes(self) -> dict[str, tuple[Clause, ...]]:
        return dict(self.shared)

    def stems_in(self, lower: str) -> frozenset[str]:
        """The trigger stems (of any tag) that the lowercased text carries."""
        # Words never span whitespace, so a token's words are its own: split() and one look-up
        # per token (C-level loops; this runs for every sentence) instead of a regex scan.
        cache = self._token_stems
        tokens = lower.split()
        known = list(map(cache.get, tokens))
        if None in known:  # tokens not met before: work their stems out once
            if len(cache) > 100_000:
                cache.clear()
            known = [cache[token] if token in cache else self._token(token) for token in tokens]
        return _NO_STEMS.union(*filter(None, known))

    def _token(self, token: str) -> frozenset[str]:
        words = self._word_stems
        if len(words) > 100_000:
            words.clear()
        stems = _NO_STEMS.union(
            *(
                words[word] if word in words else self._stems_of(word)
                for word in _WORDS.findall(token)
            )
        )
        self._token_stems[token] = stems
        return stems

    def _stems_of(self, word: str) -> frozenset[str]:
        stems = frozenset(
            stem
            for rule in self.rules
            for stem in rule.triggers or ()
            if (word == stem[:-1] if stem.endswith("$") else stem in word)
        )
        self._word_stems[word] = stems
        return stems


def first_match(
    clauses: Iterable[Clause],
    text: str,
    lower: str,
    present: frozenset[str] | None = None,
    earliest: bool = False,
) -> int | None:
    """Start of the first clause that matches (the earliest of all if asked), or None."""
    best: int | None = None
    for clause in clauses:
        # clause.match, its gate test inlined: this loop runs hundreds of times per release
        gate = clause.gate
        if gate is not None and present is not None and gate.isdisjoint(present):
            continue
        found = clause.find(text, lower)
        if found is not None:
            if not earliest:
                return found
            best = found if best is None else min(best, found)
    return best


def build_rules(extra: dict[str, list[str]] | None = None) -> TagRules:
    """Compile the tag rules, adding `extra` regexes per tag (an existing tag or a new one).

    Raises ValueError naming the tag and the pattern when a pattern is not a valid regex.
    """
    rules = {}
    for name, spec in tags.RULE_DATA.items():
        triggers = frozenset(spec["triggers"].split())
        rules[name] = TagRule(
            name=name,
            mention=_compile_all(name, spec["mention"], triggers),
            event=_compile_all(name, spec["event"], triggers),
            veto=_compile_all(name, spec["veto"]),
            shared=spec["shared"],
            deep=spec["deep"],
            subhead_mentions=spec.get("subhead_mentions", True),
            triggers=triggers,
            strong=_compile_all(name, spec.get("strong", ()), triggers),
        )
    # User patterns are rules of their own, run on every sentence and matched after the
    # built-in ones: they add a tag and its evidence, never take a built-in tag away (a
    # pattern for "licensing" used to replace the tag's trigger stems and so silence it).
    user_rules = tuple(
        TagRule(name, (), _compile_extra(name, patterns), (), user=True)
        for name, patterns in (extra or {}).items()
    )
    shared = tuple((name, _compile_all(name, specs)) for name, specs in tags.SHARED_VETOES.items())
    return TagRules(tuple(rules.values()) + user_rules, shared)


def _compile_extra(tag: object, patterns: object) -> tuple[Clause, ...]:
    if not isinstance(tag, str) or not tag.strip():
        raise ValueError(f"extra tag name must be a non-empty string, got {tag!r}")
    if tag == "other":
        raise ValueError("tag 'other' takes no patterns: it means no other tag fits")
    if isinstance(patterns, str) or not isinstance(patterns, Iterable):
        raise ValueError(f"tag {tag!r}: patterns must be a list of regex strings, got {patterns!r}")
    clauses = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(f"tag {tag!r}: pattern {pattern!r} must be a non-empty regex string")
        clauses.extend(_compile_all(tag, [pattern]))
    return tuple(clauses)


def _compile_all(
    tag: str, specs: Iterable[str | tuple[str, ...]], triggers: frozenset[str] = frozenset()
) -> tuple[Clause, ...]:
    clauses = []
    for spec in specs:
        sources = (spec,) if isinstance(spec, str) else spec
        compiled = [_compile(tag, source) for source in sources]
        named = " ".join(sources).lower()
        gate = frozenset(stem for stem in triggers if stem.rstrip("$") in named)
        clauses.append(
            Clause(
                patterns=tuple(pattern for pattern, _ in compiled),
                cased=tuple(cased for _, cased in compiled),
                gate=gate or None,
            )
        )
    return tuple(clauses)


def _compile(tag: str, pattern: str) -> tuple[re.Pattern[str], bool]:
    # Patterns are case-insensitive. Those that switch case back on for a part ("(?-i:AM)")
    # or use an upper-case escape (\S, \W) are compiled so, and search the original text; the
    # rest are lowercased and search lowercased text, which is several times faster.
    cased = "(?-i:" in pattern or re.search(r"\\[A-Z]", pattern) is not None
    try:
        if cased:
            return re.compile(pattern, re.IGNORECASE), True
        return re.compile(pattern.lower()), False
    except re.error as error:
        where = f" at position {error.pos}" if error.pos is not None else ""
        raise ValueError(f"bad pattern for tag {tag!r}: {pattern!r}: {error.msg}{where}") from None


DEFAULT_RULES = build_rules()
