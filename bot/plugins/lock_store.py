"""A Redis lock store whose tickets are issued atomically, for several Rasa servers.

Rasa 3.6's `RedisLockStore` issues a ticket by reading the conversation's lock
from Redis, adding a ticket in Python and writing the lock back (GET, then SET).
Two servers that do this at once both read the same lock, both take the same
ticket number, and both process the conversation at the same time: both append
their events to one tracker (RasaHQ/rasa#3933). It also talks to Redis with the
blocking client, so a Redis that does not answer stalls the whole server for
the socket timeout, and it waits for a busy lock in steps of one second.

Here every step is one Lua script, which Redis runs atomically, so a ticket
comes from INCR and the queue is read and changed in one go:
- `<prefix>lock:<conversation>:n`   the last ticket issued (INCR);
- `<prefix>lock:<conversation>:q`   the tickets waiting, a sorted set by number;
- `<prefix>lock:<conversation>:exp` each ticket's lease end (ms, Redis' clock).
The lowest ticket whose lease has not run out holds the lock. A waiting ticket
renews its lease each time it asks, and the holder renews its lease while it
works, so a short lease (10 s) is enough: a server killed while it holds the
lock blocks its conversation for one lease at most, not Rasa's 60 s. Redis'
own clock is the only one used, so the servers' clocks need not agree.

Name it in endpoints.yml:

    lock_store:
      type: bot.plugins.lock_store.AtomicRedisLockStore
      url: 127.0.0.1
      port: 6379
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text

import redis.asyncio as aioredis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# The time now, in ms, by Redis' clock.
_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
# The keys outlive the longest lease twice over, so a crashed server leaves nothing behind for long.
_KEEP = "for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, 2 * tonumber(ARGV[2])) end\n"

# KEYS: n, q, exp. ARGV: -, lease ms. Returns the new ticket.
ISSUE = (
    _NOW
    + """
local ticket = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('HSET', KEYS[3], ticket, now + tonumber(ARGV[2]))
"""
    + _KEEP
    + "return ticket"
)

# KEYS: n, q, exp. ARGV: ticket, lease ms. Renews the ticket's lease, drops the
# expired tickets ahead of it, and returns 1 if it holds the lock, 0 if it waits,
# -1 if its own lease had run out (its place in the queue is lost).
TRY_ACQUIRE = (
    _NOW
    + """
local mine = redis.call('HGET', KEYS[3], ARGV[1])
if (not mine) or tonumber(mine) < now then
  redis.call('ZREM', KEYS[2], ARGV[1]); redis.call('HDEL', KEYS[3], ARGV[1])
  return -1
end
redis.call('HSET', KEYS[3], ARGV[1], now + tonumber(ARGV[2]))
"""
    + _KEEP
    + """
while true do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not head then return -1 end
  if head == ARGV[1] then return 1 end
  local lease = redis.call('HGET', KEYS[3], head)
  if lease and tonumber(lease) >= now then return 0 end
  redis.call('ZREM', KEYS[2], head); redis.call('HDEL', KEYS[3], head)
