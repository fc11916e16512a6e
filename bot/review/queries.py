"""What the dashboard asks of the read model: the conversation list (filters,
keyset paging), search, a cohort's charts, and what coordinators record.

Every function takes the signed-in Account and shows only its cohorts: a
conversation of another cohort is NotFound, exactly like one that does not exist.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlencode

from markupsafe import Markup, escape
from sqlalchemy import Integer, and_, cast, delete, func, insert, or_, select, tuple_, update
from sqlalchemy import text as sql_text
from sqlalchemy.sql import Select

from bot.coach.knowledge import load_knowledge
from bot.review.auth import Account, clean_cohorts
from bot.review.db import ReviewDB
from bot.review.models import CohortMove, Conversation, Flag, Message, Note, Review, Tag
from bot.review.read_model import LOW_CONFIDENCE

PAGE_SIZE = 50
SEARCH_LIMIT = 50
TAG = re.compile(r"^[\w -]{1,40}$")
MAX_NOTE = 5000
REACHED = {
    "segment": Conversation.segments >= 1,
    "recommended": Conversation.recommended.is_(True),
    "saved": Conversation.saved.is_(True),
}
TURN_BUCKETS = [(0, 10), (11, 20), (21, 30), (31, 50), (51, None)]
MINUTE_BUCKETS = [(0, 5), (5, 15), (15, 30), (30, 60), (60, None)]


class NotFound(Exception):
    """No such conversation, or not one of the user's cohorts: the same answer."""


class BadRequest(ValueError):
    """A filter, tag or note that cannot be used; the message says why."""


def question_label(value: Optional[str]) -> str:
    """What the coach waited for (a question's slot or a stage), in a coordinator's
    words, as bot/knowledge/interview.yml labels it."""
    return load_knowledge().interview.label(value)


def waiting_places() -> List[str]:
    """Where a conversation can wait, in the order a founder gets there: the first
    stage, the venture's questions, the next stage, the segment's questions, the rest."""
    interview = load_knowledge().interview
    stages = list(interview.stages)
    return [*stages[:1], *interview.venture, *stages[1:2], *interview.segment, *stages[2:]]


# --- filters -----------------------------------------------------------------------

FILTER_FIELDS = (
    "cohort",
    "channel",
    "founder",
    "started_from",
    "started_to",
    "active_from",
    "active_to",
    "turns_min",
    "turns_max",
    "stage",
    "saved",
    "fallbacks_min",
    "tag",
    "reviewed",
    "reached",
    "stopped_at",
    "chose",
    "save_turns_min",
    "save_turns_max",
    "save_minutes_min",
    "save_minutes_max",
)


@dataclass
class Filters:
    values: Dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> "Filters":
        values = {}
        for name in FILTER_FIELDS:
            value = args.get(name)
            if isinstance(value, list):
                value = value[0] if value else None
            if value is not None and str(value).strip():
                values[name] = str(value).strip()[:200]
        return cls(values)

    def get(self, name: str) -> Optional[str]:
        return self.values.get(name)

    def query_string(self, **extra: str) -> str:
        return urlencode({**self.values, **{k: v for k, v in extra.items() if v}})


def _number(filters: Filters, name: str) -> Optional[float]:
    value = filters.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None


def _day(filters: Filters, name: str, end: bool = False) -> Optional[float]:
    value = filters.get(name)
    if value is None:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise BadRequest(f"{name} must be a date like 2025-03-31") from None
    return day.timestamp() + (86400 if end else 0)


def visible(account: Account, cohort: Optional[str] = None) -> Any:
    """The condition for conversations the account may see (of `cohort`, if given)."""
    if cohort is not None and not account.may_see(cohort):
        raise NotFound()
    if cohort is not None:
        return Conversation.cohort == cohort
    if account.is_admin:
        return True
    return Conversation.cohort.in_(sorted(account.cohorts))


