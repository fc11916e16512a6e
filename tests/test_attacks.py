"""Issue 17's attacks, played live against the real servers, the way a stranger
would: the action server, the Rasa server (REST, the widget's socket.io, Slack
against the fake Slack of tests/slack_fake.py) and the web app with the review
dashboard, started as `make run` starts them. Each attack is refused, and the
stores show that nothing changed.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import socket
import subprocess
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

import pytest

from deploy.launchers import ROOT, free_port, running_coach, stop_process, web_command
from tests.conftest import rows
from tests.slack_fake import TEAM, SlackUser
from tests.socketio_wire import WidgetSocket, sender_of
from tests.test_slack_app import (  # noqa: F401 (the fake fixture)
    MENTOR,
    SPRING,
    STRANGER,
    SlackCoachServers,
    dm,
    fake,
    in_thread,
    start_thread,
    talk_to_saved_block,
)
from tests.web_helpers import REVIEW_ADMIN, WebCoachServers, add_user, users_command

COHORT_A, COHORT_B = "COHORT-A", "COHORT-B"
SLACK_VICTIM = "U0VICTIM"
MENTOR2 = "U0MENTOR2"  # a SLACK_MENTORS mentor the dashboard does not know
KB = 1024


class AttackedServers(SlackCoachServers, WebCoachServers):
    """Every public door at once: REST, socket.io and Slack on the Rasa server, and the web app."""

    def rasa_env(self) -> Dict[str, str]:
        return {**super().rasa_env(), "SLACK_MENTORS": f"{MENTOR}:SPRING-25,FALL-25;{MENTOR2}:SPRING-25"}

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, fake):
    workdir = tmp_path_factory.mktemp("attacks")
    with running_coach(workdir, AttackedServers(workdir, fake)) as coach:
        coach.start_web()
        yield coach


@pytest.fixture(scope="module")
def slack(servers, fake):
    return SlackUser(servers.webhook, fake)


def count_events(servers, sender: str) -> int:
    return rows(servers.tracker_db, "SELECT COUNT(*) FROM events WHERE sender_id = ?", sender)[0][0]


def user_events(servers, sender: str) -> List[Tuple[str]]:
    return rows(servers.tracker_db, "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", sender)


def user_cohorts(servers, sender: str) -> List[Optional[str]]:
    return [(json.loads(data).get("metadata") or {}).get("cohort") for (data,) in user_events(servers, sender)]


def founder_cohort(servers, sender: str) -> List[Tuple[str, Optional[str]]]:
    return rows(servers.canvas_db, "SELECT channel, cohort FROM founders WHERE sender_id = ?", sender)


async def widget_talk(servers, messages: List[str], cohort: str, session: Optional[str] = None) -> str:
    """A founder in the widget: a signed session, each message answered; returns the session."""
    async with WidgetSocket(servers.rasa_url) as widget:
        session = await widget.session(session)
        for text in messages:
            before = len(widget.answers())
            await widget.emit(
                "user_uttered", {"message": text, "session_id": session, "customData": {"cohort": cohort}}
            )
            assert await widget.wait_for("bot_uttered", before + 1, timeout=90), f"no answer to {text!r}"
            await asyncio.sleep(0.5)
        return session


@pytest.fixture(scope="module")
def victims(servers, slack, fake) -> Dict[str, str]:
    """Three founders of cohort B (Slack's is its DMs' cohort): over REST, in the widget, in a Slack DM."""
    for text in ["hi", "yes, let's go", "Restvictim, we sell secret sauce to restaurants"]:
        servers.say("rest-victim", text, {"cohort": COHORT_B})
    widget = asyncio.run(
        widget_talk(servers, ["hi", "yes, let's go", "Webvictim, we sell secret sauce to bakeries"], COHORT_B)
    )
    for text in ["hi", "yes, let's go", "Slackvictim, we sell secret sauce to hotels"]:
        dm(slack, fake, SLACK_VICTIM, text)
    return {"rest": "rest-victim", "widget": widget, "slack": f"slack:{TEAM}:{SLACK_VICTIM}"}


# ---------------------------------------------------------------- 1. the socket.io takeover


def forged_sessions(victims: Dict[str, str]) -> List[str]:
    """Every way to name another founder's conversation from the widget."""
    widget_sender, proof = victims["widget"].split(".")
    other_proof = victims["widget"].split(".")[1][::-1]
    return [
        victims["slack"],  # a Slack DM's key: anyone in the workspace can work it out
        victims["rest"],  # a REST founder's id
        widget_sender,  # another widget founder's id, without its proof
        f"{widget_sender}.{other_proof}",  # with a made-up proof
        f"{widget_sender}.{'A' * 43}",
        f"{victims['slack']}.{proof}",  # another channel's id with a real proof of another id
    ]


