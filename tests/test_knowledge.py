"""The knowledge files: complete, faithful to the seeds, and refused loudly when broken."""

import re
import shutil
from dataclasses import fields

import pytest

from bot.coach.knowledge import (
    COSTS,
    DIRECTIONS,
    FIELD_KINDS,
    INTIMACIES,
    KNOWLEDGE_DIR,
    LIFE_CYCLE,
    LINKS,
    load_knowledge,
)
from bot.coach.profile import SegmentProfile

TYPE_IDS = [
    "personal_assistance",
    "dedicated_personal_assistance",
    "self_service",
    "automated_services",
    "communities",
    "co_creation",
    "automated_personalization",
    "transactional",
    "subscription",
    "advisory",
    "assured_quality",
    "exclusive_access",
    "tracking_and_monitoring",
    "customer_service",
    "through_third_parties",
    "loyalty_program",
    "brand_affinity",
]
TOUCHPOINT_IDS = [
    "in_store",
    "phone",
    "email",
    "website",
    "app",
    "social_media",
    "chat",
    "messaging",
    "events",
    "forum",
    "meetings",
    "partners",
    "kiosk",
    "marketplace",
    "word_of_mouth",
]
SEEDS = ["seed 000", "seed 001", "seed 002", "seed 003", "seed 004"]


# --- Complete and faithful ---


def test_all_relationship_types_are_there_with_their_exact_ids(kb):
    assert list(kb.types) == TYPE_IDS


def test_every_type_has_every_field_filled(kb):
    for t in kb.types.values():
        assert t.name and t.definition and t.cost_caveat, t.id
        assert t.synonyms, t.id
        assert t.link in LINKS and t.intimacy in INTIMACIES and t.direction in DIRECTIONS, t.id
        assert t.life_cycle and set(t.life_cycle) <= set(LIFE_CYCLE), t.id
        assert t.cost_to_serve in COSTS, t.id
        assert t.touchpoints and set(t.touchpoints) <= set(kb.touchpoints), t.id
        assert t.kpis and set(t.kpis) <= set(kb.kpis), t.id
        assert t.examples and all(e.case and e.what and e.sources for e in t.examples), t.id
        assert set(t.tactics) == {"acquire", "keep", "grow"} and all(t.tactics.values()), t.id
        assert t.sources, t.id


def test_the_seed_dimensions_are_used(kb):
    """Seed 003 names six kinds of intimacy, direct and indirect, transactional and long-term links."""
    assert {t.intimacy for t in kb.types.values()} == set(INTIMACIES)
    assert {t.direction for t in kb.types.values()} == set(DIRECTIONS)
    assert {t.link for t in kb.types.values()} == set(LINKS)
    assert kb.types["through_third_parties"].direction == "indirect"
    assert kb.types["dedicated_personal_assistance"].cost_to_serve == "high"
    assert kb.types["self_service"].cost_to_serve == "low"


# Each example the seeds give, and the type the seed files it under.
SEED_EXAMPLES = [
    ("Amazon Prime", "subscription", "seed 002"),
    ("Netflix", "automated_personalization", "seed 000"),
    ("Spotify", "subscription", "seed 000"),
    ("Starbucks", "loyalty_program", "seed 002"),
    ("Airbnb", "communities", "seed 002"),
    ("Apple", "brand_affinity", "seed 002"),
    ("Zappos", "customer_service", "seed 002"),
    ("Lego", "co_creation", "seed 002"),
    ("personal shopper", "dedicated_personal_assistance", "seed 000"),
    ("Key account managers", "dedicated_personal_assistance", "seed 004"),
    ("luxury brand", "dedicated_personal_assistance", "seed 004"),
    ("Online banking", "automated_services", "seed 000"),
    ("Stack Overflow", "communities", "seed 000"),
    ("gamers", "communities", "seed 000"),
    ("Kickstarter", "co_creation", "seed 000"),
    ("Indiegogo", "co_creation", "seed 000"),
    ("cosmetics", "co_creation", "seed 003"),
    ("Vending machines", "transactional", "seed 000"),
    ("Financial advisors", "advisory", "seed 000"),
    ("warranty", "assured_quality", "seed 000"),
    ("self-checkout", "self_service", "seed 003"),
    ("knowledge bases", "self_service", "seed 000"),
    ("SaaS", "self_service", "seed 004"),
    ("beta", "exclusive_access", "seed 003"),
    ("monitoring its application", "tracking_and_monitoring", "seed 003"),
    ("telecommunications", "customer_service", "seed 003"),
    ("insurance", "through_third_parties", "seed 003"),
    ("Maria", "personal_assistance", "seed 003"),
    ("software company's online forum", "communities", "seed 003"),
    ("Amazon's self-service platform for sellers", "self_service", "seed 002"),
]


