"""The selection engine and the block checks, on the real knowledge files."""

import shutil
from pathlib import Path

import pytest
import yaml

from bot.coach.engine import (
    COST_VS_VALUE,
    NO_MEETING_PLACE,
    NO_RETENTION,
    SHARED,
    Advice,
    check_block,
    fixes,
    owns,
    recommend,
)
from bot.coach.knowledge import KNOWLEDGE_DIR, load_knowledge
from bot.coach.profile import SegmentProfile

KEY_ACCOUNTS = SegmentProfile(
    name="Enterprise clients",
    market="b2b",
    customer_count=20,
    value_per_customer=60000,
    purchase_frequency="recurring",
    personal_touch="high",
    touchpoints=["meetings", "email"],
)
SNACK_BUYERS = SegmentProfile(
    name="Snack buyers",
    market="b2c",
    customer_count=50000,
    value_per_customer=3,
    purchase_frequency="one_off",
    personal_touch="low",
    price_position="budget",
    touchpoints=["kiosk"],
)
SAAS_USERS = SegmentProfile(
    name="SaaS users",
    market="b2b",
    customer_count=5000,
    value_per_customer=600,
    purchase_frequency="recurring",
    expertise_needed="medium",
    personal_touch="low",
    members_help_each_other=True,
    touchpoints=["website", "forum"],
)
MARIA = SegmentProfile(
    name="Young women",
    market="b2c",
    customer_count=5000,
    value_per_customer=60,
    purchase_frequency="occasional",
    personal_touch="high",
    price_position="budget",
    touchpoints=["social_media", "website"],
)
PROFILES = [SegmentProfile(), KEY_ACCOUNTS, SNACK_BUYERS, SAAS_USERS, MARIA]


def _copy(tmp_path) -> Path:
    return Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))


def _change(folder: Path, file: str, mutate) -> None:
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _ids(advice: Advice):
    return [r.type_id for r in advice.recommendations]


# --- recommend ---


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name or "empty")
def test_same_profile_same_advice(profile, tmp_path):
    first = recommend(profile)
    assert recommend(profile) == first
    assert recommend(SegmentProfile.from_dict(profile.to_dict())) == first
    assert recommend(profile, load_knowledge(_copy(tmp_path))) == first  # a fresh load, not just the cache


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name or "empty")
def test_ranked_best_first_positive_scores_ties_in_file_order(kb, profile):
    recs = recommend(profile).recommendations
    assert recs and all(r.score > 0 for r in recs)
    order = list(kb.types)
    # Types a failing check demotes come last, then types no rule of their own raised.
    keys = [(bool(r.check and r.check["demoted"]), not r.own_reasons, -r.score, order.index(r.type_id)) for r in recs]
    assert keys == sorted(keys)


def test_empty_profile_still_recommends_and_asks_the_most_telling_question(kb):
    advice = recommend(SegmentProfile())
    assert len(advice.recommendations) >= 3
    missing = advice.most_informative_missing
    assert missing is not None and missing.field in SegmentProfile().unknown_fields()
    assert missing.question == kb.questions[missing.field].question
    assert missing.why == kb.questions[missing.field].why


def test_the_missing_answer_would_really_change_the_top_three(kb):
    from dataclasses import replace

    profile = SegmentProfile(market="b2c", price_position="budget", touchpoints=["social_media"])
    advice = recommend(profile)
    field = advice.most_informative_missing.field
    top = _ids(advice)[:3]
    changed = [
        value for value in kb.questions[field].probes if _ids(recommend(replace(profile, **{field: value})))[:3] != top
    ]
    assert changed, f"answering {field} should be able to change the top three"


