"""The flows around the interview, checked by what the founder sees and what is stored:
start over, change a segment, a cancelled delete, "not yet" before saving, and an
off-topic answer to "who are these customers?". Real action server and Rasa server
over REST; the canvas store read back from its SQLite file."""

from __future__ import annotations

import json
import sqlite3
from typing import List, Tuple

from deploy.launchers import CoachServers
from tests.conftest import buttons, texts

WHO = "who are these customers"
OFFICE_MANAGERS = (
    "office managers at tech startups, about 40 companies at 3000 euros a year",
    "yes",  # to "From what you said, they are businesses (B2B): is that right?" (market heard in passing)
    "yes",  # to "You mentioned about 40 customers ...: is that right?" (numbers said in passing are confirmed)
    "every month",
    "quick help when stuck",
    "neither",
    "email and phone",
    "keep them",
)


def say(coach: CoachServers, sender: str, message: str) -> str:
    return texts(coach.say(sender, message))


def start(coach: CoachServers, sender: str, venture: str = "Brewbox, we deliver coffee beans to offices") -> None:
    say(coach, sender, "hi")
    assert "venture called" in say(coach, sender, "yes")
    assert WHO in say(coach, sender, venture)


def describe(coach: CoachServers, sender: str, answers=OFFICE_MANAGERS) -> str:
    reply = ""
    for answer in answers:
        reply = say(coach, sender, answer)
    return reply


def versions(coach: CoachServers, sender: str) -> List[Tuple[int, str, str]]:
    """(version, status, venture name) of the founder's stored blocks."""
    with sqlite3.connect(coach.canvas_db) as db:
        if not db.execute("SELECT name FROM sqlite_master WHERE name = 'founders'").fetchall():
            return []
        return db.execute(
            "SELECT v.version, v.status, w.name FROM block_versions v JOIN ventures w ON v.venture_id = w.id "
            "JOIN founders f ON w.founder_id = f.id WHERE f.sender_id = ? ORDER BY v.id",
            (sender,),
        ).fetchall()


def stored_segments(coach: CoachServers, sender: str, status: str) -> List[Tuple[str, int, str]]:
    """(name, customer_count, needs) of the segments of the founder's latest block with that status."""
    with sqlite3.connect(coach.canvas_db) as db:
        return db.execute(
            "SELECT s.name, s.customer_count, s.needs FROM segments s JOIN block_versions v ON s.version_id = v.id "
            "JOIN ventures w ON v.venture_id = w.id JOIN founders f ON w.founder_id = f.id "
            "WHERE f.sender_id = ? AND v.status = ? AND v.id = (SELECT MAX(v2.id) FROM block_versions v2 "
            "JOIN ventures w2 ON v2.venture_id = w2.id WHERE w2.founder_id = f.id AND v2.status = ?) "
            "ORDER BY s.position",
            (sender, status, status),
        ).fetchall()


def save(coach: CoachServers, sender: str) -> None:
    assert "Do these fit?" in say(coach, sender, "no, that's all")
    assert "Shall I save this block?" in say(coach, sender, "looks good")
    assert "Saved as version" in say(coach, sender, "yes, save it")


def test_start_over_keeps_the_saved_block_and_asks_afresh(coach):
    sender = "flow-start-over"
    start(coach, sender)
    describe(coach, sender)
    save(coach, sender)
    reply = say(coach, sender, "start over")
    assert "Starting over with a clean sheet" in reply and "What's your venture called?" in reply
    assert "I didn't get a name" not in reply, "'start over' is no answer to the venture's name"
    assert versions(coach, sender) == [(1, "final", "Brewbox")]
    reply = say(coach, sender, "Petbox, we deliver pet food to dog owners")
    assert "customer segments of Petbox" in reply and "First segment" in reply
    describe(
        coach,
        sender,
        (
            "dog owners in cities, about 5000 of them paying 20 euros a month",
            "yes",  # the numbers heard in passing, confirmed
            "every month",
            "they serve themselves",
            "they share tips with each other",
            "instagram and our app",
            "keep them",
        ),
    )
    save(coach, sender)
    assert [(v, s, n) for v, s, n in versions(coach, sender) if s == "final"] == [
        (1, "final", "Brewbox"),
        (1, "final", "Petbox"),
    ]
    assert [name for name, _, _ in stored_segments(coach, sender, "final")] == ["Dog owners in cities"]