@pytest.mark.parametrize("company, type_id, seed", SEED_EXAMPLES, ids=[e[0] for e in SEED_EXAMPLES])
def test_every_seed_example_is_filed_under_its_type(kb, company, type_id, seed):
    matches = [e for e in kb.types[type_id].examples if company.lower() in (e.case + " " + e.what).lower()]
    assert matches, f"{company} missing from {type_id} examples"
    assert any(seed in e.sources for e in matches), f"{company} should cite {seed}"


def test_touchpoints_vocabulary(kb):
    assert list(kb.touchpoints) == TOUCHPOINT_IDS
    for t in kb.touchpoints.values():
        assert t.label and t.kind in ("physical", "digital") and t.synonyms and t.sources, t.id
    meeting_places = {t.id for t in kb.touchpoints.values() if t.meeting_place}
    assert {"forum", "social_media", "events", "app", "chat"} <= meeting_places
    assert not {"phone", "email", "kiosk", "partners", "in_store"} & meeting_places


def test_the_seed_kpis_are_defined_with_how_to_compute(kb):
    for kid in [
        "csat",
        "nps",
        "retention_rate",
        "churn_rate",
        "average_response_time",
        "customer_lifetime_value",
        "referral_rate",
        "repeat_purchase_rate",
        "engagement_rate",
    ]:
        kpi = kb.kpis[kid]
        assert kpi.name and kpi.definition and kpi.how_to_compute and kpi.sources, kid


def test_playbook_holds_the_seed_lessons(kb):
    book = kb.playbook
    assert [s["id"] for s in book["steps"]] == [
        "identify_segments",
        "identify_needs",
        "define_value_proposition",
        "channels_and_touchpoints",
        "choose_relationship",
        "implement_and_evaluate",
    ]
    assert len(book["best_practices"]) == 7  # seed 000 names seven
    assert len(book["tips"]) >= 4 and len(book["challenges"]) == 4  # seed 002 tips, seed 001 challenges
    assert all(c["how_to_overcome"] for c in book["challenges"])
    assert sum("seed 002" in q["sources"] for q in book["faq"]) == 5  # seed 002's five FAQ answers
    assert set(book["dimensions"]) == {"link", "intimacy", "direction", "life_cycle"}
    assert set(book["dimensions"]["intimacy"]["values"]) == set(INTIMACIES)
    for section in ("drivers", "benefits", "technology", "building_steps", "defining_aspects", "customer_journey"):
        assert book[section], section


def _all_sources(kb):
    yield from (s for t in kb.types.values() for s in t.sources)
    yield from (s for t in kb.types.values() for e in t.examples for s in e.sources)
    yield from (s for t in kb.touchpoints.values() for s in t.sources)
    yield from (s for k in kb.kpis.values() for s in k.sources)
    yield from (s for r in kb.rules for s in r.sources)
    yield from (s for q in kb.questions.values() for s in q.sources)
    for section, items in kb.playbook.items():
        for item in items.values() if section == "dimensions" else items:
            yield from item["sources"]


def test_every_seed_is_cited_and_every_citation_is_a_seed(kb):
    cited = list(_all_sources(kb))
    assert set(cited) == set(SEEDS)


