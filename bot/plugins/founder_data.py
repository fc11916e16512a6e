"""A founder's data, inside the Rasa server: their right to be forgotten, and to take it with them.

"Delete my data", confirmed, must leave nothing the founder typed, and no slot value
derived from it, in any store: the canvas store's rows, and the tracker store's
events. Why it runs here, and not in the action server:

- Rasa holds the tracker while it runs a turn and saves the turn's new events at its
  end; only the tracker store can save that turn without the forgotten events
  (CoachTrackerStore, bot/plugins/tracker_store.py).
- The founder must never be told "done" while half is left. The two stores are two
  databases, so the delete runs in one place, in this order, with no await in
  between: the tracker's rows are deleted in an open transaction, the canvas store's
  rows are deleted and committed, then the tracker's transaction commits. A locked
  or unreachable database at either step rolls the tracker back and leaves both
  stores as they were; the founder is told the delete did not happen and can ask
  again.
- So action_delete_data is an action of the Rasa server (ActionDeleteData, served by
  bot/plugins/patches/in_process_actions.py), not of the action server, which
  cannot delete anything any more, even when called with the token.

What stays in the tracker store is the bare fact that the conversation restarted: a
`restart` event, then the delete action and the coach's "done" message.

"Export my data" runs here too, since only the Rasa server holds every session of
the conversation; the action server is sent the current one only.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.actions.action import Action
from rasa.shared.core.events import BotUttered, Event, SlotSet, UserUttered
from sqlalchemy.exc import SQLAlchemyError

from bot.coach import conversation as coach
from bot.coach.presentation import TurnResult
from bot.coach.store import CanvasStore, StoreError, founder_channel
from bot.plugins.tracker_store import CoachTrackerStore, ForgetFailed
from bot.review import saved_tests

logger = logging.getLogger(__name__)

FORGET_ACTION = "action_delete_data"
EXPORT_ACTION = "action_export_data"


_opening = threading.Lock()


def canvas_store() -> CanvasStore:
    """The canvas store, opened once in the Rasa server (CANVAS_DB_URL). Opened under a lock:
    two messages at once ask for it from worker threads (bot/plugins/channels/cohorts.py),
    and two openings at once ran Alembic's migration twice in one process, whose
    module-global context is not thread-safe (KeyError: 'config')."""
    with _opening:
        return _open_canvas_store()


@lru_cache(maxsize=1)
def _open_canvas_store() -> CanvasStore:
    return CanvasStore()


class FounderDataAction(Action):
    """An action of the Rasa server on one founder's data in both stores."""

    def __init__(self, tracker_store: Optional[CoachTrackerStore] = None, canvas: Optional[CanvasStore] = None) -> None:
        self._tracker_store = tracker_store  # by default the Rasa server's own
        self._canvas = canvas

    def stores(self) -> Tuple[CoachTrackerStore, CanvasStore]:
        return self._tracker_store or CoachTrackerStore.active(), self._canvas or canvas_store()


class ActionDeleteData(FounderDataAction):
    """The confirmed "delete my data": both stores, or neither."""

    def name(self) -> Text:
        return FORGET_ACTION

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        channel, sender_id = founder_channel(tracker.get_latest_input_channel()), tracker.sender_id
        try:
            store, canvas = self.stores()
            with store.forgetting(sender_id):
                canvas.delete_founder(channel, sender_id)
        except (ForgetFailed, StoreError) as error:
            logger.warning("delete of %s's data did not happen: %s", sender_id, error)
            return [BotUttered(coach.DELETE_INCOMPLETE, data={"buttons": coach.DELETE_BUTTONS})]
        # Everything the tracker holds up to here, this turn's "yes" included, is forgotten.
        store.forget_turn(sender_id, len(tracker.events), FORGET_ACTION)
        try:  # a conversation a reviewer saved as a test holds the founder's words too
            saved_tests.forget(sender_id)
        except OSError as error:
            logger.warning("the saved test story of %s could not be removed: %s", sender_id, type(error).__name__)
        # data_deleted: channels that keep a copy (the widget's local storage) drop it.
        return [
            BotUttered(coach.DELETED),
            BotUttered(data={"custom": {"type": "data_deleted"}}),
            *forgotten_slots(tracker, domain),
        ]


class ActionExportData(FounderDataAction):
    """ "Send me everything you have about me": the founder's record and blocks from the
    canvas store, and the whole conversation from the tracker store, as files."""

    def name(self) -> Text:
        return EXPORT_ACTION

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        channel, sender_id = founder_channel(tracker.get_latest_input_channel()), tracker.sender_id
        try:
            store, canvas = self.stores()
            blocks = canvas.founder_blocks(channel, sender_id)
            founder = canvas.founder_record(channel, sender_id)
            stored = await store.retrieve_full_tracker(sender_id)
        except (ForgetFailed, StoreError, SQLAlchemyError) as error:
            logger.warning("export of %s's data did not happen: %s", sender_id, type(error).__name__)
            return [BotUttered(coach.STORE_BUSY)]
        # The turn's own message ("export my data") is stored only at the turn's end.
        conversation = conversation_of([*(stored.events if stored else []), tracker.latest_message])
        return said(coach.data_export(channel, sender_id, blocks, founder, conversation), tracker)


def conversation_of(events: List[Event]) -> List[Dict[str, Any]]:
    """What the founder and the coach said, in order, as plain data."""
    lines = []
    for event in events:
        if isinstance(event, (UserUttered, BotUttered)) and event.text:
            lines.append(
                {
                    "from": "founder" if isinstance(event, UserUttered) else "coach",
                    "at": datetime.fromtimestamp(event.timestamp, timezone.utc).isoformat(timespec="seconds"),
                    "text": event.text,
                }
            )
    return lines


def said(result: TurnResult, tracker: Any) -> List[Event]:
    """A coach turn's messages as the Rasa server's own bot events, then the pending question."""
    events: List[Event] = [
        BotUttered(m.text, data={"buttons": m.buttons or None, "custom": m.data}) for m in result.messages
    ]
    if result.then_prompt and not tracker.active_loop_name:  # a form asks its own question next
        text, buttons = coach.pending_prompt(
            tracker.get_slot("stage"),
            tracker.get_slot("paused_form"),
            confirming_delete=bool(tracker.get_slot("confirming_delete")),
        )
        events.append(BotUttered(text, data={"buttons": buttons or None}))
    return events


def forgotten_slots(tracker: Any, domain: Any) -> List[SlotSet]:
    """Every slot back at its initial value: no answer survives the delete."""
    return [
        SlotSet(slot.name, slot.initial_value)
        for slot in domain.slots
        if tracker.get_slot(slot.name) != slot.initial_value
    ]
