"""Every custom action of domain.yml, run on trackers built from plain dicts, with
a real SQLite canvas store per test. Each test checks what the founder reads
(messages and buttons) and what the action returns (slot and loop events)."""

import pytest
from rasa_sdk.events import ActiveLoop, SlotSet

from actions import advice, common, conversation, interview
from bot.coach import conversation as coach
from bot.coach import interview as coach_interview
from bot.coach.engine import recommend
from bot.coach.export import to_markdown
from bot.coach.interview import SEGMENT_SLOTS, build_profile, coaching_slots, read_answer
from bot.coach.knowledge import load_knowledge
from bot.coach.store import CanvasStore
from tests.conftest import (
    CHANNEL,
    SENDER,
    action_event,
    banks,
    block,
    button,
    entity,
    form_tracker,
    make_tracker,
    run_action,
    segment,
    segment_dicts,
    shops,
    sqlite_locked,
    user_event,
)

pytestmark = pytest.mark.usefixtures("canvas_url")  # never the real var/canvas.db

ACTIONS = {
    cls().name(): cls
    for cls in (
        conversation.ActionGreet,
        interview.ActionAskSegmentWho,
        interview.ValidateVentureForm,
        interview.ValidateSegmentForm,
        interview.ActionVentureDone,
        interview.ActionSaveSegment,
        advice.ActionRecommend,
        advice.ActionConfirmBlock,
        advice.ActionSaveBlock,
        advice.ActionWhatToChange,
        advice.ActionEditBlock,
        conversation.ActionAnswerQuestion,
        conversation.ActionCoachFallback,
        advice.ActionShowCanvas,
        conversation.ActionChangeSegment,
        conversation.ActionStartOver,
        conversation.ActionDeleteRequest,
        conversation.ActionPause,
        conversation.ActionResume,
        *interview.ASK_ACTIONS.values(),
    )
}

REVIEW = {
    "venture_name": "Brewbox",
    "venture_offer": "coffee for offices",
    "stage": "review",
    "segments": segment_dicts(shops(), banks()),
}
DESCRIPTION = "we sell to 20 banks at 200k a year, they renew every year, they need an expert"


@pytest.fixture
def act(domain):
    """act("action_greet", text, intent, ...): runs the action on a tracker made from the rest."""

    def run(name, *args, **kwargs):
        tracker = kwargs.pop("tracker", None) or make_tracker(domain, *args, **kwargs)
        return run_action(ACTIONS[name](), tracker, domain)

    return run


@pytest.fixture
def validate(domain):
    """validate("segment_form", requested slot, its candidate value, text, ...): the form's validation action."""

    def run(form, slot, value, text, **kwargs):
        tracker = form_tracker(domain, form, slot, {slot: value}, text, **kwargs)
        return run_action(ACTIONS[f"validate_{form}"](), tracker, domain)

    return run


def other_venture():
    other = block(banks())
    other.venture_name = "Teabox"
    return other


def slot_events(outcome):
    return [(e["name"], e["value"]) for e in outcome.events if e["event"] == "slot"]


def prompt_of(stage):
    text, buttons = coach.pending_prompt(stage, None)
    return {"text": text, "payloads": [b["payload"] for b in buttons]}


def last_message(outcome):
    return {"text": outcome.messages[-1]["text"], "payloads": [b["payload"] for b in outcome.messages[-1]["buttons"]]}


locked = sqlite_locked  # another process holds the canvas database's lock


@pytest.fixture
def busy_store(canvas_url, monkeypatch, tmp_path):
    """The actions' store gives up on a locked database after 0.2 s; returns the database file."""
    store = CanvasStore(canvas_url, busy_timeout_s=0.2)
    for module in (common, advice):
        monkeypatch.setattr(module, "store", lambda: store)
    yield tmp_path / "canvas.db"
    store.close()


def test_every_action_of_the_domain_is_here(domain):
    # The founder's data actions run in the Rasa server (bot/plugins/founder_data.py), never here.
    assert sorted(domain["actions"]) == sorted([*ACTIONS, "action_delete_data", "action_export_data"])


# ---------------------------------------------------------------- action_greet


def test_greet_new_founder_gets_the_intro(act):
    out = act("action_greet", "hi", "greet")
    assert out.texts == [coach.INTRO]
    assert out.payloads == ["/affirm", "/ask_capabilities"]
    assert out.events == []


def test_greet_returning_founder_gets_welcome_back_and_the_pending_question(act):
    out = act("action_greet", "hi", "greet", slots=REVIEW)
    assert out.texts[0] == "Welcome back! We're working on Brewbox."
    assert out.messages[0]["buttons"] == []
    assert last_message(out) == prompt_of("review")
    assert len(out.messages) == 2
    assert out.events == []


def test_greet_after_a_pause_offers_to_continue(act):
    paused = {**REVIEW, "stage": "segments", "paused_form": "segment_form"}
    out = act("action_greet", "hello again", "greet", slots=paused)
    assert out.texts[0] == "Welcome back! We're working on Brewbox."
    assert out.payloads == ["/resume"]


def test_greet_inside_a_form_leaves_the_question_to_the_form(act):
    out = act("action_greet", "hi", "greet", slots={**REVIEW, "stage": "segments"}, active_loop="segment_form")
    assert out.texts == ["Welcome back! We're working on Brewbox."]
    assert out.buttons == []


# ---------------------------------------------------------------- action_ask_segment_who


