"""The Alembic migrations build exactly the models' schema, go down and up, and keep data."""

import json
import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect

from bot.coach.canvas import CanvasBlock, RelationshipChoice, Segment
from bot.coach.profile import SegmentProfile
from bot.coach.store import CanvasStore
from bot.coach.store.migrate import alembic_config, downgrade, upgrade
from bot.coach.store.models import Base

SCRIPTS = ScriptDirectory.from_config(alembic_config())
HEAD = SCRIPTS.get_current_head()
FIRST = [rev for rev in SCRIPTS.walk_revisions() if rev.down_revision is None][0].revision
MODEL_TABLES = {table.name for table in Base.metadata.sorted_tables}


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'migrate.db'}", future=True)
    yield engine
    engine.dispose()


def schema_diff(engine):
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def current_revision(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_one_linear_history():
    assert len(SCRIPTS.get_heads()) == 1
    assert sum(1 for rev in SCRIPTS.walk_revisions() if rev.down_revision is None) == 1


def test_an_empty_database_upgraded_to_head_has_exactly_the_models_schema(engine):
    with engine.begin() as conn:
        upgrade(conn)
    assert current_revision(engine) == HEAD
    assert schema_diff(engine) == []
    assert set(inspect(engine).get_table_names()) == MODEL_TABLES | {"alembic_version"}


def test_the_schema_comparison_would_notice_a_difference(engine):
    with engine.begin() as conn:
        upgrade(conn)
    changed = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["founders"].append_column(Column("nickname", Integer))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), changed)
    assert [entry[0] for entry in diff] == ["add_column"]


def test_the_store_migrates_on_open(tmp_path):
    path = tmp_path / "opened.db"
    CanvasStore(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///{path}", future=True)
    try:
        assert current_revision(engine) == HEAD
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_down_to_base_and_up_again(engine):
    with engine.begin() as conn:
        upgrade(conn)
    with engine.begin() as conn:
        downgrade(conn, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert current_revision(engine) is None

    with engine.begin() as conn:
        upgrade(conn)
    assert current_revision(engine) == HEAD
    assert schema_diff(engine) == []


def test_every_step_goes_down_and_up(engine):
    revisions = [rev.revision for rev in SCRIPTS.walk_revisions()][::-1]  # oldest first
    for revision in revisions:
        with engine.begin() as conn:
            upgrade(conn, revision)
        with engine.begin() as conn:
            downgrade(conn, "-1")
        with engine.begin() as conn:
            upgrade(conn, revision)
    assert schema_diff(engine) == []


# A founder's data as the first revision's schema holds it, written with plain
# SQL so the test does not depend on today's models. When a later migration
# changes these tables, this data must still read back the same through the store.
SEED_AT_FIRST_REVISION = [
    "INSERT INTO founders (id, channel, sender_id, cohort, created_at) VALUES (1, 'telegram', '42', 'spring', '2024-05-01 09:00:00.000000')",
    "INSERT INTO ventures (id, founder_id, name, offer, created_at) VALUES (1, 1, 'Ledgerly', 'Bookkeeping', '2024-05-01 09:00:00.000000')",
    "INSERT INTO block_versions (id, venture_id, version, status, offer, created_at) VALUES "
    "(1, 1, 1, 'final', 'Bookkeeping', '2024-05-01 09:00:00.000000'), "
    "(2, 1, 2, 'draft', 'Bookkeeping, v2', '2024-05-02 10:00:00.000000')",
    "INSERT INTO segments (id, version_id, position, name, needs, market, customer_count, value_per_customer, "
    "purchase_frequency, expertise_needed, personal_touch, price_position, members_help_each_other, "
    "contributes_ideas, goal, touchpoints) VALUES "
    f"(1, 1, 0, 'Designers', 'Speed', 'b2c', 12000, 240.5, 'recurring', 'low', 'medium', 'budget', 1, 0, 'keep', '{json.dumps(['app', 'email'])}'), "
    "(2, 2, 0, 'Agencies', NULL, 'b2b', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '[]')",
    "INSERT INTO relationship_choices (id, segment_id, position, type_id, name, reasons, origin, score) VALUES "
    f"(1, 1, 0, 'self_service', 'Self-service', '{json.dumps(['At 2am'])}', 'accepted', 0.9), "
    f"(2, 1, 1, 'communities', 'Communities', '{json.dumps(['They help each other', 'Cheap'])}', 'added', NULL), "
    "(3, 2, 0, 'personal_assistance', 'Personal assistance', '[]', 'edited', 0.5)",
]


def test_a_database_with_data_at_the_first_revision_upgrades_in_place(tmp_path):
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}", future=True)
    try:
        with engine.begin() as conn:
            upgrade(conn, FIRST)
    finally:
        engine.dispose()
    with sqlite3.connect(path) as raw:
        for statement in SEED_AT_FIRST_REVISION:
            raw.execute(statement)

    with CanvasStore(f"sqlite:///{path}") as store:  # upgrades to head on open
        versions = store.block_versions("telegram", "42")
        assert [(v.version, v.status) for v in versions] == [(1, "final"), (2, "draft")]
        first, draft = versions
        assert first.venture_name == "Ledgerly" and first.venture_offer == "Bookkeeping"
        assert first.created_at.isoformat() == "2024-05-01T09:00:00+00:00"
        assert first.segments == [
            Segment(
                profile=SegmentProfile(
                    name="Designers",
                    needs="Speed",
                    market="b2c",
                    customer_count=12000,
                    value_per_customer=240.5,
                    purchase_frequency="recurring",
                    expertise_needed="low",
                    personal_touch="medium",
                    price_position="budget",
                    members_help_each_other=True,
                    contributes_ideas=False,
                    touchpoints=["app", "email"],
                    goal="keep",
                ),
                choices=[
                    RelationshipChoice("self_service", "Self-service", ["At 2am"], "accepted", 0.9),
                    RelationshipChoice("communities", "Communities", ["They help each other", "Cheap"], "added", None),
                ],
            )
        ]
        assert draft.venture_offer == "Bookkeeping, v2"
        assert draft.segments == [
            Segment(
                profile=SegmentProfile(name="Agencies", market="b2b"),
                choices=[RelationshipChoice("personal_assistance", "Personal assistance", [], "edited", 0.5)],
            )
        ]
        assert store.founders()[0]["cohort"] == "spring"
        # And it takes new saves on top.
        assert store.save_block("telegram", "42", CanvasBlock("Ledgerly", status="final")).version == 2

    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]


def test_reopening_a_populated_store_keeps_everything(tmp_path):
    url = f"sqlite:///{tmp_path / 'reopen.db'}"
    with CanvasStore(url) as store:
        saved = store.save_block("telegram", "42", CanvasBlock("Ledgerly", "Bookkeeping", status="final"))
    with CanvasStore(url) as store:
        assert store.block_versions("telegram", "42") == [saved]
