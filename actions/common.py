"""What every action needs: the founder's block from the tracker, the store, prompts."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.coach import conversation as coach
from bot.coach.canvas import CanvasBlock, Segment
from bot.coach.presentation import TurnResult
from bot.coach.store import CanvasStore, founder_channel

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def store() -> CanvasStore:
    """One store per action server process; CANVAS_DB_URL picks the database."""
    return CanvasStore()


def founder(tracker: Tracker) -> Dict[str, Optional[str]]:
    """Who the founder is for the canvas store: the channel and their sender id."""
    metadata = tracker.latest_message.get("metadata") or {}
    return {
        "channel": founder_channel(tracker.get_latest_input_channel()),
        "sender_id": tracker.sender_id,
        "cohort": tracker.get_slot("cohort") or (metadata.get("cohort") if isinstance(metadata, dict) else None),
    }


def segments_of(tracker: Tracker) -> List[Segment]:
    return [Segment.from_dict(s) for s in tracker.get_slot("segments") or []]


def block_of(tracker: Tracker, status: str = "draft") -> CanvasBlock:
    return CanvasBlock(
        venture_name=tracker.get_slot("venture_name") or "My venture",
        venture_offer=tracker.get_slot("venture_offer"),
        segments=segments_of(tracker),
        status=status,
    )


def segments_slot(segments: List[Segment]) -> SlotSet:
    return SlotSet("segments", [s.to_dict() for s in segments])


def save_draft(tracker: Tracker, block: CanvasBlock) -> None:
    """Autosaves the work in progress. The conversation goes on if the store is
    busy: the tracker still holds every answer, and the next save catches up."""
    if not block.segments:
        return
    who = founder(tracker)
    try:
        store().save_block(who["channel"], who["sender_id"], block, cohort=who["cohort"])
    except Exception:  # noqa: BLE001 - a failed autosave must never break the conversation
        logger.exception("autosave of %s's draft failed", who["sender_id"])


def suspend_form(tracker: Tracker) -> List[EventType]:
    """Leaves an active form, remembering it so that "continue" picks it up again."""
    if tracker.active_loop_name:
        # requested_slot is cleared so that the words that bring the form back
        # ("continue", "no, keep it") are not taken as the answer to its question.
        return [SlotSet("paused_form", tracker.active_loop_name), SlotSet("requested_slot", None), ActiveLoop(None)]
    return []


def prompt(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Asks the question the founder has pending, outside forms (forms ask their own)."""
    if tracker.active_loop_name:
        return
    text, buttons = coach.pending_prompt(
        tracker.get_slot("stage"),
        tracker.get_slot("paused_form"),
        confirming_delete=bool(tracker.get_slot("confirming_delete")),
    )
    dispatcher.utter_message(text=text, buttons=buttons or None)


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message.get("intent") or {}).get("name")


def recent_intents(tracker: Tracker) -> List[Optional[str]]:
    """The intents of the founder's messages, the latest first."""
    return [
        ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        for event in reversed(tracker.events)
        if event.get("event") == "user"
    ]


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def entity_values(tracker: Tracker, entity: str) -> List[Any]:
    return [e.get("value") for e in tracker.latest_message.get("entities") or [] if e.get("entity") == entity]


def deliver(dispatcher: CollectingDispatcher, tracker: Tracker, result: TurnResult) -> List[EventType]:
    """Sends a turn's messages and returns its slot changes as events; changed
    segments are autosaved as a draft."""
    for message in result.messages:
        extra = {"advice": message.advice} if message.advice is not None else {}  # kept in the tracker store
        dispatcher.utter_message(text=message.text, buttons=message.buttons or None, json_message=message.data, **extra)
    events: List[EventType] = [SlotSet(name, value) for name, value in result.slots.items()]
    if result.segments is not None:
        block = block_of(tracker)
        block.segments = result.segments
        save_draft(tracker, block)
        events.append(segments_slot(result.segments))
    if result.then_prompt:
        prompt(dispatcher, tracker)
    return events
