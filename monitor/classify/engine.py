"""The tag-rule engine: compiled clauses, per-tag rules and the matching of one sentence.

The rules themselves are data, in tags.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from . import tags
from .literals import literals_of
from .sections import HEADLINE, LEAD, SUBHEAD, Sentence
from .skip import skipping_pattern

_WORDS = re.compile(r"[a-z0-9]+")
_NO_STEMS: frozenset[str] = frozenset()
Search = Callable[[str], "re.Match[str] | None"]


@dataclass(frozen=True)
class Clause:
    """Regexes that must all match one sentence; the first one's match gives the position."""

    # The regexes as compiled: those that need the original case (`cased`) as written and
    # compiled ignoring case, the rest lowercased, compiled as they are and searching the
    # lowercased sentence. Each is compiled when a sentence first gets as far as searching it
    # (most never do in a short run: `biomon classify FILE` starts faster).
    sources: tuple[str, ...]
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
    # The literal sets of every step, in order, each as (cased, literals, atoms, exact, short):
    # `atoms` are words, or parts of words, one of which any literal of the set but those in
    # `short` holds (None: no literal has one), so that a sentence whose words hold none of
    # them (a set test on TagRules.stems_in) lacks every literal but the short ones; `exact`
    # when the atoms are the literals (`short` aside). `short`: the literals without an atom
    # ("mou" beside "memorandum of understanding"), tested one by one.
    checks: tuple[
        tuple[bool, tuple[str, ...], frozenset[str] | None, bool, tuple[str, ...]], ...
    ] = field(init=False, compare=False, repr=False)
    # The first literal set's atoms (None: it has none, or short literals): the test that
    # rules most sentences out, made in `first_match` before calling `find`.
    lead_atoms: frozenset[str] | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The first pattern's literals are tested on every sentence that passes the gate, the
        # others' only when the first's are there: they may be more.
        steps = tuple(
            (_LazySearch(self, i), cased, None if cased else literals_of(*key))
            for i, (cased, key) in enumerate(zip(self.cased, self._keys(), strict=True))
        )
        object.__setattr__(self, "steps", steps)
        checks = tuple(
            (cased, literals, *_atoms(literals))
            for _, cased, required in steps
            for literals in required or ()
        )
        object.__setattr__(self, "checks", checks)
        lead = checks[0][2] if checks and not checks[0][4] else None
        object.__setattr__(self, "lead_atoms", lead)

    def atoms(self) -> frozenset[str]:
        """Every atom of this clause's literal sets (see `checks`)."""
        return frozenset().union(*(atoms for _, _, atoms, _, _ in self.checks if atoms))

    @property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """The compiled regexes."""
        pairs = zip(self.sources, self.cased, strict=True)
        return tuple(_compiled(source, cased) for source, cased in pairs)

    def literal_keys(self) -> list[tuple[str, int, int, int]]:
        """The literals.TABLE keys of the patterns that search the lowercased sentence."""
        return [key for key, cased in zip(self._keys(), self.cased, strict=True) if not cased]

    def _keys(self) -> list[tuple[str, int, int, int]]:
        return [(source, 0, 100 if i else 40, 3) for i, source in enumerate(self.sources)]

    def _compile_step(self, index: int) -> Search:
        """Compile pattern `index`, put its search in `steps` in place of the stand-in."""
        search = _skipping(self.sources[index], self.cased[index]).search
        steps = list(self.steps)
        _, cased, required = steps[index]
        steps[index] = (search, cased, required)
        object.__setattr__(self, "steps", tuple(steps))
        return search

    def match(self, text: str, lower: str, present: frozenset[str] | None = None) -> int | None:
        """Start of the match in the sentence (`lower` is `text` lowercased), or None.

        `present`: the sentence's TagRules.stems_in(lower), of the rules this clause is in.
        """
        if self.gate is not None and present is not None and self.gate.isdisjoint(present):
            return None
        return self.find(text, lower, present)

    def find(self, text: str, lower: str, present: frozenset[str] | None = None) -> int | None:
        """`match` without the gate test."""
        # Atoms are only known in a set from TagRules.stems_in, which holds ATOMS_KNOWN ("").
        words = present if present is not None and "" in present else None
        for cased, literals, atoms, exact, short in self.checks:
            target = text if cased else lower
            if words is not None and atoms is not None:
                if atoms.isdisjoint(words):
                    # No word holds an atom: no literal is there but a short one.
                    for literal in short:
                        if literal in target:
                            break
                    else:
                        return None
                    continue
                if exact:
                    continue
            for literal in literals:  # holds_each(target, (literals,)), inlined: hot
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


