"""Classes of mistakes that cost most on releases the rules were not written against (issue 12).

Each case is a small release written for the test, not a copy of a labelled one: headline,
dateline lead, and a boilerplate tail full of words that must not count.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.classify import KNOWN_TAGS, TAGS, classify, suggest_tag
from monitor.classify.engine import build_rules

FIXTURES = Path(__file__).parent / "fixtures"
SEED_TEXT = (FIXTURES / "clrb-2023-12-19-warf-license.txt").read_text(encoding="utf-8")
SEED_TITLE = (
    "Cellectar Biosciences Expands Iopofosine I 131 Collaboration with Wisconsin Alumni "
    "Research Foundation"
)
DATELINE = "DENVER, May 6, 2025 (GLOBE NEWSWIRE) -- Borealis Therapeutics, Inc. (Nasdaq: BRLS) "
TAIL = """

About Borealis Therapeutics
Borealis is a clinical-stage company. Its exclusive license from Northfield University covers
BT-7, which received Fast Track designation; a Phase 2 trial is enrolling patients.

Forward-Looking Statements
Statements about offerings, acquisitions and trials are forward-looking.
"""


def tagged(title: str, lead: str) -> tuple[str, tuple[str, ...]]:
    result = classify(title, DATELINE + lead + TAIL)
    return result.primary, result.tags


# (headline, lead and body, expected primary, expected tags)
CASES = {
    # -- executive appointments whose bios name trials and deals -------------------------
    "appointment_bio_names_trials_and_deals": (
        "Borealis Therapeutics Appoints Dana Whitfield as Chief Medical Officer",
        "today announced the appointment of Dana Whitfield, M.D., as Chief Medical Officer. "
        "Dr. Whitfield most recently served as head of development at Kestrel Pharma, where she "
        "led three Phase 3 trials and negotiated a $400 million licensing agreement.",
        "leadership",
        ("leadership",),
    ),
    "honour_for_a_scientist_is_neither_grant_nor_appointment": (
        "Borealis Chief Scientific Officer Wins 2025 Society Award for Translational Research",
        "today announced that Dr. Ian Marsh, its Chief Scientific Officer, has been named a "
        "recipient of the 2025 Translational Research Society Award for Translational Research.",
        "other",
        ("other",),
    ),
    # -- grant instalments, supplements and renewals --------------------------------------
    "grant_supplement_is_grant": (
        "Borealis Therapeutics Receives $1.8 Million Supplemental Grant from NIA",
        "today announced that it has received a $1.8 million supplemental grant award from "
        "the National Institute on Aging (NIA) to support its ongoing work.",
        "grant",
        ("grant",),
    ),
    "contract_option_exercised_is_grant": (
        "BARDA Exercises $9 Million Contract Option with Borealis Therapeutics",
        "today announced that the Biomedical Advanced Research and Development Authority "
        "(BARDA) has exercised a $9 million option under its existing contract with Borealis.",
        "grant",
        ("grant",),
    ),
    # -- clearance to start a trial --------------------------------------------------------
    "clearance_to_start_a_trial_is_regulatory_not_trial": (
        "Borealis Therapeutics Receives Approval to Begin Clinical Trial of BT-9 in Germany",
        "today announced that the national competent authority has authorized the company to "
        "begin its clinical trial of BT-9.",
        "regulatory",
        ("regulatory",),
    ),
    "clearance_and_first_patient_is_both": (
        "Borealis Therapeutics Receives FDA Clearance of IND and Doses First Patient",
        "today announced that the FDA has cleared its Investigational New Drug application for "
        "BT-9 and that the first patient has been dosed in the Phase 1 trial.",
        "regulatory",
        ("regulatory", "trial"),
    ),
    # -- collaborations with and without licence rights -----------------------------------
    "research_agreement_beside_a_licence_stays_a_deal": (
        "Borealis Therapeutics Announces Exclusive License and Research Agreement with "
        "Northfield University",
        "today announced that it exercised its option for an exclusive worldwide license to "
        "the university's BT-12 technology. Additionally, Borealis has entered into a research "
        "agreement with the university to conduct further studies on the potential vaccine.",
        "licensing",
        ("deal", "licensing"),
    ),
    "licence_rights_reacquired_from_a_partner_is_licensing": (
        "Borealis Therapeutics Re-acquires BT-3 Technology",
        "today announced that it has re-acquired from Kestrel Pharma Inc. the exclusive "
        "license for the development of BT-3.",
        "licensing",
        ("licensing",),
    ),
    "option_to_acquire_rights_is_licensing": (
        "Borealis and Kestrel Announce Exclusive Option Agreement for Acquisition of BT-4",
        "today announced an exclusive option agreement under which Borealis may acquire "
        "worldwide rights to BT-4 for milestones and royalties.",
        "licensing",
        ("licensing",),
    ),
    "upfront_payment_without_rights_is_a_research_deal": (
        "Borealis and Kestrel Sign Joint Research Agreement",
        "today announced that they have signed a joint research agreement to discover new "
        "antibodies. Kestrel will make an upfront payment of $5 million to Borealis.",
        "deal",
        ("deal",),
    ),
    "sale_of_a_stake_is_a_deal": (
        "Borealis Announces Closing of Sale of Its Stake in Nordvik Bio",
        "today announced that it has closed the previously disclosed sale of its 30% stake in "
        "Nordvik Bio to Kestrel Pharma for $40 million.",
        "deal",
        ("deal",),
    ),
    "joint_venture_affiliate_named_in_trial_news_is_no_deal": (
        "Borealis Therapeutics Announces Results of BT-5 Phase 1b Clinical Trial",
        "and its joint venture affiliate, Nordvik LLC, announced today the completion of and "
        "results from the Phase 1b clinical trial of BT-5.",
        "trial",
        ("trial",),
    ),
    "deal_named_as_the_cause_is_background": (
        "Borealis Regains Nasdaq Compliance Following Kestrel Agreement",
        "today announced that it has received a letter from Nasdaq stating that it has regained "
        "compliance with the minimum stockholders' equity requirement. This follows last week's "
        "announcement of its agreement with Kestrel Pharma.",
        "financing",
        ("financing",),
    ),
    # -- financings described inside other news -------------------------------------------
    "raise_named_as_a_condition_is_no_financing": (
        "Borealis Completes Sale of Manufacturing Assets to Kestrel",
        "today announced that Kestrel acquired its manufacturing assets for $6 million in "
        "cash. An additional $2 million will be payable upon Borealis raising $10 million in "
        "gross proceeds from equity financings.",
        "deal",
        ("deal",),
    ),
    "share_buyback_is_financing": (
        "Borealis Announces Share Repurchase Program",
        "today announced that its board of directors approved a share repurchase program of "
        "up to $20 million of its common stock.",
        "financing",
        ("financing",),
    ),
    # -- plans and expectations versus events -----------------------------------------------
    "a_filing_based_on_trials_is_not_trial_news": (
        "Borealis Announces FDA Acceptance of New Drug Application for BT-7",
        "today announced that the FDA has accepted its New Drug Application for BT-7. The "
        "filing is based on two pivotal Phase 3 trials demonstrating significant benefit.",
        "regulatory",
        ("regulatory",),
    ),
    "a_voucher_it_may_qualify_for_is_not_regulatory": (
        "Borealis Announces Protective Activity of BT-11 Vaccine in Mice",
        "today announced that BT-11 showed protective activity in mice. BT-11 may qualify for "
        "a Priority Review Voucher if approved.",
        "preclinical",
        ("preclinical",),
    ),
    "once_daily_dosing_is_not_a_condition": (
        "Borealis Therapeutics Receives $2 Million NIH Grant",
        "today announced that it has received a $2 million grant from the National Institutes "
        "of Health (NIH) for its BREEZE study.\n\nThe BREEZE study is enrolling 40 adults, "
        "each randomized to BT-7 or placebo once daily for 12 weeks.",
        "grant",
        ("grant", "trial"),
    ),
    # -- corporate events with no tag of their own ------------------------------------------
    "settlement_and_new_directors": (
        "Borealis Therapeutics and Its Largest Stockholder Announce Settlement Agreement",
        "today announced that it has entered into a settlement agreement with Nordvik Capital, "
        "its largest stockholder.\n\nUnder the agreement, the board added two new independent "
        "directors.",
        "other",
        ("leadership", "other"),
    ),
    "workforce_reduction_beside_a_failed_negotiation": (
        "Borealis Therapeutics Implements Workforce Reduction",
        "today announced that it has implemented a 60% workforce reduction effective "
        "immediately to conserve cash.",
        "other",
        ("other",),
    ),
    # -- patents ------------------------------------------------------------------------------
    "patent_upheld_in_opposition_is_patent": (
        "Borealis Therapeutics Announces Successful European Patent Defense",
        "today announced that the European Patent Office upheld the claims of its licensed "
        "European patent covering BT-7.",
        "patent",
        ("patent",),
    ),
    # -- results releases recap the period ----------------------------------------------------
    "results_highlights_are_the_periods_news": (
        "Borealis Therapeutics Reports Full Year 2024 Financial Results",
        "today reported financial results for the year ended December 31, 2024.\n\n"
        "Completed the acquisition of Nordvik Bio in July 2024.\n"
        "Appointed Dana Whitfield as Chief Medical Officer.\n\n"
        "Net loss for the year was $30.2 million.",
        "earnings",
        ("deal", "earnings", "leadership"),
    ),
    "review_without_a_headline_event_is_other": (
        "Borealis Therapeutics Reports on Key 2024 Milestones",
        "today released a report on the company's milestones in 2024.\n\n"
        "Receipt of Fast Track designation from the FDA for BT-7.\n"
        "First patient enrolled in the Phase 1 trial of BT-9.",
        "other",
        ("other", "regulatory", "trial"),
    ),
    # -- headline order decides the primary ---------------------------------------------------
    "the_first_topic_of_the_headline_is_primary": (
        "Borealis Announces Closing of Acquisition and Exclusive License to Nordvik Products",
        "today announced that it has completed the acquisition of Nordvik Bio and entered into "
        "an exclusive license agreement with Kestrel Pharma for BT-8.",
        "deal",
        ("deal", "licensing"),
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_general_class_of_mistake(case):
    title, lead, primary, tags = CASES[case]
    assert tagged(title, lead) == (primary, tags)


# -- user patterns add, never replace ----------------------------------------------------------

USER_PATTERNS = [
    {"licensing": [r"\bsub-?licen[cs]e\b"]},  # the README's example
    {"licensing": [r"\bIP\b"], "deal": [r"\bcollaborat\w*"]},
    {"trial": [r"\bpediatric\b"], "grant": [r"\bNCI\b"], "regulatory": [r"\bFDA\b"]},
    {"radiopharma": [r"\bradio\w*"], "deal": [r"\bExpands\b"]},
    {"patent": [r"\bpatent\w*"], "financing": [r"\$\d"]},
]


@pytest.mark.parametrize("patterns", USER_PATTERNS, ids=lambda p: ",".join(p))
def test_seed_release_keeps_every_built_in_tag_under_user_patterns(patterns):
    built_in = classify(SEED_TITLE, SEED_TEXT)
    assert built_in.primary == "licensing"
    with_user = classify(SEED_TITLE, SEED_TEXT, build_rules(patterns))
    assert with_user.primary == "licensing"
    assert set(built_in.tags) <= set(with_user.tags)
    assert all(with_user.evidence_for(tag) for tag in built_in.tags)


def test_user_pattern_for_a_built_in_tag_adds_it_where_the_rules_found_nothing():
    rules = build_rules({"licensing": [r"\bsub-?licen[cs]e\b"]})
    title, text = "Borealis Opens Office in Oslo", DATELINE + "a sublicense to Kestrel." + TAIL
    assert "licensing" not in classify(title, text).tags
    result = classify(title, text, rules)
    assert "licensing" in result.tags and result.evidence_for("licensing")


def test_user_pattern_never_removes_a_folded_or_recap_tag():
    title = "Borealis and Kestrel Announce Merger and Exclusive License for BT-8"
    lead = "today announced a definitive merger agreement and an exclusive license for BT-8."
    plain = classify(title, DATELINE + lead + TAIL)
    widened = classify(title, DATELINE + lead + TAIL, build_rules({"licensing": [r"\bBT-8\b"]}))
    assert set(plain.tags) <= set(widened.tags) and plain.primary == widened.primary


# -- tag names for others to check user input against -----------------------------------------


def test_known_tags_are_the_taxonomy():
    assert KNOWN_TAGS == TAGS


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [("grnat", "grant"), ("licencing", "licensing"), ("Trail", "trial"), ("regulator", "regulatory"),
     ("confrence", "conference"), ("deals", "deal"), ("xyzzy", None)],
)  # fmt: skip
def test_suggest_tag_names_the_nearest_known_tag(typed, nearest):
    assert suggest_tag(typed) == nearest
