"""More of the classifier's shortcuts, each checked against the plain computation it replaces
(issue 14: speed): short literals beside word atoms, the rules a sentence triggers looked up,
rules whose clauses cannot pass skipped, and searches started from a literal."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from monitor.classify import facts, sections
from monitor.classify.engine import DEFAULT_RULES, _compile_all, build_rules
from monitor.classify.sections import split_release

FIXTURES = Path(__file__).parent / "fixtures"


def _sample() -> list[dict]:
    path = FIXTURES / "classify-labelled-sample.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _sentences():
    for item in _sample():
        yield from split_release(item["title"], item["text"]).sentences


def _texts() -> list[str]:
    texts = [item["text"] for item in _sample()]
    texts += [path.read_text(encoding="utf-8") for path in FIXTURES.glob("*.txt")]
    return texts


MOU = r"\b(?:entered|signed)\b[^.;]{0,40}\b(?:mou|loi|memorandum of understanding|alliance)\b"


@pytest.mark.parametrize(
    "text",
    [
        "Acme signed an MOU with Beta.",
        "Acme entered into a memorandum of understanding with Beta.",
        "Acme signed an alliance.",
        "Acme signed a letter; the LOI follows.",
        "Acme signed nothing of the kind.",
        "Acme's mou was signed.",
    ],
)
def test_a_set_with_short_literals_is_tested_by_atoms_and_the_short_ones(text):
    (clause,) = _compile_all("deal", [MOU])
    # The set of the second pattern part holds "mou" and "loi" (no atom) beside atoms.
    (_, _, atoms, _, short) = next(check for check in clause.checks if check[4])
    assert set(short) == {"mou", "loi"} and {"understanding", "alliance"} <= atoms
    rules = dataclasses.replace(DEFAULT_RULES, shared=(("x", (clause,)),))
    lower = text.lower()
    present = rules.stems_in(lower)
    found = re.search(MOU, lower)
    assert clause.find(text, lower, present) == (found.start() if found else None)
    assert clause.find(text, lower, present) == clause.find(text, lower)


def test_the_rules_a_sentence_triggers_are_those_each_rule_tests_for():
    rules = build_rules({"radiopharma": [r"\bradio(?:ligand|isotope)s?\b"]})
    for sentence in [*_sentences(), *[sections.Sentence(t, "body") for t in ("", "co x")]]:
        present = rules.stems_in(sentence.for_matching.lower())
        expected = tuple(rule for rule in rules.rules if rule.is_triggered(present))
        assert rules.triggered(present) == expected
        assert rules.triggered(present) == expected  # from the cache
    assert rules.rules[-1].name == "radiopharma" and rules.rules[-1].triggers is None


def test_a_copy_of_the_rules_has_its_own_triggered_cache():
    rules = build_rules()
    rules.triggered(rules.stems_in("an exclusive license"))
    copy = dataclasses.replace(rules, rules=rules.rules[:1])
    assert copy._triggered == {} and copy._triggered is not rules._triggered
    assert copy.triggered(copy.stems_in("an exclusive license")) == copy.rules
    assert copy.triggered(copy.stems_in("a grant")) == ()


def test_a_rule_skipped_by_its_body_keys_would_not_have_earned_its_tag():
    shared = DEFAULT_RULES.shared_vetoes
    skipped = 0
    for sentence in _sentences():
        lower = sentence.for_matching.lower()
        present = DEFAULT_RULES.stems_in(lower)
        for rule in DEFAULT_RULES.rules:
            plain = dataclasses.replace(rule)
            object.__setattr__(plain, "body_keys", None)  # every clause tried
            expected = plain.earns(sentence, shared, lower, present)
            assert rule.earns(sentence, shared, lower, present) == expected, rule.name
            keys = rule.body_keys
            skipped += keys is not None and keys.isdisjoint(present)
    assert skipped > 100  # the shortcut is taken


def test_body_keys_are_none_when_a_clause_has_neither_gate_nor_atoms():
    rules = build_rules({"mine": [r"\b\w+ly\b"]})
    assert rules.rules[-1].body_keys is None
    assert all(rule.body_keys for rule in DEFAULT_RULES.rules)


@pytest.mark.parametrize(
    "text",
    [
        "Acme Inc. and Beta Ltd. signed; Gamma Corp. too.",
        "xInc. yLtd. _Inc. 3Co. éInc. (Inc.) Inc.",
        "Novo A/S.A. and S.A.G. and N.V.A.G. and L.P. and AB. and plc.",
        "Co.Inc. Co.,Ltd. Pty.Ltd. LLC. Corp.\nInc.\n",
        "INC. inc. Inc.. ABC. BAB. Acme Pty.",
    ],
)
def test_suffix_stops_are_cut_as_the_plain_regex_cuts_them(text):
    for sample in [text, *(s.text for s in _sentences())]:
        expected = sections._SUFFIX_STOP.sub(r"\1", sample)
        assert sections._SUFFIX_STOP_AFTER_LETTER.sub(r"\1", sample) == expected


def _quoted_as_before(paragraph: str) -> list[bool]:
    quotes = [
        m.span() for m in sections._QUOTE_SPAN.finditer(paragraph) if m.end() - m.start() >= 30
    ]
    flags = []
    for start, end in sections._sentence_spans(paragraph):
        if sections._unbulleted(paragraph[start:end]).strip():
            inside = sum(max(0, min(end, b) - max(start, a)) for a, b in quotes)
            flags.append(inside * 2 >= end - start)
    return flags


@pytest.mark.parametrize(
    "paragraph",
    [
        'He said: "This is a long quote that goes on and on and on." And more.',
        "“Another long quote, from a curly opening to the end of the paragraph. Yes.",
        "No quote at all. None here either.",
    ],
)
def test_quotes_are_found_as_by_the_plain_search(paragraph):
    paragraphs = [paragraph] + [p for item in _sample() for p in sections._paragraphs(item["text"])]
    for text in paragraphs:
        found = [s.quoted for s in sections._body_sentences([text], None)]
        assert found == _quoted_as_before(text), text
    quoted = [s.quoted for s in sections._body_sentences([paragraph], None)]
    assert any(quoted) == ('"' in paragraph or "“" in paragraph)


@pytest.mark.parametrize(
    "text",
    ["$5 million, US$3, €2.5bn, £1, ¥300 and $$4 and $ 7 and C$9", "no money here", "", "$"],
)
def test_symbol_amounts_are_found_where_each_symbol_is(text):
    for sample in [text, *_texts()]:
        plain = [m.group() for m in facts._SYMBOL_AMOUNT.finditer(sample)]
        starts = facts._symbol_starts(sample)
        assert [m.group() for m in facts._matches_at(facts._SYMBOL_AMOUNT, starts, sample)] == plain


@pytest.mark.parametrize(
    "sentence",
    [
        "Acme entered into a license agreement with Beta Pharma.",
        "Acme shares rose with Nasdaq trading.",
        "Under a collaboration (the Deal) with Gamma Inc., Acme gets milestone payments.",
        "Acme acquired two assets from Delta Bio.",
        "Acme will receive milestone payments of $5 from Epsilon.",
        "Acme met with Zeta.",
    ],
)
def test_counterparties_are_those_of_the_unguarded_search(sentence, monkeypatch):
    sentences = [sentence, *(s.text for s in _sentences())]
    expected_by = {}
    monkeypatch.setattr(facts, "_DEAL_LEFT_LITERALS", ())  # holds_each: always True
    for text in sentences:
        expected_by[text] = facts._counterparties([text])
    monkeypatch.undo()
    assert facts._DEAL_LEFT_LITERALS  # the guard is on
    for text in sentences:
        assert facts._counterparties([text]) == expected_by[text], text


@pytest.mark.parametrize(
    "text",
    [
        "A pivotal trial, a Pivotal study, a PIVOTAL one and a PiVoTaL one.",
        "xpivotal, pivotally, _pivotal, 3pivotal, pivotal_, pivotal",
        "İİ then pivotal; pİvotal and pıvotal, PIVOTAL",
        "ı pivotal",
        "no such word",
        "",
    ],
)
def test_pivotal_is_found_where_the_case_blind_search_finds_it(text):
    for sample in [text, *_texts()]:
        expected = [match.start() for match in facts._PIVOTAL.finditer(sample)]
        assert list(facts._pivotal_starts(sample)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "News. About Acme Acme is great. Forward-Looking Statements This release...",
        "xSOURCE: no; SOURCE: yes; DATASOURCE: Acme; CONTACT: Jane",
        "Safe Harbor Statement Certain things. Cautionary Note Regarding X Any statement",
        "About the Company: About Beta Beta Inc.",
        "",
    ],
)
def test_inline_headings_are_searched_from_their_first_opening(text):
    for sample in [text, *_texts()]:
        for start in range(0, len(sample), max(1, len(sample) // 40)):
            for end in (len(sample), start + 200):
                expected = sections._INLINE_HEADING.search(sample, start, end)
                found = sections._inline_heading(sample, start, end)
                assert (found and found.span()) == (expected and expected.span())


@pytest.mark.parametrize(
    "text",
    [
        "Acme Inc. and Beta", "Acme Inc.", "Acme Inc", "Acme Inc.x", "Acme Inc..", "3.5 Co.",
        "A.G. A/S. N.V.x", "no stop", "", ".", "Inc. ", "Ltd.\n",
    ],
)  # fmt: skip
def test_a_sentence_is_searched_for_suffix_stops_where_one_can_be(text):
    for sample in [text, *(s.text for s in _sentences())]:
        if sections._SUFFIX_STOP.search(sample):
            assert sections._holds_suffix_stop(sample), sample
        plain = "." in sample[:-1] and any(stop in sample for stop in sections._SUFFIX_STOPS)
        assert sections._holds_suffix_stop(sample) <= plain, sample


def test_body_sentences_are_single_spaced_so_spaces_count_their_words():
    texts = [*_texts(), "A  b\tc\u00a0d \u2003e\n\nf g h i j k l m n. O p q r s t u v w x y z."]
    for text in texts:
        for sentence in split_release("T", text).sentences:
            if sentence.zone not in (sections.LEAD, sections.BODY):
                continue
            words = len(sentence.text.split(None, 7))
            assert (sentence.text.count(" ") >= 7) == (words >= 8), sentence.text


def test_text_is_collapsed_as_split_and_join_collapse_it():
    spaces = [chr(i) for i in range(0x3001) if chr(i).isspace()] + ["\u200b", "\xad", "\x00"]
    cases = ["", " ", "a", " a", "a ", "a  b", "a b c", "a\u2003b", *(f"a{c}b" for c in spaces)]
    for text in cases + [p for release in _texts() for p in release.split("\n\n")]:
        assert sections._collapse(text) == " ".join(text.split()), repr(text)
