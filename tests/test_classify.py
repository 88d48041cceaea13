"""The release classifier: tags, primary, evidence, facts and user patterns."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from monitor.classify import TAGS, classify
from monitor.classify.engine import DEFAULT_RULES, TagRules, build_rules
from monitor.classify.sections import split_release, split_sentences

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "clrb-2023-12-19-warf-license.txt"
SEED_TITLE = (
    "Cellectar Biosciences Expands Iopofosine I 131 Collaboration with Wisconsin Alumni "
    "Research Foundation"
)
DATELINE = (
    "BOSTON, March 4, 2024 (GLOBE NEWSWIRE) -- Acme Bio, Inc. (Nasdaq: ACME), a clinical-stage "
    "biopharmaceutical company developing therapies for rare diseases, today announced "
)
# The tail of a typical release, full of words that would tag it if boilerplate counted.
TAIL = """

About Acme Bio
Acme Bio is a clinical-stage company. Acme has an exclusive license agreement with Big Pharma
Inc. under which it receives royalties, the FDA granted Orphan Drug Designation to AB-1, and
its Phase 3 trial completed enrollment. Acme was awarded a $2 million NIH grant.

Forward-Looking Statements
This press release contains forward-looking statements about public offerings, acquisitions,
preclinical data in mice and the appointment of executives.

