"""The seeds' advice (playbook.yml) answers "what are common mistakes?", "best
practices for communities?" and the FAQ (bot/coach/conversation.py answer_advice)."""

import pytest

from bot.coach.conversation import QuestionContext, answer_question
from bot.coach.knowledge import load_knowledge

BOOK = load_knowledge().playbook


def advise(text, types=()):
    return answer_question("ask_advice", text, list(types), QuestionContext())


@pytest.mark.parametrize(
    "text", ["what are common mistakes?", "which pitfalls should I avoid", "what can go wrong?", "main challenges?"]
)
def test_mistakes_get_the_challenges_and_how_to_overcome_them(text):
    answer = advise(text)
    assert answer.startswith("Common challenges, and how founders overcome them:")
    for item in BOOK["challenges"]:
        assert f"**{item['challenge']}**" in answer
        assert all(step in answer for step in item["how_to_overcome"])


def test_best_practices_for_a_type_name_its_tactics_and_cost():
    communities = load_knowledge().types["communities"]
    answer = advise("best practices for communities?")
    assert answer.splitlines()[0] == "To make **Communities** work, from the seeds:"
    for tactic in [*communities.tactics["acquire"], *communities.tactics["keep"], *communities.tactics["grow"]]:
        assert tactic in answer
    assert f"Watch the cost: {communities.cost_caveat}" in answer
    assert advise("how do I make it work?", ["co_creation"]).startswith("To make **Co-creation** work")


def test_general_best_practices():
    answer = advise("any best practices?")
    assert answer.startswith("Best practices for customer relationships:")
    assert all(f"**{p['title']}**: {p['text']}" in answer for p in BOOK["best_practices"])


def test_tips():
    answer = advise("got any tips?")
    assert answer.startswith("A few tips:")
    assert all(t["text"] in answer for t in BOOK["tips"])


@pytest.mark.parametrize(
    "text, faq",
    [
        ("can I have more than one customer relationship?", 2),
        ("How do I choose the best customer relationship for my business", 1),
        ("how do I improve my customer relationship", 4),
    ],
)
def test_an_faq_question_gets_its_answer(text, faq):
    item = BOOK["faq"][faq]
    assert advise(text) == f"**{item['question']}**\n{item['answer']}"


def test_a_request_with_no_words_still_gets_advice():
    assert advise("").startswith("Best practices for customer relationships:")
