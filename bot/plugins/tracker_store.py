"""The Rasa server's tracker store: Rasa's SQL store, able to forget a founder.

"Delete my data", confirmed, must leave nothing the founder typed in the tracker
store (the action is ActionDeleteData in bot/plugins/founder_data.py). Rasa holds the
tracker while it runs a turn and saves the turn's new events at its end.
SQLTrackerStore.save() counts the rows stored for the sender and inserts the
tracker's events past that count, so rows deleted from outside in the middle of a
turn come straight back, texts and all. Only the tracker store itself, told which
events are forgotten, can save the turn without them: that is CoachTrackerStore
below (named in endpoints.yml, Rasa's own extension point).

forgetting() deletes a sender's rows in an open transaction and commits when the
block inside it (the canvas store's delete) succeeded; on SQLite the transaction
begins EXCLUSIVE, so it waits out every reader (the review dashboard reads
tracker.db) before anything else is touched, and its commit has nobody left to wait
for. What stays is the bare fact that the conversation restarted: a `restart` event.
The review dashboard's read model forgets a sender at a `restart` event. Deleted
rows are overwritten on disk (SQLite's secure_delete), and no SQL error message
carries the statement's parameters (hide_parameters), so a founder's words reach no
log.

CoachTrackerStore overrides SQLTrackerStore._additional_events, a private member:
bot/plugins/patches/tracker_store_override.py checks at start-up that it and the
save() that calls it are still the code this was written against.
"""

from __future__ import annotations

import itertools
import json
import logging
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ActionExecuted, Restarted
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)


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
        self._forgotten_up_to: Dict[Text, Tuple[int, Text]] = {}
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

    @contextmanager
    def forgetting(self, sender_id: Text) -> Iterator[None]:
        """Deletes every event of `sender_id` and leaves a `restart`, committed only
        if the block inside (the canvas store's delete) succeeds: both, or neither.
        Any error rolls back; a database error here is ForgetFailed."""
        session = self.sessionmaker()
        try:
            if self.engine.dialect.name == "sqlite":
                session.execute(sa.text("BEGIN EXCLUSIVE"))  # waits out readers now, not at the commit
            session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(synchronize_session=False)
            yield
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
        except SQLAlchemyError as error:
            session.rollback()
            raise ForgetFailed(str(error)) from error
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def forget_turn(self, sender_id: Text, first_kept_event: int, action_name: Text) -> None:
        """The tracker's events before `first_kept_event` (the ActionExecuted of the
        delete action `action_name`) were forgotten during this turn: its save must
        not write them back."""
        self._forgotten_up_to[sender_id] = (first_kept_event, action_name)

    def _additional_events(self, session: Any, tracker: Any) -> Iterator:
        mark = self._forgotten_up_to.pop(tracker.sender_id, None)
        if mark is not None and _is_the_action(tracker, *mark):
            return itertools.islice(tracker.events, mark[0], None)
        # No mark, or a stale one (a turn that never reached its save): Rasa's own count.
        return super()._additional_events(session, tracker)


def _is_the_action(tracker: Any, index: int, action_name: Text) -> bool:
    events = tracker.events
    return (
        index < len(events) and isinstance(events[index], ActionExecuted) and events[index].action_name == action_name
    )


def _overwrite_deleted_rows(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=ON")
