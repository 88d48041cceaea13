"""The classifier's shortcuts give the answers of the plain computation (issue 14: speed).

Each shortcut (word atoms standing in for literal tests, regexes rewritten to start on a
character class) is checked against what it replaces, on the labelled sample and on edge cases.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from monitor.classify import classify
from monitor.classify.engine import DEFAULT_RULES, build_rules
from monitor.classify.sections import (
    _MONTH_NAME,
    _PAST_DATE,
    _sentence_spans,
    split_release,
    split_sentences,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _sample() -> list[dict]:
    path = FIXTURES / "classify-labelled-sample.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _clauses(rules):
    for rule in rules.rules:
        yield from (*rule.mention, *rule.event, *rule.veto, *rule.strong)
    for _, clauses in rules.shared:
        yield from clauses


def _sentences():
    for item in _sample():
        yield from split_release(item["title"], item["text"]).sentences


EDGE_SENTENCES = [
    "An exclusive sub-license to BT-8, signed in March 2019.",
    "Net loss was $(1.2) million; revenue rose 10% (p<0.05).",
    "ACME's co-founder, CO. and Co. formed a JV with X-Corp.",
    "Licensing: the licence, the licensee and the licensor — all in one.",
    "Ünïcödé wörds, ſince 2001, İn 2003, ǅ, ﬁrst-in-human ﬂag.",
    "",
    "   ",
    "$$$ === <<< ≤ 10",
]


def test_clauses_find_the_same_with_and_without_the_words_present():
    # With `present` (TagRules.stems_in) a clause may skip its literal tests by word atoms.
    rules = build_rules({"radiopharma": [r"\bradio(?:ligand|isotope)s?\b", r"\bI-?131\b"]})
    texts = [s.for_matching for s in _sentences()] + EDGE_SENTENCES
    clauses = list(_clauses(rules))
    for text in texts:
        lower = text.lower()
        present = rules.stems_in(lower)
        for clause in clauses:
            assert clause.find(text, lower, present) == clause.find(text, lower), (text, clause)


def test_a_set_of_stems_made_by_hand_is_not_read_as_atoms():
    # Only a set from stems_in (holding its marker) lets a clause skip literal tests.
    (clause,) = [c for c in DEFAULT_RULES.rules[0].event if c.atoms()][:1]
    text = "Acme and Beta signed an exclusive license agreement for AC-1 in all territories."
    expected = clause.find(text, text.lower())
    assert clause.find(text, text.lower(), frozenset()) == expected
    assert clause.find(text, text.lower(), frozenset({"licen"})) == expected


@pytest.mark.parametrize(
    "word", ["licensing", "co", "cooperative", "phase", "a", "x", "nih", "2025", "sub1icense"]
)
def test_word_stems_are_every_stem_and_atom_in_the_word(word):
    rules = build_rules()
    expected = {part for part in rules._parts if part in word}
    expected |= {stem for stem in rules._whole_words if word == stem[:-1]}
    assert rules._stems_of(word) == expected


def test_trigger_stems_found_as_before():
    # The trigger test of each rule reads the same stems as a plain "stem in word" scan.
    for sentence in _sentences():
        lower = sentence.for_matching.lower()
        present = DEFAULT_RULES.stems_in(lower)
        words = re.findall(r"[a-z0-9]+", lower)
        for rule in DEFAULT_RULES.rules:
            for stem in rule.triggers or ():
                if stem.endswith("$"):
                    assert (stem in present) == (stem[:-1] in words), stem
                else:
                    assert (stem in present) == any(stem in word for word in words), stem


def test_a_copy_of_the_rules_has_its_own_caches():
    rules = build_rules()
    rules.stems_in("an exclusive license")
    copy = dataclasses.replace(rules, rules=rules.rules[:1])
    assert copy._token_stems == {} and copy._token_stems is not rules._token_stems
    assert copy._parts < rules._parts


def test_classify_is_the_same_with_fresh_and_warm_caches():
    for item in _sample()[:40]:
        fresh = classify(item["title"], item["text"], build_rules())
        assert fresh == classify(item["title"], item["text"]), item["id"]


# The regexes as they were before they were rewritten to start on a character class.
OLD_SENTENCE_END = re.compile(
    r"(?P<stop>[.!?][\"”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9•$€£])|[•▪●]\s+|;\s*(?=[•▪●])"
)
OLD_PAST_DATE = re.compile(
    r"\b(?:in|on|since|during|from|effective|dated|as of)\s+(?:(?:early|mid|late)[- ])?"
    rf"(?:({_MONTH_NAME})(?![a-z])(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+((?:19|20)\d\d))?"
    r"|((?:19|20)\d\d))\b",
    re.IGNORECASE,
)
DATE_CASES = [
    "in 2020",
    "In March 2020 we began.",
    "IN MAR 2020",
    "xin 2020, bin March 2019",
    "as of 2019; As  Of 2019; AS OF December 31, 2021",
    "dated 2001, DURING March, from early-May 2003, since late 1999",
    "İn 2019, ın 2018, ſince 2017, SİNCE 2016, effectıve 2015",
    "_in 2020 1in 2020 é in 2020 (in 2020) —in 2020",
    "on the 2020 plan; on Sept. 5, 2021; on Sep 2021; on Junex 2020",
    "in Jan., in Feb 3rd, 2020 in Apr. 21st 2020",
]


def test_past_date_matches_as_the_case_blind_regex_did():
    texts = DATE_CASES + [s.text for s in _sentences()]
    for text in texts:
        old = [(m.span(), m.groups()) for m in OLD_PAST_DATE.finditer(text)]
        assert [(m.span(), m.groups()) for m in _PAST_DATE.finditer(text)] == old, text


def _old_spans(text: str) -> list[tuple[int, int]]:
    from monitor.classify.sections import _ends_in_abbreviation

    spans, start = [], 0
    for match in OLD_SENTENCE_END.finditer(text):
        stop = match.group("stop")
        if stop and _ends_in_abbreviation(text[start : match.start() + 1]):
            continue
        end = match.end("stop") if stop else match.start()
        chunk = text[start:end]
        if chunk.strip():
            spans.append((start + len(chunk) - len(chunk.lstrip()), end))
        start = match.end()
    rest = text[start:]
    if rest.strip():
        spans.append((start + len(rest) - len(rest.lstrip()), len(text)))
    return spans


SPLIT_CASES = [
    'He said "It works." Then it did! Did it? Yes.) (Maybe.) [See] “Quoted.” ‘Next’',
    "Bullets: • one • two ▪ three; • four; five. Six",
    "Acme Inc. signed. Dr. Smith agreed. U.S. sales rose. A. B. Jones left. e.g. This.",
    "Ends with stop.",
    "No stop at all",
    ".!? ; • ",
    "Price $5.00. €4 next. £3 then. 2025 was good.",
]


def test_sentence_ends_are_found_as_before():
    texts = SPLIT_CASES + [s.text for s in _sentences()]
    for text in texts:
        assert _sentence_spans(text) == _old_spans(text), text
    text = "Acme Inc. signed. Dr. Smith agreed. U.S. sales rose. Bullets: • one • two; • three"
    assert split_sentences(text) == [
        "Acme Inc. signed.",
        "Dr. Smith agreed.",
        "U.S. sales rose.",
        "Bullets: ",
        "one ",
        "two",
        "three",
    ]


def test_agency_spellings_match_as_the_longest_first_alternation_did():
    from monitor.classify import facts

    old = re.compile(
        "|".join(re.escape(s) for s in sorted(facts._AGENCY_BY_SPELLING, key=len, reverse=True))
    )
    texts = [
        "NIHR NIH NIAID NIA NIAx NIAAA DoD DOD Do National Institute on Aging and"
        " National Institute on Agin; Horizon 2020, Horizon Europe, Horizon 2021;"
        " Small Business Innovation and Research, Small Business Innovation Research,"
        " Small Business Innovation; Cancer Prevention & Research Institute of Texas",
        *(item["title"] + "\n" + item["text"] for item in _sample()),
    ]
    for text in texts:
        expected = [(m.span(), m.group()) for m in old.finditer(text)]
        assert [(m.span(), m.group()) for m in facts._AGENCY_SPELLING.finditer(text)] == expected


def test_trie_pattern_takes_the_longest_word_at_a_place():
    from monitor.classify.facts import _trie_pattern

    words = ["ab", "abcd", "abce", "b", "a.c"]
    pattern = re.compile(_trie_pattern(words))
    text = "abcx abcd a.c abce abc b"
    assert [m.group() for m in pattern.finditer(text)] == ["ab", "abcd", "a.c", "abce", "ab", "b"]
    longest_first = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
    assert [m.span() for m in pattern.finditer(text)] == [
        m.span() for m in longest_first.finditer(text)
    ]


def _texts() -> list[str]:
    texts = [item["text"] for item in _sample()]
    texts += [path.read_text(encoding="utf-8") for path in FIXTURES.glob("*.txt")]
    return texts


def test_built_in_rule_searches_start_where_the_patterns_as_written_do():
    from monitor.classify.engine import _skipping

    lowers = [sentence.for_matching.lower() for sentence in _sentences()]
    for clause in _clauses(DEFAULT_RULES):
        for source, cased in zip(clause.sources, clause.cased, strict=True):
            written, skipping = clause.patterns[clause.sources.index(source)], None
            skipping = _skipping(source, cased)
            if cased:
                assert skipping.pattern == source
                continue
            assert skipping.pattern != source, source  # every built-in one skips
            for lower in lowers:
                expected, found = written.search(lower), skipping.search(lower)
                assert (found and found.start()) == (expected and expected.start()), source


def test_the_dateline_is_found_as_by_the_plain_search():
    from monitor.classify.sections import _DATELINE, _WIRE_DATELINE, _find_dateline, _normalise

    for text in _texts():
        text = _normalise(text)[0]
        for cut in (0, 50, 400):
            part = text[cut:]
            expected = _WIRE_DATELINE.search(part, 0, 3000) or _DATELINE.search(part, 0, 3000)
            found = _find_dateline(part)
            assert (found and found.span()) == (expected and expected.span())


# _INLINE_HEADING as first written (every alternative now starts on a letter).
_OLD_INLINE_HEADING = re.compile(
    r"About (?:the )?(?P<first>[A-Z][\w'’-]+)\b[^\n]{0,90}?\s(?P=first)\b"
    r"|(?:Forward[- ]Looking Statements?|Safe Harbor Statement|Cautionary Note[^.]{0,60}?)"
    r"\s+(?=This|Certain|Statements|Any|Except|Some|All)"
    r"|(?-i:\b(?:DATASOURCE|CONTACT|SOURCE):)"
)


@pytest.mark.parametrize(
    "extra",
    ["", "xSOURCE: a SOURCE: b", "é CONTACT: x", " DATASOURCE: y", "Forward-Looking Statements\nThis",
     "About Foo bar\nFoo is", "Cautionary Note Regarding x  Any", "ACONTACT: 1_SOURCE: 2"],
)  # fmt: skip
def test_inline_headings_are_found_as_before(extra):
    from monitor.classify.sections import _INLINE_HEADING

    for text in [*_texts()[:40], extra]:
        for start in range(0, len(text), 53):
            expected = _OLD_INLINE_HEADING.search(text, start)
            found = _INLINE_HEADING.search(text, start)
            assert (found and found.span()) == (expected and expected.span())


@pytest.mark.parametrize(
    "line",
    ["Results of", "Results OF", "Data in", "Plans into", "Gift to", "Toto", "Into", "in", "",
     "A pact with", "Pact withs", "Its", "itſ", "Data İn", "ends with a"],
)  # fmt: skip
def test_a_trailing_connector_is_found_as_by_the_plain_search(line):
    from monitor.classify.sections import _TRAILING_CONNECTOR, _ends_in_connector

    assert _ends_in_connector(line) is (_TRAILING_CONNECTOR.search(line) is not None)


@pytest.mark.parametrize(
    "text", ["plain text", "a\r\nb\r\nc \\$5 d", "\\$\\$\r\n", "x\ny", "\r\n" * 5 + "tail"]
)
def test_offsets_in_the_original_text_as_by_the_scan(text):
    from monitor.classify.sections import _SHRUNK, _original_offset

    def scanned(original: str, skipped: int, offset: int) -> int:
        target, removed = offset + skipped, 0
        for match in _SHRUNK.finditer(original):
            if match.start() - removed >= target:
                break
            removed += 1
        return min(target + removed, len(original))

    from monitor.classify.sections import _normalise

    length = len(_normalise(text)[0])
    for skipped in (0, 2):
        for offset in range(len(text) + 2):
            expected = scanned(text, skipped, offset)
            assert _original_offset(text, skipped, offset) == expected
            assert _original_offset(text, skipped, offset, length) == expected


def test_dated_before_is_worked_out_when_asked_as_it_was_when_cut():
    from monitor.classify.sections import _mentions_past_date

    for item in _sample():
        sections = split_release(item["title"], item["text"])
        for sentence in sections.sentences:
            expected = _mentions_past_date(sentence.text, sentence.release_date)
            assert sentence.dated_before is expected
            if sentence.zone in ("headline", "subhead"):
                assert sentence.dated_before is False


@pytest.mark.parametrize(
    "text",
    ["USD 5 million and EUR 3 and euros 5 bn, Euro 4, USDKK 5, xUSD 4, CAD 1.5M",
     "euro 2 euro 3 EURMB 5 “EUR 7” GBP\xa09 SEK 10 euroeuro", ""],
)  # fmt: skip
def test_amounts_with_a_currency_code_are_looked_for_where_each_code_is(text):
    from monitor.classify import facts

    for sample in [text, *_texts()]:
        expected = {
            found.start()
            for code in (*facts._CODES, "Euro", "euro")
            for found in re.finditer(f"(?={code})", sample)
        }
        assert sorted(set(facts._code_starts(sample))) == sorted(expected)
