"""biomon's query language over the stored history, and the SQL that answers it.

    licens* "exclusive license" NOT terminated ticker:CLRB tag:licensing since:2023
    issuer:"Cellectar" source:globenewswire until:2024-06 watched:yes -tag:financing

One grammar for free text and filters (precedence NOT > AND > OR):

    query   := or
    or      := and ("OR" and)*
    and     := side ("AND" side)*
    side    := unary unary*                    terms side by side all apply
    unary   := ("NOT" | "-")* primary          negates the one term after it
    primary := word | word* | "phrase" | "phrase"* | field:value | field:"value" | "(" or ")"

Words, prefix* and "phrases" are full-text search (FTS5: stemmed titles and bodies); field
filters are ticker: tag: source: issuer: since: until: watched:. Side by side, repeating
ticker, tag, source or issuer means any of them (`ticker:CLRB ticker:SNGX`); an explicit AND
means all of them. A query that starts with NOT (or -) means everything but. Bad input raises
QueryError saying where it is wrong.

A query becomes a ReleaseQuery: top-level conjuncts that fit its fields (a ticker, tag, source or
issuer filter or an OR of one field's filters, excluded tickers and tags, dates, full text) go
there and compile to intersected id sets, the fast form; anything else (ORs across fields,
negated groups, ...) stays a tree in `conditions` and compiles to SQL of its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import NamedTuple

from monitor.errors import BiomonError
from monitor.models import Ticker
from monitor.tickers import parse_ticker

FIELDS = ("ticker", "tag", "source", "issuer", "since", "until", "watched")
ANY_OF_FIELDS = ("ticker", "tag", "source", "issuer")  # repeated side by side: any of them
OPERATORS = ("AND", "OR", "NOT")
END_OF_TIME = "9999-12-31T23:59:60Z"  # after every stored time: `until:` with no end
HIGHLIGHT = ("\x02", "\x03")  # snippet markers, turned into styles or ** by the formatter
MAX_DEPTH = 100  # parentheses inside parentheses
MAX_NESTING = 12  # alternating AND/OR/NOT groups that SQLite's parsers take (after flattening)
MAX_TERMS = 10_000  # words, phrases and filters in one query


class QueryError(BiomonError):
    """A query that cannot be read; the message says where."""

    def __init__(self, query: str, position: int, problem: str) -> None:
        pointer = f"at column {position + 1}" if position >= 0 else "as a whole"
        super().__init__(f"query {query!r} {pointer}: {problem}")


# ---- the tree a query parses to


@dataclass(frozen=True)
class Text:
    """A full-text leaf: a quoted FTS5 phrase, maybe with a prefix star ("grant", "lic"*)."""

    fts: str


@dataclass(frozen=True)
class Field:
    """A field filter; `value` is a Ticker, a lower-cased tag or source, an issuer substring,
    an ISO instant (since: inclusive, until: exclusive) or a bool (watched:)."""

    name: str
    value: object


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Text | Field | Not | And | Or


def _and(items: Iterable[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.children if isinstance(item, And) else (item,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(items: Iterable[Node]) -> Node:
    flat: list[Node] = []
    for item in items:
        flat.extend(item.children if isinstance(item, Or) else (item,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def _not(item: Node) -> Node:
    return item.child if isinstance(item, Not) else Not(item)


@dataclass(frozen=True)
class ReleaseQuery:
    """A query in structured form: what `history` options and the query language both build."""

    tickers: Sequence[Ticker] = ()  # any of these
    exclude_tickers: Sequence[Ticker] = ()
    tags: Sequence[str] = ()  # any of these
    exclude_tags: Sequence[str] = ()
    sources: Sequence[str] = ()
    issuers: Sequence[str] = ()  # substrings, any of these
    since: str | None = None  # ISO UTC, inclusive
    until: str | None = None  # ISO UTC, exclusive
    search: str | None = None  # plain words for FTS (history --search): quoted safely
    fts: str | None = None  # a checked FTS5 expression (from the query language)
    watched: Sequence[Ticker] | None = None  # watched:yes -> these tickers; see watched_only
    watched_only: bool | None = None  # True: only watched tickers; False: none of them
    conditions: Sequence[Node] = ()  # further conditions (trees) that must all hold
    limit: int = 50
    offset: int = 0
    rank: str = "newest"  # newest | relevance

    def merged(self, other: ReleaseQuery) -> ReleaseQuery:
        """Both queries' conditions (the options of `history` plus its QUERY argument)."""
        return replace(
            self,
            tickers=(*self.tickers, *other.tickers),
            exclude_tickers=(*self.exclude_tickers, *other.exclude_tickers),
            tags=(*self.tags, *other.tags),
            exclude_tags=(*self.exclude_tags, *other.exclude_tags),
            sources=(*self.sources, *other.sources),
            issuers=(*self.issuers, *other.issuers),
            since=max(filter(None, [self.since, other.since]), default=None),
            until=min(filter(None, [self.until, other.until]), default=None),
            fts=" AND ".join(f"({e})" for e in (self.fts, other.fts) if e) or None,
            watched_only=other.watched_only
            if other.watched_only is not None
            else self.watched_only,
            conditions=(*self.conditions, *other.conditions),
        )

    @property
    def full_text(self) -> str | None:
        """The FTS5 expression every match must satisfy (None when there is none)."""
        parts = [e for e in (self.fts, fts_query(self.search) if self.search else None) if e]
        return (
            " AND ".join(f"({p})" for p in parts)
            if len(parts) > 1
            else (parts[0] if parts else None)
        )

    @property
    def snippet_text(self) -> str | None:
        """What to highlight: the required full text, else the words the conditions look for."""
        if self.full_text:
            return self.full_text
        leaves = list(dict.fromkeys(_positive_text(self.conditions)))
        return " OR ".join(leaves) or None