@pytest.mark.parametrize(
    "slots, start",
    [
        ({}, "First segment: who are these customers"),
        ({"segments": segment_dicts(shops())}, "Segment 2: who are these customers"),
        ({"segments": segment_dicts(shops(), banks()), "editing_segment": 0.0}, "First segment:"),
        ({"segments": segment_dicts(shops(), banks()), "editing_segment": 1.0}, "Segment 2:"),
    ],
)
def test_ask_segment_who_numbers_the_segment(act, slots, start):
    out = act("action_ask_segment_who", "yes", "affirm", slots=slots, active_loop="segment_form")
    assert len(out.texts) == 1
    assert out.texts[0].startswith(start)
    assert out.events == []


# ---------------------------------------------------------------- validate_venture_form


@pytest.mark.parametrize(
    "form, slot, answer", [("segment_form", "segment_who", "dentists"), ("venture_form", "venture_name", "Brewbox")]
)
def test_the_message_that_reopens_a_form_is_not_an_answer(domain, form, slot, answer):
    # "No, keep it" to deleting everything: action_resume, then the form opens again and
    # Rasa hands the answers given before the pause back for validation.
    tracker = form_tracker(domain, form, None, {slot: answer}, "no, keep it", intent="deny")
    tracker.events.insert(2, action_event("action_resume"))
    out = run_action(ACTIONS[f"validate_{form}"](), tracker, domain)
    # only the question to ask next (the segment form decides it: market and price wait until heard)
    answers = [e for e in out.events if e.get("name") != "requested_slot"]
    assert answers == [], "the earlier answer stands; the message is not read into it"
    assert out.messages == []


def test_an_answer_after_a_resumed_form_is_read(domain):
    # The turn after: action_resume is before the founder's message, so the answer counts.
    tracker = form_tracker(domain, "segment_form", "segment_who", {"segment_who": "dentists"}, "dentists")
    tracker.events.insert(0, action_event("action_resume"))
    out = run_action(ACTIONS["validate_segment_form"](), tracker, domain)
    assert ("segment_who", "dentists") in slot_events(out)


def test_venture_name_and_offer_in_one_answer(validate):
    text = "It's called Brewbox, we deliver coffee to offices"
    out = validate("venture_form", "venture_name", text, text)
    assert out.messages == []
    assert out.slots == {"venture_name": "Brewbox", "venture_offer": "we deliver coffee to offices"}


def test_venture_name_alone(validate):
    out = validate("venture_form", "venture_name", "Brewbox", "Brewbox")
    assert out.messages == []
    assert slot_events(out) == [("venture_name", "Brewbox")]


@pytest.mark.parametrize("value", ["", "   "])
def test_venture_name_empty(validate, value):
    out = validate("venture_form", "venture_name", value, value)
    assert out.texts == ["I didn't get a name. What's your venture called?"]
    assert slot_events(out) == [("venture_name", None)]


@pytest.mark.parametrize("slot", ["venture_name", "venture_offer"])
def test_venture_answer_of_5000_characters_asks_to_sum_up(validate, slot):
    text = ("We deliver coffee to offices. " * 200)[:5000]
    out = validate("venture_form", slot, text, text, slots={"venture_name": "Brewbox"})
    assert len(out.texts) == 1
    assert "sum it up" in out.texts[0]
    assert "5,000 characters" in out.texts[0]
    assert slot_events(out) == [(slot, None)]


def test_venture_offer(validate):
    out = validate(
        "venture_form",
        "venture_offer",
        "  coffee for offices ",
        "coffee for offices",
        slots={"venture_name": "Brewbox"},
    )
    assert out.messages == []
    assert slot_events(out) == [("venture_offer", "coffee for offices")]


def test_venture_offer_too_short(validate):
    out = validate("venture_form", "venture_offer", "ok", "ok", slots={"venture_name": "Brewbox"})
    assert out.texts == ["Tell me in one line what you offer, and to whom."]
    assert slot_events(out) == [("venture_offer", None)]


# ---------------------------------------------------------------- validate_segment_form


def test_description_fills_who_and_keeps_what_it_says_to_confirm(validate, act):
    """Issue 19: facts said in passing decide rules and checks, so their questions are
    still asked, each naming what was heard, and one click confirms it."""
    out = validate("segment_form", "segment_who", DESCRIPTION, DESCRIPTION)
    assert out.messages == []
    assert out.slots["segment_who"] == DESCRIPTION
    for asked_later in SEGMENT_SLOTS[1:]:
        assert asked_later not in out.slots
    facts = out.slots["segment_facts"]
    assert facts["name"] == "Banks"
    assert facts["needs"] == DESCRIPTION
    assert (facts["customer_count"], facts["value_per_customer"]) == (20, 200_000)
    assert (facts["purchase_frequency"], facts["expertise_needed"], facts["personal_touch"]) == (
        "recurring",
        "high",
        "high",
    )
    asked = act("action_ask_segment_frequency", DESCRIPTION, "inform", slots={"segment_facts": facts})
    assert asked.texts == [
        "You mentioned they buy regularly (recurring): is that right? How often do they buy from you?"
    ]
    assert asked.messages[0]["buttons"][0] == {
        "title": "Yes: regularly (recurring)",
        "payload": button("inform", purchase_frequency="recurring"),
    }
    plain = act("action_ask_segment_community", DESCRIPTION, "inform", slots={"segment_facts": facts})
    assert plain.texts == [load_knowledge().interview.segment["segment_community"].ask]


