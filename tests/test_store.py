"""CanvasStore against real SQLite files."""

import dataclasses
import sqlite3

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.coach.canvas import CanvasBlock
from bot.coach.profile import SegmentProfile
from bot.coach.store import CanvasStore, StoreError, StoreUnavailable
from bot.coach.store.models import Base, ChoiceRow, SegmentRow
from tests.conftest import ledgerly_block

TABLES = [table.name for table in Base.metadata.sorted_tables]


def bare(block):
    return dataclasses.replace(block, version=None, created_at=None)


def version(store, channel, sender_id, number, venture_name=None):
    """Version `number` of a founder's venture (the one saved to last unless named), or None."""
    return next((b for b in store.block_versions(channel, sender_id, venture_name) if b.version == number), None)


def counts(path):
    with sqlite3.connect(path) as conn:
        return {table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "canvas.db"


@pytest.fixture
def store(db_path):
    with CanvasStore(f"sqlite:///{db_path}") as store:
        yield store


# --- saving and reading ---------------------------------------------------------


def test_save_and_load_a_two_segment_final_block(store, db_path):
    block = ledgerly_block()
    saved = store.save_block("telegram", "42", block)

    assert saved.version == 1 and saved.status == "final"
    assert saved.created_at is not None and saved.created_at.utcoffset().total_seconds() == 0
    assert bare(saved) == block
    assert block.version is None  # the caller's block is left alone
    assert store.latest_block("telegram", "42") == saved
    assert version(store, "telegram", "42", 1) == saved
    # Another process opening the same file reads the same block.
    with CanvasStore(f"sqlite:///{db_path}") as again:
        assert again.latest_block("telegram", "42") == saved
    assert counts(db_path) == {
        "founders": 1,
        "ventures": 1,
        "block_versions": 1,
        "segments": 2,
        "relationship_choices": 3,
    }


def test_every_profile_answer_has_a_column():
    columns = set(SegmentRow.__table__.columns.keys())
    assert {f.name for f in dataclasses.fields(SegmentProfile)} <= columns


def test_unknown_founder_has_nothing(store):
    assert store.latest_block("telegram", "nobody") is None
    assert store.block_versions("telegram", "nobody") == []
    assert version(store, "telegram", "nobody", 1) is None
    assert store.delete_founder("telegram", "nobody") is False


def test_a_second_confirmed_block_is_version_2_and_version_1_stays(store):
    first = store.save_block("telegram", "42", ledgerly_block())
    second = store.save_block("telegram", "42", ledgerly_block(tweak=" (v2)"))

    assert second.version == 2
    assert store.latest_block("telegram", "42") == second
    assert version(store, "telegram", "42", 1) == first
    assert version(store, "telegram", "42", 1).venture_offer == "Bookkeeping that runs itself"  # offer is per version
    assert store.block_versions("telegram", "42") == [first, second]
    assert version(store, "telegram", "42", 3) is None


def test_saving_a_draft_replaces_the_draft(store, db_path):
    store.save_block("telegram", "42", ledgerly_block(status="draft", tweak=" a"))
    latest = store.save_block("telegram", "42", ledgerly_block(status="draft", tweak=" b"))

    assert latest.version == 1 and latest.status == "draft"
    assert store.latest_block("telegram", "42") == latest
    assert [v.status for v in store.block_versions("telegram", "42")] == ["draft"]
    assert counts(db_path)["segments"] == 2  # the first draft's rows are gone
    assert store.latest_block("telegram", "42", status="final") is None


def test_confirming_takes_the_drafts_place_and_a_later_draft_comes_after(store, db_path):
    store.save_block("telegram", "42", ledgerly_block(status="draft"))
    final = store.save_block("telegram", "42", ledgerly_block(status="final"))
    assert final.version == 1
    assert [(v.version, v.status) for v in store.block_versions("telegram", "42")] == [(1, "final")]

    draft = store.save_block("telegram", "42", ledgerly_block(status="draft", tweak=" next"))
    assert draft.version == 2
    assert store.latest_block("telegram", "42") == draft
    assert store.latest_block("telegram", "42", status="final") == final
    assert store.latest_block("telegram", "42", status="draft") == draft
    assert counts(db_path)["block_versions"] == 2


def test_ventures_have_their_own_versions(store):
    a1 = store.save_block("telegram", "42", ledgerly_block(venture="A"))
    b1 = store.save_block("telegram", "42", ledgerly_block(venture="B"))
    a2 = store.save_block("telegram", "42", ledgerly_block(venture="A", tweak="!"))

    assert (a1.version, b1.version, a2.version) == (1, 1, 2)
    # Without a venture name: the venture saved to last.
    assert store.latest_block("telegram", "42") == a2
    assert store.block_versions("telegram", "42") == [a1, a2]
    assert store.block_versions("telegram", "42", venture_name="B") == [b1]
    assert version(store, "telegram", "42", 1, venture_name="B") == b1
    assert store.latest_block("telegram", "42", venture_name="B") == b1


def test_founders_are_told_apart_by_channel_and_sender(store):
    telegram = store.save_block("telegram", "42", ledgerly_block(tweak=" telegram"))
    rest = store.save_block("rest", "42", ledgerly_block(tweak=" rest"))
    assert store.latest_block("telegram", "42") == telegram
    assert store.latest_block("rest", "42") == rest


def test_in_memory_database_works():
    with CanvasStore("sqlite://") as store:
        saved = store.save_block("rest", "1", ledgerly_block())
        assert store.latest_block("rest", "1") == saved


# --- all or nothing -----------------------------------------------------------------


def _fail_once_choices_are_flushed(session, _context):
    # In after_flush, session.new still lists what this flush just inserted.
    if any(isinstance(obj, ChoiceRow) for obj in session.new):
        raise RuntimeError("disk pulled out mid-save")


@pytest.mark.parametrize("status", ["final", "draft"])
def test_a_save_failing_midway_leaves_nothing_behind(store, db_path, status):
    earlier = store.save_block("telegram", "42", ledgerly_block(status=status))
    before = counts(db_path)

    # after_flush runs once founder, venture, version, segment and choice rows
    # have all been sent to the database: the rollback must take them all back.
    event.listen(Session, "after_flush", _fail_once_choices_are_flushed)
    try:
        with pytest.raises(RuntimeError, match="disk pulled out"):
            store.save_block("telegram", "42", ledgerly_block(status=status, tweak=" new"))
        with pytest.raises(RuntimeError, match="disk pulled out"):
            store.save_block("telegram", "newcomer", ledgerly_block(status=status), cohort="spring")
    finally:
        event.remove(Session, "after_flush", _fail_once_choices_are_flushed)

    assert counts(db_path) == before
    assert store.latest_block("telegram", "42") == earlier  # a replaced draft is back too
    assert [f["sender_id"] for f in store.founders()] == ["42"]


def _negative_count(block):
    block.segments[1].profile.customer_count = -5  # past SegmentProfile's check, into the database's


def _choice_without_type(block):
    block.segments[1].choices[0].type_id = None


def _unknown_status(block):
    block.status = "published"


@pytest.mark.parametrize("spoil", [_negative_count, _choice_without_type, _unknown_status])
def test_a_row_the_database_rejects_aborts_the_whole_save(store, db_path, spoil):
    earlier = store.save_block("telegram", "42", ledgerly_block())
    before = counts(db_path)
    block = ledgerly_block(tweak=" bad")
    spoil(block)

    with pytest.raises(StoreError) as caught:
        store.save_block("telegram", "42", block)
    assert not isinstance(caught.value, StoreUnavailable)
    with pytest.raises(StoreError):
        store.save_block("telegram", "newcomer", block)

    assert counts(db_path) == before
    assert store.block_versions("telegram", "42") == [earlier]


def test_a_locked_database_is_unavailable_and_the_save_works_afterwards(db_path):
    store = CanvasStore(f"sqlite:///{db_path}", busy_timeout_s=0.1)
    try:
        store.save_block("telegram", "42", ledgerly_block())
        before = counts(db_path)

        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreUnavailable):
                store.save_block("telegram", "42", ledgerly_block(tweak=" v2"))
            with pytest.raises(StoreUnavailable):
                store.latest_block("telegram", "42")
        finally:
            other.execute("ROLLBACK")
            other.close()

        assert counts(db_path) == before
        saved = store.save_block("telegram", "42", ledgerly_block(tweak=" v2"))
        assert saved.version == 2
        assert store.latest_block("telegram", "42") == saved
    finally:
        store.close()