_ALNUM_RUN = re.compile(r"[a-z0-9]+")
# In every set TagRules.stems_in gives (no stem or atom is empty): its atoms are there too.
ATOMS_KNOWN = frozenset({""})
_MIN_ATOM = 3  # atoms are longer (measured: 2 and 4 are slower)
# A set with more literals without an atom is tested literal by literal: the atom test would
# rule out little.
_MAX_SHORT = 3


def _atoms(
    literals: tuple[str, ...],
) -> tuple[frozenset[str] | None, bool, tuple[str, ...]]:
    """The atoms of a literal set, whether they are the literals, and the literals without
    one (see Clause.checks).

    A literal's longest run of letters and digits ("sale" of "sale ") lies, wherever the
    literal is in a sentence, inside one word of it (TagRules.stems_in finds the atoms that
    are in some word).
    """
    atoms, short, long = set(), [], []
    for literal in literals:
        runs = _ALNUM_RUN.findall(literal)
        atom = max(runs, key=len, default="")
        if len(atom) <= _MIN_ATOM:
            # No atom; or a short one ("in", "co", "for") that most sentences hold, which
            # would rule little out and make every set stems_in gives bigger.
            short.append(literal)
        else:
            atoms.add(atom)
            long.append(literal)
    if not atoms or len(short) > _MAX_SHORT:
        return None, False, ()  # every literal is tested
    exact = all(_ALNUM_RUN.fullmatch(literal) for literal in long)
    return frozenset(atoms), exact, tuple(short)


class _LazySearch:
    """Stands in for a clause pattern's search until first called: compiles it then."""

    __slots__ = ("clause", "index")

    def __init__(self, clause: Clause, index: int) -> None:
        self.clause, self.index = clause, index

    def __call__(self, text: str) -> re.Match[str] | None:
        return self.clause._compile_step(self.index)(text)


def _compiled(source: str, cased: bool) -> re.Pattern[str]:
    return re.compile(source, re.IGNORECASE) if cased else re.compile(source)


