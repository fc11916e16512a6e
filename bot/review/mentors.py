"""The dashboard's mentors as the Slack app sees them: Slack member id -> cohorts.

Plain Python (no Rasa, no Sanic): the Slack channel in the Rasa server reads the
review database (REVIEW_DB_URL) through this, read-only, on every lookup, so a
mentor an admin adds or changes in the dashboard counts at once. Only users with
the mentor role and a Slack user id are mentors here.

When the dashboard knows a Slack user, its answer is final, "no access"
included: a mentor removed there, or whose Slack id was cleared, is recorded as
revoked (review_revoked_slack_mentors), so a SLACK_MENTORS grant for them does not
come back. A review database that does not exist (a deployment without the
dashboard) has no mentors, and SLACK_MENTORS alone counts. One that exists but
cannot be read (locked, not migrated this far, unreachable) grants nothing: every
lookup answers "no access" (logged once) until it can be read again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, FrozenSet, Optional

from sqlalchemy import create_engine, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.review.db import review_db_url
from bot.review.models import RevokedSlackMentor, User, UserCohort

logger = logging.getLogger(__name__)
READ_TIMEOUT_S = 2.0  # how long a lookup waits for a SQLite writer before giving up
UNREADABLE: Dict[str, FrozenSet[str]] = {}  # _read()'s answer when the database cannot be read (compared by identity)


class DashboardMentors:
    def __init__(self, url: Optional[str] = None) -> None:
        url_obj = make_url(url or review_db_url())
        self._missing_file: Optional[Path] = None
        self._warned = False
        if url_obj.get_backend_name() == "sqlite":
            database = url_obj.database or ""
            if database in ("", ":memory:"):
                self._engine: Optional[Engine] = None  # a private in-memory database holds no mentors
                return
            path = Path(database).expanduser().resolve()
            self._missing_file = path
            # Read-only: this process never writes to the dashboard's database, nor creates it.
            url_obj = url_obj.set(database=f"file:{path}?mode=ro", query={"uri": "true"})
            self._engine = create_engine(url_obj, future=True, connect_args={"timeout": READ_TIMEOUT_S})
        else:
            self._engine = create_engine(url_obj, future=True, pool_pre_ping=True)

    def all(self) -> Dict[str, FrozenSet[str]]:
        """Every Slack user the dashboard has an answer for: its mentors and their
        cohorts, and revoked mentors with none."""
        found = self._read(None)
        return {} if found is UNREADABLE else found

    def cohorts_of(self, slack_user: Optional[str]) -> Optional[FrozenSet[str]]:
        """The cohorts of the dashboard's mentor with this Slack user id; an empty set
        for a revoked one, and for anyone while the database cannot be read; None
        when the dashboard does not know the user (SLACK_MENTORS then counts)."""
        if not slack_user:
            return None
        found = self._read(slack_user)
        if found is UNREADABLE:
            return frozenset()
        return found.get(slack_user)

    def readable(self) -> bool:
        return self._read("") is not UNREADABLE

    def _read(self, slack_user: Optional[str]) -> Dict[str, FrozenSet[str]]:
        if self._engine is None or (self._missing_file is not None and not self._missing_file.exists()):
            return {}
        revoked_query = select(RevokedSlackMentor.slack_user_id)
        if slack_user is not None:
            revoked_query = revoked_query.where(RevokedSlackMentor.slack_user_id == slack_user)
        query = (
            select(User.slack_user_id, UserCohort.cohort)
            .outerjoin(UserCohort, UserCohort.user_id == User.id)
            .where(User.role == "mentor", User.slack_user_id.is_not(None))
        )
        if slack_user is not None:
            query = query.where(User.slack_user_id == slack_user)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).all()
                revoked = conn.execute(revoked_query).scalars().all()
        except SQLAlchemyError as error:
            if not self._warned:  # once, not on every lookup; the URL (maybe with a password) is not logged
                logger.warning(
                    "The review dashboard's mentors could not be read (%s): no one has mentor access until it can.",
                    type(error).__name__,
                )
                self._warned = True
            return UNREADABLE
        self._warned = False
        mentors: Dict[str, set] = {slack_id: set() for slack_id in revoked}
        for slack_id, cohort in rows:
            mentors.setdefault(slack_id, set())
            if cohort:
                mentors[slack_id].add(cohort)
        return {slack_id: frozenset(cohorts) for slack_id, cohorts in mentors.items()}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
