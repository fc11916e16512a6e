"""A founder's data is theirs: only the Rasa server may call the action server,
"delete my data" deletes the conversation too (or nothing, if a store is busy),
and "export my data" hands over every version. Against the real servers."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from bot.coach import conversation as coach
from deploy.launchers import CoachServers, actions_command, free_port, rasa_command
from tests.conftest import buttons, rows, save_a_block, sqlite_locked, texts

# What the founder typed in save_a_block (tests/conftest.py) that must not outlive a delete.
SECRET_WORDS = ("Brewbox", "coffee beans", "big banks", "200k a year", "face to face meetings")


@pytest.fixture
def coach_servers(remote_coach: CoachServers) -> CoachServers:
    """The coach with a separate action server (tests/conftest.py), as the scaled set-up
    runs it: this module tests the action server's doors, and the founder's data in that
    mode (most of the suite runs the actions in the Rasa server). `coach` here is the
    coach's words."""
    return remote_coach


def events_of(servers: CoachServers, sender: str) -> List[Dict[str, Any]]:
    return [
        json.loads(data)
        for (data,) in rows(servers.tracker_db, "SELECT data FROM events WHERE sender_id = ? ORDER BY id", sender)
    ]


def founder_rows(servers: CoachServers, sender: str) -> List[tuple]:
    return rows(servers.canvas_db, "SELECT id FROM founders WHERE sender_id = ?", sender)


def post(url: str, body: Any, timeout: float = 30, token: Optional[str] = None) -> tuple:
    """POSTs JSON; `token` goes in the Authorization header, as the Rasa server sends it."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def forged_call(action: str, sender: str, slots: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What `curl -XPOST :5055/webhook` with a made-up tracker sends."""
    return {
        "next_action": action,
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": {"text": "x", "intent": {}},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
            "latest_input_channel": "rest",
        },
    }


# ---------------------------------------------------------------- the action server


def test_a_forged_call_to_the_action_server_is_refused_and_the_block_stays(coach_servers):
    victim = "founder-victim"
    save_a_block(coach_servers, victim)
    webhook = f"http://127.0.0.1:{coach_servers.actions_port}/webhook"
    stolen_block = {"venture_name": "Pwned", "segments": [{"profile": {"name": "x"}, "choices": []}]}
    for action, slots in (
        ("action_delete_data", {}),
        ("action_show_canvas", {"stage": "saved"}),
        ("action_save_block", {"venture_name": "Pwned", "segments": stolen_block["segments"]}),
        ("action_export_data", {}),
    ):
        status, body = post(webhook, forged_call(action, victim, slots))
        assert status == 401, (action, body)
        assert "responses" not in body and "events" not in body, "no action ran"
        status, body = post(webhook, forged_call(action, victim, slots), token="not-the-token")
        assert status == 403, (action, body)
        assert "responses" not in body
        # The right token in the URL, where logs would keep it, counts as none.
        status, body = post(f"{webhook}?token={coach_servers.env['ACTIONS_TOKEN']}", forged_call(action, victim, slots))
        assert status == 401, (action, body)
    status, _ = post(f"http://127.0.0.1:{coach_servers.actions_port}/actions", {})
    assert status in (401, 405), "not even the list of actions"
    # Nothing was deleted or written: the founder's one venture, its one final version.
    assert rows(
        coach_servers.canvas_db,
        "SELECT v.name, b.version FROM block_versions b JOIN ventures v "
        "ON v.id = b.venture_id JOIN founders f ON f.id = v.founder_id WHERE f.sender_id = ? "
        "AND b.status = 'final'",
        victim,
    ) == [("Brewbox", 1)]
    # The Rasa server's own calls still work.
    assert "Brewbox" in texts(coach_servers.say(victim, "show my canvas"))


def test_a_failing_action_says_only_that_it_failed(coach_servers):
    """rasa-sdk would answer with the whole request, and Rasa would log the founder's words."""
    token = coach_servers.env["ACTIONS_TOKEN"]
    call = forged_call(
        "action_show_canvas",
        "founder-crash",
        {"stage": "review", "venture_name": "Brewbox", "segments": "dentists who need appointments"},
    )
    call["tracker"]["latest_message"]["text"] = "dentists who need appointments"
    status, body = post(f"http://127.0.0.1:{coach_servers.actions_port}/webhook", call, token=token)
    assert status == 500
    assert body == {"error": "The action failed.", "action_name": "action_show_canvas"}
    assert "dentists" not in coach_servers.log("actions")


def test_even_with_the_token_the_action_server_cannot_delete_anything(coach_servers):
    """The delete runs in the Rasa server only; the action server has no such action."""
    token = coach_servers.env["ACTIONS_TOKEN"]
    status, body = post(
        f"http://127.0.0.1:{coach_servers.actions_port}/webhook",
        forged_call("action_delete_data", "founder-victim"),
        token=token,
    )
    assert status == 404, body
    assert founder_rows(coach_servers, "founder-victim")


