"""bot/coach/extract.py: numbers, facts, labels and mentions read out of free text."""

import pytest

from bot.coach.extract import (
    extract_facts,
    find_mentions,
    names_people,
    parse_scale,
    segment_label,
    split_venture,
    values_of,
)
from tests.conftest import answer_meanings

SUPPORT_LEVELS, COMMUNITY_ROLES = answer_meanings("segment_support"), answer_meanings("segment_community")


# ---------------------------------------------------------------- parse_scale


@pytest.mark.parametrize(
    "text, count, value",
    [
        ("20 banks at 200k a year", 20, 200_000),
        ("about 20 banks at 200k a year", 20, 200_000),
        ("5000 students paying 9 euros a month", 5000, 108),  # 9 x 12
        ("5,000 students paying 9 € a month", 5000, 108),
        ("about 1,000 members paying $5 per week", 1000, 260),  # 5 x 52
        ("3 big clients paying 1.5m a year", 3, 1_500_000),
        ("around 50 gyms, each paying 300 a month", 50, 3600),
        ("they pay 2000 a year, there are 300 of them", 300, 2000),
        ("EUR 300 per year from 40 clinics", 40, 300),
    ],
)
def test_parse_scale_reads_count_and_yearly_value(text, count, value):
    scale = parse_scale(text)
    assert scale["customer_count"] == count
    assert isinstance(scale["customer_count"], int)
    assert scale["value_per_customer"] == pytest.approx(value)


@pytest.mark.parametrize(
    "text, value",
    [
        ("$40 each", 40),
        ("it costs 99 dollars", 99),
        ("each pays 20 euros", 20),
    ],
)
def test_parse_scale_money_alone_is_a_value_not_a_count(text, value):
    assert parse_scale(text) == {"value_per_customer": pytest.approx(value)}


@pytest.mark.parametrize(
    "text, count",
    [
        ("a few hundred shops", 300),
        ("a few shops", 3),
        ("thousands of gamers", 5000),
        ("a dozen clinics", 12),
        ("2,500 customers", 2500),
        ("1 500 customers", 1500),
        ("10k students", 10_000),
        ("2 million users", 2_000_000),
    ],
)
def test_parse_scale_counts_in_words_and_digits(text, count):
    assert parse_scale(text) == {"customer_count": count}


@pytest.mark.parametrize(
    "text",
    [
        "independent bakeries",
        "",
        None,
        "12 months",  # time, not customers
        "10 years of experience",
        "50% of them",
    ],
)
def test_parse_scale_without_a_customer_number_finds_nothing(text):
    assert parse_scale(text) == {}


# ---------------------------------------------------------------- extract_facts


@pytest.mark.parametrize(
    "text, expected",
    [
        ("they renew every year", {"purchase_frequency": "recurring"}),
        ("most buy once and never again", {"purchase_frequency": "one_off"}),
        ("they come now and then", {"purchase_frequency": "occasional"}),
        ("monthly subscribers", {"purchase_frequency": "recurring"}),
    ],
)
def test_extract_facts_frequency(text, expected):
    assert extract_facts(text) == expected


def test_extract_facts_two_different_frequencies_are_ambiguous_and_left_out():
    assert "purchase_frequency" not in extract_facts("some buy once, others every month")


@pytest.mark.parametrize(
    "text, market",
    [
        ("we sell to banks", "b2b"),
        ("independent shops and restaurants", "b2b"),
        ("students and young parents", "b2c"),
        ("gamers", "b2c"),
    ],
)
def test_extract_facts_market(text, market):
    assert extract_facts(text)["market"] == market


@pytest.mark.parametrize(
    "text, position",
    [
        ("a luxury brand", "premium"),
        ("cheap and cheerful", "budget"),
        ("a mid-range offer", "mid"),
    ],
)
def test_extract_facts_price_position(text, position):
    assert extract_facts(text)["price_position"] == position


@pytest.mark.parametrize(
    "text, touchpoints",
    [
        ("they find us on instagram and tiktok", ["social_media"]),
        ("we talk to them on WhatsApp", ["messaging"]),
        ("by e-mail and at trade shows", ["email", "events"]),
        ("they find us on instagram and tiktok, and reach us on whatsapp", ["social_media", "messaging"]),
        ("a live chat on the site", ["chat"]),
        ("in our shop, by phone, and on the web site", ["in_store", "phone", "website"]),
        ("on Discord and Slack", ["chat"]),
    ],
)
def test_extract_facts_touchpoints_with_synonyms(text, touchpoints):
    assert extract_facts(text)["touchpoints"] == touchpoints


@pytest.mark.parametrize(
    "text, role",
    [
        ("they share tips with each other", "help_each_other"),
        ("they suggest ideas for new flavours", "contribute_ideas"),
        ("they share tips and suggest ideas", "both"),
        ("neither, really", "neither"),
    ],
)
def test_extract_facts_community_roles(text, role):
    facts = extract_facts(text)
    for field, value in COMMUNITY_ROLES[role].items():
        assert facts[field] is value


