"""Searches that skip to where a match can start.

A regex that opens on "\\b" or a group ("\\b(?:licen[cs]e|option)") leaves the regex engine no
character to skip to: its search tries the pattern at every character of the text. Where every
match starts with one of a few characters, the same search is written to open on the class of
them ("[lo](?<=(?=SOURCE).)": a first character, then SOURCE must match from its place), which
the engine skips to. Only where the match starts is the same: the match found is that one
character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

try:  # the standard library's own regex parser (3.11+); without it, searches stay as written
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - a Python that moved them
    sre_constants = sre_parse = None

_MAX_FIRSTS = 40  # characters: with more, the engine would stop at most characters anyway
_SAFE_FLAGS = re.MULTILINE | re.DOTALL  # flags that mean the same inside a lookahead


def skipping_pattern(source: str, flags: int = 0) -> re.Pattern[str] | None:
    """A pattern whose search starts where `re.compile(source, flags)`'s does (and its match is
    that match's first character); None when that cannot be worked out (the pattern ignores
    case, can match the empty string, or can start with many characters)."""
    if sre_parse is None or flags & ~_SAFE_FLAGS:
        return None
    try:
        parsed = sre_parse.parse(source, flags)
    except re.error:
        return None
    if parsed.state.flags != flags | re.UNICODE:  # an inline flag: "(?i)..."
        return None
    firsts, empty = first_characters(parsed)
    if not firsts or empty or len(firsts) > _MAX_FIRSTS:
        return None
    characters = "".join(re.escape(character) for character in sorted(firsts))
    return re.compile(f"[{characters}](?<=(?={source})(?s:.))", flags)


def first_characters(items: Iterable, *, fold: bool = False) -> tuple[set[str] | None, bool]:
    """The characters a match of the parsed pattern `items` can start with (None: not known, as
    after \\w or any character), and whether it can match the empty string.

    Exact by default: a group with flags of its own is not known. `fold`: the ASCII characters
    in lower case, a superset (for a case-blind pattern): groups' flags rule out nothing, and a
    class may hold digits and spaces."""
    found: set[str] = set()
    for op, arg in items:
        first: set[str] | None
        if op is sre_constants.LITERAL:
            first, empty = {chr(arg).lower() if fold else chr(arg)}, False
        elif op is sre_constants.IN:
            first, empty = _class_characters(arg, fold), False
        elif op is sre_constants.SUBPATTERN and (fold or (not arg[1] and not arg[2])):
            first, empty = first_characters(arg[3], fold=fold)
        elif op is sre_constants.BRANCH:
            first, empty = set(), False
            for branch in arg[1]:
                branch_first, branch_empty = first_characters(branch, fold=fold)
                if branch_first is None:
                    return None, True
                first |= branch_first
                empty = empty or branch_empty
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            first, empty = first_characters(arg[2], fold=fold)
            empty = empty or arg[0] == 0
        elif op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            first, empty = set(), True  # zero width: the next item starts the match
        else:  # any character, a back reference, a group with flags...: not known
            return None, True
        if first is None:
            return None, True
        found |= first
        if not empty:
            return found, False
    return found, True


_DIGITS = set("0123456789")
_SPACES = set(" \t\n\r\f\v\x1c\x1d\x1e\x1f\x85")


def _class_characters(items: list, fold: bool) -> set[str] | None:
    """The characters a parsed class [...] matches; None when many or not known (`fold`: the
    ASCII ones in lower case, digits and spaces included)."""
    found: set[str] = set()
    for op, arg in items:
        if op is sre_constants.LITERAL:
            found.add(chr(arg).lower() if fold else chr(arg))
        elif op is sre_constants.RANGE and fold:
            found |= {chr(c).lower() for c in range(arg[0], min(arg[1], 127) + 1)}
        elif op is sre_constants.RANGE and arg[1] - arg[0] < _MAX_FIRSTS:
            found.update(map(chr, range(arg[0], arg[1] + 1)))
        elif fold and op is sre_constants.CATEGORY and arg is sre_constants.CATEGORY_DIGIT:
            found |= _DIGITS
        elif fold and op is sre_constants.CATEGORY and arg is sre_constants.CATEGORY_SPACE:
            found |= _SPACES
        else:  # a negated class, \w...
            return None
    return found