def _positive_text(nodes: Iterable[Node], negated: bool = False) -> Iterable[str]:
    for node in nodes:
        if isinstance(node, Text):
            if not negated:
                yield node.fts
        elif isinstance(node, Not):
            yield from _positive_text((node.child,), not negated)
        elif isinstance(node, And | Or):
            yield from _positive_text(node.children, negated)


# ---- reading the text

_SPACE = re.compile(r"\s*")
_WORD = re.compile(r'[^\s()"]+')
_FIELD_NAME = re.compile(r"([A-Za-z_]+):")


class _Token(NamedTuple):
    kind: str  # "leaf", "(", ")", "AND", "OR", "NOT"
    column: int
    node: Node | None = None
    spelled: str = ""  # an operator as written ("NOT" or "-")


def _clean(text: str) -> str:
    """Control and format characters (NUL, BOM, zero-width ...) read as spaces, one for one."""
    if text.isprintable():
        return text
    chars = list(text)
    for index, char in enumerate(chars):
        if char.isprintable() or char.isspace():
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cf"):
            chars[index] = " "
        elif category == "Cs":
            raise QueryError(
                text, index, f"U+{ord(char):04X} is not a character; the query must be UTF-8 text"
            )
    return "".join(chars)


def _searchable(word: str) -> bool:
    """Whether full-text search can find `word`: it indexes runs of letters and digits."""
    return any(c.isalnum() or unicodedata.category(c) == "Co" for c in word)


def _scan(text: str) -> list[_Token]:
    clean = _clean(text)
    tokens: list[_Token] = []
    terms = 0
    skipped = -1  # column of the first word with nothing to search for
    position, end = 0, len(clean)
    literal = False  # right after a leading '-': the next word is a word even if it is AND
    while True:
        position = _SPACE.match(clean, position).end()
        if position >= end:
            break
        start, char = position, clean[position]
        if char in "()":
            tokens.append(_Token(char, start))
            position += 1
            literal = False
            continue
        if (
            char == "-"
            and not literal
            and position + 1 < end
            and not clean[position + 1].isspace()
            and clean[position + 1] != ")"
        ):
            tokens.append(_Token("NOT", start, spelled="-"))
            position += 1
            literal = True
            continue
        node, position = _operand(text, clean, position, literal)
        if isinstance(node, str):  # an operator
            tokens.append(_Token(node, start, spelled=node))
        elif node is None:  # punctuation only: nothing to search for; skip it like a space
            skipped = start if skipped < 0 else skipped
            if literal:
                tokens.pop()  # and the '-' before it
        else:
            terms += 1
            if terms > MAX_TERMS:
                raise QueryError(text, start, f"too many terms; at most {MAX_TERMS:,}")
            tokens.append(_Token("leaf", start, node))
        literal = False
    if not tokens and skipped >= 0:
        raise QueryError(
            text, skipped, "nothing to search for; full text finds words of letters and digits"
        )
    return tokens


def _operand(text: str, clean: str, position: int, literal: bool) -> tuple[Node | str | None, int]:
    """The word, phrase, filter or operator at `position`, and where it ends."""
    start = position
    if clean[position] == '"':
        close = clean.find('"', position + 1)
        if close < 0:
            raise QueryError(text, position, "unclosed quote")
        inner = " ".join(clean[position + 1 : close].split())
        star = clean[close + 1 : close + 2] == "*"
        if not inner:
            raise QueryError(text, position, "empty phrase")
        if not _searchable(inner):
            raise QueryError(
                text, position, "nothing to search for in this phrase; it needs letters or digits"
            )
        return Text('"' + inner + '"' + ("*" if star else "")), close + 1 + star
    named = _FIELD_NAME.match(clean, position)
    if named:
        name = named.group(1).lower()
        at = named.end()
        if clean[at : at + 1] == '"':
            close = clean.find('"', at + 1)
            if close < 0:
                raise QueryError(text, at, "unclosed quote")
            value, value_column, after = clean[at + 1 : close].strip(), at + 1, close + 1
            quoted = True
        else:
            word = _WORD.match(clean, at)
            value, value_column = (word.group(), at) if word else ("", at)
            after, quoted = (word.end() if word else at), False
        if name not in FIELDS:
            if value or quoted:
                raise QueryError(
                    text,
                    start - literal,
                    f"unknown field {name!r}; fields are {', '.join(FIELDS)} "
                    "(quote text that has a colon)",
                )
            # `Update: results` - a word that ends with a colon, not a filter
        else:
            if not value:
                raise QueryError(
                    text,
                    start - literal,
                    f"empty value for {name}:; write {name}:VALUE with no space after the colon",
                )
            return _field(name, value, text, value_column), after
    word = _WORD.match(clean, position).group()
    if word in OPERATORS and not literal:
        return word, position + len(word)
    bare = word.rstrip("*")
    if not bare or (bare != word and not _searchable(bare)):
        raise QueryError(text, position, "a * must end a word (prefix*)")
    if not _searchable(bare):
        return None, position + len(word)
    return Text('"' + bare + '"' + ("*" if bare != word else "")), position + len(word)


