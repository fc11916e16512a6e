"""bot/coach/conversation.py: what the coach reads, asks, answers and says, without Rasa."""

import pytest

from bot.coach import conversation as coach
from bot.coach import interview, presentation
from bot.coach.conversation import QuestionContext, apply_edit, find_segment
from bot.coach.extract import extract_facts
from bot.coach.interview import read_answer
from bot.coach.knowledge import load_knowledge
from tests.conftest import answer_meanings, banks, block, segment, shops

SUPPORT_LEVELS, COMMUNITY_ROLES = answer_meanings("segment_support"), answer_meanings("segment_community")

LONG = "x" * 2500


def held(result, index=0):
    return [c.type_id for c in result.block.segments[index].choices]


# ---------------------------------------------------------------- read_answer

# slot -> a good answer and the value it gives
GOOD = {
    "segment_who": ("Independent coffee shops who want fresh beans", "Independent coffee shops who want fresh beans"),
    "segment_market": ("mostly small businesses", "b2b"),
    "segment_scale": ("about 20 banks at 200k a year", "given"),
    "segment_price": ("it's a premium product", "premium"),
    "segment_frequency": ("they come back every month", "recurring"),
    "segment_support": ("they serve themselves", "self_serve"),
    "segment_community": ("they'd share tips with each other", "help_each_other"),
    "segment_touchpoints": ("instagram and whatsapp", ["social_media", "messaging"]),
    "segment_goal": ("we need to keep them", "keep"),
}
CLOSED = [
    "segment_market",
    "segment_scale",
    "segment_price",
    "segment_frequency",
    "segment_support",
    "segment_community",
    "segment_touchpoints",
    "segment_goal",
]


@pytest.mark.parametrize("slot", interview.SEGMENT_SLOTS)
def test_read_answer_good(slot):
    text, value = GOOD[slot]
    reading = read_answer(slot, text)
    assert reading.problem is None
    assert reading.value == value


@pytest.mark.parametrize("slot", CLOSED)
@pytest.mark.parametrize("unsure", ["not sure", "No idea", "I don't know yet", "dunno", "skip"])
def test_read_answer_unsure_is_unknown(slot, unsure):
    reading = read_answer(slot, unsure)
    assert (reading.value, reading.problem) == ("unknown", None)


@pytest.mark.parametrize("slot", CLOSED)
def test_read_answer_not_sure_button(slot):
    assert read_answer(slot, "", ["unknown"]).value == "unknown"


@pytest.mark.parametrize("slot", CLOSED)
def test_read_answer_garbage_asks_again(slot):
    reading = read_answer(slot, "banana pancakes")
    assert reading.value is None
    assert reading.problem
    assert reading.facts == {}


def test_read_answer_who_too_short_asks_for_more():
    reading = read_answer("segment_who", "ab")
    assert reading.value is None
    assert "who are these customers" in reading.problem


@pytest.mark.parametrize("unsure", ["not sure", "I don't know"])
def test_read_answer_who_unsure_asks_again(unsure):
    """BUG: "not sure" to "who are these customers?" is taken as the segment's
    description, so a segment called "Not sure" lands in the canvas."""
    reading = read_answer("segment_who", unsure)
    assert reading.value is None
    assert reading.problem


@pytest.mark.parametrize("slot", interview.SEGMENT_SLOTS)
def test_read_answer_too_long_asks_to_sum_up(slot):
    reading = read_answer(slot, LONG)
    assert reading.value is None
    assert "sum it up" in reading.problem
    assert "2,500 characters" in reading.problem


@pytest.mark.parametrize("slot", interview.SEGMENT_SLOTS)
@pytest.mark.parametrize("empty", ["", "   ", None])
def test_read_answer_empty(slot, empty):
    reading = read_answer(slot, empty)
    assert reading.value is None
    assert reading.problem == "I didn't get an answer there. Could you type it, or pick one of the buttons?"


def test_read_answer_unknown_slot_is_a_programming_error():
    with pytest.raises(ValueError):
        read_answer("segment_colour", "blue")


