"""The atomic Redis lock store (bot/plugins/lock_store.py) against a real
redis-server on loopback: two stores stand for two Rasa servers."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.plugins.lock_store import AtomicRedisLockStore
from deploy.services import Redis

pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif(
        not shutil.which("redis-server"),
        reason="redis-server is not installed (.ci/run installs it: apt-get install redis-server)",
    ),
]


@pytest.fixture
def redis_server(tmp_path):
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


def store(redis_server: Redis, **settings) -> AtomicRedisLockStore:
    config = EndpointConfig(
        url="127.0.0.1",
        type="bot.plugins.lock_store.AtomicRedisLockStore",
        port=redis_server.port,
        key_prefix="test",
        **settings,
    )
    made = LockStore.create(config)
    assert isinstance(made, AtomicRedisLockStore), "endpoints.yml names it by module path"
    return made


def test_two_servers_never_hold_one_conversation_at_once(redis_server):
    async def scenario():
        stores = [store(redis_server), store(redis_server)]
        counter = {"value": 0, "inside": 0, "most_inside": 0}
        order = []

        async def turn(n: int):
            async with stores[n % 2].lock("founder-1"):
                counter["inside"] += 1
                counter["most_inside"] = max(counter["most_inside"], counter["inside"])
                value = counter["value"]
                await asyncio.sleep(0.002)  # a read-modify-write that would lose updates without the lock
                counter["value"] = value + 1
                order.append(n)
                counter["inside"] -= 1

        await asyncio.wait_for(asyncio.gather(*(turn(n) for n in range(60))), timeout=60)
        return counter, order

    counter, order = asyncio.run(scenario())
    assert counter["value"] == 60, "no turn's update was lost"
    assert counter["most_inside"] == 1
    assert sorted(order) == list(range(60))


def test_tickets_are_served_in_the_order_issued(redis_server):
    async def scenario():
        lock_store = store(redis_server)
        tickets = [await lock_store.issue("founder-2") for _ in range(5)]
        states = [await lock_store.try_acquire("founder-2", t) for t in tickets]
        await lock_store.release("founder-2", tickets[0])
        after = await lock_store.try_acquire("founder-2", tickets[1])
        return tickets, states, after

    tickets, states, after = asyncio.run(scenario())
    assert tickets == sorted(tickets) and len(set(tickets)) == 5
    assert states == [1, 0, 0, 0, 0], "only the first ticket holds the lock"
    assert after == 1, "the next ticket holds it once the first is given back"


def test_a_crashed_holder_blocks_its_conversation_for_one_lease_only(redis_server):
    async def scenario():
        crashed = store(redis_server, lease_seconds=1)
        ticket = await crashed.issue("founder-3")
        assert await crashed.try_acquire("founder-3", ticket) == 1
        # The holder dies: it never renews nor gives the ticket back.
        other = store(redis_server, lease_seconds=1)
        async with other.lock("founder-3"):
            return await crashed.try_acquire("founder-3", ticket)

    assert asyncio.run(asyncio.wait_for(scenario(), timeout=30)) == -1, "the dead ticket lost its place"


def test_the_holder_keeps_its_lock_past_the_lease_while_it_works(redis_server):
    async def scenario():
        holder, waiter = store(redis_server, lease_seconds=0.6), store(redis_server, lease_seconds=0.6)
        events = []

        async def long_turn():
            async with holder.lock("founder-4"):
                events.append("long start")
                await asyncio.sleep(2)  # three leases
                events.append("long end")

        async def next_turn():
            await asyncio.sleep(0.2)
            async with waiter.lock("founder-4"):
                events.append("next")

        await asyncio.wait_for(asyncio.gather(long_turn(), next_turn()), timeout=30)
        return events

    assert asyncio.run(scenario()) == ["long start", "long end", "next"]


def test_redis_down_fails_fast_and_recovers(redis_server):
    """One store (one server's pooled connections) across a Redis restart."""

    async def attempt(lock_store):
        async with lock_store.lock("founder-5"):
            return "done"

    async def scenario():
        lock_store = store(redis_server)
        before = await attempt(lock_store)
        await asyncio.to_thread(redis_server.stop)
        try:
            # Bounded: a hang would fail the test instead of blocking the suite.
            await asyncio.wait_for(attempt(lock_store), timeout=20)
            down = "done"
        except LockError:
            down = "LockError"
        await asyncio.to_thread(redis_server.start)
        after = [await asyncio.wait_for(attempt(lock_store), timeout=20) for _ in range(3)]
        return before, down, after

    assert asyncio.run(scenario()) == ("done", "LockError", ["done"] * 3)
    # Nothing left behind, though the pooled connections died with the old Redis:
    # the last ticket out deletes the lock's keys.
    import redis

    assert redis.Redis(port=redis_server.port, db=1).keys("test:lock:*") == []