def test_store_unavailable_is_a_store_error():
    assert issubclass(StoreUnavailable, StoreError)


# --- deleting -----------------------------------------------------------------------


def _fill(store, with_leaving_founder):
    if with_leaving_founder:
        store.save_block("telegram", "leaving", ledgerly_block(venture="A"), cohort="spring")
        store.save_block("telegram", "leaving", ledgerly_block(venture="A", tweak="2"))
        store.save_block("telegram", "leaving", ledgerly_block(status="draft", venture="A"))
        store.save_block("telegram", "leaving", ledgerly_block(venture="B"))
    store.save_block("telegram", "staying", ledgerly_block(), cohort="spring")
    store.save_block("telegram", "staying", ledgerly_block(status="draft", tweak="d"))
    store.save_block("rest", "leaving", ledgerly_block())  # same sender id, other channel


def test_deleting_a_founder_removes_all_their_rows_and_only_theirs(tmp_path):
    with (
        CanvasStore(f"sqlite:///{tmp_path / 'both.db'}") as both,
        CanvasStore(f"sqlite:///{tmp_path / 'others.db'}") as others_only,
    ):
        _fill(both, with_leaving_founder=True)
        _fill(others_only, with_leaving_founder=False)
        staying = both.block_versions("telegram", "staying")
        assert counts(tmp_path / "both.db") != counts(tmp_path / "others.db")

        assert both.delete_founder("telegram", "leaving") is True

        # Row for row, what is left is what the other founders alone would have made.
        assert counts(tmp_path / "both.db") == counts(tmp_path / "others.db")
        assert both.latest_block("telegram", "leaving") is None
        assert both.block_versions("telegram", "staying") == staying
        assert both.latest_block("rest", "leaving") is not None
        assert {(f["channel"], f["sender_id"]) for f in both.founders()} == {
            ("telegram", "staying"),
            ("rest", "leaving"),
        }
        assert both.delete_founder("telegram", "leaving") is False