def test_description_with_touchpoints_asks_where_else(validate, act):
    text = "Parents of toddlers who find us on Instagram and TikTok"
    out = validate("segment_form", "segment_who", text, text)
    assert "segment_touchpoints" not in out.slots
    assert out.slots["segment_facts"]["touchpoints"] == ["social_media"]
    assert out.slots["segment_facts"]["market"] == "b2c"
    asked = act("action_ask_segment_touchpoints", text, "inform", slots={"segment_facts": out.slots["segment_facts"]})
    assert asked.texts[0].startswith("You mentioned social media: where else do they meet your business?")
    known = {**out.slots["segment_facts"]}
    more = validate(
        "segment_form", "segment_touchpoints", "and our forum", "and our forum", slots={"segment_facts": known}
    )
    assert more.slots["segment_touchpoints"] == ["social_media", "forum"]
    same = validate("segment_form", "segment_touchpoints", "that's all", "that's all", slots={"segment_facts": known})
    assert same.slots["segment_touchpoints"] == ["social_media"]


def test_goal_button(validate):
    known = {"name": "Banks", "needs": "x", "purchase_frequency": "recurring"}
    payload = button("inform", goal="keep")
    assert payload == '/inform{"goal": "keep"}'
    out = validate(
        "segment_form",
        "segment_goal",
        "keep",
        payload,
        entities=[entity("goal", "keep")],
        slots={"segment_facts": known, "segment_who": "x", "segment_frequency": "recurring"},
    )
    assert out.messages == []
    assert slot_events(out) == [
        ("segment_goal", "keep"),
        ("segment_facts", {**known, "goal": "keep"}),
        ("requested_slot", "segment_scale"),  # the first question still open
    ]


@pytest.mark.parametrize(
    "slot, entity_name, value, question",
    [
        ("segment_goal", "goal", "expand_fast", "What should the relationship do first"),
        ("segment_frequency", "purchase_frequency", "hourly", "How often do they buy"),
        ("segment_support", "support_level", "telepathy", "How much help do they want"),
        ("segment_community", "community_role", "fight", "Would they help each other"),
    ],
)
def test_unknown_button_value_asks_again(validate, slot, entity_name, value, question):
    known = {"name": "Banks"}
    out = validate(
        "segment_form",
        slot,
        value,
        button("inform", **{entity_name: value}),
        entities=[entity(entity_name, value)],
        slots={"segment_facts": known},
    )
    assert len(out.texts) == 1
    assert out.texts[0].startswith("Sorry, I didn't catch that. " + question)
    assert out.slots[slot] is None
    assert out.slots["segment_facts"] == known


@pytest.mark.parametrize(
    "slot",
    [
        "segment_scale",
        "segment_frequency",
        "segment_support",
        "segment_community",
        "segment_touchpoints",
        "segment_goal",
    ],
)
def test_garbage_answer_asks_again(validate, slot):
    out = validate("segment_form", slot, "banana pancakes", "banana pancakes")
    assert len(out.texts) == 1
    assert out.texts[0] == read_answer(slot, "banana pancakes").problem
    assert SlotSet(slot, None) in out.events
    assert out.slots[slot] is None


@pytest.mark.parametrize(
    "slot",
    [
        "segment_scale",
        "segment_frequency",
        "segment_support",
        "segment_community",
        "segment_touchpoints",
        "segment_goal",
    ],
)
def test_not_sure_is_unknown(validate, slot):
    out = validate("segment_form", slot, "not sure", "not sure")
    assert out.messages == []
    assert out.slots[slot] == "unknown"


def test_not_sure_button_of_a_closed_question(validate):
    out = validate(
        "segment_form",
        "segment_support",
        "unknown",
        button("inform", support_level="unknown"),
        entities=[entity("support_level", "unknown")],
    )
    assert out.messages == []
    assert out.slots["segment_support"] == "unknown"


def test_too_long_segment_answer(validate):
    text = "x" * 5000
    out = validate("segment_form", "segment_who", text, text)
    assert "sum it up" in out.text
    assert slot_events(out) == [
        ("segment_who", None),
        ("segment_facts", {}),
        ("interview_notes", {"misses": {"segment_who": 1}, "numbers_said_back": False}),
        ("requested_slot", "segment_who"),
    ]


def test_market_and_price_heard_in_passing_are_asked_next_to_confirm_them(validate):
    out = validate(
        "segment_form", "segment_who", "students who want cheap meal kits", "students who want cheap meal kits"
    )
    assert out.slots["segment_facts"]["market"] == "b2c" and out.slots["segment_facts"]["price_position"] == "budget"
    # every question is asked (Rasa asks them in domain.yml's order): the market first, to confirm it
    assert out.slots.get("requested_slot", "segment_market") == "segment_market"
    waiting = coach_interview.questions_to_ask(out.slots["segment_facts"], {"segment_who": "students"})
    assert waiting[1:4] == ["segment_market", "segment_scale", "segment_price"]
    # nothing heard: neither is asked, the scale comes next
    out = validate("segment_form", "segment_who", "dentists who need their books filled", "dentists")
    assert out.slots["requested_slot"] == "segment_scale"


def test_passing_mention_fills_gaps_but_keeps_earlier_answers(validate):
    known = {"name": "Banks", "purchase_frequency": "one_off"}
    text = "keep them, mostly by phone, they come back every month"
    out = validate(
        "segment_form",
        "segment_goal",
        text,
        text,
        slots={"segment_facts": known, "segment_who": "Banks", "segment_frequency": "one_off"},
    )
    assert out.slots["segment_goal"] == "keep"
    assert out.slots["segment_facts"]["purchase_frequency"] == "one_off"  # said in passing: no overwrite
    assert out.slots["segment_facts"]["touchpoints"] == ["phone"]  # a gap: filled
    assert "segment_touchpoints" not in out.slots  # and asked later, naming the phone
    assert "segment_frequency" not in out.slots


