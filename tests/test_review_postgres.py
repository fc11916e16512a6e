"""The review dashboard on PostgreSQL: its migrations, and the read model reading
a PostgreSQL tracker store, with PostgreSQL's text search.

Against REVIEW_TEST_POSTGRES when it names a server (e.g.
postgresql://postgres@127.0.0.1:5432) with databases `review` and `tracker`
that the test may empty; else against a throwaway cluster of Debian's
PostgreSQL (initdb in a temp folder, as the `postgres` user when run as root,
on a free loopback port). Skipped, saying so, only when neither is there.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from bot.review import queries
from bot.review.auth import MAX_FAILURES_PER_ADDRESS, Account, TooManyAttempts, Users
from bot.review.db import VERSION_TABLE, ReviewDB, alembic_config, include_object
from bot.review.models import Base
from bot.review.queries import Filters, NotFound
from bot.review.read_model import ReadModel
from bot.review.tracker import TrackerEvents
from deploy import review_events as ev
from deploy.launchers import free_port

INITDB = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("REVIEW_TEST_POSTGRES") and not INITDB,
        reason="no PostgreSQL: set REVIEW_TEST_POSTGRES or install postgresql",
    ),
    # Alembic cannot reflect the text-search index (an expression); the test checks it by name.
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection"),
]
ADMIN = Account(1, "root", "admin", frozenset(), "x")
SPRING = Account(2, "cora", "coordinator", frozenset({"SPRING"}), "y")


@pytest.fixture(scope="module")
def server():
    if os.environ.get("REVIEW_TEST_POSTGRES"):
        yield os.environ["REVIEW_TEST_POSTGRES"].rstrip("/")
        return
    bin_dir = os.path.dirname(INITDB[-1])
    # Not under pytest's temp folders: those only root may enter.
    folder = Path(tempfile.mkdtemp(prefix="review-postgres-"))
    as_postgres = ["su", "postgres", "-s", "/bin/sh", "-c"] if os.geteuid() == 0 else ["sh", "-c"]
    shutil.chown(folder, "postgres") if os.geteuid() == 0 else None
    port = free_port()
    data = folder / "data"

    def run(command):
        subprocess.run([*as_postgres, command], check=True, capture_output=True, timeout=120)

    run(f"{bin_dir}/initdb -D {data} -A trust -U postgres")
    run(f"{bin_dir}/pg_ctl -D {data} -l {folder}/log -w -o '-p {port} -k {folder} -c listen_addresses=127.0.0.1' start")
    try:
        url = f"postgresql://postgres@127.0.0.1:{port}"
        engine = create_engine(f"{url}/postgres", future=True, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE review"))
            conn.execute(text("CREATE DATABASE tracker"))
        engine.dispose()
        yield url
    finally:
        run(f"{bin_dir}/pg_ctl -D {data} -m fast -w stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def review_url(server):
    url = f"{server}/review"
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture
def tracker_url(server):
    url = f"{server}/tracker"
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS events"))
        conn.execute(
            text(
                "CREATE TABLE events (id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )
        conn.execute(text("CREATE INDEX ix_events_sender_id ON events (sender_id)"))
    engine.dispose()
    return url


def insert(url, rows):
    engine = create_engine(url, future=True)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                "VALUES (:s, :t, :ts, :i, :a, :d)"
            ),
            [dict(s=r[0], t=r[1], ts=r[2], i=r[3], a=r[4], d=r[5]) for r in rows],
        )
    engine.dispose()


def test_the_migration_builds_exactly_the_models_on_postgresql_and_goes_down(review_url):
    engine = create_engine(review_url, future=True)
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), "head")
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(context, Base.metadata) == []
        assert (
            conn.execute(
                text("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_rm_messages_text_search'")
            ).scalar()
            == 1
        )
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), "base")
    engine.dispose()


def test_the_read_model_lists_searches_and_forgets_on_postgresql(review_url, tracker_url):
    rows = []
    for n in range(12):
        rows += ev.conversation(
            f"f{n:02d}",
            1_700_000_000.0 + n * 100,
            "SPRING" if n % 2 else "FALL",
            saved=n % 3 == 0,
            venture=f"Venture {n}",
            first_text="<b>zebra</b> pricing" if n == 5 else "hi",
        )
    insert(tracker_url, rows)
    db = ReviewDB(review_url)
    tracker = TrackerEvents(tracker_url)
    model = ReadModel(db, tracker)
    try:
        assert model.update() == 12
        seen, cursor = [], None
        while True:
            page, cursor = queries.conversation_page(db, ADMIN, Filters(), cursor, size=5)
            seen += page
            if cursor is None:
                break
        assert [r["sender_id"] for r in seen] == [f"f{n:02d}" for n in reversed(range(12))]
        saved = queries.all_conversations(db, SPRING, Filters.from_args({"saved": "yes"}))
        assert {r["sender_id"] for r in saved} == {"f03", "f09"}
        hits = queries.search(db, SPRING, "zebra pricing")
        assert [h["sender_id"] for h in hits] == ["f05"]
        # ts_headline leaves markup-like words out of the snippet; what remains is escaped all the same.
        assert "<mark>zebra</mark>" in str(hits[0]["snippet"]) and "<b>" not in str(hits[0]["snippet"])
        with pytest.raises(NotFound):
            queries.search(db, SPRING, "zebra", "FALL")
        assert queries.charts(db, SPRING, "SPRING")["funnel"][0]["value"] == 6
        engine = create_engine(tracker_url, future=True)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE sender_id = 'f05'"))
        engine.dispose()
        model.update(sweep=True)
        assert queries.search(db, ADMIN, "zebra") == []
        assert "f05" not in {r["sender_id"] for r in queries.all_conversations(db, ADMIN, Filters())}
        assert model.rebuild() == 11
    finally:
        tracker.close()
        db.close()


def test_parallel_sign_ins_from_one_address_stop_at_its_limit_on_postgresql(review_url):
    """Forty wrong guesses at once from one address, each on a different name: the
    address's limit holds exactly, as SQLite's queued writers hold it."""
    db = ReviewDB(review_url)
    users = Users(db, "s" * 40)
    barrier = threading.Barrier(MAX_FAILURES_PER_ADDRESS * 2)

    def guess(n: int) -> str:
        barrier.wait()
        try:
            users.start_sign_in(f"name-{n}", "203.0.113.7")
            return "counted"
        except TooManyAttempts:
            return "refused"

    try:
        with ThreadPoolExecutor(max_workers=MAX_FAILURES_PER_ADDRESS * 2) as pool:
            outcomes = list(pool.map(guess, range(MAX_FAILURES_PER_ADDRESS * 2)))
        assert outcomes.count("counted") == MAX_FAILURES_PER_ADDRESS, outcomes
    finally:
        db.close()