@pytest.mark.parametrize("origin", [None, "allowed"], ids=["no-origin", "allowed-origin"])
def test_the_widget_cannot_become_another_founder(servers, victims, origin):
    origin = servers.origins()[0] if origin == "allowed" else None
    before = {
        name: (count_events(servers, sender_of(s)), user_cohorts(servers, sender_of(s))) for name, s in victims.items()
    }

    async def attack(session: str) -> Tuple[List[Any], List[Any], str, List[Any]]:
        async with WidgetSocket(servers.rasa_url, origin) as widget:
            confirmed = await widget.session(session)
            for text in ["export my data", "delete my data", "/confirm_delete", "/greet"]:
                await widget.emit(
                    "user_uttered", {"message": text, "session_id": session, "customData": {"cohort": COHORT_A}}
                )
            await asyncio.sleep(3)  # any answer to those would have come by now
            refused_answers = widget.answers()
            # The session it was given instead works, and holds only its own conversation.
            await widget.emit("user_uttered", {"message": "export my data", "session_id": confirmed})
            await widget.wait_for("bot_uttered", 1, timeout=90)
            await asyncio.sleep(1)
            return refused_answers, widget.of("session_confirm"), confirmed, widget.answers()

    async def every_attack() -> List[Tuple[List[Any], List[Any], str, List[Any]]]:
        # Each forged session on a socket of its own, all at once: their waits overlap.
        return await asyncio.gather(*(attack(session) for session in forged_sessions(victims)))

    for session, (refused_answers, confirms, own, own_answers) in zip(
        forged_sessions(victims), asyncio.run(every_attack())
    ):
        assert refused_answers == [], f"{session!r} was answered"
        assert own.startswith("web:") and sender_of(own) != sender_of(session) and own != session
        assert len(confirms) == 5, "each message without a valid session got a new session, nothing else"
        assert all(sender_of(c) not in {sender_of(v) for v in victims.values()} for c in confirms)
        exported = json.dumps(own_answers)
        assert "secret sauce" not in exported and "victim" not in exported.lower(), "the export is its own"
    after = {
        name: (count_events(servers, sender_of(s)), user_cohorts(servers, sender_of(s))) for name, s in victims.items()
    }
    assert after == before, "no victim's conversation changed: not read, not deleted, not moved"
    for name in ("rest", "widget"):
        assert set(user_cohorts(servers, sender_of(victims[name]))) == {COHORT_B}


def test_the_rest_channel_may_not_use_the_widgets_or_slacks_ids(servers, victims):
    before = {name: count_events(servers, sender_of(s)) for name, s in victims.items()}
    for sender in (victims["slack"], sender_of(victims["widget"]), "web:anything", "slack:T0:U0"):
        status, body = post_json(servers.rasa_url + "/webhooks/rest/webhook", {"sender": sender, "message": "hi"})
        assert status == 400 and "may not start with" in body["error"], (sender, body)
    assert {name: count_events(servers, sender_of(s)) for name, s in victims.items()} == before


def test_a_conversations_cohort_is_fixed_at_its_first_message_and_only_an_admin_moves_it(servers):
    servers.say("cohort-founder", "hi", {"cohort": COHORT_B})
    servers.say("cohort-founder", "yes, let's go", {"cohort": COHORT_A})  # later metadata: ignored
    assert user_cohorts(servers, "cohort-founder") == [COHORT_B, COHORT_B]

    admin = Dashboard(servers).sign_in(*REVIEW_ADMIN)
    page = admin.get("/review/conversation?" + urllib.parse.urlencode({"sender": "cohort-founder"}))
    assert f"Cohort {COHORT_B}" in page
    coordinator = Dashboard(servers)
    add_user(servers, "cora-a", "cora-a password 1", "--cohort", COHORT_A)
    coordinator.sign_in("cora-a", "cora-a password 1")
    assert coordinator.status("/review/conversation?sender=cohort-founder") == 404
    # A coordinator may not move it; an admin may, and it is recorded.
    assert coordinator.post("/review/conversation/cohort", sender="cohort-founder", cohort=COHORT_A)[0] == 404
    status, _ = admin.post("/review/conversation/cohort", sender="cohort-founder", cohort=COHORT_A)
    assert status == 303
    page = admin.get("/review/conversation?sender=cohort-founder")
    assert f"{COHORT_B} → {COHORT_A}: admin" in page
    assert coordinator.status("/review/conversation?sender=cohort-founder") == 200
    # The coach follows the move: the founder's next messages and saves are of cohort A.
    servers.say("cohort-founder", "what is co-creation?", {"cohort": COHORT_B})
    assert user_cohorts(servers, "cohort-founder")[-1] == COHORT_A
    assert founder_cohort(servers, "cohort-founder") == [("rest", COHORT_A)]