def test_the_answer_to_the_question_corrects_an_earlier_fact(validate):
    known = {"name": "Banks", "expertise_needed": "high", "personal_touch": "high"}
    out = validate(
        "segment_form",
        "segment_support",
        "they serve themselves",
        "they serve themselves",
        slots={"segment_facts": known, "segment_who": "Banks"},
    )
    assert out.slots["segment_support"] == "self_serve"
    assert out.slots["segment_facts"]["expertise_needed"] == "low"
    assert out.slots["segment_facts"]["personal_touch"] == "low"


# ---------------------------------------------------------------- action_venture_done


def test_venture_done(act):
    out = act("action_venture_done", "coffee for offices", slots={"venture_name": "Brewbox"})
    assert out.texts == [coach.segments_intro("Brewbox")]
    assert "Brewbox" in out.texts[0]
    assert slot_events(out) == [("stage", "segments"), ("paused_form", None)]


# ---------------------------------------------------------------- action_save_segment

BANK_FACTS = {
    "name": "Banks",
    "needs": DESCRIPTION,
    "market": "b2b",
    "customer_count": 20,
    "value_per_customer": 200_000.0,
    "purchase_frequency": "recurring",
    "expertise_needed": "high",
    "personal_touch": "high",
    "touchpoints": ["meetings"],
    "goal": "keep",
}


def test_save_segment_appends_and_autosaves_a_draft(act, canvas):
    out = act(
        "action_save_segment",
        "/inform",
        slots={
            "venture_name": "Brewbox",
            "venture_offer": "coffee for offices",
            "stage": "segments",
            "segment_facts": BANK_FACTS,
            "segment_goal": "keep",
            "segments": segment_dicts(shops()),
        },
    )
    assert last_message(out) == {
        "text": "Got it, Banks noted. Is there another customer segment to describe?",
        "payloads": ["/affirm", "/deny"],
    }
    assert len(out.messages) == 1
    for name in (*SEGMENT_SLOTS, "segment_facts", "editing_segment", "paused_form"):
        assert out.slots[name] is None
    segments = out.slots["segments"]
    assert [s["profile"]["name"] for s in segments] == ["Small shops", "Banks"]
    assert segments[0] == shops().to_dict()
    assert segments[1]["profile"]["customer_count"] == 20
    assert segments[1]["choices"] == []  # recommended once all segments are in
    assert out.slots["stage"] == "more_segments"

    draft = canvas.latest_block(CHANNEL, SENDER)
    assert draft.status == "draft"
    assert (draft.venture_name, draft.venture_offer) == ("Brewbox", "coffee for offices")
    assert [s.profile.name for s in draft.segments] == ["Small shops", "Banks"]
    assert draft.segments[1].profile.touchpoints == ["meetings"]


def test_save_segment_records_the_cohort_from_the_metadata(act, canvas):
    act(
        "action_save_segment",
        "/inform",
        slots={"venture_name": "Brewbox", "segment_facts": BANK_FACTS},
        metadata={"cohort": "spring-24"},
    )
    assert [f["sender_id"] for f in canvas.founders(cohort="spring-24")] == [SENDER]


def test_redone_segment_replaces_its_place_and_shows_recommendations(act, canvas):
    redone = {**BANK_FACTS, "name": "Big banks"}
    out = act(
        "action_save_segment",
        "/inform",
        slots={**REVIEW, "stage": "segments", "segment_facts": redone, "editing_segment": 1.0, "redoing_segment": True},
    )
    segments = out.slots["segments"]
    assert [s["profile"]["name"] for s in segments] == ["Small shops", "Big banks"]
    assert segments[0] == shops().to_dict()  # the other segment is untouched
    advice_ = recommend(build_profile(redone), limit=coach.RECOMMENDED_PER_SEGMENT)
    assert [c["type_id"] for c in segments[1]["choices"]] == [r.type_id for r in advice_.recommendations]
    assert out.texts[0].startswith("**Segment 2: Big banks**")
    assert f"1. **{advice_.recommendations[0].name}**" in out.texts[0]
    assert last_message(out) == prompt_of("review")
    assert out.slots["stage"] == "review"
    assert out.slots["editing_segment"] is None
    assert [s.profile.name for s in canvas.latest_block(CHANNEL, SENDER).segments] == ["Small shops", "Big banks"]


def test_redoing_a_segment_before_the_recommendations_leaves_none_without_types(act):
    """BUG: "change the first segment" at "another segment?" (before any recommendation)
    jumps to the review with only the redone segment recommended; the other
    segments reach the confirmation and the saved block with no relationship type."""
    unrecommended = [segment("Small shops", market="b2b"), segment("Banks", market="b2b")]
    out = act(
        "action_save_segment",
        "/inform",
        slots={
            "venture_name": "Brewbox",
            "stage": "segments",
            "segment_facts": {**BANK_FACTS, "name": "Shops"},
            "editing_segment": 0.0,
            "segments": segment_dicts(*unrecommended),
        },
    )
    if out.slots["stage"] == "review":
        assert all(s["choices"] for s in out.slots["segments"]), "segments left without any relationship type"
    else:
        assert out.slots["stage"] == "more_segments"


# ---------------------------------------------------------------- action_recommend


