"""A long session starts afresh at the next turn, carrying every slot and the open
form (bot/plugins/patches/long_sessions.py, session_start.py): a founder who asks
question after question in the middle of a segment gets the same answers, and the
session Rasa loads and replays each turn stays short."""

from __future__ import annotations

import json
from typing import Any, List

from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bench.coaching import digression_script
from bot.plugins.patches.long_sessions import MAX_SESSION_EVENTS, session_is_long
from bot.plugins.patches.session_start import carried_slots
from tests.conftest import ROOT, rows, texts


def tracker_with(events: List[Any]) -> DialogueStateTracker:
    domain = Domain.load(str(ROOT / "domain.yml"))
    return DialogueStateTracker.from_events("founder", events, slots=domain.slots)


def test_a_session_is_long_past_the_limit_counted_from_its_start():
    chatter = [UserUttered("why?"), ActionExecuted("action_listen")] * (MAX_SESSION_EVENTS // 2)
    assert not session_is_long(tracker_with(chatter))
    assert session_is_long(tracker_with([*chatter, UserUttered("and why?")]))
    assert not session_is_long(tracker_with([*chatter, SessionStarted(), UserUttered("why?")]))


def test_an_open_form_is_carried_with_the_question_it_asked():
    tracker = tracker_with(
        [
            SlotSet("venture_name", "Spokes"),
            ActiveLoop("segment_form"),
            SlotSet(REQUESTED_SLOT, "segment_scale"),
            UserUttered("why do you ask?"),
        ]
    )
    carried = carried_slots(tracker)
    assert SlotSet("venture_name", "Spokes") in carried
    assert carried[-2:] == [SlotSet(REQUESTED_SLOT, "segment_scale"), ActiveLoop("segment_form")]
    restarted = tracker_with([SessionStarted(), *carried, ActionExecuted("action_listen")])
    assert restarted.active_loop_name == "segment_form"
    assert restarted.get_slot(REQUESTED_SLOT) == "segment_scale"


def test_without_a_form_no_form_is_carried():
    carried = carried_slots(tracker_with([SlotSet("venture_name", "Spokes"), SlotSet(REQUESTED_SLOT, None)]))
    assert carried == [SlotSet("venture_name", "Spokes")]


def test_sixty_turns_of_digressions_keep_the_session_short_and_the_interview_whole(coach):
    sender = "founder-with-many-questions"
    replies = [texts(coach.say(sender, message)) for message in digression_script()]
    assert "How often" in replies[29], "the answer after 25 questions is read as the answer"
    assert "Do these fit?" in replies[-1], "the segment is saved and advised on"
    events = [
        json.loads(data)
        for (data,) in rows(coach.tracker_db, "SELECT data FROM events WHERE sender_id = ? ORDER BY id", sender)
    ]
    starts = [i for i, e in enumerate(events) if e["event"] == "session_started"]
    assert len(starts) >= 3, "sessions started in the middle of the interview"
    longest = max(b - a for a, b in zip(starts, [*starts[1:], len(events)]))
    assert longest <= MAX_SESSION_EVENTS + 30, longest  # the limit, plus the turn that passed it
    segments = [e["value"] for e in events if e["event"] == "slot" and e["name"] == "segments" and e["value"]]
    profile = segments[-1][0]["profile"]
    assert profile["customer_count"] == 300 and profile["purchase_frequency"], profile