def _conditions(account: Account, filters: Filters) -> List[Any]:
    f = filters
    conditions = [visible(account, f.get("cohort"))]
    if f.get("channel"):
        conditions.append(Conversation.channel == f.get("channel"))
    if f.get("founder"):
        needle = "%" + f.get("founder").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(Conversation.sender_id.like(needle, escape="\\"), Conversation.venture.like(needle, escape="\\"))
        )
    for name, column, end, compare in (
        ("started_from", Conversation.started_at, False, "ge"),
        ("started_to", Conversation.started_at, True, "lt"),
        ("active_from", Conversation.last_active_at, False, "ge"),
        ("active_to", Conversation.last_active_at, True, "lt"),
    ):
        moment = _day(f, name, end)
        if moment is not None:
            conditions.append(column >= moment if compare == "ge" else column < moment)
    for name, column, scale, compare in (
        ("turns_min", Conversation.turns, 1, "ge"),
        ("turns_max", Conversation.turns, 1, "le"),
        ("fallbacks_min", Conversation.fallbacks, 1, "ge"),
        ("save_turns_min", Conversation.saved_turns, 1, "ge"),
        ("save_turns_max", Conversation.saved_turns, 1, "le"),
        ("save_minutes_min", Conversation.saved_after_s, 60, "ge"),
        ("save_minutes_max", Conversation.saved_after_s, 60, "lt"),
    ):
        number = _number(f, name)
        if number is not None:
            conditions.append(
                column >= number * scale
                if compare == "ge"
                else (column <= number * scale if compare == "le" else column < number * scale)
            )
    if f.get("stage"):
        stage = f.get("stage")
        conditions.append(
            or_(Conversation.stage.is_(None), Conversation.stage == stage)
            if stage == "intro"
            else Conversation.stage == stage
        )
    if f.get("saved") in ("yes", "no"):
        conditions.append(Conversation.saved.is_(f.get("saved") == "yes"))
    if f.get("reached"):
        if f.get("reached") not in REACHED:
            raise BadRequest("reached is one of " + ", ".join(REACHED))
        conditions.append(REACHED[f.get("reached")])
    if f.get("stopped_at"):
        stopped = f.get("stopped_at")
        conditions.append(
            Conversation.last_question.is_(None) if stopped == "intro" else Conversation.last_question == stopped
        )
    if f.get("chose"):
        chose = f.get("chose")
        pattern = f"% {chose} %" if ":" in chose else f"%:{chose} %"
        conditions.append(Conversation.choices.like(pattern))
    if f.get("tag"):
        conditions.append(Conversation.sender_id.in_(select(Tag.sender_id).where(Tag.tag == f.get("tag"))))
    if f.get("reviewed") in ("yes", "no"):
        reviewed = Conversation.sender_id.in_(select(Review.sender_id))
        conditions.append(reviewed if f.get("reviewed") == "yes" else ~reviewed)
    return conditions


# --- the list ----------------------------------------------------------------------


def encode_cursor(last_active_at: float, sender_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([last_active_at, sender_id]).encode()).decode()


def decode_cursor(cursor: str) -> Tuple[float, str]:
    try:
        last_active_at, sender_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return float(last_active_at), str(sender_id)
    except (ValueError, TypeError):
        raise BadRequest("that page link is damaged; start from the first page") from None


def filtered(account: Account, filters: Filters) -> Select:
    return select(Conversation).where(and_(*_conditions(account, filters)))


def conversation_page(
    db: ReviewDB, account: Account, filters: Filters, after: Optional[str] = None, size: int = PAGE_SIZE
) -> Tuple[List[Dict[str, Any]], Optional[str]]:
    """One page of the list, newest activity first; and the cursor of the next page (None at the end)."""
    query = filtered(account, filters)
    if after:
        moment, sender = decode_cursor(after)
        query = query.where(tuple_(Conversation.last_active_at, Conversation.sender_id) < tuple_(moment, sender))
    query = query.order_by(Conversation.last_active_at.desc(), Conversation.sender_id.desc()).limit(size + 1)
    with db.read() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query.with_only_columns(*Conversation.__table__.c))]
        more = len(rows) > size
        rows = rows[:size]
        _add_review_marks(conn, rows)
    cursor = encode_cursor(rows[-1]["last_active_at"], rows[-1]["sender_id"]) if more else None
    return rows, cursor


def all_conversations(db: ReviewDB, account: Account, filters: Filters) -> List[Dict[str, Any]]:
    """Every conversation of the filter (for exports), newest first."""
    query = filtered(account, filters).order_by(Conversation.last_active_at.desc(), Conversation.sender_id.desc())
    with db.read() as conn:
        rows = [dict(row._mapping) for row in conn.execute(query.with_only_columns(*Conversation.__table__.c))]
        _add_review_marks(conn, rows)
    return rows


