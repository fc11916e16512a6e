"""The scaled set-up under faults (issue 14, S1-S7): PostgreSQL, Redis, two
Rasa servers and two action servers behind nginx, all real, all on loopback.

Each scenario's founders are recorded by deploy/client.py (acknowledged, failed
or unknown per message) and PostgreSQL is checked against that record: each
acknowledged message exactly once and in order, no failed one, each unknown at
most once, a coach reply after each user message.

They run at the issue's figures (40 conversations x 19 turns, 20 racing
conversations; about 3.5 min on 2 cores), or smaller with SCALEOUT_SMALL=1.
SCALEOUT_REPORT=path.json writes each scenario's figures (docs/reliability.md).
Every load is bounded in count and in time.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import psycopg2
import pytest

from deploy.client import ACKNOWLEDGED, FAILED, UNKNOWN, Founders, check_stored, latency_figures, stored_events
from deploy.services import CoachProcess, ScaledSetup, free_port, missing_packages
from scripts.record_test_stories import CONVERSATIONS
from tests.socketio_wire import WidgetSocket, sender_of

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif(
        bool(missing_packages()), reason=f"missing Debian packages: {missing_packages()} (.ci/run installs them)"
    ),
]

FULL = os.environ.get("SCALEOUT_SMALL") != "1"
# A whole conversation, greeting to a saved two-segment block: 19 turns.
SCRIPT: List[str] = CONVERSATIONS["happy_path"]["two segments, saved"]
CONVERSATIONS_S1 = 40 if FULL else 6
CONVERSATIONS_S2 = 20 if FULL else 6
CONVERSATIONS_FAULT = 12 if FULL else 4  # S3 to S5
RESULTS: Dict[str, Any] = {}


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    setup = ScaledSetup(tmp_path_factory.mktemp("scaled"))
    try:
        setup.start()
        yield setup
    except Exception:
        for process in setup.processes():
            print(f"--- {process.name}\n{process.tail()}")
        raise
    finally:
        setup.stop()
        if os.environ.get("SCALEOUT_REPORT"):
            Path(os.environ["SCALEOUT_REPORT"]).write_text(json.dumps(RESULTS, indent=2))


@pytest.fixture(scope="module")
def reference(scaled) -> List[List[str]]:
    """The coach's replies to SCRIPT on one server, turn by turn: what every founder should get."""
    founders = asyncio.run(_talk(scaled, [f"reference-{uuid.uuid4().hex[:6]}"], lambda i: scaled.rasa[0].health[:-1]))
    assert founders.counts()[ACKNOWLEDGED] == len(SCRIPT)
    return [s.reply_texts for s in sorted(founders.sent, key=lambda s: s.position)]


async def _talk(
    scaled: ScaledSetup, senders: List[str], url_for_turn, retry_for: float = 0, during=None, founders: Founders = None
) -> Founders:
    """Each sender talks SCRIPT through, one turn after the other, all senders at once.
    `during(founders)` runs beside them (a fault)."""

    async def founder(sender: str) -> None:
        for position, text in enumerate(SCRIPT):
            sent = founders.message(sender, position, text)
            outcome = await founders.send(url_for_turn(position), sent, retry_for=retry_for)
            if outcome != ACKNOWLEDGED:
                return  # a founder who got no answer stops, as a person would

    async def run() -> Founders:
        nonlocal founders
        async with Founders(timeout=60) as founders:
            tasks = [founder(s) for s in senders] + ([during(founders)] if during else [])
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=600)
        return founders

    return await run()