def test_recommend_each_segment_with_reasons(act, canvas):
    bare = [
        segment(
            "Small shops",
            market="b2b",
            customer_count=300,
            value_per_customer=2000.0,
            purchase_frequency="recurring",
            touchpoints=["website"],
        ),
        segment("Banks", **{k: v for k, v in BANK_FACTS.items() if k != "name"}),
    ]
    out = act(
        "action_recommend",
        "no",
        "deny",
        slots={"venture_name": "Brewbox", "stage": "more_segments", "segments": segment_dicts(*bare)},
    )
    segments = out.slots["segments"]
    assert out.slots["stage"] == "review"
    assert [s["profile"] for s in segments] == [s.profile.to_dict() for s in bare]
    for index, (seg, text) in enumerate(zip(segments, out.texts)):
        expected = recommend(bare[index].profile, limit=coach.RECOMMENDED_PER_SEGMENT)
        assert [c["type_id"] for c in seg["choices"]] == [r.type_id for r in expected.recommendations]
        assert seg["choices"] and all(c["reasons"] and c["origin"] == "accepted" for c in seg["choices"])
        assert text.startswith(f"**Segment {index + 1}: {bare[index].profile.name}**")
        top = seg["choices"][0]
        assert f"1. **{top['name']}**: {top['reasons'][0]}" in text
    assert last_message(out) == prompt_of("review")
    draft = canvas.latest_block(CHANNEL, SENDER)
    assert [c.type_id for c in draft.segments[1].choices] == [c["type_id"] for c in segments[1]["choices"]]


def test_recommend_keeps_the_type_the_answers_call_for_with_its_fix(act):
    # gamers who help each other suit a community, but email is no place to gather: the
    # community keeps its first place, with the fix in place, and a button adds a forum
    bare = [
        segment("Gamers", market="b2c", members_help_each_other=True, contributes_ideas=False, touchpoints=["email"])
    ]
    out = act("action_recommend", "no", "deny", slots={"venture_name": "Brewbox", "segments": segment_dicts(*bare)})
    assert [c["type_id"] for c in out.slots["segments"][0]["choices"]][0] == "communities"
    fix = load_knowledge().checks.meeting_fix
    assert "1. **Communities**: " in out.texts[0] and f"To make it work: {fix}" in out.texts[0]
    assert [t for t in out.texts if t.startswith("⚠️ ")]
    assert out.texts[-1] == prompt_of("review")["text"]
    assert '/add_relationship{"touchpoint": "forum"}' in last_message(out)["payloads"]
    # one step: the button adds the forum, and the advice is made again without the warning
    added = act(
        "action_edit_block",
        '/add_relationship{"touchpoint": "forum"}',
        "add_relationship",
        entities=[entity("touchpoint", "forum")],
        slots={"venture_name": "Brewbox", "stage": "review", "segments": out.slots["segments"]},
    )
    assert added.texts[0] == "Added online forum to where Gamers meet you."
    assert added.slots["segments"][0]["profile"]["touchpoints"] == ["email", "forum"]
    assert added.slots["segments"][0]["choices"][0]["type_id"] == "communities"
    assert not [t for t in added.texts if t.startswith("⚠️ ")]


# ---------------------------------------------------------------- action_confirm_block


def test_confirm_block_shows_it_with_warnings(act):
    out = act("action_confirm_block", "yes", "affirm", slots=REVIEW)
    assert out.texts[0] == (
        "Here is your Customer Relationships block:\n**Brewbox**: coffee for offices\n"
        "1. Small shops: Self service, Communities\n"
        "2. Banks: Dedicated personal assistance, Subscription"
    )
    # shops have communities but only a website: nowhere to gather
    assert any(t.startswith("⚠️ Small shops: Communities needs a place") for t in out.texts)
    assert last_message(out) == {"text": "Shall I save this block?", "payloads": ["/affirm", "/deny"]}
    assert slot_events(out) == [("stage", "confirm")]


# ---------------------------------------------------------------- action_save_block


def test_save_block_saves_a_final_version(act, canvas):
    act("action_edit_block", "drop subscription", "drop_relationship", slots=REVIEW)  # leaves a draft
    out = act("action_save_block", "yes", "affirm", slots={**REVIEW, "stage": "confirm"})
    saved = canvas.latest_block(CHANNEL, SENDER)
    assert (saved.status, saved.version) == ("final", 1)
    assert [s.profile.name for s in saved.segments] == ["Small shops", "Banks"]
    assert [c.type_id for c in saved.segments[1].choices] == ["dedicated_personal_assistance", "subscription"]
    assert [b.status for b in canvas.block_versions(CHANNEL, SENDER)] == ["final"]  # the draft is consumed
    assert out.texts[0] == to_markdown(saved)
    assert out.texts[0].startswith("# Customer Relationships: Brewbox\n")
    cards = [m["custom"] for m in out.messages if m["custom"]]  # for channels that draw the block
    assert cards == [
        {
            "type": "canvas_block",
            "block": saved.to_dict(),
            "markdown": out.texts[0],
            "file_name": "brewbox-customer-relationships-v1",
        }
    ]
    assert out.texts[-1] == coach.saved_message(1)
    assert slot_events(out) == [("stage", "saved")]


def test_saving_again_makes_a_new_version(act, canvas):
    act("action_save_block", "yes", "affirm", slots={**REVIEW, "stage": "confirm"})
    out = act("action_save_block", "yes", "affirm", slots={**REVIEW, "stage": "confirm"})
    assert out.texts[-1].startswith("Saved as version 2 of your block.")
    assert [b.version for b in canvas.block_versions(CHANNEL, SENDER)] == [1, 2]


def test_save_block_with_the_database_locked(act, busy_store, canvas):
    with locked(busy_store):
        out = act("action_save_block", "yes", "affirm", slots={**REVIEW, "stage": "confirm"})
    assert out.texts == [coach.SAVE_FAILED]
    assert out.payloads == ["/affirm", "/deny"]
    assert slot_events(out) == [("stage", "confirm")]
    assert canvas.latest_block(CHANNEL, SENDER) is None
    assert canvas.founders() == []