# ---------------------------------------------------------------- 2. the loopback rule's headers


def raw_post(port: int, path: str, body: bytes, headers: List[Tuple[str, str]]) -> Tuple[int, bytes]:
    """A POST whose headers may repeat (http.client sends each line as given)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.putrequest("POST", path)
    for name, value in [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers]:
        connection.putheader(name, value)
    connection.endheaders(body)
    answer = connection.getresponse()
    result = answer.status, answer.read()
    connection.close()
    return result


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "203.0.113.9")],
        [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-For", "127.0.0.1")],
        [("X-Forwarded-For", "127.0.0.1, 203.0.113.9")],
        [("Forwarded", "for=203.0.113.9")],
        [("Forwarded", 'for=127.0.0.1, for="[2001:db8::17]:4711"')],
        [("Forwarded", "for=127.0.0.1"), ("Forwarded", "for=198.51.100.4;proto=https")],
        [("X-Forwarded-For", "127.0.0.1"), ("Forwarded", "for=unknown")],
    ],
)
def test_every_forwarded_address_must_be_loopback(servers, headers):
    body = json.dumps({"sender": "header-test", "message": "hi"}).encode()
    status, answer = raw_post(servers.rasa_port, "/webhooks/rest/webhook", body, headers)
    assert status == 403, (headers, answer)
    assert count_events(servers, "header-test") == 0


def test_loopback_through_a_local_proxy_is_still_answered(servers):
    body = json.dumps({"sender": "header-ok", "message": "hi"}).encode()
    headers = [("X-Forwarded-For", "127.0.0.1"), ("Forwarded", 'for="[::1]:5000";proto=http')]
    status, answer = raw_post(servers.rasa_port, "/webhooks/rest/webhook", body, headers)
    assert status == 200 and "Ready?" in answer.decode()


# ---------------------------------------------------------------- 3. 413 at every door


def refused_unread(port: int, path: str, declared: int, content_type: str = "application/json") -> str:
    """Declares a body of `declared` bytes, sends 1 KB of it and waits: the status line of an
    answer that came before the rest of the body (a server that read it all would wait)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {declared}\r\n\r\n".encode()
            + b"x" * 1024
        )
        return conn.recv(4096).decode(errors="replace").split("\r\n")[0]


