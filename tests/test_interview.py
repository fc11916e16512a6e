"""bot/knowledge/interview.yml and bot/coach/interview.py: the one definition of
the coach's questions, domain.yml held equal to it, and the interview's turns.

Why a test and not a generated domain.yml: Rasa trains from domain.yml as it is in
git (CI and `make run` on a fresh clone train before any generator would run), so
the file stays hand-written; this test names every difference and prints what to
paste. segment_form's required_slots are derived from the file at run time
(ValidateSegmentForm.required_slots), and checked here to match domain.yml too.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from actions import interview as interview_actions
from bot.coach import interview
from bot.coach import knowledge as knowledge_module
from bot.coach.canvas import Segment
from bot.coach.conversation import RECOMMENDED_PER_SEGMENT, pending_prompt
from bot.coach.engine import recommend
from bot.coach.knowledge import KNOWLEDGE_DIR, Interview, load_knowledge
from bot.coach.profile import SegmentProfile
from tests.conftest import banks, entity, form_tracker, run_action, shops

pytestmark = pytest.mark.usefixtures("canvas_url")

MARKET_QUESTION = {  # the question a mentor adds in the test below, in place of segment_market
    "label": "Businesses or consumers",
    "kind": "choice",
    "fills": ["market"],
    "entity": "market",
    "ask": "Do you sell to businesses or to consumers?",
    "answers": {
        "b2b": {"button": "Businesses", "means": {"market": "b2b"}},
        "b2c": {"button": "Consumers", "means": {"market": "b2c"}},
    },
    "not_sure": "Not sure",
    "in_passing": "confirm",  # a rule reads the market: a mention in passing is confirmed
    "confirm": "You said {heard}: right? Businesses or consumers?",
    "ask_again": "Businesses or consumers?",
    "why": "Business clients often expect a named contact; consumers usually prefer fast, scalable service.",
}


def domain_payload(payload: str) -> str:
    """A payload as domain.yml writes it: Rasa reads single braces as slot placeholders."""
    return payload.replace("{", "{{").replace("}", "}}")


def expected_domain(plan: Interview) -> Dict[str, Any]:
    """What domain.yml must hold for the interview: responses, slots' entity mappings, forms."""
    responses = {}
    for question in [*plan.venture.values(), *plan.segment.values()]:
        response: Dict[str, Any] = {"text": question.ask}
        if question.buttons():
            response["buttons"] = [
                {"title": b["title"], "payload": domain_payload(b["payload"])} for b in question.buttons()
            ]
        responses[f"utter_ask_{question.slot}"] = [response]
    return {
        "responses": responses,
        "forms": {
            "venture_form": {"required_slots": list(plan.venture)},
            "segment_form": {"required_slots": list(plan.segment)},
        },
    }


def domain_differences(plan: Interview, domain: Dict[str, Any]) -> List[str]:
    """Every way domain.yml differs from the interview, in words."""
    want = expected_domain(plan)
    problems = []
    for name, response in want["responses"].items():
        slot = name[len("utter_ask_") :]
        question = plan.question(slot)
        if question.in_passing == "confirm" and f"action_ask_{slot}" not in domain["actions"]:
            problems.append(f"domain.yml: under actions, add action_ask_{slot} (it confirms what was heard in passing)")
            continue
        if f"action_ask_{slot}" in domain["actions"]:
            if name in domain["responses"]:
                problems.append(f"domain.yml: {name} is never said: action_ask_{slot} asks the question")
            continue
        have = domain["responses"].get(name)
        if have != response:
            problems.append(
                f"domain.yml: {name} should be\n{yaml.safe_dump({name: response}, allow_unicode=True, sort_keys=False)}"
                f"but is {have!r}"
            )
    for form, spec in want["forms"].items():
        have = domain["forms"].get(form, {}).get("required_slots")
        if have != spec["required_slots"]:
            problems.append(f"domain.yml: {form}'s required_slots should be {spec['required_slots']}, not {have}")
    for question in [*plan.venture.values(), *plan.segment.values()]:
        slot = domain["slots"].get(question.slot)
        if question.entity and question.entity not in domain["entities"]:
            problems.append(
                f"domain.yml: no entity '{question.entity}' in entities, which question '{question.slot}' reads"
            )
        if slot is None:
            problems.append(f"domain.yml: no slot '{question.slot}' for the question it answers")
            problems += slot_to_paste(question, plan, domain)
        elif question.kind == "choice" and not any(
            m.get("type") == "from_entity" and m.get("entity") == question.entity for m in slot.get("mappings", [])
        ):
            problems.append(f"domain.yml: slot '{question.slot}' needs a from_entity mapping of '{question.entity}'")
    return problems