def test_autosave_failing_on_a_locked_database_does_not_break_the_conversation(act, busy_store, canvas):
    with locked(busy_store):
        out = act("action_save_segment", "/inform", slots={"venture_name": "Brewbox", "segment_facts": BANK_FACTS})
    assert out.slots["stage"] == "more_segments"
    assert [s["profile"]["name"] for s in out.slots["segments"]] == ["Banks"]
    assert canvas.latest_block(CHANNEL, SENDER) is None


# ---------------------------------------------------------------- action_what_to_change


def test_what_to_change(act):
    out = act("action_what_to_change", "no", "deny", slots={**REVIEW, "stage": "confirm"})
    assert out.texts == [coach.WHAT_TO_CHANGE]
    assert slot_events(out) == [("stage", "review")]


# ---------------------------------------------------------------- action_edit_block


@pytest.mark.parametrize(
    "intent, text, entities, message, index, types",
    [
        (
            "swap_relationship",
            "swap communities for co-creation for the small shops",
            ["communities", "co_creation"],
            "Swapped Communities for Co-creation in Small shops.",
            0,
            ["self_service", "co_creation"],
        ),
        (
            "add_relationship",
            "add self-service for the banks",
            ["self_service"],
            "Added Self-service to Banks.",
            1,
            ["dedicated_personal_assistance", "subscription", "self_service"],
        ),
        (
            "drop_relationship",
            "drop subscription",
            ["subscription"],
            "Dropped Subscription from Banks.",
            1,
            ["dedicated_personal_assistance"],
        ),
    ],
)
def test_edit_block(act, canvas, intent, text, entities, message, index, types):
    out = act("action_edit_block", text, intent, [entity("relationship_type", e) for e in entities], slots=REVIEW)
    assert out.texts[0] == message
    assert out.texts[1].startswith("**Brewbox**: coffee for offices\n1. Small shops: ")
    assert last_message(out) == prompt_of("review")
    assert [c["type_id"] for c in out.slots["segments"][index]["choices"]] == types
    assert out.slots["stage"] == "review"
    draft = canvas.latest_block(CHANNEL, SENDER)
    assert [c.type_id for c in draft.segments[index].choices] == types


def test_edit_block_unknown_type(act, canvas):
    out = act("action_edit_block", "add telepathy for the banks", "add_relationship", slots=REVIEW)
    assert out.texts == ['Which relationship type should I add? For example: "add self-service for the small shops".']
    assert out.events == []
    assert canvas.latest_block(CHANNEL, SENDER) is None


def test_edit_block_ambiguous_segment(act):
    out = act(
        "action_edit_block",
        "add co-creation",
        "add_relationship",
        [entity("relationship_type", "co_creation")],
        slots=REVIEW,
    )
    assert out.texts[0].startswith("Which segment should I change? 1. Small shops; 2. Banks.")
    assert out.events == []


def test_edit_block_after_saving_goes_back_to_review(act):
    out = act("action_edit_block", "drop subscription", "drop_relationship", slots={**REVIEW, "stage": "saved"})
    assert out.slots["stage"] == "review"


def test_edit_before_recommendations_is_too_early(act):
    out = act(
        "action_edit_block",
        "add self-service",
        "add_relationship",
        slots={"venture_name": "Brewbox", "stage": "more_segments", "segments": segment_dicts(shops())},
    )
    assert out.texts[0] == coach.EDIT_TOO_EARLY
    assert last_message(out) == prompt_of("more_segments")
    assert out.events == []


def test_edit_in_the_middle_of_a_segment_is_too_early(act):
    out = act(
        "action_edit_block",
        "add self-service",
        "add_relationship",
        active_loop="segment_form",
        slots={"stage": "segments", "requested_slot": "segment_goal"},
    )
    assert out.texts == [coach.EDIT_TOO_EARLY]  # the form asks its question next
    assert out.events == []


# ---------------------------------------------------------------- action_answer_question


@pytest.mark.parametrize("slot", SEGMENT_SLOTS)
def test_why_during_a_form_question(act, slot):
    out = act(
        "action_answer_question",
        "why do you ask?",
        "ask_why",
        active_loop="segment_form",
        slots={"stage": "segments", "requested_slot": slot},
    )
    assert out.texts == [f"I ask because: {load_knowledge().interview.question(slot).why}"]
    assert out.events == []


def test_a_huge_message_taken_for_a_question_is_asked_to_sum_up(act):
    out = act(
        "action_answer_question",
        "what is " + "x" * 5000,
        "ask_definition",
        active_loop="segment_form",
        slots={"stage": "segments", "requested_slot": "segment_who"},
    )
    assert out.texts == [coach.too_long("what is " + "x" * 5000)]
    assert out.events == []


def test_why_during_the_venture_questions(act):
    out = act(
        "action_answer_question",
        "why?",
        "ask_why",
        active_loop="venture_form",
        slots={"requested_slot": "venture_offer"},
    )
    assert out.texts == [f"I ask because: {load_knowledge().interview.venture['venture_name'].why}"]


def test_why_at_review_explains_a_recommendation(act):
    # a requested_slot left over from a finished form is not the question any more
    out = act(
        "action_answer_question",
        "why subscription?",
        "ask_why",
        [entity("relationship_type", "subscription")],
        slots={**REVIEW, "requested_slot": "segment_goal"},
    )
    assert out.texts[0] == "Why **Subscription** for Banks:\n- Because subscription fits."
    assert last_message(out) == prompt_of("review")