def _field(name: str, value: str, text: str, column: int) -> Field:
    if name == "ticker":
        ticker = parse_ticker(value)
        if ticker is None:
            raise QueryError(text, column, f"{value!r} is not a ticker")
        return Field(name, ticker)
    if name == "source":
        return Field(name, _source_name(value, text, column))
    if name == "tag":
        return Field(name, value.lower())
    if name in ("since", "until"):
        return Field(name, _day(value, text, column, start=name == "since"))
    if name == "watched":
        if value.lower() not in ("yes", "no", "true", "false"):
            raise QueryError(text, column, "watched: takes yes or no")
        return Field(name, value.lower() in ("yes", "true"))
    return Field(name, value)  # issuer


def _source_name(value: str, text: str, column: int) -> str:
    """A wire's name (`source:prnewswire`); a name no wire has is a query error naming them."""
    from monitor.sources import SOURCE_NAMES

    name = value.lower()
    if name not in SOURCE_NAMES:
        raise QueryError(
            text, column, f"unknown source {value!r}; sources are {', '.join(SOURCE_NAMES)}"
        )
    return name


def _day(value: str, text: str, column: int, start: bool) -> str:
    """`2023`, `2023-06` or `2023-06-15` -> the ISO instant it starts (since) or ends (until)."""
    import calendar  # here, as sqlite3 in run_query: loading a config parses its queries

    try:
        if re.fullmatch(r"[0-9]{4}", value):
            first, last = date(int(value), 1, 1), date(int(value), 12, 31)
        elif re.fullmatch(r"[0-9]{4}-[0-9]{1,2}", value):
            year, month = (int(p) for p in value.split("-"))
            first = date(year, month, 1)
            last = first.replace(day=calendar.monthrange(year, month)[1])
        else:
            first = last = date.fromisoformat(value)
    except (ValueError, OverflowError):
        raise QueryError(
            text,
            column,
            f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD (years 0001 to 9999)",
        ) from None
    if start:
        return f"{first.isoformat()}T00:00:00Z"
    if last == date.max:
        return END_OF_TIME  # the calendar's last day: no end, as `--until 9999-12-31` means
    return f"{(last + timedelta(days=1)).isoformat()}T00:00:00Z"


# ---- parsing


