"""The canvas store's tables.

Schema changes go through an Alembic migration in ``migrations/versions/``;
``tests/test_migrations.py`` fails when these models and the migrations differ.

Timestamps are naive UTC (SQLite keeps no time zone); the store hands them
out as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

# Named constraints: Alembic's batch mode (SQLite) can only drop or alter a
# constraint it can name, and names keep migrations identical across backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Base = declarative_base(metadata=MetaData(naming_convention=NAMING_CONVENTION))


def utcnow() -> datetime:
    return datetime.utcnow()


class Founder(Base):
    __tablename__ = "founders"

    id = Column(Integer, primary_key=True)
    channel = Column(String(64), nullable=False)
    sender_id = Column(String(255), nullable=False)
    cohort = Column(String(64), nullable=True, index=True)  # programme code, for the review dashboard
    created_at = Column(DateTime, nullable=False, default=utcnow)

    # The database cascades deletes (ON DELETE CASCADE); passive_deletes stops
    # the ORM from loading every child row just to delete it.
    ventures = relationship("Venture", back_populates="founder", cascade="all, delete-orphan", passive_deletes=True)

    __table_args__ = (UniqueConstraint("channel", "sender_id", name="uq_founders_channel_sender"),)


class Venture(Base):
    __tablename__ = "ventures"

    id = Column(Integer, primary_key=True)
    founder_id = Column(Integer, ForeignKey("founders.id", ondelete="CASCADE"), nullable=False)
    name = Column(Text, nullable=False)
    offer = Column(Text, nullable=True)  # the offer as last saved; each version keeps its own copy
    created_at = Column(DateTime, nullable=False, default=utcnow)

    founder = relationship("Founder", back_populates="ventures")
    versions = relationship(
        "BlockVersion",
        back_populates="venture",
        order_by="BlockVersion.version",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    # A block names its venture; the name is how a save finds the venture again.
    __table_args__ = (UniqueConstraint("founder_id", "name", name="uq_ventures_founder_name"),)


class BlockVersion(Base):
    """One saved Customer Relationships block. Final versions are never changed."""

    __tablename__ = "block_versions"

    id = Column(Integer, primary_key=True)
    venture_id = Column(Integer, ForeignKey("ventures.id", ondelete="CASCADE"), nullable=False)
    version = Column(Integer, nullable=False)
    status = Column(String(16), nullable=False)
    # The offer as it read when this version was saved, so an old version
    # still reads the same after the founder rewords the offer.
    offer = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    venture = relationship("Venture", back_populates="versions")
    segments = relationship(
        "SegmentRow",
        back_populates="block_version",
        order_by="SegmentRow.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )

    __table_args__ = (
        UniqueConstraint("venture_id", "version", name="uq_block_versions_venture_version"),
        CheckConstraint("status IN ('draft', 'final')", name="status"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class SegmentRow(Base):
    """A segment of one block version: the SegmentProfile answers as columns.

    The closed answers (market, goal, ...) get no CHECK constraint: SegmentProfile
    validates them, and a new answer there should not need a migration here.
    """

    __tablename__ = "segments"

    id = Column(Integer, primary_key=True)
    version_id = Column(Integer, ForeignKey("block_versions.id", ondelete="CASCADE"), nullable=False)
    position = Column(Integer, nullable=False)
    name = Column(Text, nullable=True)
    needs = Column(Text, nullable=True)
    market = Column(String(32), nullable=True)
    customer_count = Column(BigInteger, nullable=True)  # consumer segments can pass 2**31
    value_per_customer = Column(Float, nullable=True)
    purchase_frequency = Column(String(32), nullable=True)
    expertise_needed = Column(String(32), nullable=True)
    personal_touch = Column(String(32), nullable=True)
    price_position = Column(String(32), nullable=True)
    members_help_each_other = Column(Boolean, nullable=True)
    contributes_ideas = Column(Boolean, nullable=True)
    goal = Column(String(32), nullable=True)
    # Touchpoints are a JSON list of ids rather than a child table: they are an
    # ordered list always read and written whole with their segment, never
    # queried on their own, and a version is immutable -- a table would add a
    # join and a position column and buy nothing.
    touchpoints = Column(JSON, nullable=False, default=list)

    block_version = relationship("BlockVersion", back_populates="segments")
    choices = relationship(
        "ChoiceRow",
        back_populates="segment",
        order_by="ChoiceRow.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )

    __table_args__ = (
        UniqueConstraint("version_id", "position", name="uq_segments_version_position"),
        CheckConstraint("customer_count IS NULL OR customer_count >= 0", name="customer_count_not_negative"),
        CheckConstraint("value_per_customer IS NULL OR value_per_customer >= 0", name="value_not_negative"),
    )


class ChoiceRow(Base):
    """A relationship type chosen for a segment, with the reasons shown at the time."""

    __tablename__ = "relationship_choices"

    id = Column(Integer, primary_key=True)
    segment_id = Column(Integer, ForeignKey("segments.id", ondelete="CASCADE"), nullable=False)
    position = Column(Integer, nullable=False)
    type_id = Column(String(100), nullable=False)
    name = Column(Text, nullable=False)
    reasons = Column(JSON, nullable=False, default=list)  # list of strings, in order
    origin = Column(String(16), nullable=False)  # accepted | edited | added (validated by RelationshipChoice)
    score = Column(Float, nullable=True)

    segment = relationship("SegmentRow", back_populates="choices")

    __table_args__ = (UniqueConstraint("segment_id", "position", name="uq_relationship_choices_segment_position"),)