@pytest.mark.parametrize(
    "intent, text, entities, start",
    [
        ("ask_definition", "what is co-creation?", ["co_creation"], "**Co-creation**: Customers take an active part"),
        ("ask_example", "give me an example of a community", ["communities"], "**Communities**, examples:\n- "),
        (
            "ask_difference",
            "what's the difference between self-service and automated services?",
            ["self_service", "automated_services"],
            "**Self-service** vs **Automated services**:\n- Self-service: ",
        ),
        (
            "ask_measure",
            "how do I know if subscription works?",
            ["subscription"],
            "To see whether **Subscription** works, watch:\n- **",
        ),
        ("ask_capabilities", "what can you do?", [], coach.CAPABILITIES),
    ],
)
def test_questions_are_answered_then_the_pending_prompt(act, intent, text, entities, start):
    out = act("action_answer_question", text, intent, [entity("relationship_type", e) for e in entities])
    assert out.texts[0].startswith(start)
    assert out.messages[0]["buttons"] == []
    assert last_message(out) == prompt_of("intro")
    assert len(out.messages) == 2
    assert out.events == []


# ---------------------------------------------------------------- action_coach_fallback

FALLBACK_TEXT = coach.fallback(1, None, False)[0]


def conversation_of(*turns):
    """(text, intent) turns -> the events of a conversation, ending on the last user message."""
    events = [action_event("action_session_start")]
    for text, intent in turns:
        events += [action_event("action_listen"), user_event(text, intent), action_event("action_coach_fallback")]
    return events[:-1]


def test_one_miss_has_no_buttons(act, domain):
    events = conversation_of(("hi", "greet"), ("blorp", "nlu_fallback"))
    out = act(
        "action_coach_fallback", tracker=make_tracker(domain, "blorp", "nlu_fallback", slots=REVIEW, events=events)
    )
    assert out.texts[0] == FALLBACK_TEXT
    assert out.messages[0]["buttons"] == []
    assert last_message(out) == prompt_of("review")
    assert out.events == []


def test_two_misses_in_a_row_offer_buttons(act, domain):
    events = conversation_of(("hi", "greet"), ("blorp", "nlu_fallback"), ("what's the weather", "out_of_scope"))
    out = act(
        "action_coach_fallback",
        tracker=make_tracker(domain, "what's the weather", "out_of_scope", slots=REVIEW, events=events),
    )
    assert out.texts[0].startswith(FALLBACK_TEXT)
    assert [b["payload"] for b in out.messages[0]["buttons"]] == ["/resume", "/ask_capabilities", "/show_canvas"]
    assert last_message(out) == prompt_of("review")


def test_an_understood_message_resets_the_misses(act, domain):
    events = conversation_of(("blorp", "nlu_fallback"), ("yes", "affirm"), ("zzz", "nlu_fallback"))
    out = act("action_coach_fallback", tracker=make_tracker(domain, "zzz", "nlu_fallback", slots=REVIEW, events=events))
    assert out.messages[0]["buttons"] == []


def test_two_misses_in_a_form_offer_to_skip(act, domain):
    events = conversation_of(("blorp", "nlu_fallback"), ("zzz", "nlu_fallback"))
    out = act(
        "action_coach_fallback",
        tracker=make_tracker(
            domain, "zzz", "nlu_fallback", events=events, slots={"stage": "segments"}, active_loop="segment_form"
        ),
    )
    assert len(out.messages) == 1  # the form asks its question again
    assert out.payloads == ["not sure", "/ask_capabilities", "/show_canvas"]


def test_a_miss_while_a_delete_waits_for_yes_or_no_asks_that_again(act, domain):
    # "no, keep it" typed and not understood: the delete question comes back, with its buttons.
    events = conversation_of(("delete my data", "delete_data"), ("nah leave it", "nlu_fallback"))
    out = act(
        "action_coach_fallback",
        tracker=make_tracker(
            domain, "nah leave it", "nlu_fallback", events=events, slots={**REVIEW, "confirming_delete": True}
        ),
    )
    assert last_message(out)["text"] == coach.CONFIRM_DELETE
    assert last_message(out)["payloads"] == [b["payload"] for b in coach.DELETE_BUTTONS]
    assert out.events == [], "nothing deleted, nothing changed"


# ---------------------------------------------------------------- action_show_canvas


def test_show_canvas_in_progress(act):
    out = act("action_show_canvas", "show my canvas", "show_canvas", slots=REVIEW)
    assert out.texts[0] == to_markdown(block(shops(), banks()))
    assert "## Segment: Small shops" in out.texts[0]
    assert "\nDraft\n" in out.texts[0]
    assert last_message(out) == prompt_of("review")
    assert out.events == []


def test_show_canvas_nothing_yet(act):
    out = act("action_show_canvas", "show my canvas", "show_canvas")
    assert out.texts == [coach.NOTHING_TO_SHOW, coach.INTRO]
    assert out.events == []


def test_show_canvas_falls_back_to_the_saved_block(act, canvas):
    canvas.save_block(CHANNEL, SENDER, block(banks(), status="final"))
    out = act("action_show_canvas", "show my canvas", "show_canvas", slots={"stage": "intro"})
    assert out.texts[0].startswith("# Customer Relationships: Brewbox\n")
    assert "Final, version 1" in out.texts[0]
    assert "## Segment: Banks" in out.texts[0]


def test_show_canvas_after_saving_shows_the_saved_version(act, canvas):
    act("action_save_block", "yes", "affirm", slots={**REVIEW, "stage": "confirm"})
    out = act("action_show_canvas", "show my canvas", "show_canvas", slots={**REVIEW, "stage": "saved"})
    assert out.texts[0] == to_markdown(canvas.latest_block(CHANNEL, SENDER))
    assert "Final, version 1" in out.texts[0]
    assert last_message(out) == prompt_of("saved")


def test_show_canvas_with_the_database_locked(act, busy_store):
    with locked(busy_store):
        out = act("action_show_canvas", "show my canvas", "show_canvas")
    assert out.texts == [coach.STORE_BUSY]
    assert out.events == []


