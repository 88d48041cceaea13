"""biomon's query language over the stored history, and the SQL that answers it.

    licens* "exclusive license" NOT terminated ticker:CLRB tag:licensing since:2023
    issuer:"Cellectar" source:globenewswire until:2024-06 watched:yes -tag:financing

Free text is FTS5 (words ANDed, "phrases", prefix*, AND/OR/NOT, parentheses); `field:value`
filters narrow it (repeating a field means any of its values; different fields all apply; a
leading `-` excludes). Bad input raises QueryError saying where it is wrong.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from monitor.errors import BiomonError
from monitor.models import Ticker
from monitor.tickers import parse_ticker

FIELDS = ("ticker", "tag", "source", "issuer", "since", "until", "watched")
OPERATORS = ("AND", "OR", "NOT")
HIGHLIGHT = ("\x02", "\x03")  # snippet markers, turned into styles or ** by the formatter


class QueryError(BiomonError):
    """A query that cannot be read; the message says where."""

    def __init__(self, query: str, position: int, problem: str) -> None:
        pointer = f"at column {position + 1}" if position >= 0 else "as a whole"
        super().__init__(f"query {query!r} {pointer}: {problem}")


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
        )

    @property
    def full_text(self) -> str | None:
        parts = [e for e in (self.fts, fts_query(self.search) if self.search else None) if e]
        return (
            " AND ".join(f"({p})" for p in parts)
            if len(parts) > 1
            else (parts[0] if parts else None)
        )


# ---- parsing

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<field>-?[A-Za-z_]+):(?:"(?P<fquoted>[^"]*)"|(?P<fvalue>[^\s()"]+))
      | (?P<phrase>"[^"]*"\*?)
      | (?P<open>\()
      | (?P<close>\))
      | (?P<word>[^\s()"]+)
    )""",
    re.VERBOSE,
)


def parse_query(text: str) -> ReleaseQuery:
    """Read a query string; raise QueryError naming the column of the first problem."""
    filters: dict[str, list[str]] = {name: [] for name in FIELDS}
    excluded: dict[str, list[str]] = {"ticker": [], "tag": []}
    fts: list[tuple[str, int]] = []  # (FTS5 token, column)
    position = 0
    text = text or ""
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            problem = (
                "unclosed quote" if text[position:].lstrip().startswith('"') else "unexpected text"
            )
            raise QueryError(text, _skip_space(text, position), problem)
        column = _skip_space(text, position)
        position = match.end()
        if match.group("field"):
            name = match.group("field")
            negate = name.startswith("-")
            name = name.lstrip("-").lower()
            value = (
                match.group("fquoted")
                if match.group("fquoted") is not None
                else match.group("fvalue")
            )
            if name not in FIELDS:
                raise QueryError(
                    text,
                    column,
                    f"unknown field {name!r}; fields are {', '.join(FIELDS)} "
                    "(quote text that has a colon)",
                )
            if negate and name not in excluded:
                raise QueryError(text, column, f"-{name}: only ticker and tag can be excluded")
            (excluded if negate else filters)[name].append(value)
            fts.append((f"{_FIELD}{'-' if negate else ''}{name}", column))
        elif match.group("phrase"):
            phrase = match.group("phrase")
            star = phrase.endswith("*")
            inner = phrase.strip("*")[1:-1].strip()
            if not inner:
                raise QueryError(text, column, "empty phrase")
            fts.append(('"' + inner.replace('"', '""') + '"' + ("*" if star else ""), column))
        elif match.group("open"):
            fts.append(("(", column))
        elif match.group("close"):
            fts.append((")", column))
        else:
            word = match.group("word")
            if word in OPERATORS:
                fts.append((word, column))
            elif word.startswith("-") and len(word) > 1:
                fts.append(("NOT", column))
                fts.append((_quote_word(word[1:], text, column), column))
            else:
                fts.append((_quote_word(word, text, column), column))
    return _build(text, filters, excluded, _check_fts(text, _drop_field_glue(text, fts)))


_FIELD = "\x00field:"  # a placeholder where a field filter stood among the free-text tokens