def _add_review_marks(conn: Any, rows: List[Dict[str, Any]]) -> None:
    senders = [row["sender_id"] for row in rows]
    tags: Dict[str, List[str]] = {}
    reviewed: Dict[str, Tuple[str, float]] = {}
    for start in range(0, len(senders), 500):
        chunk = senders[start : start + 500]
        for sender, tag in conn.execute(
            select(Tag.sender_id, Tag.tag).where(Tag.sender_id.in_(chunk)).order_by(Tag.tag)
        ):
            tags.setdefault(sender, []).append(tag)
        for sender, by, at in conn.execute(
            select(Review.sender_id, Review.reviewed_by, Review.reviewed_at).where(Review.sender_id.in_(chunk))
        ):
            reviewed[sender] = (by, at)
    for row in rows:
        row["tags"] = tags.get(row["sender_id"], [])
        row["reviewed"] = reviewed.get(row["sender_id"])


def cohorts_and_channels(db: ReviewDB, account: Account) -> Tuple[List[str], List[str]]:
    """The cohorts and channels the account's filters can offer."""
    with db.read() as conn:
        cohorts = (
            conn.execute(select(Conversation.cohort).where(visible(account)).distinct().order_by(Conversation.cohort))
            .scalars()
            .all()
        )
        channels = (
            conn.execute(select(Conversation.channel).where(visible(account)).distinct().order_by(Conversation.channel))
            .scalars()
            .all()
        )
    mine = sorted(set(cohorts) | (set() if account.is_admin else set(account.cohorts)))
    return mine, [c for c in channels if c]


def conversation(db: ReviewDB, account: Account, sender_id: str) -> Dict[str, Any]:
    """One conversation's summary with its tags, flags, notes and review mark; NotFound if not visible."""
    with db.read() as conn:
        row = conn.execute(select(Conversation.__table__).where(Conversation.sender_id == sender_id)).first()
        if row is None or not account.may_see(row.cohort):
            raise NotFound()
        result = dict(row._mapping)
        _add_review_marks(conn, [result])
        result["flags"] = set(conn.execute(select(Flag.event_id).where(Flag.sender_id == sender_id)).scalars())
        result["notes"] = [
            dict(n._mapping)
            for n in conn.execute(
                select(Note.author, Note.text, Note.created_at).where(Note.sender_id == sender_id).order_by(Note.id)
            )
        ]
        result["cohort_moves"] = [
            dict(m._mapping)
            for m in conn.execute(
                select(CohortMove.from_cohort, CohortMove.to_cohort, CohortMove.moved_by, CohortMove.moved_at)
                .where(CohortMove.sender_id == sender_id)
                .order_by(CohortMove.id)
            )
        ]
    return result


def move_cohort(db: ReviewDB, account: Account, sender_id: str, cohort: str) -> Dict[str, Any]:
    """An admin moves a conversation to another cohort: recorded (who, when, from, to),
    and the list shows it there at once. A conversation's cohort is otherwise the one of
    its first message (bot/plugins/channels/cohorts.py). Returns the summary before the move."""
    if not account.is_admin:
        raise NotFound()
    codes = clean_cohorts([cohort])
    if len(codes) != 1:
        raise BadRequest("name one cohort to move the conversation to")
    summary = conversation(db, account, sender_id)
    with db.begin() as conn:
        conn.execute(
            insert(CohortMove).values(
                sender_id=sender_id,
                from_cohort=summary["cohort"] or "",
                to_cohort=codes[0],
                moved_by=account.username,
                moved_at=time.time(),
            )
        )
        conn.execute(update(Conversation).where(Conversation.sender_id == sender_id).values(cohort=codes[0]))
    return summary


# --- search ------------------------------------------------------------------------


def fts_query(text: str) -> str:
    """A founder's words as an FTS5 query: every word must occur (quoted, so
    FTS5's own syntax in the input is just text)."""
    words = re.findall(r"\w+", text or "")[:20]
    return " ".join(f'"{w}"' for w in words)


def highlight(snippet: str) -> Markup:
    """A snippet with \\x02..\\x03 around the hits, HTML-escaped, hits in <mark>."""
    return Markup(str(escape(snippet)).replace("\x02", "<mark>").replace("\x03", "</mark>"))


