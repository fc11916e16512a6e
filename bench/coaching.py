"""Coaching quality, conversation by conversation (`python -m bench --steps coaching`).

- The conversation-level seed suite (tests/seed_conversations.yml) played over REST
  against the real servers: cases whose seed type is among the three saved, cases
  that show a forbidden type, turns to a saved block, re-asked questions, dead ends.
- The held-out intent macro-F1 of the trained model.
- A 60-turn single-segment conversation full of digressions (questions asked
  mid-form): does a turn cost more the longer the interview goes on?
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

from bench.common import MODEL, RASA, run_logged
from bench.nlu import HELDOUT, overlap, read_reports
from bench.servers import BenchCoach
from deploy.seed_conversations import load_cases, play, sender_of, stored_top3

DIGRESSION_RUNS = 3
# Questions a founder asks in the middle of the interview, instead of answering.
DIGRESSIONS = (
    "why do you ask that?",
    "what is co-creation?",
    "what's the difference between self-service and automated services?",
    "give me an example of a loyalty program",
    "how do I measure if communities work?",
    "what can you do?",
    "what does dedicated personal assistance mean?",
    "why?",
)
FIRST_WINDOW = (5, 14)  # 1-based positions of the first ten digressions
LAST_WINDOW = (45, 54)  # and of the last ten


def digression_script() -> List[str]:
    """60 turns, one segment: digressions at the scale and frequency questions, then the answers."""
    script = [
        "hi",
        "yes",
        "Spokes, we supply spare parts to bike shops",
        # no word that names a market or a price: nothing to confirm before "how many?"
        "independent bike mechanics who need spare parts fast",
    ]
    script += [DIGRESSIONS[i % len(DIGRESSIONS)] for i in range(25)]  # turns 5-29, at "how many?"
    script += ["about 300 of them at 2,000 euros a year"]  # 30
    script += [DIGRESSIONS[(i + 3) % len(DIGRESSIONS)] for i in range(24)]  # turns 31-54, at "how often?"
    script += [
        "every month",
        "quick help when stuck",
        "they help each other",
        "email, phone and a forum",
        "keep them",
        "no, that's all",
    ]  # 55-60: the segment saved, the advice given
    assert len(script) == 60
    return script


def _window(values: Sequence[float], window) -> float:
    lo, hi = window
    return round(statistics.mean(values[lo - 1 : hi]), 1)


def digressions(server: BenchCoach, runs: int = DIGRESSION_RUNS) -> Dict[str, Any]:
    script = digression_script()
    per_position: List[List[float]] = [[] for _ in script]
    errors = 0
    last_reply = ""
    for run in range(runs):
        sender = f"bench-digressions-{run}"
        for position, message in enumerate(script):
            started = time.perf_counter()
            try:
                replies = server.say(sender, message)
                last_reply = "\n".join(r.get("text") or "" for r in replies)
            except OSError:
                errors += 1
                continue
            per_position[position].append((time.perf_counter() - started) * 1000)
    median = [round(statistics.median(v), 1) if v else None for v in per_position]
    digression_turns = [i + 1 for i in range(4, 54) if i + 1 not in (30,)]
    points = [(p, median[p - 1]) for p in digression_turns if median[p - 1] is not None]
    mean_p = statistics.mean(p for p, _ in points)
    mean_v = statistics.mean(v for _, v in points)
    slope = sum((p - mean_p) * (v - mean_v) for p, v in points) / sum((p - mean_p) ** 2 for p, _ in points)
    first, last = _window(median, FIRST_WINDOW), _window(median, LAST_WINDOW)
    return {
        "turns": len(script),
        "runs": runs,
        "errors": errors,
        "ended_with_advice": "Do these fit?" in last_reply,
        "median_ms_by_position": median,
        "first_digressions_ms": first,
        "last_digressions_ms": last,
        "growth": round(last / first, 2) if first else None,
        "slope_ms_per_turn": round(slope, 3),
    }


def seed_suite(server: BenchCoach) -> Dict[str, Any]:
    cases = []
    for case in load_cases():
        sender = sender_of(case) + "-bench"
        outcome = play(server.say, sender, case)
        top3 = stored_top3(server.canvas_db, sender) if outcome.saved else []
        cases.append(
            {
                "id": case["id"],
                "saved": outcome.saved,
                "turns": outcome.turns,
                "reasks": outcome.reasks,
                "most_asked": max(outcome.asked.values()) if outcome.asked else 0,
                "stuck": outcome.stuck,
                "top3": top3,
                "expected_in_top3": all(t in top3 for t in case["expect"]),
                "first_as_expected": None if not case.get("first") else bool(top3) and top3[0] == case["first"],
                "forbidden_shown": any(t in top3 for t in case.get("absent") or []),
            }
        )
    saved_turns = [c["turns"] for c in cases if c["saved"]]
    return {
        "cases": len(cases),
        "expected_in_top3": sum(c["expected_in_top3"] for c in cases),
        "forbidden_shown": sum(c["forbidden_shown"] for c in cases),
        "ranked": sum(1 for c in cases if c["first_as_expected"] is not None),
        "first_as_expected": sum(1 for c in cases if c["first_as_expected"]),
        "saved": sum(c["saved"] for c in cases),
        "dead_ends": sum(1 for c in cases if c["stuck"]),
        "turns_to_saved_median": statistics.median(saved_turns) if saved_turns else None,
        "turns_to_saved_max": max(saved_turns) if saved_turns else None,
        "reasks": sum(c["reasks"] for c in cases),
        "questions_asked_more_than_twice": sum(1 for c in cases if c["most_asked"] > 2),
        "by_case": cases,
    }


def heldout_f1(work: Path) -> Dict[str, Any]:
    out = work / "coaching-heldout"
    seconds, code = run_logged(
        [RASA, "test", "nlu", "--model", str(MODEL), "--nlu", str(HELDOUT), "--out", str(out)],
        desc="coaching: held-out intent macro-F1",
        log=work / "coaching-heldout.log",
    )
    intent = read_reports(out).get("intent", {})
    return {
        "exit_code": code,
        "seconds": round(seconds, 1),
        "macro_f1": intent.get("macro_f1"),
        "min_intent_f1": intent.get("min_intent_f1"),
        "examples": intent.get("examples"),
        "worst": intent.get("worst"),
        # the held-out set against the training data: both counts must be 0 (tests/test_heldout_disjoint.py)
        "overlap": overlap(),
    }


def measure(work: Path) -> Dict[str, Any]:
    result: Dict[str, Any] = {"heldout": heldout_f1(work)}
    server = BenchCoach(work / "coaching")
    try:
        server.start_actions()
        server.start_rasa()
        started = time.perf_counter()
        result["seed_suite"] = seed_suite(server)
        result["seed_suite"]["seconds"] = round(time.perf_counter() - started, 1)
        result["digressions"] = digressions(server)
        result["log_errors"] = server.errors_in_logs()
    finally:
        server.stop()
    return result