def chunked_until_refused(port: int, path: str, chunks: int, chunk: int = 16 * KB) -> str:
    """Sends a chunked body without a length; the status once the server stops it."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
        try:
            for _ in range(chunks):
                conn.sendall(f"{chunk:x}\r\n".encode() + b"y" * chunk + b"\r\n")
            conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server closed the connection while we were still sending: refused
        return conn.recv(4096).decode(errors="replace").split("\r\n")[0]


def peak_memory_kb(pid: int) -> int:
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))


def test_every_public_door_refuses_an_oversized_body_before_reading_it(servers, fake):
    rasa, web = servers.rasa_port, servers.web_port
    doors = [
        (rasa, "/webhooks/rest/webhook", 64 * KB),
        (rasa, "/socket.io/?EIO=4&transport=polling", 64 * KB),
        (rasa, "/webhooks/slack/webhook", 1024 * KB),
        (rasa, "/model/parse", 64 * KB),  # Rasa's own routes too
        (web, "/review/login", 4 * KB),
        (web, "/review/conversation/notes", 64 * KB),
    ]
    peak = peak_memory_kb(servers.rasa.pid)
    for port, path, limit in doors:
        assert refused_unread(port, path, 50 * 1024 * KB).endswith("413 Request Entity Too Large"), path
        assert refused_unread(port, path, limit + 1).endswith("413 Request Entity Too Large"), path
        assert "413" in chunked_until_refused(port, path, limit // (16 * KB) + 2), path
    assert peak_memory_kb(servers.rasa.pid) - peak < 20 * 1024, "no 50 MB body was buffered"
    # Within the limits, each door reads the request as before: a 2 MB message is refused,
    # a 60 KB one (longer than the NLU reads) is answered, a 500 KB Slack body is checked for its signature.
    status, _ = post_json(servers.rasa_url + "/webhooks/rest/webhook", {"sender": "big", "message": "x" * 2_000_000})
    assert status == 413
    status, answer = post_json(servers.rasa_url + "/webhooks/rest/webhook", {"sender": "big", "message": "x" * 60_000})
    assert status == 200 and "sum" in json.dumps(answer).lower()
    status, _ = post_json(servers.webhook, {"type": "event_callback", "pad": "z" * 500_000})
    assert status == 401


def test_a_websocket_message_over_the_limit_is_refused_and_not_processed(servers):
    async def oversized() -> List[Any]:
        async with WidgetSocket(servers.rasa_url) as widget:
            session = await widget.session()
            await widget.emit("user_uttered", {"message": "z" * (70 * KB), "session_id": session})
            await asyncio.sleep(3)
            refused = widget.answers()
        # The same conversation, from a new connection: a message within the limit is answered,
        # and once it is, everything the server took from this conversation is stored.
        async with WidgetSocket(servers.rasa_url) as widget:
            assert await widget.session(session) == session
            await widget.emit("user_uttered", {"message": "hi", "session_id": session})
            answered = await widget.wait_for("bot_uttered", timeout=60)
        return [session, refused, answered]

    session, refused, answered = asyncio.run(oversized())
    assert refused == [] and answered, "the oversized message got no answer; the next one did"
    texts = [json.loads(data).get("text") for (data,) in user_events(servers, sender_of(session))]
    assert texts == ["hi"], "the oversized message was never stored"


# ---------------------------------------------------------------- 4. the sign-in limit


class Dashboard:
    """One browser's session on the dashboard, from a loopback address of its own."""

    def __init__(self, servers, address: str = "127.0.0.1", headers: Optional[Dict[str, str]] = None):
        self.port, self.address = servers.web_port, address
        self.extra_headers = headers or {}  # e.g. what a proxy in front adds
        self.origin = f"http://127.0.0.1:{self.port}"
        self.cookies: Dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, form: Optional[Dict[str, str]] = None) -> Tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120, source_address=(self.address, 0))
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Accept": "text/html"}
        headers.update(self.extra_headers)
        if body is not None:
            headers.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin})
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        for header, value in answer.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        text = answer.read().decode(errors="replace")
        connection.close()
        return answer.status, text

    def login_form(self) -> Dict[str, str]:
        _, page = self.request("GET", "/review/login")
        return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}

    def try_password(self, form: Dict[str, str], username: str, password: str) -> int:
        return self.request("POST", "/review/login", {**form, "username": username, "password": password})[0]

    def sign_in(self, username: str, password: str) -> "Dashboard":
        assert self.try_password(self.login_form(), username, password) == 303
        _, page = self.request("GET", "/review/conversations")
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return self

    def get(self, path: str) -> str:
        status, page = self.request("GET", path)
        assert status == 200, (path, status)
        return page

    def status(self, path: str) -> int:
        return self.request("GET", path)[0]

    def post(self, path: str, **form: str) -> Tuple[int, str]:
        return self.request("POST", path, {**form, "csrf_token": self.csrf})


