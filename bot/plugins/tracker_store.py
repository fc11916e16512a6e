"""Rasa's SQL tracker store with connections checked before use (pool_pre_ping).

Rasa 3.6's SQLTrackerStore creates its engine without pool_pre_ping: after a
PostgreSQL restart, every pooled connection is dead, and the first turns on
each of them fail. With pool_pre_ping, SQLAlchemy tests a connection when it
takes it from the pool and replaces it if it is dead, so the first turn after
the restart succeeds. (That the store is no longer wrapped in Rasa's
FailSafeTrackerStore, which would keep a turn it could not save in memory only,
is bot/plugins/scaleout.py's doing: it applies to any tracker store.)

Name it in endpoints.yml: `type: bot.plugins.tracker_store.StrictSQLTrackerStore`,
with the same settings as Rasa's `type: SQL`.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs


class StrictSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
