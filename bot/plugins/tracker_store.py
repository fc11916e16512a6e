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
block inside it (the canvas store's delete) succeeded. What stays is the bare fact
that the conversation restarted: a `restart` event. The review dashboard's read
model forgets a sender at a `restart` event. Deleted rows are overwritten on disk
(SQLite's secure_delete), and no SQL error message carries the statement's
parameters (hide_parameters), so a founder's words reach no log.

On SQLite the store writes ahead (journal_mode=WAL, synchronous=NORMAL, set on every
connection): a commit appends to tracker.db-wal without waiting for the disk
(fsync), and readers (the review dashboard) neither wait for writers nor make them
wait. A commit survives the Rasa server's crash (kill -9) the moment it returns;
a power cut or an operating-system crash can lose the last commits, never corrupt
the file (README, Privacy). The log holds every page a commit wrote, deleted words
included, until a checkpoint copies it into tracker.db: after a forget the store
checkpoints and empties the log (wal_checkpoint(TRUNCATE)); a reader in the middle
of an older snapshot can hold that off, and then it is tried again after each save
until it succeeds (wipe_pending).

CoachTrackerStore overrides SQLTrackerStore._additional_events, a private member:
bot/plugins/patches/tracker_store_override.py checks at start-up that it and the
save() that calls it are still the code this was written against.

It also keeps recent conversations' trackers between turns, checked against the
table with one cheap query before each use, and saves a turn's new events in one
statement (bot/plugins/tracker_cache.py). TRACKER_CACHE_SIZE sets how many
conversations it keeps (default 256; 0: none, every turn reads SQL as Rasa does).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sqlite3
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Text, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ActionExecuted, Restarted, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.exc import SQLAlchemyError

from bot.plugins.tracker_cache import Mark, TrackerCache

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 256
WIPE_WAIT_MS = 1000  # how long a forget's checkpoint waits for a reader of an older snapshot


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
        self.wipe_pending = False  # a forget's words may still be in the SQLite write-ahead log
        # With an event broker, Rasa's save() reads the stored tracker to find what is
        # new: that must come from SQL, so no tracker is kept.
        size = int(os.environ.get("TRACKER_CACHE_SIZE") or DEFAULT_CACHE_SIZE)
        self.cache = TrackerCache(0 if self.event_broker else size)
        # A turn's new events go in as one prepared statement run for each row (the
        # driver's executemany, in the save's one transaction). Rasa's ORM insert, or
        # one multi-row INSERT, is compiled anew for each turn: 4 ms of the save.
        table = self.SQLEvent.__table__
        columns = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
        marker = "%s" if self.engine.dialect.paramstyle in ("format", "pyformat") else "?"
        self._insert_sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
        )
        self._mark_sql = f"SELECT max(id), count(id) FROM {table.name} WHERE sender_id = {marker}"
        CoachTrackerStore._active = self

    def _private_engine(self) -> None:
        """Rasa's engine, remade so that no error message quotes a founder's words,
        and (SQLite) deleted rows are overwritten rather than left in free pages.
        A server database's connections are checked before use (pool_pre_ping):
        Rasa's engine has no such check, so after a PostgreSQL restart the first
        turn on each dead pooled connection failed."""
        url = self.engine.url
        self.engine.dispose()
        pooled: Dict[str, Any] = {}
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            # SQLAlchemy 1.4 opens a new SQLite connection for every use (NullPool); a
            # pool keeps a few open. Each is used by one caller at a time.
            pooled = {"poolclass": sa.pool.QueuePool, "connect_args": {"check_same_thread": False}}
        self.engine = sa.create_engine(
            url,
            hide_parameters=True,
            pool_pre_ping=url.get_backend_name() != "sqlite",
            **pooled,
            **create_engine_kwargs(url),
        )
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _tune_sqlite_connection)
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
        self.cache.drop(sender_id)
        session = self.sessionmaker()
        try:
            if self.engine.dialect.name == "sqlite":
                # The write lock now, before the canvas store's delete inside (with the
                # write-ahead log, EXCLUSIVE is IMMEDIATE: readers go on).
                session.execute(sa.text("BEGIN EXCLUSIVE"))
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
        self.wipe_pending = True
        self.wipe_log(wait=True)

    def wipe_log(self, wait: bool = False) -> bool:
        """SQLite: copies the write-ahead log into tracker.db and empties it, so no
        deleted row's words stay in tracker.db-wal; secure_delete has zeroed them in
        the pages copied. `wait`: up to WIPE_WAIT_MS for a reader of an older
        snapshot, else give up at once (the event loop is not held). True when the
        log is empty (or there is none)."""
        if not self.wipe_pending:
            return True
        if self.engine.dialect.name != "sqlite":
            self.wipe_pending = False
            return True
        try:
            with self.engine.connect() as connection:
                raw = connection.connection.dbapi_connection
                waits = raw.execute("PRAGMA busy_timeout").fetchone()[0]
                # The event loop waits at most a second for a reader (a dashboard read takes ms).
                raw.execute(f"PRAGMA busy_timeout={WIPE_WAIT_MS if wait else 0}")
                try:
                    busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                finally:
                    raw.execute(f"PRAGMA busy_timeout={int(waits)}")
        except (SQLAlchemyError, sqlite3.Error) as error:
            logger.warning("the tracker store's log was not emptied after a delete: %s", type(error).__name__)
            return False  # still pending: tried again after the next save
        self.wipe_pending = bool(busy)
        if busy:
            logger.warning("a reader holds the tracker store's log: it is emptied after a later save")
        return not busy

    def forget_turn(self, sender_id: Text, first_kept_event: int, action_name: Text) -> None:
        """The tracker's events before `first_kept_event` (the ActionExecuted of the
        delete action `action_name`) were forgotten during this turn: its save must
        not write them back."""
        self._forgotten_up_to[sender_id] = (first_kept_event, action_name)
        self.cache.drop(sender_id)

    # ------------------------------------------------------------ the held trackers

    def _mark(self, connection: Any, sender_id: Text) -> Mark:
        """The sender's newest event id and row count, from the sender's index. Plain
        SQL: building and compiling the statement cost more than running it."""
        newest, count = connection.exec_driver_sql(self._mark_sql, (sender_id,)).one()
        return newest, count

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The current session's tracker: the one held since the last turn when the
        table has nothing new for the sender, else read from SQL as Rasa does."""
        with self.engine.connect() as connection:
            mark = self._mark(connection, sender_id)
        held = self.cache.lend(sender_id, mark)
        if held is not None:
            return held
        # Read after the mark: a row written in between makes the mark stale, never the tracker.
        tracker = await super().retrieve(sender_id)
        if tracker is None:
            self.cache.drop(sender_id)
        else:
            self.cache.hold(sender_id, tracker, len(tracker.events), mark)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """The turn's new events in one statement when the tracker is the one lent for
        this turn and nothing else wrote to the conversation since; else Rasa's save."""
        sender_id = tracker.sender_id
        held = self.cache.lent(sender_id, tracker)
        if held is None or sender_id in self._forgotten_up_to:
            self.cache.drop(sender_id)
            await super().save(tracker)
            self.wipe_log()
            return None
        new = list(itertools.islice(tracker.events, held.stored, None))
        rows = self._rows(sender_id, new)
        with self.engine.begin() as connection:
            if self.engine.dialect.name == "sqlite":
                # The write lock before the check, so that nothing writes between the two.
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            if self._mark(connection, sender_id) != held.mark:
                written = False  # another server wrote: Rasa's own count decides (below)
            else:
                if rows:
                    connection.exec_driver_sql(self._insert_sql, rows)
                mark, written = self._mark(connection, sender_id), True
        if not written:
            self.cache.drop(sender_id)
            await super().save(tracker)
            self.wipe_log()
            return None
        self.wipe_log()
        if any(isinstance(event, SessionStarted) for event in new):
            self.cache.drop(sender_id)  # a new session: the next turn loads only that
        else:
            self.cache.give_back(sender_id, len(tracker.events), mark)

    def _rows(self, sender_id: Text, events: List[Any]) -> List[Tuple[Any, ...]]:
        """The events as rows, as SQLTrackerStore.save writes them, for _insert_sql."""
        rows = []
        for event in events:
            data = event.as_dict()
            rows.append(
                (
                    sender_id,
                    event.type_name,
                    data.get("timestamp"),
                    data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    data.get("name"),
                    json.dumps(data),
                )
            )
        return rows

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


def _tune_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
    try:
        # Stays set in the file once set. A reader of a file not yet converted (the
        # dashboard) makes it fail: this connection then commits as before (a rollback
        # journal, synchronous FULL) and the next one tries again.
        mode = dbapi_connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    except sqlite3.OperationalError as error:
        logger.warning("the tracker store stays in rollback-journal mode for now: %s", error)
        mode = None
    if mode == "wal":
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")  # no fsync a commit; safe from a crash