def test_read_answer_who_facts():
    reading = read_answer(
        "segment_who", "we sell to 20 banks at 200k a year, they renew every year, they need an expert"
    )
    assert reading.facts["name"] == "Banks"
    assert reading.facts["needs"].startswith("we sell to 20 banks")
    assert reading.facts["customer_count"] == 20
    assert reading.facts["purchase_frequency"] == "recurring"
    assert reading.facts["expertise_needed"] == "high"


def test_read_answer_scale_facts():
    assert read_answer("segment_scale", "5000 students paying 9 euros a month").facts == {
        "customer_count": 5000,
        "value_per_customer": 108,
    }
    # a count alone is an answer too
    assert read_answer("segment_scale", "about 20 banks").facts == {"customer_count": 20}


@pytest.mark.parametrize(
    "slot, value",
    [
        ("segment_frequency", "occasional"),
        ("segment_support", "expert"),
        ("segment_community", "both"),
        ("segment_goal", "grow"),
    ],
)
def test_read_answer_button_entity_wins_over_payload_text(slot, value):
    reading = read_answer(slot, "", [value])
    assert reading.value == value
    assert reading.problem is None


@pytest.mark.parametrize(
    "slot, entity",
    [
        ("segment_frequency", "sometimes_maybe"),
        ("segment_support", "telepathy"),
        ("segment_community", "fight"),
        ("segment_goal", "expand_fast"),
    ],
)
def test_read_answer_unknown_button_value_asks_again(slot, entity):
    reading = read_answer(slot, "", [entity])
    assert reading.value is None
    assert reading.problem.startswith("Sorry, I didn't catch that.")


@pytest.mark.parametrize(
    "slot, value, facts",
    [
        ("segment_frequency", "one_off", {"purchase_frequency": "one_off"}),
        ("segment_support", "guidance", SUPPORT_LEVELS["guidance"]),
        ("segment_community", "neither", COMMUNITY_ROLES["neither"]),
        ("segment_goal", "acquire", {"goal": "acquire"}),
    ],
)
def test_read_answer_closed_facts(slot, value, facts):
    assert read_answer(slot, "", [value]).facts == facts


def test_read_answer_touchpoints_merge_entities_and_text_without_duplicates():
    reading = read_answer("segment_touchpoints", "email, instagram and whatsapp", ["email", "unknown"])
    assert reading.value == ["email", "social_media", "messaging"]
    assert reading.facts == {"touchpoints": ["email", "social_media", "messaging"]}


@pytest.mark.parametrize("text", ["they buy once a month", "they buy once a year"])
def test_read_answer_once_a_month_is_recurring(text):
    """BUG: "once" matches one_off before "a month" is read, so a monthly buyer is one-off."""
    assert read_answer("segment_frequency", text).value == "recurring"


def test_read_answer_community_both_roles_named_is_both():
    """BUG: naming both roles gives only the first; extract_facts reads the same words as "both"."""
    reading = read_answer("segment_community", "they share tips and give feedback on new flavours")
    assert reading.value == "both"
    assert reading.facts == COMMUNITY_ROLES["both"]


# ---------------------------------------------------------------- prefill and merge_facts

EMPTY = {slot: None for slot in interview.SEGMENT_SLOTS}


def test_prefill_from_a_rich_description():
    facts = {
        "customer_count": 20,
        "value_per_customer": 200_000,
        "purchase_frequency": "recurring",
        "expertise_needed": "high",
        "personal_touch": "high",
        "touchpoints": ["meetings"],
        "members_help_each_other": False,
        "contributes_ideas": True,
        "goal": "keep",
        "market": "b2b",
        "price_position": "premium",
    }
    # Every question whose answer a rule reads confirms a fact heard in passing (issue 19):
    # none is filled unasked, and each names what was heard.
    assert interview.prefill(facts, {**EMPTY, "segment_who": "Banks"}) == {}
    heard = {slot: interview.heard_in_passing(slot, facts) for slot in interview.SEGMENT_SLOTS[1:]}
    assert {slot: h[0] for slot, h in heard.items()} == {
        "segment_market": "b2b",
        "segment_scale": "given",
        "segment_price": "premium",
        "segment_frequency": "recurring",
        "segment_support": "expert",
        "segment_community": "contribute_ideas",
        "segment_touchpoints": ["meetings"],
        "segment_goal": "keep",
    }