# --- where the database lives ------------------------------------------------------------


def test_canvas_db_url_is_honoured(tmp_path, monkeypatch):
    path = tmp_path / "from_env" / "canvas.db"
    monkeypatch.setenv("CANVAS_DB_URL", f"sqlite:///{path}")
    with CanvasStore() as store:
        store.save_block("telegram", "42", ledgerly_block())
    assert counts(path)["block_versions"] == 1


def test_default_database_is_var_canvas_db_under_the_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("CANVAS_DB_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    with CanvasStore() as store:
        store.save_block("telegram", "42", ledgerly_block())
    assert counts(tmp_path / "var" / "canvas.db")["founders"] == 1


# --- cohorts -------------------------------------------------------------------------------


def test_cohort_is_recorded_and_founders_are_listed_by_cohort(store):
    store.save_block("telegram", "ada", ledgerly_block(), cohort="spring-24")
    store.save_block("telegram", "ada", ledgerly_block(status="draft"))  # no cohort given: kept
    store.save_block("telegram", "bob", ledgerly_block(), cohort="autumn-24")
    store.save_block("telegram", "cy", ledgerly_block())
    store.save_block("rest", "dee", CanvasBlock(venture_name="Deeds", status="draft"), cohort="spring-24")

    spring = store.founders(cohort="spring-24")
    assert {f["sender_id"] for f in spring} == {"ada", "dee"}
    ada = next(f for f in spring if f["sender_id"] == "ada")
    assert ada["channel"] == "telegram" and ada["cohort"] == "spring-24"
    assert (ada["latest_version"], ada["latest_status"], ada["venture_name"]) == (2, "draft", "Ledgerly")
    assert ada["updated_at"] == store.latest_block("telegram", "ada").created_at
    dee = next(f for f in spring if f["sender_id"] == "dee")
    assert (dee["latest_version"], dee["latest_status"], dee["venture_name"]) == (1, "draft", "Deeds")

    assert [f["sender_id"] for f in store.founders(cohort="autumn-24")] == ["bob"]
    assert store.founders(cohort="winter") == []
    assert len(store.founders()) == 4

    store.save_block("telegram", "cy", ledgerly_block(), cohort=" autumn-24 ")
    assert {f["sender_id"] for f in store.founders(cohort="autumn-24")} == {"bob", "cy"}