def test_change_a_segment_asks_its_questions_again_and_stores_the_new_answers(coach):
    sender = "flow-change-segment"
    start(coach, sender)
    describe(coach, sender)
    assert "**Segment 1: Office managers**" in say(coach, sender, "no, that's all")
    reply = say(coach, sender, "change the first segment")
    assert "Let's redo segment 1 (Office managers)" in reply and WHO in reply
    assert "didn't catch" not in reply and "couldn't find a number" not in reply, "the request is no answer"
    reply = describe(
        coach,
        sender,
        (
            "dentists who need fresh coffee for their waiting rooms",
            "about 60 practices at 2000 euros a year",
            "every week",
            "a personal touch",
            "neither",
            "email",
            "grow",
        ),
    )
    assert "**Segment 1: Dentists**" in reply and "Do these fit?" in reply
    assert "Shall I save this block?" in say(coach, sender, "looks good")
    assert "Saved as version 1" in say(coach, sender, "yes")
    assert stored_segments(coach, sender, "final") == [
        ("Dentists", 60, "dentists who need fresh coffee for their waiting rooms")
    ]


def test_a_cancelled_delete_keeps_everything_and_the_interview_goes_on(coach):
    sender = "flow-cancelled-delete"
    start(coach, sender)
    assert "Is there another customer segment" in describe(coach, sender)
    assert stored_segments(coach, sender, "draft")[0][0] == "Office managers", "the segment is kept as a draft"
    reply = coach.say(sender, "please delete everything you stored about me")
    assert "Delete all your saved blocks and answers?" in texts(reply)
    assert "No, keep it" in buttons(reply)
    reply = say(coach, sender, "no, keep it")
    assert "nothing was deleted" in reply and "Is there another customer segment" in reply
    assert stored_segments(coach, sender, "draft")[0][0] == "Office managers"
    assert "**Segment 1: Office managers**" in say(coach, sender, "no, that's all")
    assert "Saved as version 1" in say(coach, sender, "looks good") + say(coach, sender, "yes, save it")
    assert stored_segments(coach, sender, "final")[0][:2] == ("Office managers", 40)


def test_not_yet_before_saving_stores_nothing_final(coach):
    sender = "flow-not-yet"
    start(coach, sender)
    describe(coach, sender)
    assert "Do these fit?" in say(coach, sender, "no, that's all")
    assert "Shall I save this block?" in say(coach, sender, "looks good")
    reply = say(coach, sender, "not yet")
    assert "What would you like to change?" in reply and "Saved" not in reply
    assert [s for _, s, _ in versions(coach, sender)] == ["draft"]
    assert "Shall I save this block?" in say(coach, sender, "looks good")
    assert "Saved as version 1" in say(coach, sender, "yes, save it")
    assert [(v, s) for v, s, _ in versions(coach, sender) if s == "final"] == [(1, "final")]


def test_an_off_topic_answer_to_who_is_no_segment(coach):
    sender = "flow-off-topic-who"
    start(coach, sender)
    reply = say(coach, sender, "tell me a joke")
    assert "doesn't sound like a group of customers" in reply and WHO in reply
    assert "Roughly how many" not in reply
    reply = say(coach, sender, "office managers at tech startups who want fresh coffee")
    assert "they are businesses (B2B): is that right?" in reply
    assert "Roughly how many" in say(coach, sender, "yes")
    describe(coach, sender, ("not sure",) + OFFICE_MANAGERS[3:])
    names = [name for name, _, _ in stored_segments(coach, sender, "draft")]
    assert names == ["Office managers"], names
    assert not any("joke" in (needs or "").lower() for _, _, needs in stored_segments(coach, sender, "draft"))


