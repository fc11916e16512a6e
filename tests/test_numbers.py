"""bot/coach/numbers.py: a segment's size and value read the way founders write them."""

import pytest

from bot.coach.numbers import normalize, read_scale


@pytest.mark.parametrize(
    "text, count, value, approximate",
    [
        # The issue's own examples.
        ("about twenty accounts, each worth tens of thousands a year", 20, 30_000, True),
        ("a few hundred dollars a year each", None, 300, True),
        # Count and value in either order.
        ("about 20 banks at 200k a year", 20, 200_000, False),
        ("30k a year each, for about 20 accounts", 20, 30_000, False),
        ("they pay 2000 a year, there are 300 of them", 300, 2000, False),
        # Ranges: their middle, to be checked.
        ("15-20 clinics", 17, None, True),
        ("between 15 and 20 clinics at 2k a year", 17, 2000, True),
        ("12 firms, €20-30k a year each", 12, 25_000, True),
        # Words.
        ("a handful of hospitals", 5, None, True),
        ("tens of thousands of students", 30_000, None, True),
        ("twenty-five thousand users", 25_000, None, False),
        ("about twenty", 20, None, False),
        # Currencies and periods.
        ("9 € a month", None, 108, False),
        ("200k a year", None, 200_000, False),
        ("roughly 40 gyms, monthly fee of 300 euros", 40, 3600, False),
        ("$50 per order", None, 50, True),  # one order a year, said so
        # "each" against a total.
        ("20 accounts, 600k a year in total", 20, 30_000, True),
        ("each worth about 30k a year, so 600k in total", 20, 30_000, True),
        ("600 customers in total", 600, None, False),
    ],
)
def test_read_scale(text, count, value, approximate):
    scale = read_scale(text)
    assert scale.customer_count == count
    assert scale.value_per_customer == (pytest.approx(value) if value is not None else None)
    assert scale.approximate is approximate


@pytest.mark.parametrize(
    "text",
    [
        "we are b2b, 1:1 advice 24/7",  # no number of customers in a ratio or a word
        "young women aged 25-40 who want affordable beauty products",
        "founded in 2019, 3 employees",
        "one-to-one expert advice",
        "tell me another one",
        "one to one advice",
        "they buy two or three times a year",
    ],
)
def test_read_scale_finds_no_customers_where_there_are_none(text):
    scale = read_scale(text)
    assert scale.facts() == {} and not scale.approximate


def test_read_scale_does_not_count_staff():
    assert read_scale("3 employees, 50 customers").customer_count == 50


def test_summary_says_what_was_understood_in_one_line():
    assert (
        read_scale("about twenty accounts, each worth 30k € a year").summary()
        == "about 20 accounts, each worth about €30,000 a year"
    )
    assert read_scale("a few hundred dollars a year each").summary() == "worth about $300 a year each"
    assert (
        read_scale("5000 students paying 9 euros a month").summary()
        == "about 5,000 students, each worth about €110 a year"
    )
    assert "per order" in read_scale("$50 per order").summary()
    assert read_scale("no numbers here").summary() == ""


def test_normalize_estimates_vague_words_and_spells_out_digits():
    assert normalize("a few hundred shops") == ("300 shops", True)
    assert normalize("twenty-five thousand users") == ("25000 users", False)
    assert normalize("2 million users") == ("2000000 users", False)
    assert normalize("one-to-one advice") == ("one-to-one advice", False)