def test_equally_telling_questions_are_asked_in_file_order(tmp_path):
    """With rules where the market and the goal matter exactly as much, questions.yml's order decides."""
    folder = _copy(tmp_path)
    rule = {"because": "Test rule.", "sources": ["seed 000"]}
    rules = {
        "base": {"when": {}, "then": {"self_service": 1}, **rule},
        "any_market": {"when": {"market": ["b2b", "b2c"]}, "then": {"advisory": 5}, **rule},
        "any_goal": {"when": {"goal": ["acquire", "keep", "grow"]}, "then": {"loyalty_program": 5}, **rule},
    }
    (folder / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    assert recommend(SegmentProfile(), load_knowledge(folder)).most_informative_missing.field == "market"

    questions = yaml.safe_load((folder / "questions.yml").read_text(encoding="utf-8"))
    goal_first = {"goal": questions.pop("goal"), **questions}
    (folder / "questions.yml").write_text(yaml.safe_dump(goal_first, sort_keys=False), encoding="utf-8")
    assert recommend(SegmentProfile(), load_knowledge(folder)).most_informative_missing.field == "goal"


def test_no_missing_answer_when_everything_is_known():
    full = SegmentProfile(
        market="b2c",
        customer_count=100,
        value_per_customer=100,
        purchase_frequency="recurring",
        expertise_needed="low",
        personal_touch="low",
        price_position="mid",
        members_help_each_other=False,
        contributes_ideas=False,
        touchpoints=["website"],
        goal="keep",
    )
    assert full.unknown_fields() == []
    assert recommend(full).most_informative_missing is None


def test_limit(kb):
    assert len(recommend(SAAS_USERS, limit=2).recommendations) == 2
    assert len(recommend(SAAS_USERS, kb).recommendations) > 2


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name or "empty")
def test_every_recommendation_is_explained_and_actionable(kb, profile):
    for rec in recommend(profile).recommendations:
        assert rec.name == kb.type_name(rec.type_id)
        assert rec.reasons and all(isinstance(r, str) and r for r in rec.reasons), rec.type_id
        assert set(rec.tactics) == {"acquire", "keep", "grow"} and all(rec.tactics.values()), rec.type_id
        assert rec.touchpoints and set(rec.touchpoints) <= set(kb.touchpoints), rec.type_id
        assert rec.kpis and set(rec.kpis) <= {k.name for k in kb.kpis.values()}, rec.type_id
        assert rec.cost_caveat, rec.type_id


def test_reasons_are_the_rules_that_fired_strongest_first(kb):
    dedicated = recommend(KEY_ACCOUNTS).recommendations[0]
    assert dedicated.type_id == "dedicated_personal_assistance"
    fired = [
        (rule.then["dedicated_personal_assistance"], rule.because, owns(rule.then, "dedicated_personal_assistance"))
        for rule in kb.rules
        if rule.fires(KEY_ACCOUNTS) and rule.then.get("dedicated_personal_assistance", 0) > 0
    ]
    strongest_first = sorted(fired, key=lambda f: -f[0])
    assert dedicated.reasons == [b for _, b, own in strongest_first if own] + [
        SHARED + b for _, b, own in strongest_first if not own
    ]
    assert dedicated.reasons[0] == "Few, high-value accounts justify a named person who knows each one."


def test_a_reason_belongs_to_the_type_its_rule_is_for(kb):
    """ "They already help each other" is a communities reason: under self-service,
    which the same rule raises a little, it is shown as shared."""
    profile = SegmentProfile(members_help_each_other=True, touchpoints=["forum"])
    recs = {r.type_id: r for r in recommend(profile).recommendations}
    because = next(r.because for r in kb.rules if r.id == "members_help_each_other")
    assert recs["communities"].reasons[0] == because
    assert because not in recs["self_service"].reasons
    assert SHARED + because in recs["self_service"].reasons
    assert recs["self_service"].reasons[0] in recs["self_service"].own_reasons


GAMERS_BY_EMAIL = SegmentProfile(
    name="Gamers", market="b2c", members_help_each_other=True, contributes_ideas=True, touchpoints=["email"]
)


def test_a_type_the_answers_call_for_keeps_its_rank_with_the_fix_in_place(kb):
    """Issue 19: gamers who help each other and bring ideas, met only by email, still get
    co-creation and communities first, each with the fix; a place to meet only removes it."""
    recs = recommend(GAMERS_BY_EMAIL).recommendations
    ranked = [r.type_id for r in recs]
    failing = {
        w.message.split(": ")[1].split(" needs")[0]
        for w in check_block([(GAMERS_BY_EMAIL, ranked)])
        if w.code == NO_MEETING_PLACE
    }
    assert failing == {"Communities", "Co-creation"}
    assert ranked[:2] == ["co_creation", "communities"]
    for rec in recs[:2]:
        assert rec.check == {
            "code": NO_MEETING_PLACE,
            "fix": kb.checks.meeting_fix,
            "touchpoints": kb.checks.meeting_fix_touchpoints,
            "demoted": False,
        }
    met = recommend(SegmentProfile(**{**GAMERS_BY_EMAIL.to_dict(), "touchpoints": ["email", "forum"]}))
    assert _ids(met)[:2] == ["co_creation", "communities"]
    assert all(r.check is None for r in met.recommendations[:2])