class _Parser:
    """Recursive descent over the tokens: or -> and -> side -> unary -> primary."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text, self.tokens, self.index = text, tokens, 0
        self.levels: dict[int, int] = {}  # id(node) -> its nesting (see `nesting`)

    def parse(self) -> Node:
        node = self.or_(0)
        if self.index < len(self.tokens):  # only a ')' can be left over
            raise QueryError(self.text, self.tokens[self.index].column, "')' without '('")
        self.check_nesting(node, self.tokens[0].column)
        return node

    def nesting(self, node: Node) -> int:
        """Groups in groups once redundant parentheses are gone: AND in OR in NOT in ..."""
        if isinstance(node, Text | Field):
            return 0
        level = self.levels.get(id(node))
        if level is None:
            if isinstance(node, Not):
                level = self.nesting(node.child) + (not isinstance(node.child, Text | Field))
            else:
                level = 1 + max(self.nesting(child) for child in node.children)
            self.levels[id(node)] = level
        return level

    def check_nesting(self, node: Node, column: int) -> None:
        # SQLite's parsers (SQL and FTS5) have fixed stacks: a subquery or two per level.
        if self.nesting(node) > MAX_NESTING:
            raise QueryError(
                self.text,
                column,
                f"groups nested more than {MAX_NESTING} deep from here; simplify the query",
            )

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def or_(self, depth: int) -> Node:
        items = [self.and_(depth)]
        while (token := self.peek()) and token.kind == "OR":
            self.index += 1
            items.append(self.and_(depth))
        return _or(items)

    def and_(self, depth: int) -> Node:
        items = [self.side(depth)]
        while (token := self.peek()) and token.kind == "AND":
            self.index += 1
            items.append(self.side(depth))
        return _and(items)

    def side(self, depth: int) -> Node:
        items = [self.unary(depth)]
        while (token := self.peek()) and token.kind in ("leaf", "(", "NOT"):
            items.append(self.unary(depth))
        return _and(_any_of_repeated(items))

    def unary(self, depth: int) -> tuple[Node, bool]:
        """A term, and whether it was a bare filter (not negated, not in parentheses)."""
        negations = 0
        while (token := self.peek()) and token.kind == "NOT":
            self.index += 1
            negations += 1
        self.expect_term()
        bare = not negations and self.tokens[self.index].kind == "leaf"
        node = self.primary(depth)
        return (_not(node) if negations % 2 else node), bare and isinstance(node, Field)

    def expect_term(self) -> None:
        token = self.peek()
        if token and token.kind in ("leaf", "("):
            return
        previous = self.tokens[self.index - 1] if self.index else None
        if previous and previous.kind == "NOT":
            raise QueryError(
                self.text, previous.column, f"{previous.spelled} needs a term after it"
            )
        if token and token.kind in ("AND", "OR"):
            raise QueryError(self.text, token.column, f"{token.kind} needs a term before it")
        if previous is None:  # a ')' first
            raise QueryError(self.text, token.column, "')' without '('")
        if previous.kind == "(":
            if token is None:
                raise QueryError(self.text, previous.column, "'(' without ')'")
            raise QueryError(self.text, previous.column, "nothing between '(' and ')'")
        raise QueryError(self.text, previous.column, f"{previous.kind} needs a term after it")

    def primary(self, depth: int) -> Node:
        token = self.tokens[self.index]
        self.index += 1
        if token.kind == "leaf":
            return token.node
        if depth >= MAX_DEPTH:
            raise QueryError(
                self.text, token.column, f"parentheses nested more than {MAX_DEPTH} deep"
            )
        node = self.or_(depth + 1)
        closing = self.peek()
        if not closing or closing.kind != ")":
            raise QueryError(self.text, token.column, "'(' without ')'")
        self.index += 1
        self.check_nesting(node, token.column)
        return node


def _any_of_repeated(items: list[tuple[Node, bool]]) -> list[Node]:
    """Side by side, `tag:a tag:b` means either tag (and so for ticker, source, issuer)."""
    groups: dict[str, list[Node]] = {}
    result: list[Node | list[Node]] = []
    for item, bare in items:
        if bare and item.name in ANY_OF_FIELDS:
            if item.name in groups:
                groups[item.name].append(item)
                continue
            groups[item.name] = [item]
            result.append(groups[item.name])
        else:
            result.append(item)
    return [_or(item) if isinstance(item, list) else item for item in result]


def parse_query(text: str, tag_problem: Callable[[str], str | None] | None = None) -> ReleaseQuery:
    """Read a query string; raise QueryError naming the column of the first problem.

    `tag_problem` (tag -> why it is no known tag, or None) refuses a mistyped `tag:` value
    ("unknown tag 'grnat'; did you mean 'grant'?") instead of letting it match nothing.
    """
    text = text or ""
    tokens = _scan(text)
    if not tokens:
        return ReleaseQuery()
    if tag_problem is not None:
        for token in tokens:
            node = token.node
            if isinstance(node, Field) and node.name == "tag":
                problem = tag_problem(str(node.value))
                if problem:
                    raise QueryError(text, token.column, problem)
    try:
        node = _Parser(text, tokens).parse()
    except RecursionError:  # MAX_DEPTH keeps well inside Python's limit; this is a backstop
        raise QueryError(text, -1, "nested too deeply") from None
    return _build(node)


def _one_field(node: Node) -> tuple[str | None, list]:
    """`tag:a` or `tag:a OR tag:b` -> ("tag", ["a", "b"]); anything else -> (None, [])."""
    if isinstance(node, Field):
        return node.name, [node.value]
    if isinstance(node, Or) and all(isinstance(c, Field) for c in node.children):
        names = {c.name for c in node.children}
        if len(names) == 1:
            return names.pop(), [c.value for c in node.children]
    return None, []


def _build(node: Node) -> ReleaseQuery:
    """The top-level conjuncts into ReleaseQuery's fields (the fast form) where they fit."""
    slots: dict[str, list] = {}
    excluded: dict[str, list] = {"ticker": [], "tag": []}
    since: list[str] = []
    until: list[str] = []
    watched: bool | None = None
    positive, negative = [], []  # full text required, full text excluded
    excluded_text: list[Node] = []  # the NOT conjuncts behind `negative`
    rest: list[Node] = []  # conjuncts that do not fit the fields: ReleaseQuery.conditions
    for conjunct in node.children if isinstance(node, And) else (node,):
        name, values = _one_field(conjunct)
        if name in ANY_OF_FIELDS and name not in slots:
            slots[name] = values
            continue
        if isinstance(conjunct, Field) and conjunct.name in ("since", "until"):
            (since if conjunct.name == "since" else until).append(conjunct.value)
            continue
        if isinstance(conjunct, Field) and conjunct.name == "watched":
            if watched is None or watched == conjunct.value:
                watched = conjunct.value
                continue
        if isinstance(conjunct, Not):
            name, values = _one_field(conjunct.child)
            if name in excluded:
                excluded[name].extend(values)
                continue
        part = _compile(conjunct, None)
        if part.kind == "fts":
            positive.append(part.text)
        elif part.kind == "notfts":
            negative.append(part.text)
            excluded_text.append(conjunct)
        else:
            rest.append(conjunct)
    if negative and not positive:  # everything but: one NOT MATCH for all of them
        rest.append(_and(excluded_text))
        negative = []
    return ReleaseQuery(
        tickers=tuple(slots.get("ticker", ())),
        exclude_tickers=tuple(excluded["ticker"]),
        tags=tuple(slots.get("tag", ())),
        exclude_tags=tuple(excluded["tag"]),
        sources=tuple(slots.get("source", ())),
        issuers=tuple(slots.get("issuer", ())),
        since=max(since) if since else None,
        until=min(until) if until else None,
        fts=_fts_and(positive, negative) if positive else None,
        watched_only=watched,
        conditions=tuple(rest),
    )


