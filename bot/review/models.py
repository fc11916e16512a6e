"""The review dashboard's tables, in their own database (REVIEW_DB_URL,
default bot.review.db.DEFAULT_URL), migrated by Alembic (migrations/).

Two kinds of table:
- the dashboard's own data: users, their cohorts, sessions, failed sign-ins,
  and what coordinators record (reviewed, tags, flags, notes). Never in Rasa's events.
- the read model of Rasa's tracker store: one summary row per conversation and
  a copy of every message's text for search (plus, on SQLite, the FTS5 index
  messages_fts, created by the migration: SQLAlchemy has no model for it).
  It can be thrown away and rebuilt from the tracker (`python -m bot review rebuild`).

Times are seconds since the epoch (float), as Rasa's events carry them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base

from bot.coach.store.models import NAMING_CONVENTION  # the same constraint names as the canvas store's

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))
ROLES = ("admin", "coordinator", "mentor")


# --- users and sessions -------------------------------------------------------


class User(Base):
    __tablename__ = "review_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)  # kept lower-case
    password_hash = Column(String(255), nullable=False)  # Argon2id, never the password
    role = Column(String(16), nullable=False)
    created_at = Column(Float, nullable=False)
    # A mentor's Slack user id (U...): the Slack app's /canvas and App Home take
    # mentors from here (bot/review/mentors.py). Unique: one dashboard user per Slack user.
    slack_user_id = Column(String(32), nullable=True, unique=True, index=True)

    __table_args__ = (CheckConstraint("role IN ('admin', 'coordinator', 'mentor')", name="role"),)


class UserCohort(Base):
    __tablename__ = "review_user_cohorts"

    user_id = Column(Integer, ForeignKey("review_users.id", ondelete="CASCADE"), primary_key=True)
    cohort = Column(String(64), primary_key=True)


class LoginSession(Base):
    """A signed-in browser. The cookie carries a random token (signed); only its
    SHA-256 is stored, so a copy of this table signs nobody in. Logging out
    deletes the row, so a kept copy of the cookie is dead."""

    __tablename__ = "review_sessions"

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("review_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(Float, nullable=False)
    expires_at = Column(Float, nullable=False)


class FailedLogin(Base):
    """Failed sign-ins of the last minutes, per user name and per address (rate limit)."""

    __tablename__ = "review_failed_logins"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, index=True)
    address = Column(String(64), nullable=False, index=True)
    at = Column(Float, nullable=False, index=True)


class RevokedSlackMentor(Base):
    """A Slack user id that was a dashboard mentor's and no longer is (cleared, given to
    nobody, or the user removed): the dashboard's answer for it stays "no access", so a
    SLACK_MENTORS grant for it does not come back (bot/review/mentors.py)."""

    __tablename__ = "review_revoked_slack_mentors"

    slack_user_id = Column(String(32), primary_key=True)
    revoked_at = Column(Float, nullable=False)


# --- what coordinators record ---------------------------------------------------


class CohortMove(Base):
    """An admin moved a conversation to another cohort (its cohort is otherwise fixed at
    its first message): who, when, from and to. The newest move is the conversation's cohort."""

    __tablename__ = "review_cohort_moves"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    from_cohort = Column(String(64), nullable=False)
    to_cohort = Column(String(64), nullable=False)
    moved_by = Column(String(64), nullable=False)
    moved_at = Column(Float, nullable=False)


class Review(Base):
    __tablename__ = "review_marks"

    sender_id = Column(String(255), primary_key=True)
    reviewed_by = Column(String(64), nullable=False)
    reviewed_at = Column(Float, nullable=False)


class Tag(Base):
    __tablename__ = "review_tags"

    sender_id = Column(String(255), primary_key=True)
    tag = Column(String(40), primary_key=True)
    added_by = Column(String(64), nullable=False)
    added_at = Column(Float, nullable=False)

    __table_args__ = (Index("ix_review_tags_tag", "tag"),)


class Flag(Base):
    """A founder message flagged by a coordinator (by the tracker event's id)."""

    __tablename__ = "review_flags"

    sender_id = Column(String(255), primary_key=True)
    event_id = Column(Integer, primary_key=True)
    flagged_by = Column(String(64), nullable=False)
    flagged_at = Column(Float, nullable=False)


class Note(Base):
    __tablename__ = "review_notes"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    author = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(Float, nullable=False)


# --- the read model -------------------------------------------------------------


class Conversation(Base):
    """One founder's conversation (since their last restart), summarised from the tracker."""

    __tablename__ = "rm_conversations"

    sender_id = Column(String(255), primary_key=True)
    cohort = Column(String(64), nullable=False, default="")  # "" when none was sent
    channel = Column(String(64), nullable=False, default="")
    venture = Column(Text, nullable=True)
    started_at = Column(Float, nullable=False)
    last_active_at = Column(Float, nullable=False)
    turns = Column(Integer, nullable=False)  # founder messages
    stage = Column(String(32), nullable=True)  # the `stage` slot as last set
    last_question = Column(String(64), nullable=True)  # where the coach last waited (a slot or a stage)
    segments = Column(Integer, nullable=False, default=0)  # segments described
    recommended = Column(Boolean, nullable=False, default=False)  # recommendations shown
    saved = Column(Boolean, nullable=False, default=False)  # a block was saved
    saved_turns = Column(Integer, nullable=True)  # founder messages up to the first save
    saved_after_s = Column(Float, nullable=True)  # seconds from start to the first save
    fallbacks = Column(Integer, nullable=False, default=0)
    low_confidence = Column(Integer, nullable=False, default=0)
    # The saved segments' kinds and chosen types, space-separated "kind:type_id"
    # words (e.g. " b2b-few:advisory "), for the types chart and its filter.
    choices = Column(Text, nullable=False, default="")
    first_event_id = Column(Integer, nullable=False)  # after the last restart
    last_event_id = Column(Integer, nullable=False)

    __table_args__ = (
        Index("ix_rm_conversations_cohort_active", "cohort", "last_active_at", "sender_id"),
        Index("ix_rm_conversations_active", "last_active_at", "sender_id"),
    )


class Message(Base):
    """What a founder or the coach said: the search index's own copy of the text.
    On SQLite, messages_fts (FTS5) holds the same text under rowid = id."""

    __tablename__ = "rm_messages"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    event_id = Column(Integer, nullable=False)
    speaker = Column(String(8), nullable=False)  # founder | coach
    text = Column(Text, nullable=False)
    intent = Column(String(255), nullable=True)
    confidence = Column(Float, nullable=True)
    timestamp = Column(Float, nullable=False)


class ReadModelState(Base):
    """How far the read model has read the tracker (name -> number)."""

    __tablename__ = "rm_state"

    name = Column(String(32), primary_key=True)
    value = Column(Float, nullable=False)