end
"""
)

# KEYS: n, q, exp. ARGV: ticket. Gives the ticket back; the last one out deletes the lock.
RELEASE = """
redis.call('ZREM', KEYS[2], ARGV[1]); redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return 1
"""

DEFAULT_LEASE_SECONDS = 10.0
DEFAULT_WAIT_SECONDS = 60.0


class AtomicRedisLockStore(LockStore):
    """Ticket locks in Redis, one Lua script per step, over the asyncio client."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **settings: Any) -> None:
        settings = {**(endpoint_config.kwargs if endpoint_config else {}), **settings}
        host = (endpoint_config.url if endpoint_config else None) or settings.pop("host", "127.0.0.1")
        settings.pop("host", None)
        self.lease_seconds = float(settings.pop("lease_seconds", DEFAULT_LEASE_SECONDS))
        self.wait_seconds = float(settings.pop("wait_seconds", DEFAULT_WAIT_SECONDS))
        prefix = str(settings.pop("key_prefix", "") or "")
        if prefix and not prefix.isalnum():
            raise ValueError(f"lock store key_prefix must be letters and digits, not {prefix!r}")
        self.key_prefix = (prefix + ":" if prefix else "") + "lock:"
        # Fail fast: a Redis that is down or stuck makes a turn fail in seconds, never hang.
        timeout = float(settings.pop("socket_timeout", 2))
        # One retry on a broken connection: after a Redis restart, each pooled connection
        # fails once. Without it a ticket whose give-back met a dead connection stayed
        # queued, and its conversation waited a whole lease (10 s) for it.
        self.red = aioredis.Redis(
            host=host,
            port=int(settings.pop("port", 6379)),
            db=int(settings.pop("db", 1)),
            username=settings.pop("username", None),
            password=settings.pop("password", None),
            ssl=bool(settings.pop("use_ssl", False)),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_error=[RedisConnectionError],
            retry=Retry(NoBackoff(), 1),
        )
        for name in ("ssl_certfile", "ssl_keyfile", "ssl_ca_certs"):
            settings.pop(name, None)
        if settings:
            logger.warning("Lock store settings not used: %s", ", ".join(sorted(settings)))
        self._issue = self.red.register_script(ISSUE)
        self._try_acquire = self.red.register_script(TRY_ACQUIRE)
        self._release = self.red.register_script(RELEASE)
        super().__init__()

    def _keys(self, conversation_id: Text) -> list:
        base = self.key_prefix + conversation_id
        return [base + ":n", base + ":q", base + ":exp"]

    async def issue(self, conversation_id: Text) -> int:
        return int(await self._issue(keys=self._keys(conversation_id), args=[0, self._lease_ms]))

    async def try_acquire(self, conversation_id: Text, ticket: int) -> int:
        return int(await self._try_acquire(keys=self._keys(conversation_id), args=[ticket, self._lease_ms]))

    async def release(self, conversation_id: Text, ticket: int) -> None:
        await self._release(keys=self._keys(conversation_id), args=[ticket])

    @property
    def _lease_ms(self) -> int:
        return int(self.lease_seconds * 1000)

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = 0, wait_time_in_seconds: float = 0
    ) -> AsyncGenerator[TicketLock, None]:
        """Holds the conversation's lock for the body of the `async with`.

        Rasa's lock_lifetime and wait_time_in_seconds are not used: the lease is
        renewed while the lock is held, and a waiter asks again after 10-100 ms."""
        try:
            ticket = await self.issue(conversation_id)
        except Exception as error:
            raise LockError(f"The lock store could not issue a ticket: {error}") from error
        heartbeat: Optional[asyncio.Task] = None
        try:
            await self._wait_for_turn(conversation_id, ticket)
            heartbeat = asyncio.ensure_future(self._renew_while_held(conversation_id, ticket))
            yield TicketLock(conversation_id)
        finally:
            if heartbeat:
                heartbeat.cancel()
            await self._give_back(conversation_id, ticket)

    async def _give_back(self, conversation_id: Text, ticket: int, tries: int = 3) -> None:
        """Gives the ticket back, trying a little longer while Redis restarts: a ticket
        left queued holds its conversation until its lease runs out."""
        for attempt in range(tries):
            try:
                await self.release(conversation_id, ticket)
                return
            except Exception as error:
                if attempt == tries - 1:
                    # The turn itself is done (or failed on its own); the lease runs out by itself.
                    logger.warning("Could not give back lock ticket %s of a conversation: %s", ticket, error)
                    return
                await asyncio.sleep(0.3)

    async def _wait_for_turn(self, conversation_id: Text, ticket: int) -> None:
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.01
        while True:
            try:
                state = await self.try_acquire(conversation_id, ticket)
            except Exception as error:
                raise LockError(f"The lock store could not be asked for the lock: {error}") from error
            if state == 1:
                return
            if state == -1:
                raise LockError("This message's place in the conversation's queue ran out.")
            if time.monotonic() > deadline:
                raise LockError(f"The conversation stayed busy for {self.wait_seconds:.0f} s.")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)

    async def _renew_while_held(self, conversation_id: Text, ticket: int) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                if await self.try_acquire(conversation_id, ticket) != 1:
                    logger.error("A conversation's lock was lost while held (its lease ran out).")
                    return
            except Exception as error:
                logger.warning("Could not renew a conversation's lock: %s", error)

    # Rasa's synchronous ticket methods read-modify-write a whole TicketLock; this
    # store never does, and nothing in Rasa calls them outside LockStore.lock().
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        raise NotImplementedError("AtomicRedisLockStore works through lock() only")

    def delete_lock(self, conversation_id: Text) -> None:
        raise NotImplementedError("AtomicRedisLockStore works through lock() only")

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError("AtomicRedisLockStore works through lock() only")
