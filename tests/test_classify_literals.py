"""The precomputed literal table and the lazily compiled rule patterns (issue 14: start-up).

The built-in rules' required literals are looked up in monitor/classify/literal_table.py, not
worked out at import; their regexes are compiled when a sentence first needs them. Both must
give exactly what the eager computation gave.
"""

from __future__ import annotations

import re

import pytest

from monitor.classify import classify
from monitor.classify import engine as engine_module
from monitor.classify.engine import DEFAULT_RULES, Clause, build_rules
from monitor.classify.literals import TABLE, literals_of, required_literals
from monitor.classify.make_literal_table import (
    TABLE_PATH,
    computed_table,
    table_keys,
    table_source,
)
from monitor.classify.skip import skipping_pattern


def _clauses(rules):
    for rule in rules.rules:
        yield from (*rule.mention, *rule.event, *rule.veto, *rule.strong)
    for _, clauses in rules.shared:
        yield from clauses


def test_the_table_is_the_computation():
    # Fails after a pattern in tags.py or sections.py changes: run
    # `python -m monitor.classify.make_literal_table` and commit literal_table.py.
    assert TABLE == computed_table()
    assert TABLE_PATH.read_text(encoding="utf-8") == table_source(computed_table())


def test_each_entry_is_what_required_literals_finds_on_the_compiled_pattern():
    for source, flags, limit, most in table_keys():
        pattern = re.compile(source, flags)
        assert TABLE[(source, flags, limit, most)] == required_literals(pattern, limit, most)


def test_the_written_table_reads_back_the_same(tmp_path):
    table = computed_table()
    namespace: dict = {}
    exec(compile(table_source(table), "literal_table.py", "exec"), namespace)
    import json

    read = {
        tuple(key): tuple(map(tuple, value)) if value else None
        for key, value in json.loads(namespace["TABLE_JSON"])
    }
    assert read == table


def test_every_lowercase_rule_pattern_is_in_the_table():
    for clause in _clauses(DEFAULT_RULES):
        for key in clause.literal_keys():
            assert key in TABLE, key


def test_a_pattern_not_in_the_table_is_worked_out():
    source = r"\bradio(?:pharmaceutical|ligand)s?\b"
    assert (source, 0, 40, 3) not in TABLE
    assert literals_of(source) == required_literals(re.compile(source)) is not None
    assert literals_of("(unclosed") is None  # not a regex: no literals, no error here


def test_literal_order_does_not_depend_on_the_hash_seed():
    # Sets iterate in a per-process order; the table is sorted so that it can be compared.
    found = required_literals(re.compile(r"\b(?:alpha|beta|gamma|delta)\b"))
    assert found == (("beta", "alpha", "delta", "gamma"),)


def test_building_the_rules_works_no_literals_out_and_compiles_no_pattern(monkeypatch):
    from monitor.classify import literals

    def refuse(*args):
        raise AssertionError(f"literals worked out at start: {args[0]!r}")

    monkeypatch.setattr(literals, "_required", refuse)
    monkeypatch.setattr(engine_module, "_compiled", refuse)
    rules = build_rules()
    assert all(
        type(search) is engine_module._LazySearch
        for clause in _clauses(rules)
        for search, _, _ in clause.steps
    )


def test_every_built_in_pattern_compiles():
    for clause in _clauses(DEFAULT_RULES):
        for pattern in clause.patterns:
            assert isinstance(pattern, re.Pattern)


def test_patterns_compile_on_first_search_and_match_as_compiled():
    clause = Clause(sources=(r"\blicen[cs]e\b", r"\bexclusive\b"), cased=(False, False))
    assert all(type(search) is engine_module._LazySearch for search, _, _ in clause.steps)
    assert clause.find("An exclusive license.", "an exclusive license.") == 13
    assert all(type(search) is not engine_module._LazySearch for search, _, _ in clause.steps)
    assert [pattern.pattern for pattern in clause.patterns] == [
        r"\blicen[cs]e\b",
        r"\bexclusive\b",
    ]
    assert clause.find("A license.", "a license.") is None


@pytest.mark.parametrize(
    ("source", "skips"),
    [
        (r"\b(?:licen[cs]e|sub-?licen[cs]e)\b", True),
        (r"\b(?:top-?line|interim)\s+data\b|\bdata\b", True),
        (r"(?<![\w-])(?:ind|nda)\b", True),
        (r"(?:\bco-)?develop\w*", True),
        (r"\b(?:a|b)?c", True),
        (r"\b\w+ing\b", False),  # \w: any word character
        (r"x*", False),  # can match the empty string: anywhere
        (r"(?:a|b?)c?", False),
        (r"(?i:ab)c", False),  # a flag
        (r"(?x) a b ", False),
        (r".b", False),
    ],
)
def test_a_search_skips_to_the_characters_its_matches_start_with(source, skips):
    skipping = skipping_pattern(source) or re.compile(source)
    assert (skipping.pattern != source) is skips
    written = re.compile(source)
    texts = [
        "",
        "c",
        "ab",
        "a license or sub-license",
        "no sublicense",
        "the co-develop plan",
        "topline data and interim  data",
        "an ind for nda-x",
        "ending\nbc",
        "x ab c xab",
    ]
    for text in texts:
        for start in range(len(text) + 1):
            expected = written.search(text, start)
            found = skipping.search(text, start)
            assert (found and found.start()) == (expected and expected.start()), (text, start)


def test_a_clause_whose_literals_are_missing_is_never_compiled():
    clause = Clause(sources=(r"\bwarrants?\b",), cased=(False,))
    assert clause.find("No such word here.", "no such word here.") is None
    assert type(clause.steps[0][0]) is engine_module._LazySearch


def test_cased_patterns_compile_ignoring_case_and_search_the_original_text():
    (clause,) = engine_module._compile_all("trial", [r"(?-i:AM)\s+dose"])
    assert clause.cased == (True,)
    assert clause.patterns[0].flags & re.IGNORECASE
    assert clause.find("AM dose given", "am dose given") == 0
    assert clause.find("am dose given", "am dose given") is None


def test_a_bad_user_pattern_is_still_an_error_when_the_rules_are_built():
    with pytest.raises(ValueError, match=r"bad pattern for tag 'trial': '\(x': missing \)"):
        build_rules({"trial": ["(x"]})


def test_fresh_rules_classify_as_the_default_ones():
    title = "Acme Bio Announces Exclusive License Agreement with Beta Corp"
    text = (
        "BOSTON, Jan. 5, 2026 (GLOBE NEWSWIRE) -- Acme Bio, Inc. (Nasdaq: ACME) today announced "
        "an exclusive license agreement with Beta Corp for AC-1. Acme receives $10 million "
        "upfront and is eligible for up to $200 million in milestone payments."
    )
    assert classify(title, text, build_rules()) == classify(title, text)
