"""CanvasStore: founders' Customer Relationships blocks, versioned, in SQL.

Every public method is one short transaction: a save either lands whole or not
at all. Database trouble comes out as StoreUnavailable (locked, unreachable:
worth a retry) or StoreError (anything else), never as a SQLAlchemy exception.

Versions are numbered per venture. Finals are 1..n and never change; a venture
has at most one draft, numbered as the next final would be. Saving a draft
replaces that draft; saving a final consumes it.
"""

from __future__ import annotations

import dataclasses
import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional

from sqlalchemy import create_engine, delete, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.coach.canvas import CanvasBlock, RelationshipChoice, Segment
from bot.coach.profile import SegmentProfile
from bot.coach.store import migrate
from bot.coach.store.models import BlockVersion, ChoiceRow, Founder, SegmentRow, Venture, utcnow

DEFAULT_URL = "sqlite:///var/canvas.db"
# Every SegmentProfile field is a SegmentRow column of the same name.
PROFILE_FIELDS = [f.name for f in dataclasses.fields(SegmentProfile)]


def founder_channel(input_channel: Optional[str]) -> str:
    """The channel a founder is filed under: the channel of their latest message,
    "rest" when it came with none. The action server and the Rasa server's delete
    both find a founder this way."""
    return input_channel or "rest"


class StoreError(Exception):
    """The store could not do what was asked; nothing was half-written."""


class StoreUnavailable(StoreError):
    """The database is locked or unreachable; nothing was written, the caller may retry."""