def search(
    db: ReviewDB, account: Account, text: str, cohort: Optional[str] = None, limit: int = SEARCH_LIMIT
) -> List[Dict[str, Any]]:
    """Messages matching every word of `text`, newest first, with highlighted snippets."""
    visible(account, cohort)  # NotFound for another cohort
    query = fts_query(text)
    if not query:
        return []
    where, params = _cohort_sql(account, cohort)
    if db.sqlite:
        sql = (
            "SELECT m.sender_id, m.event_id, m.speaker, m.timestamp, c.cohort, c.venture, "
            "snippet(messages_fts, 0, char(2), char(3), '…', 16) FROM messages_fts "
            "JOIN rm_messages m ON m.id = messages_fts.rowid JOIN rm_conversations c ON c.sender_id = m.sender_id "
            f"WHERE messages_fts MATCH :q {where} ORDER BY messages_fts.rowid DESC LIMIT :limit"
        )
        params.update(q=query, limit=limit)
    else:  # PostgreSQL's text search over the same copy of the text (its snippets leave out HTML-like tags)
        sql = (
            "SELECT m.sender_id, m.event_id, m.speaker, m.timestamp, c.cohort, c.venture, "
            "ts_headline('simple', m.text, plainto_tsquery('simple', :q), "
            "'StartSel=\x02, StopSel=\x03, MaxFragments=1, MaxWords=16') FROM rm_messages m "
            "JOIN rm_conversations c ON c.sender_id = m.sender_id "
            "WHERE to_tsvector('simple', m.text) @@ plainto_tsquery('simple', :q) "
            f"{where} ORDER BY m.id DESC LIMIT :limit"
        )
        params.update(q=" ".join(re.findall(r"\w+", text)), limit=limit)
    with db.read() as conn:
        rows = conn.execute(sql_text(sql), params).all()
    return [
        dict(
            sender_id=r[0],
            event_id=r[1],
            speaker=r[2],
            timestamp=r[3],
            cohort=r[4],
            venture=r[5],
            snippet=highlight(r[6] or ""),
        )
        for r in rows
    ]


def _cohort_sql(account: Account, cohort: Optional[str]) -> Tuple[str, Dict[str, Any]]:
    if cohort is not None:
        return "AND c.cohort = :cohort", {"cohort": cohort}
    if account.is_admin:
        return "", {}
    names = sorted(account.cohorts)
    params = {f"c{i}": name for i, name in enumerate(names)}
    if not names:
        return "AND 1 = 0", {}
    return "AND c.cohort IN (" + ", ".join(f":c{i}" for i in range(len(names))) + ")", params


# --- charts ------------------------------------------------------------------------


def charts(db: ReviewDB, account: Account, cohort: str) -> Dict[str, Any]:
    """A cohort's charts: each bar with the list (or search) it opens."""
    condition = visible(account, cohort)
    with db.read() as conn:
        c = Conversation
        funnel_row = conn.execute(
            select(
                func.count(),
                func.sum(cast(c.segments >= 1, Integer)),
                func.sum(cast(c.recommended, Integer)),
                func.sum(cast(c.saved, Integer)),
            ).where(condition)
        ).one()
        stopped = conn.execute(
            select(c.last_question, func.count())
            .where(condition, c.saved.is_(False))
            .group_by(c.last_question)
            .order_by(func.count().desc(), c.last_question)
        ).all()
        choices = conn.execute(select(c.choices).where(condition, c.saved.is_(True))).scalars().all()
        saved = conn.execute(select(c.saved_turns, c.saved_after_s).where(condition, c.saved.is_(True))).all()
        trouble = conn.execute(
            select(func.lower(Message.text), func.count())
            .join(c, c.sender_id == Message.sender_id)
            .where(
                condition,
                Message.speaker == "founder",
                or_(Message.intent == "nlu_fallback", Message.confidence < LOW_CONFIDENCE),
            )
            .group_by(func.lower(Message.text))
            .order_by(func.count().desc(), func.lower(Message.text))
            .limit(10)
        ).all()

    base = {"cohort": cohort}
    funnel_steps = [
        ("Started", None),
        ("Described a segment", "segment"),
        ("Saw recommendations", "recommended"),
        ("Saved a block", "saved"),
    ]
    funnel = [
        dict(label=label, value=int(value or 0), filters=dict(base, reached=reached) if reached else base)
        for (label, reached), value in zip(funnel_steps, funnel_row)
    ]
    stopped_bars = [
        dict(label=question_label(q), value=n, filters=dict(base, saved="no", stopped_at=q or "intro"))
        for q, n in stopped
    ]
    kinds: Dict[str, Counter] = {}
    for words in choices:
        for word in (words or "").split():
            kind, _, type_id = word.partition(":")
            kinds.setdefault(kind, Counter())[type_id] += 1
    types = sorted({t for counter in kinds.values() for t in counter})
    type_chart = dict(
        kinds=sorted(kinds),
        series=[
            dict(
                type_id=t,
                label=t.replace("_", " ").capitalize(),
                values=[kinds[k].get(t, 0) for k in sorted(kinds)],
                filters=[dict(base, chose=f"{k}:{t}") for k in sorted(kinds)],
            )
            for t in types
        ],
    )
    turn_bars = [
        dict(
            label=_bucket_label(lo, hi, "turns"),
            value=sum(1 for t, _ in saved if _inside(t, lo, hi)),
            filters=dict(base, saved="yes", save_turns_min=str(lo), **({"save_turns_max": str(hi)} if hi else {})),
        )
        for lo, hi in TURN_BUCKETS
    ]
    minute_bars = [
        dict(
            label=_bucket_label(lo, hi, "min"),
            value=sum(1 for _, s in saved if s is not None and lo * 60 <= s and (hi is None or s < hi * 60)),
            filters=dict(base, saved="yes", save_minutes_min=str(lo), **({"save_minutes_max": str(hi)} if hi else {})),
        )
        for lo, hi in MINUTE_BUCKETS
    ]
    trouble_bars = [dict(label=text[:60], value=n, search=dict(q=text[:200], cohort=cohort)) for text, n in trouble]
    return dict(
        funnel=funnel,
        stopped=stopped_bars,
        types=type_chart,
        turns=turn_bars,
        minutes=minute_bars,
        trouble=trouble_bars,
    )


