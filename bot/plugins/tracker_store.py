"""A founder's right to be forgotten, inside the Rasa server.

"Delete my data", confirmed, must leave nothing the founder typed, and no slot
value derived from it, in any store: the canvas store's rows, and the tracker
store's events. Why it runs here, and not in the action server:

- Rasa holds the tracker while it runs a turn and saves the turn's new events at
  its end. SQLTrackerStore.save() counts the rows stored for the sender and
  inserts the tracker's events past that count, so rows deleted from outside in
  the middle of a turn come straight back, texts and all. Only the tracker store
  itself, told which events are forgotten, can save the turn without them: that
  is CoachTrackerStore below (named in endpoints.yml, Rasa's own extension point).
- The founder must never be told "done" while half is left. The two stores are
  two databases, so the delete runs in one place, in this order, with no await in
  between: the tracker's rows are deleted in an open transaction, the canvas
  store's rows are deleted and committed, then the tracker's transaction
  commits. A locked or unreachable database at either step rolls the tracker back
  and leaves both stores as they were; the founder is told the delete did not
  happen and can ask again. (The last commit can only fail if the disk fails:
  SQLite already holds the write lock by then.)
- So action_delete_data is an action of the Rasa server (ActionDeleteData,
  installed by bot.plugins.rasa_server), not of the action server, which cannot
  delete anything any more, even when called with the token.

What stays in the tracker store is the bare fact that the conversation
restarted: a `restart` event, then the delete action and the coach's "done"
message. The review dashboard's read model forgets a sender at a `restart` event.
"""
from __future__ import annotations

import itertools
import json
import logging
from functools import lru_cache
from typing import Any, Callable, Dict, Iterator, List, Optional, Text

from rasa.core.actions.action import Action
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered, Event, Restarted, SlotSet
from sqlalchemy.exc import SQLAlchemyError

from bot.coach import conversation as coach
from bot.coach.store import CanvasStore, StoreError

logger = logging.getLogger(__name__)

FORGET_ACTION = "action_delete_data"


class ForgetFailed(Exception):
    """Nothing was deleted: one of the stores was locked or unreachable."""


class CoachTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, able to forget a sender."""

    _active: Optional["CoachTrackerStore"] = None  # the Rasa server's one tracker store

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except AttributeError as error:
            # Rasa turns an AttributeError from a custom store into a warning and
            # keeps every conversation in memory only; this one must stop the server.
            raise RuntimeError(f"the tracker store could not start: {error}") from error
        self._forgotten_up_to: Dict[Text, int] = {}
        CoachTrackerStore._active = self

    @classmethod
    def active(cls) -> "CoachTrackerStore":
        if cls._active is None:
            raise ForgetFailed("the tracker store is not bot.plugins.tracker_store's CoachTrackerStore (endpoints.yml)")
        return cls._active

    def forget(self, sender_id: Text, delete_elsewhere: Callable[[], None]) -> None:
        """Deletes every event of `sender_id`, and runs `delete_elsewhere` (the canvas
        store's delete) inside the same transaction: both happen, or neither."""
        session = self.sessionmaker()
        try:
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(
                synchronize_session=False)
            delete_elsewhere()
            restart = Restarted()
            session.add(self.SQLEvent(sender_id=sender_id, type_name=restart.type_name, timestamp=restart.timestamp,
                                      intent_name=None, action_name=None, data=json.dumps(restart.as_dict())))
            session.commit()
        except (SQLAlchemyError, StoreError) as error:
            session.rollback()
            raise ForgetFailed(str(error)) from error
        finally:
            session.close()

    def forget_turn(self, sender_id: Text, first_kept_event: int) -> None:
        """The tracker's events before `first_kept_event` were forgotten during this
        turn: the turn's save must not write them back."""
        self._forgotten_up_to[sender_id] = first_kept_event

    def _additional_events(self, session: Any, tracker: Any) -> Iterator:
        first_kept = self._forgotten_up_to.pop(tracker.sender_id, None)
        if first_kept is not None:
            return itertools.islice(tracker.events, first_kept, None)
        return super()._additional_events(session, tracker)


@lru_cache(maxsize=1)
def canvas_store() -> CanvasStore:
    """The canvas store, opened once in the Rasa server (CANVAS_DB_URL)."""
    return CanvasStore()


class ActionDeleteData(Action):
    """The confirmed "delete my data": both stores, or neither."""

    def __init__(self, tracker_store: Optional[CoachTrackerStore] = None, canvas: Optional[CanvasStore] = None) -> None:
        self._tracker_store = tracker_store  # by default the Rasa server's own
        self._canvas = canvas

    def name(self) -> Text:
        return FORGET_ACTION

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        channel = tracker.get_latest_input_channel() or "rest"
        sender_id = tracker.sender_id
        try:
            store = self._tracker_store or CoachTrackerStore.active()
            canvas = self._canvas or canvas_store()
            store.forget(sender_id, lambda: canvas.delete_founder(channel, sender_id))
        except (ForgetFailed, StoreError) as error:
            logger.warning("delete of %s's data did not happen: %s", sender_id, error)
            return [BotUttered(coach.DELETE_INCOMPLETE, data={"buttons": coach.DELETE_BUTTONS})]
        # Everything the tracker holds up to here, this turn's "yes" included, is forgotten.
        store.forget_turn(sender_id, len(tracker.events))
        return [BotUttered(coach.DELETED), *forgotten_slots(tracker, domain)]


def forgotten_slots(tracker: Any, domain: Any) -> List[SlotSet]:
    """Every slot back at its initial value: no answer survives the delete."""
    return [SlotSet(slot.name, slot.initial_value) for slot in domain.slots
            if tracker.get_slot(slot.name) != slot.initial_value]
