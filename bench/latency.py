"""Turn latency over REST as a founder feels it: whole conversations one after the
other, latency by the turn's position in an 80-turn conversation, and throughput
with many conversations at once.

Every turn is timed on the client with time.perf_counter, from sending the
request to having read the whole answer. Every loop is bounded in turns and in
time, and talks only to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence

import aiohttp
from tqdm import tqdm

from bench.common import LOCALHOST, REQUEST_TIMEOUT, percentile, rest_turn, summary_ms
from bench.conversations import KINDS, kinds_from_tracker

PHASE_TIMEOUT = 45 * 60.0  # seconds: no phase runs longer, whatever happens


@dataclass
class Turn:
    sender: str
    position: int  # 1-based position of the turn in its conversation
    message: str
    seconds: float
    ok: bool
    replies: int = 0
    error: Optional[str] = None
    kind: Optional[str] = None


def _say(port: int, sender: str, position: int, message: str) -> Turn:
    started = time.perf_counter()
    try:
        replies = rest_turn(port, sender, message)
        seconds = time.perf_counter() - started
        if not replies:
            return Turn(sender, position, message, seconds, False, 0, "empty reply")
        return Turn(sender, position, message, seconds, True, len(replies))
    except Exception as error:  # noqa: BLE001 - every failure of a turn is counted, not raised
        return Turn(sender, position, message, time.perf_counter() - started, False, 0, type(error).__name__)


def run_conversations(server: Any, scripts: Sequence[Sequence[str]], count: int, prefix: str, desc: str) -> List[Turn]:
    """`count` whole conversations, one after the other, cycling through `scripts`."""
    plan = [(f"{prefix}-{i}", scripts[i % len(scripts)]) for i in range(count)]
    turns: List[Turn] = []
    deadline = time.perf_counter() + PHASE_TIMEOUT
    with tqdm(total=sum(len(s) for _, s in plan), desc=desc, unit="turn", file=sys.stderr) as bar:
        for sender, script in plan:
            for position, message in enumerate(script, 1):
                if time.perf_counter() > deadline:
                    return turns
                turns.append(_say(server.port, sender, position, message))
                bar.update(1)
    return turns


def label_kinds(server: Any, turns: List[Turn]) -> None:
    """Sets each turn's kind from the actions the tracker store recorded for it."""
    db = getattr(server, "tracker_db_path", None)
    if not db or server.label != "coach":  # the kinds are the coach's; the stock bot's turns have none
        return
    kinds = kinds_from_tracker(db, sorted({t.sender for t in turns}))
    for turn in turns:
        labels = kinds.get(turn.sender, [])
        if turn.position <= len(labels):
            turn.kind = labels[turn.position - 1]


def latency_summary(turns: List[Turn]) -> Dict[str, Any]:
    ok = [t for t in turns if t.ok]
    result: Dict[str, Any] = {
        "conversations": len({t.sender for t in turns}),
        "turns": len(turns),
        "errors": len(turns) - len(ok),
        "all": summary_ms(t.seconds for t in ok),
    }
    if any(t.kind for t in ok):
        result["by_kind"] = {
            k: summary_ms(t.seconds for t in ok if t.kind == k) for k in KINDS if any(t.kind == k for t in ok)
        }
    return result


# ------------------------------------------------------------------ latency by position


def by_position(server: Any, script: Sequence[str], runs: int, prefix: str, desc: str) -> Dict[str, Any]:
    """The same long conversation `runs` times; mean and median latency of each position."""
    turns = run_conversations(server, [script], runs, prefix, desc)
    label_kinds(server, turns)
    length = len(script)
    per_position: List[List[float]] = [[] for _ in range(length)]
    for turn in turns:
        if turn.ok:
            per_position[turn.position - 1].append(turn.seconds * 1000)
    mean = [round(sum(v) / len(v), 1) if v else None for v in per_position]
    median = [round(percentile(v, 50), 1) if v else None for v in per_position]
    kinds = [None] * length
    for turn in turns:
        if turn.kind and kinds[turn.position - 1] is None:
            kinds[turn.position - 1] = turn.kind
    first, last = 5, length

    def window(values, lo, hi):  # mean of positions lo..hi (1-based, inclusive) with the same kind as turn 5
        picked = [
            values[i - 1]
            for i in range(lo, hi + 1)
            if values[i - 1] is not None and (kinds[i - 1] == kinds[first - 1] or kinds[first - 1] is None)
        ]
        return round(sum(picked) / len(picked), 1) if picked else None

    # Least-squares slope of latency against position, in ms per turn (all turns).
    points = [(i + 1, m) for i, m in enumerate(mean) if m is not None]
    slope = None
    if len(points) > 2:
        mx = sum(x for x, _ in points) / len(points)
        my = sum(y for _, y in points) / len(points)
        sxx = sum((x - mx) ** 2 for x, _ in points)
        slope = round(sum((x - mx) * (y - my) for x, y in points) / sxx, 3) if sxx else None
    return {
        "runs": runs,
        "turns": length,
        "errors": sum(1 for t in turns if not t.ok),
        "mean_ms": mean,
        "median_ms": median,
        "kinds": kinds,
        "kind_counts": {k: kinds.count(k) for k in sorted(set(filter(None, kinds)))},
        "turn_first": first,
        "turn_last": last,
        "first_message": script[first - 1],
        "last_message": script[last - 1],
        "first_mean_ms": mean[first - 1],
        "last_mean_ms": mean[last - 1],
        "ratio_mean": round(mean[last - 1] / mean[first - 1], 2) if mean[first - 1] and mean[last - 1] else None,
        "first_median_ms": median[first - 1],
        "last_median_ms": median[last - 1],
        "ratio_median": (
            round(median[last - 1] / median[first - 1], 2) if median[first - 1] and median[last - 1] else None
        ),
        # Same kind of turn as turn 5, early (turns 4-12) against late (turns 72-80): less noise than one turn.
        "early_same_kind_mean_ms": window(mean, 4, 12),
        "late_same_kind_mean_ms": window(mean, length - 8, length),
        "slope_ms_per_turn": slope,
    }


