"""A founder's data, inside the Rasa server: their right to be forgotten, and to take it with them.

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
  happen and can ask again. On SQLite the tracker's transaction begins EXCLUSIVE,
  so it waits out every reader (the review dashboard reads tracker.db) before the
  canvas store is touched, and its commit has nobody left to wait for.
- So action_delete_data is an action of the Rasa server (ActionDeleteData,
  installed by bot.plugins.rasa_server), not of the action server, which cannot
  delete anything any more, even when called with the token.

What stays in the tracker store is the bare fact that the conversation
restarted: a `restart` event, then the delete action and the coach's "done"
message. The review dashboard's read model forgets a sender at a `restart` event.
Deleted rows are overwritten on disk (SQLite's secure_delete), and no SQL error
message carries the statement's parameters (hide_parameters), so a founder's
words reach no log.

CoachTrackerStore overrides SQLTrackerStore._additional_events, a private member:
bot/plugins/rasa_server.py checks at start-up that it and the save() that calls
it are still the code this was written against.
"""

from __future__ import annotations

import itertools
import json
import logging
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Dict, Iterator, List, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.actions.action import Action
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, Restarted, SlotSet, UserUttered
from sqlalchemy.exc import SQLAlchemyError

from bot.coach import conversation as coach
from bot.coach.presentation import TurnResult
from bot.coach.store import CanvasStore, StoreError, founder_channel

logger = logging.getLogger(__name__)

FORGET_ACTION = "action_delete_data"
EXPORT_ACTION = "action_export_data"


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
        self._private_engine()
        self._forgotten_up_to: Dict[Text, int] = {}
        CoachTrackerStore._active = self

    def _private_engine(self) -> None:
        """Rasa's engine, remade so that no error message quotes a founder's words,
        and (SQLite) deleted rows are overwritten rather than left in free pages.
        A server database's connections are checked before use (pool_pre_ping):
        Rasa's engine has no such check, so after a PostgreSQL restart the first
        turn on each dead pooled connection failed."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, hide_parameters=True, pool_pre_ping=url.get_backend_name() != "sqlite", **create_engine_kwargs(url)
        )
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _overwrite_deleted_rows)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

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
            if self.engine.dialect.name == "sqlite":
                session.execute(sa.text("BEGIN EXCLUSIVE"))  # waits out readers now, not at the commit
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
            delete_elsewhere()
            restart = Restarted()
            session.add(
                self.SQLEvent(
                    sender_id=sender_id,
                    type_name=restart.type_name,
                    timestamp=restart.timestamp,
                    intent_name=None,
                    action_name=None,
                    data=json.dumps(restart.as_dict()),
                )
            )
            session.commit()
        except (SQLAlchemyError, StoreError) as error:
            session.rollback()
            raise ForgetFailed(str(error)) from error
        finally:
            session.close()

    def forget_turn(self, sender_id: Text, first_kept_event: int) -> None:
        """The tracker's events before `first_kept_event` (the delete action's own
        ActionExecuted) were forgotten during this turn: its save must not write them back."""
        self._forgotten_up_to[sender_id] = first_kept_event

    def _additional_events(self, session: Any, tracker: Any) -> Iterator:
        first_kept = self._forgotten_up_to.pop(tracker.sender_id, None)
        if first_kept is not None and _is_the_delete(tracker, first_kept):
            return itertools.islice(tracker.events, first_kept, None)
        # No mark, or a stale one (a turn that never reached its save): Rasa's own count.
        return super()._additional_events(session, tracker)


def _is_the_delete(tracker: Any, index: int) -> bool:
    events = tracker.events
    return (
        index < len(events) and isinstance(events[index], ActionExecuted) and events[index].action_name == FORGET_ACTION
    )


def _overwrite_deleted_rows(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=ON")


@lru_cache(maxsize=1)
def canvas_store() -> CanvasStore:
    """The canvas store, opened once in the Rasa server (CANVAS_DB_URL)."""
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
            store.forget(sender_id, lambda: canvas.delete_founder(channel, sender_id))
        except (ForgetFailed, StoreError) as error:
            logger.warning("delete of %s's data did not happen: %s", sender_id, error)
            return [BotUttered(coach.DELETE_INCOMPLETE, data={"buttons": coach.DELETE_BUTTONS})]
        # Everything the tracker holds up to here, this turn's "yes" included, is forgotten.
        store.forget_turn(sender_id, len(tracker.events))
        # data_deleted: channels that keep a copy (the widget's local storage) drop it.
        return [
            BotUttered(coach.DELETED),
            BotUttered(data={"custom": {"type": "data_deleted"}}),
            *forgotten_slots(tracker, domain),
        ]


class ActionExportData(FounderDataAction):
    """ "Send me everything you have about me": the founder's record and blocks from the
    canvas store, and the whole conversation from the tracker store, as files. It runs
    here because only the Rasa server holds every session of the conversation; the
    action server is sent the current one only."""

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