# ---- full text


def _fts_and(positive: Sequence[str], negative: Sequence[str]) -> str:
    """FTS5 text for all of `positive` and none of `negative` (each a phrase or in parentheses)."""
    joiner = " AND " if any(p.startswith("(") for p in positive) else " "  # FTS5: no `a (b)`
    return joiner.join(positive) + "".join(f" NOT {n}" for n in negative)


def fts_query(text: str) -> str:
    """Plain user words -> a safe FTS5 expression (words ANDed, "phrases", prefix*, OR/NOT kept).

    Raw user text like `Nasdaq:CLRB` or `Phase-2` is an FTS5 syntax error, so every term is quoted.
    """
    terms: list[str] = []
    for token, quoted in _plain_tokens(text):
        if quoted:
            terms.append('"' + token.replace('"', '""') + '"')
        elif token in OPERATORS and terms:
            terms.append(token)
        elif token.strip("*"):
            star = "*" if token.endswith("*") else ""
            terms.append('"' + token.strip("*").replace('"', '""') + '"' + star)
    if terms and terms[-1] in OPERATORS:
        terms.pop()
    return " ".join(terms) or '""'


def _plain_tokens(text: str) -> Iterable[tuple[str, bool]]:
    for index, part in enumerate(text.split('"')):
        if index % 2:  # inside quotes (an unclosed quote runs to the end)
            if part.strip():
                yield part.strip(), True
        else:
            for word in part.split():
                yield word, False


# ---- SQL

FTS_IDS = "SELECT rowid FROM releases_fts WHERE releases_fts MATCH ?"
# (id, sort_time), made by schema 11: the matches of a selective query sorted without their rows.
ID_DATE_INDEX = "releases_id_date"
# (sort_time), made by schema 1: walked newest first, it gives matches in the order shown.
DATE_INDEX = "idx_releases_sort_time"
# A page of a selective query is first looked for among this many newest releases per row of
# the page (offset + limit): found there, it is the page; else the matches are sorted.
WALK_PER_ROW = 200
MAX_WALK = 100_000  # deeper pages (an export) are sorted: a walk in vain costs too much then
_CHUNK = 400  # SQLite takes at most 500 SELECTs in one compound SELECT
_CHAIN = 50  # and expressions at most 1000 deep: long OR/AND chains go in groups of groups


@dataclass
class _Sql:
    where: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)
    selective: bool = False  # a condition narrows to an id set (sort its matches, not the index)

    def add(self, clause: str, *params) -> None:
        self.where.append(clause)
        self.params.extend(params)


class _Part(NamedTuple):
    """A compiled (sub)query: an id set, its complement, or a predicate over `releases r`."""

    kind: str  # "fts" | "notfts": FTS5 text; "ids" | "notids": a SELECT of ids; "pred"
    text: str  # FTS5 expression (a phrase or in parentheses), SELECT, or predicate
    params: tuple = ()
    compound: bool = False  # a SELECT of several joined by UNION/INTERSECT/EXCEPT
    depth: int = 0  # subqueries nested in `text`


def _chunked(parts: Sequence[str], joiner: str) -> str:
    """`parts` joined; thousands of them as groups of groups (a shallow expression tree)."""
    while len(parts) > _CHAIN:
        parts = [
            "(" + joiner.join(parts[i : i + _CHAIN]) + ")" for i in range(0, len(parts), _CHAIN)
        ]
    return joiner.join(parts)


def _ticker_clause(tickers: Sequence[Ticker]) -> tuple[str, list]:
    clauses, params = [], []
    for ticker in tickers:
        if ticker.exchange:
            clauses.append("(symbol = ? AND exchange = ?)")
            params += [ticker.symbol, ticker.exchange]
        else:
            clauses.append("symbol = ?")
            params.append(ticker.symbol)
    return "SELECT release FROM release_tickers WHERE " + _chunked(clauses, " OR "), params


def _marks(values: Sequence) -> str:
    return ", ".join("?" for _ in values)


def _fields_part(name: str, values: Sequence) -> _Part:
    """Any of `values` of one of ANY_OF_FIELDS."""
    if name == "ticker":
        select, params = _ticker_clause(values)
        return _Part("ids", select, tuple(params))
    if name == "tag":
        select = f"SELECT release FROM release_tags WHERE tag IN ({_marks(values)})"
        return _Part("ids", select, tuple(values))
    if name == "source":
        return _Part("pred", f"r.source IN ({_marks(values)})", tuple(values))
    likes = _chunked(["r.issuer LIKE ?" for _ in values], " OR ")  # issuer
    return _Part("pred", f"({likes})", tuple(f"%{v}%" for v in values))


def _field_part(name: str, value, watched: Sequence[Ticker] | None) -> _Part:
    if name == "since":
        return _Part("pred", "r.sort_time >= ?", (value,))
    if name == "until":
        return _Part("pred", "r.sort_time < ?", (value,))
    if name == "watched":
        if not watched:  # no watchlist: watched:yes is nothing, watched:no everything
            return _Part("pred", "1" if value is False else "0")
        select, params = _ticker_clause(tuple(watched))
        return _Part("ids" if value else "notids", select, tuple(params))
    return _fields_part(name, [value])


