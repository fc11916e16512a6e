"""The fault scenarios' client and checks: founders talking over REST, each
message recorded as acknowledged, failed or unknown, and what PostgreSQL holds
checked against that record.

- acknowledged: 200 and the coach's replies;
- failed: the coach said it did not store the message (400 or 503 with an error);
- unknown: no answer (connection lost, timeout, or 5xx from nginx: in flight
  when a fault hit), so the message may or may not have been processed.

For every scenario PostgreSQL must show each acknowledged message exactly once
and in order, no failed one, each unknown one at most once, and a coach reply
after each user message (`check_stored`).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

ACKNOWLEDGED, FAILED, UNKNOWN = "acknowledged", "failed", "unknown"


@dataclass
class Sent:
    """One message a founder sent (possibly several times, always with the same id)."""

    sender: str
    position: int
    text: str
    message_id: str
    outcome: str = ""
    attempts: List[str] = field(default_factory=list)  # each attempt's outcome
    replies: List[Dict[str, Any]] = field(default_factory=list)
    seconds: List[float] = field(default_factory=list)  # each attempt's duration
    round: int = -1  # messages sent at once share a round; the store must keep the rounds in order

    def __post_init__(self) -> None:
        if self.round < 0:
            self.round = self.position

    @property
    def reply_texts(self) -> List[str]:
        return [r.get("text") or "" for r in self.replies]


class Founders:
    """Sends founders' messages and keeps the record of what came of each."""

    def __init__(self, timeout: float = 30):
        self.timeout = timeout
        self.sent: List[Sent] = []
        self._session: Optional[aiohttp.ClientSession] = None

    async def __aenter__(self) -> "Founders":
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout), connector=aiohttp.TCPConnector(limit=200)
        )
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._session.close()

    def message(self, sender: str, position: int, text: str, round: int = -1) -> Sent:
        sent = Sent(sender, position, text, f"{sender}.{position}.{uuid.uuid4().hex[:8]}", round=round)
        self.sent.append(sent)
        return sent

    async def attempt(self, url: str, sent: Sent) -> str:
        """Sends the message once to url (a Rasa server or nginx); records and returns the outcome."""
        body = {"sender": sent.sender, "message": sent.text, "message_id": sent.message_id}
        started = time.monotonic()
        try:
            # The id in Idempotency-Key too: nginx may then retry it on the other Rasa server.
            headers = {"Idempotency-Key": sent.message_id}
            async with self._session.post(f"{url}/webhooks/rest/webhook", json=body, headers=headers) as response:
                data = await response.json(content_type=None)
                if response.status == 200 and isinstance(data, list):
                    outcome, sent.replies = ACKNOWLEDGED, data
                elif response.status in (400, 503) and isinstance(data, dict) and "error" in data:
                    outcome = FAILED
                else:
                    outcome = UNKNOWN
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            outcome = UNKNOWN
        sent.seconds.append(time.monotonic() - started)
        sent.attempts.append(outcome)
        sent.outcome = outcome
        return outcome

    async def send(self, url: str, sent: Sent, retry_for: float = 0, pause: float = 0.5) -> str:
        """Sends until acknowledged, trying again (same id) for up to retry_for seconds."""
        deadline = time.monotonic() + retry_for
        while True:
            outcome = await self.attempt(url, sent)
            if outcome == ACKNOWLEDGED or time.monotonic() >= deadline:
                return outcome
            await asyncio.sleep(pause)

    def of(self, sender: str) -> List[Sent]:
        return [s for s in self.sent if s.sender == sender]

    def senders(self) -> List[str]:
        return sorted({s.sender for s in self.sent})

    def counts(self) -> Dict[str, int]:
        outcomes = [s.outcome for s in self.sent]
        return {
            "messages": len(self.sent),
            "attempts": sum(len(s.attempts) for s in self.sent),
            ACKNOWLEDGED: outcomes.count(ACKNOWLEDGED),
            FAILED: outcomes.count(FAILED),
            UNKNOWN: outcomes.count(UNKNOWN),
        }


# ---------------------------------------------------------------- what PostgreSQL holds


def stored_events(database_url: str, senders: Sequence[str]) -> Dict[str, List[Dict[str, Any]]]:
    """Each sender's events as the tracker store keeps them, in order."""
    import psycopg2

    connection = psycopg2.connect(database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id, data FROM events WHERE sender_id = ANY(%s) ORDER BY id", (list(senders),))
            rows = cursor.fetchall()
    finally:
        connection.close()
    events: Dict[str, List[Dict[str, Any]]] = {sender: [] for sender in senders}
    for sender, data in rows:
        events[sender].append(json.loads(data))
    return events


@dataclass
class Check:
    """What the store shows against the client's record; `lost` and `problems` must be empty."""

    events: int = 0
    user_events: int = 0
    duplicates: int = 0  # user events stored more than once for one message id
    lost: List[str] = field(default_factory=list)  # acknowledged messages not stored
    problems: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "events stored": self.events,
            "user events": self.user_events,
            "duplicates": self.duplicates,
            "lost": len(self.lost),
            "problems": len(self.problems),
        }


def check_stored(founders: Founders, database_url: str) -> Check:
    check = Check()
    stored = stored_events(database_url, founders.senders())
    for sender, events in stored.items():
        check.events += len(events)
        users = [i for i, e in enumerate(events) if e.get("event") == "user"]
        check.user_events += len(users)
        ids = [events[i].get("message_id") for i in users]
        for sent in founders.of(sender):
            times = ids.count(sent.message_id)
            if times > 1:
                check.duplicates += times - 1
                check.problems.append(f"{sent.message_id} ({sent.outcome}) stored {times} times")
            if sent.outcome == ACKNOWLEDGED and times == 0:
                check.lost.append(sent.message_id)
                check.problems.append(f"{sent.message_id} acknowledged but not stored")
            if sent.outcome == FAILED and times:
                check.problems.append(f"{sent.message_id} failed but stored")
        rounds = {s.message_id: s.round for s in founders.of(sender) if s.outcome == ACKNOWLEDGED}
        stored_rounds = [rounds[i] for i in ids if i in rounds]
        if stored_rounds != sorted(stored_rounds):
            check.problems.append(f"{sender}: acknowledged messages stored out of order")
        for n, index in enumerate(users):
            end = users[n + 1] if n + 1 < len(users) else len(events)
            if not any(e.get("event") == "bot" for e in events[index:end]):
                check.problems.append(f"{sender}: no coach reply after {events[index].get('message_id')}")
    return check


def latency_figures(seconds: List[float]) -> Dict[str, float]:
    if not seconds:
        return {}
    ordered = sorted(seconds)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 1)

    return {"p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99)}
