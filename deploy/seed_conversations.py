"""Whole conversations from the seed articles, played over REST against the real servers.

Each case in seed_conversations.yml is a founder describing one segment in their own
words. The driver answers whatever the coach asks from the case's answers ("not sure"
to anything the case leaves out), says there is no other segment, accepts the
recommendations and saves the block. tests/test_seed_conversations.py asserts on the
outcome; bench/coaching.py measures it.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml

CASES_FILE = Path(__file__).resolve().parent.parent / "tests" / "seed_conversations.yml"
MAX_TURNS = 40  # a conversation still going after this many turns is stuck
MAX_ASKS = 2  # a question asked more often than this is a dead end

# Words of each question of the segment interview, as the coach asks it, in either form
# (asked, or naming what it heard in passing: "You mentioned ...: where else do they meet
# your business?"); matched ignoring case.
QUESTIONS: Dict[str, str] = {
    "who": "who are these customers",
    "market": "do you sell to businesses (b2b) or to consumers (b2c)",
    "scale": "roughly how many of them are there",
    "price": "is your offer for them budget, mid-range or premium",
    "frequency": "how often do they buy",
    "support": "how much expertise and personal touch",
    "community": "would these customers help each other",
    "touchpoints": "do they meet your business",
    "goal": "what should the relationship with them do first",
}
VENTURE_NAME = "What's your venture called?"
VENTURE_OFFER = "what does"  # "And in one line: what does Brewbox offer, and to whom?"
ANOTHER_SEGMENT = "Is there another customer segment"
REVIEW = "Do these fit?"
CONFIRM = "Shall I save this block?"
SAVED = "Saved as version"

Say = Callable[[str, str], List[Dict[str, Any]]]


@dataclass
class Outcome:
    case_id: str
    turns: int = 0  # founder messages until the block was saved (or the driver gave up)
    asked: Counter = field(default_factory=Counter)  # question -> times asked
    top3: List[str] = field(default_factory=list)  # type ids stored for the segment, best first
    saved: bool = False
    stuck: Optional[str] = None  # why the driver gave up
    transcript: List[Tuple[str, str]] = field(default_factory=list)

    @property
    def reasks(self) -> int:
        return sum(n - 1 for n in self.asked.values() if n > 1)

    def show(self) -> str:
        return "\n".join(f"> {said}\n{replied}" for said, replied in self.transcript)


def load_cases() -> List[Dict[str, Any]]:
    with open(CASES_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def pending_question(text: str) -> Optional[str]:
    """The interview question the coach ends its turn with, if any."""
    text = text.lower()
    found = [(text.rfind(opening), key) for key, opening in QUESTIONS.items() if opening in text]
    return max(found)[1] if found else None


def _text(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def play(say: Say, sender: str, case: Dict[str, Any]) -> Outcome:
    """One whole conversation: from "hi" to a saved block."""
    outcome = Outcome(case["id"])

    def turn(message: str) -> str:
        text = _text(say(sender, message))
        outcome.turns += 1
        outcome.transcript.append((message, text))
        return text

    turn("hi")
    text = turn("yes, let's start")
    if VENTURE_NAME not in text:
        outcome.stuck = "the venture's name was not asked"
        return outcome
    text = turn(case["venture"])
    if VENTURE_OFFER in text and not pending_question(text):
        text = turn(case.get("offer") or "we help them, see above")
    answers = {"who": case["segment"], **(case.get("answers") or {})}
    while ANOTHER_SEGMENT not in text:
        question = pending_question(text)
        if question is None:
            outcome.stuck = "no interview question pending"
            return outcome
        outcome.asked[question] += 1
        if outcome.asked[question] > MAX_ASKS:
            outcome.stuck = f"the {question} question was asked {outcome.asked[question]} times"
            return outcome
        if outcome.turns >= MAX_TURNS:
            outcome.stuck = f"no end after {MAX_TURNS} turns"
            return outcome
        text = turn(str(answers.get(question, "not sure")))
    text = turn("no, that's all")
    if REVIEW not in text:
        outcome.stuck = "no recommendations after the last segment"
        return outcome
    text = turn("looks good")
    if CONFIRM not in text:
        outcome.stuck = "the block was not shown for saving"
        return outcome
    text = turn("yes, save it")
    outcome.saved = SAVED in text
    return outcome


def stored_top3(canvas_db: Path, sender: str) -> List[str]:
    """The relationship types saved for the founder's first segment, in their order."""
    with sqlite3.connect(canvas_db) as db:
        rows = db.execute(
            "SELECT c.type_id FROM relationship_choices c JOIN segments s ON c.segment_id = s.id "
            "JOIN block_versions v ON s.version_id = v.id JOIN ventures w ON v.venture_id = w.id "
            "JOIN founders f ON w.founder_id = f.id "
            "WHERE f.sender_id = ? AND v.status = 'final' AND s.position = 0 "
            "ORDER BY v.version DESC, c.position",
            (sender,),
        ).fetchall()
    return [type_id for (type_id,) in rows][:3]


def sender_of(case: Dict[str, Any]) -> str:
    return "seed-" + re.sub(r"[^a-z0-9]+", "-", case["id"].lower())