def test_every_rule_explains_itself(kb):
    for rule in kb.rules:
        assert rule.because.endswith(".") and len(rule.because) > 20, rule.id
        assert rule.then or rule.exclude, rule.id


def test_rule_fields_cover_the_profile():
    """Every answer the founder can give (but the free-text ones) can be used by a rule."""
    assert set(FIELD_KINDS) == {f.name for f in fields(SegmentProfile)} - {"name", "needs"}


def test_every_unknown_answer_has_a_question(kb):
    assert set(kb.questions) == set(FIELD_KINDS)
    for q in kb.questions.values():
        assert q.question.endswith("?") and q.why and q.probes, q.field


# --- Finding types and touchpoints in what founders write ---


@pytest.mark.parametrize(
    "text, type_id",
    [
        ("co-creation", "co_creation"),
        ("cocreation", "co_creation"),
        ("co creation", "co_creation"),
        ("Co-Creation", "co_creation"),
        ("self service", "self_service"),
        ("Self-Service", "self_service"),
        ("self_service", "self_service"),
        ("DIY", "self_service"),
        ("an FAQ page", "self_service"),
        ("1:1 support", "dedicated_personal_assistance"),
        ("a key account manager for each client", "dedicated_personal_assistance"),
        ("membership", "subscription"),
        ("we want a long-term relationship", "subscription"),
        ("a forum", "communities"),
        ("Forums", "communities"),
        ("crowdsourcing", "co_creation"),
        ("a 2-year warranty", "assured_quality"),
        ("Warranties", "assured_quality"),
        ("chatbot", "automated_services"),
        ("personalised recommendations", "automated_personalization"),
        ("early access for fans", "exclusive_access"),
        ("usage tracking", "tracking_and_monitoring"),
        ("24/7 support", "customer_service"),
        ("via resellers", "through_third_parties"),
        ("a loyalty card", "loyalty_program"),
        ("brand love", "brand_affinity"),
        ("expert advice", "advisory"),
        ("one-off purchase", "transactional"),
        ("personal assistance", "personal_assistance"),
    ],
)
def test_type_vocabulary_understands_synonyms(kb, text, type_id):
    assert kb.vocabulary["relationship_type"].find_all(text)[:1] == [type_id]


def test_type_vocabulary_finds_nothing_in_unrelated_text(kb):
    assert kb.vocabulary["relationship_type"].find_all("we sell coffee beans") == []
    assert kb.vocabulary["relationship_type"].find_all("") == []


def test_type_vocabulary_in_order_longest_match_wins(kb):
    text = "Dedicated personal assistance for big clients, self-service for the rest, and personal assistance in shops"
    assert kb.vocabulary["relationship_type"].find_all(text) == [
        "dedicated_personal_assistance",
        "self_service",
        "personal_assistance",
    ]
    assert kb.vocabulary["relationship_type"].find_all("a forum and co-creation, then a forum again") == [
        "communities",
        "co_creation",
    ]


@pytest.mark.parametrize(
    "text, touchpoints",
    [
        ("on Instagram and TikTok", ["social_media"]),
        ("social networks", ["social_media"]),
        ("LinkedIn, then face-to-face meetings and video calls", ["social_media", "meetings"]),
        ("through resellers and distributors", ["partners"]),
        ("a vending machine", ["kiosk"]),
        ("the self-checkout in our shop", ["kiosk", "in_store"]),
        ("WhatsApp and SMS", ["messaging"]),
        ("an online forum", ["forum"]),
        ("our mobile app and website", ["app", "website"]),
        ("by phone or e-mail", ["phone", "email"]),
        ("workshops and events", ["events"]),
        ("live chat", ["chat"]),
    ],
)
def test_touchpoint_vocabulary_understands_synonyms(kb, text, touchpoints):
    assert kb.vocabulary["touchpoint"].find_all(text) == touchpoints