@pytest.mark.parametrize(
    "text, level",
    [
        ("they need an expert", "expert"),
        ("they serve themselves", "self_serve"),
        ("they want a personal touch", "personal"),
        ("just quick help when stuck", "guidance"),
    ],
)
def test_extract_facts_support(text, level):
    facts = extract_facts(text)
    assert {f: facts[f] for f in ("expertise_needed", "personal_touch")} == SUPPORT_LEVELS[level]


def test_extract_facts_from_a_whole_description():
    facts = extract_facts("we sell to 20 banks at 200k a year, they renew every year, they need an expert")
    assert facts == {
        "customer_count": 20,
        "value_per_customer": 200_000,
        "purchase_frequency": "recurring",
        "market": "b2b",
        "expertise_needed": "high",
        "personal_touch": "high",
    }


@pytest.mark.parametrize("text", ["", "hello there", "I have no idea yet"])
def test_extract_facts_never_guesses(text):
    assert extract_facts(text) == {}


def test_goal_values():
    assert values_of("we want them to stay and stop churn", "goal") == ["keep"]
    assert values_of("upsell bigger plans", "goal") == ["grow"]
    assert values_of("win new customers", "goal") == ["acquire"]


# ---------------------------------------------------------------- segment_label


@pytest.mark.parametrize(
    "description, label",
    [
        ("we sell to 20 banks at 200k a year, they renew every year", "Banks"),
        ("Independent coffee shops who want fresh beans", "Independent coffee shops"),
        ("They are small retailers, mostly in Paris", "Small retailers"),
        ("about 5000 students paying 9 euros a month", "Students"),
        ("we also sell to hospitals - big ones", "Hospitals"),
        ("Freelance designers who need invoices", "Freelance designers"),
        ("one two three four five six seven eight", "One two three four five six"),  # at most six words
        ("", "Customers"),
        (None, "Customers"),
    ],
)
def test_segment_label(description, label):
    assert segment_label(description) == label


# ---------------------------------------------------------------- split_venture


SENTENCE = "this is a very long name with many words, and so on"


@pytest.mark.parametrize(
    "text, name, offer",
    [
        ("It's called Brewbox, we deliver coffee to offices", "Brewbox", "we deliver coffee to offices"),
        ("Brewbox - coffee for offices", "Brewbox", "coffee for offices"),
        ("Our startup is Brewbox: coffee for offices", "Brewbox", "coffee for offices"),
        ("We are called Brewbox and we deliver coffee", "Brewbox", "deliver coffee"),
        ("Brewbox", "Brewbox", None),
        ("  Brewbox  ", "Brewbox", None),
        # more than five words before the comma is a sentence, not a name
        (SENTENCE, SENTENCE, None),
    ],
)
def test_split_venture(text, name, offer):
    assert split_venture(text) == (name, offer)


# ---------------------------------------------------------------- find_mentions


def test_find_mentions_spans_slice_back_to_the_text():
    text = "They find us on Instagram, by e-mail and at Trade Shows; we want Co-Creation"
    mentions = find_mentions(text)
    assert [(m.entity, m.value) for m in mentions] == [
        ("touchpoint", "social_media"),
        ("touchpoint", "email"),
        ("touchpoint", "events"),
        ("relationship_type", "co_creation"),
    ]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text
    assert [m.text for m in mentions] == ["Instagram", "e-mail", "Trade Shows", "Co-Creation"]


def test_find_mentions_in_order_and_filtered_by_entity():
    text = "swap communities for dedicated personal assistance, they help each other"
    mentions = find_mentions(text, ["relationship_type"])
    assert [m.value for m in mentions] == ["communities", "dedicated_personal_assistance"]
    assert all(m.entity == "relationship_type" for m in mentions)
    # the longest phrase wins: no extra "personal assistance" inside "dedicated personal assistance"
    assert "personal_assistance" not in [m.value for m in mentions]
    starts = [m.start for m in find_mentions(text)]
    assert starts == sorted(starts)


def test_find_mentions_of_nothing():
    assert find_mentions("") == []
    assert find_mentions(None) == []


@pytest.mark.parametrize(
    "answer, touchpoint",
    [
        ("at the machine itself", "kiosk"),
        ("vending machines in office buildings", "kiosk"),
        ("kiosks in train stations", "kiosk"),
        ("word of mouth mostly", "word_of_mouth"),
        ("their friends recommend us", "word_of_mouth"),
        ("we sell on etsy and amazon", "marketplace"),
        ("our stand at the farmers' market", "in_store"),
        ("a stall at the street market on saturdays", "in_store"),
    ],
)
def test_the_seeds_touchpoints_are_in_the_vocabulary(answer, touchpoint):
    assert touchpoint in values_of(answer, "touchpoint")


@pytest.mark.parametrize(
    "text",
    [
        "commuters grabbing a snack on the way to the train",
        "coffee regulars who grab a latte on the way to work",
        "hobby photographers who edit pictures at home",
        "grown-ups who love lego",
        "busy parents who want dinner sorted",
    ],
)
def test_descriptions_name_people(text):
    assert names_people(text)


@pytest.mark.parametrize(
    "text",
    [
        "tell me a joke",
        "whats the weather in lisbon",
        "who won the champions league",
        "how much is bitcoin today",
        "are you married?",
        "book me a flight to berlin",
    ],
)
def test_small_talk_names_no_people(text):
    assert not names_people(text)
