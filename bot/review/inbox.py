"""The inbox (/review/inbox): founder messages the coach was unsure of, across the
reviewer's cohorts (fallbacks, confidence below LOW_CONFIDENCE, messages a
reviewer flagged), grouped by their normalised text, most frequent first; and
the reviewers' corrections of them (bot.review.models.Correction).

A group is named by its key (the normalised text). Every action on a group acts
on the messages of that key the account may see, and a key with none of them is
NotFound: another cohort's group is a 404, as its conversations are.
Corrections are for admins and coordinators (Forbidden for mentors).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import and_, delete, exists, insert, or_, select, update

from bot.review.auth import Account
from bot.review.db import ReviewDB
from bot.review.models import Conversation, Correction, Flag, Message
from bot.review.nlu_data import Domain, Example, normalise
from bot.review.queries import BadRequest, NotFound, visible
from bot.review.read_model import LOW_CONFIDENCE

MAX_MESSAGES = 5000  # the newest suspect messages the inbox groups
MAX_TEXT = 1000  # an edited correction's text


class Forbidden(Exception):
    """A mentor tried to correct: they read the inbox only."""


@dataclass
class Occurrence:
    sender_id: str
    event_id: int
    cohort: str
    venture: Optional[str]
    intent: Optional[str]
    confidence: Optional[float]
    timestamp: float


@dataclass
class Group:
    key: str
    text: str  # the newest message's text as typed (or the correction's edited text)
    occurrences: List[Occurrence] = field(default_factory=list)
    intent: Optional[str] = None  # what the NLU read most often
    confidence: Optional[float] = None  # its lowest confidence in the group
    runner_ups: List[Tuple[str, float]] = field(default_factory=list)
    # Once corrected (the "done" view):
    corrected_intent: Optional[str] = None
    ignored: bool = False
    entities: List[Dict[str, Any]] = field(default_factory=list)
    corrected_by: str = ""
    corrected_at: float = 0.0

    @property
    def count(self) -> int:
        return len(self.occurrences)


def _suspect() -> Any:
    flagged = exists().where(and_(Flag.sender_id == Message.sender_id, Flag.event_id == Message.event_id))
    return or_(Message.intent == "nlu_fallback", Message.confidence < LOW_CONFIDENCE, flagged)


def _rows(conn: Any, account: Account, corrected: bool, key: Optional[str] = None) -> List[Any]:
    is_corrected = exists().where(
        and_(Correction.sender_id == Message.sender_id, Correction.event_id == Message.event_id)
    )
    query = (
        select(
            Message.sender_id,
            Message.event_id,
            Message.text,
            Message.intent,
            Message.confidence,
            Message.ranking,
            Message.timestamp,
            Conversation.cohort,
            Conversation.venture,
        )
        .join(Conversation, Conversation.sender_id == Message.sender_id)
        .where(
            visible(account),
            Message.speaker == "founder",
            ~Message.text.startswith("/"),  # a button's payload, not the founder's words
            _suspect(),
            is_corrected if corrected else ~is_corrected,
        )
        .order_by(Message.timestamp.desc())
        .limit(MAX_MESSAGES)
    )
    rows = conn.execute(query).all()
    return [r for r in rows if key is None or normalise(r.text) == key]


def groups(db: ReviewDB, account: Account, done: bool = False) -> List[Group]:
    """The inbox's groups, most frequent first (done: those already corrected, newest correction first)."""
    with db.read() as conn:
        rows = _rows(conn, account, corrected=done)
        corrections = {}
        if done and rows:
            senders = {r.sender_id for r in rows}
            table = Correction.__table__
            for c in conn.execute(select(table).where(table.c.sender_id.in_(senders))):
                corrections[(c.sender_id, c.event_id)] = c
    by_key: Dict[str, Group] = {}
    for row in rows:
        key = normalise(row.text)
        if not key:
            continue
        group = by_key.get(key)
        if group is None:
            group = by_key[key] = Group(key, row.text)
        if not group.runner_ups and row.ranking:  # the newest message that has them
            group.runner_ups = [(n, c) for n, c in json.loads(row.ranking)]
        group.occurrences.append(
            Occurrence(row.sender_id, row.event_id, row.cohort, row.venture, row.intent, row.confidence, row.timestamp)
        )
        correction = corrections.get((row.sender_id, row.event_id))
        if correction is not None and correction.corrected_at >= group.corrected_at:
            group.text = correction.text
            group.corrected_intent = correction.intent
            group.ignored = correction.intent is None
            group.entities = json.loads(correction.entities or "[]")
            group.corrected_by = correction.corrected_by
            group.corrected_at = correction.corrected_at
    for group in by_key.values():
        group.intent = Counter(o.intent for o in group.occurrences).most_common(1)[0][0]
        confidences = [o.confidence for o in group.occurrences if o.confidence is not None]
        group.confidence = min(confidences) if confidences else None
    result = list(by_key.values())
    if done:
        result.sort(key=lambda g: -g.corrected_at)
    else:
        result.sort(key=lambda g: (-g.count, -max(o.timestamp for o in g.occurrences)))
    return result


