"""bot/coach/own_words.py: answers the vocabulary does not know, kept as the founder said them."""

import pytest

from bot.coach.numbers import read_scale
from bot.coach.own_words import nearest_touchpoints, places_as_said, scale_check, touchpoints_in_own_words


@pytest.mark.parametrize(
    "answer, kept",
    [
        ("at the town fair and in the village hall", ["events", "town fair", "village hall"]),
        ("through the church newsletter", ["email", "church newsletter"]),
        ("the school gate", ["school gate"]),
        ("websit and instagramm", ["website", "social_media"]),  # typos are just the touchpoints
    ],
)
def test_places_are_kept_as_said_with_the_nearest_known_touchpoint(answer, kept):
    assert touchpoints_in_own_words(answer) == kept


def test_places_as_said_drop_the_small_words_around_them():
    assert places_as_said("mostly at the town fair, and on the village green") == ["town fair", "village green"]
    assert places_as_said("") == [] and places_as_said("at") == []


def test_small_talk_is_near_no_touchpoint():
    assert nearest_touchpoints("tell me a joke") == []


def test_numbers_the_coach_is_unsure_of_are_said_back_in_one_line():
    line = scale_check(read_scale("about twenty accounts, each worth tens of thousands of euros a year"))
    assert (
        line
        == "I understood about 20 accounts, each worth about €30,000 a year: right? If not, just tell me the numbers."
    )
    assert scale_check(read_scale("20 banks at 200k a year")) is None  # read exactly: nothing to check
    assert scale_check(read_scale("no numbers")) is None