def test_prefill_never_asks_twice_nor_overwrites_an_answer():
    facts = {"purchase_frequency": "recurring", "goal": "grow"}
    answers = interview.prefill(facts, {**EMPTY, "segment_frequency": "one_off", "segment_goal": "unknown"})
    assert answers == {}


def test_prefill_needs_every_field_of_a_question():
    # one of the two scale facts, one of the two support facts: still asked
    assert interview.prefill({"customer_count": 20, "expertise_needed": "high"}, EMPTY) == {}


def test_prefill_never_fills_who():
    assert "segment_who" not in interview.prefill({"name": "Banks", "needs": "x"}, EMPTY)


@pytest.mark.parametrize("level", SUPPORT_LEVELS)
def test_support_level_heard_from_its_facts(level):
    assert interview.heard_in_passing("segment_support", dict(SUPPORT_LEVELS[level]))[0] == level


def test_merge_facts_passing_mention_only_fills_gaps():
    known = {"purchase_frequency": "one_off", "touchpoints": []}
    merged = interview.merge_facts(known, {"purchase_frequency": "recurring", "goal": "keep", "touchpoints": ["email"]})
    assert merged == {"purchase_frequency": "one_off", "goal": "keep", "touchpoints": ["email"]}
    assert known == {"purchase_frequency": "one_off", "touchpoints": []}  # not changed in place


def test_merge_facts_answer_to_the_question_replaces():
    known = {"purchase_frequency": "one_off", "goal": "acquire"}
    merged = interview.merge_facts(
        known, {"purchase_frequency": "recurring", "goal": "keep"}, answering=("purchase_frequency",)
    )
    assert merged == {"purchase_frequency": "recurring", "goal": "acquire"}


def test_merge_facts_from_nothing():
    assert interview.merge_facts(None, {"goal": "keep"}) == {"goal": "keep"}


def test_build_profile_ignores_unknown_keys():
    profile = interview.build_profile({"name": "Banks", "customer_count": 20, "surprise": 1})
    assert (profile.name, profile.customer_count) == ("Banks", 20)


# ---------------------------------------------------------------- find_segment

TWO = [shops(), banks()]


@pytest.mark.parametrize(
    "text, index",
    [
        ("change the first segment", 0),
        ("change the second segment", 1),
        ("the 2nd one", 1),
        ("redo the last segment", 1),
        ("correct the first one", 0),
        ("segment 2", 1),
        ("edit segment 1", 0),
        ("change segment #1", 0),
        ("segment number 2 is wrong", 1),
        ("the small shops", 0),
        ("let me fix what i said about the banks", 1),
        ("SHOPS", 0),
    ],
)
def test_find_segment(text, index):
    assert find_segment(text, TWO) == index


@pytest.mark.parametrize("text", ["the third segment", "segment 5", "segment 0", "something else", ""])
def test_find_segment_nothing_matches(text):
    assert find_segment(text, TWO) is None


def test_find_segment_without_segments():
    assert find_segment("the first segment", []) is None


@pytest.mark.parametrize("text, index", [("fix segment two", 1), ("amend segment one", 0)])
def test_find_segment_number_in_words(text, index):
    """BUG: "segment two" (an NLU training example of change_segment) finds no segment."""
    assert find_segment(text, TWO) == index


# ---------------------------------------------------------------- apply_edit


def two_segments():
    return block(shops(), banks())  # shops: self_service, communities; banks: dedicated, subscription


def test_swap_a_for_b():
    result = apply_edit("swap_relationship", "swap communities for co-creation for the small shops", [], two_segments())
    assert result.changed
    assert result.message == "Swapped Communities for Co-creation in Small shops."
    assert held(result) == ["self_service", "co_creation"]  # in the place of the old one
    assert result.block.segments[0].choices[1].origin == "edited"
    assert held(result, 1) == ["dedicated_personal_assistance", "subscription"]