def _as_pred(part: _Part) -> tuple[str, tuple]:
    if part.kind in ("fts", "notfts"):
        return f"r.id {'NOT ' if part.kind == 'notfts' else ''}IN ({FTS_IDS})", (part.text,)
    if part.kind in ("ids", "notids"):
        return f"r.id {'NOT ' if part.kind == 'notids' else ''}IN ({part.text})", part.params
    return part.text, part.params


def _as_select(part: _Part, first: bool = False) -> tuple[str, tuple]:
    """A SELECT that can stand in a compound one (the first member may be compound itself)."""
    if part.kind in ("fts", "notfts"):
        return FTS_IDS, (part.text,)
    if part.compound and not first:
        return f"SELECT * FROM ({part.text})", part.params
    return part.text, part.params


def _wrapped_depth(part: _Part, first: bool = False) -> int:
    return part.depth + (part.compound and not first)


def _compound(selects: list[_Part], operator: str, minus: Sequence[_Part] = ()) -> _Part:
    """Id sets joined by UNION or INTERSECT, less the `minus` ones (EXCEPT).

    SQLite reads `A UNION B INTERSECT C` as `(A UNION B) INTERSECT C`, so a compound member
    goes first, unwrapped: groups in groups then make one flat SELECT, not nested subqueries.
    """
    if len(selects) + len(minus) > _CHUNK:  # too many for one compound SELECT
        chunks = [
            _compound(selects[i : i + _CHUNK], operator) for i in range(0, len(selects), _CHUNK)
        ]
        preds = [_as_pred(chunk) for chunk in chunks]
        preds += [_as_pred(p._replace(kind="not" + p.kind)) for p in minus]
        return _combine_preds(preds, "AND" if operator == "INTERSECT" else "OR")
    # The deepest compound member first: it needs no subquery of its own there.
    ordered = sorted(selects, key=lambda part: (not part.compound, -part.depth))
    members = [_as_select(part, first=index == 0) for index, part in enumerate(ordered)]
    excepted = [_as_select(part) for part in minus]
    text = f" {operator} ".join(sql for sql, _ in members)
    text += "".join(f" EXCEPT {sql}" for sql, _ in excepted)
    params = tuple(p for _, ps in (*members, *excepted) for p in ps)
    depth = max(
        [_wrapped_depth(part, index == 0) for index, part in enumerate(ordered)]
        + [_wrapped_depth(part) for part in minus]
    )
    return _Part("ids", text, params, len(members) + len(excepted) > 1, depth)


def _combine_preds(preds: list[tuple[str, tuple]], joiner: str) -> _Part:
    if len(preds) == 1:
        return _Part("pred", *preds[0])
    text = "(" + _chunked([sql for sql, _ in preds], f" {joiner} ") + ")"
    return _Part("pred", text, tuple(p for _, ps in preds for p in ps))


def _combine_or(parts: list[_Part]) -> _Part:
    texts = [p.text for p in parts if p.kind == "fts"]
    others = [p for p in parts if p.kind != "fts"]
    if texts:  # one MATCH for all the full text
        fts = _Part("fts", texts[0] if len(texts) == 1 else "(" + " OR ".join(texts) + ")")
        if not others:
            return fts
        others.append(fts)
    if len(others) == 1:
        return others[0]
    ids = [p for p in others if p.kind in ("ids", "fts")]
    preds = [_as_pred(p) for p in others if p.kind not in ("ids", "fts")]
    if ids:
        union = _compound(ids, "UNION")
        if not preds:
            return union
        preds.insert(0, _as_pred(union))
    return _combine_preds(preds, "OR")


def _combine_and(parts: list[_Part]) -> _Part:
    positive = [p.text for p in parts if p.kind == "fts"]
    negative = [p.text for p in parts if p.kind == "notfts"]
    others = [p for p in parts if p.kind not in ("fts", "notfts")]
    if positive:  # one MATCH: a b NOT c
        text = _fts_and(positive, negative)
        fts = _Part("fts", text if len(positive) == 1 and not negative else f"({text})")
        if not others:
            return fts
        others.append(fts)
    elif negative:  # NOT a AND NOT b: one NOT MATCH (a OR b)
        text = negative[0] if len(negative) == 1 else "(" + " OR ".join(negative) + ")"
        others.append(_Part("notfts", text))
    if len(others) == 1:
        return others[0]
    ids = [p for p in others if p.kind in ("ids", "fts")]
    minus = [p for p in others if p.kind in ("notids", "notfts")] if ids else []
    preds = [_as_pred(p) for p in others if p.kind not in ("ids", "fts") and p not in minus]
    if ids:
        intersection = _compound(ids, "INTERSECT", minus)
        if not preds:
            return intersection
        preds.insert(0, _as_pred(intersection))
    return _combine_preds(preds, "AND")