def _drop_field_glue(text: str, tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Remove field placeholders with the AND/OR and parentheses that only joined filters.

    `tag:grant OR tag:licensing` and `(tag:grant OR tag:licensing)` mean what repeating a
    field means (any of them); OR between two different fields has no meaning here.
    """
    result = list(tokens)
    for index, (token, column) in enumerate(result):
        if token == "OR" and 0 < index < len(result) - 1:
            before, after = result[index - 1][0], result[index + 1][0]
            if before.startswith(_FIELD) and after.startswith(_FIELD) and before != after:
                raise QueryError(
                    text, column, "OR joins filters of one field only; run two queries"
                )
    changed = True
    while changed:
        changed = False
        for index, (token, _) in enumerate(result):
            if not token.startswith(_FIELD):
                continue
            # An operator is glue only when it joins this filter to something on its other side.
            glue = [
                i
                for i, beyond in ((index - 1, index - 2), (index + 1, index + 2))
                if 0 <= beyond < len(result) and result[i][0] in ("AND", "OR")
            ]
            drop = {index, *glue[:1]}
            result = [t for i, t in enumerate(result) if i not in drop]
            changed = True
            break
        for index in range(len(result) - 1):
            if result[index][0] == "(" and result[index + 1][0] == ")":
                result = result[:index] + result[index + 2 :]
                changed = True
                break
    return result


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _quote_word(word: str, text: str, column: int) -> str:
    star = word.endswith("*")
    bare = word.rstrip("*")
    if not bare:
        raise QueryError(text, column, "a * must end a word (prefix*)")
    return '"' + bare.replace('"', '""') + '"' + ("*" if star else "")


def _check_fts(text: str, tokens: list[tuple[str, int]]) -> str | None:
    """Validate operator and parenthesis placement; a leading NOT becomes 'everything but'."""
    if not tokens:
        return None
    opened: list[int] = []  # columns of the '(' not closed yet
    previous = None  # "term", "op", "(" or None
    for token, column in tokens:
        if token == "(":
            opened.append(column)
            previous = "("
        elif token == ")":
            if not opened:
                raise QueryError(text, column, "')' without '('")
            opened.pop()
            if previous in ("op", "("):
                raise QueryError(text, column, "nothing before ')'")
            previous = ")"
        elif token in OPERATORS:
            if previous in (None, "op", "(") and not (token == "NOT" and previous is None):
                raise QueryError(text, column, f"{token} needs a term before it")
            previous = "op"
        else:
            previous = "term"
    if opened:
        raise QueryError(text, opened[-1], "'(' without ')'")
    if previous == "op":
        raise QueryError(text, tokens[-1][1], f"{tokens[-1][0]} needs a term after it")
    if tokens[0][0] == "NOT":
        raise QueryError(
            text, tokens[0][1], "NOT needs a term before it (a NOT b), or use -tag:/-ticker:"
        )
    return " ".join(token for token, _ in tokens)


def _build(
    text: str, filters: dict[str, list[str]], excluded: dict[str, list[str]], fts: str | None
) -> ReleaseQuery:
    def tickers(values: Iterable[str]) -> tuple[Ticker, ...]:
        result = []
        for value in values:
            ticker = parse_ticker(value)
            if ticker is None:
                raise QueryError(text, text.find(value), f"{value!r} is not a ticker")
            result.append(ticker)
        return tuple(result)

    since = [_day(v, text, start=True) for v in filters["since"]]
    until = [_day(v, text, start=False) for v in filters["until"]]
    watched = None
    for value in filters["watched"]:
        if value.lower() not in ("yes", "no", "true", "false"):
            raise QueryError(text, text.find(value), "watched: takes yes or no")
        watched = value.lower() in ("yes", "true")
    return ReleaseQuery(
        tickers=tickers(filters["ticker"]),
        exclude_tickers=tickers(excluded["ticker"]),
        tags=tuple(v.lower() for v in filters["tag"]),
        exclude_tags=tuple(v.lower() for v in excluded["tag"]),
        sources=tuple(v.lower() for v in filters["source"]),
        issuers=tuple(filters["issuer"]),
        since=max(since) if since else None,
        until=min(until) if until else None,
        fts=fts,
        watched_only=watched,
    )


def _day(value: str, text: str, start: bool) -> str:
    """`2023`, `2023-06` or `2023-06-15` -> the ISO instant it starts (since) or ends (until)."""
    try:
        if re.fullmatch(r"\d{4}", value):
            first, last = date(int(value), 1, 1), date(int(value), 12, 31)
        elif re.fullmatch(r"\d{4}-\d{1,2}", value):
            year, month = (int(p) for p in value.split("-"))
            first = date(year, month, 1)
            last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        else:
            first = last = date.fromisoformat(value)
    except ValueError:
        raise QueryError(
            text, text.find(value), f"{value!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD"
        ) from None
    day = first if start else last + timedelta(days=1)
    return f"{day.isoformat()}T00:00:00Z"


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


@dataclass
class _Sql:
    where: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)

    def add(self, clause: str, *params) -> None:
        self.where.append(clause)
        self.params.extend(params)


def _ticker_clause(tickers: Sequence[Ticker]) -> tuple[str, list]:
    clauses, params = [], []
    for ticker in tickers:
        if ticker.exchange:
            clauses.append("(symbol = ? AND exchange = ?)")
            params += [ticker.symbol, ticker.exchange]
        else:
            clauses.append("symbol = ?")
            params.append(ticker.symbol)
    return "SELECT release FROM release_tickers WHERE " + " OR ".join(clauses), params


def where_clauses(query: ReleaseQuery) -> _Sql:
    """The WHERE conditions of `query` over `releases r`.

    The id-producing filters (tickers, tags, full text) are intersected before any release
    row is read: a million-row database answers in tens of milliseconds that way. With a
    ticker, tags are checked per row instead (a ticker has few releases; a tag has many).
    """
    sql = _Sql()
    id_sets: list[tuple[str, list]] = []
    if query.tickers:
        id_sets.append(_ticker_clause(query.tickers))
    if query.watched_only:
        watched = tuple(query.watched or ())
        id_sets.append(_ticker_clause(watched) if watched else ("SELECT NULL WHERE 0", []))
    elif query.watched_only is False and query.watched:
        sub, params = _ticker_clause(tuple(query.watched))
        sql.add(f"r.id NOT IN ({sub})", *params)
    if query.tags:
        marks = ", ".join("?" for _ in query.tags)
        if id_sets:
            sql.add(
                "EXISTS (SELECT 1 FROM release_tags g "
                f"WHERE g.release = r.id AND g.tag IN ({marks}))",
                *query.tags,
            )
        else:
            id_sets.append(
                (f"SELECT release FROM release_tags WHERE tag IN ({marks})", list(query.tags))
            )
    full_text = query.full_text
    if full_text:
        id_sets.append(("SELECT rowid FROM releases_fts WHERE releases_fts MATCH ?", [full_text]))
    if id_sets:
        sql.add(
            "r.id IN (" + " INTERSECT ".join(sub for sub, _ in id_sets) + ")",
            *(p for _, params in id_sets for p in params),
        )
    if query.exclude_tickers:
        sub, params = _ticker_clause(query.exclude_tickers)
        sql.add(f"r.id NOT IN ({sub})", *params)
    if query.exclude_tags:
        marks = ", ".join("?" for _ in query.exclude_tags)
        sql.add(
            f"r.id NOT IN (SELECT release FROM release_tags WHERE tag IN ({marks}))",
            *query.exclude_tags,
        )
    if query.sources:
        marks = ", ".join("?" for _ in query.sources)
        sql.add(f"r.source IN ({marks})", *query.sources)
    if query.issuers:
        sql.add(
            "(" + " OR ".join("r.issuer LIKE ?" for _ in query.issuers) + ")",
            *(f"%{i}%" for i in query.issuers),
        )
    if query.since:
        sql.add("r.sort_time >= ?", query.since)
    if query.until:
        sql.add("r.sort_time < ?", query.until)
    return sql


def run_query(db, query: ReleaseQuery) -> list[dict]:
    """Rows of `releases` matching `query`, newest first (or by relevance), with snippets."""
    sql = where_clauses(query)
    full_text = query.full_text
    selective = bool(query.tickers or query.tags or full_text or query.watched_only)
    # With a selective filter, sorting its few matches beats walking the whole date index.
    order_column = "+r.sort_time" if selective else "r.sort_time"
    if query.rank == "relevance" and full_text:
        statement = (
            "SELECT r.* FROM releases r JOIN releases_fts ON releases_fts.rowid = r.id "
            "WHERE releases_fts MATCH ?"
            + "".join(f" AND {c}" for c in sql.where)
            + " ORDER BY bm25(releases_fts) LIMIT ? OFFSET ?"
        )
        params = [full_text, *sql.params, query.limit, query.offset]
    else:
        statement = "SELECT r.* FROM releases r"
        if sql.where:
            statement += " WHERE " + " AND ".join(sql.where)
        statement += f" ORDER BY {order_column} DESC, r.id DESC LIMIT ? OFFSET ?"
        params = [*sql.params, query.limit, query.offset]
    try:
        rows = [dict(row) for row in db.query(statement, params)]
        if full_text and rows:
            _add_snippets(db, rows, full_text)
    except sqlite3.OperationalError as error:
        if full_text and "fts5" in str(error).lower():
            raise QueryError(full_text, -1, f"full-text search failed: {error}") from None
        raise
    return rows


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
