"""The review dashboard's benchmark (`python -m bench.review`, or the `review`
step of `python -m bench`): 10,000 conversations of about 60 events in 20
cohorts in an SQLite tracker store (a third with a saved block in the canvas
store), the read model built from them, then the web app's own HTTP answers timed:

    list page (p95 server time)          <= 100 ms
    search (p95)                         <= 300 ms
    opening a 500-turn transcript        <= 300 ms
    CSV export of 10k rows               <= 5 s

The figures go into docs/benchmarks.md, in a section of their own between
markers (the other steps' report keeps it), and docs/benchmarks-review.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import requests

from bench.common import ROOT, free_port, load_average, machine_info, splice_section
from bot.coach.canvas import CanvasBlock, RelationshipChoice, Segment
from bot.coach.profile import SegmentProfile
from bot.coach.store import CanvasStore
from bot.review.db import ReviewDB
from bot.review.read_model import ReadModel
from bot.review.tracker import TrackerEvents
from deploy import review_events as ev
from deploy.launchers import web_command

START, END = "<!-- review-dashboard:start -->", "<!-- review-dashboard:end -->"
TARGETS = {"list_p95_ms": 100, "search_p95_ms": 300, "transcript_ms": 300, "csv_s": 5}
ADMIN = ("admin", "bench admin password")
COORDINATOR = ("coord", "bench coordinator password")
SEARCHES = ["pricing", "customers", "big banks", "Venture 4242", "segment goal", "zzzz nothing"]


def search_queries(runs: int) -> List[str]:
    """The searches of a measure of `runs` requests, in turn: each at least once, so
    that every query has a p95 however small --runs is."""
    return [SEARCHES[n % len(SEARCHES)] for n in range(max(runs, len(SEARCHES)))]


def percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def seed(work: Path, conversations: int, cohorts: int) -> Dict[str, Any]:
    tracker = work / "tracker.db"
    ev.create_tracker(tracker)
    rng = random.Random(13)
    started = time.monotonic()
    canvas = CanvasStore(f"sqlite:///{work / 'canvas.db'}")
    batch: List[tuple] = []
    saved = 0
    for n in range(conversations):
        sender = f"founder-{n:05d}"
        is_saved = n % 3 == 0
        words = "pricing questions" if n % 50 == 0 else "customers"
        batch += ev.conversation(
            sender,
            1_750_000_000.0 + n * 37 + rng.random(),
            f"COHORT-{n % cohorts:02d}",
            turns=9,
            saved=is_saved,
            fallback=n % 7 == 0,
            venture=f"Venture {n}",
            first_text=f"hi, {words} of Venture {n}",
        )
        if is_saved:
            saved += 1
            canvas.save_block(
                "rest",
                sender,
                CanvasBlock(
                    f"Venture {n}",
                    "an offer",
                    [
                        Segment(
                            SegmentProfile(name="Big banks", market="b2b", customer_count=20),
                            [RelationshipChoice("advisory", "Advisory", ["Few, big accounts."], "accepted", 1.0)],
                        )
                    ],
                    status="final",
                ),
                cohort=f"COHORT-{n % cohorts:02d}",
            )
        if len(batch) > 50_000:
            ev.insert(tracker, batch)
            batch = []
    # One 500-turn conversation (a founder message and a coach answer per turn, with the steps between).
    long_rows = []
    for turn in range(500):
        ts = 1_760_000_000.0 + turn * 10
        long_rows += [
            ev.user("founder-long", ts, f"long message {turn}", cohort="COHORT-00"),
            ev.action("founder-long", ts, "segment_form"),
            ev.slot("founder-long", ts, "requested_slot", "segment_who"),
            ev.bot("founder-long", ts, f"answer {turn}"),
            ev.action("founder-long", ts, "action_listen"),
        ]
    ev.insert(tracker, batch + long_rows)
    canvas.close()
    with __import__("sqlite3").connect(tracker) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return {
        "conversations": conversations + 1,
        "cohorts": cohorts,
        "events": events,
        "saved_blocks": saved,
        "seconds": round(time.monotonic() - started, 1),
    }


class WebApp:
    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "WEB_PORT": str(self.port),
            "TRACKER_DB": str(work / "tracker.db"),
            "CANVAS_DB_URL": f"sqlite:///{work / 'canvas.db'}",
            "REVIEW_DB_URL": f"sqlite:///{work / 'review.db'}",
            "REVIEW_SECRET_KEY": "bench-" + "k" * 40,
        }
        self.log = open(work / "web.log", "ab")
        self.process = subprocess.Popen(
            web_command(), cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/health", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise RuntimeError("the web app did not start; see web.log")

    def session(self, user) -> requests.Session:
        session = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(self.url + "/review/login").text)[1]
        answer = session.post(
            self.url + "/review/login",
            data={"username": user[0], "password": user[1], "csrf_token": token},
            headers={"Origin": self.url},
            allow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return session

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


def timed(fn: Callable[[], requests.Response]) -> float:
    started = time.perf_counter()
    answer = fn()
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"{answer.url}: {answer.status_code} {answer.text[:200]}")
    return elapsed


def measure(work: Path, runs: int) -> Dict[str, Any]:
    db = ReviewDB(f"sqlite:///{work / 'review.db'}")
    tracker = TrackerEvents(f"sqlite:///file:{work / 'tracker.db'}?mode=ro&uri=true")
    model = ReadModel(db, tracker)
    started = time.monotonic()
    built = model.rebuild()
    rebuild_s = time.monotonic() - started
    idle = [timed_call(lambda: model.update(sweep=False)) for _ in range(20)]
    started = time.monotonic()
    model.update(sweep=True)
    sweep_ms = (time.monotonic() - started) * 1000
    tracker.close()
    db.close()
    from bot.review.auth import Users

    users = Users(ReviewDB(f"sqlite:///{work / 'review.db'}"), "x" * 40)
    users.add(ADMIN[0], ADMIN[1], "admin")
    users.add(COORDINATOR[0], COORDINATOR[1], "coordinator", ["COHORT-03", "COHORT-07"])
    users.db.close()
    app = WebApp(work)
    try:
        admin, coord = app.session(ADMIN), app.session(COORDINATOR)
        for session in (admin, coord):  # warm-up
            session.get(app.url + "/review/conversations")
        pages = [
            "/review/conversations",
            "/review/conversations?saved=no",
            "/review/conversations?cohort=COHORT-03",
            "/review/conversations?fallbacks_min=1&turns_min=5",
            "/review/conversations?founder=Venture%201",
        ]
        list_ms: List[float] = []
        for n in range(runs):
            session = admin if n % 2 else coord
            path = pages[n % len(pages)]
            list_ms.append(timed(lambda: session.get(app.url + path, headers={"Accept": "text/html"})))
        # Deeper pages, by the keyset cursor.
        deep_ms: List[float] = []
        answer = admin.get(app.url + "/review/conversations", headers={"Accept": "application/json"}).json()
        for _ in range(min(runs, 60)):
            cursor = answer["next"]
            started = time.perf_counter()
            answer = admin.get(
                app.url + "/review/conversations", params={"after": cursor}, headers={"Accept": "application/json"}
            ).json()
            deep_ms.append((time.perf_counter() - started) * 1000)
        search_ms: Dict[str, List[float]] = {q: [] for q in SEARCHES}
        for n, q in enumerate(search_queries(runs)):
            session = admin if n % 2 else coord
            search_ms[q].append(
                timed(lambda: session.get(app.url + "/review/search", params={"q": q}, headers={"Accept": "text/html"}))
            )
        transcript_ms = [
            timed(
                lambda: admin.get(app.url + "/review/conversation?sender=founder-long", headers={"Accept": "text/html"})
            )
            for _ in range(10)
        ]
        earlier = re.search(r"before=(\d+)", admin.get(app.url + "/review/conversation?sender=founder-long").text)[1]
        earlier_ms = [
            timed(
                lambda: admin.get(
                    app.url + f"/review/conversation?sender=founder-long&before={earlier}",
                    headers={"Accept": "text/html"},
                )
            )
            for _ in range(10)
        ]
        csv_s, rows = [], 0
        for _ in range(3):
            started = time.perf_counter()
            answer = admin.get(app.url + "/review/export.csv")
            csv_s.append(time.perf_counter() - started)
            rows = answer.text.count("\n") - 1
        charts_ms = [
            timed(lambda: admin.get(app.url + "/review/charts?cohort=COHORT-03", headers={"Accept": "text/html"}))
            for _ in range(10)
        ]
    finally:
        app.stop()
    all_search = [v for values in search_ms.values() for v in values]
    return {
        "read_model": {
            "conversations": built,
            "rebuild_s": round(rebuild_s, 1),
            "update_without_new_events_ms_p95": round(percentile(idle, 95), 2),
            "sweep_ms": round(sweep_ms, 1),
        },
        "list_ms": {
            "p50": round(statistics.median(list_ms), 1),
            "p95": round(percentile(list_ms, 95), 1),
            "runs": len(list_ms),
        },
        "list_deep_pages_ms": {
            "p50": round(statistics.median(deep_ms), 1),
            "p95": round(percentile(deep_ms, 95), 1),
            "pages": len(deep_ms),
        },
        "search_ms": {
            "p50": round(statistics.median(all_search), 1),
            "p95": round(percentile(all_search, 95), 1),
            "runs": len(all_search),
            "by_query_p95": {q: round(percentile(v, 95), 1) for q, v in search_ms.items()},
        },
        "transcript_500_turns_ms": {
            "latest_page_median": round(statistics.median(transcript_ms), 1),
            "latest_page_max": round(max(transcript_ms), 1),
            "earlier_page_median": round(statistics.median(earlier_ms), 1),
        },
        "csv_export": {
            "rows": rows,
            "seconds_median": round(statistics.median(csv_s), 2),
            "seconds_max": round(max(csv_s), 2),
        },
        "charts_ms_median": round(statistics.median(charts_ms), 1),
    }


def timed_call(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def section(r: Dict[str, Any]) -> str:
    m = r["measured"]
    rows = [
        ("list page, p95 server time", f"{m['list_ms']['p95']} ms", "≤ 100 ms", m["list_ms"]["p95"] <= 100),
        ("search, p95", f"{m['search_ms']['p95']} ms", "≤ 300 ms", m["search_ms"]["p95"] <= 300),
        (
            "opening a 500-turn transcript",
            f"{m['transcript_500_turns_ms']['latest_page_max']} ms (slowest of 10)",
            "≤ 300 ms",
            m["transcript_500_turns_ms"]["latest_page_max"] <= 300,
        ),
        (
            f"CSV export of {m['csv_export']['rows']:,} rows",
            f"{m['csv_export']['seconds_max']} s (slowest of 3)",
            "≤ 5 s",
            m["csv_export"]["seconds_max"] <= 5,
        ),
    ]
    s = r["seeded"]
    lines = [
        START,
        "## Review dashboard",
        "",
        f"`python -m bench.review` (alone; `make bench` runs it as its last step), {r['when']}, {r['machine']}; "
        f"load average before: {r['load_average']}.",
        "",
        f"Seeded: {s['conversations']:,} conversations ({s['events']:,} events, about 60 each, and one of 500 "
        f"turns) in {s['cohorts']} cohorts, {s['saved_blocks']:,} saved blocks in the canvas store. Times are "
        "the web app's HTTP answers (python -m bot.web on loopback, signed in, templates rendered), measured "
        "at the client, so they include the read model's check for new events on each request.",
        "",
        "| what | measured | target | met |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {what} | {measured} | {target} | {'yes' if met else '**no**'} |" for what, measured, target, met in rows
    ]
    rm = m["read_model"]
    lines += [
        "",
        "Also measured:",
        "",
        f"- list p50 {m['list_ms']['p50']} ms over {m['list_ms']['runs']} requests (a coordinator of 2 cohorts "
        "and an admin, five filters); keyset pages deeper in the list: p95 "
        f"{m['list_deep_pages_ms']['p95']} ms over {m['list_deep_pages_ms']['pages']} pages;",
        f"- search p50 {m['search_ms']['p50']} ms; p95 by query: "
        + ", ".join(f'"{q}" {v} ms' for q, v in m["search_ms"]["by_query_p95"].items())
        + ";",
        f"- a 500-turn transcript's latest page: median {m['transcript_500_turns_ms']['latest_page_median']} ms; "
        f"the page before it: {m['transcript_500_turns_ms']['earlier_page_median']} ms;",
        f"- CSV export median {m['csv_export']['seconds_median']} s; a cohort's charts page "
        f"{m['charts_ms_median']} ms (median);",
        f"- read model: rebuilt from scratch in {rm['rebuild_s']} s ({rm['conversations']:,} conversations); "
        f"the per-request check with no new events p95 {rm['update_without_new_events_ms_p95']} ms; the "
        f"sweep for deleted founders (every 30 s, in the background) {rm['sweep_ms']} ms.",
        "",
        "What bounds them: the list reads one page through the (cohort, last activity, sender) index; search is "
        "FTS5 newest-first, so a common word stops after 50 hits in the user's cohorts; the transcript reads "
        "its latest 400 events through the tracker's sender index; the export is bounded by reading the blocks "
        "from the canvas store and writing the CSV. PostgreSQL (tracker or review database) was not measured.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(result: Dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmarks-review.json").write_text(json.dumps(result, indent=1))
    return splice_section(out / "benchmarks.md", START, END, section(result))


def run(
    out: Path, conversations: int = 10_000, cohorts: int = 20, runs: int = 200, work: Optional[Path] = None
) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-review-") as temp:
        work = work or Path(temp)
        print(f"bench review: seeding {conversations} conversations in {work}", file=sys.stderr)
        load = load_average()
        seeded = seed(work, conversations, cohorts)
        print(f"bench review: seeded {seeded}; measuring", file=sys.stderr)
        measured = measure(work, runs)
    info = machine_info()
    machine = (
        f"{info['cores_usable']} cores ({info['cpu_model']}), {info['ram_gb']} GB RAM, commit {info['git_commit']}"
    )
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine,
        "load_average": load,
        "seeded": seeded,
        "measured": measured,
        "targets": TARGETS,
    }
    write(result, out)
    return result


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.review", description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--cohorts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=200, help="requests per list and search measure")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    result = run(args.out, args.conversations, args.cohorts, args.runs)
    print(json.dumps(result["measured"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