def test_names_by_id(kb):
    assert kb.type_name("co_creation") == "Co-creation"
    assert kb.touchpoint_label("kiosk").startswith("Kiosk")
    assert kb.kpi_name("nps") == "Net Promoter Score (NPS)"
    retaining = {t.id for t in kb.types.values() if t.retains}  # what the block check for retention reads
    assert retaining >= {"subscription", "loyalty_program", "customer_service"}
    assert "transactional" not in retaining


def test_default_load_is_cached_other_folders_load_fresh(tmp_path):
    assert load_knowledge() is load_knowledge()
    copy = shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    other = load_knowledge(copy)
    assert other is not load_knowledge() and list(other.types) == TYPE_IDS


# --- Broken files are refused, naming the file and the entry ---


def test_unknown_type_in_a_rule(broken):
    broken.edit("rules.yml", "then: {dedicated_personal_assistance: 4.5,", "then: {dedicated_personal_asistance: 4.5,")
    assert (
        "rules.yml: rule 'few_big_accounts': unknown relationship type 'dedicated_personal_asistance'" in broken.error()
    )


def test_unknown_type_in_an_exclusion(broken):
    broken.edit("rules.yml", "exclude: [dedicated_personal_assistance, advisory]", "exclude: [dedicated, advisory]")
    assert "rule 'machine_one_off_never_dedicated': unknown relationship type 'dedicated'" in broken.error()


def test_bad_yaml(broken):
    broken.edit("relationship_types.yml", "name: Dedicated personal assistance", "name: [Dedicated personal assistance")
    assert "relationship_types.yml: invalid YAML (line" in broken.error()


def test_bad_indentation(broken):
    broken.edit("touchpoints.yml", "kiosk:\n  label:", "kiosk:\n  label: x\n    label:")
    assert "touchpoints.yml: invalid YAML" in broken.error()


def test_duplicate_type_id(broken):
    broken.edit("relationship_types.yml", "\nbrand_affinity:\n", "\nself_service:\n  name: Again\n\nbrand_affinity:\n")
    message = broken.error()
    assert "relationship_types.yml" in message and "duplicate id or key 'self_service'" in message


def test_duplicate_rule_id(broken):
    broken.edit(
        "rules.yml",
        "\nbusiness_customers:\n",
        "\nluxury:\n  when: {}\n  then: {advisory: 1}\n  because: Twice.\n  sources: [seed 000]\n\nbusiness_customers:\n",
    )
    assert "rules.yml" in broken.error() and "'luxury'" in broken.error()


def test_duplicate_synonym_across_types(broken):
    broken.change("relationship_types.yml", lambda d: d["self_service"]["synonyms"].append("forum"))
    # reported on the later of the two entries, naming the other
    assert (
        "relationship_types.yml: type 'communities': duplicate synonym 'forum' (also means 'self_service')"
        in broken.error()
    )


def test_duplicate_synonym_across_touchpoints(broken):
    broken.change("touchpoints.yml", lambda d: d["chat"]["synonyms"].append("WhatsApp"))
    assert "touchpoints.yml: touchpoint 'messaging': duplicate synonym 'whatsapp' (also means 'chat')" in broken.error()


def test_missing_definition(broken):
    broken.change("relationship_types.yml", lambda d: d["advisory"].pop("definition"))
    assert "relationship_types.yml: type 'advisory': missing 'definition'" in broken.error()


def test_misspelt_key(broken):
    def typo(d):
        d["kiosk"]["synonym"] = d["kiosk"].pop("synonyms")

    broken.change("touchpoints.yml", typo)
    message = broken.error()
    assert "touchpoints.yml: touchpoint 'kiosk': unknown key 'synonym'" in message
    assert "touchpoint 'kiosk': missing 'synonyms'" in message


def test_rule_value_not_allowed(broken):
    broken.edit(
        "rules.yml",
        "when: {price_position: premium, personal_touch: high}",
        "when: {price_position: luxury, personal_touch: high}",
    )
    assert (
        "rule 'luxury': 'price_position': value 'luxury' is not allowed (choose from budget, mid, premium)"
        in broken.error()
    )


