"""The founder's data actions that run in the Rasa server (bot/plugins/founder_data.py),
in process, on a real SQLite tracker store and a real canvas store: the delete
(both stores, or neither) and the export (everything both stores hold)."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from rasa.core.channels import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.coach import conversation as coach
from bot.coach.export import from_export_dict
from bot.coach.store import CanvasStore
from bot.plugins.founder_data import ActionDeleteData, ActionExportData
from bot.plugins.tracker_store import CoachTrackerStore
from bot.review import saved_tests
from tests.conftest import ROOT, banks, block, ledgerly_block, shops, sqlite_locked

CHANNEL, SENDER = "socketio", "founder-1"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def stores(tmp_path, domain):
    tracker_store = CoachTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    canvas = CanvasStore(f"sqlite:///{tmp_path / 'canvas.db'}", busy_timeout_s=0.5)
    yield tracker_store, canvas
    canvas.close()
    tracker_store.engine.dispose()


def conversation(domain, sender=SENDER, *texts):
    """A stored conversation: the founder's messages and the coach's answers."""
    events = [ActionExecuted("action_listen")]
    for text in texts:
        events += [
            UserUttered(text, {"name": "inform"}, input_channel=CHANNEL),
            BotUttered(f"Noted: {text}"),
            SlotSet("venture_name", "Brewbox"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events(sender, events, slots=domain.slots)


def run(action, tracker, domain):
    return asyncio.run(action.run(CollectingOutputChannel(), None, tracker, domain))


def stored_texts(tracker_store, sender=SENDER):
    with tracker_store.session_scope() as session:
        return [row.data for row in session.query(tracker_store.SQLEvent).filter_by(sender_id=sender)]


def test_export_holds_the_founder_their_blocks_and_the_whole_conversation(stores, domain):
    tracker_store, canvas = stores
    canvas.save_block(CHANNEL, SENDER, block(banks(), status="final"), cohort="SPRING-25")
    canvas.save_block(CHANNEL, SENDER, block(shops(), banks()))  # the draft after it
    canvas.save_block(CHANNEL, SENDER, ledgerly_block(status="draft"))
    canvas.save_block(CHANNEL, "someone-else", block(shops(), status="final"))
    asyncio.run(tracker_store.save(conversation(domain, SENDER, "we sell to banks", "about 20 of them")))
    asyncio.run(tracker_store.save(conversation(domain, "someone-else", "not mine")))
    asking = conversation(domain, SENDER, "we sell to banks", "about 20 of them", "export my data")

    events = run(ActionExportData(tracker_store, canvas), asking, domain)

    assert events[0].text == coach.EXPORTED
    files = {f["mimetype"]: f["content"] for f in events[1].data["custom"]["files"]}
    data = json.loads(files["application/json"])
    assert data["founder"]["cohort"] == "SPRING-25" and data["sender_id"] == SENDER
    assert [(b["venture_name"], b["version"], b["status"]) for b in data["blocks"]] == [
        ("Brewbox", 1, "final"),
        ("Brewbox", 2, "draft"),
        ("Ledgerly", 1, "draft"),
    ]
    assert [from_export_dict(b) for b in data["blocks"]] == canvas.founder_blocks(CHANNEL, SENDER)
    said = [(line["from"], line["text"]) for line in data["conversation"]]
    assert said == [
        ("founder", "we sell to banks"),
        ("coach", "Noted: we sell to banks"),
        ("founder", "about 20 of them"),
        ("coach", "Noted: about 20 of them"),
        ("founder", "export my data"),
    ]
    assert "not mine" not in files["application/json"] + files["text/markdown"]
    assert "## Our conversation" in files["text/markdown"] and "Cohort: SPRING-25" in files["text/markdown"]
    assert events[-1].text == coach.pending_prompt("intro", None)[0], "then the pending question"


def test_export_with_the_canvas_store_busy_says_so(stores, domain, tmp_path):
    tracker_store, canvas = stores
    with sqlite_locked(tmp_path / "canvas.db"):
        events = run(ActionExportData(tracker_store, canvas), conversation(domain, SENDER, "export my data"), domain)
    assert [e.text for e in events] == [coach.STORE_BUSY]


def test_delete_forgets_both_stores_and_keeps_only_the_restart(stores, domain):
    tracker_store, canvas = stores
    canvas.save_block(CHANNEL, SENDER, block(banks(), status="final"))
    canvas.save_block(CHANNEL, "someone-else", block(shops(), status="final"))
    asyncio.run(tracker_store.save(conversation(domain, SENDER, "we sell to banks")))
    asyncio.run(tracker_store.save(conversation(domain, "someone-else", "not mine")))
    tracker = conversation(domain, SENDER, "we sell to banks", "yes, delete everything")

    events = run(ActionDeleteData(tracker_store, canvas), tracker, domain)

    assert events[0].text == coach.DELETED and events[1].data["custom"] == {"type": "data_deleted"}
    assert {(e.key, e.value) for e in events if isinstance(e, SlotSet)} >= {("venture_name", None)}
    assert canvas.founder_blocks(CHANNEL, SENDER) == []
    assert [json.loads(row)["event"] for row in stored_texts(tracker_store)] == ["restart"]
    # The turn's save writes only what came after the delete: its own action and answer.
    tracker.update_with_events([ActionExecuted("action_delete_data"), *events], domain)
    asyncio.run(tracker_store.save(tracker))
    kept = stored_texts(tracker_store)
    assert not any("banks" in row or "delete everything" in row for row in kept)
    assert canvas.founder_blocks(CHANNEL, "someone-else") and stored_texts(tracker_store, "someone-else")


def test_delete_removes_the_conversation_a_reviewer_saved_as_a_test(stores, domain, tmp_path, monkeypatch):
    monkeypatch.setenv("REVIEW_TEST_STORIES", str(tmp_path / "stories"))
    tracker_store, canvas = stores
    (tmp_path / "stories").mkdir()
    mine, theirs = saved_tests.story_path(SENDER), saved_tests.story_path("founder:1")
    assert mine != theirs, "ids that read alike keep their own files"
    mine.write_text("stories: [{story: 'we sell to banks'}]\n")
    theirs.write_text("stories: [{story: 'not mine'}]\n")
    asyncio.run(tracker_store.save(conversation(domain, SENDER, "we sell to banks")))

    events = run(ActionDeleteData(tracker_store, canvas), conversation(domain, SENDER, "yes"), domain)

    assert events[0].text == coach.DELETED
    assert not mine.exists() and theirs.exists()


@pytest.mark.parametrize("busy", ["canvas.db", "tracker.db"])
def test_delete_with_a_busy_store_deletes_nothing(stores, domain, tmp_path, busy):
    tracker_store, canvas = stores
    canvas.save_block(CHANNEL, SENDER, block(banks(), status="final"))
    asyncio.run(tracker_store.save(conversation(domain, SENDER, "we sell to banks")))
    with sqlite_locked(tmp_path / busy, "IMMEDIATE"):  # another writer holds the store
        events = run(ActionDeleteData(tracker_store, canvas), conversation(domain, SENDER, "yes"), domain)
    assert [e.text for e in events] == [coach.DELETE_INCOMPLETE]
    assert canvas.founder_blocks(CHANNEL, SENDER), "the canvas store as it was"
    assert any("banks" in row for row in stored_texts(tracker_store)), "the tracker store as it was"


def on_disk(tmp_path, name):
    """The bytes of an SQLite database as files: the database and its write-ahead log."""
    return b"".join(p.read_bytes() for p in (tmp_path / name, tmp_path / (name + "-wal")) if p.exists())


def test_the_tracker_store_writes_ahead_without_waiting_for_the_disk(stores, tmp_path):
    tracker_store, _ = stores
    with tracker_store.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert raw.execute("PRAGMA secure_delete").fetchone()[0] == 1
    with sqlite3.connect(tmp_path / "tracker.db") as other:  # set in the file, for every process
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_after_a_delete_no_word_of_the_founder_is_left_on_disk(stores, domain, tmp_path):
    tracker_store, canvas = stores
    canvas.save_block(CHANNEL, SENDER, block(banks(), status="final"))
    for turn in range(1, 6):  # several commits, so the words are in many log frames
        said = [f"our zanzibar quokka plan part {n}" for n in range(1, turn + 1)]
        asyncio.run(tracker_store.save(conversation(domain, SENDER, *said)))
    asyncio.run(tracker_store.save(conversation(domain, "someone-else", "the walrus ledger")))
    assert b"zanzibar quokka" in on_disk(tmp_path, "tracker.db")
    assert (tmp_path / "tracker.db-wal").stat().st_size > 0, "the words are in the write-ahead log"

    events = run(ActionDeleteData(tracker_store, canvas), conversation(domain, SENDER, "yes"), domain)

    assert events[0].text == coach.DELETED
    assert b"zanzibar" not in on_disk(tmp_path, "tracker.db"), "neither in the database nor in its log"
    assert b"Big banks" not in on_disk(tmp_path, "canvas.db")
    assert b"walrus ledger" in on_disk(tmp_path, "tracker.db"), "another founder's conversation stays"


def test_a_reader_in_the_middle_of_a_read_does_not_stop_the_delete_and_the_log_is_emptied_after_it(
    stores, domain, tmp_path
):
    tracker_store, canvas = stores
    asyncio.run(tracker_store.save(conversation(domain, SENDER, "our zanzibar quokka plan")))
    with sqlite_locked(tmp_path / "tracker.db", "READ"):  # e.g. the review dashboard reading
        events = run(ActionDeleteData(tracker_store, canvas), conversation(domain, SENDER, "yes"), domain)
        assert events[0].text == coach.DELETED
        assert not any("zanzibar" in row for row in stored_texts(tracker_store)), "the rows are gone"
        assert tracker_store.wipe_pending, "the reader's snapshot still needs the log"
    # The next save, by any conversation, empties the log the reader no longer holds.
    asyncio.run(tracker_store.save(conversation(domain, "someone-else", "the walrus ledger")))
    assert not tracker_store.wipe_pending
    assert b"zanzibar" not in on_disk(tmp_path, "tracker.db")
