"""No dead ends in the segment interview (bot/coach/interview.py): a question is asked at
most twice, then the coach keeps what the founder said or leaves the answer open and goes
on; numbers it is unsure of are said back in one line, and the next message may correct them."""

import pytest

from bot.coach import interview
from bot.coach.knowledge import UNKNOWN
from tests.conftest import turn_texts

FILLED = {name: None for name in interview.SEGMENT_SLOTS}


def turn(slot, text, notes=None, facts=None, intent="inform", entities=()):
    return interview.read_segment_message(
        {slot: text},
        text,
        list(entities),
        intent,
        facts or {"name": "Shops"},
        {**FILLED, "segment_who": "x"},
        notes=notes,
    )


def test_an_unread_answer_is_asked_again_once():
    first = turn("segment_frequency", "banana pancakes")
    assert first.slots["segment_frequency"] is None
    assert turn_texts(first)[0].startswith("Sorry, I didn't catch that.")
    assert first.slots["interview_notes"]["misses"] == {"segment_frequency": 1}


def test_the_second_unread_answer_is_left_open_and_the_coach_goes_on():
    second = turn("segment_frequency", "banana pancakes again", notes={"misses": {"segment_frequency": 1}})
    assert second.slots["segment_frequency"] == UNKNOWN
    assert turn_texts(second) == [interview.LEFT_OPEN]
    assert second.slots["interview_notes"]["misses"] == {}


@pytest.mark.parametrize(
    "slot, typed, value",
    [
        ("segment_frequency", "reguarly", "recurring"),
        ("segment_frequency", "evry week they buy skins", "recurring"),
        ("segment_support", "quik help", "guidance"),
        ("segment_support", "persnal touch", "personal"),
        ("segment_community", "bothh", "both"),
        ("segment_community", "they help eachother", "help_each_other"),
        ("segment_goal", "aquire new ones", "acquire"),
    ],
)
def test_answers_with_typos_are_read_the_first_time(slot, typed, value):
    """Issue 19: a typo in the answer to a closed question is matched against the words of
    answers.yml, instead of being asked again and then left open."""
    result = turn(slot, typed)
    assert result.slots[slot] == value and not turn_texts(result)


def test_places_the_vocabulary_lacks_stand_as_said_on_the_second_try():
    first = turn("segment_touchpoints", "at the town fair and in the village hall")
    assert first.slots["segment_touchpoints"] is None
    second = turn(
        "segment_touchpoints", "at the town fair and in the village hall", notes=first.slots["interview_notes"]
    )
    assert second.slots["segment_touchpoints"] == ["events", "town fair", "village hall"]
    assert second.slots["segment_facts"]["touchpoints"] == ["events", "town fair", "village hall"]
    assert turn_texts(second) == ['I\'ve noted "town fair", "village hall" as you said it.']


def test_small_talk_twice_at_the_places_question_leaves_them_open():
    second = turn(
        "segment_touchpoints", "tell me a joke", intent="out_of_scope", notes={"misses": {"segment_touchpoints": 1}}
    )
    assert second.slots["segment_touchpoints"] == UNKNOWN


def test_no_description_twice_names_the_segment_and_goes_on():
    first = turn("segment_who", "tell me a joke", intent="out_of_scope", facts={})
    assert first.slots["segment_who"] is None and "doesn't sound like a group of customers" in turn_texts(first)[0]
    second = turn(
        "segment_who", "tell me another one", intent="out_of_scope", facts={}, notes=first.slots["interview_notes"]
    )
    assert second.slots["segment_who"] == UNKNOWN
    assert second.slots["segment_facts"]["name"] == "Customers"
    assert 'I\'ll call them "Customers"' in turn_texts(second)[0]


def test_a_description_that_names_people_is_no_small_talk():
    result = turn("segment_who", "coffee regulars who grab a latte on the way to work", intent="out_of_scope", facts={})
    assert result.slots["segment_who"] == "coffee regulars who grab a latte on the way to work"
    assert result.slots["segment_facts"]["name"] == "Coffee regulars"


def test_numbers_the_coach_is_unsure_of_are_said_back_in_one_line():
    result = turn("segment_scale", "about twenty accounts, each worth tens of thousands of euros a year")
    assert result.slots["segment_scale"] == "given"
    assert turn_texts(result) == [
        "I understood about 20 accounts, each worth about €30,000 a year: right? If not, just tell me the numbers."
    ]
    assert result.slots["interview_notes"]["numbers_said_back"] is True


def test_numbers_said_in_passing_are_confirmed_by_their_own_question():
    result = turn(
        "segment_who", "compliance teams, about twenty accounts, each worth tens of thousands of euros a year", facts={}
    )
    assert "segment_scale" not in result.slots and not turn_texts(result)  # not said back twice: asked next
    asked = interview.ask_question("segment_scale", result.slots["segment_facts"])
    assert turn_texts(asked) == [
        "You mentioned about 20 customers, each worth about 30,000 a year: is that right? "
        "If not: roughly how many of them are there, and what is each worth to you per year?"
    ]
    yes = turn("segment_scale", "yes", facts=result.slots["segment_facts"])
    assert yes.slots["segment_scale"] == "given"
    assert (yes.slots["segment_facts"]["customer_count"], yes.slots["segment_facts"]["value_per_customer"]) == (
        20,
        30_000,
    )


def test_exact_numbers_are_not_said_back():
    result = turn("segment_scale", "20 banks at 200k a year")
    assert not turn_texts(result) and "interview_notes" not in result.slots


def test_the_message_after_numbers_said_back_may_correct_them():
    facts = {"name": "Compliance teams", "customer_count": 20, "value_per_customer": 30000.0}
    result = turn(
        "segment_frequency",
        "no, about 50 accounts at 20k a year",
        facts=facts,
        notes={"misses": {}, "numbers_said_back": True},
    )
    assert result.slots["segment_facts"]["customer_count"] == 50
    assert result.slots["segment_facts"]["value_per_customer"] == 20000
    assert turn_texts(result) == ["Thanks, corrected: about 50 accounts, each worth about 20,000 a year."]
    assert result.slots["segment_frequency"] is None  # asked again, without "didn't catch that"
    assert result.slots["interview_notes"] == {"misses": {"segment_frequency": 1}, "numbers_said_back": False}


def test_an_answer_after_numbers_said_back_is_just_an_answer():
    result = turn(
        "segment_frequency",
        "every month",
        facts={"customer_count": 20},
        notes={"misses": {}, "numbers_said_back": True},
    )
    assert result.slots["segment_frequency"] == "recurring" and not turn_texts(result)
    assert result.slots["segment_facts"]["customer_count"] == 20


def test_a_count_given_in_the_description_stays_when_the_scale_answer_gives_only_the_value():
    who = turn("segment_who", "compliance teams at banks, we have 20 of them", facts={})
    assert who.slots["segment_facts"]["customer_count"] == 20
    assert who.slots.get("segment_scale") is None  # the value is still missing: asked
    scale = turn("segment_scale", "each worth about 30k a year", facts=who.slots["segment_facts"])
    assert scale.slots["segment_scale"] == "given"
    assert (scale.slots["segment_facts"]["customer_count"], scale.slots["segment_facts"]["value_per_customer"]) == (
        20,
        30000,
    )