def test_rule_unknown_profile_field(broken):
    broken.edit("rules.yml", "when: {goal: keep}", "when: {objective: keep}")
    assert "rule 'goal_keep': unknown profile field 'objective'" in broken.error()


def test_rule_unknown_operator(broken):
    broken.edit("rules.yml", "customer_count: {at_least: 100000}}", "customer_count: {more_than: 100000}}")
    assert "rule 'premium_for_millions': 'customer_count': unknown operator 'more_than'" in broken.error()


def test_rule_number_threshold_must_be_a_number(broken):
    broken.edit("rules.yml", "when: {customer_count: {at_most: 50},", "when: {customer_count: {at_most: fifty},")
    assert "rule 'few_big_accounts': 'customer_count': value 'fifty' must be a number" in broken.error()


def test_rule_unknown_touchpoint(broken):
    broken.edit(
        "rules.yml",
        "when: {touchpoints: {contains_any: [partners, marketplace]}}",
        "when: {touchpoints: {contains: agents}}",
    )
    assert "rule 'through_partners': 'touchpoints': unknown touchpoint 'agents'" in broken.error()


def test_rule_weight_must_be_a_number(broken):
    broken.edit("rules.yml", "then: {through_third_parties: 5.0}", "then: {through_third_parties: high}")
    assert "rule 'through_partners': weight of 'through_third_parties' must be a number" in broken.error()


def test_type_dimension_not_allowed(broken):
    broken.change("relationship_types.yml", lambda d: d["subscription"]["dimensions"].update(link="forever"))
    assert "type 'subscription': dimensions: 'link' is 'forever'; allowed: transactional, long_term" in broken.error()


def test_type_unknown_touchpoint_and_kpi(broken):
    def bad(d):
        d["advisory"]["touchpoints"].append("carrier_pigeon")
        d["advisory"]["kpis"].append("happiness")

    broken.change("relationship_types.yml", bad)
    message = broken.error()
    assert "type 'advisory': unknown touchpoint 'carrier_pigeon'" in message
    assert "type 'advisory': unknown kpi 'happiness'" in message


def test_type_missing_tactics_stage(broken):
    broken.change("relationship_types.yml", lambda d: d["transactional"]["tactics"].pop("grow"))
    assert "type 'transactional': tactics: missing 'grow'" in broken.error()


def test_source_must_name_a_seed(broken):
    broken.change("kpis.yml", lambda d: d["nps"].update(sources=["the internet"]))
    assert "kpis.yml: kpi 'nps': source 'the internet' must look like 'seed 003'" in broken.error()


def test_missing_question(broken):
    broken.change("questions.yml", lambda d: d.pop("goal"))
    assert "questions.yml: no question for profile field 'goal'" in broken.error()


def test_check_message_with_unknown_placeholder(broken):
    broken.change("checks.yml", lambda d: d["no_retention"].update(message="Add {suggestion}."))
    assert "checks.yml: check 'no_retention': message uses unknown placeholder '{suggestion}'" in broken.error()


def test_check_unknown_type(broken):
    broken.change("checks.yml", lambda d: d["no_meeting_place"].update(types=["communities", "cocreation"]))
    assert "check 'no_meeting_place': unknown relationship type 'cocreation'" in broken.error()


def test_playbook_item_without_sources(broken):
    broken.change("playbook.yml", lambda d: d["tips"][0].pop("sources"))
    assert "playbook.yml: tips 1: missing 'sources'" in broken.error()


def test_missing_file(broken):
    (broken.folder / "kpis.yml").unlink()
    assert "kpis.yml: file is missing" in broken.error()


def test_every_problem_is_reported_at_once(broken):
    broken.change("relationship_types.yml", lambda d: d["advisory"].pop("definition"))
    broken.edit("rules.yml", "when: {goal: keep}", "when: {goal: retain}")
    message = broken.error()
    assert "type 'advisory': missing 'definition'" in message
    assert re.search(r"rule 'goal_keep': 'goal': value 'retain' is not allowed", message)
