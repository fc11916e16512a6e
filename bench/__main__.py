"""`python -m bench`: every benchmark of the issue, then the JSON and Markdown reports.

    .venv/bin/python -m bench                 # the full run (make bench): docs/benchmarks.{json,md}
    .venv/bin/python -m bench --quick         # a small run to check the harness: results/bench/
    .venv/bin/python -m bench --steps nlu,serve --out /tmp/b   # some steps only

Steps: nlu (held-out set), cv (cross-validation), train (training from scratch),
serve (cold start, latency, latency by position, throughput, memory; coach and
stock bot), profile (one turn broken down), coaching (the seed conversations over
REST, held-out macro-F1, a 60-turn interview full of digressions), review (the
review dashboard with 10,000 seeded conversations; also alone: python -m bench.review),
scaled (50 conversations at once on one Rasa server against two; also alone:
python -m bench.scaled). The stock bot is made with `rasa init`
in a temp dir for each run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # Rasa 3.6's tracker store is SQLAlchemy 1.4 style

from bench import coaching, latency, nlu, report, stockbot, training  # noqa: E402
from bench.common import MODEL, PYTHON, ROOT, bench_env, load_average, machine_info, run_logged  # noqa: E402
from bench.conversations import COACH_CONVERSATIONS, long_conversation, stock_conversations, stock_long_conversation  # noqa: E402
from bench.servers import BenchCoach, StockServer, describe  # noqa: E402

STEPS = ["nlu", "cv", "train", "serve", "profile", "coaching", "review", "scaled"]


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Rapport against the stock Rasa bot.")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small runs to check the harness (few conversations, 2 folds, no training from scratch)",
    )
    parser.add_argument("--out", type=Path, help="report folder (default docs/, or results/bench/ with --quick)")
    parser.add_argument("--steps", help=f"comma-separated, of {','.join(STEPS)} (default all)")
    parser.add_argument(
        "--bots", default="coach,stock,stock_sql", help="bots the serve step measures (default coach,stock,stock_sql)"
    )
    parser.add_argument("--conversations", type=int, help="whole conversations for turn latency (default 30)")
    parser.add_argument("--position-runs", type=int, help="runs of the 80-turn conversation (default 5)")
    parser.add_argument("--concurrency", help="conversations at once (default 1,10,50)")
    parser.add_argument(
        "--min-conversations", type=int, help="at least this many conversations per throughput level (default 10)"
    )
    parser.add_argument("--folds", type=int, help="cross-validation folds (default 5)")
    parser.add_argument("--profile-runs", type=int, help="runs of the profiled 80-turn conversation (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, stock bot, SQLite files)")
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="WORKDIR",
        help="go on with a stopped run in its temp folder, keeping the steps it finished",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.out = args.out or (ROOT / ("results/bench" if quick else "docs"))
    args.steps = args.steps.split(",") if args.steps else [s for s in STEPS if not (quick and s == "train")]
    unknown = set(args.steps) - set(STEPS)
    if unknown:
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    args.bots = args.bots.split(",")
    args.conversations = args.conversations or (4 if quick else 30)
    args.position_runs = args.position_runs or (1 if quick else 5)
    args.concurrency = [int(c) for c in (args.concurrency or ("1,10" if quick else "1,10,50")).split(",")]
    args.min_conversations = args.min_conversations or (2 if quick else 10)
    args.folds = args.folds or (2 if quick else 5)
    args.profile_runs = args.profile_runs or (1 if quick else 3)
    return args


def measure_server(
    server: Any,
    scripts: List[List[str]],
    long_script: List[str],
    args: argparse.Namespace,
    results: Dict[str, Any],
    key: str,
    save,
) -> bool:
    """Cold start, turn latency, latency by position, throughput and memory of one running bot."""
    out: Dict[str, Any] = {**describe(server), "load_average_before": load_average()}
    results.setdefault("serve", {})[key] = out
    try:
        out["cold_start"] = server.cold_start()
        out["memory_after_first_answer"] = server.memory()
        warm = latency.run_conversations(server, scripts[:1], 1, f"{key}-warmup", f"{key}: warm-up conversation")
        out["warmup"] = latency.latency_summary(warm)["all"]
        turns = latency.run_conversations(
            server, scripts, args.conversations, f"{key}-lat", f"{key}: {args.conversations} whole conversations"
        )
        latency.label_kinds(server, turns)
        out["latency"] = latency.latency_summary(turns)
        out["memory_after_latency"] = server.memory()
        save()
        out["by_position"] = latency.by_position(
            server,
            long_script,
            args.position_runs,
            f"{key}-pos",
            f"{key}: {len(long_script)}-turn conversation x{args.position_runs}",
        )
        save()
        out["throughput"] = {}
        for concurrency in args.concurrency:
            out["throughput"][str(concurrency)] = latency.throughput(
                server, scripts, concurrency, args.min_conversations, f"{key}-tp"
            )
            save()
        out["memory_end"] = server.memory()
        out["log_errors"] = server.errors_in_logs()
        out["complete"] = True
    except Exception as error:  # noqa: BLE001 - the report says what failed, the other bots still run
        out["failed"] = f"{type(error).__name__}: {error}"
        print(f"bench: {key} failed: {out['failed']}", file=sys.stderr)
    finally:
        for name in ("rasa", "actions"):
            process = getattr(server, name, None)
            if process is not None and process.poll() is not None:  # it died while being measured
                out["failed"] = (
                    out.get("failed") or f"the {name} server exited with {process.returncode} while measured"
                )
        server.stop()
        out["load_average_after"] = load_average()
        save()
    return "failed" not in out


def measure_with_retry(make_server, scripts, long_script, args, results, key, save) -> None:
    """A bot whose server was killed from outside while measured is measured again, once, from scratch."""
    if not measure_server(make_server(""), scripts, long_script, args, results, key, save):
        first = results["serve"][key].get("failed")
        print(f"bench: {key} failed ({first}); measuring it again", file=sys.stderr)
        measure_server(make_server("-again"), scripts, long_script, args, results, key, save)
        results["serve"][key]["first_attempt_failed"] = first
        save()


def import_baseline() -> Dict[str, Any]:
    """What a Python that only imports Rasa (and so TensorFlow) takes: time and memory."""
    code = (
        "import time, re; t = time.perf_counter(); import rasa.core.agent, rasa.core.run; "
        "s = time.perf_counter() - t; m = re.search(r'VmRSS:\\s*(\\d+)', open('/proc/self/status').read()); "
        "print(round(s, 2), round(int(m.group(1)) / 1024, 1))"
    )
    done = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=bench_env(), capture_output=True, text=True)
    try:
        seconds, rss = done.stdout.split()[-2:]
        return {"import_s": float(seconds), "rss_mb": float(rss)}
    except ValueError:
        return {"error": done.stderr[-500:]}


def _stopped(signum, frame):  # a SIGTERM still writes the report of what was measured, and stops the servers
    raise SystemExit(128 + signum)


def _recent_processes(seconds: int = 20) -> List[str]:
    """Processes started in the last few seconds: who was around when a signal stopped the run."""
    done = subprocess.run(["ps", "-eo", "pid,ppid,etimes,args", "--no-headers"], capture_output=True, text=True)
    lines = []
    for line in done.stdout.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2].isdigit() and int(parts[2]) <= seconds:
            lines.append(" ".join(parts[:2]) + " " + parts[3][:200])
    return lines[:30]


def _done(results: Dict[str, Any], *path: str) -> bool:
    """Whether a step of an earlier, stopped run finished and can be kept (--resume)."""
    value = report.get(results, *path)
    if not isinstance(value, dict) or value.get("failed"):
        return False
    if path[0] == "serve":
        return bool(value.get("complete"))
    if "exit_code" in value:
        return value["exit_code"] == 0
    return True


def main(argv: List[str]) -> int:
    signal.signal(signal.SIGTERM, _stopped)
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    meta = {
        **machine_info(),
        "load_average_before": load_average(),
        "mode": "quick" if args.quick else "full",
        "steps": args.steps,
        "parameters": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in ("quick", "steps", "resume", "keep")
        },
        "model": str(MODEL.relative_to(ROOT)),
    }
    if args.resume:
        # Go on with a run that was stopped: same temp folder, same stock bot, finished steps kept.
        work = args.resume
        results: Dict[str, Any] = json.loads((work / "results.json").read_text())
        if results["meta"].get("parameters") != meta["parameters"]:
            raise SystemExit(f"bench: {work} was run with other parameters: {results['meta'].get('parameters')}")
        results["meta"].setdefault("resumed", []).append(
            {
                "date": meta["date"],
                "load_average": meta["load_average_before"],
                "git_commit": meta["git_commit"],
                "after_stop": results["meta"].pop("stopped", None),
                "stopped_context": results["meta"].pop("stopped_context", None),
            }
        )
        previous_minutes = results["meta"].get("duration_min") or 0
    else:
        work = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
        results = {"meta": {**meta, "workdir": str(work)}}
        previous_minutes = 0

    def save() -> None:
        text = json.dumps(results, indent=1, default=str)
        (args.out / "benchmarks.json").write_text(text)
        (work / "results.json").write_text(text)

    def minutes() -> float:
        return round(previous_minutes + (time.perf_counter() - started) / 60, 1)

    def step(name: str) -> None:  # the load average as each step starts: was the machine busy?
        results["meta"].setdefault("load_by_step", []).append(
            {"step": name, "load_average": load_average(), "minute": minutes()}
        )

    print(f"bench: {', '.join(args.steps)}; logs in {work}", file=sys.stderr)
    stock: Dict[str, Any] = {}
    finished = False
    try:
        if "nlu" in args.steps and not _done(results, "nlu", "heldout"):
            step("nlu: held-out set")
            results.setdefault("nlu", {})["heldout"] = nlu.heldout(MODEL, work, args.out)
            save()
        if {"cv", "train"} & set(args.steps) or ("serve" in args.steps and {"stock", "stock_sql"} & set(args.bots)):
            kept = results.get("stock_bot", {}).get("model")
            if kept and (work / "stockbot" / "models" / kept).exists():
                stock = {"botdir": work / "stockbot", "model": work / "stockbot" / "models" / kept}
            else:
                step("stock bot: rasa init")
                stock = stockbot.create(work)
                results["stock_bot"] = {
                    "made_with": "rasa init --no-prompt",
                    "init": stock["init"],
                    "model": stock["model"].name,
                }
                save()
        if "cv" in args.steps:
            if not _done(results, "nlu", "cv"):
                step("nlu: cross-validation (coach)")
                results.setdefault("nlu", {})["cv"] = nlu.cross_validation(ROOT, args.folds, work, "coach", args.out)
                save()
            if not _done(results, "nlu", "stock_cv"):
                step("nlu: cross-validation (stock bot)")
                results.setdefault("nlu", {})["stock_cv"] = nlu.cross_validation(
                    stock["botdir"], args.folds, work, "stock"
                )
                save()
        if "train" in args.steps:
            trained = results.setdefault("training", {})
            if not _done(results, "training", "coach"):
                step("training from scratch (coach)")
                trained["coach"] = training.train_from_scratch(ROOT, work, "coach")
                save()
            if not _done(results, "training", "coach_spacy_pipeline"):
                trained["coach_spacy_pipeline"] = training.spacy_build(work)
                save()
            if not _done(results, "training", "stock"):
                step("training from scratch (stock bot)")
                trained["stock"] = training.train_from_scratch(stock["botdir"], work, "stock")
                save()
        if "serve" in args.steps:
            if not _done(results, "import_baseline"):
                results["import_baseline"] = import_baseline()
            if "coach" in args.bots and not _done(results, "serve", "coach"):
                step("serve: coach")
                measure_with_retry(
                    lambda suffix: BenchCoach(work / f"coach{suffix}"),
                    COACH_CONVERSATIONS,
                    long_conversation(),
                    args,
                    results,
                    "coach",
                    save,
                )
            for key, sql in (("stock", False), ("stock_sql", True)):
                if key in args.bots and not _done(results, "serve", key):
                    step(f"serve: {key.replace('_', ' ')}")
                    measure_with_retry(
                        lambda suffix, key=key, sql=sql: StockServer(
                            stock["botdir"], stock["model"], work / f"{key}{suffix}", sql=sql
                        ),
                        stock_conversations(),
                        stock_long_conversation(),
                        args,
                        results,
                        key,
                        save,
                    )
        if "profile" in args.steps and not _done(results, "profile"):
            step("profile")
            out = work / "profile.json"
            _, code = run_logged(
                [PYTHON, "-m", "bench.profile", "--out", str(out), "--runs", str(args.profile_runs)],
                desc="profile: one turn broken down",
                log=work / "profile.log",
            )
            results["profile"] = json.loads(out.read_text()) if out.exists() else {"failed": f"exit {code}"}
            save()
        if "coaching" in args.steps and not _done(results, "coaching"):
            step("coaching")
            results["coaching"] = coaching.measure(work)
            save()
        if "review" in args.steps and not _done(results, "review"):
            step("review")
            # Writes its own section of benchmarks.md (kept by the report below) and benchmarks-review.json.
            _, code = run_logged(
                [
                    PYTHON,
                    "-m",
                    "bench.review",
                    "--out",
                    str(args.out),
                    *(["--conversations", "1000", "--runs", "40"] if args.quick else []),
                ],
                desc="review: the dashboard with seeded conversations",
                log=work / "review.log",
            )
            review_json = args.out / "benchmarks-review.json"
            results["review"] = (
                json.loads(review_json.read_text())
                if code == 0 and review_json.exists()
                else {"failed": f"exit {code}"}
            )
            save()
        if "scaled" in args.steps and not _done(results, "scaled"):
            step("scaled: one Rasa server against two")
            from bench import scaled

            results["scaled"] = scaled.measure(work / "scaled", max(args.concurrency))
            save()
        finished = True
    except BaseException as error:  # noqa: BLE001 - recorded, then re-raised
        results["meta"]["stopped"] = f"{type(error).__name__}: {error}"
        results["meta"]["stopped_context"] = _recent_processes()
        raise
    finally:
        step("end")
        results["meta"]["load_average_after"] = load_average()
        results["meta"]["duration_min"] = minutes()
        save()
        paths = report.write(results, args.out)
        print("bench: wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
        if args.keep or not finished:
            print(
                f"bench: kept {work}"
                + ("" if finished else f"; go on with: python -m bench --resume {work} and the same options"),
                file=sys.stderr,
            )
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
