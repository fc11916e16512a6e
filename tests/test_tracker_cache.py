"""The Rasa server keeps recent trackers between turns (bot/plugins/tracker_cache.py,
CoachTrackerStore): a kept tracker is used only while the table has nothing new for
the conversation, a turn's new events are saved once each, and whatever else writes
to the conversation (another store on the same database, as a second Rasa server
is; a forget) makes the next turn read SQL. Two real Rasa servers on one database
at the end."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterator, List

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

from bot.plugins.tracker_store import CoachTrackerStore
from deploy.launchers import CoachServers
from deploy.services import Postgres, missing_packages
from tests.conftest import ROOT, SAVE_A_BLOCK, rows, texts


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def database(tmp_path):
    return tmp_path / "tracker.db"


def store_on(database, domain) -> CoachTrackerStore:
    return CoachTrackerStore(domain=domain, dialect="sqlite", db=str(database))


@pytest.fixture
def store(database, domain) -> Iterator[CoachTrackerStore]:
    opened = store_on(database, domain)
    yield opened
    opened.engine.dispose()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def turn(store: CoachTrackerStore, sender: str, text: str) -> Any:
    """One turn as Rasa's processor runs it: load (or create), add the turn's events, save."""
    tracker = run(store.get_or_create_tracker(sender))
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}))
    tracker.update(BotUttered(f"Noted: {text}"))
    tracker.update(SlotSet("venture_name", text))
    tracker.update(ActionExecuted("action_listen"))
    run(store.save(tracker))
    return tracker


def stored(database, sender: str) -> List[Any]:
    return [
        json.loads(data)
        for (data,) in rows(database, "SELECT data FROM events WHERE sender_id = ? ORDER BY id", sender)
    ]


def said(database, sender: str) -> List[str]:
    return [e["text"] for e in stored(database, sender) if e["event"] == "user"]


def test_a_kept_tracker_is_used_while_nothing_else_wrote(store, database):
    turn(store, "ada", "one")
    second = turn(store, "ada", "two")
    again = run(store.retrieve("ada"))
    assert again is second, "the tracker the last turn saved, not a new one read from SQL"
    assert [e.as_dict() for e in again.events] == [
        e.as_dict() for e in run(store_on(database, store.domain).retrieve("ada")).events
    ]


def test_each_event_is_stored_once_in_order(store, database):
    for text in ("one", "two", "three", "four"):
        turn(store, "bea", text)
    assert said(database, "bea") == ["one", "two", "three", "four"]
    events = stored(database, "bea")
    assert [e["event"] for e in events] == ["action"] + ["user", "bot", "slot", "action"] * 4
    tracker = run(store_on(database, store.domain).retrieve("bea"))
    assert len(tracker.events) == len(events)


def test_another_store_writing_to_the_conversation_makes_the_next_turn_read_sql(store, database, domain):
    other = store_on(database, domain)  # a second Rasa server on the same database
    try:
        turn(store, "cal", "one")
        kept = turn(store, "cal", "two")
        turn(other, "cal", "written by the other server")
        after = run(store.retrieve("cal"))
        assert after is not kept
        assert after.get_slot("venture_name") == "written by the other server"
        after.update(UserUttered("four", {"name": "inform", "confidence": 1.0}))
        run(store.save(after))
        turn(store, "cal", "five")
    finally:
        other.engine.dispose()
    assert said(database, "cal") == ["one", "two", "written by the other server", "four", "five"]


def test_a_write_between_load_and_save_is_not_overwritten(store, database, domain):
    """Without a shared lock store, another server may write in the middle of a turn:
    the save then counts the stored rows as Rasa does, and keeps nothing."""
    other = store_on(database, domain)
    try:
        turn(store, "dot", "one")
        tracker = run(store.retrieve("dot"))
        turn(other, "dot", "meanwhile")
        tracker.update(UserUttered("late", {"name": "inform", "confidence": 1.0}))
        run(store.save(tracker))
    finally:
        other.engine.dispose()
    assert "dot" not in store.cache
    assert said(database, "dot")[:2] == ["one", "meanwhile"]


def test_a_turn_that_never_saved_leaves_nothing_behind(store, database):
    turn(store, "eve", "one")
    failed = run(store.retrieve("eve"))
    failed.update(UserUttered("lost in a crash", {"name": "inform", "confidence": 1.0}))  # no save
    next_turn = run(store.retrieve("eve"))
    assert next_turn is not failed
    assert "lost in a crash" not in [getattr(e, "text", None) for e in next_turn.events]


def test_a_tracker_lent_to_a_turn_is_not_lent_twice(store):
    turn(store, "fay", "one")
    first = run(store.retrieve("fay"))
    second = run(store.retrieve("fay"))
    assert first is not second


def test_a_new_session_is_read_from_sql(store, database):
    turn(store, "gus", "one")
    tracker = run(store.retrieve("gus"))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    run(store.save(tracker))
    assert "gus" not in store.cache
    fresh = run(store.retrieve("gus"))
    assert not any(getattr(e, "text", None) == "one" for e in fresh.events), "only the new session"


def test_a_forgotten_founder_is_not_kept(store, database):
    tracker = turn(store, "hal", "my secret plan")
    with store.forgetting("hal"):
        pass
    assert "hal" not in store.cache
    assert tracker is not run(store.retrieve("hal"))
    assert "my secret plan" not in json.dumps(stored(database, "hal"))


def test_the_cache_is_bounded(database, domain, monkeypatch):
    monkeypatch.setenv("TRACKER_CACHE_SIZE", "2")
    small = store_on(database, domain)
    try:
        for sender in ("i1", "i2", "i3"):
            turn(small, sender, "hello")  # a new conversation: created, then read from SQL
            turn(small, sender, "again")
        assert len(small.cache) == 2 and "i1" not in small.cache
    finally:
        small.engine.dispose()


# ---------------------------------------------------------------- two Rasa servers


class SecondServer(CoachServers):
    """Another Rasa server on the shared coach's databases (each with its own lock store)."""

    def __init__(self, workdir, first: CoachServers):
        super().__init__(workdir)
        self.tracker_db, self.canvas_db = first.tracker_db, first.canvas_db
        self.env = {**self.env, "TRACKER_DB": first.env["TRACKER_DB"], "CANVAS_DB_URL": first.env["CANVAS_DB_URL"]}


