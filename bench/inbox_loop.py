"""The inbox's loop, measured (`python -m bench.inbox_loop`): does correcting what
the coach misread teach it?

1. Founders' messages are generated from paraphrase templates that the training
   data does not contain (TEMPLATES below; any text already in data/nlu or in the
   held-out set is dropped), and the current model (models/rapport.tar.gz) reads
   each; the misread ones are kept.
2. They are split in two halves (a fixed shuffle). The first half is put in a
   tracker as founders' messages, and corrected through the inbox's HTTP
   endpoints as a reviewer would: signed in, flagging the confident misreadings
   (the inbox lists fallbacks and low confidence by itself), one label per group.
3. `python -m bot nlu export` writes them into a copy of the project's training
   inputs, and `make train` retrains there (the repository's model stays).
4. The intent accuracy on the other half, never corrected, before and after.

It rewrites only its own section of docs/benchmarks.md (and docs/benchmarks-inbox.json).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bench.common import ROOT, load_average, machine_info, splice_section
from bench.review import WebApp
from bot.review.nlu_data import HELDOUT, load_examples, normalise, training_files
from deploy import review_events as ev
from deploy.launchers import MODEL, PYTHON

START, END = "<!-- inbox-loop:start -->", "<!-- inbox-loop:end -->"
ADMIN = ("bench-admin", "bench admin password")
COHORT = "BENCH"
TARGET = "the held-back half is read better after the loop than before"
# Paraphrases a founder might type, written for this step; none is in data/nlu.
TEMPLATES: Dict[str, List[str]] = {
    "ask_advice": [
        "where do {who} usually trip up with {whom}",
        "what do {who} get wrong with {whom}",
        "which traps catch {who} dealing with {whom}",
        "any warnings for {who} about {whom}",
    ],
    "ask_measure": [
        "which figures tell me that {whom} are happy",
        "what numbers show the bond with {whom} works",
        "how would i gauge whether {whom} stick around",
    ],
    "show_canvas": ["display my {board}", "pull up my {board}", "put my {board} on screen"],
    "export_data": ["i want a file with everything about me and my {board}", "hand me a dump of my {board} data"],
    "pause": ["i gotta run, we'll carry on with the {board} later", "time out, back to the {board} in a bit"],
}
FILLERS = {
    "who": ["founders", "startups", "beginners", "new companies", "small teams", "first-time founders"],
    "whom": ["clients", "customers", "buyers", "users", "patrons", "members"],
    "board": ["board", "canvas sheet", "block", "sticky notes", "work so far", "canvas"],
}
LINKED = [
    "config.yml",
    "domain.yml",
    "credentials.yml",
    "endpoints.yml",
    "Makefile",
    "requirements.lock",
    "scripts",
    "bot",
]


def generate() -> List[Tuple[str, str]]:
    """(text, intent) for every template and filling, without the texts the data already holds."""
    known = set(load_examples(training_files()).by_key) | set(load_examples([HELDOUT]).by_key)
    result, seen = [], set()
    for intent, templates in TEMPLATES.items():
        for template in templates:
            names = [n for n in FILLERS if "{" + n + "}" in template]
            for values in itertools.product(*(FILLERS[n] for n in names)):
                text = template.format(**dict(zip(names, values)))
                key = normalise(text)
                if key not in known and key not in seen:
                    seen.add(key)
                    result.append((text, intent))
    return result


def read_all(model: Path, texts: Sequence[str]) -> List[Tuple[str, float]]:
    """The model's (intent, confidence) for each text, as the Rasa server would read it."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    async def parse() -> List[Tuple[str, float]]:
        out = []
        for text in texts:
            parsed = await agent.parse_message(text)
            out.append((parsed["intent"]["name"], float(parsed["intent"]["confidence"])))
        return out

    return asyncio.run(parse())


def training_copy(folder: Path) -> Path:
    """What `make train` reads, with data/ copied (the export writes into it) and the rest linked."""
    folder.mkdir(parents=True)
    shutil.copytree(ROOT / "data", folder / "data")
    for name in LINKED:
        (folder / name).symlink_to(ROOT / name)
    (folder / ".venv").symlink_to(ROOT / ".venv")
    (folder / "var").mkdir()
    (folder / "var" / "spacy").symlink_to(ROOT / "var" / "spacy")
    return folder


def correct_through_the_inbox(work: Path, misread: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The first half as founders' messages, corrected over HTTP by a signed-in reviewer."""
    tracker = work / "tracker.db"
    ev.create_tracker(tracker)
    now = time.time()
    rows = []
    for i, m in enumerate(misread):
        sender = f"bench-founder-{i}"
        rows.append(ev.slot(sender, now, "session_started_metadata", {"cohort": COHORT}))
        rows.append(ev.user(sender, now + 1, m["text"], m["before"], m["confidence"], COHORT))
    ev.insert(tracker, rows)
    with sqlite3.connect(tracker) as conn:
        event_ids = dict(conn.execute("SELECT sender_id, id FROM events WHERE type_name = 'user'").fetchall())
    web = WebApp(work)
    try:
        subprocess.run(
            [PYTHON, "-m", "bot", "users", "add", ADMIN[0], "--role", "admin"],
            cwd=ROOT,
            env={**web.env, "REVIEW_PASSWORD": ADMIN[1]},
            check=True,
            capture_output=True,
        )
        session = web.session(ADMIN)
        page = session.get(web.url + "/review/inbox").text.replace("&#34;", '"')
        csrf = page.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]
        session.headers.update({"Origin": web.url, "X-CSRF-Token": csrf, "Accept": "application/json"})
        flagged = 0
        for i, m in enumerate(misread):  # what the inbox does not list by itself, a reviewer flags
            if m["before"] != "nlu_fallback" and m["confidence"] >= 0.7:
                sender = f"bench-founder-{i}"
                answer = session.post(
                    web.url + "/review/conversation/flag",
                    data={"sender": sender, "event_id": event_ids[sender], "flagged": "yes"},
                )
                answer.raise_for_status()
                flagged += 1
        groups = session.get(web.url + "/review/inbox").json()["groups"]
        right = {normalise(m["text"]): m["intent"] for m in misread}
        started = time.perf_counter()
        for group in groups:
            data = {"key": group["key"], "intent": right[group["key"]]}
            session.post(web.url + "/review/inbox/correct", data=data).raise_for_status()
        correcting_s = time.perf_counter() - started
    finally:
        web.stop()
    return {"groups": len(groups), "flagged": flagged, "correcting_s": round(correcting_s, 2), "env": web.env}