def slot_to_paste(question, plan: Interview, domain: Dict[str, Any]) -> List[str]:
    """The slot a new question needs, written like the slot of a question of its kind that domain.yml has."""
    model = next((q for q in plan.segment.values() if q.kind == question.kind and q.slot in domain["slots"]), None)
    if model is None:
        return []
    text = yaml.safe_dump({model.slot: domain["slots"][model.slot]}, sort_keys=False).replace(model.slot, question.slot)
    if model.entity:
        text = text.replace(f"entity: {model.entity}", f"entity: {question.entity}")
    return [f"domain.yml: under slots, add (as {model.slot} is):\n{text}"]


@pytest.fixture
def plan() -> Interview:
    return load_knowledge().interview


@pytest.fixture
def with_market_question(tmp_path, monkeypatch):
    """A copy of the knowledge with a new segment question (segment_buyers, asked always, in place
    of segment_market, asked only to confirm), as the coach's default knowledge."""
    folder = Path(shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge"))
    path = folder / "interview.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    segment = [(slot, q) for slot, q in data["segment"].items() if slot != "segment_market"]
    at = [slot for slot, _ in segment].index("segment_scale") + 1
    segment.insert(at, ("segment_buyers", MARKET_QUESTION))  # asked right after the scale
    data["segment"] = dict(segment)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    changed = load_knowledge(folder)
    monkeypatch.setattr(knowledge_module, "_load_default", lambda: changed)
    return changed


# ---------------------------------------------------------------- the file and domain.yml


def test_domain_says_what_the_interview_says(plan, domain):
    problems = domain_differences(plan, domain)
    assert problems == [], "paste into domain.yml:\n" + "\n".join(problems)


def test_interview_holds_every_segment_question_in_order(plan):
    assert plan.segment_slots == (
        "segment_who",
        "segment_market",
        "segment_scale",
        "segment_price",
        "segment_frequency",
        "segment_support",
        "segment_community",
        "segment_touchpoints",
        "segment_goal",
    )
    assert list(plan.venture) == ["venture_name", "venture_offer"]
    for question in plan.segment.values():
        assert question.why and question.ask_again and question.fills


def test_every_answer_has_the_nlu_words_of_its_entity(plan):
    words = yaml.safe_load((KNOWLEDGE_DIR / "answers.yml").read_text(encoding="utf-8"))
    for question in plan.segment.values():
        if question.kind == "choice":
            assert set(question.answers) == set(words[question.entity]["values"]), question.slot


def test_a_changed_wording_is_named_as_a_difference(plan, domain):
    changed = copy.deepcopy(plan)
    changed.venture["venture_name"].ask = "What first?"
    problems = domain_differences(changed, domain)
    assert len(problems) == 1 and problems[0].startswith("domain.yml: utter_ask_venture_name should be")
    assert "text: What first?" in problems[0]


# ---------------------------------------------------------------- adding a question


def test_an_added_segment_question_needs_no_code_and_the_test_names_every_domain_yml_edit(with_market_question, domain):
    """The interview file alone makes the coach ask, read, prefill and explain a new
    question (its answers' words and NLU examples exist already: 'market' is an entity
    the NLU knows). domain.yml still needs hand edits, and this names each of them."""
    question = with_market_question.interview.segment["segment_buyers"]

    # The form asks it, after the scale: the validation action requests it next.
    tracker = form_tracker(
        domain,
        "segment_form",
        "segment_scale",
        {"segment_scale": "about 20 at 200k a year"},
        "about 20 at 200k a year",
        slots={"segment_who": "Banks", "segment_facts": {"name": "Banks", "needs": "Banks"}},
    )
    out = run_action(interview_actions.ValidateSegmentForm(), tracker, domain)
    assert out.slots["requested_slot"] == "segment_buyers"

    # Its answers are read from a button, the NLU's entity or the words; "not sure" too.
    assert interview.read_answer("segment_buyers", "", ["b2c"]).facts == {"market": "b2c"}
    assert interview.read_answer("segment_buyers", "mostly companies").value == "b2b"
    assert interview.read_answer("segment_buyers", "no idea").value == "unknown"
    assert (
        interview.read_answer("segment_buyers", "bananas").problem
        == "Sorry, I didn't catch that. Businesses or consumers?"
    )
    # A founder who already said it in passing is asked to confirm it, in one line; "yes" keeps it.
    assert interview.prefill({"market": "b2b"}, {}) == {}
    asked = interview.ask_question("segment_buyers", {"market": "b2b"})
    assert asked.messages[0].text == "You said businesses: right? Businesses or consumers?"
    assert asked.messages[0].buttons[0]["title"] == "Yes: businesses"
    assert interview.read_answer("segment_buyers", "yes", heard=("b2b", {"market": "b2b"}, "businesses")).value == "b2b"
    # "Why?" at the question gets its why.
    from bot.coach.conversation import QuestionContext, answer_question

    assert (
        answer_question("ask_why", "why?", [], QuestionContext(requested_slot="segment_buyers"))
        == f"I ask because: {question.why}"
    )
    # Its buttons are the file's, and domain.yml is told exactly what to add.
    assert [b["payload"] for b in question.buttons()] == [
        '/inform{"market": "b2b"}',
        '/inform{"market": "b2c"}',
        '/inform{"market": "unknown"}',
    ]
    problems = domain_differences(with_market_question.interview, domain)
    assert (
        "domain.yml: under actions, add action_ask_segment_buyers (it confirms what was heard in passing)" in problems
    )
    assert any("segment_form's required_slots should be" in p and "'segment_buyers'" in p for p in problems)
    assert "domain.yml: no slot 'segment_buyers' for the question it answers" in problems
    pasted = next(p for p in problems if p.startswith("domain.yml: under slots, add"))
    assert (
        "segment_buyers:\n" in pasted and "entity: market\n" in pasted and "requested_slot: segment_buyers\n" in pasted
    )


# ---------------------------------------------------------------- the loader


def test_a_field_a_rule_reads_needs_a_question_that_confirms_it(broken):
    # A question whose answer the rules read may not let a passing mention fill it unseen ...
    broken.change("interview.yml", lambda d: d["segment"]["segment_goal"].update(in_passing="fill"))
    error = broken.error()
    assert (
        "question 'segment_goal' fills 'goal', which a rule or a check reads: it needs 'in_passing: confirm'" in error
    )


def test_a_field_a_rule_reads_without_a_question(broken):
    # ... nor may a fact read from free text ("affordable") decide with no question to confirm it.
    broken.change("interview.yml", lambda d: d["segment"].pop("segment_price"))
    assert "no segment question fills 'price_position', which a rule or a check reads" in broken.error()


def test_a_question_asked_only_when_heard_must_confirm(broken):
    broken.change("interview.yml", lambda d: d["segment"]["segment_goal"].update(asked="when_heard", in_passing="fill"))
    assert "('asked: when_heard') needs 'in_passing: confirm'" in broken.error()


def test_small_talk_words_must_be_words(broken):
    broken.change("interview.yml", lambda d: d["small_talk"].update(pause=[True]))
    assert "interview.yml: small_talk 'pause' must be a list of words" in broken.error()


def test_an_answer_without_nlu_words(broken):
    broken.change(
        "interview.yml",
        lambda d: d["segment"]["segment_goal"]["answers"].update(
            win_back={"button": "Win them back", "label": "win them back", "means": {"goal": "keep"}}
        ),
    )
    error = broken.error()
    assert "interview.yml: question 'segment_goal': answer 'win_back': " in error
    assert "answers.yml has no words for it under 'goal'" in error
    assert "answers 'keep' and 'win_back' mean the same" in error


def test_an_answer_meaning_a_field_the_question_does_not_fill(broken):
    broken.change(
        "interview.yml", lambda d: d["segment"]["segment_support"]["answers"]["expert"]["means"].update(goal="keep")
    )
    assert (
        "interview.yml: question 'segment_support': answer 'expert': 'means' sets 'goal', which the question does not fill"
        in broken.error()
    )


def test_an_answer_meaning_a_value_the_profile_does_not_allow(broken):
    broken.change(
        "interview.yml",
        lambda d: d["segment"]["segment_support"]["answers"]["expert"]["means"].update(personal_touch="very"),
    )
    assert "answer 'expert': 'means': 'personal_touch': value 'very' is not allowed" in broken.error()


def test_an_unknown_key_and_kind(broken):
    broken.change("interview.yml", lambda d: d["segment"]["segment_scale"].update(kind="number", reask="?"))
    error = broken.error()
    assert "interview.yml: question 'segment_scale': unknown key 'reask'" in error
    assert "interview.yml: question 'segment_scale': 'kind' is 'number'" in error


def test_a_question_without_why(broken):
    broken.change("interview.yml", lambda d: d["segment"]["segment_goal"].pop("why"))
    assert "interview.yml: question 'segment_goal': missing 'why'" in broken.error()


def test_an_unknown_placeholder_in_a_question(broken):
    broken.change("interview.yml", lambda d: d["venture"]["venture_offer"].update(ask="What does {venture} offer?"))
    assert "interview.yml: question 'venture_offer': 'ask' uses unknown placeholder '{venture}'" in broken.error()


def test_an_export_label_needs_every_answers_label(broken):
    broken.change("interview.yml", lambda d: d["segment"]["segment_goal"]["answers"]["keep"].pop("label"))
    assert "interview.yml: question 'segment_goal': 'export_label' needs a 'label' on every answer" in broken.error()


def test_nlu_words_for_a_value_no_question_answers(broken):
    broken.change("answers.yml", lambda d: d["goal"]["values"].update(win_back=["win back"]))
    error = broken.error()
    assert "interview.yml: question 'segment_goal': " in error
    assert "answers.yml has words for 'win_back' under 'goal', which is none of its answers" in error


def test_the_same_slot_in_both_interviews(broken):
    broken.change(
        "interview.yml",
        lambda d: d["venture"].update(segment_goal={"kind": "text", "ask": "?", "why": "?", "ask_again": "?"}),
    )
    assert "interview.yml: question 'segment_goal': also a question of section 'venture'" in broken.error()


def test_a_segment_question_says_what_a_passing_mention_does(broken):
    broken.change("interview.yml", lambda d: d["segment"]["segment_goal"].update(in_passing="maybe"))
    assert "interview.yml: question 'segment_goal': 'in_passing' is 'maybe'; allowed: fill, confirm" in broken.error()


def test_a_confirming_question_names_what_was_heard(broken):
    broken.change("interview.yml", lambda d: d["segment"]["segment_goal"].update(confirm="Is that right?"))
    assert "interview.yml: question 'segment_goal': 'confirm' must name what was heard: {heard}" in broken.error()


def test_a_check_keeps_rank_only_from_a_positive_weight(broken):
    broken.change("checks.yml", lambda d: d["no_meeting_place"].update(keeps_rank_at="always"))
    assert "'keeps_rank_at' must be a weight above 0, not 'always'" in broken.error()


# ---------------------------------------------------------------- turns


def test_read_segment_message_answers_the_question_and_fills_what_else_it_says():
    result = interview.read_segment_message(
        {"segment_who": "we sell to 20 banks at 200k a year, they renew every year"},
        "we sell to 20 banks at 200k a year, they renew every year",
        [],
        "inform",
        {},
        {},
    )
    assert result.messages == []
    assert result.slots["segment_who"].startswith("we sell to 20 banks")
    for confirmed_when_asked in ("segment_scale", "segment_frequency", "segment_goal"):
        assert confirmed_when_asked not in result.slots
    facts = result.slots["segment_facts"]
    assert (facts["customer_count"], facts["value_per_customer"], facts["market"]) == (20, 200_000, "b2b")
    assert interview.heard_in_passing("segment_frequency", facts)[0] == "recurring"
    assert interview.heard_in_passing("segment_scale", facts)[0] == "given"


def test_read_segment_message_a_button_wins_and_its_payload_is_not_read_as_words():
    result = interview.read_segment_message(
        {"segment_goal": "keep"},
        '/inform{"goal": "grow"}',
        [entity("goal", "grow")],
        "inform",
        {"goal": "keep"},
        {"segment_goal": None},
    )
    assert result.slots["segment_goal"] == "grow"
    assert result.slots["segment_facts"]["goal"] == "grow"  # the answer corrects what was said in passing


def test_read_segment_message_a_problem_is_said_and_the_slot_stays_empty():
    result = interview.read_segment_message({"segment_frequency": "banana"}, "banana", [], "inform", {}, {})
    assert [m.text for m in result.messages] == [
        "Sorry, I didn't catch that. How often do they buy: once, now and then, or on a recurring basis?"
    ]
    assert result.slots["segment_frequency"] is None


def test_read_segment_message_that_answers_nothing_changes_nothing():
    result = interview.read_segment_message({"venture_name": "x"}, "x", [], "inform", {}, {})
    assert (result.messages, result.slots) == ([], {})


def test_read_venture_name_splits_off_the_offer():
    result = interview.read_venture_name("It's called Brewbox, we deliver fresh coffee to offices")
    assert result.slots == {"venture_name": "Brewbox", "venture_offer": "we deliver fresh coffee to offices"}
    empty = interview.read_venture_name("   ")
    assert empty.slots == {"venture_name": None}
    assert [m.text for m in empty.messages] == ["I didn't get a name. What's your venture called?"]


def test_save_segment_new_one_asks_for_another():
    result = interview.save_segment({"name": "Banks", "market": "b2b"}, [shops()], None)
    assert [s.profile.name for s in result.segments] == ["Small shops", "Banks"]
    assert result.slots["stage"] == "more_segments"
    assert result.messages[-1].text == pending_prompt("more_segments", None, saved_segment="Banks")[0]
    for name in (*interview.SEGMENT_SLOTS, "segment_facts", "editing_segment", "paused_form", "redoing_segment"):
        assert result.slots[name] is None


def test_save_segment_redone_after_the_recommendations_recommends_it_again_with_its_record():
    recommended = [Segment(shops().profile, shops().choices), banks()]
    facts = {"name": "Big banks", "market": "b2b", "customer_count": 20, "value_per_customer": 200_000.0}
    result = interview.save_segment(facts, recommended, 1.0)
    advice = recommend(SegmentProfile.from_dict(facts), limit=RECOMMENDED_PER_SEGMENT)
    assert [c.type_id for c in result.segments[1].choices] == [r.type_id for r in advice.recommendations]
    assert result.slots["stage"] == "review"
    first = result.messages[0]
    assert first.text.startswith("**Segment 2: Big banks**")
    assert first.advice["segment_index"] == 1 and first.advice["segment_name"] == "Big banks"
    assert [r["type_id"] for r in first.advice["recommendations"]] == [r.type_id for r in advice.recommendations]


def test_change_segment_finds_it_or_asks_which():
    segments = [shops(), banks()]
    found = interview.change_segment("change the second segment", segments)
    assert found.slots["editing_segment"] == 1.0 and found.slots["stage"] == "segments"
    assert all(found.slots[name] is None for name in interview.SEGMENT_SLOTS)
    unclear = interview.change_segment("change it", segments)
    assert unclear.slots == {"redoing_segment": False}
    assert unclear.messages[0].text.startswith("Which segment should we change?")


def test_ask_who_names_the_segment_being_described():
    assert [m.text for m in interview.ask_who(None, 0).messages] == [interview.ask_segment_who(1)]
    assert [m.text for m in interview.ask_who(None, 2).messages] == [interview.ask_segment_who(3)]
    assert [m.text for m in interview.ask_who(0.0, 2).messages] == [interview.ask_segment_who(1)]  # redoing the first
    assert interview.ask_who(None, 0).slots == {}


def test_venture_done_moves_on_to_the_segments():
    from bot.coach.conversation import segments_intro

    result = interview.venture_done("Brewbox")
    assert [m.text for m in result.messages] == [segments_intro("Brewbox")]
    assert result.slots == {"stage": "segments", "paused_form": None}


def test_the_coaching_slots_come_from_the_interview_file(plan):
    slots = interview.coaching_slots()
    for question in [*plan.venture, *plan.segment]:
        assert question in slots
    assert interview.segment_answer_slots() == (*plan.segment_slots, "segment_facts", "interview_notes")
    assert set(interview.segment_answer_slots()) | set(interview.REDO_SLOTS) | {
        "segments",
        "paused_form",
        *plan.venture,
    } == set(slots)


def test_a_question_added_to_the_file_is_cleared_by_start_over_and_by_a_saved_segment(with_market_question):
    assert "segment_buyers" in interview.coaching_slots()
    assert interview.start_over().slots["segment_buyers"] is None
    assert interview.save_segment({"name": "Banks"}, [], None).slots["segment_buyers"] is None
    assert interview.change_segment("change segment 1", [banks()]).slots["segment_buyers"] is None


def test_start_over_clears_the_coaching_and_goes_back_to_the_intro():
    from bot.coach.conversation import STARTING_OVER

    result = interview.start_over()
    assert [m.text for m in result.messages] == [STARTING_OVER]
    assert all(result.slots[name] is None for name in interview.coaching_slots())
    assert result.slots["stage"] == "intro" and result.slots["confirming_delete"] is False
    assert result.segments is None  # the finished segments are cleared by their slot; saved blocks stay saved


def test_payloads_in_the_interview_are_valid_json():
    for question in load_knowledge().interview.segment.values():
        for button in question.buttons():
            if button["payload"].startswith("/inform"):
                assert json.loads(button["payload"][len("/inform") :])


def test_answers_yml_is_checked_too(broken):
    broken.change("answers.yml", lambda d: d["market"]["values"].update(b2g=["governments"]))
    broken.change("answers.yml", lambda d: d["goal"]["values"]["grow"].append("keep"))
    error = broken.error()
    assert "answers.yml: entity 'market': values: 'b2g' is not a market (choose from b2b, b2c)" in error
    assert "answers.yml: 'goal' answer 'grow': duplicate synonym 'keep' (also means 'keep')" in error
