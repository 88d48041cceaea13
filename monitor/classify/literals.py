"""Literal strings a regex cannot match without: a substring test that rules a search out.

A search costs microseconds per sentence even when nothing matches (a leading \\b or an
alternation leaves the regex engine no literal to skip to); `in` costs tens of nanoseconds.

Working the literals out parses each regex (tens of milliseconds for all the rules: a third of
`biomon classify`'s start), so those of the built-in rules are looked up in a table written by
`python -m monitor.classify.make_literal_table` (literal_table.py; a test checks it against the
computation); a pattern the table lacks (a user's, or a rule changed since) is worked out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from re import _constants as sre_constants
from re import _parser as sre_parse

from .literal_table import TABLE_JSON

_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def required_literals(
    pattern: re.Pattern[str], limit: int = 40, most: int = 3
) -> tuple[tuple[str, ...], ...] | None:
    """Sets of literals such that every match of `pattern` holds one literal of each set (the
    `most` most selective sets, each of at most `limit` literals, shortest first); None when
    the pattern ignores case or names no such set."""
    return literals_of(pattern.pattern, pattern.flags, limit, most)


Literals = tuple[tuple[str, ...], ...]
TABLE: dict[tuple[str, int, int, int], Literals | None] = {
    tuple(key): tuple(map(tuple, value)) if value else None for key, value in json.loads(TABLE_JSON)
}


def literals_of(source: str, flags: int = 0, limit: int = 40, most: int = 3) -> Literals | None:
    """`required_literals(re.compile(source, flags), limit, most)` without compiling: from the
    table when it holds the pattern, else worked out."""
    key = (source, flags, limit, most)
    if key in TABLE:
        return TABLE[key]
    return _required(source, flags, limit, most)


def _required(source: str, flags: int, limit: int, most: int) -> Literals | None:
    try:
        parsed = sre_parse.parse(source, flags)
    except Exception:  # CPython's own parser: where it differs, do without
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    found = []
    for literals in _sequence(parsed):
        # A literal that holds another is implied by it: "plan" covers "plans" and "planned".
        kept = tuple(
            sorted(
                (a for a in literals if not any(b != a and b in a for b in literals)),
                key=lambda a: (len(a), a),  # the same order in every process (sets are not)
            )
        )
        if len(kept) <= limit and kept not in found:
            found.append(kept)
    found.sort(key=_selectivity, reverse=True)
    return tuple(found[:most]) or None


def holds_each(text: str, required: tuple[tuple[str, ...], ...]) -> bool:
    """Whether `text` holds a literal of each set of `required`."""
    for literals in required:
        for literal in literals:
            if literal in text:
                break
        else:
            return False
    return True


def _sequence(items: Iterable[tuple]) -> list[set[str]]:
    """Literal sets each of which a match of the parsed sequence holds one of (every part of a
    sequence must match, so each part's sets are required)."""
    found: list[set[str]] = []
    run: set[str] = {""}  # the strings the parts since the last inexact one can spell
    for op, arg in [*items, (None, None)]:
        exact = _exact(op, arg)
        if exact is not None and len(run) * len(exact) <= _MAX_SPELLINGS:
            run = {head + tail for head in run for tail in exact}
            continue
        if "" not in run:
            found.append(run)
        run = exact if exact is not None else {""}
        if exact is not None:
            continue
        if op is sre_constants.SUBPATTERN and not arg[1] & re.IGNORECASE:
            found += _sequence(arg[3])
        elif op is sre_constants.ATOMIC_GROUP:
            found += _sequence(arg)
        elif op in _REPEATS and arg[0] >= 1:
            found += _sequence(arg[2])
        elif op is sre_constants.BRANCH:
            # a set of each branch (its most selective): one of them is in any match
            branches = [max(_sequence(branch), key=_selectivity, default=None) for branch in arg[1]]
            if all(branches):
                found.append(set().union(*branches))
    return found


_MAX_SPELLINGS = 16


def _exact(op: object, arg: object) -> set[str] | None:
    """Every string one parsed part can match, when they are few; None otherwise."""
    if op is sre_constants.LITERAL:
        return {chr(arg)}
    if op is sre_constants.AT:  # \b, ^, $: they match no characters
        return {""}
    if op is sre_constants.IN:
        if len(arg) <= 4 and all(kind is sre_constants.LITERAL for kind, _ in arg):
            return {chr(char) for _, char in arg}
        return None
    if op is sre_constants.SUBPATTERN and not arg[1] & re.IGNORECASE:
        return _exact_sequence(arg[3])
    if op is sre_constants.BRANCH:
        branches = [_exact_sequence(branch) for branch in arg[1]]
        if all(branch is not None for branch in branches):
            spellings = set().union(*branches)
            return spellings if len(spellings) <= _MAX_SPELLINGS else None
        return None
    if op in _REPEATS and arg[1] <= 1:
        inner = _exact_sequence(arg[2])
        if inner is not None and arg[0] == 0:
            return inner | {""}
        return inner
    return None


def _exact_sequence(items: Iterable[tuple]) -> set[str] | None:
    spellings = {""}
    for op, arg in items:
        exact = _exact(op, arg)
        if exact is None or len(spellings) * len(exact) > _MAX_SPELLINGS:
            return None
        spellings = {head + tail for head in spellings for tail in exact}
    return spellings


def _selectivity(literals: Iterable[str]) -> tuple[int, bool, int]:
    """Longer literals are rarer; at equal length, symbols ("=", "<") are rarer than letters,
    spaces and stops; and fewer literals are cheaper to test."""
    literals = list(literals)
    symbols = not any(char.isalpha() or char in " .," for literal in literals for char in literal)
    return min(map(len, literals)), symbols, -len(literals)