def test_a_forwarding_header_counts_only_when_a_proxy_is_configured(servers):
    """Without a proxy setting, X-Forwarded-For is the client's own word: a new one with each
    guess does not reset the limit. With SANIC_PROXIES_COUNT=1 (a proxy in front, README),
    each forwarded address has its own count, so one attacker does not lock out the rest."""
    add_user(servers, "proxied-admin", "the real password 2", "--role", "admin")
    guessers = [Dashboard(servers, "127.0.0.6", {"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(6)]
    statuses = [guesser.try_password(guesser.login_form(), "proxied-admin", "wrong guess 456") for guesser in guessers]
    assert statuses == [401] * 5 + [429], statuses

    # The same stores, another web app: one configured as behind a proxy.
    add_user(servers, "proxied-coordinator", "the real password 3", "--cohort", COHORT_A)
    behind_proxy = SimpleNamespace(web_port=free_port())
    env = {**servers.env, "WEB_PORT": str(behind_proxy.web_port), "SANIC_PROXIES_COUNT": "1"}
    web = servers._spawn("web-behind-proxy", web_command(), env)
    try:
        servers._wait(f"http://127.0.0.1:{behind_proxy.web_port}/health", web, "web app behind a proxy", timeout=60)
        attacker = Dashboard(behind_proxy, "127.0.0.7", {"X-Forwarded-For": "203.0.113.66"})
        statuses = [
            attacker.try_password(attacker.login_form(), "proxied-coordinator", "wrong guess 789") for _ in range(6)
        ]
        assert statuses == [401] * 5 + [429], statuses
        colleague = Dashboard(behind_proxy, "127.0.0.7", {"X-Forwarded-For": "203.0.113.67"})
        assert colleague.try_password(colleague.login_form(), "proxied-coordinator", "a typo") == 401
    finally:
        stop_process(web)


def test_thirty_parallel_wrong_passwords_get_five_checks_and_the_owner_still_signs_in(servers):
    add_user(servers, "victim-admin", "the real password 1", "--role", "admin")
    # 30 browsers at one address, each with its own sign-in form, all at once.
    attackers = [Dashboard(servers, "127.0.0.2") for _ in range(30)]
    forms = [attacker.login_form() for attacker in attackers]
    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(lambda a, f: a.try_password(f, "victim-admin", "wrong guess 123"), attackers, forms))
    assert statuses.count(401) == 5 and statuses.count(429) == 25, statuses
    # From the attacker's address the name stays refused, even with the right password.
    assert attackers[0].try_password(attackers[0].login_form(), "victim-admin", "the real password 1") == 429
    # The name is under attack, so it is slowed down, not locked: its owner signs in from their own address.
    owner = Dashboard(servers, "127.0.0.5").sign_in("victim-admin", "the real password 1")
    assert "Conversations" in owner.get("/review/conversations")


# ---------------------------------------------------------------- 5. Slack: Export, revoked mentors, links


@pytest.fixture(scope="module")
def thread_block(slack, fake) -> Tuple[str, Any]:
    """A founder's block, saved in a thread of the SPRING-25 channel."""
    founder, thread = "U0THREADER", {}

    def say(text):
        if "ts" not in thread:
            thread["ts"], answer = start_thread(slack, fake, founder, SPRING, text)
            return answer
        return in_thread(slack, fake, founder, SPRING, thread["ts"], text, owner=founder)

    return founder, talk_to_saved_block(slack, fake, founder, "Threadsafe", say)


def test_another_member_of_the_thread_cannot_export_the_founders_block(slack, fake, thread_block):
    founder, saved = thread_block
    mark = fake.mark()
    assert slack.click(saved, "Export (Markdown and JSON)", STRANGER).status == 200
    [refusal] = fake.wait_for(lambda: fake.calls_since(mark, "chat.postEphemeral"), "the refusal")
    assert refusal.args["user"] == STRANGER and f"Only <@{founder}>" in refusal.args["text"]
    assert not fake.calls_since(mark, "files.completeUploadExternal") and not fake.calls_since(
        mark, "files.getUploadURLExternal"
    )
    assert slack.click(saved, "Export (Markdown and JSON)", founder).status == 200
    fake.wait_for(lambda: fake.calls_since(mark, "files.completeUploadExternal"), "the founder's own export")


def lookup(slack, user: str, text: str) -> str:
    reply = slack.command(user, text)
    assert reply.status == 200
    return json.dumps(reply.json())


def test_a_revoked_mentor_stays_revoked_and_an_unreadable_dashboard_grants_nothing(servers, slack, thread_block):
    assert "Big banks" in lookup(slack, MENTOR, "Threadsafe"), "SLACK_MENTORS makes them a mentor of SPRING-25"
    add_user(servers, "mo", "mo's password 12", "--role", "mentor", "--cohort", "SPRING-25", "--slack-user", MENTOR)
    assert "Big banks" in lookup(slack, MENTOR, "Threadsafe")
    users_command(servers, "slack", "mo")  # the admin clears mo's Slack id
    assert "Big banks" not in lookup(slack, MENTOR, "Threadsafe"), "the setting's grant does not come back"
    users_command(servers, "slack", "mo", MENTOR)
    users_command(servers, "remove", "mo")
    assert "Big banks" not in lookup(slack, MENTOR, "Threadsafe"), "nor after the user is removed"

    assert "Big banks" in lookup(slack, MENTOR2, "Threadsafe"), "a mentor the dashboard never knew: the setting"
    with unreadable(servers.review_db):
        assert "Big banks" not in lookup(slack, MENTOR2, "Threadsafe"), "an unreadable dashboard grants nothing"
    assert "Big banks" in lookup(slack, MENTOR2, "Threadsafe")


@contextmanager
def unreadable(db: Path):
    """The review database replaced by a file that is no database, then put back."""
    parts = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    for part in parts:
        if part.exists():
            part.rename(part.with_name(part.name + ".away"))
    db.write_bytes(b"this is not an SQLite database" * 10)
    try:
        yield
    finally:
        db.unlink()
        for part in parts:
            away = part.with_name(part.name + ".away")
            if away.exists():
                away.rename(part)


def test_a_founders_markdown_stays_text_in_slack_and_in_the_dashboards_export(servers, slack, fake):
    # A name of more than five words before its first colon is taken whole (bot.coach.extract).
    venture = "The very best claim company ever [Claim](https://example.com) <b>x</b>"
    offer = "we deliver fresh coffee beans to offices"
    # As Slack sends what a user typed: its three escapes, and a URL wrapped as a link.
    typed = (
        venture.replace("<", "&lt;").replace(">", "&gt;").replace("(https://example.com)", "(<https://example.com>)")
    )
    for text in ["hi", "yes, let's go", typed]:
        dm(slack, fake, "U0LINKER", text)
    answer = dm(slack, fake, "U0LINKER", offer)
    shown = answer.all_text
    assert "segments of The very best claim company ever" in shown, shown
    assert "[Claim](https://example.com)" in shown
    assert "<https://example.com|" not in shown, "no link disguised by the founder's label"
    assert "&lt;b&gt;x&lt;/b&gt;" in shown and "<b>" not in shown

    for text in ["hi", "yes, let's go", venture, offer]:
        servers.say("md-founder", text)
    admin = Dashboard(servers).sign_in(*REVIEW_ADMIN)
    markdown = admin.get("/review/conversation.md?sender=md-founder")
    # No live link or tag: every [ ] < > of the founder's is escaped, wherever the coach quotes it.
    assert not re.search(r"(?<!\\)\[[^\]\n]*(?<!\\)\]\(https://example", markdown), markdown
    assert not re.search(r"(?<!\\)<b>", markdown) and markdown.count("\\<b\\>x") >= 3
    assert "\\[Claim\\]" in markdown
    page = admin.get("/review/conversation?sender=md-founder")
    assert "[Claim](https://example.com) &lt;b&gt;x&lt;/b&gt;" in page, "the dashboard shows it as typed"


# ---------------------------------------------------------------- secrets


def test_no_log_holds_a_secret_or_a_proof(servers, victims):
    logs = "".join(servers.log(name) for name in ("rasa", "actions", "web"))
    for secret in (servers.env["ACTIONS_TOKEN"], servers.env["WIDGET_SECRET"], victims["widget"].split(".")[1]):
        assert secret not in logs


def post_json(url: str, body: Any) -> Tuple[int, Any]:
    data = json.dumps(body).encode()
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    connection.request("POST", parsed.path, body=data, headers={"Content-Type": "application/json"})
    answer = connection.getresponse()
    raw = answer.read()
    connection.close()
    try:
        return answer.status, json.loads(raw)
    except ValueError:
        return answer.status, raw.decode(errors="replace")


def test_the_stores_files_are_the_owners_only_under_make_run(tmp_path):
    """`make run`'s recipe, run here on its own: var/ and what is in it are the owner's."""
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    (var / "tracker.db").write_text("x")
    (var / "tracker.db").chmod(0o644)
    recipe = subprocess.run(
        [
            "make",
            "-s",
            "-f",
            str(ROOT / "Makefile"),
            "--eval",
            "private-var-check: ; @$(PRIVATE_VAR)",
            "private-var-check",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "ACTIONS_TOKEN": "x" * 32},
    )
    assert recipe.returncode == 0, recipe.stderr
    assert oct(var.stat().st_mode & 0o777) == "0o711" and oct((var / "tracker.db").stat().st_mode & 0o777) == "0o600"


def test_rasa_sends_the_action_servers_token_in_a_header_never_in_the_url(monkeypatch):
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("ACTIONS_TOKEN", "t" * 40)
    monkeypatch.setenv("ACTIONS_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("TRACKER_DB", "unused.db")
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    assert endpoint.headers == {"Authorization": "Bearer " + "t" * 40}
    assert endpoint.token is None and "t" * 40 not in json.dumps(endpoint.combine_parameters())