def entities_in(text: str, marks: Sequence[Dict[str, str]], domain: Domain) -> List[Dict[str, Any]]:
    """The reviewer's entity marks ({entity, value}: the words as typed, in the text)
    as Rasa's entities with their place in the text."""
    found = []
    folded = text.casefold()
    for mark in marks:
        entity = str(mark.get("entity") or "").strip()
        words = str(mark.get("value") or "").strip()
        if not entity and not words:
            continue
        if entity not in domain.entities:
            raise BadRequest(f"{entity or '(none)'} is not an entity of the domain")
        start = folded.find(words.casefold()) if words else -1
        if start < 0:
            raise BadRequest(f"the words {words!r} marked as {entity} are not in the message")
        found.append(dict(entity=entity, value=text[start : start + len(words)], start=start, end=start + len(words)))
    found.sort(key=lambda e: e["start"])
    for before, after in zip(found, found[1:]):
        if after["start"] < before["end"]:
            raise BadRequest("two marked entities overlap")
    return found


def correct(
    db: ReviewDB,
    account: Account,
    key: str,
    intent: Optional[str],
    domain: Domain,
    marks: Sequence[Dict[str, str]] = (),
) -> int:
    """Labels every message of the group (intent None: not a training example);
    returns how many. Who and when are recorded."""
    if not account.may_correct:
        raise Forbidden()
    if intent is not None and intent not in domain.intents:
        raise BadRequest(f"{intent or '(none)'} is not an intent of the domain")
    now = time.time()
    with db.begin() as conn:
        rows = _rows(conn, account, corrected=False, key=key)
        if not rows:
            raise NotFound()
        values = []
        for row in rows:
            text = " ".join(row.text.split())[:MAX_TEXT]
            entities = entities_in(text, marks, domain) if intent else []
            values.append(
                dict(
                    sender_id=row.sender_id,
                    event_id=row.event_id,
                    key=key,
                    text=text,
                    intent=intent,
                    entities=json.dumps(entities),
                    corrected_by=account.username,
                    corrected_at=now,
                )
            )
        conn.execute(insert(Correction), values)
    return len(values)


def _corrected_of(conn: Any, account: Account, key: str) -> List[Any]:
    rows = conn.execute(
        select(Correction.sender_id, Correction.event_id)
        .join(Conversation, Conversation.sender_id == Correction.sender_id)
        .where(Correction.key == key, visible(account))
    ).all()
    if not rows:
        raise NotFound()
    return rows


def undo(db: ReviewDB, account: Account, key: str) -> int:
    """The group's corrections withdrawn: its messages are back in the inbox."""
    if not account.may_correct:
        raise Forbidden()
    with db.begin() as conn:
        rows = _corrected_of(conn, account, key)
        for row in rows:
            conn.execute(
                delete(Correction).where(Correction.sender_id == row.sender_id, Correction.event_id == row.event_id)
            )
    return len(rows)


def edit_text(db: ReviewDB, account: Account, key: str, text: str, domain: Domain) -> None:
    """A correction's text changed before export (a name or a number taken out);
    its entities must still be in it."""
    if not account.may_correct:
        raise Forbidden()
    text = " ".join((text or "").split())
    if not text:
        raise BadRequest("the text cannot be empty")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"the text has at most {MAX_TEXT} characters")
    with db.begin() as conn:
        rows = _corrected_of(conn, account, key)
        for row in rows:
            current = conn.execute(
                select(Correction.entities).where(
                    Correction.sender_id == row.sender_id, Correction.event_id == row.event_id
                )
            ).scalar()
            marks = [dict(entity=e["entity"], value=e["value"]) for e in json.loads(current or "[]")]
            entities = entities_in(text, marks, domain)
            conn.execute(
                update(Correction)
                .where(Correction.sender_id == row.sender_id, Correction.event_id == row.event_id)
                .values(
                    text=text, entities=json.dumps(entities), corrected_by=account.username, corrected_at=time.time()
                )
            )


def training_examples(db: ReviewDB) -> List[Example]:
    """The corrections to export: labelled ones (not "not a training example") of
    founders still in the read model, so never a deleted founder's words."""
    with db.read() as conn:
        rows = conn.execute(
            select(Correction.text, Correction.intent, Correction.entities)
            .join(Conversation, Conversation.sender_id == Correction.sender_id)
            .where(Correction.intent.isnot(None))
        ).all()
    # One example per text (normalised) and intent: the group's spellings add nothing;
    # the one with the most entities marked is kept.
    examples: Dict[Tuple[str, str], Example] = {}
    for text, intent, entities in sorted(rows):
        spans = tuple(
            (int(e["start"]), int(e["end"]), str(e["entity"]), str(e["value"])) for e in json.loads(entities or "[]")
        )
        example = Example(text, intent, spans)
        kept = examples.get((normalise(text), intent))
        if kept is None or len(spans) > len(kept.entities):
            examples[(normalise(text), intent)] = example
    return sorted(examples.values(), key=lambda e: (e.intent, e.text.casefold(), e.text))


def corrections_of(db: ReviewDB, sender_id: str) -> Dict[int, Tuple[Optional[str], List[Dict[str, Any]]]]:
    """event id -> (the corrected intent or None for "not a training example", its entities), for one conversation."""
    with db.read() as conn:
        rows = conn.execute(
            select(Correction.event_id, Correction.intent, Correction.entities).where(Correction.sender_id == sender_id)
        ).all()
    return {event_id: (intent, json.loads(entities or "[]")) for event_id, intent, entities in rows}