def listening_addresses(port: int) -> List[str]:
    """The local addresses a TCP port listens on, from the kernel's own table."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                if width == 8:
                    found.append(".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.append("::1" if address == "0" * 24 + "01000000" else address)
    return found


def test_the_action_server_listens_on_loopback_only(coach_servers):
    assert listening_addresses(coach_servers.actions_port) == ["127.0.0.1"]


def test_the_action_server_will_not_start_without_a_token(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "ACTIONS_TOKEN"}
    result = subprocess.run(
        actions_command(free_port()),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "ACTIONS_TOKEN is not set" in result.stderr


def test_the_http_api_will_not_start_without_authentication():
    result = subprocess.run(
        rasa_command(free_port(), "--enable-api"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--auth-token" in result.stderr


def test_make_run_makes_a_token_once_and_keeps_it_out_of_git(tmp_path):
    root = Path(__file__).resolve().parents[1]
    env = {key: value for key, value in os.environ.items() if key not in ("ACTIONS_TOKEN", "MAKEFLAGS", "MAKELEVEL")}
    show = ["make", "-s", "--no-print-directory", "-f", str(root / "Makefile"), "print-actions-token"]
    first = subprocess.run(show, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    second = subprocess.run(show, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    token = (tmp_path / "var" / "actions_token").read_text().strip()
    assert len(token) >= 32 and first.stdout.strip() == second.stdout.strip() == f"{len(token)} characters"
    assert oct((tmp_path / "var" / "actions_token").stat().st_mode & 0o777) == "0o600"
    ignored = subprocess.run(["git", "check-ignore", "-q", "var/actions_token"], cwd=root)
    assert ignored.returncode == 0, "var/ is ignored by git"


# ---------------------------------------------------------------- delete my data


def test_delete_my_data_forgets_the_conversation_and_the_blocks(coach_servers):
    sender, neighbour = "founder-forget-me", "founder-stays"
    save_a_block(coach_servers, sender)
    save_a_block(coach_servers, neighbour)
    assert any("Brewbox" in json.dumps(e) for e in events_of(coach_servers, sender))

    reply = coach_servers.say(sender, "please delete my data")
    assert "Yes, delete everything" in buttons(reply)
    reply = coach_servers.say(sender, "/confirm_delete")
    assert coach.DELETED in texts(reply)
    assert {"type": "data_deleted"} in [r.get("custom") for r in reply], "the widget drops its own copy"

    left = events_of(coach_servers, sender)
    stored = json.dumps(left)
    for word in (*SECRET_WORDS, "please delete my data", "/confirm_delete"):
        assert word not in stored, f"{word!r} survived the delete"
    assert not [e for e in left if e["event"] == "user"], "no message the founder typed"
    assert [e["event"] for e in left][:2] == ["restart", "action"], "the bare fact of a restart comes first"
    slot_values = [e["value"] for e in left if e["event"] == "slot"]
    assert all(value in (None, False, "intro") for value in slot_values), slot_values
    assert founder_rows(coach_servers, sender) == []

    # The neighbour keeps everything.
    assert founder_rows(coach_servers, neighbour)
    assert any("Brewbox" in json.dumps(e) for e in events_of(coach_servers, neighbour))

    # The forgotten founder starts afresh, and the coach remembers nothing of them.
    assert "Ready?" in texts(coach_servers.say(sender, "hi"))
    assert "Brewbox" not in texts(coach_servers.say(sender, "show my canvas"))
    assert "user" in [e["event"] for e in events_of(coach_servers, sender)], "new messages are kept again"


def wait_for(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.parametrize("locked_store, lock", [("tracker_db", "IMMEDIATE"), ("canvas_db", "IMMEDIATE")])
def test_a_busy_database_during_the_delete_leaves_both_stores_as_they_were(coach_servers, locked_store, lock):
    sender = f"founder-locked-{locked_store}-{lock}"
    save_a_block(coach_servers, sender)
    coach_servers.say(sender, "delete my data")
    events_before = len(events_of(coach_servers, sender))
    failures_logged = coach_servers.log("rasa").count("did not happen")
    replies: List[Any] = []
    turn = threading.Thread(target=lambda: replies.append(coach_servers.say(sender, "/confirm_delete")))
    # Another writer holds the database until the delete has given up; then the turn's
    # own save goes through. (A reader does not stop it: the test after this one.)
    with sqlite_locked(getattr(coach_servers, locked_store), lock):
        turn.start()
        wait_for(lambda: coach_servers.log("rasa").count("did not happen") > failures_logged)
    turn.join(timeout=90)
    assert replies, "the turn answered"
    said = texts(replies[0])
    assert coach.DELETE_INCOMPLETE in said and coach.DELETED not in said
    assert "Yes, delete everything" in buttons(replies[0]), "the founder can ask again"
    assert founder_rows(coach_servers, sender), "the canvas store is as it was"
    kept = events_of(coach_servers, sender)
    assert len(kept) >= events_before and any("Brewbox" in json.dumps(e) for e in kept), "the tracker too"

    # Asked again once the database is free, the delete goes through.
    assert coach.DELETED in texts(coach_servers.say(sender, "/confirm_delete"))
    assert founder_rows(coach_servers, sender) == []
    assert "Brewbox" not in json.dumps(events_of(coach_servers, sender))


def on_disk(db: Path) -> bytes:
    """An SQLite database's bytes as files: the database and its write-ahead log."""
    return b"".join(part.read_bytes() for part in (db, db.with_name(db.name + "-wal")) if part.exists())