# ------------------------------------------------------------------ throughput


async def _worker(
    session: aiohttp.ClientSession,
    port: int,
    conversations: List[List[str]],
    senders: List[str],
    turns: List[Turn],
    bar: tqdm,
    deadline: float,
) -> None:
    url = f"http://{LOCALHOST}:{port}/webhooks/rest/webhook"
    for sender, script in zip(senders, conversations):
        for position, message in enumerate(script, 1):
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            try:
                async with session.post(url, json={"sender": sender, "message": message}) as response:
                    body = await response.json(content_type=None)
                    seconds = time.perf_counter() - started
                    if response.status != 200:
                        turns.append(Turn(sender, position, message, seconds, False, 0, f"HTTP {response.status}"))
                    elif not body:
                        turns.append(Turn(sender, position, message, seconds, False, 0, "empty reply"))
                    else:
                        turns.append(Turn(sender, position, message, seconds, True, len(body)))
            except Exception as error:  # noqa: BLE001 - counted as an error
                turns.append(
                    Turn(sender, position, message, time.perf_counter() - started, False, 0, type(error).__name__)
                )
            bar.update(1)


async def _throughput(
    port: int, scripts: Sequence[Sequence[str]], concurrency: int, per_worker: int, prefix: str, desc: str
) -> Dict[str, Any]:
    plans = []
    for worker in range(concurrency):
        convs = [list(scripts[(worker * per_worker + k) % len(scripts)]) for k in range(per_worker)]
        plans.append((convs, [f"{prefix}-c{concurrency}-w{worker}-{k}" for k in range(per_worker)]))
    turns: List[Turn] = []
    total = sum(len(c) for convs, _ in plans for c in convs)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=concurrency)
    deadline = time.perf_counter() + PHASE_TIMEOUT
    with tqdm(total=total, desc=desc, unit="turn", file=sys.stderr) as bar:
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            started = time.perf_counter()
            await asyncio.wait_for(
                asyncio.gather(
                    *(_worker(session, port, convs, senders, turns, bar, deadline) for convs, senders in plans)
                ),
                timeout=PHASE_TIMEOUT + REQUEST_TIMEOUT,
            )
            wall = time.perf_counter() - started
    ok = [t for t in turns if t.ok]
    errors: Dict[str, int] = {}
    for turn in turns:
        if not turn.ok:
            errors[turn.error or "?"] = errors.get(turn.error or "?", 0) + 1
    return {
        "concurrency": concurrency,
        "conversations": concurrency * per_worker,
        "turns_planned": total,
        "turns": len(turns),
        "errors": len(turns) - len(ok) + (total - len(turns)),
        "error_kinds": errors,
        "wall_s": round(wall, 2),
        "turns_per_s": round(len(ok) / wall, 2) if wall else None,
        "latency": summary_ms(t.seconds for t in ok),
        "_turns": turns,
    }


def throughput(
    server: Any, scripts: Sequence[Sequence[str]], concurrency: int, min_conversations: int, prefix: str
) -> Dict[str, Any]:
    """`concurrency` conversations at once, each worker talking whole conversations one
    after another until at least `min_conversations` are done in all."""
    per_worker = max(1, -(-min_conversations // concurrency))
    result = asyncio.run(
        _throughput(server.port, scripts, concurrency, per_worker, prefix, f"{server.label}: {concurrency} at once")
    )
    turns = result.pop("_turns")
    if server.label == "coach":
        # Every coaching conversation ends with its block saved: count those that did.
        label_kinds(server, turns)
        senders = {t.sender for t in turns}
        saved = {t.sender for t in turns if t.kind == "save"}
        result["conversations_saved"] = len(saved)
        result["conversations_not_saved"] = len(senders - saved)
    return result


def turns_as_dicts(turns: List[Turn]) -> List[Dict[str, Any]]:
    return [asdict(t) for t in turns]