@pytest.mark.parametrize("entities", [[], ["co_creation", "communities"]])
def test_swap_instead_of(entities):
    result = apply_edit(
        "swap_relationship", "use co-creation instead of communities in segment 1", entities, two_segments()
    )
    assert result.changed
    assert held(result) == ["self_service", "co_creation"]


def test_swap_with_one_segment_needs_no_segment_name():
    result = apply_edit("swap_relationship", "replace subscription with advisory", [], block(banks()))
    assert result.changed
    assert held(result) == ["dedicated_personal_assistance", "advisory"]
    # the engine's reasons come along when it recommends the type
    assert result.block.segments[0].choices[1].reasons != ["Chosen by the founder."]


def test_swap_needs_two_types():
    result = apply_edit("swap_relationship", "swap communities for the small shops", [], two_segments())
    assert not result.changed
    assert "Tell me both types" in result.message


def test_swap_a_type_not_held():
    result = apply_edit("swap_relationship", "swap transactional for advisory in segment 2", [], two_segments())
    assert not result.changed
    assert result.message.startswith("Banks doesn't have Transactional, so there is nothing to swap.")
    assert held(result, 1) == ["dedicated_personal_assistance", "subscription"]


def test_swap_into_a_type_already_held_makes_no_duplicate():
    """BUG: swapping in a type the segment already has gives it that type twice."""
    result = apply_edit(
        "swap_relationship", "replace self-service with communities for the small shops", [], two_segments()
    )
    types = held(result)
    assert len(types) == len(set(types)), types


def test_add_for_a_named_segment():
    result = apply_edit("add_relationship", "add self-service for the banks", [], two_segments())
    assert result.changed
    assert result.message == "Added Self-service to Banks."
    assert held(result, 1) == ["dedicated_personal_assistance", "subscription", "self_service"]
    assert result.block.segments[1].choices[-1].origin == "added"
    assert held(result, 0) == ["self_service", "communities"]


def test_add_a_type_already_held():
    result = apply_edit("add_relationship", "add self-service for the small shops", [], two_segments())
    assert not result.changed
    assert result.message == "Small shops already has Self-service."


@pytest.mark.parametrize("text", ["add magic for the banks", "add something for segment 2"])
def test_add_an_unknown_type(text):
    result = apply_edit("add_relationship", text, [], two_segments())
    assert not result.changed
    assert result.message.startswith("Which relationship type should I add?")


def test_unknown_entity_values_are_ignored():
    result = apply_edit("add_relationship", "add it for the banks", ["telepathy"], two_segments())
    assert not result.changed
    assert "Which relationship type" in result.message


def test_drop_finds_the_only_segment_holding_the_type():
    result = apply_edit("drop_relationship", "drop subscription", [], two_segments())
    assert result.changed
    assert result.message == "Dropped Subscription from Banks."
    assert held(result, 1) == ["dedicated_personal_assistance"]


def test_drop_a_type_not_held():
    result = apply_edit("drop_relationship", "drop communities from the second segment", [], two_segments())
    assert not result.changed
    assert result.message == "Banks doesn't have Communities. It has: Dedicated personal assistance, Subscription."


@pytest.mark.parametrize(
    "intent, text",
    [
        ("swap_relationship", "swap communities for co-creation"),
        ("add_relationship", "add co-creation"),
        ("drop_relationship", "drop communities"),  # both segments hold it
    ],
)
def test_ambiguous_segment_asks_which(intent, text):
    both = block(shops(), segment("Gamers", "communities", "co_creation"))
    result = apply_edit(intent, text, [], both)
    assert not result.changed
    assert result.message.startswith("Which segment should I change? 1. Small shops; 2. Gamers.")
    assert held(result) == ["self_service", "communities"]
    assert held(result, 1) == ["communities", "co_creation"]


