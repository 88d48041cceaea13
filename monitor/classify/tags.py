"""The tag rules, as data: per tag, regex clauses that earn it and clauses that veto it.

A clause is one regex, or a tuple of regexes that must all match the same sentence (the first
one gives the match position). Each tag's entry in RULE_DATA has:

- ``mention``: clauses that count only in the headline and sub-headlines, where terse topic
  words ("Receives Orphan Drug Designation") are the news;
- ``event``: clauses that count anywhere: headline, sub-headlines and body;
- ``veto``: clauses that stop a sentence earning the tag ("granted orphan designation" is not a
  grant);
- ``shared``: which shared body vetoes apply: ``hedge`` (plans, expectations), ``background``
  (previously, as announced), ``line_item`` (financial-statement talk), ``quote`` (a sentence
  inside quotation marks) and ``dated`` (names a date before the release);
- ``deep``: whether a sentence past the lead may earn the tag alone. Regulatory and patent news
  is always in the headline or lead; deeper mentions restate history;
- ``triggers``: word stems of which every clause needs at least one ("licen" anywhere in a
  word, "co$" the whole word); a sentence without any is never run through the tag's regexes,
  and a clause only runs when a stem its own regexes spell out is there (this is what keeps
  classification fast; regexes must spell their stems out literally: "names|named", not
  "nam(?:es|ed)");
- ``subhead_mentions`` (default true): whether ``mention`` clauses count in sub-headlines.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

TAGS = (
    "licensing", "grant", "trial", "regulatory", "financing", "deal",
    "earnings", "patent", "preclinical", "conference", "leadership", "other",
)  # fmt: skip
# The tag names a user may write (in alert_tags, [classify.patterns] keys and `tag:` queries).
KNOWN_TAGS: tuple[str, ...] = TAGS


def suggest_tag(name: str, known: Iterable[str] = KNOWN_TAGS) -> str | None:
    """The known tag nearest to a mistyped `name` ("grnat" -> "grant"), or None if none is close."""
    found = difflib.get_close_matches(name.strip().lower(), list(known), n=1, cutoff=0.6)
    return found[0] if found else None


# When the headline names several events at the same place, the more specific one wins.
PRIORITY = (
    "regulatory", "earnings", "financing", "licensing", "grant", "patent",
    "deal", "trial", "preclinical", "leadership", "conference", "other",
)  # fmt: skip

# fmt: off
_AGENCY = (
    r"\b(?:(?:NIH|NCI|NIAID|NIDA|NHLBI|NIA|NINDS|NIMH|NIDDK|NCATS|NIGMS|NICHD|NIAAA|NIEHS"
    r"|NIBIB|NEI|NIAMS|NHGRI|BARDA|HHS|ASPR|DoD|DOD|CDMRP|DTRA|DARPA|JPEO|MTEC|CPRIT|CIRM"
    r"|CARB-X|SBIR|STTR|EIC|IMI|CEPI|JDRF|MJFF|CFF|NSF|AHRQ|PCORI|USAID|NIHR|CDC)"
    r"|National Institutes? (?:of|on|for) \w+|National Cancer Institute|National Heart, Lung"
    r"|Biomedical Advanced Research|Department of (?:Defense|Health|Energy|Veterans Affairs)"
    r"|Congressionally Directed|Cancer Prevention (?:and|&) Research Institute"
    r"|California Institute for Regenerative|Small Business (?:Innovation|Technology)"
    r"|Horizon (?:2020|Europe)|European (?:Commission|Union|Innovation Council|Research Council)"
    r"|Innovative Medicines Initiative|Gates Foundation|Wellcome|Michael J\. Fox|Defense Threat"
    r"|Defense Advanced Research|Innovate UK|Israel Innovation Authority|U\.S\. Army"
    r"|Centers for Disease Control|ARPA-H|Advanced Research Projects Agency for Health"
    r"|Project (?:BioShield|NextGen)|foundation|association|society|trust|charity|university)\b"
)
_LICENSE = r"\b(?:in-?|out-?|sub-?|cross-?)?licen[cs](?:e|es|ed|ing|or|ors|ee|ees)\b"
_TERRITORY = (
    r"(?:exclusive|non-exclusive|worldwide|global|regional|North American|European|Asian"
    r"|Japanese|Chinese|Korean|U\.S\.|commercial(?:ization)?|development|marketing"
    r"|distribution|all)"
)
_PHASE = r"(?:phase|ph\.)\s*(?:[1-4]|I{1,3}|IV)(?:[ab]|/\d)?\b"
_TRIAL = (
    rf"\b(?:trials?|clinical(?:ly)?|{_PHASE}|pivotal|registrational|first-in-human|cohorts?"
    r"|stud(?:y|ies)|patients?|subjects?)"
)
_TRIAL_STRICT = rf"\b(?:trials?|{_PHASE}|pivotal|clinical stud(?:y|ies)|cohorts?|first-in-human)"
_PRECLINICAL = (
    r"\b(?:preclinical|pre-clinical|nonclinical|non-clinical|in vitro|in vivo|ex vivo"
    r"|animals?|mice|mouse|murine|rats?|rodents?|primates?|NHPs?|xenografts?|IND-enabling"
    r"|cell (?:lines?|cultures?|migration|proliferation|viability)|cell-based|organoids?"
    r"|mechanism of action)\b"
)
_DATA = (
    r"\b(?:data|results?|demonstrat\w*|show(?:s|ed|n|ing)?|confirm\w*|found|findings?"
    r"|reveal\w*|publish\w*|publication|observ\w*|suggest\w*|indicat\w*|reduc\w*|improv\w*"
    r"|inhibit\w*|protect\w*|efficacy|effects?|activity|describ\w*)\b"
)
_REG_AGENCY = (
    r"\b(?:(?:FDA|EMA|CHMP|PMDA|MHRA|NMPA|CFDA|TGA|ANVISA|COFEPRIS|PRAC|CDER|CBER|CDRH)"
    r"|Health Canada|Swissmedic|Food (?:and|&) Drug Administration|European Medicines Agency"
    r"|European Commission|Ministry of (?:Health|Food and Drug Safety)"
    r"|regulatory (?:authorit\w+|agenc\w+)|(?:national|health|drug|medicines?) regulators?"
    r"|national (?:office|agency|authority) for|competent authorit\w+"
    r"|(?:BfArM|ANSM|AEMPS|AIFA|URPL|MFDS|CDSCO|SAHPRA|HSA|Medsafe))\b"
)
_REG_THING = (
    r"\b(?:orphan(?:[- ]drug)? (?:drug )?(?:designation|status)|fast[- ]track(?: designation"
    r"| status)?|breakthrough (?:therapy|device)(?: designation)?|regenerative medicine advanced"
    r"|rare pediatric (?:disease|drug) (?:designation|priority)|priority review|accelerated"
    r" approval|conditional approval|complete response letter|(?:marketing|emergency use)"
    r" authori[sz]ation|positive opinion|investigational new drug|new drug application"
    r"|biologics? licen[cs]e application|biological licensure application|investigational"
    r" device exemption|clinical trial application|special protocol assessment|ce mark\w*"
    r"|(?:IND|NDA|sNDA|BLA|sBLA|MAA|ANDA|IDE|PMA|CTA|EUA|CRL|RMAT|QIDP|PDUFA|SPA|BTD|510\(k\))"
    r"|PRIME (?:designation|eligibility|scheme)|approvable letter|(?:target )?action date"
    r"|end[- ]of[- ]phase (?:[1-3]|I{1,3}) meeting|type [abc] meeting|pre-(?:IND|NDA|BLA) meeting"
    r"|scientific advice|protocol assistance|[GM]DUFA|BsUFA)(?![\w-])"
)
_REG_EVENT = (
    r"\b(?:approv\w*|clear\w*|accept\w*|authori[sz]\w*|grant\w*|designat\w*|submi\w*"
    r"|fil(?:e|es|ed|ing)|opinion|recommend\w*|receiv\w*|receipt|lift\w*|allow\w*|validat\w*"
    r"|issu\w*|assign\w*|award\w*|obtain\w*|secur\w*|achiev\w*|review\w*)\b"
)
_NAMED_EVENT = (
    r"(?-i:(?:[A-Z][\w&'’.-]*\s+(?:(?:of|for|on|and|&)\s+)?){1,8}(?:Meeting|Congress|Conference"
    r"|Symposium|Summit|Sessions|Forum|Workshop|Convention|Expo|Colloquium)s?\b)"
)
_CALL = (
    r"\b(?:conference call|teleconference|webcast|webinar|fireside chat|investor (?:day|event)"
    r"|R&D day|KOL (?:event|webinar|call|meeting)|analyst (?:day|meeting)|virtual event)s?\b"
)
_SCHEDULE = (
    r"\b(?:will|to be|host\w*|held|hold|schedul\w*|conduct\w*|dial\w*|access\w*|join|listen"
    r"|replay|Monday|Tuesday|Wednesday|Thursday|Friday)\b|\d{1,2}:\d\d"
    r"|(?-i:\b(?:AM|PM|ET|EST|EDT|PT|PST|PDT|GMT|CET)\b)|\ba\.m\.|\bp\.m\."
)
_PERIOD = (
    r"\b(?:(?:first|second|third|fourth) (?:quarter|half)|Q[1-4]|quarter(?:ly)?|fiscal"
    r"|full[- ]year|year[- ]end|annual|half[- ]year|six[- ]month|nine[- ]month|twelve[- ]month)\b"
)
_FINANCING = (
    r"\b(?:public offering|underwritten offering|offering of (?:\$|[\d,.]+|up to|shares|common"
    r"|ordinary|units|notes|securities|american depositary)|private placement|rights offering"
    r"|registered"
    r" direct|at-the-market|(?:ATM|PIPE)|equity (?:financing|line|purchase agreement)"
    r"|securities purchase agreement|financing|capital raise|gross proceeds|net proceeds"
    r"|pricing of|priced|shelf registration|warrant (?:exercise|inducement)s?|exercise of"
    r" (?:\w+ )?warrants|loan (?:agreement|facility)|term loan|credit (?:facility|agreement)"
    r"|debt (?:financing|facility)|convertible (?:notes?|debentures?|preferred)|notes offering"
    r"|reverse (?:stock )?split|share consolidation|uplist\w*|tax (?:certificate|credit)"
    r" transfer|royalty (?:monetization|financing|purchase)|normal course issuer bid"
    r"|(?:share|stock) (?:re)?purchase (?:program|plan)|(?:share|stock) buy-?backs?)\b"
)
# Listing news names the exchange, but not as a ticker's prefix ("(Nasdaq: ACME) ... hearing
# loss" is not a listing hearing).
_LISTING = (
    r"\b(?:Nasdaq|NYSE)\b(?!(?: American| MKT| Amex)?\s*:)[^.;]{0,80}\b(?:deficiency|minimum bid"
    r"|delist\w*|regain\w* compliance|listing (?:requirements?|standards?|qualifications?)"
    r"|hearings? panel|panel hearing|approved for listing|notif(?:ication|ied)|notice"
    r"|grace period|bid price|compliance)\b"
    r"|\b(?:approved for|begin|commence)\w* (?:listing|trading) on (?:the )?(?:nasdaq|nyse)\b"
)
_TAX_SALE = (
    r"\b(?:sell|sale|sold|transfer\w*)\b[^.;]{0,60}\b(?:net operating loss\w*|(?:NOLs?)"
    r"|tax (?:credits?|benefits?|certificates?))"
)
_DEAL = (
    r"\b(?:collaborat\w*|partnership|alliance|joint venture|co-develop\w*|co-commerciali[sz]\w*"
    r"|co-promot\w*|memorandum of understanding|(?:MOU|LOI)|letter of intent|term sheet"
    r"|(?:supply|distribution|manufacturing|research|services) agreement|(?:definitive|merger"
    r"|asset purchase|share purchase|stock purchase|business combination) agreement|merger"
    r"|acquisition|business combination|tender offer|takeover|divest\w*|spin-?(?:off|out)"
    r"|(?:sale|sell|sold|sells) (?:of )?(?:\w+ ){0,4}(?:assets?|stake|business|division|unit"
    r"|subsidiary|portfolio|shares in|interest in)|transaction to separate)\b"
)
_DEAL_VERB = (
    r"\b(?:enter\w*|sign\w*|announc\w*|form\w*|establish\w*|expand\w*|extend\w*|launch\w*"
    r"|initiat\w*|complet\w*|clos\w*|agree\w*|execut\w*|finaliz\w*|renew\w*)\b"
)
_MERGER = (
    r"(?<!re-)\b(?:acqui(?:re|res|red|ring|sition)|merge(?:r|s|d)?|business combination"
    r"|tender offer|takeover|asset purchase)\b"
)
_TITLE = (
    r"\b(?:chief [a-z]+ officer|(?:CEO|CFO|COO|CMO|CSO|CBO|CCO|CTO|CDO|SVP|EVP)|president"
    r"|chair(?:man|woman|person)?|board|directors?|general counsel|head of|treasurer)\b"
)
# Verbs spelled out whole: each must contain one of the tag's trigger stems literally.
_LEADER_VERB = (
    r"\b(?:appoint\w*|names|named|elect|elects|elected|promotes|promoted|hire|hires|hired|join"
    r"|joins|joined|welcom\w*|retire\w*|resign\w*|steps? down|stepping down|departs|departed"
    r"|departing|departure|succeed\w*|successor|passed away)\b"
)

RULE_DATA: dict[str, dict] = {
    "licensing": {
        "mention": [_LICENSE, r"\brights to (?:develop|commerciali[sz]e|market|sell)\b",
                    r"\boptions? (?:agreement )?(?:to|for) (?:(?:in-)?licen|acqui)",
                    r"\bmilestone payments?\b", r"\broyalt(?:y|ies)\b",
                    r"\b(?:regain\w*|reacquir\w*)\b[^.;]{0,40}\brights\b"],
        "event": [
            r"\b(?:enter\w*|sign\w*|execut\w*|expand\w*|amend\w*|extend\w*|terminat\w*|exercis\w*"
            r"|announc\w*|complet\w*|finaliz\w*|grant\w*|obtain\w*|receiv\w*|(?:re-?)?acquir\w*"
            rf"|regain\w*|secur\w*)\b[^.;]{{0,80}}{_LICENSE}",
            rf"\b(?:has|have)\s+(?:\w+\s+){{0,2}}{_LICENSE}",
            (r"\b(?:licen[cs]es?|rights)\s+to\s+(?:develop|commerciali[sz]e|market|sell|use)\b",
             r"\b(?:exclusive|grant\w*|obtain\w*|receiv\w*|acquir\w*|gain\w*|agreement|transfer\w*)"),
            r"\b(?:grant\w*|obtain\w*|receiv\w*|(?:re-?)?acquir\w*|regain\w*|gain\w*|transfer\w*"
            rf"|secur\w*|agreement for)\b[^.;]{{0,60}}\b{_TERRITORY}\s+"
            r"(?:[\w-]+\s+){0,3}rights\b",
            # an option to license (or to acquire rights) is licensing by the taxonomy
            r"\b(?:exclusive|grant\w*|exercis\w*|enter\w*|sign\w*)\b[^.;]{0,40}\boptions?"
            r"(?: agreement)?\b[^.;]{0,20}\b(?:to|for)\b[^.;]{0,20}\b(?:licen|acqui|rights)",
            (r"\broyalt(?:y|ies)\b", r"\b(?:pay|pays|paid|receiv\w*|eligible|tiered|single-digit"
             r"|double-digit|percent|on (?:net )?sales)\b"),
            r"\bmilestone payments?\b[^.;]{0,60}\bfrom\b",
            r"\b(?:received|receives|earned|earns|trigger\w*|achiev\w*)\b[^.;]{0,60}\bmilestone"
            r" payments?\b",
            # an upfront payment makes a licence only with rights or royalties beside it (a
            # research collaboration is paid upfront too)
            (r"\b(?:upfront|up-front)\s+(?:cash\s+)?(?:payment|fee)\b",
             r"\b(?:royalt(?:y|ies)|rights)\b"),
        ],
        "veto": [r"\blicen[cs]e application\b|\blicensure\b",
                 r"\b(?:business|manufacturing|operating|import|export|pharmacy|production|GMP"
                 r"|wholesale)\s+licen[cs]es?\b|\blicen[cs]e (?:required|to operate)\b",
                 r"\bpatents?\b[^.;]{0,30}\b(?:issued|granted|allowed) (?:to|by|in)\b"
                 r"|\bnotice of allowance\b|\bpatent office\b",
                 r"\b(?:seek\w*|explor\w*|evaluat\w*|pursu\w*|potential|opportunit\w*)\b[^.;]{0,40}"
                 r"\b(?:licen[cs]|partner)", r"\bstrategic (?:options|alternatives)\b",
                 r"\basset purchase\b",  # rights bought outright are a deal
                 r"\broyalty (?:monetization|financing|purchase|interest)\b"],
        "shared": ("background", "line_item", "quote", "dated", "cumulative"),
        "deep": True,
        "triggers": "licen rights milestone royalt upfront front regain reacquir option",
    },
    "grant": {
        "mention": [(_AGENCY, r"\b(?:grants?|awards?|awarded|contracts?|funding|funds|options?"
                     r"|support\w*)\b"),
                    r"\b(?:receiv\w*|award\w*|secur\w*|wins?|won|obtain\w*)\b[^.;]{0,60}\bgrants?\b",
                    r"\$\s?[\d.,]+\s*(?:million|billion|thousand|[MBK])?\b[^.;]{0,30}\b(?:grant|award"
                    r"|contract funding|in funding)\b"],
        "event": [
            (r"\b(?:award\w*|receiv\w*|secur\w*|won|wins|obtain\w*|exercis\w*|execut\w*|extend\w*"
             r"|renew\w*|recommended for funding|notice of|selected)\b",
             r"\b(?:grants?|awards?|contracts?|funding|options?|cooperative agreement)\b", _AGENCY),
            r"\b(?:receiv\w*|award\w*|secur\w*|won|wins|obtain\w*)\b[^.;]{0,60}\bgrants?\b",
            r"\bgrants?\s+(?:of|worth|totaling|valued at)\s+(?:up to\s+)?(?:approximately\s+)?\$",
        ],
        "veto": [r"\b(?:orphan|designation|fast[- ]track (?:designation|status)|breakthrough"
                 r" therapy|rare pediatric|priority review|marketing authori[sz]ation)\b",
                 r"\bgrant(?:s|ed)?\s+(?:\w+\s+){0,2}(?:approval|authori[sz]ation|clearance|status)\b",
                 r"\binducement\b|\b(?:stock|share|equity|option|RSU|restricted stock)\w*\s+"
                 r"(?:unit\s+)?(?:grants?|awards?)\b|\bgrants? of (?:\w+\s+){0,3}(?:options"
                 r"|RSUs|restricted|shares|stock)\b|\boptions? to purchase\b|\bexercise price\b"
                 r"|\bvest(?:ing|s)?\b",
                 r"\bpatents?\b[^.;]{0,20}\bgrants?\b|\bgrant\w*\b[^.;]{0,30}\bpatents?\b",
                 _LICENSE,
                 r"\b(?:grant|contract) (?:revenue|income)\b|\bgrant date\b",
                 r"\b(?:invit\w*|submit\w*|submission)\b[^.;]{0,60}\bproposals?\b|\bnon-binding\b"
                 r"|\bnot a guarantee\b",
                 r"\btax (?:credits?|certificates?|benefits?)\b|\bnet operating loss|(?:\bNOLs?\b)",
                 r"\boption to (?:in-?)?licen[cs]e|\boption to acquire\b|\bwarrants?\b",
                 r"\baward for (?:[\w-]+\s+){0,4}(?:research|excellence|achievement|innovation"
                 r"|leadership|contributions?|service)\b|\b(?:prize|honou?r\w*|lifetime)\b"
                 r"|\bnamed (?:a |an |the )?(?:recipient|winner|finalist)\b"],
        "strong": [
            r"\b(?:we|company|it|they)\s+(?:were|was|have been|has been|had been)\s+awarded\b"
            r"[^.;]{0,60}\bgrants?\b",
        ],
        "shared": ("hedge", "background", "line_item", "quote", "dated", "cumulative"),
        "deep": True,
        "triggers": "grant award fund contract option support cooperative",
    },
    "trial": {
        "mention": [(_TRIAL, r"\b(?:results?|data|top-?line|read-?out|interim|final|enrol\w*"
                     r"|dos(?:e|ed|es|ing)|first patient|initiat\w*|start\w*|commenc\w*|launch\w*"
                     r"|begins?|began|complet\w*|met|meets|achiev\w*|positive|negative|demonstrat\w*"
                     r"|shows?|showed|activity|efficacy|safety|response|survival|improvement|benefit"
                     r"|(?:DSMB|DMC|IDMC|DSMC)|treat"
                     r"|treats|treated|publication|published|randomi[sz]\w*|endpoints?|halt\w*|hold"
                     r"|discontinu\w*|terminat\w*|suspend\w*|paus\w*|updates?|conclusions?)\b")],
        "event": [
            (r"\b(?:top-?line|interim|final|preliminary|positive|negative|updated|additional|new"
             r"|clinical|efficacy|safety|long-term|follow-up)\s+(?:\w+\s+){0,2}(?:data|results"
             r"|findings|read-?out)\b", _TRIAL),
            r"\b(?:data|results|findings|case study|case report|analys[ie]s|outcomes?|read-?out)\b"
            rf"[^.;]{{0,40}}\b(?:from|of|in)\b[^.;]{{0,80}}{_TRIAL_STRICT}",
            r"\b(?:met|meet|meets|achiev\w*|miss\w*|failed to meet)\b[^.;]{0,40}\bendpoints?\b",
            r"\b(?:complet\w*|achiev\w*|reach\w*|finish\w*)\b[^.;]{0,40}\b(?:enrol\w*"
            r"|randomi[sz]ation|recruitment)\b",
            r"\b(?:enrol(?:l)?ment|recruitment)\b[^.;]{0,40}\b(?:complete[d]?|target|milestone)\b",
            r"\b(?:first|initial|last|final)\s+(?:\w+\s+)?(?:patient|subject|participant|cohort)s?"
            r"\b[^.;]{0,40}\b(?:dosed|enrolled|treated|randomi[sz]ed)\b",
            (r"\b(?:has|have|was|were|been)\s+(?:\w+\s+)?(?:enrolled|dosed|randomi[sz]ed)\b",
             _TRIAL_STRICT),
            r"\b(?:complet\w*|conclu\w*)\b[^.;]{0,40}(?:clinical (?:trial|study)|trial)\b",
            r"\b(?:enrolled|randomi[sz]ed|dosed|treated)\s+(?:approximately\s+|over\s+"
            r"|more than\s+)?\d+\s+(?:\w+\s+)?(?:patients|subjects|participants|women|men|adults"
            r"|children)\b",
            r"\b(?:initiated|initiates|started|starts|commenced|commences|launched|launches|began"
            r"|begun|opened|opens)\b[^.;]{0,60}\b(?:trial|study|registration program|(?:phase|ph\.)"
            r"\s*(?:[1-4]|I{1,3})|dosing)\b",
            r"\bauthori[sz]\w*\b[^.;]{0,30}\bcommencement\b",
            ((r"\b(?:DSMB|DMC|IDMC|DSMC)\b|\bdata (?:and )?safety monitoring|\bdata monitoring"
              r" committee"), r"\b(?:recommend\w*|review\w*|conclu\w*|deemed|clear\w*|found"
             r"|determin\w*|complet\w*)"),
            r"\bclinical hold\b",
            r"\blast (?:patient|subject|participant) (?:out|visit|dosed|completed)\b"
            r"|\bdatabase lock\b",
            (r"\b(?:randomi[sz]ed|double-blind(?:ed)?|placebo[- ]controlled|open-label|multi-?cent"
             r"(?:er|re)|dose[- ](?:escalation|finding|ranging))\b",
             r"\b(?:trial|stud(?:y|ies))\b"),
            (r"\b(?:overall survival|progression[- ]free|objective response|response rate|complete"
             r" response|partial response|disease control|clinical benefit|statistically"
             r" significant|p\s*[=<≤]\s*0?\.\d+|hazard ratio|median survival|well[- ]tolerated"
             r"|adverse events?|clinically meaningful)\b",
             r"\b(?:patients?|subjects?|cohorts?|trial|study|clinical|arm)\b"),
        ],
        "veto": [_PRECLINICAL,
                 # what an award pays for: "contract for a Phase 2 study", "will fund the trial"
                 r"\b(?:for (?:a|an)|(?:to )?(?:support|fund)(?:s|ed|ing)?(?: (?:a|an|the|its))?"
                 r"|funding for|to advance(?: (?:a|an|the|its))?)\s+(?:planned\s+|future\s+"
                 r"|potential\s+|new\s+|ongoing\s+)?(?:phase|pivotal|clinical|trial)",
                 r"\bclinical trial (?:agreements?|material|supply)\b",
                 # the regulator's leave to start is regulatory; the start itself is apart
                 r"\b(?:approv\w*|authori[sz]\w*|clearance|cleared|permission|ok|green light)"
                 r"\b[^.;]{0,30}\bto (?:begin|start|initiate|commence|proceed)\b",
                 # "designation based on Phase 2 data": the data are the basis, not the news
                 # (unless the sentence goes on to a first patient: that is news of its own)
                 r"\bbased on\b[^.;]{0,80}\b(?:data|results|findings|trials?|stud(?:y|ies))\b"
                 r"(?![^.;]*\bfirst (?:patient|subject|participant))"],
        "strong": [
            r"\b(?:enrol(?:l)?ment|dosing) of (?:the )?first (?:patient|subject|participant)\b"
            r"|\bfirst (?:patient|subject|participant) (?:enrol(?:l)?ment|dosing|dosed|enrolled)\b",
        ],
        "shared": ("hedge", "background", "line_item", "quote", "dated"),
        "deep": True,
        "triggers": (
            "trial clinical phase ph$ pivotal registrational registration first$ cohort stud"
            " patient subject participant endpoint enrol randomi recruit women$ men$ adult children"
            " dosing commencement dsmb dmc idmc dsmc monitoring arm$ last$ database$"
        ),
    },
    "regulatory": {
        "mention": [(_REG_THING, _REG_EVENT), (_REG_AGENCY, _REG_EVENT),
                    r"\bpositive (?:\w+ )?opinion\b", r"(?:\bPDUFA\b)",
                    # clearance to run a trial is a regulator's decision (trial news is apart)
                    r"\b(?:approv\w*|authori[sz]\w*|clearance|cleared|permission|ok|green light)"
                    r"\b[^.;]{0,40}\b(?:trials?|stud(?:y|ies))\b"],
        "event": [
            rf"{_REG_AGENCY}[^.;]{{0,40}}\b(?:has |have |had )?(?:approved|granted|cleared"
            r"|accepted|authori[sz]ed|issued|adopted|designated|lifted|recommended|agreed|validated"
            r"|assigned|set|notified)\b",
            r"\b(?:received|receives|receipt|obtained|obtains|announced|announces|been granted"
            r"|was granted|were granted|submitted|submits|filed|files|completed (?:the )?submission"
            rf"|granting)\b[^.;]{{0,100}}{_REG_THING}",
            (r"\b(?:received|receives|receipt of|obtained|obtains)\b[^.;]{0,60}\b(?:approval"
             r"|clearance|authori[sz]ation|acceptance)\b", _REG_AGENCY),
            r"(?:\b[PGM]DUFA\b)[^.;]{0,40}\bdate\b",
            r"\b(?:received|receives|obtained|obtains|granted|secured)\b[^.;]{0,30}\b(?:regulatory"
            r"|European|national|marketing|import|U\.S\.)"
            r" (?:approval|clearance|authori[sz]ation)\b",
            (r"\b(?:authori[sz]ed|approved|cleared|allowed)\b[^.;]{0,40}\b(?:to (?:proceed|begin"
             r"|start|initiate|commence|accelerate|conduct|dose)|(?:protocol )?amendment)\b",
             _REG_AGENCY),
        ],
        "veto": [r"\b(?:stockholders?|shareholders?)\b", r"\bpatents?\b", r"\bIND-enabling\b",
                 r"\b(?:plans?|planned|planning|intends?|expects?|anticipates?|prepares?|preparing"
                 r"|on track)\b[^.;]{0,40}\b(?:submi\w*|fil(?:e|es|ing)|seek|request)\b"
                 r"|\b(?:planned|anticipated|expected|upcoming|future|potential) (?:\w+ )?"
                 r"(?:submission|filing|application)",
                 r"\b(?:potential(?:ly)?|eligible|pathway|strategy|required|requirements?|necessary"
                 r"|toward|towards|path to|already)\b",
                 r"\b(?:may|might|could) (?:qualify|be eligible|receive|become)\b"
                 r"|\bif (?:\w+-)?approved\b"],
        "shared": ("hedge", "background", "line_item", "quote", "dated"),
        "deep": False,
        "triggers": (
            "fda ema chmp pmda mhra nmpa cfda tga anvisa cofepris prac cder cber cdrh health$"
            " swissmedic food$ european$ ministry regulatory$ orphan fast$ breakthrough"
            " regenerative rare$ priority$ accelerated$ conditional$ complete$ marketing$"
            " emergency$ positive$ investigational$ new$ biologic application special$ ind$ nda$"
            " snda$ bla$ sbla$ maa$ anda$ ide$ pma$ cta$ eua$ crl$ rmat$ qidp$ pdufa$ prime$ spa$"
            " btd$ 510$ ce$ approv authori clearance cleared permission ok$ green$ received$"
            " receives$ obtained$ obtains$ granted$ secured$ allowed$ regulator national$"
            " competent$ bfarm$ ansm$ aemps$ aifa$ urpl$ mfds$ cdsco$ sahpra$ hsa$ medsafe$"
            " approvable$ action$ end$ type$ pre$ scientific$ protocol$ gdufa$ mdufa$ bsufa$"
        ),
    },
    "patent": {
        "mention": [(r"\bpatents?\b", r"\b(?:issu\w*|grant\w*|allow\w*|accept\w*|receiv\w*"
                     r"|secur\w*|obtain\w*|award\w*|notice|new|defen[cs]e|upheld|uph[eo]ld\w*"
                     r"|opposition|reexamination|validity|prevail\w*)\b")],
        "event": [
            r"\bnotice of (?:allowance|acceptance|intention to grant|intent to grant)\b",
            (r"\bpatents?\b", r"\b(?:has|have|was|were|been)\s+(?:\w+\s+)?(?:issued|granted"
             r"|allowed|accepted)\b|\b(?:issued|granted|allowed)\s+(?:a|the|an)?\s*(?:new\s+)?"
             r"(?:U\.S\.\s+)?patent|\b(?:received|receives|obtained|secured)\b[^.;]{0,40}\bpatent"),
            r"\bpatent (?:and trademark )?office\b[^.;]{0,80}\b(?:issued|granted|allowed|accepted"
            r"|upheld)",
            (r"\bpatents?\b", r"\b(?:upheld|uph[eo]lds?|maintained|rejected the opposition"
             r"|revocation (?:was )?(?:rejected|denied))\b"),
        ],
        # "its licensed patent" is no licence
        "veto": [rf"{_LICENSE}(?! (?:patent|european|u\.s\.))",
                 r"\b(?:fil\w+|submit\w*)\b[^.;]{0,30}\bpatent applications?\b"],
        "shared": ("hedge", "background", "quote", "dated"),
        "deep": False,
        "triggers": "patent notice",
    },
    "preclinical": {
        "mention": [(_PRECLINICAL, _DATA)],
        "event": [(_PRECLINICAL, _DATA),
                  (r"\bind-enabling\b", r"\b(?:initiat\w*|start\w*|commenc\w*|complet\w*)\b")],
        "veto": [r"\banimal rule\b", r"\bpotential\b",
                 r"\bwill (?:oversee|conduct|perform|test|evaluate|assess|initiate|begin|start|fund"
                 r"|support|enable)\b|\bfund\w*\b|\bto support\b|(?<!-)\benabl\w*\b"
                 r"|\baims? to\b|\bgoals?\b"],
        "shared": ("hedge", "background", "quote", "dated"),
        "deep": True,
        "triggers": (
            "preclinical pre$ nonclinical non$ vitro$ vivo$ animal mice$ mouse$ murine rat$ rats$"
            " rodent primate nhp$ nhps$ xenograft ind$ cell$ organoid mechanism$"
        ),
    },
    "conference": {
        "mention": [_CALL, r"\bpresent(?:s|ed|ing|ation|ations)?\b[^.;]{0,40}\b(?:at|during)\b",
                    r"\b(?:conference|congress|symposium|summit|annual meeting"
                    r"|scientific sessions)\b",
                    r"\bto (?:report|announce|release|discuss)\b[^.;]{0,60}"
                    r"\b(?:results|earnings)\b"],
        "event": [
            (_CALL, _SCHEDULE),
            r"\b(?:poster|oral|podium|late-breaking|plenary)\s+(?:presentation|session|abstract)s?\b",
            r"\bpresentations?\s+(?:at|during)\b",
            r"\b(?:presented|reported|present|presents|presenting)\s+at\s+(?:\w+\s+){0,4}"
            r"(?:conferences?|meetings?|congress|symposi\w+|summits?|sessions)\b",
            (r"\b(?:present\w*|poster|abstract|talk|lecture|speak\w*|participat\w*|host\w*|attend\w*"
             r"|reported|showcas\w*)\b", _NAMED_EVENT),
        ],
        "veto": [r"\b(?:stockholders?|shareholders?|proxy|vot(?:e|ing))\b",
                 r"\bupcoming (?:scientific|medical|industry) (?:meeting|conference)s?\b",
                 r"\bpress conference\b",
                 r"\b(?:plans?|planned|intends?|expects?|hopes?) to (?:present|report|host)\b"],
        "shared": ("quote", "dated"),
        "deep": True,
        "triggers": (
            "conference teleconference webcast webinar fireside investor$ day$ kol$ analyst$"
            " virtual$ present congress symposi summit annual$ scientific$ report$ reported$"
            " announce$ release$ discuss$ poster oral$ podium late$ plenary abstract talk lecture"
            " speak participat host attend showcas"
        ),
    },
    "earnings": {
        "mention": [(_PERIOD, r"\b(?:results|financials?|earnings)\b")],
        "event": [
            r"\b(?:announc\w*|report\w*|provid\w*)\b[^.;]{0,40}\b(?:financial |operating )?results"
            r" for (?:its |the )?(?:[\w,-]+\s+){0,6}(?:quarter|year|period|months)\b",
            (r"\bnet (?:loss|income)\b|\brevenues?\b|\bearnings per share\b",
             r"\b(?:was|were|of|totaled|totalled|increased|decreased)\b",
             r"\b(?:quarter|year|months|period) ended\b"),
        ],
        "veto": [r"\bto (?:report|announce|release|host|discuss)\b|\bwill (?:report|announce"
                 r"|release|host)\b|\brelease of\b|\bwill be (?:released|reported)\b"
                 r"|\bon (?:Monday|Tuesday|Wednesday|Thursday|Friday)\b",
                 r"\b(?:stockholders?|shareholders?|meeting|vot(?:e|ing))\b"],
        "shared": ("quote",),
        "deep": True,
        "triggers": "result financial earning net revenue",
    },
    "financing": {
        "mention": [_FINANCING, _LISTING, _TAX_SALE, r"\b(?:raises?|raised)\b[^.;]{0,20}\$"],
        "event": [
            (_FINANCING, r"\b(?:announc\w*|enter\w*|complet\w*|clos\w*|pric\w*|rais\w*|receiv\w*"
             r"|secur\w*|sign\w*|effect\w*|approv\w*|sell|sale|sold|issu\w*|agreed|proceeds"
             r"|obtain\w*|draw\w*|upsiz\w*)\b"),
            _LISTING,
            (_TAX_SALE, r"\b(?:receiv\w*|approv\w*|proceeds)\b"),
        ],
        "veto": [r"\bgiving effect to\b|\b(?:pre|post)-(?:reverse-)?split basis\b"
                 r"|\bsplit-adjusted\b",
                 rf"\b(?:grants?|awards?)\b|{_AGENCY}",
                 r"\b(?:may|could|would|potential(?:ly)?|seek\w*|explor\w*)\b",
                 # a raise named as a condition of something else: "payable upon raising $10M"
                 r"\b(?:upon|conditional on|contingent on|subject to)\b[^.;]{0,20}\brais\w*"],
        "shared": ("background", "line_item", "quote", "dated", "cumulative"),
        "deep": True,
        "triggers": (
            "public$ underwritten$ offering private$ placement rights$ registered$ market$ atm$"
            " pipe$ equity$ securities$ financing capital$ gross$ proceeds net$ pricing$ priced$"
            " shelf$ warrant loan term$ credit$ debt$ convertible$ notes$ reverse$ share$ uplist"
            " tax$ royalty$ nasdaq nyse sell$ sale$ sold$ transfer raise$ raises$ raised$ normal$"
            " stock$ buyback buy$"
        ),
    },
    "deal": {
        "mention": [_DEAL, _MERGER, r"\bagreement\b",
                    r"\bpartners? with\b|\bpartnering\b|\bteams? up\b|\bjoins? forces\b"
                    r"|\bagree(?:s|d)? to (?:jointly |co-)?(?:evaluate|develop|collaborate|study"
                    r"|research|commerciali[sz]e|work)\b"],
        "event": [
            # the issuer's verb, then what it agreed to: "its joint venture affiliate announced
            # results" is no new joint venture
            rf"{_DEAL_VERB}[^.;]{{0,80}}{_DEAL}",
            rf"{_DEAL_VERB}[^.;]{{0,80}}\bagreement with\b",
            rf"{_DEAL}[^.;]{{0,60}}\b(?:was|were|has been|have been|had been)\s+(?:\w+\s+)?"
            r"(?:signed|entered|formed|established|completed|closed|executed|expanded|extended)\b",
            r"\b(?:to acquire|will acquire|has acquired|have acquired|acquires|agreed to acquire"
            r"|complet\w* (?:its |the )?(?:acquisition|merger)|to merge|will merge|has merged)\b",
        ],
        "veto": [r"\b(?:investors?|offering|placement|underwrit\w*|securities purchase"
                 r"|warrants?|loan|credit facility|financing)\b",
                 r"\b(?:settlement|separation|employment|severance|lease|plea|consulting"
                 r"|standstill|cooperation|sales) agreement\b|\bspecial protocol assessment\b",
                 r"\bclinical research organi[sz]ation\b|(?:\bCROs?\b)",
                 r"\bacquisition of (?:data|images?|scans?|samples?|patients?)\b|\bacquired"
                 r" (?:resistance|immun\w*|infection|pneumonia|generalized|hypoactive|brain)\b",
                 # a deal that may come, not one made ("potential vaccine" is just a product)
                 r"\b(?:potential|possible|prospective)\s+(?:\w+\s+)?(?:partner\w*|deals?"
                 r"|transactions?|acquisitions?|mergers?|collaborat\w*|sale)\b"
                 r"|\b(?:opportunit\w*|strategic (?:options|alternatives)|explor\w*|seek\w*"
                 r"|look for)\b",
                 # a grant's award agreement, and a deal named only as the cause of the news
                 r"\b(?:grants?|funding|awards?)\b",
                 r"\b(?:following|after|as a result of|due to)\b[^.;]{0,30}\b(?:agreement"
                 r"|collaboration|partnership|acquisition|merger)\b",
                 # an option to license is licensing
                 r"\boptions?\b[^.;]{0,30}\b(?:to|for) (?:(?:in-)?licen|acqui)"],
        "shared": ("hedge", "background", "line_item", "quote", "dated"),
        "deep": True,
        "subhead_mentions": False,  # "in the first year of our alliance" is history
        "triggers": (
            "collaborat partner alliance joint$ co$ memorandum mou$ loi$ letter$ term$ supply$"
            " distribution$ manufacturing$ research$ services$ definitive$ merge asset$ share$"
            " stock$ business$ acqui tender$ takeover agreement team$ teams$ forces$ divest spin"
            " sale$ sell$ sold$ sells$ transaction$ agree agrees$ agreed$"
        ),
    },
    "leadership": {
        "mention": [(_LEADER_VERB, _TITLE)],
        "event": [(_LEADER_VERB, _TITLE),
                  r"\b(?:board|directors)\b[^.;]{0,30}\b(?:reconstitut\w*|refresh\w*)\b"
                  r"|\b(?:adds?|added|welcomes?)\b[^.;]{0,30}\bnew (?:independent )?directors?\b",
                  r"\b(?:leadership|management|executive|board) (?:changes?|transitions?)\b"
                  r"|\b(?:ceo|cfo|coo|cmo|cso|chief \w+ officer) (?:transition|succession)\b"],
        "veto": [r"\binducement\b", r"\b(?:vote|voting|proxy|stockholders?|shareholders?)\b",
                 r"\bprior to join\w*|\bmost recently\b|\bserved as\b"
                 r"|\btransition(?:al)? services\b",
                 # an honour or a list is no appointment: "named a recipient of the award"
                 r"\bnamed (?:a |an |the |as (?:a |an |the )?)?(?:recipient|winner|finalist|one of"
                 r"|to (?:the )?(?:[\w&-]+ ){0,4}(?:list|index))\b|\bawards?\b"],
        "shared": ("background", "quote", "dated"),
        "deep": True,
        "triggers": (
            "appoint names$ named$ elect$ elects$ elected$ promotes$ promoted$ hire$ hires$ hired$"
            " join$ joins$ joined$ welcom retire resign step$ steps$ stepping$ departs$ departed$"
            " departing$ departure$ succeed successor$ passed$ leadership$ management$"
            " executive$ board$ transition succession$ directors$ adds$ added$ add$"
        ),
    },
}

# Corporate events with no tag of their own (the taxonomy's "other"): they earn "other" beside
# the other tags when the headline, a sub-headline or the lead states them.
_OTHER_EVENT = (
    r"\bsettle(?:s|d|ment)?\b[^.;]{0,60}\b(?:lawsuit|litigation|dispute|claims|stockholder"
    r"|shareholder|investor)|\b(?:lawsuit|litigation|dispute)\b[^.;]{0,40}\bsettle"
    r"|\bsettlement agreement\b"
    r"|\bworkforce reduction|\breduc\w* (?:(?:its|the|our) )?(?:workforce|headcount|staff)\b"
    r"|\blayoffs?\b|\b(?:restructur|reorgani[sz])(?:es|ed|ing|ation)\b"
    r"|\bname change\b|\bchang\w* (?:(?:its|the|our) )?(?:corporate |company )?name\b"
    r"|\b(?:new|changes? (?:in|of|to)(?: (?:its|the))?) (?:ticker|trading|stock) symbol\b"
    r"|\btrading (?:halt|suspension)\b|\b(?:halt\w*|suspend\w*) (?:of )?trading\b"
    r"|\b(?:commercial(?:ly)? launch\w*|launch\w* (?:of )?(?:its |the )?commercial\w*"
    r"|product launch|first commercial sale)\b"
    r"|\binducement (?:grants?|awards?|options?)\b|\blisting rule 5635"
    r"|\b(?:grant\w*|award\w*)\b[^.;]{0,40}\b(?:stock options|options to purchase"
    r"|restricted stock units|RSUs)\b"
    r"|\bexit\w* (?:(?:of|from) )?(?:its |the )?(?:facility|lease|premises)\b|\bexit of facility"
    r"|\bclos(?:es|ed|ing|ure of) (?:(?:its|the) )?(?:facility|site|plant)\b"
    r"|\brelocat\w* (?:(?:its|the) )?(?:headquarters|offices?)\b"
    r"|\bwind[- ]?down\b|\bdissolution\b|\bliquidation\b|\bceas\w* (?:all )?operations\b"
    r"|\b(?:added|inclusion|included|named) (?:to|in) (?:the )?(?:[\w&-]+ ){0,3}index\b"
)
# An honour for a person or a product, not money: "wins the ASM Award", "named a recipient".
_HONOUR = (
    r"\b(?:wins?|won|receiv\w*|named|recogni[sz]ed)\b[^.;]{0,60}\b(?:awards?|prize|honou?r)\b"
    r"|\bnamed (?:a |an |the )?(?:recipient|winner|finalist)\b"
)
RULE_DATA["other"] = {
    "mention": [],
    "event": [_OTHER_EVENT, _HONOUR],
    "veto": [r"\b(?:grants?|funding|contract|million|billion|NIH|BARDA|(?:may|could|would|if)\b)"
             r"|\$\s?\d"],
    "shared": ("hedge", "background", "quote", "dated"),
    "deep": False,
    "triggers": (
        "settle lawsuit litigation dispute workforce reduc layoff restructur reorgani name$"
        " symbol$ trading$ halt suspen launch first$ inducement listing$ grant award exit clos"
        " relocat wind dissolution liquidation ceas index$ wins$ win$ won$"
        " receiv named$ recogni recipient$ winner$ finalist$"
    ),
}

SHARED_VETOES: dict[str, list[str]] = {
    "hedge": [r"\b(?:plans?|planned|intends?|expects?|expected|anticipat\w*|aims?|seeks?|hopes?"
              r"|would|could|might|may)\b(?!-)",
              # "once" as a condition, not as a dose ("once daily")
              r"\b(?:if|upon|whether|in order to)\b"
              r"|\bonce\b(?![- ](?:daily|a[- ]day|weekly|a[- ]week|monthly|every|per)\b)",
              r"\bwill (?:be )?(?:initiat|begin|start|commenc|launch|conduct|enrol|advance|submit"
              r"|file|seek|request|pursue|evaluat|test|oversee|perform)\w*",
              r"\bto be (?:initiated|conducted|submitted|filed)\b"],
    "background": [r"\bpreviously\b", r"\bhas been shown\b",
                   r"\b(?:has|have|had) (?:successfully )?completed (?:\w+ ){0,2}(?:phase|trials?"
                   r"|stud(?:y|ies)|clinical)",
                   r"\bas (?:previously )?(?:announced|disclosed|reported)\b",
                   r"\bannounced (?:on|in)\b", r"\bhistor(?:y|ical|ically)\b",
                   r"\b(?:last|past|earlier this) (?:year|quarter|month|week)\b"
                   r"|\bfollows? (?:the |its |(?:last|this) \w+['’]s )?(?:\w+ )?announcement\b"],
    # running totals are not this release's news: "$10 million in grants to date"
    "cumulative": [r"\bto date\b|\bsince (?:inception|its (?:founding|inception))\b"
                   r"|\bin total\b|\bcumulative\w*\b|\baggregate of all\b"],
    "line_item": [r"\b(?:revenues?|receivables?|expenses?|net (?:loss|income)|cash (?:and cash )?"
                  r"equivalents|operating (?:costs|loss)|(?:quarter|year|period) ended|costs?"
                  r" (?:related|associated|attributable)|attributable to)\b"],
}
# When the release is about the key, these tags named only past the lead are its background:
# a results release recaps the quarter; an approval, an award or a financing restates data.
RECAP: dict[str, tuple[str, ...]] = {
    "regulatory": ("trial", "preclinical"),
    "grant": ("preclinical",),
    "financing": ("trial", "preclinical"),
}
# fmt: on

# A release that reviews a period: quarterly or annual results, a year in review, a corporate
# update. Its highlights list (a sentence opening on what was done) is the period's news.
RECAP_RELEASE = re.compile(
    rf"{_PERIOD}[^.;]{{0,60}}\b(?:results|financials?|earnings)\b|\byear[- ]in[- ]review\b"
    r"|\b(?:corporate|business) (?:update|highlights)\b|\breports? on (?:key |its )?\w*"
    r"|\bmilestones\b|\bhighlights\b",
    re.IGNORECASE,
)
HIGHLIGHT = re.compile(
    r"(?:(?:Successfully )?(?:[A-Z][a-z]+ed|Began|Won|Began|Raised|Received|Entered|Signed)\b"
    r"|(?:Submission|Receipt|Initiation|Completion|Closing|Appointment|Launch|Approval) of\b"
    r"|First (?:patient|subject|participant)s?\b)"
)

# Deals that stay deals even when a licence comes with them, and the words of a licence.
MERGER = re.compile(_MERGER, re.IGNORECASE)
STANDALONE_DEAL = re.compile(
    r"\b(?:co-develop\w*|co-promot\w*|co-commerciali[sz]\w*|joint venture"
    r"|(?:research|supply|manufacturing)(?: and development)? (?:agreement|contract)"
    r"|cooperative research|CRADA|divest\w*|spin-?(?:off|out))\b",
    re.IGNORECASE,
)
LICENCE_TERMS = re.compile(rf"{_LICENSE}|\boptions?\b|\brights\b|\broyalt", re.IGNORECASE)