def _compile(node: Node, watched: Sequence[Ticker] | None) -> _Part:
    """`node` as one _Part; full-text subtrees merge into one MATCH where FTS5 can say them."""
    if isinstance(node, Text):
        return _Part("fts", node.fts)
    if isinstance(node, Field):
        return _field_part(node.name, node.value, watched)
    if isinstance(node, Not):
        part = _compile(node.child, watched)
        if part.kind in ("fts", "notfts", "ids", "notids"):
            kind = part.kind[3:] if part.kind.startswith("not") else "not" + part.kind
            return part._replace(kind=kind)
        return _Part("pred", f"({part.text}) IS NOT 1", part.params)  # NULL (no issuer): not it
    if isinstance(node, Or):
        # One field's filters together: one IN (...) instead of many.
        by_field: dict[str, list] = {}
        parts: list[_Part] = []
        for child in node.children:
            if isinstance(child, Field) and child.name in ANY_OF_FIELDS:
                by_field.setdefault(child.name, []).append(child.value)
            else:
                parts.append(_compile(child, watched))
        parts += [_fields_part(name, values) for name, values in by_field.items()]
        return _combine_or(parts)
    return _combine_and([_compile(child, watched) for child in node.children])


def where_clauses(query: ReleaseQuery, tags_per_row: bool = False) -> _Sql:
    """The WHERE conditions of `query` over `releases r`.

    The id-producing filters (tickers, tags, full text) are intersected before any release
    row is read: a million-row database answers in tens of milliseconds that way. With a
    ticker, tags are checked per row instead (a ticker has few releases; a tag has many).
    `conditions` that compile to id sets (an OR of words and tags, ...) join that
    intersection; the others become one more clause.

    `tags_per_row`: tags are always checked per row, after the id sets (for walking releases
    in date order: a tag's ids are a fifth of all releases, too many to gather first).
    """
    sql = _Sql()
    id_sets: list[tuple[str, list]] = []
    tag_check: tuple[str, tuple] | None = None
    if query.tickers:
        id_sets.append(_ticker_clause(query.tickers))
    if query.watched_only:
        watched = tuple(query.watched or ())
        id_sets.append(_ticker_clause(watched) if watched else ("SELECT NULL WHERE 0", []))
    elif query.watched_only is False and query.watched:
        sub, params = _ticker_clause(tuple(query.watched))
        sql.add(f"r.id NOT IN ({sub})", *params)
    if query.tags:
        marks = _marks(query.tags)
        exists = (
            f"EXISTS (SELECT 1 FROM release_tags g WHERE g.release = r.id AND g.tag IN ({marks}))"
        )
        if tags_per_row:
            tag_check = (exists, tuple(query.tags))
        elif id_sets:
            sql.add(exists, *query.tags)
        else:
            id_sets.append(
                (f"SELECT release FROM release_tags WHERE tag IN ({marks})", list(query.tags))
            )
    full_text = query.full_text
    if full_text:
        id_sets.append((FTS_IDS, [full_text]))
    condition_preds = []
    for node in query.conditions:
        part = _compile(node, query.watched)
        if part.kind in ("ids", "fts"):
            sub, params = _as_select(part, first=not id_sets)
            id_sets.append((sub, list(params)))
            sql.selective = True
        else:
            condition_preds.append(_as_pred(part))
    for start in range(0, len(id_sets), _CHUNK):
        chunk = id_sets[start : start + _CHUNK]
        sql.add(
            "r.id IN (" + " INTERSECT ".join(sub for sub, _ in chunk) + ")",
            *(p for _, params in chunk for p in params),
        )
    if tag_check:
        sql.add(tag_check[0], *tag_check[1])
    if query.exclude_tickers:
        sub, params = _ticker_clause(query.exclude_tickers)
        sql.add(f"r.id NOT IN ({sub})", *params)
    if query.exclude_tags:
        marks = _marks(query.exclude_tags)
        sql.add(
            f"r.id NOT IN (SELECT release FROM release_tags WHERE tag IN ({marks}))",
            *query.exclude_tags,
        )
    if query.sources:
        sql.add(f"r.source IN ({_marks(query.sources)})", *query.sources)
    if query.issuers:
        sql.add(
            "(" + _chunked(["r.issuer LIKE ?" for _ in query.issuers], " OR ") + ")",
            *(f"%{i}%" for i in query.issuers),
        )
    if query.since:
        sql.add("r.sort_time >= ?", query.since)
    if query.until:
        sql.add("r.sort_time < ?", query.until)
    if condition_preds:  # one clause: the callers join theirs with AND, 1000 deep at most
        combined = _combine_preds(condition_preds, "AND")
        sql.add(combined.text, *combined.params)
    return sql


# SQLite's own limits, reached only by queries far larger or deeper than people write.
_LIMIT_ERRORS = ("fts5", "parser stack overflow", "too large", "too many", "too complex")