def test_edit_without_segments():
    result = apply_edit("add_relationship", "add self-service", ["self_service"], block())
    assert not result.changed
    assert "no segments yet" in result.message


def test_edit_with_another_intent_is_a_programming_error():
    with pytest.raises(ValueError):
        apply_edit("greet", "add self-service", [], block(shops()))


# ---------------------------------------------------------------- answer_question


def ask(intent, text, entities=(), **context):
    return coach.answer_question(intent, text, list(entities), QuestionContext(**context))


@pytest.mark.parametrize("slot", interview.SEGMENT_SLOTS)
def test_why_during_a_question_gives_its_reason(slot):
    assert (
        ask("ask_why", "why?", requested_slot=slot) == f"I ask because: {load_knowledge().interview.question(slot).why}"
    )


@pytest.mark.parametrize("slot", ["venture_name", "venture_offer"])
def test_why_during_the_venture_questions(slot):
    assert (
        ask("ask_why", "why do you ask?", requested_slot=slot)
        == f"I ask because: {load_knowledge().interview.venture['venture_name'].why}"
    )


def test_why_a_recommended_type_gives_its_reasons():
    answer = ask("ask_why", "why subscription?", segments=[shops(), banks()])
    assert answer == "Why **Subscription** for Banks:\n- Because subscription fits."


def test_why_a_type_not_recommended():
    answer = ask("ask_why", "why advisory?", segments=[shops()])
    assert answer.startswith("I haven't recommended Advisory for any of your segments.")


def test_why_in_general():
    assert ask("ask_why", "why?").startswith("Every question I ask feeds the recommendation")


def test_what_is_co_creation():
    answer = ask("ask_definition", "what is co-creation?")
    definition = " ".join(load_knowledge().types["co_creation"].definition.split())
    assert answer.startswith(f"**Co-creation**: {definition}")
    assert "\nFor example, " in answer


def test_what_is_it_means_the_latest_recommendation():
    answer = ask("ask_definition", "what does that mean?", segments=[shops(), banks()])
    assert answer.startswith("**Dedicated personal assistance**:")


def test_what_is_it_without_context_lists_the_types():
    answer = ask("ask_definition", "what is that?")
    assert answer.startswith("Which relationship type do you mean? I know: Personal assistance,")
    assert "Co-creation" in answer


def test_example_of_a_community():
    answer = ask("ask_example", "give me an example of a community")
    examples = load_knowledge().types["communities"].examples
    assert answer.splitlines()[0] == "**Communities**, examples:"
    assert answer.splitlines()[1] == f"- {examples[0].case}: {examples[0].what}"
    assert len(answer.splitlines()) == 1 + min(3, len(examples))


def test_difference_between_self_service_and_automated_services():
    answer = ask("ask_difference", "what's the difference between self-service and automated services?")
    lines = answer.splitlines()
    assert lines[0] == "**Self-service** vs **Automated services**:"
    assert lines[1].startswith("- Self-service: ")
    assert lines[2].startswith("- Automated services: ")
    assert "- Intimacy: self service vs automated" in lines


def test_difference_needs_two_types():
    assert ask("ask_difference", "what's the difference?", ["communities"]).startswith(
        "Which two relationship types should I compare?"
    )


def test_measure_a_type():
    answer = ask("ask_measure", "how do I measure subscription?")
    knowledge = load_knowledge()
    kpis = knowledge.types["subscription"].kpis[:3]
    assert answer.splitlines()[0] == "To see whether **Subscription** works, watch:"
    assert [line.split("**")[1] for line in answer.splitlines()[1:]] == [knowledge.kpis[k].name for k in kpis]


def test_entities_name_the_type_when_the_text_does_not():
    assert ask("ask_definition", "what is that one?", ["self_service"]).startswith("**Self-service**:")


def test_capabilities():
    assert ask("ask_capabilities", "what can you do?") == coach.CAPABILITIES


# ---------------------------------------------------------------- prompts and fallbacks