Contacts
Investors: ir@acme.example
"""


def release(title: str, lead: str, tail: str = TAIL) -> tuple[str, str]:
    """A short release: headline, dateline lead sentence(s), boilerplate."""
    return title, DATELINE + lead + tail


def tags_of(title: str, text: str) -> tuple[str, tuple[str, ...]]:
    result = classify(title, text)
    return result.primary, result.tags


# -- the hard cases keyword search gets wrong ------------------------------------------------


def test_granted_orphan_designation_is_regulatory_not_grant():
    title, text = release(
        "Acme Bio Announces Grant of Orphan Drug Designation for AB-4",
        "that the FDA has granted Orphan Drug Designation to AB-4 for Duchenne muscular dystrophy.",
    )
    assert tags_of(title, text) == ("regulatory", ("regulatory",))


def test_rare_pediatric_disease_designation_is_regulatory_not_grant():
    title, text = release(
        "Acme Bio Receives Rare Pediatric Disease Designation from FDA for AB-2",
        "the U.S. Food and Drug Administration (FDA) has granted rare pediatric disease "
        "designation for AB-2 in pediatric high-grade glioma.",
    )
    assert tags_of(title, text) == ("regulatory", ("regulatory",))


def test_inducement_grant_is_other():
    title, text = release(
        "Acme Bio Reports Inducement Grants Under Nasdaq Listing Rule 5635(c)(4)",
        "that on March 1, 2024, the Compensation Committee granted non-qualified stock options "
        "to purchase an aggregate of 45,000 shares of common stock to three new employees. The "
        "options have an exercise price of $4.12 per share and were granted as inducements "
        "material to the employees' entering into employment with the Company.",
    )
    assert tags_of(title, text) == ("other", ("other",))


def test_stock_option_grant_is_not_grant():
    title, text = release(
        "Acme Bio Grants Stock Options to Employees",
        "that its Board granted options to purchase 200,000 shares of common stock to employees.",
    )
    assert "grant" not in classify(title, text).tags


def test_nci_sbir_contract_is_grant_and_the_study_it_funds_is_not_trial():
    title, text = release(
        "Acme Bio Announces $2 Million NCI SBIR Contract for a Phase 2 Clinical Study",
        "that it has received a National Cancer Institute (NCI) Small Business Innovation "
        "Research (SBIR) contract award of $2 million to support a Phase 2 clinical study of AB-1.",
    )
    assert tags_of(title, text) == ("grant", ("grant",))


def test_invitation_to_submit_a_proposal_is_not_grant():
    title, text = release(
        "BARDA Invites Acme Bio to Submit Full Proposal for AB-9",
        "that BARDA has invited Acme to submit a full proposal for a contract to develop AB-9. "
        "The invitation is non-binding and is not a guarantee of a contract.",
    )
    assert "grant" not in classify(title, text).tags


def test_research_collaboration_without_license_is_deal():
    title, text = release(
        "Acme Bio and Golf University Announce Research Collaboration on Novel Antibiotics",
        "a research collaboration with Golf University to discover novel antibiotics. The "
        "university will screen compounds from Acme's library.",
    )
    assert tags_of(title, text) == ("deal", ("deal",))


def test_exclusive_rights_to_develop_and_commercialize_is_licensing_without_the_word():
    title, text = release(
        "Acme Bio Partners with Xray Pharma to Commercialize AB-2 in Japan",
        "that it has entered into an agreement with Xray Pharma K.K. under which Xray receives "
        "exclusive rights to develop and commercialize AB-2 in Japan. Acme will receive an upfront "
        "payment of $20 million and is eligible for milestones and royalties.",
    )
    assert tags_of(title, text) == ("licensing", ("licensing",))


def test_collaboration_with_upfront_and_royalties_is_licensing_not_deal():
    title, text = release(
        "Acme Bio Enters Into Global Agreement With Big Pharma to Develop and Market AB-1",
        "that it has entered into an agreement with Big Pharma, Inc. to develop and commercialize "
        "AB-1.\n\nBig Pharma will pay Acme tiered royalties on worldwide sales of AB-1.",
    )
    assert tags_of(title, text) == ("licensing", ("licensing",))


def test_acquisition_stays_deal_alongside_rights():
    title, text = release(
        "Acme Bio Acquires Rights to Phase 2-Ready Asset from Sierra Pharma",
        "that it has acquired worldwide rights to SP-3 from Sierra Pharma through an asset "
        "purchase agreement.",
    )
    assert tags_of(title, text) == ("deal", ("deal",))


def test_patent_issued_is_patent_not_licensing():
    title, text = release(
        "Acme Bio Announces Issuance of U.S. Patent Covering AB-1",
        "that the United States Patent and Trademark Office has issued U.S. Patent No. "
        "11,234,567 covering AB-1. The patent is licensed exclusively to Acme from Stanford.",
    )
    assert tags_of(title, text) == ("patent", ("patent",))


def test_patent_license_agreement_is_licensing_not_patent():
    title, text = release(
        "NIH and Acme Bio Enter Patent License Agreement for Cell Therapy",
        "it has entered into a Patent License Agreement with the National Institutes of Health, "
        "which granted the Company a non-exclusive worldwide license to 12 patents.",
    )
    assert tags_of(title, text) == ("licensing", ("licensing",))


def test_biologics_license_application_is_regulatory_not_licensing():
    title, text = release(
        "Acme Bio Submits Biologics License Application to FDA for AB-1",
        "that it has submitted a Biologics License Application (BLA) to the FDA for AB-1.",
    )
    assert tags_of(title, text) == ("regulatory", ("regulatory",))


def test_earnings_call_scheduling_is_conference_not_earnings():
    title, text = release(
        "Acme Bio to Report Fourth Quarter and Full Year 2023 Financial Results on March 5",
        "that it will report financial results for the fourth quarter after market close on "
        "March 5, 2024. Management will host a conference call and webcast at 4:30 p.m. ET.",
    )
    assert tags_of(title, text) == ("conference", ("conference",))


def test_results_release_tags_its_highlights_but_not_its_expense_drivers():
    # The labelling guide's convention: a results release's highlights are the period's news.
    title, text = release(
        "Acme Bio Reports First Quarter 2024 Financial Results",
        "financial results for the quarter ended March 31, 2024.\n\nInitiated the Phase 3 "
        "ASCEND-3 trial of AB-8 in February.\nReceived Fast Track designation for AB-3.\n\n"
        "Research and development expenses were $9.1 million for the quarter ended March 31, "
        "2024, driven by the ongoing Phase 2 trial of AB-5.\n\nNet loss for the quarter was "
        "$15.0 million.",
    )
    assert tags_of(title, text) == ("earnings", ("earnings", "regulatory", "trial"))


def test_stockholder_meeting_is_not_conference():
    title, text = release(
        "Acme Bio Encourages Stockholders to Vote Prior to Annual Meeting",
        "that it encourages stockholders to vote at the upcoming Annual Meeting of Stockholders.",
    )
    assert tags_of(title, text) == ("other", ("other",))


def test_topline_results_are_trial():
    title, text = release(
        "Acme Bio Announces Positive Topline Results from Phase 2b Trial of AB-101",
        "positive topline results from its Phase 2b trial of AB-101. The trial met its primary "
        "endpoint (p<0.001).",
    )
    assert tags_of(title, text) == ("trial", ("trial",))


def test_animal_data_is_preclinical_not_trial():
    title, text = release(
        "Acme Bio Publishes Data Showing AB-3 Reduces Tumor Growth in Mouse Models",
        "the publication of preclinical data showing that AB-3 reduced tumor growth by 80% in "
        "mouse models of pancreatic cancer.",
    )
    assert tags_of(title, text) == ("preclinical", ("preclinical",))


def test_headline_names_the_primary_of_several_tags():
    title, text = release(
        "FDA Lifts Clinical Hold on Acme Bio's Phase 1 Trial of AB-60",
        "that the FDA has lifted the clinical hold on its Phase 1 trial of AB-60.",
    )
    assert tags_of(title, text) == ("regulatory", ("regulatory", "trial"))


# -- what does not count ----------------------------------------------------------------------


def test_about_section_alone_earns_no_tag():
    title, text = release("Acme Bio Announces Corporate Name Change", "a new corporate name.")
    assert tags_of(title, text) == ("other", ("other",))


def test_financing_release_whose_about_section_lists_trials_is_not_trial():
    title, text = release(
        "Acme Bio Announces Closing of $50 Million Underwritten Public Offering",
        "the closing of its underwritten public offering of 5,000,000 shares of common stock. The "
        "gross proceeds were approximately $50 million.",
    )
    assert tags_of(title, text) == ("financing", ("financing",))


def test_quoted_background_earns_no_tag():
    title, text = release(
        "Acme Bio Announces Interim Data from Phase 1 Trial of AB-20",
        "interim data from its Phase 1 trial of AB-20, showing responses in 4 of 10 patients. "
        '"These data build on the licensing agreement we signed with Big Pharma," said the CEO.',
    )
    assert tags_of(title, text) == ("trial", ("trial",))


def test_event_dated_before_the_release_is_background():
    title, text = release(
        "Acme Bio Doses First Patient in Phase 1/2 Trial of AB-22",
        "that the first patient has been dosed in its Phase 1/2 trial of AB-22.\n\nIn 2021, "
        "Acme entered into an exclusive license agreement with Big Pharma for AB-22 in Asia.",
    )
    assert tags_of(title, text) == ("trial", ("trial",))


def test_plans_in_a_headline_are_not_events():
    title, text = release(
        "Acme Bio Reports Positive Phase 3 Results and Plans NDA Submission",
        "positive results from its Phase 3 trial, which met its primary endpoint.",
    )
    assert tags_of(title, text) == ("trial", ("trial",))


def test_other_when_nothing_fits():
    result = classify("Acme Bio Announces U.S. Commercial Launch of OXYLA", "OXYLA is available.")
    assert (result.primary, result.tags) == ("other", ("other",))
    assert result.evidence == (("other", ("Acme Bio Announces U.S. Commercial Launch of OXYLA",)),)


def test_empty_release_is_other():
    assert tags_of("", "") == ("other", ("other",))


@pytest.mark.parametrize("text", ["...", "• ...\n\n. . .", "\n\nAbout X\n", "Inc. Dr. U.S."])
def test_malformed_text_is_classified_without_error(text):
    result = classify("", text)
    assert result.primary in result.tags


# -- evidence -------------------------------------------------------------------------------


def test_every_tag_has_evidence_and_primary_is_a_tag():
    title, text = release(
        "Acme Bio Announces Strategic Collaboration and $15 Million Private Placement",
        "that it has entered into a securities purchase agreement for a $15 million private "
        "placement. The companies have also entered into a research collaboration.",
    )
    result = classify(title, text)
    assert result.tags == ("deal", "financing")
    assert result.primary in result.tags
    assert [tag for tag, _ in result.evidence] == list(result.tags)
    assert all(1 <= len(sentences) <= 3 for _, sentences in result.evidence)


def test_headline_is_evidence_for_the_tag_it_names():
    title, text = release(
        "Acme Bio Appoints Jane Roe to Board of Directors", "the appointment of Jane Roe."
    )
    assert classify(title, text).evidence_for("leadership")[0] == title


# -- the seed release -----------------------------------------------------------------------


def test_seed_release_is_licensing_with_warf_counterparty():
    result = classify(SEED_TITLE, SEED.read_text(encoding="utf-8"))
    assert result.primary == "licensing"
    # The quote states two events of this release: the NCI grant won, first enrollment ahead.
    assert result.tags == ("grant", "licensing", "trial")
    assert "$2 million" in result.facts.amounts
    assert "Phase 1a" in result.facts.phases
    assert "Wisconsin Alumni Research Foundation (WARF)" in result.facts.counterparties
    assert result.facts.tickers == ("NASDAQ:CLRB",)
    assert result.facts.agencies == ("NCI",)
    assert result.facts.trial_names == ("CLOVER-1", "CLOVER-2")
    assert "Exclusive License Agreement to Develop and Commercialize Pediatric Cancers" in (
        result.evidence_for("licensing")
    )


def test_quoted_award_and_first_enrollment_are_news_but_quoted_background_is_not():
    title, text = release(
        "Acme Bio Signs License Agreement",
        "Acme Bio (Nasdaq: ACME) signed an exclusive license agreement with Beta.\n\n"
        '"Our Phase 2 trial showed strong results last year," said the CEO.',
    )
    assert "trial" not in classify(title, text).tags
    title, text = release(
        "Acme Bio Signs License Agreement",
        "Acme Bio (Nasdaq: ACME) signed an exclusive license agreement with Beta.\n\n"
        '"We were awarded a $3 million NIH grant to fund the study, with first patient '
        'enrollment expected in the near term," said the CEO.',
    )
    assert {"grant", "trial"} <= set(classify(title, text).tags)


def test_seed_dateline_is_not_part_of_the_lead():
    sections = split_release(SEED_TITLE, SEED.read_text(encoding="utf-8"))
    assert sections.release_date == (2023, 12)
    assert not any("GLOBE NEWSWIRE" in s.text for s in sections.sentences)
    assert sections.boilerplate.startswith("About the Wisconsin Alumni Research Foundation")


# -- facts ----------------------------------------------------------------------------------


def test_amounts_extracted():
    facts = classify(
        "X", "Fees of $2 million, $1.5M, EUR 10 million, €5 million and US$3.2 billion; $590,000."
    ).facts
    assert facts.amounts == (
        "$2 million", "$1.5M", "EUR 10 million", "€5 million", "US$3.2 billion", "$590,000",
    )  # fmt: skip


def test_phases_normalised():
    text = (
        "A Phase I study, a phase 1a cohort, Phase IIb, Phase 1/2, Phase I-II and a pivotal trial."
    )
    assert classify("X", text).facts.phases == (
        "Phase 1", "Phase 1a", "Phase 2b", "Phase 1/2", "pivotal",
    )  # fmt: skip


def test_nct_ids():
    text = "See NCT02952508 and NCT01234567 at clinicaltrials.gov; NCT123 is not one."
    assert classify("X", text).facts.nct_ids == ("NCT02952508", "NCT01234567")


def test_tickers_with_exchanges_normalised():
    text = (
        "Aeterna (NASDAQ:AEZS) (TSX:AEZS); Pan Global (TSXV: PGZ; OTCQB: PGZFF; FRA: 2EU); "
        "Can-Fite (NYSE American: CANF). Time: 10:00 a.m."
    )
    assert classify("X", text).facts.tickers == (
        "NASDAQ:AEZS", "TSX:AEZS", "TSXV:PGZ", "OTC:PGZFF", "FRA:2EU", "NYSEAMERICAN:CANF",
    )  # fmt: skip


def test_trial_names_need_a_trial_nearby_and_skip_covid():
    text = (
        "The Phase 3 ASCEND-2 trial enrolled patients despite COVID-19 study delays. "
        "NSI-189 is a compound. A KEYNOTE-189 study is unrelated."
    )
    assert classify("X", text).facts.trial_names == ("ASCEND-2", "KEYNOTE-189")


def test_agencies_found_by_name_or_acronym():
    text = (
        "A grant from the National Institute of Allergy and Infectious Diseases, part of the "
        "NIH; a BARDA contract; CPRIT and CARB-X awards. The European Commission approved it."
    )
    assert classify("X", text).facts.agencies == ("NIAID", "NIH", "BARDA", "CPRIT", "CARB-X")


def test_counterparty_keeps_parenthetical_acronym_and_skips_issuer():
    title, text = release(
        "Acme Bio Signs License Agreement",
        "a license agreement with the Wisconsin Alumni Research Foundation (WARF) and a "
        "collaboration with Acme Bio Europe.",
    )
    facts = classify(title, text).facts
    assert facts.counterparties == ("Wisconsin Alumni Research Foundation (WARF)",)


# -- sections -------------------------------------------------------------------------------


def test_sentence_split_keeps_abbreviations_whole():
    text = "Acme Bio, Inc. and Dr. Smith of the U.S. No. 1 team met, e.g. in Jan. 2024. Then left."
    assert split_sentences(text) == [
        "Acme Bio, Inc. and Dr. Smith of the U.S. No. 1 team met, e.g. in Jan. 2024.",
        "Then left.",
    ]


@pytest.mark.parametrize(
    "heading",
    ["About Acme Bio", "ABOUT ACME BIO:", "Forward-Looking Statement Disclaimer", "Safe Harbor",
     "Contact:", "Media Contact", "Investor Relations", "Media/Investor Relations", "###",
     "Cautionary Note Regarding Forward-Looking Statements"],
)  # fmt: skip
def test_boilerplate_starts_at_heading(heading):
    text = f"{DATELINE}news of the day, told in full.\n\n{heading}\nThe FDA approved a grant.\n"
    sections = split_release("Acme Bio Announces News", text)
    assert sections.boilerplate.startswith(heading)
    assert "grant" not in sections.body_text


# -- user patterns --------------------------------------------------------------------------


def test_extra_pattern_adds_user_tag():
    rules = build_rules({"radiopharma": [r"\bradio(?:pharmaceutical|ligand|isotope)s?\b"]})
    title, text = release("Acme Bio Doses First Patient", "a first radioligand dosed in a trial.")
    result = classify(title, text, rules)
    assert "radiopharma" in result.tags
    assert result.primary == "trial"  # a user tag never displaces the headline's event
    assert result.evidence_for("radiopharma")


def test_extra_pattern_extends_existing_tag():
    rules = build_rules({"deal": [r"\bjoint lab(?:oratory)?\b"]})
    title, text = release("Acme Bio Opens Joint Laboratory in Basel", "a joint laboratory.")
    assert classify(title, text, rules).tags == ("deal",)
    assert classify(title, text).tags == ("other",)


def test_bad_extra_pattern_raises_valueerror_naming_tag():
    with pytest.raises(ValueError) as raised:
        build_rules({"oncology": [r"tumou?r(s"]})
    message = str(raised.value)
    assert "'oncology'" in message and "tumou?r(s" in message and "\n" not in message


def test_extra_pattern_for_other_is_refused():
    with pytest.raises(ValueError, match="other"):
        build_rules({"other": ["anything"]})


# -- properties -----------------------------------------------------------------------------


def test_classify_is_deterministic():
    text = SEED.read_text(encoding="utf-8")
    first = classify(SEED_TITLE, text)
    assert all(classify(SEED_TITLE, text) == first for _ in range(3))
    assert classify(SEED_TITLE, text, build_rules()) == first


def _labelled_sample() -> list[dict]:
    path = FIXTURES / "classify-labelled-sample.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _ungated(rules: TagRules) -> TagRules:
    """The same rules with every trigger and clause gate off: slower, same answers."""

    def open_up(clauses):
        return tuple(dataclasses.replace(clause, gate=None) for clause in clauses)

    return dataclasses.replace(
        rules,
        rules=tuple(
            dataclasses.replace(
                r, triggers=None, mention=open_up(r.mention), event=open_up(r.event)
            )
            for r in rules.rules
        ),
        _word_stems={},
    )


def test_trigger_words_never_change_a_result():
    ungated = _ungated(DEFAULT_RULES)
    for item in _labelled_sample():
        assert classify(item["title"], item["text"]) == classify(
            item["title"], item["text"], ungated
        ), item["id"]


def test_labelled_sample_scores_stay_above_floor():
    sample = _labelled_sample()
    right_primary, found, expected, predicted = 0, 0, 0, 0
    for item in sample:
        result = classify(item["title"], item["text"])
        right_primary += result.primary == item["primary"]
        found += len(set(result.tags) & set(item["tags"]))
        expected += len(item["tags"])
        predicted += len(result.tags)
    precision, recall = found / predicted, found / expected
    assert right_primary / len(sample) >= 0.9
    assert 2 * precision * recall / (precision + recall) >= 0.9


def test_tags_are_the_taxonomy():
    assert TAGS == (
        "licensing", "grant", "trial", "regulatory", "financing", "deal",
        "earnings", "patent", "preclinical", "conference", "leadership", "other",
    )  # fmt: skip