def test_a_failing_type_on_weak_evidence_ranks_below_every_type_that_passes(kb):
    """Communities raised only by base weights and a goal (no 'they help each other'): the
    failing check demotes it, as checks.yml says, and it still carries the fix."""
    profile = SegmentProfile(goal="acquire", touchpoints=["email"])
    recs = recommend(profile).recommendations
    community = next(r for r in recs if r.type_id == "communities")
    assert community.check["demoted"] and community.fix == kb.checks.meeting_fix
    passing = [i for i, r in enumerate(recs) if r.check is None]
    assert recs.index(community) > max(passing)


def test_a_failing_type_comes_with_its_fix_in_one_sentence(kb):
    fix = fixes(GAMERS_BY_EMAIL, ["communities", "self_service"])
    assert fix == {"communities": kb.checks.meeting_fix}
    assert "where they can meet" in fix["communities"] and fix["communities"].count(". ") == 0
    assert fixes(SNACK_BUYERS, ["dedicated_personal_assistance"]) == {
        "dedicated_personal_assistance": kb.checks.cost_fix
    }


@pytest.mark.parametrize("profile", PROFILES + [GAMERS_BY_EMAIL], ids=lambda p: p.name or "empty")
def test_each_type_leads_with_a_reason_of_its_own_not_shown_first_above(profile):
    recs = recommend(profile).recommendations
    taken = set()
    for rec in recs[:3]:
        assert rec.own_reasons and rec.reasons[0] == next(
            (r for r in rec.own_reasons if r not in taken), rec.own_reasons[0]
        ), rec.type_id
        taken.add(rec.reasons[0])


def test_only_askable_answers_are_named_as_missing():
    advice = recommend(SegmentProfile(), askable=["goal", "touchpoints"])
    assert advice.most_informative_missing is None or advice.most_informative_missing.field in ("goal", "touchpoints")
    assert recommend(KEY_ACCOUNTS, askable=[]).most_informative_missing is None


def test_rules_that_lower_a_type_come_back_as_cautions():
    personal = next(r for r in recommend(MARIA).recommendations if r.type_id == "personal_assistance")
    assert any("little revenue" in c for c in personal.cautions)


def test_segment_touchpoints_that_suit_the_type_come_first(kb):
    recs = {r.type_id: r for r in recommend(MARIA).recommendations}
    assert recs["personal_assistance"].touchpoints[0] == "social_media"
    typical = kb.types["personal_assistance"].touchpoints
    assert recs["personal_assistance"].touchpoints == ["social_media"] + [t for t in typical if t != "social_media"]
    assert (
        "website" not in recs["personal_assistance"].touchpoints
    )  # the segment uses it, but it does not suit the type


def test_excluded_types_never_come_back_whatever_the_weights(tmp_path):
    folder = _copy(tmp_path)
    _change(folder, "rules.yml", lambda d: d["buy_from_a_machine"]["then"].update(dedicated_personal_assistance=50))
    assert "dedicated_personal_assistance" not in _ids(recommend(SNACK_BUYERS, load_knowledge(folder)))


def test_rules_are_data_a_weight_change_changes_the_ranking(tmp_path):
    assert _ids(recommend(SegmentProfile()))[0] == "self_service"
    folder = _copy(tmp_path)
    _change(folder, "rules.yml", lambda d: d["start_by_talking"]["then"].update(personal_assistance=3.0))
    assert _ids(recommend(SegmentProfile(), load_knowledge(folder)))[0] == "personal_assistance"


