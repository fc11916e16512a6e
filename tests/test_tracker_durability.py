"""The tracker store writes ahead without waiting for the disk (journal_mode=WAL,
synchronous=NORMAL: bot/plugins/tracker_store.py). A commit is then in the file's
write-ahead log, in the operating system's hands, the moment it returns: a Rasa
server killed (SIGKILL, no chance to close anything) loses no turn it answered, and
the conversation goes on where it was once the server is started again."""

from __future__ import annotations

import json
import signal
import threading
from typing import Any, List

from deploy.launchers import CoachServers, running_coach
from tests.conftest import SAVE_A_BLOCK, rows, texts


def said(coach: CoachServers, sender: str) -> List[str]:
    """The founder's messages as stored, read from outside as a new process would."""
    return [
        event["text"]
        for event in (
            json.loads(data)
            for (data,) in rows(coach.tracker_db, "SELECT data FROM events WHERE sender_id = ? ORDER BY id", sender)
        )
        if event["event"] == "user"
    ]


def test_a_rasa_server_killed_mid_conversation_loses_no_answered_turn(tmp_path):
    sender = "founder-killed-mid-conversation"
    with running_coach(tmp_path, CoachServers(tmp_path)) as coach:
        answered = SAVE_A_BLOCK[:4]
        for text in answered:
            assert texts(coach.say(sender, text)), text
        assert coach.tracker_db.with_name("tracker.db-wal").exists(), "the turns went through the log"

        # One more turn sent, and the server killed while it may be working on it.
        in_flight: List[Any] = []
        turn = threading.Thread(target=lambda: in_flight.append(_try_say(coach, sender, SAVE_A_BLOCK[4])))
        turn.start()
        coach.rasa.send_signal(signal.SIGKILL)
        coach.rasa.wait(timeout=60)
        turn.join(timeout=60)

        stored = said(coach, sender)
        assert stored[: len(answered)] == answered, "every answered turn, in order"
        assert stored in (answered, SAVE_A_BLOCK[:5]), "the turn in flight is stored whole or not at all"
        if in_flight and in_flight[0]:
            assert stored == SAVE_A_BLOCK[:5], "a turn answered before the kill is stored"

        coach.start_rasa()
        reply = ""
        for text in SAVE_A_BLOCK[len(stored) :]:
            reply = texts(coach.say(sender, text))
        assert "Saved as version" in reply, "the interview went on where it was"
    assert said(coach, sender) == SAVE_A_BLOCK, "each message stored once"


def _try_say(coach: CoachServers, sender: str, text: str) -> Any:
    try:
        return coach.say(sender, text)
    except OSError:  # the server died under the request
        return None