@pytest.mark.parametrize(
    "stage, start, payloads",
    [
        ("intro", "Hi, I'm Rapport", ["/affirm", "/ask_capabilities"]),
        (None, "Hi, I'm Rapport", ["/affirm", "/ask_capabilities"]),
        ("segments", 'Say "continue" to go on with your segments.', ["/resume"]),
        ("more_segments", "Is there another customer segment to describe?", ["/affirm", "/deny"]),
        ("review", "Do these fit?", ["/affirm", "/deny"]),
        ("confirm", "Shall I save this block?", ["/affirm", "/deny"]),
        ("saved", "Your block is saved.", ["/show_canvas"]),
    ],
)
def test_pending_prompt_per_stage(stage, start, payloads):
    text, buttons = coach.pending_prompt(stage, None)
    assert text.startswith(start)
    assert [b["payload"] for b in buttons] == payloads


def test_pending_prompt_names_the_segment_just_saved():
    text, _ = coach.pending_prompt("more_segments", None, saved_segment="Banks")
    assert text == "Got it, Banks noted. Is there another customer segment to describe?"


@pytest.mark.parametrize("stage", ["segments", "review", "intro"])
def test_pending_prompt_when_paused(stage):
    text, buttons = coach.pending_prompt(stage, "segment_form")
    assert "continue" in text
    assert buttons == [{"title": "Continue", "payload": "/resume"}]


def test_first_miss_has_no_buttons():
    text, buttons = coach.fallback(1, "review", in_form=False)
    assert text.startswith("Sorry, I didn't understand that.")
    assert buttons == []


@pytest.mark.parametrize("misses", [2, 3])
@pytest.mark.parametrize(
    "stage, in_form, first",
    [
        ("intro", False, "/affirm"),
        (None, False, "/affirm"),
        ("review", False, "/resume"),
        ("segments", True, "not sure"),
    ],
)
def test_buttons_from_the_second_miss(misses, stage, in_form, first):
    text, buttons = coach.fallback(misses, stage, in_form)
    assert text.endswith("Here are some things you can do:")
    assert [b["payload"] for b in buttons] == [first, "/ask_capabilities", "/show_canvas"]


# ---------------------------------------------------------------- what the coach says


def test_too_long():
    assert coach.too_long("x" * 2000) is None
    assert "2,001 characters" in coach.too_long("x" * 2001)
    assert coach.too_long(None) is None


@pytest.mark.parametrize("number, start", [(1, "First segment:"), (2, "Segment 2:"), (3, "Segment 3:")])
def test_ask_segment_who(number, start):
    assert interview.ask_segment_who(number).startswith(start)


def test_welcome_back():
    assert coach.welcome_back("Brewbox") == "Welcome back! We're working on Brewbox."
    assert coach.welcome_back(None) == "Welcome back!"


def test_which_segment():
    assert coach.which_segment([shops(), banks()]) == (
        'Which segment should we change? 1. Small shops; 2. Banks. For example: "change segment 2".'
    )
    assert coach.which_segment([]).startswith("We haven't described any segment yet.")


def test_render_block():
    text = presentation.render_block(block(shops(), segment("Gamers"), segment("Banks", "advisory")))
    assert text.splitlines() == [
        "**Brewbox**: coffee for offices",
        "1. Small shops: Self service, Communities",
        "2. Gamers: nothing chosen yet",
        "3. Banks: Advisory",
    ]


def test_recommendations_become_accepted_choices_with_reasons():
    advice = coach.recommend_segment(banks().profile)
    choices = coach.choices_from_advice(advice)
    assert 1 <= len(choices) <= coach.RECOMMENDED_PER_SEGMENT
    assert choices[0].type_id == "dedicated_personal_assistance"
    assert all(c.origin == "accepted" and c.reasons for c in choices)
    text = presentation.render_advice(1, banks().profile, advice)
    assert text.splitlines()[0] == "**Segment 2: Banks**"
    assert "1. **Dedicated personal assistance**: " in text
    assert "   - Keep: " in text


# ---------------------------------------------------------------- the seeds' textbook case, from free text


