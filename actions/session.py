"""Sessions: the founder's conversation is told to Rasa in chapters."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Only meaningful while a form asks its question; no form runs across a chapter.
NOT_CARRIED = {"requested_slot"}


def carried_slots(slots: Dict[Text, Any], domain: DomainDict) -> List[EventType]:
    """One SlotSet per slot that differs from its initial value: the coach's whole
    memory, and nothing else. (Rasa's own action_session_start re-sends every SlotSet
    ever made, so each session would start longer than the last.)"""
    initial = {name: spec.get("initial_value") for name, spec in domain.get("slots", {}).items()}
    return [SlotSet(name, value) for name, value in slots.items()
            if value is not None and value != initial.get(name) and name not in NOT_CARRIED]


class ActionSessionStart(Action):
    """Starts a Rasa session: when a conversation begins, and after each segment's
    interview (data/rules/coaching.yml). Rasa loads, replays, featurizes and sends to
    the action server only the current session, so a turn costs the same late in a
    long interview as early on; the slots carry everything the coach remembers."""

    def name(self) -> Text:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SessionStarted(), *carried_slots(tracker.slots, domain), ActionExecuted("action_listen")]