def test_numbers_said_in_passing_are_confirmed_and_can_be_corrected(coach):
    sender = "flow-numbers-in-passing"
    start(coach, sender)
    reply = say(
        coach,
        sender,
        "compliance teams at regional banks, about twenty accounts, each worth tens of thousands of euros a year",
    )
    assert "they are businesses (B2B): is that right?" in reply
    reply = say(coach, sender, "yes")
    assert "You mentioned about 20 customers, each worth about 30,000 a year: is that right?" in reply
    reply = say(coach, sender, "no, more like 50 accounts at 20k a year")
    assert "didn't catch" not in reply and "How often do they buy" in reply
    describe(coach, sender, ("every year", "expert one-to-one advice", "neither", "meetings and email", "keep them"))
    assert stored_segments(coach, sender, "draft")[0][:2] == ("Compliance teams", 50)


def test_numbers_the_coach_is_unsure_of_are_said_back_and_can_be_corrected(coach):
    sender = "flow-numbers-said-back"
    start(coach, sender)
    assert "they are businesses (B2B): is that right?" in say(coach, sender, "compliance teams at regional banks")
    assert "Roughly how many" in say(coach, sender, "yes")
    reply = say(coach, sender, "about twenty accounts, each worth tens of thousands of euros a year")
    assert "I understood about 20 accounts, each worth about €30,000 a year: right?" in reply
    assert "How often do they buy" in reply
    reply = say(coach, sender, "no, more like 50 accounts at 20k a year")
    assert "Thanks, corrected: about 50 accounts, each worth about 20,000 a year." in reply
    assert "didn't catch" not in reply and "How often do they buy" in reply
    describe(coach, sender, ("every year", "expert one-to-one advice", "neither", "meetings and email", "keep them"))
    assert stored_segments(coach, sender, "draft")[0][:2] == ("Compliance teams", 50)


def test_a_place_the_coach_does_not_know_is_kept_as_said_after_one_more_try(coach):
    sender = "flow-unknown-place"
    start(coach, sender)
    describe(coach, sender, OFFICE_MANAGERS[:6])
    reply = say(coach, sender, "at the town fair and in the village hall")
    assert "Where do they meet you?" in reply
    reply = say(coach, sender, "at the town fair and in the village hall")
    assert 'I\'ve noted "town fair", "village hall" as you said it.' in reply
    assert "What should the relationship with them do first?" in reply
    say(coach, sender, "keep them")
    with sqlite3.connect(coach.canvas_db) as db:
        touchpoints = db.execute(
            "SELECT s.touchpoints FROM segments s JOIN block_versions v ON s.version_id = v.id "
            "JOIN ventures w ON v.venture_id = w.id JOIN founders f ON w.founder_id = f.id "
            "WHERE f.sender_id = ? AND v.status = 'draft'",
            (sender,),
        ).fetchone()[0]
    assert json.loads(touchpoints) == ["events", "town fair", "village hall"]


def test_a_venture_named_like_a_greeting_or_a_pause_is_its_name(coach):
    """The question asked decides: asked for the venture's name, "Hello Fresh Bakes" (which the
    NLU takes for a greeting) and "Break Time Cafe" (a pause) are names; "hi there" is still a
    greeting and "let's stop here" still pauses."""
    sender = "flow-greeting-name"
    say(coach, sender, "hi")
    assert "venture called" in say(coach, sender, "yes")
    reply = say(coach, sender, "hi there")
    assert "Hello Fresh Bakes" not in reply and "venture called" in reply, "a greeting is no name"
    reply = say(coach, sender, "Hello Fresh Bakes")
    assert "And in one line: what does Hello Fresh Bakes offer, and to whom?" in reply
    reply = say(coach, sender, "we bake bread for cafes")
    assert "customer segments of Hello Fresh Bakes" in reply and WHO in reply

    sender = "flow-pause-name"
    say(coach, sender, "hi")
    assert "venture called" in say(coach, sender, "yes")
    assert "stop here" in say(coach, sender, "let's stop here"), "a pause still pauses"
    assert "venture called" in say(coach, sender, "let's continue")
    reply = say(coach, sender, "Break Time Cafe")
    assert "what does Break Time Cafe offer" in reply
    reply = say(coach, sender, "we sell coffee and cake to commuters")
    assert "customer segments of Break Time Cafe" in reply

    sender = "flow-later-name"
    say(coach, sender, "hi")
    assert "venture called" in say(coach, sender, "yes")
    assert "what does Later Labs offer" in say(coach, sender, "Later Labs")