def _inside(value: Optional[int], lo: int, hi: Optional[int]) -> bool:
    return value is not None and value >= lo and (hi is None or value <= hi)


def _bucket_label(lo: int, hi: Optional[int], unit: str) -> str:
    return f"{lo}+ {unit}" if hi is None else f"{lo}–{hi} {unit}"


# --- what coordinators record ---------------------------------------------------------


def set_reviewed(db: ReviewDB, account: Account, sender_id: str, reviewed: bool) -> None:
    conversation(db, account, sender_id)
    with db.begin() as conn:
        conn.execute(delete(Review).where(Review.sender_id == sender_id))
        if reviewed:
            conn.execute(
                insert(Review).values(sender_id=sender_id, reviewed_by=account.username, reviewed_at=time.time())
            )


def set_flag(db: ReviewDB, account: Account, sender_id: str, event_id: int, flagged: bool) -> None:
    conversation(db, account, sender_id)
    with db.begin() as conn:
        conn.execute(delete(Flag).where(Flag.sender_id == sender_id, Flag.event_id == event_id))
        if flagged:
            conn.execute(
                insert(Flag).values(
                    sender_id=sender_id, event_id=event_id, flagged_by=account.username, flagged_at=time.time()
                )
            )


def clean_tag(tag: str) -> str:
    tag = " ".join((tag or "").split()).lower()
    if not TAG.match(tag):
        raise BadRequest("a tag is 1 to 40 letters, digits, spaces, _ or -")
    return tag


def add_tag(db: ReviewDB, account: Account, sender_id: str, tag: str) -> None:
    tag = clean_tag(tag)
    conversation(db, account, sender_id)
    with db.begin() as conn:
        if conn.execute(select(Tag.tag).where(Tag.sender_id == sender_id, Tag.tag == tag)).first() is None:
            conn.execute(
                insert(Tag).values(sender_id=sender_id, tag=tag, added_by=account.username, added_at=time.time())
            )


def remove_tag(db: ReviewDB, account: Account, sender_id: str, tag: str) -> None:
    conversation(db, account, sender_id)
    with db.begin() as conn:
        conn.execute(delete(Tag).where(Tag.sender_id == sender_id, Tag.tag == (tag or "").strip().lower()))


def add_note(db: ReviewDB, account: Account, sender_id: str, text: str) -> None:
    text = (text or "").strip()
    if not text:
        raise BadRequest("a note needs some text")
    if len(text) > MAX_NOTE:
        raise BadRequest(f"a note has at most {MAX_NOTE} characters")
    conversation(db, account, sender_id)
    with db.begin() as conn:
        conn.execute(
            insert(Note).values(sender_id=sender_id, author=account.username, text=text, created_at=time.time())
        )


def tag_names(db: ReviewDB, account: Account) -> List[str]:
    with db.read() as conn:
        return (
            conn.execute(
                select(Tag.tag)
                .join(Conversation, Conversation.sender_id == Tag.sender_id)
                .where(visible(account))
                .distinct()
                .order_by(Tag.tag)
            )
            .scalars()
            .all()
        )