class CanvasStore:
    def __init__(self, url: Optional[str] = None, *, busy_timeout_s: float = 5.0) -> None:
        """Open (and migrate to head) the store at `url`, else $CANVAS_DB_URL, else DEFAULT_URL.

        busy_timeout_s: how long SQLite waits for another writer's lock before
        the call gives up with StoreUnavailable.
        """
        url_obj = make_url((url or os.environ.get("CANVAS_DB_URL") or DEFAULT_URL).strip())
        self._sqlite = url_obj.get_backend_name() == "sqlite"
        # hide_parameters: no error message (and so no log) quotes a founder's answers.
        engine_args: Dict[str, Any] = {"future": True, "hide_parameters": True}
        if self._sqlite:
            database = url_obj.database or ""
            if database in ("", ":memory:"):
                # One shared connection, or every session would see its own empty database.
                engine_args.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                if not database.startswith("file:"):
                    # Pin a relative path to today's cwd, and create var/ on first use.
                    path = Path(database).expanduser().resolve()
                    path.parent.mkdir(parents=True, exist_ok=True)
                    url_obj = url_obj.set(database=str(path))
                engine_args["connect_args"] = {"timeout": busy_timeout_s}
        else:
            # A server database (PostgreSQL) may restart: a pooled connection is checked before
            # use, or the first use of each dead one fails (a founder's delete told "busy").
            engine_args["pool_pre_ping"] = True
        self.url = url_obj.render_as_string(hide_password=True)  # for logs and messages
        self.engine = create_engine(url_obj, **engine_args)
        writer = self.engine
        if self._sqlite:
            _tune_sqlite(self.engine)
            # Writes take SQLite's write lock up front (BEGIN IMMEDIATE): two
            # concurrent saves queue up instead of failing halfway.
            writer = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        self._reads = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)
        self._writes = sessionmaker(bind=writer, future=True, expire_on_commit=False)
        try:
            self._migrate(writer)
        except BaseException:
            self.engine.dispose()
            raise

    # --- lifecycle ------------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "CanvasStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _migrate(self, engine: Any) -> None:
        try:
            with engine.connect() as conn:
                if self._sqlite:
                    # Batch migrations copy a table and drop the old one; with
                    # foreign keys on, that drop would cascade-delete child rows.
                    # (The pragma only works outside a transaction.)
                    conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
                try:
                    with conn.begin():
                        migrate.upgrade(conn)
                        if self._sqlite:
                            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                            if broken:
                                raise StoreError(f"migration left rows with dangling foreign keys: {broken[:5]}")
                finally:
                    if self._sqlite:
                        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
        except SQLAlchemyError as exc:
            raise _translate(exc, "migrate") from exc

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        session = (self._writes if write else self._reads)()
        try:
            with session.begin():  # commits at the end, rolls back on any exception
                yield session
        except SQLAlchemyError as exc:
            raise _translate(exc, "save to" if write else "read") from exc
        finally:
            session.close()

    # --- writing --------------------------------------------------------------

    def save_block(self, channel: str, sender_id: str, block: CanvasBlock, cohort: Optional[str] = None) -> CanvasBlock:
        """Save `block` for the founder: a final becomes a new version, a draft replaces the draft.

        Returns a copy with version and created_at set. Creates the founder and
        venture as needed; records `cohort` on the founder when given.
        """
        with self._session(write=True) as session:
            founder = _get_or_add_founder(session, channel, sender_id)
            if _clean_cohort(cohort):  # no cohort given: keep the one on record
                founder.cohort = _clean_cohort(cohort)
            session.flush()
            venture = session.execute(
                select(Venture).where(Venture.founder_id == founder.id, Venture.name == block.venture_name)
            ).scalar_one_or_none()
            if venture is None:
                venture = Venture(founder=founder, name=block.venture_name)
                session.add(venture)
            venture.offer = block.venture_offer
            session.flush()

            # The draft's rows go (segments and choices by ON DELETE CASCADE);
            # whatever is saved now takes its number.
            session.execute(
                delete(BlockVersion)
                .where(BlockVersion.venture_id == venture.id, BlockVersion.status == "draft")
                .execution_options(synchronize_session=False)
            )
            last_final = session.execute(
                select(func.max(BlockVersion.version)).where(
                    BlockVersion.venture_id == venture.id, BlockVersion.status == "final"
                )
            ).scalar()
            row = BlockVersion(
                venture=venture,
                version=(last_final or 0) + 1,
                status=block.status,
                offer=block.venture_offer,
                created_at=utcnow(),
                segments=[_segment_row(position, segment) for position, segment in enumerate(block.segments)],
            )
            session.add(row)
            session.flush()
            return _block_from_row(row, venture)

    def set_cohort(self, channel: str, sender_id: str, cohort: str) -> None:
        """An admin's cohort move (the review dashboard): the founder's record gets the cohort,
        made now if they have saved nothing yet, so their next save keeps it."""
        with self._session(write=True) as session:
            founder = session.execute(
                select(Founder).where(Founder.channel == channel, Founder.sender_id == sender_id)
            ).scalar_one_or_none()
            if founder is None:
                session.add(Founder(channel=channel, sender_id=sender_id, cohort=_clean_cohort(cohort)))
            else:
                founder.cohort = _clean_cohort(cohort)

    def delete_founder(self, channel: str, sender_id: str) -> bool:
        """Remove the founder and everything theirs; True if there was such a founder."""
        with self._session(write=True) as session:
            # Ventures, versions, segments and choices go by ON DELETE CASCADE.
            result = session.execute(
                delete(Founder)
                .where(Founder.channel == channel, Founder.sender_id == sender_id)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount > 0

    # --- reading --------------------------------------------------------------

    def latest_block(
        self, channel: str, sender_id: str, status: Optional[str] = None, venture_name: Optional[str] = None
    ) -> Optional[CanvasBlock]:
        """The founder's most recently saved block (of any venture unless `venture_name`), optionally only
        'draft' or 'final' ones; None if there is none."""
        with self._session() as session:
            query = _founder_versions(channel, sender_id)
            if status is not None:
                query = query.where(BlockVersion.status == status)
            if venture_name is not None:
                query = query.where(Venture.name == venture_name)
            row = session.execute(query.order_by(BlockVersion.id.desc()).limit(1)).scalars().first()
            return _block_from_row(row) if row else None

    def block_versions(self, channel: str, sender_id: str, venture_name: Optional[str] = None) -> List[CanvasBlock]:
        """Every version of one venture, oldest first: `venture_name`, else the one saved to last."""
        with self._session() as session:
            venture_id = _venture_id(session, channel, sender_id, venture_name)
            if venture_id is None:
                return []
            rows = session.execute(
                select(BlockVersion).where(BlockVersion.venture_id == venture_id).order_by(BlockVersion.version)
            ).scalars()
            return [_block_from_row(row) for row in rows]

    def founder_blocks(self, channel: str, sender_id: str) -> List[CanvasBlock]:
        """Every saved version (drafts too) of every venture of one founder, oldest first:
        all the store holds about them, for their data export."""
        with self._session() as session:
            rows = session.execute(_founder_versions(channel, sender_id).order_by(BlockVersion.id)).scalars()
            return [_block_from_row(row) for row in rows]

    def founder_record(self, channel: str, sender_id: str) -> Optional[Dict[str, Any]]:
        """What the store keeps on the founder themselves (cohort, first seen), or None."""
        with self._session() as session:
            founder = session.execute(
                select(Founder).where(Founder.channel == channel, Founder.sender_id == sender_id)
            ).scalar_one_or_none()
            if founder is None:
                return None
            return {
                "channel": founder.channel,
                "sender_id": founder.sender_id,
                "cohort": founder.cohort,
                "created_at": _aware(founder.created_at).isoformat(),
            }

    def latest_blocks(self, sender_ids: Iterable[str], status: str = "final") -> Dict[str, CanvasBlock]:
        """sender_id -> the founder's most recently saved block of `status` (any
        channel, any venture), for the review dashboard's exports; senders without one are left out.
        Read with plain rows, not ORM objects: an export of thousands of blocks stays quick."""
        wanted = list(dict.fromkeys(sender_ids))
        result: Dict[str, CanvasBlock] = {}
        with self._session() as session:
            for start in range(0, len(wanted), 500):  # stay below the databases' bound-parameter limits
                newest = (
                    select(Founder.sender_id, func.max(BlockVersion.id).label("version_id"))
                    .join(Venture, Venture.founder_id == Founder.id)
                    .join(BlockVersion, BlockVersion.venture_id == Venture.id)
                    .where(Founder.sender_id.in_(wanted[start : start + 500]), BlockVersion.status == status)
                    .group_by(Founder.sender_id)
                    .subquery()
                )
                versions = session.execute(
                    select(
                        newest.c.sender_id,
                        BlockVersion.id,
                        BlockVersion.version,
                        BlockVersion.status,
                        BlockVersion.offer,
                        BlockVersion.created_at,
                        Venture.name,
                    )
                    .join(BlockVersion, BlockVersion.id == newest.c.version_id)
                    .join(Venture, Venture.id == BlockVersion.venture_id)
                ).all()
                version_ids = [v.id for v in versions]
                segments: Dict[int, List[Any]] = {}
                for row in session.execute(
                    select(SegmentRow.__table__)
                    .where(SegmentRow.version_id.in_(version_ids))
                    .order_by(SegmentRow.version_id, SegmentRow.position)
                ):
                    segments.setdefault(row.version_id, []).append(row)
                choices: Dict[int, List[Any]] = {}
                for row in session.execute(
                    select(ChoiceRow.__table__)
                    .join(SegmentRow, SegmentRow.id == ChoiceRow.segment_id)
                    .where(SegmentRow.version_id.in_(version_ids))
                    .order_by(ChoiceRow.segment_id, ChoiceRow.position)
                ):
                    choices.setdefault(row.segment_id, []).append(row)
                for v in versions:
                    result[v.sender_id] = _block(
                        v, v.name, [(seg, choices.get(seg.id, [])) for seg in segments.get(v.id, [])]
                    )
        return result

    def founders(self, cohort: Optional[str] = None) -> List[Dict[str, Any]]:
        """One dict per founder (of `cohort`, if given), most recently active first:
        channel, sender_id, cohort, created_at, updated_at, and their newest save's
        venture_name, latest_version, latest_status (None when they saved nothing)."""
        newest = (
            select(Venture.founder_id, func.max(BlockVersion.id).label("version_id"))
            .join(BlockVersion, BlockVersion.venture_id == Venture.id)
            .group_by(Venture.founder_id)
            .subquery()
        )
        query = (
            select(Founder, BlockVersion, Venture)
            .outerjoin(newest, newest.c.founder_id == Founder.id)
            .outerjoin(BlockVersion, BlockVersion.id == newest.c.version_id)
            .outerjoin(Venture, Venture.id == BlockVersion.venture_id)
        )
        if cohort is not None:
            query = query.where(Founder.cohort == _clean_cohort(cohort))
        with self._session() as session:
            result = []
            for founder, version, venture in session.execute(query):
                result.append(
                    {
                        "channel": founder.channel,
                        "sender_id": founder.sender_id,
                        "cohort": founder.cohort,
                        "created_at": _aware(founder.created_at),
                        "updated_at": _aware(version.created_at if version else founder.created_at),
                        "venture_name": venture.name if venture else None,
                        "latest_version": version.version if version else None,
                        "latest_status": version.status if version else None,
                    }
                )
        result.sort(key=lambda f: (f["updated_at"], f["channel"], f["sender_id"]), reverse=True)
        return result


# --- helpers ------------------------------------------------------------------


def _tune_sqlite(engine: Any) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the "begin" hook below): the
        # sqlite3 module's own BEGIN comes late and can't be made IMMEDIATE.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")  # SQLite ignores FOREIGN KEY clauses otherwise
        # A deleted founder's rows are overwritten on disk, not left in free pages.
        dbapi_connection.execute("PRAGMA secure_delete=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def _translate(exc: SQLAlchemyError, doing: str) -> StoreError:
    unavailable = isinstance(exc, (OperationalError, PoolTimeoutError)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )
    detail = getattr(exc, "orig", None) or exc
    if unavailable:
        return StoreUnavailable(f"the canvas database is unavailable, try again ({detail})")
    return StoreError(f"could not {doing} the canvas database ({detail})")


def _clean_cohort(cohort: Optional[str]) -> Optional[str]:
    return (cohort or "").strip() or None


def _aware(moment: Optional[datetime]) -> Optional[datetime]:
    """Stored naive UTC -> aware UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def _get_or_add_founder(session: Session, channel: str, sender_id: str) -> Founder:
    founder = session.execute(
        select(Founder).where(Founder.channel == channel, Founder.sender_id == sender_id)
    ).scalar_one_or_none()
    if founder is None:
        founder = Founder(channel=channel, sender_id=sender_id, created_at=utcnow())
        session.add(founder)
    return founder


def _founder_versions(channel: str, sender_id: str) -> Any:
    return (
        select(BlockVersion)
        .join(Venture, Venture.id == BlockVersion.venture_id)
        .join(Founder, Founder.id == Venture.founder_id)
        .where(Founder.channel == channel, Founder.sender_id == sender_id)
    )


def _venture_id(session: Session, channel: str, sender_id: str, venture_name: Optional[str]) -> Optional[int]:
    """The named venture's id, or that of the venture the founder saved to last."""
    query = _founder_versions(channel, sender_id).with_only_columns(BlockVersion.venture_id)
    if venture_name is not None:
        query = query.where(Venture.name == venture_name)
    return session.execute(query.order_by(BlockVersion.id.desc()).limit(1)).scalar()


def _segment_row(position: int, segment: Segment) -> SegmentRow:
    answers = {name: getattr(segment.profile, name) for name in PROFILE_FIELDS}
    answers["touchpoints"] = list(segment.profile.touchpoints or [])
    return SegmentRow(
        position=position,
        **answers,
        choices=[
            ChoiceRow(
                position=index,
                type_id=choice.type_id,
                name=choice.name,
                reasons=list(choice.reasons),
                origin=choice.origin,
                score=choice.score,
            )
            for index, choice in enumerate(segment.choices)
        ],
    )


def _block_from_row(row: BlockVersion, venture: Optional[Venture] = None) -> CanvasBlock:
    venture = venture or row.venture
    return _block(row, venture.name, [(seg, seg.choices) for seg in row.segments])


def _block(version: Any, venture_name: str, segments: List[Any]) -> CanvasBlock:
    """A CanvasBlock from a version and its (segment, choices) rows: ORM objects or plain rows alike."""
    return CanvasBlock(
        venture_name=venture_name,
        venture_offer=version.offer,
        status=version.status,
        version=version.version,
        created_at=_aware(version.created_at),
        segments=[
            Segment(
                profile=SegmentProfile(**{name: getattr(seg, name) for name in PROFILE_FIELDS}),
                choices=[
                    RelationshipChoice(
                        type_id=c.type_id, name=c.name, reasons=list(c.reasons), origin=c.origin, score=c.score
                    )
                    for c in choices
                ],
            )
            for seg, choices in segments
        ],
    )
