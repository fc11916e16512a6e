"""Alembic, configured in code so migrations run from any cwd and any URL.

    from bot.coach.store.migrate import alembic_config
    from bot.coach.store.store import DEFAULT_URL
    from alembic import command
    command.revision(alembic_config(DEFAULT_URL), autogenerate=True, message="...")

(``alembic -c bot/coach/store/alembic.ini ...`` works too, with CANVAS_DB_URL set.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: Optional[str] = None, connection: Optional[Connection] = None) -> Config:
    """An Alembic Config for our migrations; env.py uses `connection` when given, else `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection=connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection=connection), revision)
