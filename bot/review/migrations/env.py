"""Alembic environment for the review dashboard's tables (see bot/review/db.py).

ReviewDB passes its own connection; the alembic CLI uses sqlalchemy.url or REVIEW_DB_URL.
messages_fts (FTS5, SQLite only) is made by the migration and has no model.
"""

from alembic import context
from sqlalchemy import create_engine

from bot.review.db import VERSION_TABLE, include_object, review_db_url
from bot.review.models import Base

config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or review_db_url(), future=True)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


run_migrations_online()