def _skipping(source: str, cased: bool) -> re.Pattern[str]:
    """`_compiled(source, cased)`, or for its search (`find` reads only where a match starts)
    the same search made faster (see skip.py)."""
    return (None if cased else skipping_pattern(source)) or _compiled(source, cased)


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
    # Stems and atoms one of which a lead or body sentence must hold for a strong or event
    # clause to get past its gate and first literal test (None: some clause always does);
    # without one, `earns` is None there without trying each clause.
    body_keys: frozenset[str] | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        keys: set[str] = set()
        for clause in self.strong + self.event:
            key = clause.lead_atoms if clause.lead_atoms is not None else clause.gate
            if key is None:
                object.__setattr__(self, "body_keys", None)
                return
            keys |= key
        object.__setattr__(self, "body_keys", frozenset(keys))

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
            if position is None or first_match(self.veto, text, lower, present) is not None:
                return None
            return position
        if sentence.zone != LEAD and not self.deep:
            return None
        keys = self.body_keys  # atoms are only known in a set from stems_in (ATOMS_KNOWN)
        if keys is not None and present is not None and "" in present and keys.isdisjoint(present):
            return None
        # A sentence's dated_before is worked out only once a clause matches (it costs more
        # than most clauses' tests): each test below as if it came first.
        if self.strong:
            position = first_match(self.strong, text, lower, present)
            if (
                position is not None
                and not sentence.dated_before
                and first_match(self.veto, text, lower, present) is None
            ):
                return position
        if sentence.quoted and "quote" in self.shared:
            return None
        position = first_match(self.event, text, lower, present)
        if position is None or ("dated" in self.shared and sentence.dated_before):
            return None
        if first_match(self.veto, text, lower, present) is not None:
            return None
        if any(
            first_match(shared.get(name, ()), text, lower, present) is not None
            for name in self.shared
        ):
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
    # word, and whitespace-separated token ("(nasdaq:"), -> the trigger stems and atoms it
    # carries; filled as they are met (caches: same answers). Each instance has its own.
    _word_stems: dict[str, frozenset[str]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    _token_stems: dict[str, frozenset[str]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    # What a word is looked up for: trigger stems ("licen": any word holding it) and the
    # clauses' atoms (the same), by length; whole-word stems ("co$": the word "co").
    _parts: frozenset[str] = field(init=False, compare=False, repr=False)
    _part_lengths: tuple[int, ...] = field(init=False, compare=False, repr=False)
    _whole_words: frozenset[str] = field(init=False, compare=False, repr=False)
    # Every rule's trigger stems, and the rules that the trigger stems of a sentence call up
    # (in the order of `rules`), by those stems: filled as they are met (a cache).
    _trigger_stems: frozenset[str] = field(init=False, compare=False, repr=False)
    _triggered: dict[frozenset[str], tuple[TagRule, ...]] = field(
        init=False, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        parts: set[str] = set()
        whole: set[str] = set()
        stems: set[str] = set()  # trigger stems
        for rule in self.rules:
            stems.update(rule.triggers or ())
            for stem in rule.triggers or ():
                (whole if stem.endswith("$") else parts).add(stem)
            for clauses in (rule.mention, rule.event, rule.veto, rule.strong):
                parts.update(*(clause.atoms() for clause in clauses))
        for _, clauses in self.shared:
            parts.update(*(clause.atoms() for clause in clauses))
        object.__setattr__(self, "_parts", frozenset(parts))
        object.__setattr__(self, "_part_lengths", tuple(sorted({len(part) for part in parts})))
        object.__setattr__(self, "_whole_words", frozenset(whole))
        object.__setattr__(self, "_trigger_stems", frozenset(stems))
        # A copy made with dataclasses.replace must not share the caches: its rules may differ.
        object.__setattr__(self, "_word_stems", {})
        object.__setattr__(self, "_token_stems", {})
        object.__setattr__(self, "_triggered", {})

    @property
    def shared_vetoes(self) -> dict[str, tuple[Clause, ...]]:
        return dict(self.shared)

    def triggered(self, present: frozenset[str]) -> tuple[TagRule, ...]:
        """The rules, in order, that `present` (a sentence's stems_in) triggers: those with a
        trigger stem in it or none at all (`TagRule.is_triggered`). One look-up by the trigger
        stems in it instead of a set test per rule."""
        key = present & self._trigger_stems
        cache = self._triggered
        try:
            return cache[key]
        except KeyError:
            if len(cache) > 100_000:
                cache.clear()
            found = cache[key] = tuple(rule for rule in self.rules if rule.is_triggered(key))
            return found

    def stems_in(self, lower: str) -> frozenset[str]:
        """The trigger stems (of any tag) that the lowercased text carries, and the atoms of
        the clauses' literal sets that its words hold (see Clause.checks)."""
        # Words never span whitespace, so a token's words are its own: split() and one look-up
        # per token (C-level loops, map() too; this runs for every sentence) instead of a
        # regex scan.
        cache = self._token_stems
        tokens = lower.split()
        try:
            return ATOMS_KNOWN.union(*map(cache.__getitem__, tokens))
        except KeyError:  # tokens not met before: work their stems out once
            if len(cache) > 100_000:
                cache.clear()
            known = [cache[token] if token in cache else self._token(token) for token in tokens]
        return ATOMS_KNOWN.union(*known)

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
        # Each part of the word of a length some stem or atom has, looked up: "stem in word"
        # for every stem and atom, in fewer steps.
        parts = self._parts
        size = len(word)
        found = {
            word[start : start + length]
            for length in self._part_lengths
            if length <= size
            for start in range(size - length + 1)
        }
        found &= parts
        if word + "$" in self._whole_words:
            found.add(word + "$")
        stems = frozenset(found)
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
        atoms = clause.lead_atoms  # find's first test, inlined
        if atoms is not None and present is not None and atoms.isdisjoint(present):
            if "" in present:  # ATOMS_KNOWN: the atoms are known to be missing
                continue
        found = clause.find(text, lower, present)
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
        clauses.extend(_compile_all(tag, [pattern], check=True))
    return tuple(clauses)


def _compile_all(
    tag: str,
    specs: Iterable[str | tuple[str, ...]],
    triggers: frozenset[str] = frozenset(),
    check: bool = False,
) -> tuple[Clause, ...]:
    """The clauses of `specs`; with `check`, each pattern is compiled now so that a bad one is
    a ValueError here (the built-in ones are compiled on first use)."""
    clauses = []
    for spec in specs:
        sources = (spec,) if isinstance(spec, str) else spec
        compiled = [_source(tag, source, check) for source in sources]
        named = " ".join(sources).lower()
        gate = frozenset(stem for stem in triggers if stem.rstrip("$") in named)
        clauses.append(
            Clause(
                sources=tuple(source for source, _ in compiled),
                cased=tuple(cased for _, cased in compiled),
                gate=gate or None,
            )
        )
    return tuple(clauses)


def _source(tag: str, pattern: str, check: bool = False) -> tuple[str, bool]:
    # Patterns are case-insensitive. Those that switch case back on for a part ("(?-i:AM)")
    # or use an upper-case escape (\S, \W) are compiled so, and search the original text; the
    # rest are lowercased and search lowercased text, which is several times faster.
    cased = "(?-i:" in pattern or re.search(r"\\[A-Z]", pattern) is not None
    source = pattern if cased else pattern.lower()
    if check:
        try:
            _compiled(source, cased)
        except re.error as error:
            where = f" at position {error.pos}" if error.pos is not None else ""
            message = f"bad pattern for tag {tag!r}: {pattern!r}: {error.msg}{where}"
            raise ValueError(message) from None
    return source, cased


DEFAULT_RULES = build_rules()