def test_a_second_rasa_server_writing_to_the_conversation_invalidates_the_first_ones(coach, tmp_path):
    second = SecondServer(tmp_path, coach)
    sender = "founder-on-two-servers"
    try:
        second.start_rasa()
        assert "Ready?" in texts(coach.say(sender, SAVE_A_BLOCK[0]))
        assert "called" in texts(coach.say(sender, SAVE_A_BLOCK[1]))  # the first server keeps this tracker
        # The venture's name and offer, told to the second server.
        assert "First segment" in texts(second.say(sender, SAVE_A_BLOCK[2]))
        # The first server must know the venture now: the answer is the segment's.
        reply = texts(coach.say(sender, SAVE_A_BLOCK[3]))
        assert "called" not in reply and "First segment" not in reply, reply
        for text in SAVE_A_BLOCK[4:]:
            reply = texts(coach.say(sender, text))
        assert "Saved as version" in reply
    finally:
        second.stop()
    users = [
        json.loads(data)["text"]
        for (data,) in rows(coach.tracker_db, "SELECT data FROM events WHERE sender_id = ? ORDER BY id", sender)
        if json.loads(data)["event"] == "user"
    ]
    assert users == SAVE_A_BLOCK, "every message stored once, in order"


# ---------------------------------------------------------------- PostgreSQL (the scaled set-up)


@pytest.mark.scaleout
@pytest.mark.skipif("postgresql" in missing_packages(), reason="PostgreSQL is not installed (.ci/run installs it)")
def test_turns_are_saved_once_in_order_on_postgresql(tmp_path, domain):
    """The save's plain SQL (the check and the prepared insert) in PostgreSQL's dialect."""
    server = Postgres(tmp_path)
    server.start()
    stores: List[CoachTrackerStore] = []
    try:

        def open_store() -> CoachTrackerStore:
            stores.append(
                CoachTrackerStore(
                    domain=domain,
                    dialect="postgresql",
                    host="127.0.0.1",
                    port=server.port,
                    db=server.database,
                    username=Postgres.ROLE,
                    password=server.password,
                )
            )
            return stores[-1]

        first, second = open_store(), open_store()  # two Rasa servers on one database
        turn(first, "pg", "one")
        turn(first, "pg", "two")
        hits = first.cache.hits
        turn(first, "pg", "three")
        assert first.cache.hits == hits + 1, "the tracker kept between turns was used"
        turn(second, "pg", "from the other server")
        turn(first, "pg", "four")  # reads SQL: the other server wrote
        users = [e.text for e in run(open_store().retrieve("pg")).events if isinstance(e, UserUttered)]
        assert users == ["one", "two", "three", "from the other server", "four"]
    finally:
        for store in stores:
            store.engine.dispose()
        server.stop()
        server.remove()
