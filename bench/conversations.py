"""What the benchmark founders (and the stock bot's users) type, and what kind of
turn each message was.

The coach's whole conversations are the recorded founder conversations of
scripts/record_test_stories.py that end with a saved block. The kind of a coach
turn is read afterwards from the tracker store, from the actions Rasa ran for
it, so it cannot drift from what the coach did.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Dict, Iterable, List

from scripts.record_test_stories import CONVERSATIONS, START, WOMEN

# ------------------------------------------------------------------ the coach

# Whole coaching conversations, greeting to saved block (14 to 27 turns each).
COACH_CONVERSATIONS: List[List[str]] = [
    *CONVERSATIONS["happy_path"].values(),
    *CONVERSATIONS["edits"].values(),
    *CONVERSATIONS["digressions"].values(),
]

# Ten different segments for the long conversation; none says how many, what they
# are worth or how often they buy, so each is asked every question of the interview,
# and none names a market or a price, so none is asked to confirm one.
SEGMENTS = [
    "beauty lovers who want eye-catching make-up",
    "busy couples who want healthy snacks delivered",
    "freelance designers who want their invoices done for them",
    "young cooks who want simple meal kits",
    "small hotels that want clean linen every morning",
    "retired teachers who want to travel in groups",
    "yoga teachers who want fuller classes",
    "local bakeries that want to take orders online",
    "dog owners who want fresh food for their pets",
    "wedding planners who want reliable florists",
]
# The answers to the interview's other questions (WOMEN's, without its confirmations of
# the market and the price heard in its description).
ANSWERS = [answer for answer in WOMEN[1:] if answer != "yes"]
QUESTIONS = ["why?", "what is co-creation?", "give me an example of a community"]


def long_conversation(turns: int = 80) -> List[str]:
    """A long interview, one segment after another: turn 5 and turn 80 send the same
    answer to the same question ("how many, worth what"), so they cost the same work
    and differ only in how long the conversation already is."""
    script = list(START)
    for index, who in enumerate(SEGMENTS):
        if index == 4:
            script += QUESTIONS  # three questions in the middle of segment 5, at its first question
        script += [who, *ANSWERS, "yes"]
    script = script[:turns]
    assert script[4] == script[turns - 1], "turn 5 and the last turn must be the same answer"
    return script


# ------------------------------------------------------------------ the stock bot

# The moodbot's dialogues (`rasa init`), in the words of its training data.
MOOD_DIALOGUES: List[List[str]] = [
    ["hi", "great", "bye"],
    ["hello", "I am sad", "yes", "bye"],
    ["hey", "unhappy", "yes", "goodbye"],
    ["good morning", "are you a bot?", "I am feeling very good", "see you later"],
    ["hi", "not good", "yes", "are you a human?", "bye bye"],
]


def stock_conversations() -> List[List[str]]:
    """Whole conversations for the stock bot, as long as the coach's (20 turns): one user
    going through all five moodbot dialogues, in five different orders."""
    n = len(MOOD_DIALOGUES)
    return [[turn for k in range(n) for turn in MOOD_DIALOGUES[(start + k) % n]] for start in range(n)]


STOCK_CYCLE = ["hi", "I am sad", "yes", "are you a bot?", "bye"]


def stock_long_conversation(turns: int = 80) -> List[str]:
    """80 turns of the moodbot; turn 5 and turn 80 are both "bye"."""
    script = (STOCK_CYCLE * (turns // len(STOCK_CYCLE) + 1))[:turns]
    assert script[4] == script[turns - 1]
    return script


# ------------------------------------------------------------------ kinds of turn

KINDS = ["form", "recommendation", "save", "segment_done", "edit", "question", "other"]
KIND_LABELS = {
    "form": "form question",
    "recommendation": "recommendation",
    "save": "save",
    "segment_done": "segment done (draft autosaved)",
    "edit": "edit",
    "question": "question answered",
    "other": "other (greet, confirm, show, small talk)",
}


def kind_of(actions: Iterable[str]) -> str:
    """The kind of a coach turn, from the actions Rasa ran for it."""
    actions = set(actions)
    if "action_save_block" in actions:
        return "save"
    if "action_recommend" in actions:
        return "recommendation"
    if "action_save_segment" in actions:
        return "segment_done"
    if "action_edit_block" in actions:
        return "edit"
    if "action_answer_question" in actions:
        return "question"
    if actions & {"venture_form", "segment_form", "action_ask_segment_who"}:
        return "form"
    return "other"


def kinds_from_tracker(tracker_db: Path, senders: Iterable[str]) -> Dict[str, List[str]]:
    """For each sender, the kind of each of its turns, in order, from the SQL tracker store."""
    senders = list(senders)
    result: Dict[str, List[str]] = {s: [] for s in senders}
    if not senders or not Path(tracker_db).exists():
        return result
    actions: Dict[str, List[str]] = {}
    with sqlite3.connect(str(tracker_db)) as db:
        for chunk in range(0, len(senders), 500):
            part = senders[chunk : chunk + 500]
            rows = db.execute(
                f"SELECT sender_id, type_name, action_name FROM events WHERE sender_id IN "
                f"({','.join('?' * len(part))}) ORDER BY id",
                part,
            ).fetchall()
            for sender, type_name, action_name in rows:
                if type_name == "user":
                    if sender in actions:
                        result[sender].append(kind_of(actions[sender]))
                    actions[sender] = []
                elif type_name == "action" and sender in actions and action_name:
                    actions[sender].append(action_name)
    for sender, pending in actions.items():
        result[sender].append(kind_of(pending))
    return result
