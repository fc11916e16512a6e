"""The read model: Rasa's events summarised per conversation, plus a searchable
copy of every message, kept in the review database.

- update(): brings it up to date from events newer than the last one read
  (each touched conversation is summarised again from its own events, which the
  tracker's sender index finds quickly). Every SWEEP_EVERY_S it also compares
  each sender's newest event id with the summary's (one GROUP BY on the index). On PostgreSQL, ids can commit out of
  order, so the last RECENT_WINDOW ids are read again.
- Deletion: a `restart` event forgets everything before it; a founder whose
  events are gone (deleted) is forgotten by the next sweep, or at once by forget().
  Forgetting removes the summary, the messages, the search index's copy and what
  coordinators recorded about them.
- rebuild(): throws it all away and reads the whole tracker again
  (`python -m bot review rebuild`).

summarize() is a pure function of one sender's events, tested on its own.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import OperationalError

from bot.review.db import ReviewDB
from bot.review.models import CohortMove, Conversation, Flag, Message, Note, ReadModelState, Review, Tag
from bot.review.tracker import TrackerEvents

log = logging.getLogger(__name__)
LOW_CONFIDENCE = 0.7  # a founder message whose intent scored below this is highlighted
FEW_CUSTOMERS = 1000  # a segment of at most this many customers is "few"
RECENT_WINDOW = 1000  # ids re-read on PostgreSQL, where ids can commit out of order
SWEEP_EVERY_S = 30.0  # how often update() looks for founders whose events were deleted
# What coordinators and admins recorded about a conversation: it goes with the founder.
RECORDS = (Review, Tag, Flag, Note, CohortMove)
WATCHED_SLOTS = {"stage", "requested_slot", "venture_name", "segments", "session_started_metadata"}


@dataclass
class Summary:
    """One conversation, as the list shows it, and its messages for search."""

    sender_id: str
    cohort: str = ""
    channel: str = ""
    venture: Optional[str] = None
    started_at: float = 0.0
    last_active_at: float = 0.0
    turns: int = 0
    stage: Optional[str] = None
    last_question: Optional[str] = None
    segments: int = 0
    recommended: bool = False
    saved: bool = False
    saved_turns: Optional[int] = None
    saved_after_s: Optional[float] = None
    fallbacks: int = 0
    low_confidence: int = 0
    choices: str = ""
    first_event_id: int = 0
    last_event_id: int = 0
    messages: List[Dict[str, Any]] = field(default_factory=list)

    def row(self) -> Dict[str, Any]:
        values = dict(self.__dict__)
        values.pop("messages")
        return values


def after_last_restart(events: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """The events after the last `restart`: what the founder's conversation still is."""
    for index in range(len(events) - 1, -1, -1):
        if events[index][2] == "restart":
            return events[index + 1 :]
    return events


def cohort_of(data: Dict[str, Any]) -> str:
    """The cohort a user event carries (the widget's customData, Slack's channel
    mapping): in its metadata, or its parse_data's."""
    for metadata in (data.get("metadata"), (data.get("parse_data") or {}).get("metadata")):
        if isinstance(metadata, dict) and isinstance(metadata.get("cohort"), str) and metadata["cohort"].strip():
            return metadata["cohort"].strip()[:64]
    return ""


def segment_kind(profile: Dict[str, Any]) -> str:
    """b2b-few, b2c-many, ...: the kind of segment the types chart groups by."""
    market = profile.get("market") if profile.get("market") in ("b2b", "b2c") else "other"
    count = profile.get("customer_count")
    size = "unknown" if not isinstance(count, (int, float)) else ("few" if count <= FEW_CUSTOMERS else "many")
    return f"{market}-{size}"