def accuracy(reads: Sequence[Tuple[str, float]], items: Sequence[Dict[str, Any]]) -> float:
    return round(sum(r[0] == m["intent"] for r, m in zip(reads, items)) / max(1, len(items)), 3)


def run(out: Path, seed: int = 7) -> Dict[str, Any]:
    load = load_average()
    generated = generate()
    print(f"bench inbox: {len(generated)} paraphrases; reading them with {MODEL}", file=sys.stderr)
    reads = read_all(MODEL, [t for t, _ in generated])
    misread = [
        {"text": t, "intent": i, "before": r[0], "confidence": round(r[1], 3)}
        for (t, i), r in zip(generated, reads)
        if r[0] != i
    ]
    random.Random(seed).shuffle(misread)
    half = len(misread) // 2
    corrected, held_back = misread[:half], misread[half:]
    with tempfile.TemporaryDirectory(prefix="bench-inbox-") as temp:
        work = Path(temp)
        inbox = correct_through_the_inbox(work, corrected)
        project = training_copy(work / "project")
        export = subprocess.run(
            [PYTHON, "-m", "bot", "nlu", "export", "--out", str(project / "data" / "nlu" / "reviewed.yml")],
            cwd=ROOT,
            env=inbox.pop("env"),
            capture_output=True,
            text=True,
            check=True,
        )
        print(export.stdout, file=sys.stderr)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
        started = time.monotonic()
        subprocess.run(["make", "train"], cwd=project, env=env, check=True, capture_output=True)
        train_s = round(time.monotonic() - started, 1)
        after_model = project / "models" / "rapport.tar.gz"
        after_held = read_all(after_model, [m["text"] for m in held_back])
        after_corrected = read_all(after_model, [m["text"] for m in corrected])
    info = machine_info()
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{info['cores_usable']} cores ({info['cpu_model']}), commit {info['git_commit']}",
        "load_average": load,
        "generated": len(generated),
        "misread": len(misread),
        "corrected": len(corrected),
        "held_back": len(held_back),
        "inbox": inbox,
        "exported": export.stdout.strip().splitlines(),
        "train_s": train_s,
        "held_back_accuracy": {"before": 0.0, "after": accuracy(after_held, held_back)},
        "corrected_accuracy": {"before": 0.0, "after": accuracy(after_corrected, corrected)},
        "by_intent": {
            intent: {
                "held_back": sum(m["intent"] == intent for m in held_back),
                "after": sum(r[0] == m["intent"] for r, m in zip(after_held, held_back) if m["intent"] == intent),
            }
            for intent in TEMPLATES
        },
        "target": TARGET,
    }
    write(result, out)
    return result


def section(r: Dict[str, Any]) -> str:
    held, fixed = r["held_back_accuracy"], r["corrected_accuracy"]
    met = "met" if held["after"] > held["before"] else "missed"
    lines = [
        START,
        "## The inbox's loop: corrections that teach the coach",
        "",
        f"`python -m bench.inbox_loop`, {r['when']}, {r['machine']}, load average {r['load_average']}.",
        "",
        f"{r['generated']} founders' messages from paraphrase templates the training data does not contain "
        f"(bench/inbox_loop.py); the current model misread {r['misread']}. Half ({r['corrected']}) were corrected "
        f"through the inbox's HTTP endpoints ({r['inbox']['groups']} groups, {r['inbox']['flagged']} confident "
        f"misreadings flagged first, {r['inbox']['correcting_s']} s of requests), exported and retrained with "
        f"`make train` ({r['train_s']} s); the other half ({r['held_back']}) was never shown to the model.",
        "",
        "| intent accuracy | before the loop | after | target |",
        "| --- | --- | --- | --- |",
        f"| the held-back half | {held['before']:.3f} | {held['after']:.3f} | higher after: {met} |",
        f"| the corrected half (trained on) | {fixed['before']:.3f} | {fixed['after']:.3f} | - |",
        "",
        "Held back, read right after the loop, by intent: "
        + ", ".join(f"{i} {v['after']}/{v['held_back']}" for i, v in r["by_intent"].items() if v["held_back"])
        + ".",
        "Before is 0 by construction (only misread messages are kept). The held-back messages share templates "
        "with the corrected ones, so this measures what a reviewer's corrections teach about a phrasing, not "
        "about unseen phrasings; `make bench`'s held-out F1 stays the measure of those.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(result: Dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks-inbox.json").write_text(json.dumps(result, indent=1))
    return splice_section(out / "benchmarks.md", START, END, section(result))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox_loop", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    result = run(args.out, args.seed)
    print(json.dumps({k: result[k] for k in ("misread", "held_back_accuracy", "corrected_accuracy")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
