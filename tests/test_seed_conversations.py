"""The seed articles' segments as whole conversations over REST, against the real
action server and Rasa server (one pair for the module). The cases are data
(tests/seed_conversations.yml); each asserts what a founder would see: the seed's
type among the three saved for the segment (first, where the seed is clear about it),
no forbidden type, the block saved, and no question asked more than twice."""

from __future__ import annotations

import pytest

from bot.coach.knowledge import load_knowledge
from deploy.seed_conversations import MAX_ASKS, QUESTIONS, load_cases, play, sender_of, stored_top3

CASES = load_cases()


def test_the_suite_covers_the_seeds():
    assert len(CASES) >= 40
    assert len({c["id"] for c in CASES}) == len(CASES)
    assert sum(1 for c in CASES if c.get("first")) >= 10  # rank, not only membership
    assert {c["id"][4:7] for c in CASES} == {"000", "002", "003", "004"} | ({"001"} & {c["id"][4:7] for c in CASES})
    types = load_knowledge().types
    for case in CASES:
        assert set(case["expect"]) | set(case.get("absent") or []) <= set(types), case["id"]
        assert case.get("first") in (None, *case["expect"]), case["id"]
        assert set(case.get("asks") or []) <= set(QUESTIONS), case["id"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_seed_conversation(coach, case):
    sender = sender_of(case)
    outcome = play(coach.say, sender, case)
    assert outcome.stuck is None, f"{case['says']}\n{outcome.stuck}\n{outcome.show()}"
    assert max(outcome.asked.values()) <= MAX_ASKS, outcome.asked
    for question in case.get("asks") or []:  # a word said in passing is said back before it decides
        assert outcome.asked[question] >= 1, f"the {question} question was not asked\n{outcome.show()}"
    assert outcome.saved, f"the block was not saved\n{outcome.show()}"
    top3 = stored_top3(coach.canvas_db, sender)
    assert len(top3) == 3, top3
    for type_id in case["expect"]:
        assert type_id in top3, f"{case['says']}\nexpected {type_id} in the top three, got {top3}\n{outcome.show()}"
    if case.get("first"):
        assert top3[0] == case["first"], f"{case['says']}\nexpected {case['first']} first, got {top3}\n{outcome.show()}"
    for type_id in case.get("absent") or []:
        assert type_id not in top3, f"{case['says']}\n{type_id} must not be offered, got {top3}"