@pytest.mark.parametrize(
    "text",
    [
        "about 20 accounts worth tens of thousands each, want expert one-to-one advice",
        "about twenty accounts, each worth tens of thousands a year, who want expert one-to-one advice",
    ],
)
def test_few_high_value_accounts_in_words_get_dedicated_personal_assistance(text):
    facts = extract_facts(text)
    assert facts["customer_count"] == 20 and facts["value_per_customer"] >= 10_000
    advice = coach.recommend_segment(interview.build_profile({**facts, "name": "Accounts"}))
    assert advice.recommendations[0].type_id == "dedicated_personal_assistance"
    assert not any("would not scale" in r.reasons[0] for r in advice.recommendations)


def test_price_position_is_never_named_as_missing_since_it_is_never_asked():
    for facts in (
        {},
        {"customer_count": 20},
        {"customer_count": 5000, "value_per_customer": 60, "goal": "keep"},
        {"customer_count": 800, "value_per_customer": 8000, "personal_touch": "high", "touchpoints": ["in_store"]},
    ):
        missing = coach.recommend_segment(interview.build_profile(facts)).most_informative_missing
        assert missing is None or missing.field in coach.asked_fields()
        assert missing is None or missing.field not in ("price_position", "market")


def test_advice_shows_the_fix_beside_a_type_whose_check_fails():
    profile = interview.build_profile(
        {"name": "Gamers", "members_help_each_other": True, "contributes_ideas": True, "touchpoints": ["email"]}
    )
    advice = coach.recommend(profile, limit=len(load_knowledge().types))
    text = presentation.render_advice(0, profile, advice)
    assert "**Communities**" in text
    assert (
        "To make it work: Add a forum, a social media group, events or a space in your app where they can meet." in text
    )


# ---------------------------------------------------------------- a name that looks like small talk


@pytest.mark.parametrize(
    "text, intent, answers",
    [
        ("Hello Fresh Bakes", "greet", True),
        ("Good Morning Granola", "greet", True),
        ("Yo Yoga", "greet", True),
        ("Later Labs", "pause", True),
        ("Break Time Cafe", "pause", True),
        ("To Be Continued Books", "pause", True),
        ("hi", "greet", False),
        ("hey there!", "greet", False),
        ("hey rapport, how are you?", "greet", False),
        ("hi, my name is Ahmed", "greet", False),
        ("let's stop here", "pause", False),
        ("back in 10", "pause", False),
        ("brb", "pause", False),
        ("i'm out of time today, later", "pause", False),
        ("hold that thought, i need to check the numbers with my cofounder", "pause", False),
        ("Hello Fresh Bakes", "ask_why", False),  # only small talk's intents
    ],
)
def test_a_name_that_looks_like_small_talk_answers_the_name_question(text, intent, answers):
    assert interview.answers_despite_small_talk("venture_name", text, intent) is answers
    # Only the free-text questions of the venture read it so; a segment's description does not.
    assert interview.answers_despite_small_talk("segment_who", text, intent) is False


def test_a_greeting_before_the_venture_name_is_no_part_of_it():
    assert interview.read_venture_name("hi, it's Brewbox, we deliver coffee").slots == {
        "venture_name": "Brewbox",
        "venture_offer": "we deliver coffee",
    }
    assert interview.read_venture_name("Hello Fresh Bakes").slots == {"venture_name": "Hello Fresh Bakes"}


def test_yes_twice_to_where_they_meet_you_is_no_place():
    """Found by the whole-interview property: "yes" to "where do they meet you?", asked twice,
    was kept as a place in the founder's own words ('I've noted "yes" as you said it')."""
    facts, notes = {"name": "Shops"}, {}
    for _ in range(2):
        result = interview.read_segment_message(
            {"segment_touchpoints": "yes"}, "yes", [], "affirm", facts, EMPTY, notes=notes
        )
        notes = result.slots.get("interview_notes", notes)
    assert result.slots["segment_touchpoints"] == "unknown"
    assert not any("as you said it" in m.text for m in result.messages)
