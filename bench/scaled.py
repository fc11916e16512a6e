"""The scaled set-up's throughput: 50 conversations at once against one Rasa server
on SQLite (`make run`) and against two Rasa servers on PostgreSQL and Redis behind
nginx (`make run-scaled`), in the same run, on this machine.

    .venv/bin/python -m bench.scaled      # this step only: adds "scaled" to docs/benchmarks.json
                                          # and re-renders docs/benchmarks.md
    .venv/bin/python -m bench.scaled --conversations 10 --out /tmp/b   # a small check

`make bench` runs it as its `scaled` step. Each conversation is a whole coaching
conversation (greeting to saved block, 14-27 turns), all 50 at once, as the
throughput step's 50-at-once level does. Besides turns per second and latency,
it records the CPU seconds each kind of process used, which says what bounds the
throughput on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bench import latency, report  # noqa: E402
from bench.common import ROOT, load_average  # noqa: E402
from bench.conversations import COACH_CONVERSATIONS  # noqa: E402
from bench.servers import BenchCoach  # noqa: E402
from deploy.services import ScaledSetup  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> List[str]:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text[text.rindex(")") + 2 :].split()  # fields from the state on


def cpu_seconds(pids: List[int]) -> float:
    """CPU time (user + system) of these processes and all their descendants, now."""
    parents: Dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                parents[int(entry.name)] = int(fields[1])
    family, grew = set(pids), True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in family} - family
        family |= children
        grew = bool(children)
    total = 0
    for pid in family:
        fields = _stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


class CpuMeter:
    """CPU seconds used by each named group of processes during a load."""

    def __init__(self, groups: Dict[str, List[int]]):
        self.groups = groups
        self.before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        self.started = time.perf_counter()

    def result(self) -> Dict[str, Any]:
        wall = time.perf_counter() - self.started
        used = {name: round(cpu_seconds(pids) - self.before[name], 1) for name, pids in self.groups.items()}
        busy = sum(used.values())
        return {
            "cpu_s": used,
            "wall_s": round(wall, 1),
            "cores_busy": round(busy / wall, 2) if wall else None,
            "cores": os.cpu_count(),
        }


def _load(port: int, conversations: int, prefix: str, desc: str) -> Dict[str, Any]:
    result = asyncio.run(latency._throughput(port, COACH_CONVERSATIONS, conversations, 1, prefix, desc))
    result.pop("_turns")
    return result


def one_server(work: Path, conversations: int) -> Dict[str, Any]:
    server = BenchCoach(work / "one")
    try:
        server.start_actions()
        server.start_rasa()
        _load(server.port, 1, "scaled-one-warmup", "one server: warm-up")
        meter = CpuMeter({"rasa": [server.rasa.pid], **({"actions": [server.actions.pid]} if server.actions else {})})
        result = _load(server.port, conversations, "scaled-one", f"one Rasa server (SQLite): {conversations} at once")
        result["cpu"] = meter.result()
        result["set_up"] = "one Rasa server, its custom actions inside it, SQLite tracker and canvas stores (make run)"
        return result
    finally:
        server.stop()


def two_servers(work: Path, conversations: int) -> Dict[str, Any]:
    setup = ScaledSetup(work / "two")
    try:
        setup.start()
        for process in setup.rasa:  # each server's first turns load what Rasa loads lazily
            _load(
                int(process.health.rsplit(":", 1)[1].strip("/")),
                1,
                f"scaled-two-warmup-{process.name}",
                f"{process.name}: warm-up",
            )
        meter = CpuMeter(
            {
                "rasa": [p.popen.pid for p in setup.rasa],
                "actions": [p.popen.pid for p in setup.actions],
                "postgresql": [setup.postgres.popen.pid],
                "redis": [setup.redis.popen.pid],
                "nginx": [setup.nginx.popen.pid],
            }
        )
        result = _load(
            setup.nginx.port,
            conversations,
            "scaled-two",
            f"two Rasa servers (PostgreSQL + Redis, nginx): {conversations} at once",
        )
        result["cpu"] = meter.result()
        result["set_up"] = (
            "two Rasa servers and two action servers behind nginx, PostgreSQL tracker and canvas "
            "stores, the atomic Redis lock store (make run-scaled)"
        )
        return result
    finally:
        setup.stop()


def measure(work: Path, conversations: int = 50) -> Dict[str, Any]:
    out: Dict[str, Any] = {"conversations_at_once": conversations, "load_average_before": load_average()}
    out["one_server"] = one_server(work, conversations)
    out["two_servers"] = two_servers(work, conversations)
    out["load_average_after"] = load_average()
    one, two = out["one_server"].get("turns_per_s"), out["two_servers"].get("turns_per_s")
    out["speed_up"] = round(two / one, 2) if one and two else None
    return out


def with_section(text: str, section: str) -> str:
    """benchmarks.md with the scale-out section put in (or replaced), the rest as it was:
    other sections carry hand-written notes that a re-render would drop."""
    heading = section.split("\n", 1)[0]
    if heading in text:
        start = text.index(heading)
        end = text.find("\n## ", start + len(heading))
        return text[:start] + section.rstrip("\n") + "\n" + (text[end:] if end >= 0 else "")
    for before in ("## What was changed to make the coach fast", "## Findings"):
        if before in text:
            at = text.index(before)
            return text[:at] + section.rstrip("\n") + "\n\n" + text[at:]
    return text.rstrip("\n") + "\n\n" + section


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaled", description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=50, help="conversations at once (default 50)")
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "docs",
        help="folder of benchmarks.json, whose other results are kept (default docs/)",
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rapport-bench-scaled-"))
    try:
        scaled = measure(work, args.conversations)
    finally:
        print(f"bench.scaled: logs in {work}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "benchmarks.json"
    results = json.loads(path.read_text()) if path.exists() else {"meta": {}}
    results["scaled"] = scaled
    path.write_text(json.dumps(results, indent=1, default=str))
    markdown = args.out / "benchmarks.md"
    text = markdown.read_text() if markdown.exists() else ""
    markdown.write_text(with_section(text, "\n".join(report.scaled_section(scaled))))
    print(f"bench.scaled: wrote {path} and its section of {markdown}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
