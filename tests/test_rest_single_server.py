"""The REST channel on the single-server set-up (`make run`: SQLite, one Rasa server), for
real: REST_TOKEN checked by the running server, and a message id answered once, even
after the Rasa server was killed and started again."""

from __future__ import annotations

import json
import signal
import sqlite3
import urllib.error
import urllib.request
import uuid
from typing import Any, Dict, List, Optional, Tuple

import pytest

from deploy.launchers import CoachServers, running_coach
from tests.conftest import texts

TOKEN = "rest-" + uuid.uuid4().hex


class TokenCoachServers(CoachServers):
    def rasa_env(self) -> Dict[str, str]:
        return {**self.env, "REST_TOKEN": TOKEN}


@pytest.fixture(scope="module")
def coach(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("rest")
    with running_coach(workdir, TokenCoachServers(workdir)) as servers:
        yield servers


def post(
    coach: CoachServers, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None, token: Optional[str] = TOKEN
) -> Tuple[int, Any]:
    headers = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{coach.rasa_port}/webhooks/rest/webhook", data=json.dumps(body).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def user_events(coach: CoachServers, sender: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(coach.tracker_db) as connection:
        rows = connection.execute("SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender,)).fetchall()
    return [e for e in (json.loads(d) for (d,) in rows) if e["event"] == "user"]


def test_rest_token_is_checked_by_the_real_server(coach):
    sender = f"token-{uuid.uuid4().hex[:6]}"
    status, body = post(coach, {"sender": sender, "message": "hi"}, token=None)
    assert status == 401 and "REST_TOKEN" in body["error"], "even from this machine, once REST_TOKEN is set"
    status, body = post(coach, {"sender": sender, "message": "hi"}, token="not-the-token")
    assert status == 403 and body == {"error": "Wrong token."}
    assert user_events(coach, sender) == [], "nothing refused was processed"
    status, replies = post(coach, {"sender": sender, "message": "hi"})
    assert status == 200 and "Ready?" in texts(replies)
    assert TOKEN not in coach.log("rasa")


def test_a_message_id_is_answered_once_even_after_a_restart(coach):
    sender = f"replay-{uuid.uuid4().hex[:6]}"
    first_id, second_id = f"m1-{uuid.uuid4().hex[:6]}", f"m2-{uuid.uuid4().hex[:6]}"
    status, first = post(coach, {"sender": sender, "message": "hi", "message_id": first_id})
    assert status == 200 and "Ready?" in texts(first)
    # The same id again, with other words: the first answer, and nothing processed.
    status, again = post(coach, {"sender": sender, "message": "yes, let's go", "message_id": first_id})
    assert (status, again) == (200, first)
    # The id in the Idempotency-Key header alone is the message's id.
    status, second = post(coach, {"sender": sender, "message": "yes, let's go"}, {"Idempotency-Key": second_id})
    assert status == 200 and "venture called" in texts(second)
    assert [e.get("message_id") for e in user_events(coach, sender)] == [first_id, second_id]

    # The Rasa server killed and started again: the ids are read back from SQLite.
    coach.rasa.send_signal(signal.SIGKILL)
    coach.rasa.wait(timeout=30)
    coach.start_rasa()
    status, replayed = post(coach, {"sender": sender, "message": "yes, let's go", "message_id": second_id})
    assert (status, replayed) == (200, second)
    assert [e.get("message_id") for e in user_events(coach, sender)] == [first_id, second_id], "one event per id"


@pytest.mark.parametrize(
    "body_id, header_id",
    [("m-1", "m-2"), (None, "not an id!"), (None, "x" * 129)],
)
def test_an_idempotency_key_that_is_not_the_message_id_is_refused(coach, body_id, header_id):
    sender = f"header-{uuid.uuid4().hex[:6]}"
    body = {"sender": sender, "message": "hi", **({"message_id": body_id} if body_id else {})}
    status, answer = post(coach, body, {"Idempotency-Key": header_id})
    assert status == 400 and "Idempotency-Key" in answer["error"]
    assert user_events(coach, sender) == []