def _senders(prefix: str, count: int) -> List[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{prefix}-{run}-{n}" for n in range(count)]


def _record(name: str, founders: Founders, check, **extra: Any) -> None:
    seconds = [t for s in founders.sent for t in s.seconds]
    RESULTS[name] = {**founders.counts(), **check.as_dict(), **latency_figures(seconds), **extra}


def _assert_nothing_lost(check) -> None:
    assert not check.problems, "\n".join(check.problems[:20])
    assert check.lost == [] and check.duplicates == 0


def _blocks_saved(scaled: ScaledSetup, senders: List[str]) -> Dict[str, int]:
    with psycopg2.connect(scaled.postgres.url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.sender_id, count(b.id) FROM founders f JOIN ventures v ON v.founder_id = f.id "
            "JOIN block_versions b ON b.venture_id = v.id WHERE f.sender_id = ANY(%s) GROUP BY 1",
            (senders,),
        )
        return dict(cursor.fetchall())


def _replies_by_sender(founders: Founders) -> Dict[str, List[List[str]]]:
    return {
        sender: [s.reply_texts for s in sorted(founders.of(sender), key=lambda s: s.position)]
        for sender in founders.senders()
    }


# ---------------------------------------------------------------- S1


def test_s1_turns_alternating_between_servers_are_answered_as_on_one(scaled, reference):
    senders = _senders("s1", CONVERSATIONS_S1)
    servers = [p.health[:-1] for p in scaled.rasa]
    founders = asyncio.run(_talk(scaled, senders, lambda position: servers[position % 2]))
    check = check_stored(founders, scaled.postgres.url)
    _record("S1", founders, check, conversations=len(senders), turns=len(SCRIPT))
    assert founders.counts()[ACKNOWLEDGED] == len(senders) * len(SCRIPT), "every turn answered"
    _assert_nothing_lost(check)
    for sender, replies in _replies_by_sender(founders).items():
        assert replies == reference, f"{sender} got other replies than on one server"
    assert _blocks_saved(scaled, senders) == {sender: 1 for sender in senders}, "each block saved once"


# ---------------------------------------------------------------- S2


async def _race(urls: List[str], senders: List[str]) -> Founders:
    """Each round, each founder sends two messages at once, one to each server."""
    async with Founders(timeout=60) as founders:

        async def founder(sender: str) -> None:
            for round_ in range(len(SCRIPT) // 2):
                pair = [
                    founders.message(sender, 2 * round_ + k, SCRIPT[2 * round_ + k], round=round_) for k in range(2)
                ]
                await asyncio.gather(*(founders.send(urls[k], sent) for k, sent in enumerate(pair)))

        await asyncio.wait_for(asyncio.gather(*(founder(s) for s in senders)), timeout=600)
    return founders


def _turns_interleaved(database_url: str, senders: List[str]) -> int:
    """Turns whose events another server's turn cut into: a user event right after
    a user event, before any coach action ran for the first."""
    count = 0
    for events in stored_events(database_url, senders).values():
        kinds = [e["event"] for e in events if e["event"] in ("user", "bot", "action")]
        count += sum(1 for a, b in zip(kinds, kinds[1:]) if a == b == "user")
    return count


def test_s2_two_messages_at_once_to_two_servers_are_processed_one_at_a_time(scaled):
    senders = _senders("s2", CONVERSATIONS_S2)
    founders = asyncio.run(_race([p.health[:-1] for p in scaled.rasa], senders))
    check = check_stored(founders, scaled.postgres.url)
    interleaved = _turns_interleaved(scaled.postgres.url, senders)
    _record(
        "S2",
        founders,
        check,
        conversations=len(senders),
        interleaved_turns=interleaved,
        lock_store="AtomicRedisLockStore",
    )
    assert founders.counts()[ACKNOWLEDGED] == len(founders.sent)
    _assert_nothing_lost(check)
    assert interleaved == 0


def test_s2_with_rasas_stock_redis_lock_store(scaled):
    """The same race against Rasa's stock RedisLockStore, two more servers on the
    same PostgreSQL and Redis. Its read-modify-write tickets let both servers
    in at once; what that costs is reported (docs/reliability.md), not asserted,
    since a race that depends on timing need not show in every run."""
    stock = []
    for i in range(2):
        port = free_port()
        env = {**scaled.rasa[0].env, "LOCK_STORE_TYPE": "redis", "RASA_PORT": str(port)}
        args = [*scaled.rasa[0].args[:-4], "--port", str(port), "--interface", "127.0.0.1"]
        stock.append(CoachProcess(f"rasa-stock{i + 1}", scaled.workdir, env, args, f"http://127.0.0.1:{port}/"))
    try:
        for process in stock:
            process.start()
        senders = _senders("s2stock", CONVERSATIONS_S2)
        founders = asyncio.run(_race([p.health[:-1] for p in stock], senders))
    finally:
        for process in stock:
            process.stop()
    check = check_stored(founders, scaled.postgres.url)
    interleaved = _turns_interleaved(scaled.postgres.url, senders)
    _record(
        "S2 stock RedisLockStore",
        founders,
        check,
        conversations=len(senders),
        interleaved_turns=interleaved,
        lock_store="rasa RedisLockStore",
    )
    assert founders.counts()["messages"] == len(senders) * 2 * (len(SCRIPT) // 2)


# ---------------------------------------------------------------- S3


def test_s3_a_rasa_server_killed_mid_conversation_loses_nothing(scaled, reference):
    senders = _senders("s3", CONVERSATIONS_FAULT)
    total = len(senders) * len(SCRIPT)
    killed = {}

    async def kill_midway(founders: Founders) -> None:
        deadline = time.monotonic() + 300
        while founders.counts()[ACKNOWLEDGED] < total // 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        killed["at"] = founders.counts()[ACKNOWLEDGED]
        scaled.rasa[1].kill(signal.SIGKILL)

    try:
        # Through nginx; a message with no answer is sent again, same id, through nginx.
        founders = asyncio.run(_talk(scaled, senders, lambda _: scaled.url, retry_for=90, during=kill_midway))
    finally:
        scaled.rasa[1].start()
    check = check_stored(founders, scaled.postgres.url)
    retried = sum(1 for s in founders.sent if len(s.attempts) > 1)
    _record(
        "S3",
        founders,
        check,
        conversations=len(senders),
        killed_after_acknowledged=killed.get("at"),
        retried=retried,
        unknown_attempts=sum(s.attempts.count(UNKNOWN) for s in founders.sent),
    )
    assert founders.counts()[ACKNOWLEDGED] == total, "every message answered in the end"
    _assert_nothing_lost(check)
    for sender, replies in _replies_by_sender(founders).items():
        assert replies == reference, f"{sender} did not continue from the same question"


# ---------------------------------------------------------------- S4, S5


def _restart_during_traffic(scaled: ScaledSetup, name: str, service, down_seconds: float) -> Founders:
    senders = _senders(name.lower(), CONVERSATIONS_FAULT)
    timeline: Dict[str, float] = {}

    async def restart(founders: Founders) -> None:
        deadline = time.monotonic() + 300
        while founders.counts()[ACKNOWLEDGED] < len(senders) * 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        timeline["stopped"] = time.monotonic()
        await asyncio.to_thread(service.stop)
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(service.start)
        timeline["started"] = time.monotonic()

    founders = asyncio.run(_talk(scaled, senders, lambda _: scaled.url, retry_for=60, during=restart))
    after = [s for s in founders.sent if any(o == ACKNOWLEDGED for o in s.attempts) and s.attempts.count(FAILED) > 0]
    timeline["recovered_within_s"] = round(max((sum(s.seconds) for s in after), default=0), 1)
    founders.timeline = timeline
    return founders


def test_s4_redis_restarted_turns_fail_fast_then_succeed(scaled):
    founders = _restart_during_traffic(scaled, "S4", scaled.redis, down_seconds=2)
    check = check_stored(founders, scaled.postgres.url)
    attempts = [o for s in founders.sent for o in s.attempts]
    slowest = sorted(
        ((round(t, 2), o, s.message_id) for s in founders.sent for t, o in zip(s.seconds, s.attempts)), reverse=True
    )[:3]
    _record(
        "S4",
        founders,
        check,
        failed_attempts=attempts.count(FAILED),
        unknown_attempts=attempts.count(UNKNOWN),
        slowest_attempts=slowest,
    )
    assert attempts.count(UNKNOWN) == 0, "no turn hung until the client gave up: each got an answer"
    assert founders.counts()[ACKNOWLEDGED] == len(founders.sent), "every turn succeeded once Redis was back"
    _assert_nothing_lost(check)


def test_s5_postgresql_restarted_never_answers_a_turn_it_then_loses(scaled):
    founders = _restart_during_traffic(scaled, "S5", scaled.postgres, down_seconds=2)
    attempts = [o for s in founders.sent for o in s.attempts]
    # Once more with no traffic: the first turn on each server after the restart
    # succeeds, though every pooled connection died (they are pre-pinged).
    scaled.postgres.stop()
    scaled.postgres.start()

    async def first_turns() -> Founders:
        async with Founders(timeout=60) as probe:
            for process in scaled.rasa:
                await probe.attempt(process.health[:-1], probe.message(f"s5-probe-{uuid.uuid4().hex[:6]}", 0, "hi"))
        return probe

    probe = asyncio.run(first_turns())
    check = check_stored(founders, scaled.postgres.url)
    _record(
        "S5",
        founders,
        check,
        failed_attempts=attempts.count(FAILED),
        unknown_attempts=attempts.count(UNKNOWN),
        first_turns_after=[s.outcome for s in probe.sent],
    )
    assert [s.attempts for s in probe.sent] == [[ACKNOWLEDGED]] * len(scaled.rasa)
    assert founders.counts()[ACKNOWLEDGED] == len(founders.sent)
    _assert_nothing_lost(check)


# ---------------------------------------------------------------- S6


def test_s6_action_servers_down_get_a_clear_reply_and_the_message_is_kept(scaled):
    from bot.coach.conversation import ACTIONS_UNREACHABLE

    sender = f"s6-{uuid.uuid4().hex[:6]}"

    async def scenario():
        async with Founders(timeout=60) as founders:
            for process in scaled.actions:
                process.kill(signal.SIGKILL)
            down_since = time.monotonic()
            during = founders.message(sender, 0, "hi")
            await founders.attempt(scaled.url, during)
            await asyncio.sleep(max(0, 10 - (time.monotonic() - down_since)))  # down for 10 s
            for process in scaled.actions:
                process.start()
            after = [founders.message(sender, 1, "hi"), founders.message(sender, 2, "yes, let's go")]
            for sent in after:
                await founders.attempt(scaled.url, sent)
        return founders, during, after

    founders, during, after = asyncio.run(scenario())
    check = check_stored(founders, scaled.postgres.url)
    _record("S6", founders, check, reply_while_down=during.reply_texts)
    assert during.outcome == ACKNOWLEDGED and during.reply_texts == [ACTIONS_UNREACHABLE], "a clear reply"
    assert "Ready?" in "\n".join(after[0].reply_texts), "the next turn after recovery works"
    assert "venture called" in "\n".join(after[1].reply_texts)
    _assert_nothing_lost(check)  # the founder's message stored, with the coach's reply after it


# ---------------------------------------------------------------- S7


def test_s7_a_repeated_message_id_over_rest_is_one_user_event(scaled):
    sender = f"s7-{uuid.uuid4().hex[:6]}"
    servers = [p.health[:-1] for p in scaled.rasa]

    async def scenario():
        async with Founders(timeout=60) as founders:
            first = founders.message(sender, 0, "hi")
            await founders.attempt(servers[0], first)
            again = await founders.attempt(servers[1], first)  # a retry, to the other server
            first_replies = list(first.replies)
            second = founders.message(sender, 1, "yes, let's go")
            twins = [same_message(second) for _ in range(2)]
            # The same id twice at once, one to each server.
            await asyncio.gather(*(founders.attempt(servers[k], twins[k]) for k in range(2)))
        return founders, first, first_replies, again, twins

    founders, first, first_replies, again, twins = asyncio.run(scenario())
    assert again == ACKNOWLEDGED and first.replies == first_replies, "the retry gets the same replies"
    assert twins[0].replies == twins[1].replies and "venture called" in twins[0].reply_texts[0]
    events = stored_events(scaled.postgres.url, [sender])[sender]
    user_ids = [e.get("message_id") for e in events if e["event"] == "user"]
    assert user_ids == [first.message_id, twins[0].message_id], "one user event per message id"
    RESULTS["S7 REST"] = {"messages": 2, "sent": 4, "user events": len(user_ids)}


def same_message(sent):
    """The same message (same id) as a second, separate send."""
    from deploy.client import Sent

    return Sent(sent.sender, sent.position, sent.text, sent.message_id)


def test_s7_a_repeated_message_id_over_socketio_is_one_user_event(scaled):
    issued = []
    message_id = f"widget-{uuid.uuid4().hex[:8]}"

    async def scenario() -> List[Dict[str, Any]]:
        # Through nginx, websocket transport only, as the widget connects.
        async with WidgetSocket(scaled.url) as widget:
            session_id = await widget.session()  # signed by one Rasa server, taken by either
            issued.append(session_id)
            for _ in range(2):
                await widget.emit(
                    "user_uttered",
                    {
                        "message": "hi",
                        "session_id": session_id,
                        "customData": {"message_id": message_id, "cohort": "s7"},
                    },
                )
            await widget.wait_for("bot_uttered", 2)
            await asyncio.sleep(1)  # a third answer would be a duplicate
            return widget.answers()

    answers = asyncio.run(scenario())
    sender = sender_of(issued[0])
    events = stored_events(scaled.postgres.url, [sender])[sender]
    users = [e for e in events if e["event"] == "user"]
    assert [u.get("message_id") for u in users] == [message_id], "one user event"
    assert users[0]["metadata"].get("cohort") == "s7" and "message_id" not in users[0]["metadata"]
    assert len(answers) == 2 and answers[0] == answers[1] and "Ready?" in answers[0]["text"], (
        "both sends answered, the second with the first's replies"
    )
    RESULTS["S7 socket.io"] = {"messages": 1, "sent": 2, "user events": len(users)}
