"""Property tests of the query language: any text parses or is a QueryError, and runs or is a
QueryError; and random well-formed queries find what a plain evaluation of them finds."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.classify import classify
from monitor.models import Ticker
from monitor.query import FIELDS, QueryError, ReleaseQuery, facet_counts, parse_query
from monitor.store import Store
from tests.test_query import releases

WATCHED = (Ticker("", "CLRB"),)
SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    store.save_releases(releases(), classify=lambda r: classify(r.title, r.text))
    yield store
    store.close()


# ---- any text

VALUES = ["", "CLRB", "NASDAQ:CLRB", "nyse american:ptn", "grant", '""', '"Cell"', '"two words"',
          '"unclosed', "2023", "2023-06", "2023-6", "2023-06-15", "9999", "9999-12-31", "0000",
          "2023-13", "yes", "no", "maybe", "$$$", "(", "x)", "-", "*", "é", "%", "_", "\x00"]  # fmt: skip
FIELD_NAMES = [*FIELDS, "TICKER", "Tag", "tickr", "foo", "http", "_"]
PIECES = ["AND", "OR", "NOT", "and", "or", "not", "-", "--", "*", "**", "(", ")", "((", "))", '"',
          '""', '"*', ":", "-(", "NEAR", "^", "+", "$", "\x00", "\x07", "\x1b", "\x7f", "\x85",
          "\u200b", "\ufeff", "\u2028", "\t", "\n", "é", "日本", "ß", "İ", "١٢٣", "🧬", "grant",
          "WARF", "NCI", "licens*", "granting", '"exclusive license"', '"NCI grant"*', "a:b",
          "12:30", "Nasdaq:CLRB", "x-ray", "R&D", "don't", "O'Brien"]  # fmt: skip

field_filter = st.builds(
    lambda negate, name, value: f"{negate}{name}:{value}",
    st.sampled_from(["", "-", "NOT "]),
    st.sampled_from(FIELD_NAMES),
    st.sampled_from(VALUES),
)
piece = st.one_of(
    st.sampled_from(PIECES),
    field_filter,
    st.text(alphabet=st.sampled_from(list('abzXYZ019é日-*:"()$ \x00\t')), min_size=1, max_size=6),
    st.text(max_size=5),  # any characters (hypothesis leaves out lone surrogates)
)
separator = st.sampled_from([" ", " ", " ", "", "  ", "\t", "\x00"])
query_text = st.lists(st.tuples(piece, separator), max_size=25).map(
    lambda parts: "".join(p + s for p, s in parts)
)


@SETTINGS
@given(text=query_text)
def test_any_text_parses_or_is_a_query_error_and_runs(store, text):
    try:
        query = parse_query(text)
    except QueryError as error:
        assert "\n" not in str(error) and str(error).startswith("query ")
        return
    assert isinstance(query, ReleaseQuery)
    query = replace(query, watched=WATCHED)
    try:
        store.query(query)
        store.query(replace(query, rank="relevance"))
        store.matches(1, query)
        facet_counts(store.db, query)
    except QueryError:  # allowed; none has been seen
        pass


# ---- well-formed queries against a plain evaluation

WORDS = ["grant", "WARF", "NCI", "license", "Cellectar", "offering", "vaccine", "licens*",
         '"exclusive license"', '"public offering"']  # fmt: skip
FILTERS = ["tag:grant", "tag:licensing", "tag:financing", "tag:trial", "ticker:CLRB",
           "ticker:SNGX", "ticker:NYSEAMERICAN:PTN", "ticker:NASDAQ:PTN", "source:globenewswire",
           "source:prnewswire", "issuer:Cellectar", 'issuer:"Palatin Tech"', "since:2023",
           "until:2022", "since:2023-06", "watched:yes", "watched:no"]  # fmt: skip


def _leaf_ids(store, leaf: str) -> set[int]:
    """The releases one word or filter finds, by SQL written here, not by monitor.query."""
    db = store.db

    def ids(sql, *params):
        return {row[0] for row in db.execute(sql, params).fetchall()}

    name, _, value = leaf.partition(":")
    if leaf in WORDS:
        fts = leaf if leaf.startswith('"') else '"' + leaf.rstrip("*") + '"' + "*" * leaf.count("*")
        return ids("SELECT rowid FROM releases_fts WHERE releases_fts MATCH ?", fts)
    if name == "tag":
        return ids("SELECT release FROM release_tags WHERE tag = ?", value)
    if name == "ticker":
        exchange, _, symbol = value.rpartition(":")
        if exchange:
            return ids(
                "SELECT release FROM release_tickers WHERE symbol = ? AND exchange = ?",
                symbol,
                exchange,
            )
        return ids("SELECT release FROM release_tickers WHERE symbol = ?", symbol)
    if name == "source":
        return ids("SELECT id FROM releases WHERE source = ?", value)
    if name == "issuer":
        return ids("SELECT id FROM releases WHERE issuer LIKE ?", f"%{value.strip(chr(34))}%")
    if name == "since":
        start = value + "-01" * (2 - value.count("-"))
        return ids("SELECT id FROM releases WHERE sort_time >= ?", start)
    if name == "until":  # until:2022 is up to the end of 2022
        return ids("SELECT id FROM releases WHERE sort_time < ?", f"{int(value) + 1}")
    watched = ids("SELECT release FROM release_tickers WHERE symbol = 'CLRB'")
    return watched if value == "yes" else ids("SELECT id FROM releases") - watched


trees = st.recursive(
    st.sampled_from(WORDS + FILTERS),
    lambda inner: st.one_of(
        st.tuples(st.just("NOT"), inner, st.sampled_from(["NOT ", "-"])),
        st.tuples(st.just("AND"), st.lists(inner, min_size=2, max_size=4), st.booleans()),
        st.tuples(st.just("OR"), st.lists(inner, min_size=2, max_size=4), st.booleans()),
    ),
    max_leaves=10,
)


def _same_field_side_by_side(children) -> bool:
    names = [c.partition(":")[0] for c in children if isinstance(c, str) and c in FILTERS]
    names = [n for n in names if n in ("ticker", "tag", "source", "issuer")]
    return len(names) != len(set(names))


def _render(tree) -> str:
    if isinstance(tree, str):
        return tree
    if tree[0] == "NOT":
        return f"{tree[2]}({_render(tree[1])})"
    parts = [_render(child) for child in tree[1]]
    if tree[0] == "OR":
        return "(" + " OR ".join(parts) + ")"
    side_by_side = tree[2] and not _same_field_side_by_side(tree[1])
    return "(" + (" " if side_by_side else " AND ").join(parts) + ")"


def _evaluate(store, tree, everything: set[int]) -> set[int]:
    if isinstance(tree, str):
        return _leaf_ids(store, tree)
    if tree[0] == "NOT":
        return everything - _evaluate(store, tree[1], everything)
    sets = [_evaluate(store, child, everything) for child in tree[1]]
    return set.intersection(*sets) if tree[0] == "AND" else set.union(*sets)


@SETTINGS
@given(tree=trees, top_level=st.booleans())
def test_well_formed_queries_find_what_they_say(store, tree, top_level):
    text = _render(tree)
    if top_level and text.startswith("(") and text.endswith(")"):
        text = text[1:-1]  # the outer group's terms become top-level conjuncts (the fast form)
        if not _balanced(text):
            text = _render(tree)
    everything = {row[0] for row in store.db.execute("SELECT id FROM releases").fetchall()}
    try:
        query = parse_query(text)
    except QueryError as error:
        assert "nested more than" in str(error)
        return
    query = replace(query, watched=WATCHED, limit=100)
    expected = _evaluate(store, tree, everything)
    assert {row["id"] for row in store.query(query)} == expected, (text, query)
    assert facet_counts(store.db, query)["total"] == [("releases", len(expected))]
    some = next(iter(everything))
    assert store.matches(some, query) == (some in expected)


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0
