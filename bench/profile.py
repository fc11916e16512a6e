"""Where a coach turn's time goes: NLU, policies, tracker store, action calls.

Runs in its own process (`python -m bench.profile --out profile.json`): loads the
trained model in-process exactly as `rasa run` does (rasa.core.agent.load_agent
with endpoints.yml: the SQLite tracker store and the real action server, started
by deploy/launchers.py), then talks the 80-turn conversation of
bench/conversations.py through Agent.handle_message with timers around

  - NLU: MessageProcessor._parse_message_with_graph (and each graph node in it),
  - policies: MessageProcessor._predict_next_with_tracker (and each graph node),
  - tracker store load: SQLTrackerStore.retrieve (and the tracker rebuilt from its events),
  - tracker store save: SQLTrackerStore.save,
  - actions: RemoteAction.run (building the request from the tracker, the HTTP call),

and "other" is the rest of the turn (slot extraction, forms, events, responses).
Then it replays recorded action-server requests of turn 5 and turn 80 against the
action server's /webhook directly, to time the action server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from tqdm import tqdm

from bench.common import MODEL, ROOT, bench_env, memory_mb, percentile, post_json
from bench.conversations import kinds_from_tracker, long_conversation
from deploy.launchers import CoachServers

TOP = ["nlu", "policies", "tracker_load", "tracker_save", "actions"]
NESTED = ["tracker_rebuild", "action_payload", "action_http", "action_response_check", "nlg", "interpolation_errors"]
REPLAY_TIMES = 20

_current: Optional[Dict[str, float]] = None
_requests: List[Dict[str, Any]] = []


def _add(key: str, seconds: float) -> None:
    if _current is not None:
        _current[key] = _current.get(key, 0.0) + seconds


def _timed_sync(key: Callable[..., str], fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(key(*args, **kwargs), time.perf_counter() - started)

    return wrapper


def _timed_async(key: Callable[..., str], fn: Callable) -> Callable:
    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            _add(key(*args, **kwargs), time.perf_counter() - started)

    return wrapper


def instrument() -> None:
    """Wraps Rasa's own methods with timers (this process only), after the fix that
    `python -m bot.plugins.rasa_server` installs, so the profile is of the coach as served."""
    from bot.plugins.patches.registry import install

    install()
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.engine.graph import GraphNode
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    MessageProcessor._parse_message_with_graph = _timed_sync(
        lambda *a, **k: "nlu", MessageProcessor._parse_message_with_graph
    )
    MessageProcessor._predict_next_with_tracker = _timed_sync(
        lambda *a, **k: "policies", MessageProcessor._predict_next_with_tracker
    )
    GraphNode.__call__ = _timed_sync(
        lambda self, *a, **k: "node:" + re.sub(r"\d+$", "", self._node_name), GraphNode.__call__
    )
    SQLTrackerStore.retrieve = _timed_async(lambda *a, **k: "tracker_load", SQLTrackerStore.retrieve)
    SQLTrackerStore.save = _timed_async(lambda *a, **k: "tracker_save", SQLTrackerStore.save)
    from_dict = DialogueStateTracker.from_dict.__func__
    DialogueStateTracker.from_dict = classmethod(_timed_sync(lambda *a, **k: "tracker_rebuild", from_dict))
    RemoteAction.run = _timed_async(lambda *a, **k: "actions", RemoteAction.run)
    RemoteAction._action_call_format = _timed_sync(lambda *a, **k: "action_payload", RemoteAction._action_call_format)
    from rasa.core.nlg import interpolator
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator

    TemplatedNaturalLanguageGenerator.generate = _timed_async(
        lambda *a, **k: "nlg", TemplatedNaturalLanguageGenerator.generate
    )
    RemoteAction._validate_action_result = _timed_sync(
        lambda *a, **k: "action_response_check", RemoteAction._validate_action_result
    )
    logged = interpolator.structlogger

    class CountingLogger:  # counts the interpolator's logged exceptions (a button payload read as a slot)
        def __getattr__(self, name):
            return getattr(logged, name)

        def exception(self, *args, **kwargs):
            _add("interpolation_errors", 1.0 / 1000)  # reported in ms: one error = 1.0
            return logged.exception(*args, **kwargs)

    interpolator.structlogger = CountingLogger()
    request = EndpointConfig.request

    async def recorded_request(self, *args, **kwargs):
        started = time.perf_counter()
        response = None
        try:
            response = await request(self, *args, **kwargs)
            return response
        finally:
            seconds = time.perf_counter() - started
            _add("action_http", seconds)
            body = kwargs.get("json")
            if isinstance(body, dict) and _current is not None:
                _requests.append(
                    {
                        "body": body,
                        "seconds": seconds,
                        "url": self.url,
                        "response": json.loads(json.dumps(response)) if response else None,
                    }
                )

    EndpointConfig.request = recorded_request


def schema_check(responses: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Rasa checks every action-server answer with jsonschema.validate(), which checks the
    schema itself against its metaschema on every call; against one validator built once."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    if not responses:
        return {}
    schema = RemoteAction.action_response_format_spec()
    original = (
        RemoteAction._rasa_validate_action_result
    )  # Rasa 3.6's own check, which bot/plugins/patches/answer_check.py replaces
    action = RemoteAction("action_bench", None)
    cls = validator_for(schema)
    validator = cls(schema)
    as_rasa, cached = [], []
    for response in responses:
        for _ in range(5):
            t0 = time.perf_counter()
            original(action, response)
            as_rasa.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            validator.validate(response)
            cached.append((time.perf_counter() - t0) * 1000)
    return {
        "responses": len(responses),
        "rasa_validate_ms": round(percentile(as_rasa, 50), 2),
        "validator_built_once_ms": round(percentile(cached, 50), 2),
    }


def _mean(values: List[float]) -> Optional[float]:
    return round(sum(values) / len(values), 2) if values else None


def _breakdown(records: List[Dict[str, float]]) -> Dict[str, Optional[float]]:
    """Mean ms per turn of each part, over the given turn records."""
    if not records:
        return {}
    keys = ["total", *TOP, "other", *NESTED]
    return {k: _mean([r.get(k, 0.0) for r in records]) for k in keys}


def _nodes(records: List[Dict[str, float]], top: int = 12) -> List[Dict[str, Any]]:
    sums: Dict[str, float] = defaultdict(float)
    for record in records:
        for key, value in record.items():
            if key.startswith("node:"):
                sums[key[5:]] += value
    return (
        [
            {"node": k, "ms_per_turn": round(v / len(records), 2)}
            for k, v in sorted(sums.items(), key=lambda kv: -kv[1])[:top]
        ]
        if records
        else []
    )


def configure_like_rasa_run() -> None:
    """Logging and TensorFlow set up as the `rasa` command does (rasa/__main__.py), so
    the in-process turn does the same logging work as the server (LOG_LEVEL, INFO)."""
    import rasa.utils.tensorflow.environment as tf_env
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(None, None, warn_only_once=True, filter_repeated_logs=True)
    tf_env.setup_tf_environment()
    configure_structlog(None)


def _rss_mb() -> Optional[float]:
    return memory_mb(os.getpid())["rss_mb"]


async def _run(args: argparse.Namespace, servers: CoachServers) -> Dict[str, Any]:
    global _current
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints
    from rasa.engine.graph import GraphNode

    rss = {"after_imports": _rss_mb()}
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
    load_times: Dict[str, float] = {}
    load_component = GraphNode._load_component

    def timed_load(self, **kwargs):  # each component's load, while the model loads
        t0 = time.perf_counter()
        try:
            return load_component(self, **kwargs)
        finally:
            name = re.sub(r"\d+$", "", self._node_name)
            load_times[name] = load_times.get(name, 0.0) + time.perf_counter() - t0

    GraphNode._load_component = timed_load
    started = time.perf_counter()
    agent = await load_agent(model_path=str(args.model), endpoints=endpoints)
    load_seconds = time.perf_counter() - started
    GraphNode._load_component = load_component
    if not agent.is_ready():
        raise RuntimeError(f"the model {args.model} did not load")
    rss["after_model_load"] = _rss_mb()
    instrument()
    script = long_conversation(args.turns)
    records: List[Dict[str, Any]] = []
    calls_by_turn: Dict[int, List[Dict[str, Any]]] = {}
    responses: List[Dict[str, Any]] = []
    calls_by_name: Dict[str, int] = {}
    with tqdm(total=len(script) * args.runs, desc="profile: turns in-process", unit="turn", file=sys.stderr) as bar:
        for run in range(args.runs):
            sender = f"profile-{run}"
            for position, text in enumerate(script, 1):
                _current = {}
                _requests.clear()
                started = time.perf_counter()
                await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
                _current["total"] = time.perf_counter() - started
                record = {k: v * 1000 for k, v in _current.items()}
                _current = None
                record["other"] = record["total"] - sum(record.get(k, 0.0) for k in TOP)
                record["position"] = position
                record["run"] = run
                record["sender"] = sender
                record["action_calls"] = len(_requests)
                for call in _requests:
                    name = call["body"].get("next_action") or "?"
                    calls_by_name[name] = calls_by_name.get(name, 0) + 1
                if _requests:
                    last = _requests[-1]["body"]
                    record["tracker_events"] = len((last.get("tracker") or {}).get("events") or [])
                    record["payload_kb"] = round(len(json.dumps(last)) / 1024, 1)
                if run == 0 and position in (5, len(script)):
                    calls_by_turn[position] = [dict(r) for r in _requests]
                if run == 0 and _requests and len(responses) < 40:
                    responses.extend(r["response"] for r in _requests if r.get("response"))
                records.append(record)
                bar.update(1)
    rss["after_turns"] = _rss_mb()
    # The kind of each turn, from the tracker store, as for the REST runs.
    kinds = kinds_from_tracker(servers.tracker_db, [f"profile-{r}" for r in range(args.runs)])
    for record in records:
        labels = kinds.get(record["sender"], [])
        record["kind"] = labels[record["position"] - 1] if record["position"] <= len(labels) else None

    last = len(script)
    kind5 = next((r["kind"] for r in records if r["position"] == 5), None)
    early = [r for r in records if 4 <= r["position"] <= 12 and r["kind"] == kind5]
    late = [r for r in records if last - 8 <= r["position"] <= last and r["kind"] == kind5]
    by_kind = {}
    for kind in sorted({r["kind"] for r in records if r["kind"]}):
        picked = [r for r in records if r["kind"] == kind]
        by_kind[kind] = {"turns": len(picked), **_breakdown(picked)}

    def at(position):
        return [r for r in records if r["position"] == position]

    replay = {}
    for position, calls in calls_by_turn.items():
        replay[str(position)] = []
        for call in calls:
            times = []
            for _ in range(REPLAY_TIMES):
                t0 = time.perf_counter()
                post_json(call["url"], call["body"])
                times.append((time.perf_counter() - t0) * 1000)
            replay[str(position)].append(
                {
                    "action": call["body"].get("next_action"),
                    "payload_kb": round(len(json.dumps(call["body"])) / 1024, 1),
                    "tracker_events": len((call["body"].get("tracker") or {}).get("events") or []),
                    "in_turn_ms": round(call["seconds"] * 1000, 2),
                    "direct_median_ms": round(percentile(times, 50), 2),
                }
            )
    return {
        "how": "in-process Agent.handle_message, endpoints.yml (SQLite tracker store, real action server)",
        "model_load_s": round(load_seconds, 1),
        "model_load_components": [
            {"node": k, "seconds": round(v, 2)}
            for k, v in sorted(load_times.items(), key=lambda kv: -kv[1])
            if v >= 0.05
        ],
        "rss_mb": rss,
        "runs": args.runs,
        "turns": last,
        "overall": _breakdown(records),
        "by_kind": by_kind,
        "early_kind": kind5,
        "early": {"positions": "4-12", "turns": len(early), **_breakdown(early)},
        "late": {"positions": f"{last - 8}-{last}", "turns": len(late), **_breakdown(late)},
        "turn_first": {"position": 5, **_breakdown(at(5))},
        "turn_last": {"position": last, **_breakdown(at(last))},
        "nodes_overall": _nodes(records),
        "nodes_early": _nodes(early),
        "nodes_late": _nodes(late),
        "tracker_events": {
            "turn_first": _mean([r.get("tracker_events", 0) for r in at(5)]),
            "turn_last": _mean([r.get("tracker_events", 0) for r in at(last)]),
        },
        "payload_kb": {
            "turn_first": _mean([r.get("payload_kb", 0) for r in at(5)]),
            "turn_last": _mean([r.get("payload_kb", 0) for r in at(last)]),
        },
        "action_calls_per_turn": _mean([r["action_calls"] for r in records]),
        "action_calls_by_name": {
            k: round(v / args.runs, 1) for k, v in sorted(calls_by_name.items(), key=lambda kv: -kv[1])
        },
        "replay": replay,
        "schema_check": schema_check(responses),
        "per_turn": [
            {k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items() if not k.startswith("node:")}
            for r in records
        ],
    }


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--turns", type=int, default=80)
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        servers = CoachServers(Path(tmp))
        servers.env = {**bench_env(), **servers.env}  # its own ports and databases win over `make`'s
        try:
            servers.start_actions()
            # endpoints.yml reads these, as in `make run`
            for name in ("ACTIONS_PORT", "ACTIONS_URL", "ACTIONS_TOKEN", "TRACKER_DB", "CANVAS_DB_URL"):
                os.environ[name] = servers.env[name]
            configure_like_rasa_run()
            result = asyncio.run(_run(args, servers))
        finally:
            servers.stop()
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
