"""Alembic environment for the canvas store.

CanvasStore passes its own connection (config.attributes["connection"]); the
alembic CLI gets a URL from sqlalchemy.url or CANVAS_DB_URL instead. Logging is
left alone: the bot configures it.
"""

import os

from alembic import context
from sqlalchemy import create_engine

from bot.coach.store.models import Base
from bot.coach.store.store import DEFAULT_URL

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or os.environ.get("CANVAS_DB_URL") or DEFAULT_URL


def _configure(**kwargs) -> None:
    dialect = kwargs["connection"].dialect.name if "connection" in kwargs else kwargs["url"].split(":")[0]
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=dialect.startswith("sqlite"),
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), future=True)
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