def summarize(sender_id: str, events: Sequence[Sequence[Any]]) -> Optional[Summary]:
    """The summary of one sender's events (id, sender_id, type_name, timestamp,
    intent_name, action_name, data), oldest first; None when the founder has said
    nothing since their last restart (no conversation to show)."""
    events = after_last_restart(events)
    if not events:
        return None
    summary = Summary(
        sender_id,
        first_event_id=events[0][0],
        last_event_id=events[-1][0],
        started_at=events[0][3] or 0.0,
        last_active_at=events[-1][3] or 0.0,
    )
    requested: Optional[str] = None
    session_cohort = ""
    saved_segments: List[Dict[str, Any]] = []
    last_segments: List[Dict[str, Any]] = []
    for event_id, _sender, type_name, timestamp, intent_name, action_name, raw in events:
        if type_name == "user":
            data = event_data(raw)
            summary.turns += 1
            if summary.turns == 1:  # a conversation's cohort is its first message's (later ones cannot move it)
                summary.cohort = cohort_of(data)
            summary.channel = data.get("input_channel") or summary.channel
            confidence = ((data.get("parse_data") or {}).get("intent") or {}).get("confidence")
            if intent_name == "nlu_fallback":
                summary.fallbacks += 1
            if isinstance(confidence, (int, float)) and confidence < LOW_CONFIDENCE:
                summary.low_confidence += 1
            if data.get("text"):
                summary.messages.append(
                    dict(
                        event_id=event_id,
                        speaker="founder",
                        text=str(data["text"]),
                        intent=intent_name,
                        confidence=confidence,
                        timestamp=timestamp or 0.0,
                    )
                )
        elif type_name == "bot":
            data = event_data(raw)
            if isinstance((data.get("metadata") or {}).get("advice"), dict):
                summary.recommended = True
            if data.get("text"):
                summary.messages.append(
                    dict(
                        event_id=event_id,
                        speaker="coach",
                        text=str(data["text"]),
                        intent=None,
                        confidence=None,
                        timestamp=timestamp or 0.0,
                    )
                )
        elif type_name == "action":
            if action_name == "action_recommend":
                summary.recommended = True
        elif type_name == "slot" and action_name in WATCHED_SLOTS:
            value = event_data(raw).get("value")
            if action_name == "requested_slot":
                requested = value if isinstance(value, str) else None
            elif action_name == "stage" and isinstance(value, str):
                summary.stage = value
                requested = None
                if value == "saved" and not summary.saved:
                    summary.saved = True
                    summary.saved_turns = summary.turns
                    summary.saved_after_s = max(0.0, (timestamp or 0.0) - summary.started_at)
                    saved_segments = list(last_segments)
            elif action_name == "venture_name" and isinstance(value, str) and value.strip():
                summary.venture = value.strip()[:200]
            elif action_name == "segments" and isinstance(value, list):
                summary.segments = max(summary.segments, len(value))
                last_segments = value
            elif action_name == "session_started_metadata" and isinstance(value, dict):
                session_cohort = cohort_of({"metadata": value}) or session_cohort
    if summary.turns == 0:
        return None
    summary.cohort = summary.cohort or session_cohort
    summary.last_question = requested or summary.stage
    summary.choices = " ".join(
        f"{segment_kind(segment.get('profile') or {})}:{choice.get('type_id')}"
        for segment in saved_segments
        if isinstance(segment, dict)
        for choice in segment.get("choices") or []
        if isinstance(choice, dict) and choice.get("type_id")
    )
    if summary.choices:
        summary.choices = f" {summary.choices} "
    return summary


