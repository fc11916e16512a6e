"""`make run-scaled` itself, under kill -9 (issue 20): the command users run, not a
harness beside it. It starts on free ports in a directory of its own; processes
are found with `supervisorctl ... pid NAME`, as an operator would, and killed
with SIGKILL while founders talk to the coach over REST through nginx.

Each founder's message goes with its own id (body and Idempotency-Key) and is
tried up to 3 times (same id, 2 s then 4 s apart). PostgreSQL is then checked
against what the founders were told (deploy/client.py): each acknowledged
message stored exactly once, none lost, none twice.

`make test` kills a Rasa server under a small load, then shows a crash loop
given up on and Ctrl-C stopping everything (about 3 minutes on 2 busy cores).
`make reliability` (RELIABILITY=full) kills every kind of process once under a
larger load and writes the figures of docs/reliability.md (RELIABILITY_REPORT).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import psycopg2
import pytest
import redis

from bot.coach.conversation import ACTIONS_UNREACHABLE as ACTIONS_FAILED
from deploy.client import ACKNOWLEDGED, Founders, Sent, check_stored
from deploy.services import ROOT, free_port, http_ok, missing_packages, port_open
from scripts.record_test_stories import CONVERSATIONS
from tests.slack_fake import SIGNING_SECRET, FakeSlack, SlackUser, dm_channel
from tests.slack_fake import TOKEN as SLACK_TOKEN
from tests.socketio_wire import WidgetSocket, sender_of

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif(
        bool(missing_packages()), reason=f"missing Debian packages: {missing_packages()} (.ci/run installs them)"
    ),
]

FULL = os.environ.get("RELIABILITY") == "full"
SCRIPT: List[str] = CONVERSATIONS["happy_path"]["two segments, saved"]  # 19 turns, greeting to saved block
CONVERSATIONS_PER_KILL = 24 if FULL else 6
TRIES = 3
PAUSES = (2.0, 4.0)  # between the tries
KINDS = ["rasa1", "actions1", "web", "redis", "postgres", "nginx"] if FULL else ["rasa1"]
RESULTS: Dict[str, Any] = {}
SUPERVISORCTL = str(Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin" / "supervisorctl")


class RunScaled:
    """`make run-scaled` running in a process group of its own, as in a terminal."""

    def __init__(self, extra_env: Dict[str, str]) -> None:
        # As root, PostgreSQL runs as `postgres`, which must reach its data directory.
        self.workdir = Path(tempfile.mkdtemp(prefix="rapport-run-scaled-"))
        self.workdir.chmod(0o755)
        self.ports = {
            name: free_port()
            for name in ("RASA_PORT", "ACTIONS_PORT", "WEB_PORT", "RASA_PORT_1", "RASA_PORT_2")
            + ("ACTIONS_PORT_1", "ACTIONS_PORT_2", "POSTGRES_PORT", "REDIS_PORT")
        }
        self.token = uuid.uuid4().hex + uuid.uuid4().hex  # ACTIONS_TOKEN, to look for in the logs
        env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        env.update({k: str(v) for k, v in self.ports.items()})
        env.update({"SCALED_DIR": str(self.workdir), "ACTIONS_TOKEN": self.token, **extra_env})
        self.output = self.workdir / "make-run-scaled.out"
        with open(self.output, "wb") as out:
            self.make = subprocess.Popen(
                ["make", "run-scaled"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['RASA_PORT']}"

    def said(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_until_up(self, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Ctrl-C stops everything" in self.said():
                return
            if self.make.poll() is not None:
                raise AssertionError(f"make run-scaled exited with {self.make.returncode}:\n{self.said()[-3000:]}")
            time.sleep(1)
        raise AssertionError(f"make run-scaled did not come up within {timeout:.0f} s:\n{self.said()[-3000:]}")

    def supervisorctl(self, *args: str) -> str:
        result = subprocess.run(
            [SUPERVISORCTL, "-c", str(self.workdir / "supervisord.conf"), *args], capture_output=True, text=True
        )
        return result.stdout.strip()

    def pid(self, name: str) -> int:
        text = self.supervisorctl("pid", name)
        return int(text) if text.isdigit() else 0

    def start_again(self, name: str, timeout: float = 180) -> None:
        """`supervisorctl start NAME`, until the process serves. supervisorctl itself waits for
        supervisord's RUNNING state, a minute after the start (startsecs): it is not waited for."""
        client = subprocess.Popen(
            [SUPERVISORCTL, "-c", str(self.workdir / "supervisord.conf"), "start", name],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + timeout
            while not self.serves(name) and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            client.terminate()
            client.wait()

    def secret(self, name: str) -> str:
        return (self.workdir / name).read_text().strip()

    @property
    def database_url(self) -> str:
        return (
            f"postgresql://rapport:{self.secret('postgres_password')}@127.0.0.1:{self.ports['POSTGRES_PORT']}/rapport"
        )

    def serves(self, name: str) -> bool:
        """Whether the process `name` does its job, seen from outside."""
        ports = self.ports
        checks = {
            "rasa1": lambda: http_ok(f"http://127.0.0.1:{ports['RASA_PORT_1']}/"),
            "rasa2": lambda: http_ok(f"http://127.0.0.1:{ports['RASA_PORT_2']}/"),
            "actions1": lambda: http_ok(f"http://127.0.0.1:{ports['ACTIONS_PORT_1']}/health"),
            "web": lambda: http_ok(f"http://127.0.0.1:{ports['WEB_PORT']}/"),
            "nginx": lambda: http_ok(f"{self.url}/"),
            "redis": self._redis_answers,
            "postgres": self._postgres_answers,
        }
        return checks[name]()

    def _redis_answers(self) -> bool:
        try:
            client = redis.Redis(
                port=self.ports["REDIS_PORT"], password=self.secret("redis_password"), socket_timeout=1
            )
            return bool(client.ping())
        except redis.RedisError:
            return False

    def _postgres_answers(self) -> bool:
        try:
            psycopg2.connect(self.database_url, connect_timeout=2).close()
            return True
        except psycopg2.Error:
            return False

    def logs(self) -> Dict[str, str]:
        return {path.name: path.read_text(errors="replace") for path in self.workdir.rglob("*.log")}

    def interrupt(self, timeout: float = 240) -> int:
        """Ctrl-C in the terminal: SIGINT to the whole foreground process group."""
        if self.make.poll() is None:
            os.killpg(self.make.pid, signal.SIGINT)
        try:
            return self.make.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.supervisorctl("shutdown")
            os.killpg(self.make.pid, signal.SIGKILL)
            return self.make.wait()


@pytest.fixture(scope="module")
def fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def scaled(fake_slack):
    # Slack on, its Web API at the fake (tests/slack_fake.py).
    slack = {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_DEFAULT_COHORT": "OPEN",
    }
    run = RunScaled(slack)
    try:
        run.wait_until_up()
        yield run
    finally:
        run.interrupt()
        if os.environ.get("RELIABILITY_REPORT"):
            Path(os.environ["RELIABILITY_REPORT"]).write_text(json.dumps(RESULTS, indent=2) + "\n")
        shutil.rmtree(run.workdir, ignore_errors=True)


# ---------------------------------------------------------------- the load and the kill


def not_answered(sent: Sent) -> bool:
    """No answer, or the coach's answer that part of it did not respond (a message it then keeps)."""
    return sent.outcome != ACKNOWLEDGED or ACTIONS_FAILED in sent.reply_texts


async def _send_with_tries(founders: Founders, url: str, sent: Sent) -> None:
    for attempt in range(TRIES):
        await founders.attempt(url, sent)
        if not not_answered(sent):
            return
        if attempt < TRIES - 1:
            await asyncio.sleep(PAUSES[attempt])


def kill_under_load(scaled: RunScaled, name: str, conversations: int) -> Dict[str, Any]:
    """Founders talk SCRIPT through nginx; once a third of the messages are answered, `name`
    gets SIGKILL. Returns the figures, with the founders' record under "_founders"."""
    run = uuid.uuid4().hex[:6]
    senders = [f"kill-{name}-{run}-{n}" for n in range(conversations)]
    total = conversations * len(SCRIPT)
    timeline: Dict[str, Any] = {}
    pages = {"loaded": 0, "failed": 0}
    done = asyncio.Event()

    async def founder(founders: Founders, sender: str) -> None:
        for position, text in enumerate(SCRIPT):
            sent = founders.message(sender, position, text)
            await _send_with_tries(founders, scaled.url, sent)
            if not_answered(sent):
                return  # a founder with no answer after three tries gives up, as a person would

    async def kill(founders: Founders) -> None:
        deadline = time.monotonic() + 600
        while founders.counts()[ACKNOWLEDGED] < total // 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        old = scaled.pid(name)
        assert old, f"supervisorctl knows no pid for {name}"
        timeline["acknowledged_before_kill"] = founders.counts()[ACKNOWLEDGED]
        os.kill(old, signal.SIGKILL)
        killed_at = time.monotonic()
        timeline["killed_at"] = killed_at
        while time.monotonic() < killed_at + 300:
            pid = scaled.pid(name)
            if pid and pid != old and await asyncio.to_thread(scaled.serves, name):
                timeline["new_pid"] = pid
                timeline["seconds_until_back"] = round(time.monotonic() - killed_at, 1)
                return
            await asyncio.sleep(0.2)

    async def page_loads() -> None:
        """The widget's page from the web app, twice a second, all along."""
        while not done.is_set():
            ok = await asyncio.to_thread(http_ok, f"http://127.0.0.1:{scaled.ports['WEB_PORT']}/")
            pages["loaded" if ok else "failed"] += 1
            await asyncio.sleep(0.5)

    async def scenario() -> Founders:
        async with Founders(timeout=100) as founders:
            pager = asyncio.create_task(page_loads())
            await asyncio.wait_for(
                asyncio.gather(kill(founders), *(founder(founders, s) for s in senders)), timeout=1200
            )
            done.set()
            await pager
        return founders

    founders = asyncio.run(scenario())
    check = check_stored(founders, scaled.database_url)
    figures = {
        "process": name,
        "conversations": conversations,
        "sent": len(founders.sent),
        "attempts": sum(len(s.attempts) for s in founders.sent),
        # The first try failed: there was a second, or there was none and it failed.
        "failed before retry": sum(1 for s in founders.sent if len(s.attempts) > 1 or not_answered(s)),
        "failed after 3 tries": sum(1 for s in founders.sent if not_answered(s)),
        "lost": len(check.lost),
        "duplicated": check.duplicates,
        "problems": check.problems[:10],
        # What each try of a message that failed after all its tries came to, and how long it took.
        "failed messages": [
            {"attempts": s.attempts, "seconds": [round(t, 1) for t in s.seconds], "replies": s.reply_texts[:1]}
            for s in founders.sent
            if not_answered(s)
        ][:5],
        "acknowledged before kill": timeline.get("acknowledged_before_kill"),
        "acknowledged in all": founders.counts()[ACKNOWLEDGED],
        "seconds until back": timeline.get("seconds_until_back"),
        "page loads failed": pages["failed"],
        "page loads": pages["loaded"] + pages["failed"],
    }
    if name.startswith("rasa"):
        figures["sent on by nginx"] = _sent_on_by_nginx(
            scaled, scaled.ports["RASA_PORT_1" if name == "rasa1" else "RASA_PORT_2"]
        )
    RESULTS[name] = figures
    figures["_founders"] = founders
    return figures


def _sent_on_by_nginx(scaled: RunScaled, port: int) -> int:
    """Requests in flight on the killed Rasa server that nginx sent to the other one (its error log)."""
    log = scaled.workdir / "nginx" / "error.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(
        1
        for line in text.splitlines()
        if f"127.0.0.1:{port}/webhooks/rest/webhook" in line
        and ("prematurely closed" in line or "reset by peer" in line)
    )