def test_a_reader_does_not_stop_the_delete_and_no_deleted_word_stays_on_disk(coach_servers):
    """The tracker store writes ahead (WAL): the founder's words are in tracker.db-wal
    until a checkpoint. The delete empties the log once no reader holds an older
    snapshot of it; until then it is tried again after each save."""
    sender = "founder-zanzibrew"
    for text in ["hi", "yes, let's go", "It's called Zanzibrew, we deliver quokka saddles to offices"]:
        coach_servers.say(sender, text)
    assert b"quokka saddles" in on_disk(coach_servers.tracker_db)
    coach_servers.say(sender, "delete my data")
    with sqlite_locked(coach_servers.tracker_db, "READ"):  # e.g. the review dashboard mid-read
        assert coach.DELETED in texts(coach_servers.say(sender, "/confirm_delete"))
    coach_servers.say("founder-after-the-reader", "hi")  # the next save, once the reader is done
    for word in (b"Zanzibrew", b"quokka saddles"):
        assert word not in on_disk(coach_servers.tracker_db), f"{word!r} is still in the tracker's files"
        assert word not in on_disk(coach_servers.canvas_db)


# ---------------------------------------------------------------- export my data


def test_export_my_data_returns_every_version(coach_servers):
    sender = "founder-export"
    save_a_block(coach_servers, sender)
    assert "Added Co-creation" in texts(coach_servers.say(sender, "add co-creation"))
    coach_servers.say(sender, "looks good")
    assert "version 2" in texts(coach_servers.say(sender, "yes, save it"))

    replies = coach_servers.say(sender, "send me everything you have about me")
    assert coach.EXPORTED in texts(replies)
    export = next(r["custom"] for r in replies if r.get("custom", {}).get("type") == "data_export")
    files = {f["filename"]: f["content"] for f in export["files"]}
    data = json.loads(files["rapport-my-data.json"])
    finals = [b["version"] for b in data["blocks"] if b["status"] == "final"]
    assert finals == [1, 2]
    assert data["blocks"][-1]["segments"][0]["choices"][-1]["type_id"] == "co_creation"
    blocks_part, conversation_part = files["rapport-my-data.md"].split("## Our conversation")
    assert blocks_part.count("# Customer Relationships: Brewbox") == len(data["blocks"])
    # The whole conversation, every session of it, up to the request itself.
    said = [line["text"] for line in data["conversation"] if line["from"] == "founder"]
    assert said[0] == "hi" and "about 20 big banks at 200k a year, they renew every year" in said
    assert said[-1] == "send me everything you have about me"
    assert "about 20 big banks at 200k a year, they renew every year" in conversation_part


def test_the_token_is_never_logged(coach_servers):
    token = coach_servers.env["ACTIONS_TOKEN"]
    assert coach_servers.log("actions") and coach_servers.log("rasa")
    assert token not in coach_servers.log("actions")
    assert token not in coach_servers.log("rasa")


# ---------------------------------------------------------------- the REST channel


@pytest.mark.parametrize(
    "peer, forwarded, authorization, token, refused",
    [
        ("127.0.0.1", None, None, None, None),  # curl, make shell, the tests
        ("::1", None, None, None, None),
        ("127.0.0.1", "127.0.0.1", None, None, None),  # a local nginx
        ("203.0.113.9", None, None, None, 403),  # anyone else, straight to the Rasa server
        ("127.0.0.1", "203.0.113.9", None, None, 403),  # anyone else, through a proxy
        ("127.0.0.1", "not an address", None, None, 403),
        ("203.0.113.9", None, "Bearer s3cret-s3cret-s3cret", "s3cret-s3cret-s3cret", None),  # opened with a token
        ("127.0.0.1", None, None, "s3cret-s3cret-s3cret", 401),  # then even this machine needs it
        ("203.0.113.9", None, "Bearer wrong", "s3cret-s3cret-s3cret", 403),
    ],
)
def test_who_may_call_the_rest_channel(peer, forwarded, authorization, token, refused):
    from bot.plugins.channels.rest import caller_refusal

    refusal = caller_refusal(peer, forwarded, authorization, token)
    assert (refusal[0] if refusal else None) == refused


def test_a_proxied_rest_call_from_elsewhere_is_refused_by_the_real_server(coach_servers):
    save_a_block(coach_servers, "founder-rest")
    request = urllib.request.Request(
        f"http://127.0.0.1:{coach_servers.rasa_port}/webhooks/rest/webhook",
        data=json.dumps({"sender": "founder-rest", "message": "/export_data"}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    assert "Brewbox" not in refused.value.read().decode()