def event_data(raw: Any) -> Dict[str, Any]:
    try:
        value = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class ReadModel:
    def __init__(self, db: ReviewDB, tracker: TrackerEvents) -> None:
        self.db = db
        self.tracker = tracker
        self._lock = threading.Lock()
        self._last_check = 0.0

    # --- keeping up --------------------------------------------------------------

    def update(self, sweep: Optional[bool] = None) -> int:
        """Reads events newer than the last update; returns how many conversations
        it summarised again. sweep: also look for deleted founders (by default
        every SWEEP_EVERY_S seconds)."""
        with self._lock:
            state = self._state()
            last_id = state.get("last_event_id", 0)
            newest = self.tracker.max_id()
            if newest < last_id:  # the newest rows were deleted (or the tracker emptied)
                sweep = True
            window = RECENT_WINDOW if self.tracker.dialect == "postgresql" else 0
            senders = self.tracker.senders_after(last_id - window) if newest > last_id - window else []
            for sender in senders:
                self._refresh(sender)
            now = time.time()
            if sweep or (sweep is None and now - state.get("swept_at", 0) >= SWEEP_EVERY_S):
                self._sweep()
                self._set_state(swept_at=now)
            if newest != last_id:
                self._set_state(last_event_id=newest)
            return len(senders)

    def _sweep(self) -> None:
        """Founders whose events are gone are forgotten; a conversation whose newest
        event differs from the one summarised (SQLite can reuse the ids of deleted
        rows) is summarised again."""
        in_tracker = self.tracker.last_ids()
        with self.db.read() as conn:
            summarised = dict(conn.execute(select(Conversation.sender_id, Conversation.last_event_id)).all())
        for sender, last_id in summarised.items():
            if sender not in in_tracker:
                self.forget(sender)
            elif in_tracker[sender] != last_id:
                self._refresh(sender)
        self._forget_records_of_others(set(in_tracker))

    def _forget_records_of_others(self, in_tracker: set) -> None:
        """What coordinators recorded about founders no longer in the tracker goes too."""
        with self.db.begin() as conn:
            recorded = set()
            for table in RECORDS:
                recorded |= set(conn.execute(select(table.sender_id).distinct()).scalars())
            for sender in recorded - in_tracker:
                self._forget_records(conn, sender)

    def update_if_due(self, min_interval_s: float = 1.0) -> None:
        """update() without the sweep, at most once a min_interval_s (the web app
        calls it per request, and sweeps in the background)."""
        now = time.monotonic()
        if now - self._last_check >= min_interval_s:
            self._last_check = now
            try:
                self.update(sweep=False)
            except OperationalError as exc:  # a store is locked or away: show what is known, catch up later
                log.warning("review dashboard: the read model could not catch up now (%s)", exc.orig)

    def rebuild(self) -> int:
        """Everything from scratch; returns the number of conversations."""
        with self._lock:
            return self._rebuild_locked()

    def _rebuild_locked(self) -> int:
        newest = self.tracker.max_id()
        count = 0
        with self.db.begin() as conn:
            self._clear_index(conn, None)
            conn.execute(delete(Message))
            conn.execute(delete(Conversation))
            batch: List[Summary] = []
            for summary in self._summaries(self.tracker.every_event()):
                batch.append(summary)
                if len(batch) >= 500:
                    count += self._insert(conn, batch)
                    batch = []
            count += self._insert(conn, batch)
            if self.db.sqlite:
                conn.exec_driver_sql("INSERT INTO messages_fts(rowid, text) SELECT id, text FROM rm_messages")
        self._forget_records_of_others(set(self.tracker.last_ids()))
        self._set_state(last_event_id=newest, swept_at=time.time())
        return count

    @staticmethod
    def _summaries(events: Iterable[Sequence[Any]]) -> Iterable[Summary]:
        sender, group = None, []
        for event in events:
            if event[1] != sender:
                if group:
                    summary = summarize(sender, group)
                    if summary:
                        yield summary
                sender, group = event[1], []
            group.append(event)
        if group:
            summary = summarize(sender, group)
            if summary:
                yield summary

    def _refresh(self, sender_id: str) -> None:
        summary = summarize(sender_id, self.tracker.events_of(sender_id))
        if summary is None:  # deleted, or restarted with nothing said since: nothing of them stays
            self.forget(sender_id)
            return
        with self.db.begin() as conn:
            before = conn.execute(
                select(Conversation.first_event_id).where(Conversation.sender_id == sender_id)
            ).scalar()
            if before is not None and before != summary.first_event_id:  # a restart since: a new conversation
                self._forget_records(conn, sender_id)
            self._drop(conn, sender_id)
            self._insert(conn, [summary])
            if self.db.sqlite:
                conn.exec_driver_sql(
                    "INSERT INTO messages_fts(rowid, text) SELECT id, text FROM rm_messages WHERE sender_id = ?",
                    (sender_id,),
                )

    def forget(self, sender_id: str) -> None:
        """Removes a founder from the read model, the search index and the
        dashboard's records (tags, notes, flags, reviewed): for the delete path."""
        with self.db.begin() as conn:
            self._drop(conn, sender_id)
            self._forget_records(conn, sender_id)

    @staticmethod
    def _forget_records(conn: Any, sender_id: str) -> None:
        for table in RECORDS:
            conn.execute(delete(table).where(table.sender_id == sender_id))

    # --- storage -----------------------------------------------------------------

    def _drop(self, conn: Any, sender_id: str) -> None:
        self._clear_index(conn, sender_id)
        conn.execute(delete(Message).where(Message.sender_id == sender_id))
        conn.execute(delete(Conversation).where(Conversation.sender_id == sender_id))

    def _clear_index(self, conn: Any, sender_id: Optional[str]) -> None:
        if not self.db.sqlite:
            return
        if sender_id is None:
            conn.exec_driver_sql("DELETE FROM messages_fts")
        else:
            conn.exec_driver_sql(
                "DELETE FROM messages_fts WHERE rowid IN (SELECT id FROM rm_messages WHERE sender_id = ?)", (sender_id,)
            )

    @staticmethod
    def _insert(conn: Any, summaries: List[Summary]) -> int:
        if not summaries:
            return 0
        # An admin's cohort move (the newest) outranks the first message's cohort.
        moved = dict(
            conn.execute(
                select(CohortMove.sender_id, CohortMove.to_cohort)
                .where(CohortMove.sender_id.in_([s.sender_id for s in summaries]))
                .order_by(CohortMove.id)
            ).all()
        )
        for summary in summaries:
            summary.cohort = moved.get(summary.sender_id, summary.cohort)
        conn.execute(insert(Conversation), [s.row() for s in summaries])
        messages = [dict(m, sender_id=s.sender_id) for s in summaries for m in s.messages]
        if messages:
            conn.execute(insert(Message), messages)
        return len(summaries)

    def _state(self) -> Dict[str, float]:
        with self.db.read() as conn:
            return {name: value for name, value in conn.execute(select(ReadModelState.name, ReadModelState.value))}

    def _set_state(self, **values: float) -> None:
        with self.db.begin() as conn:
            for name, value in values.items():
                done = conn.execute(update(ReadModelState).where(ReadModelState.name == name).values(value=value))
                if done.rowcount == 0:
                    conn.execute(insert(ReadModelState).values(name=name, value=value))


def forget(sender_id: str, db: Optional[ReviewDB] = None) -> None:
    """For the delete path: forget a founder now, in the database REVIEW_DB_URL names."""
    own = db is None
    db = db or ReviewDB()
    try:
        ReadModel(db, tracker=None).forget(sender_id)  # type: ignore[arg-type]
    finally:
        if own:
            db.close()
