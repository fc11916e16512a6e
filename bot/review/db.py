"""The review database: engine, Alembic migrations, transactions.

REVIEW_DB_URL (default DEFAULT_URL, below) is any SQLAlchemy URL; the
tables have their own Alembic history (migrations/, version table
review_alembic_version), so they may also share a database with the canvas store.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import QueuePool, StaticPool

DEFAULT_URL = "sqlite:///var/review.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "review_alembic_version"


def review_db_url(environ: Optional[Dict[str, str]] = None) -> str:
    environ = os.environ if environ is None else environ
    return (environ.get("REVIEW_DB_URL") or DEFAULT_URL).strip()


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic leaves the FTS5 index (and its shadow tables) alone: it has no model."""
    return not (type_ == "table" and name.startswith("messages_fts"))


def alembic_config(url: Optional[str] = None, connection: Optional[Connection] = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


class ReviewDB:
    """The dashboard's database, migrated to head on opening."""

    def __init__(self, url: Optional[str] = None, *, busy_timeout_s: float = 10.0, migrate: bool = True) -> None:
        url_obj = make_url(url or review_db_url())
        self.sqlite = url_obj.get_backend_name() == "sqlite"
        args: Dict[str, Any] = {"future": True}
        if self.sqlite:
            database = url_obj.database or ""
            if database in ("", ":memory:"):
                args.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                path = Path(database).expanduser().resolve()
                path.parent.mkdir(parents=True, exist_ok=True)
                url_obj = url_obj.set(database=str(path))
                # Connections are kept (SQLAlchemy 1.4 opens a new one per use for SQLite files).
                args.update(
                    poolclass=QueuePool,
                    pool_size=5,
                    max_overflow=10,
                    connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
                )
        self.url = url_obj.render_as_string(hide_password=True)
        self.engine: Engine = create_engine(url_obj, **args)
        if self.sqlite:
            _tune_sqlite(self.engine)
        if migrate:
            with self.begin() as conn:
                command.upgrade(alembic_config(connection=conn), "head")

    @contextmanager
    def begin(self, write: bool = True) -> Iterator[Connection]:
        """One transaction; on SQLite a writer takes the write lock up front
        (BEGIN IMMEDIATE), so two writers queue instead of failing halfway."""
        with self.engine.connect() as conn:
            if self.sqlite:
                conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE" if write else "BEGIN")
            with conn.begin():
                yield conn

    def read(self) -> Any:
        return self.begin(write=False)

    def close(self) -> None:
        self.engine.dispose()


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" hook below starts transactions
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        # Readers never wait for the read model's writer, nor the writer for readers.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))
