"""Rasa's tracker store, read-only: the `events` table the Rasa server writes.

TRACKER_DB_URL (any SQLAlchemy URL, e.g. PostgreSQL's) wins; else TRACKER_DB
(default var/tracker.db), an SQLite file opened read-only. A file the Rasa
server has not created yet reads as an empty store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_S = 2.0
COLUMNS = "id, sender_id, type_name, timestamp, intent_name, action_name, data"


def tracker_url(environ: Optional[Dict[str, str]] = None) -> str:
    environ = os.environ if environ is None else environ
    if (environ.get("TRACKER_DB_URL") or "").strip():
        return environ["TRACKER_DB_URL"].strip()
    path = Path(environ.get("TRACKER_DB") or "var/tracker.db").expanduser().resolve()
    return f"sqlite:///file:{path}?mode=ro&uri=true"


class TrackerEvents:
    def __init__(self, url: Optional[str] = None) -> None:
        self.url_obj = make_url(url or tracker_url())
        self.dialect = self.url_obj.get_backend_name()
        args: Dict[str, Any] = {"future": True}
        if self.dialect == "sqlite":
            # A short wait for the Rasa server's writers (a delete locks the file for milliseconds).
            args.update(
                poolclass=QueuePool,
                pool_size=5,
                max_overflow=10,
                connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
            )
        self.engine: Engine = create_engine(self.url_obj, **args)

    def close(self) -> None:
        self.engine.dispose()

    def _rows(self, sql: str, **params: Any) -> List[Sequence[Any]]:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text(sql), params).all()
        except OperationalError as exc:
            if _not_there_yet(exc):
                return []
            raise

    def max_id(self) -> int:
        rows = self._rows("SELECT max(id) FROM events")
        return int(rows[0][0] or 0) if rows else 0

    def senders_after(self, event_id: float) -> List[str]:
        return [r[0] for r in self._rows("SELECT DISTINCT sender_id FROM events WHERE id > :id", id=event_id)]

    def last_ids(self) -> Dict[str, int]:
        """sender_id -> their newest event's id, for every sender."""
        return {r[0]: int(r[1]) for r in self._rows("SELECT sender_id, max(id) FROM events GROUP BY sender_id")}

    def events_of(self, sender_id: str) -> List[Sequence[Any]]:
        return self._rows(f"SELECT {COLUMNS} FROM events WHERE sender_id = :s ORDER BY id", s=sender_id)

    def page_of(self, sender_id: str, after_id: int, before_id: Optional[int], limit: int) -> List[Sequence[Any]]:
        """Up to `limit` events of the sender with after_id < id < before_id, newest first."""
        sql = f"SELECT {COLUMNS} FROM events WHERE sender_id = :s AND id > :after"
        params: Dict[str, Any] = {"s": sender_id, "after": after_id, "limit": limit}
        if before_id is not None:
            sql += " AND id < :before"
            params["before"] = before_id
        return self._rows(sql + " ORDER BY id DESC LIMIT :limit", **params)

    def every_event(self) -> Iterator[Sequence[Any]]:
        """All events, by sender then id, streamed (the sender index gives that order)."""
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(stream_results=True).execute(
                    text(f"SELECT {COLUMNS} FROM events ORDER BY sender_id, id")
                )
                yield from result
        except OperationalError as exc:
            if not _not_there_yet(exc):
                raise


def _not_there_yet(exc: OperationalError) -> bool:
    message = str(exc.orig)
    return "unable to open database file" in message or "no such table: events" in message