def test_rules_are_data_a_new_rule_takes_effect(tmp_path):
    folder = _copy(tmp_path)

    def add(rules):
        rules["b2b_loves_brands"] = {
            "when": {"market": "b2b"},
            "then": {"brand_affinity": 20},
            "because": "Test rule: business buyers here follow the brand.",
            "sources": ["seed 002"],
        }

    _change(folder, "rules.yml", add)
    top = recommend(SAAS_USERS, load_knowledge(folder)).recommendations[0]
    assert top.type_id == "brand_affinity" and top.reasons[0] == "Test rule: business buyers here follow the brand."


# --- check_block ---


def test_a_sound_block_has_no_warnings():
    block = [
        (KEY_ACCOUNTS, ["dedicated_personal_assistance"]),
        (SAAS_USERS, ["communities", "self_service"]),
        (SNACK_BUYERS, ["transactional", "self_service"]),
    ]
    assert check_block(block) == []


def test_empty_block_has_no_warnings():
    assert check_block([]) == []


def test_cost_vs_value_for_low_value_masses(kb):
    mass = SegmentProfile(name="Students", customer_count=20000, value_per_customer=30)
    warnings = check_block([(KEY_ACCOUNTS, ["dedicated_personal_assistance"]), (mass, ["advisory", "self_service"])])
    assert [(w.code, w.segment_index) for w in warnings] == [(COST_VS_VALUE, 1)]
    assert "Students" in warnings[0].message and "Advisory" in warnings[0].message
    assert "many customers who each spend little" in warnings[0].message


def test_cost_vs_value_for_a_budget_price():
    budget = SegmentProfile(price_position="budget")
    warnings = check_block([(budget, ["dedicated_personal_assistance", "subscription"])])
    assert [w.code for w in warnings] == [COST_VS_VALUE]
    assert warnings[0].message.startswith("Segment 1: Dedicated personal assistance")
    assert "a budget price" in warnings[0].message


def test_no_cost_warning_for_a_medium_cost_type_or_a_valuable_segment():
    budget = SegmentProfile(price_position="budget")
    assert check_block([(budget, ["personal_assistance", "loyalty_program"])]) == []
    assert check_block([(KEY_ACCOUNTS, ["dedicated_personal_assistance", "advisory"])]) == []


def test_no_meeting_place_for_a_community():
    phone_only = SegmentProfile(name="Callers", touchpoints=["phone", "email"])
    warnings = check_block([(phone_only, ["communities", "customer_service"])])
    assert [(w.code, w.segment_index) for w in warnings] == [(NO_MEETING_PLACE, 0)]
    assert "Callers" in warnings[0].message and "phone, email" in warnings[0].message


def test_no_meeting_place_for_co_creation_without_touchpoints():
    warnings = check_block([(SegmentProfile(), ["co_creation", "subscription"])])
    assert [w.code for w in warnings] == [NO_MEETING_PLACE]
    assert "none named yet" in warnings[0].message


def test_a_meeting_place_silences_the_warning():
    on_forum = SegmentProfile(touchpoints=["phone", "forum"])
    assert check_block([(on_forum, ["communities", "co_creation"])]) == []


def test_no_retention_when_no_segment_keeps_customers(kb):
    block = [
        (SNACK_BUYERS, ["transactional", "self_service"]),
        (SegmentProfile(touchpoints=["partners"]), ["through_third_parties"]),
    ]
    warnings = check_block(block)
    assert [(w.code, w.segment_index) for w in warnings] == [(NO_RETENTION, None)]
    for type_id in kb.checks.retention_suggestions:
        assert kb.type_name(type_id).lower() in warnings[0].message


def test_one_retaining_segment_is_enough():
    block = [(SNACK_BUYERS, ["transactional"]), (KEY_ACCOUNTS, ["dedicated_personal_assistance"])]
    assert check_block(block) == []


def test_unknown_type_ids_are_not_judged():
    assert check_block([(KEY_ACCOUNTS, ["our own hotline idea", "subscription"])]) == []


def test_warning_messages_come_from_the_data(tmp_path):
    folder = _copy(tmp_path)
    _change(folder, "checks.yml", lambda d: d["no_retention"].update(message="Keep them! Try {suggestions}."))
    warnings = check_block([(SNACK_BUYERS, ["transactional"])], load_knowledge(folder))
    assert warnings[0].message == "Keep them! Try loyalty program, subscription or customer service."
