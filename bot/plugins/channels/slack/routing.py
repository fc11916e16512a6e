"""Which Slack messages the coach answers, and in which conversation. Plain functions, no I/O.

Conversation keys (Rasa's sender_id, and the founder's sender_id in the canvas store,
channel "slack"):

- a direct message:  ``slack:<team>:<user>``, one conversation per user;
- a channel thread:  ``slack:<team>:<owner>:<channel>:<thread_ts>``, one conversation per
  thread. The owner is the author of the thread's first message (Slack's
  ``parent_user_id``): the founder who @mentioned the coach to start it.

Every key starts with ``slack:<team>:<user>``, so "this user's blocks" are the
founders whose sender id is their DM key or starts with it and a colon. A key also
says where to answer (the DM, or the channel and thread), so it is all an output
needs.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic
from typing import Callable, Dict, Optional

logger = logging.getLogger(__name__)

PREFIX = "slack"

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!([a-z]+)(?:\^[^|>]*)?(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto|tel):[^|>]+)(?:\|([^>]*))?>")


def dm_key(team: str, user: str) -> str:
    return f"{PREFIX}:{team}:{user}"


def thread_key(team: str, owner: str, channel: str, thread_ts: str) -> str:
    return f"{PREFIX}:{team}:{owner}:{channel}:{thread_ts}"


@dataclass(frozen=True)
class Place:
    """Where a conversation lives: whose it is, and where its replies go."""

    team: str
    owner: str
    channel: Optional[str]  # None for a DM: chat.postMessage to the user id opens it
    thread_ts: Optional[str]

    @property
    def key(self) -> str:
        if self.channel is None or self.thread_ts is None:
            return dm_key(self.team, self.owner)
        return thread_key(self.team, self.owner, self.channel, self.thread_ts)


def place_of(key: str) -> Optional[Place]:
    """The inverse of dm_key / thread_key; None for anything else."""
    parts = key.split(":")
    if parts[0] != PREFIX or len(parts) not in (3, 5) or not all(parts):
        return None
    if len(parts) == 3:
        return Place(parts[1], parts[2], None, None)
    return Place(parts[1], parts[2], parts[3], parts[4])


def keys_of_user(team: str, user: str, sender_id: str) -> bool:
    """Is `sender_id` one of the user's conversations (their DM or a thread they own)?"""
    own = dm_key(team, user)
    return sender_id == own or sender_id.startswith(own + ":")


# --- incoming messages -------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """A user's message the coach may answer."""

    team: str
    user: str
    channel: str
    ts: str
    text: str  # as Slack sent it (escaped, with mentions)
    is_dm: bool
    mentions_bot: bool
    thread_ts: Optional[str]  # the thread it is in; None for a top-level or DM message
    parent_user: Optional[str]  # the thread's owner when Slack says so


def read_message_event(event: Dict, team: str, bot_user: Optional[str]) -> Optional[Incoming]:
    """A `message` or `app_mention` event as an Incoming, or None for what the coach never
    answers: its own and other bots' messages, edits, joins and every other subtype."""
    if not isinstance(event, dict) or event.get("type") not in ("message", "app_mention"):
        return None
    if event.get("subtype") or event.get("bot_id") or event.get("hidden"):
        return None
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not all(isinstance(v, str) and v for v in (user, channel, ts)) or user == bot_user:
        return None
    text = event.get("text") if isinstance(event.get("text"), str) else ""
    is_dm = event.get("channel_type") == "im" or (event.get("type") == "message" and channel.startswith("D"))
    thread_ts = event.get("thread_ts") if event.get("thread_ts") != ts else None
    return Incoming(
        team=team,
        user=user,
        channel=channel,
        ts=ts,
        text=text,
        is_dm=is_dm,
        mentions_bot=event.get("type") == "app_mention" or bool(bot_user and f"<@{bot_user}" in text),
        thread_ts=thread_ts if isinstance(thread_ts, str) else None,
        parent_user=event.get("parent_user_id") if isinstance(event.get("parent_user_id"), str) else None,
    )


# What a message in a channel is to the coach.
START = "start"  # an @mention outside a coaching thread: starts one (in its thread)
OWNER = "owner"  # the thread's owner: drives the coaching, no mention needed
STEER = "steer"  # someone else's @mention in the thread: steers the coaching
SIDE_TALK = "side talk"  # someone else, no mention: no reply


def role_in_thread(message: Incoming, owner: Optional[str]) -> str:
    """How a channel message counts, given the owner of the thread it is in (None if top level)."""
    if message.thread_ts is None:
        return START if message.mentions_bot else SIDE_TALK
    if message.user == owner:
        return OWNER
    return STEER if message.mentions_bot else SIDE_TALK


def text_for_nlu(text: str, bot_user: Optional[str]) -> str:
    """What the user typed, as the NLU should read it: the coach's own mention gone, other
    mentions, channels and links as their labels, and Slack's &amp; &lt; &gt; undone."""

    def mention(match: re.Match) -> str:
        return "" if match.group(1) == bot_user else f"@{match.group(1)}"

    text = _MENTION.sub(mention, text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{m.group(2) or m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    # &amp; last, so that "&amp;lt;" (a typed "&lt;") stays "&lt;".
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split(" ")).strip()


# --- exactly once --------------------------------------------------------------------


class SeenRecently:
    """Keys seen in the last `ttl_s` seconds, at most `capacity` of them (oldest dropped).

    Lives in the Rasa server's process: it stops the retries Slack sends to this
    server (X-Slack-Retry-Num, up to three over about 5 minutes: the TTL covers
    them) and the message/app_mention pair of one mention. With several Rasa
    servers behind a load balancer, a retry that lands on another server is not
    seen here: SharedSeen (SLACK_DEDUPE_REDIS_URL) shares the memory through Redis."""

    def __init__(self, ttl_s: float = 3600.0, capacity: int = 50_000, clock: Callable[[], float] = monotonic):
        self.ttl_s = ttl_s
        self.capacity = capacity
        self.clock = clock
        self._seen: "OrderedDict[str, float]" = OrderedDict()

    def first_time(self, *keys: Optional[str]) -> bool:
        """True if none of the keys was seen recently; records them all either way."""
        now = self.clock()
        while self._seen and next(iter(self._seen.values())) < now - self.ttl_s:
            self._seen.popitem(last=False)
        keys = tuple(k for k in keys if k)
        fresh = not any(k in self._seen for k in keys)
        for key in keys:
            self._seen.pop(key, None)
            self._seen[key] = now
        while len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return fresh


class SharedSeen:
    """SeenRecently's memory in Redis (SET NX EX), shared by several Rasa servers behind a load
    balancer: a retry, or the app_mention twin of a message, that lands on another server is
    still seen. SLACK_DEDUPE_REDIS_URL turns it on. When Redis cannot be reached, this server's
    own memory answers (a duplicate across servers is then possible, nothing is dropped)."""

    def __init__(self, url: str, ttl_s: float = 3600.0, local: Optional[SeenRecently] = None):
        import redis.asyncio  # only when configured

        self.redis = redis.asyncio.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.ttl_s = int(ttl_s)
        self.local = local or SeenRecently(ttl_s)

    async def first_time(self, *keys: Optional[str]) -> bool:
        keys = tuple(k for k in keys if k)
        local = self.local.first_time(*keys)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(f"rapport:slack:seen:{key}", 1, nx=True, ex=self.ttl_s)
                return all(await pipe.execute())
        except Exception as error:  # noqa: BLE001 - redis' errors, timeouts, refused connections
            logger.error("Slack dedupe in Redis failed (%s); this server's memory answers.", type(error).__name__)
            return local