@pytest.mark.parametrize("name", KINDS)
def test_a_process_killed_under_load_is_restarted_and_nothing_is_lost(scaled, name):
    figures = kill_under_load(scaled, name, CONVERSATIONS_PER_KILL)
    founders: Founders = figures.pop("_founders")
    summary = json.dumps(figures, indent=1)
    assert figures["seconds until back"] is not None, f"{name} was not restarted:\n{summary}\n{scaled.said()[-2000:]}"
    assert figures["lost"] == 0 and figures["duplicated"] == 0 and not figures["problems"], summary
    if name in ("rasa1", "actions1"):
        assert figures["failed after 3 tries"] == 0, summary
    if name == "rasa1":
        # nginx sent what was in flight on the dead server to the other one: no client saw it fail.
        assert figures["failed before retry"] == 0, summary
    # It kept serving: messages were answered while the killed process was away.
    assert figures["acknowledged in all"] > figures["acknowledged before kill"], summary
    assert founders.counts()["messages"] >= CONVERSATIONS_PER_KILL * 3


def test_secrets_at_rest(scaled):
    """The role the coach uses is no superuser and owns its database; a wrong password or none
    gets nothing; Redis asks for its password; no secret is in any log or the config."""
    with psycopg2.connect(scaled.database_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False, False)
        cursor.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'rapport'")
        assert cursor.fetchone() == ("rapport",)
    for wrong in ("", "wrong-password"):
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(scaled.database_url.replace(scaled.secret("postgres_password"), wrong), connect_timeout=5)
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=scaled.ports["POSTGRES_PORT"], user="postgres", dbname="postgres")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=scaled.ports["REDIS_PORT"]).ping()
    assert (scaled.workdir / "postgres_password").stat().st_mode & 0o077 == 0
    assert (scaled.workdir / "redis_password").stat().st_mode & 0o077 == 0
    # The Rasa servers' key for the widget's sessions: WIDGET_SECRET, else made into var/ as they start.
    widget_secret = os.environ.get("WIDGET_SECRET", "").strip() or (ROOT / "var" / "widget_secret").read_text().strip()
    secrets_ = {
        "WIDGET_SECRET": widget_secret,
        "ACTIONS_TOKEN": scaled.token,
        "POSTGRES_PASSWORD": scaled.secret("postgres_password"),
        "REDIS_PASSWORD": scaled.secret("redis_password"),
    }
    logs = scaled.logs()
    assert {"rasa1.log", "rasa2.log", "actions1.log", "actions2.log", "nginx.log", "postgres.log", "web.log"} <= set(
        logs
    ), sorted(logs)
    assert all(logs[name].strip() for name in ("rasa1.log", "actions1.log", "postgres.log")), "they log something"
    texts = {**logs, "make run-scaled's output": scaled.said()}
    texts["supervisord.conf"] = (scaled.workdir / "supervisord.conf").read_text()
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    texts["the process list"] = ps
    for secret_name, value in secrets_.items():
        found = [where for where, text in texts.items() if value in text]
        assert not found, f"{secret_name} appears in {found}"


