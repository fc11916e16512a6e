"""The canvas store's Alembic migrations on PostgreSQL (the scaled set-up's
CANVAS_DB_URL), as tests/test_migrations.py checks them on SQLite, and the review
dashboard's beside them in the same database (REVIEW_DB_URL): a private
PostgreSQL 15 cluster on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.coach.store import CanvasStore
from bot.coach.store.migrate import downgrade, upgrade
from bot.coach.store.models import Base
from deploy.services import Postgres, missing_packages
from tests.conftest import ledgerly_block
from tests.test_migrations import SCRIPTS, schema_diff

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif("postgresql" in missing_packages(), reason="PostgreSQL is not installed (.ci/run installs it)"),
]


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    server = Postgres(tmp_path_factory.mktemp("pg"))
    server.start()
    yield server
    server.stop()
    server.remove()


@pytest.fixture
def engine(postgres):
    engine = create_engine(postgres.url, future=True)
    with engine.begin() as connection:  # each test starts from an empty schema
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    yield engine
    engine.dispose()


def test_head_is_exactly_the_models_schema_on_postgresql(engine):
    with engine.begin() as connection:
        upgrade(connection)
    assert schema_diff(engine) == []
    assert set(inspect(engine).get_table_names()) == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}


def test_every_step_goes_down_and_up_on_postgresql(engine):
    for revision in [rev.revision for rev in SCRIPTS.walk_revisions()][::-1]:
        with engine.begin() as connection:
            upgrade(connection, revision)
        with engine.begin() as connection:
            downgrade(connection, "-1")
        with engine.begin() as connection:
            upgrade(connection, revision)
    assert schema_diff(engine) == []


def test_the_store_migrates_on_open_and_keeps_a_block_on_postgresql(engine, postgres):
    with CanvasStore(postgres.url) as store:
        saved = store.save_block("socketio", "founder-pg", ledgerly_block(), cohort="spring")
        again = store.save_block("socketio", "founder-pg", ledgerly_block(tweak=" (v2)"))
    assert (saved.version, again.version) == (1, 2)
    with CanvasStore(postgres.url) as store:
        versions = store.block_versions("socketio", "founder-pg")
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].segments[0].profile.touchpoints == ["app", "email"]
    assert versions[1].venture_offer.endswith("(v2)")
    assert schema_diff(engine) == []


def test_both_stores_migrate_into_one_postgresql_database_once(engine, postgres):
    """deploy.services.migrate, as the scaled set-up runs it before any server starts; twice changes nothing."""
    from deploy.services import migrate

    migrate(postgres.url)
    tables = set(inspect(engine).get_table_names())
    migrate(postgres.url)
    assert set(inspect(engine).get_table_names()) == tables
    assert {t.name for t in Base.metadata.sorted_tables} <= tables, "the canvas store's tables"
    assert {"review_users", "review_tags", "rm_messages", "review_alembic_version"} <= tables, "the dashboard's"