def test_show_canvas_in_a_form_leaves_the_question_to_the_form(act):
    out = act(
        "action_show_canvas",
        "show my canvas",
        "show_canvas",
        slots={**REVIEW, "stage": "segments"},
        active_loop="segment_form",
    )
    assert len(out.messages) == 1
    assert out.texts[0].startswith("# Customer Relationships: Brewbox")


# ---------------------------------------------------------------- action_change_segment


@pytest.mark.parametrize(
    "text, index, name",
    [
        ("change the second segment", 1, "Banks"),
        ("edit segment 1", 0, "Small shops"),
        ("i want to redo the banks segment", 1, "Banks"),
        ("update the small shops", 0, "Small shops"),
    ],
)
def test_change_segment(act, text, index, name):
    out = act("action_change_segment", text, "change_segment", slots=REVIEW)
    assert out.texts == [f"Let's redo segment {index + 1} ({name}). I'll ask its questions again."]
    for slot in (*SEGMENT_SLOTS, "segment_facts"):
        assert out.slots[slot] is None
    assert out.slots["editing_segment"] == float(index)
    assert out.slots["redoing_segment"] is True
    assert out.slots["stage"] == "segments"
    assert "segments" not in out.slots  # the segment keeps its place until it is redone


def test_change_segment_unclear_asks_which(act):
    out = act("action_change_segment", "change a segment", "change_segment", slots=REVIEW)
    assert out.texts == ['Which segment should we change? 1. Small shops; 2. Banks. For example: "change segment 2".']
    assert out.events == [SlotSet("redoing_segment", False)]


def test_change_segment_without_segments(act):
    out = act("action_change_segment", "change the first segment", "change_segment")
    assert out.texts[0].startswith("We haven't described any segment yet.")
    assert out.events == [SlotSet("redoing_segment", False)]


# ---------------------------------------------------------------- action_start_over


def test_start_over(act, canvas):
    canvas.save_block(CHANNEL, SENDER, block(banks(), status="final"))
    out = act(
        "action_start_over",
        "start over",
        "start_over",
        active_loop="segment_form",
        slots={**REVIEW, "stage": "segments", "requested_slot": "segment_goal", "segment_who": "Banks"},
    )
    assert out.texts == [coach.STARTING_OVER]
    assert ActiveLoop(None) in out.events
    for slot in coaching_slots():
        assert out.slots[slot] is None
    assert out.slots["stage"] == "intro"
    assert out.slots["confirming_delete"] is False
    assert canvas.latest_block(CHANNEL, SENDER).version == 1  # saved blocks stay saved


def test_start_over_outside_a_form(act):
    out = act("action_start_over", "start over", "start_over", slots=REVIEW)
    assert out.active_loops == []
    assert out.slots["segments"] is None


# ---------------------------------------------------------------- deleting


def test_delete_request_in_a_form(act):
    out = act(
        "action_delete_request",
        "delete my data",
        "delete_data",
        active_loop="segment_form",
        slots={"stage": "segments", "requested_slot": "segment_scale"},
    )
    assert out.texts == [coach.CONFIRM_DELETE]
    assert out.payloads == ["/confirm_delete", "/deny"]
    assert out.slots["paused_form"] == "segment_form"
    assert out.active_loops == [None]
    assert out.slots["confirming_delete"] is True


def test_delete_request_outside_a_form(act):
    out = act("action_delete_request", "delete my data", "delete_data", slots=REVIEW)
    assert out.texts == [coach.CONFIRM_DELETE]
    assert out.events == [SlotSet("confirming_delete", True)]


# ---------------------------------------------------------------- pause and resume


def test_pause_in_a_form(act, canvas):
    out = act(
        "action_pause",
        "let's stop here",
        "pause",
        active_loop="segment_form",
        slots={**REVIEW, "stage": "segments", "requested_slot": "segment_goal"},
    )
    assert out.texts == [coach.PAUSED]
    assert out.slots["paused_form"] == "segment_form"
    assert out.active_loops == [None]
    assert [s.profile.name for s in canvas.latest_block(CHANNEL, SENDER).segments] == ["Small shops", "Banks"]


def test_pause_outside_a_form(act):
    out = act("action_pause", "let's stop here", "pause", slots=REVIEW)
    assert out.texts == [coach.PAUSED]
    assert out.events == []


def test_resume_after_a_pause_leaves_the_question_to_the_form(act):
    paused = {**REVIEW, "stage": "segments", "paused_form": "segment_form"}
    out = act("action_resume", "continue", "resume", slots=paused)
    assert out.texts == ["Welcome back! We're working on Brewbox."]
    assert out.buttons == []
    assert out.events == [SlotSet("confirming_delete", False)]


def test_resume_with_nothing_paused_repeats_the_pending_question(act):
    out = act("action_resume", "continue", "resume", slots=REVIEW)
    assert out.texts[0] == "Welcome back! We're working on Brewbox."
    assert last_message(out) == prompt_of("review")
    assert out.events == [SlotSet("confirming_delete", False)]


def test_resume_after_declining_deletion(act):
    out = act("action_resume", "no, keep it", "deny", slots={**REVIEW, "confirming_delete": True})
    assert out.texts[0] == coach.NOT_DELETED
    assert last_message(out) == prompt_of("review")
    assert out.events == [SlotSet("confirming_delete", False)]


def test_resume_after_declining_deletion_in_a_form(act):
    out = act(
        "action_resume",
        "/deny",
        "deny",
        slots={"stage": "segments", "paused_form": "segment_form", "confirming_delete": True},
    )
    assert out.texts == [coach.NOT_DELETED]
    assert out.events == [SlotSet("confirming_delete", False)]
