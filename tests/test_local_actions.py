"""The custom actions run in the Rasa server by default, and in a separate action
server when ACTIONS_URL names one (bot/plugins/patches/local_actions.py): the same
answers either way, a failing action answered with the clear message, and no
action server needed or called in the default mode."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from bot.coach.conversation import ACTIONS_UNREACHABLE
from deploy.launchers import CoachServers, free_port, rasa_command, running_coach
from tests.conftest import SAVE_A_BLOCK, rows, texts

# A whole coaching conversation with a question, a greeting, a pause and a resume in
# the middle of a segment: every kind of custom action, form validation included.
CONVERSATION = [
    *SAVE_A_BLOCK[:4],
    "what is co-creation?",
    "hi",
    "let's pause here",
    "continue",
    *SAVE_A_BLOCK[4:10],
    "add communities to the first segment",
    "show my canvas",
    *SAVE_A_BLOCK[10:],
]


def replies_of(servers: CoachServers, sender: str) -> List[str]:
    """Each turn's replies, without the recipient (each mode talks to its own founder)
    and the saved block's time."""
    return [
        re.sub(
            r'"created_at": "[^"]*"',
            '"created_at": "..."',
            json.dumps([{k: v for k, v in r.items() if k != "recipient_id"} for r in servers.say(sender, text)]),
        )
        for text in CONVERSATION
    ]


def test_the_actions_run_in_the_rasa_server_by_default(coach):
    assert coach.env["ACTIONS_URL"] == "" and coach.actions is None, "no action server is started"
    replies = replies_of(coach, "local-actions-founder")
    assert "Saved as version" in replies[-1]
    saved = rows(
        coach.canvas_db,
        "SELECT v.name FROM ventures v JOIN founders f ON f.id = v.founder_id WHERE f.sender_id = ?",
        "local-actions-founder",
    )
    assert saved == [("Brewbox",)], "the in-process actions wrote the block to the canvas store"
    assert "Custom actions run in the Rasa server" in coach.log("rasa")


def test_both_modes_answer_the_same_conversation_alike(coach, remote_coach):
    local = replies_of(coach, "same-answers-local")
    remote = replies_of(remote_coach, "same-answers-remote")
    assert len(local) == len(remote) == len(CONVERSATION)
    for message, here, there in zip(CONVERSATION, local, remote):
        assert here == there, message
    assert not any(ACTIONS_UNREACHABLE in turn for turn in local)


def test_both_modes_store_the_same_events(coach, remote_coach):
    """The tracker store holds the same events, in the same order, whichever way the actions ran."""
    sender_local, sender_remote = "same-events-local", "same-events-remote"
    for text in CONVERSATION[:8]:
        coach.say(sender_local, text)
        remote_coach.say(sender_remote, text)

    def events(servers: CoachServers, sender: str) -> List[Any]:
        stored = [
            json.loads(data)
            for (data,) in rows(servers.tracker_db, "SELECT data FROM events WHERE sender_id = ? ORDER BY id", sender)
        ]
        return [
            (e["event"], e.get("name"), e.get("text"), json.dumps(e.get("value"), sort_keys=True))
            for e in stored
            if e["event"] in ("action", "bot", "slot", "active_loop", "user")
        ]

    assert events(coach, sender_local) == events(remote_coach, sender_remote)


# ---------------------------------------------------------------- a failing action


class FailingActionsCoach(CoachServers):
    """The Rasa server running tests/failing_actions in process: its greeting raises."""

    def rasa_env(self) -> Dict[str, str]:
        return {**self.env, "ACTIONS_PACKAGE": "tests.failing_actions"}


@pytest.fixture(scope="module")
def failing(tmp_path_factory) -> Iterator[CoachServers]:
    workdir = tmp_path_factory.mktemp("failing-actions")
    with running_coach(workdir, FailingActionsCoach(workdir)) as servers:
        yield servers


def test_a_failing_action_in_the_rasa_server_is_answered_clearly(failing):
    sender = "founder-whose-greeting-fails"
    assert texts(failing.say(sender, "hi, I am Zebedee from Quuxworks")) == ACTIONS_UNREACHABLE
    # The turn ended there, the founder's message was kept, and the conversation goes on.
    assert "Co-creation" in texts(failing.say(sender, "what is co-creation?"))
    stored = [data for (data,) in rows(failing.tracker_db, "SELECT data FROM events WHERE sender_id = ?", sender)]
    assert any("Quuxworks" in data for data in stored)
    log = failing.log("rasa")
    assert "action action_greet failed: RuntimeError" in log
    assert "Quuxworks" not in log, "the founder's words reach no log"


# ---------------------------------------------------------------- settings


def test_an_action_server_without_a_token_is_refused_at_start():
    env = {**os.environ, "ACTIONS_URL": "http://127.0.0.1:5055/webhook", "ACTIONS_TOKEN": ""}
    result = subprocess.run(
        rasa_command(free_port()),
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "ACTIONS_TOKEN" in result.stderr and "unset ACTIONS_URL" in result.stderr