# ---------------------------------------------------------------- the widget, Slack, delete


def test_slack_retries_landing_on_either_rasa_server_are_answered_once(scaled, fake_slack):
    """Slack's dedupe memory in the set-up's Redis (SLACK_DEDUPE_REDIS_URL, which make run-scaled
    sets): an event to one Rasa server, its retries to the other and through nginx, one answer."""
    from tests.test_slack_app import answered, dm

    founder = f"U0TWO{uuid.uuid4().hex[:6].upper()}"
    path = "/webhooks/slack/webhook"
    one, other = (
        SlackUser(f"http://127.0.0.1:{scaled.ports[p]}{path}", fake_slack) for p in ("RASA_PORT_1", "RASA_PORT_2")
    )
    via_nginx = SlackUser(f"{scaled.url}{path}", fake_slack)
    event, event_id = one.dm_event(founder, "hi"), f"Ev{uuid.uuid4().hex[:10]}"
    assert one.send_event(event, event_id=event_id).status == 200
    for number, sender in ((1, other), (2, via_nginx), (3, other)):
        retry = {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_timeout"}
        assert sender.send_event(event, event_id=event_id, headers=retry).status == 200
    answered(fake_slack, dm_channel(founder), None, 0)
    # A second message, to wait on: by then a duplicate answer to "hi" would have been posted.
    dm(via_nginx, fake_slack, founder, "what can you do?")
    assert len(fake_slack.thread(dm_channel(founder), None)) == 2
    seen = redis.Redis(port=scaled.ports["REDIS_PORT"], password=scaled.secret("redis_password"), db=2)
    assert seen.exists(f"rapport:slack:seen:event:{event_id}"), "remembered in Redis, for every server"


def _connections_to(ports: List[int]) -> Dict[str, int]:
    """Established TCP connections, local end -> remote port, for connections to `ports` (the kernel's table)."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        remote_port = int(remote.split(":")[1], 16)
        if state == "01" and remote_port in ports:
            found[local] = remote_port
    return found


def test_a_widget_whose_rasa_server_died_reconnects_to_the_other_and_goes_on(scaled):
    servers = {scaled.ports["RASA_PORT_1"]: "rasa1", scaled.ports["RASA_PORT_2"]: "rasa2"}

    async def scenario() -> List[str]:
        before = _connections_to(list(servers))
        async with WidgetSocket(scaled.url) as widget:
            session_id = await widget.session()  # signed by this server, kept by the widget
            # nginx's new connection to a Rasa server is this widget's: that server is killed.
            new = [port for local, port in _connections_to(list(servers)).items() if local not in before]
            assert len(set(new)) == 1, new
            name = servers[new[0]]
            await widget.emit("user_uttered", {"message": "hi", "session_id": session_id, "customData": {}})
            first = await widget.wait_for("bot_uttered", 1, timeout=90)
            os.kill(scaled.pid(name), signal.SIGKILL)
            # The socket closes with its server (the reader ends, with an error: no close frame).
            done, _ = await asyncio.wait({widget._reader}, timeout=30)
            assert done, "the widget's socket stayed open though its server was killed"
        # As the widget does by itself: connect again, same session.
        async with WidgetSocket(scaled.url) as widget:
            assert await widget.session(session_id) == session_id, "the other server takes the same session"
            await widget.emit(
                "user_uttered",
                {"message": "yes, let's go", "session_id": session_id, "customData": {"message_id": "w2"}},
            )
            second = await widget.wait_for("bot_uttered", 1, timeout=90)
        return [first[0]["text"], second[0]["text"], name]

    first, second, killed = asyncio.run(scenario())
    assert "Ready?" in first and "venture called" in second, (first, second)
    # supervisord is starting it again (the kill test above waits for one to serve again).
    deadline = time.monotonic() + 60
    while not scaled.pid(killed) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert scaled.pid(killed), f"{killed} is being restarted"


def test_the_widget_says_not_stored_when_the_tracker_store_is_down(scaled):
    from bot.coach.conversation import MESSAGE_NOT_STORED as SAVE_FAILED

    issued = []

    async def scenario() -> List[str]:
        async with WidgetSocket(scaled.url) as widget:
            session_id = await widget.session()
            issued.append(session_id)
            await asyncio.to_thread(scaled.supervisorctl, "stop", "postgres")
            try:
                message = {"message": "hi", "session_id": session_id, "customData": {"message_id": "down-1"}}
                await widget.emit("user_uttered", message)
                during = await widget.wait_for("bot_uttered", 1, timeout=90)
            finally:
                await asyncio.to_thread(scaled.start_again, "postgres")
            # Sent again, same id, once PostgreSQL is back: answered, and kept once.
            await widget.emit("user_uttered", message)
            after = await widget.wait_for("bot_uttered", 2, timeout=90)
        return [answer["text"] for answer in during + after[1:]]

    during, after = asyncio.run(scenario())
    assert during == SAVE_FAILED
    assert "Ready?" in after
    with psycopg2.connect(scaled.database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM events WHERE sender_id = %s AND type_name = 'user'", (sender_of(issued[0]),)
        )
        assert cursor.fetchone() == (1,)


def test_delete_my_data_on_postgresql(scaled):
    """Through nginx, so the turns go to both Rasa servers: the founder's events and blocks go,
    a neighbour's stay."""
    run = uuid.uuid4().hex[:6]
    forget, keep = f"forget-{run}", f"keep-{run}"

    async def scenario() -> List[List[str]]:
        async with Founders(timeout=100) as founders:
            for sender in (forget, keep):
                for position, text in enumerate(SCRIPT):
                    assert await founders.send(scaled.url, founders.message(sender, position, text), retry_for=30) == (
                        ACKNOWLEDGED
                    )
            asked = founders.message(forget, 100, "please delete my data")
            await founders.send(scaled.url, asked, retry_for=30)
            confirmed = founders.message(forget, 101, "/confirm_delete")
            await founders.send(scaled.url, confirmed, retry_for=30)
            return [asked.reply_texts, confirmed.reply_texts]

    from bot.coach import conversation as coach

    asked, confirmed = asyncio.run(scenario())
    assert coach.DELETED in confirmed, (asked, confirmed)
    with psycopg2.connect(scaled.database_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sender_id, type_name, data FROM events WHERE sender_id = ANY(%s)", ([forget, keep],))
        rows = cursor.fetchall()
        cursor.execute("SELECT sender_id FROM founders WHERE sender_id = ANY(%s)", ([forget, keep],))
        founders_left = [r[0] for r in cursor.fetchall()]
    forgotten = [r for r in rows if r[0] == forget]
    assert not [r for r in forgotten if r[1] == "user"], "no message the founder typed"
    assert SCRIPT[2] not in json.dumps([r[2] for r in forgotten])
    assert [r for r in rows if r[0] == keep and r[1] == "user"], "the neighbour keeps everything"
    assert founders_left == [keep]


# ---------------------------------------------------------------- last: a crash loop, then Ctrl-C


def test_a_crash_loop_is_given_up_with_a_clear_message_and_the_rest_keeps_serving(scaled):
    """The web app killed each time it starts again: after five quick exits supervisord gives up
    on it, make run-scaled says so, and the coach still answers through nginx."""
    deadline = time.monotonic() + 300
    kills = 0
    last = 0
    while time.monotonic() < deadline and "web exited 5 times in a row" not in scaled.said():
        pid = scaled.pid("web")
        if pid and pid != last:
            os.kill(pid, signal.SIGKILL)
            kills += 1
            last = pid
        time.sleep(0.2)
    said = scaled.said()
    assert "web exited 5 times in a row" in said and "supervisorctl" in said, said[-2000:]
    assert "FATAL" in scaled.supervisorctl("status", "web")
    assert kills <= 7, kills

    async def one_turn() -> Sent:
        async with Founders(timeout=100) as founders:
            sent = founders.message(f"after-loop-{uuid.uuid4().hex[:6]}", 0, "hi")
            await founders.attempt(scaled.url, sent)
            return sent

    assert asyncio.run(one_turn()).outcome == ACKNOWLEDGED, "the coach still answers"
    # Started again by hand, as the message says.
    scaled.start_again("web")
    assert scaled.serves("web")


def test_ctrl_c_stops_everything(scaled):
    pids = {name: scaled.pid(name) for name in ("postgres", "redis", "actions1", "actions2", "nginx", "rasa1", "rasa2")}
    pids["web"] = scaled.pid("web")
    supervisord = int((scaled.workdir / "supervisord.pid").read_text())
    assert all(pids.values()), pids
    scaled.interrupt()
    still = [name for name, pid in {**pids, "supervisord": supervisord}.items() if Path(f"/proc/{pid}").exists()]
    assert not still, f"still running after Ctrl-C: {still}"
    assert not any(port_open(port) for port in scaled.ports.values())
    assert re.search(r"^stopped$", scaled.said(), re.M), scaled.said()[-2000:]