def run_query(db, query: ReleaseQuery) -> list[dict]:
    """Rows of `releases` matching `query`, newest first (or by relevance), with snippets."""
    import sqlite3  # here: loading a config parses queries, and needs no SQLite for that

    sql = where_clauses(query)
    full_text = query.full_text
    walked, walk_params = "", []
    selective = bool(
        query.tickers or query.tags or full_text or query.watched_only or sql.selective
    )
    if query.rank == "relevance" and full_text:
        statement = (
            "SELECT r.* FROM releases r JOIN releases_fts ON releases_fts.rowid = r.id "
            "WHERE releases_fts MATCH ?"
            + "".join(f" AND {c}" for c in sql.where)
            + " ORDER BY bm25(releases_fts) LIMIT ? OFFSET ?"
        )
        params = [full_text, *sql.params, query.limit, query.offset]
    elif selective:
        # Sort the matches by date on the small (id, sort_time) index, then read only the page's
        # rows: reading a 6 KB release row for each of thousands of matches cost 10x more.
        statement = _page_of(ID_DATE_INDEX, sql.where)
        params = [*sql.params, query.limit, query.offset]
        # But when matches are many (a common word or tag: tens of thousands of a million),
        # sorting them all costs more than walking the newest releases until the page is full:
        # try that first, among a bounded number of the newest in the query's dates (all of
        # them in a small database). Not for a ticker's releases: few, and sorted in no time.
        walk = (query.offset + query.limit) * WALK_PER_ROW
        if 0 < query.limit and walk <= MAX_WALK and not (query.tickers or query.watched_only):
            dates = [("sort_time >= ?", query.since), ("sort_time < ?", query.until)]
            dates = [(clause, value) for clause, value in dates if value]
            floor = db.execute(
                f"SELECT sort_time FROM releases INDEXED BY {DATE_INDEX} "
                + "".join(f"{'AND' if i else 'WHERE'} {c} " for i, (c, _) in enumerate(dates))
                + "ORDER BY sort_time DESC, id DESC LIMIT 1 OFFSET ?",
                [*(value for _, value in dates), walk],
            ).fetchone()
            per_row = where_clauses(query, tags_per_row=True)
            if floor is None:  # no more releases than that: the walk is the answer
                statement = _page_of(DATE_INDEX, per_row.where)
                params = [*per_row.params, query.limit, query.offset]
            else:
                walked = _page_of(DATE_INDEX, [*per_row.where, "r.sort_time > ?"])
                walk_params = [*per_row.params, floor[0], query.limit, query.offset]
    else:  # relevance without a required full-text part: newest first
        statement = "SELECT r.* FROM releases r"
        if sql.where:
            statement += " WHERE " + " AND ".join(sql.where)
        statement += " ORDER BY r.sort_time DESC, r.id DESC LIMIT ? OFFSET ?"
        params = [*sql.params, query.limit, query.offset]
    snippet_text = query.snippet_text
    try:
        rows = None
        if walked:
            # All releases newer than `floor` walked: a full page among them is the page.
            rows = [dict(row) for row in db.query(walked, walk_params)]
        if rows is None or len(rows) < query.limit:
            rows = [dict(row) for row in db.query(statement, params)]
        if snippet_text and rows:
            _add_snippets(db, rows, snippet_text)
    except sqlite3.OperationalError as error:
        if any(limit in str(error).lower() for limit in _LIMIT_ERRORS):
            raise QueryError(
                snippet_text or "", -1, f"the database could not run it: {error}"
            ) from None
        raise
    return rows


def _page_of(index: str, where: Sequence[str]) -> str:
    """The page (LIMIT ? OFFSET ?) of the releases matching `where`, newest first, sorted on
    `index`; only the page's rows are read whole."""
    return (
        "SELECT o.* FROM releases o WHERE o.id IN (SELECT r.id FROM releases r "
        f"INDEXED BY {index} WHERE "
        + " AND ".join(where)
        + " ORDER BY r.sort_time DESC, r.id DESC LIMIT ? OFFSET ?) "
        "ORDER BY o.sort_time DESC, o.id DESC"
    )


def _add_snippets(db, rows: list[dict], full_text: str) -> None:
    ids = [row["id"] for row in rows]
    marks = ", ".join("?" for _ in ids)
    open_mark, close_mark = HIGHLIGHT
    snippets = dict(
        db.execute(
            f"SELECT rowid, snippet(releases_fts, 1, '{open_mark}', '{close_mark}', '…', 16) "
            f"FROM releases_fts WHERE releases_fts MATCH ? AND rowid IN ({marks})",
            [full_text, *ids],
        ).fetchall()
    )
    for row in rows:
        row["snippet"] = snippets.get(row["id"], "")


def facet_counts(db, query: ReleaseQuery, top: int = 15) -> dict[str, list[tuple[str, int]]]:
    """Counts by tag, ticker and month of the releases matching `query` (for `biomon stats`)."""
    sql = where_clauses(query)
    matching = "SELECT r.id FROM releases r" + (
        " WHERE " + " AND ".join(sql.where) if sql.where else ""
    )
    counts = {}
    counts["total"] = [
        ("releases", db.execute(f"SELECT count(*) FROM ({matching})", sql.params).fetchone()[0])
    ]
    counts["tag"] = db.execute(
        f"SELECT tag, count(*) n FROM release_tags WHERE release IN ({matching}) "
        "GROUP BY tag ORDER BY n DESC, tag",
        sql.params,
    ).fetchall()
    counts["ticker"] = db.execute(
        "SELECT exchange || ':' || symbol, count(*) n FROM release_tickers "
        f"WHERE release IN ({matching}) GROUP BY exchange, symbol ORDER BY n DESC LIMIT ?",
        [*sql.params, top],
    ).fetchall()
    counts["month"] = db.execute(
        f"SELECT substr(sort_time, 1, 7) m, count(*) FROM releases WHERE id IN ({matching}) "
        "GROUP BY m ORDER BY m DESC LIMIT ?",
        [*sql.params, top * 2],
    ).fetchall()
    return counts
