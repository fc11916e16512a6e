"""`python -m bench`: every benchmark of the issue, then the JSON and Markdown reports.

    .venv/bin/python -m bench                 # the full run (make bench): docs/benchmarks.{json,md}
    .venv/bin/python -m bench --quick         # a small run to check the harness: results/bench/
    .venv/bin/python -m bench --steps nlu,serve --out /tmp/b   # some steps only

Steps: nlu (held-out set), cv (cross-validation), train (training from scratch),
serve (cold start, latency, latency by position, throughput, memory; coach and
stock bot), profile (one turn broken down). The stock bot is made with `rasa init`
in a temp dir for each run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # Rasa 3.6's tracker store is SQLAlchemy 1.4 style

from bench import latency, nlu, report, stockbot, training  # noqa: E402
from bench.common import MODEL, PYTHON, ROOT, bench_env, load_average, machine_info, run_logged  # noqa: E402
from bench.conversations import (COACH_CONVERSATIONS, long_conversation, stock_conversations,  # noqa: E402
                                 stock_long_conversation)
from bench.servers import BenchCoach, StockServer, describe  # noqa: E402

STEPS = ["nlu", "cv", "train", "serve", "profile"]


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Rapport against the stock Rasa bot.")
    parser.add_argument("--quick", action="store_true",
                        help="small runs to check the harness (few conversations, 2 folds, no training from scratch)")
    parser.add_argument("--out", type=Path, help="report folder (default docs/, or results/bench/ with --quick)")
    parser.add_argument("--steps", help=f"comma-separated, of {','.join(STEPS)} (default all)")
    parser.add_argument("--bots", default="coach,stock,stock_sql",
                        help="bots the serve step measures (default coach,stock,stock_sql)")
    parser.add_argument("--conversations", type=int, help="whole conversations for turn latency (default 30)")
    parser.add_argument("--position-runs", type=int, help="runs of the 80-turn conversation (default 5)")
    parser.add_argument("--concurrency", help="conversations at once (default 1,10,50)")
    parser.add_argument("--min-conversations", type=int,
                        help="at least this many conversations per throughput level (default 10)")
    parser.add_argument("--folds", type=int, help="cross-validation folds (default 5)")
    parser.add_argument("--profile-runs", type=int, help="runs of the profiled 80-turn conversation (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, stock bot, SQLite files)")
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


def measure_server(server: Any, scripts: List[List[str]], long_script: List[str], args: argparse.Namespace,
                   results: Dict[str, Any], key: str, save) -> None:
    """Cold start, turn latency, latency by position, throughput and memory of one running bot."""
    out: Dict[str, Any] = {**describe(server), "load_average_before": load_average()}
    results.setdefault("serve", {})[key] = out
    try:
        out["cold_start"] = server.cold_start()
        out["memory_after_first_answer"] = server.memory()
        warm = latency.run_conversations(server, scripts[:1], 1, f"{key}-warmup", f"{key}: warm-up conversation")
        out["warmup"] = latency.latency_summary(warm)["all"]
        turns = latency.run_conversations(server, scripts, args.conversations, f"{key}-lat",
                                          f"{key}: {args.conversations} whole conversations")
        latency.label_kinds(server, turns)
        out["latency"] = latency.latency_summary(turns)
        out["memory_after_latency"] = server.memory()
        save()
        out["by_position"] = latency.by_position(server, long_script, args.position_runs, f"{key}-pos",
                                                 f"{key}: {len(long_script)}-turn conversation x{args.position_runs}")
        save()
        out["throughput"] = {}
        for concurrency in args.concurrency:
            out["throughput"][str(concurrency)] = latency.throughput(server, scripts, concurrency,
                                                                     args.min_conversations, f"{key}-tp")
            save()
        out["memory_end"] = server.memory()
        out["log_errors"] = server.errors_in_logs()
    except Exception as error:  # noqa: BLE001 - the report says what failed, the other bots still run
        out["failed"] = f"{type(error).__name__}: {error}"
        print(f"bench: {key} failed: {out['failed']}", file=sys.stderr)
    finally:
        server.stop()
        out["load_average_after"] = load_average()
        save()


def import_baseline() -> Dict[str, Any]:
    """What a Python that only imports Rasa (and so TensorFlow) takes: time and memory."""
    code = ("import time, re; t = time.perf_counter(); import rasa.core.agent, rasa.core.run; "
            "s = time.perf_counter() - t; m = re.search(r'VmRSS:\\s*(\\d+)', open('/proc/self/status').read()); "
            "print(round(s, 2), round(int(m.group(1)) / 1024, 1))")
    done = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=bench_env(), capture_output=True, text=True)
    try:
        seconds, rss = done.stdout.split()[-2:]
        return {"import_s": float(seconds), "rss_mb": float(rss)}
    except ValueError:
        return {"error": done.stderr[-500:]}


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    started = time.perf_counter()
    results: Dict[str, Any] = {
        "meta": {**machine_info(), "load_average_before": load_average(), "mode": "quick" if args.quick else "full",
                 "steps": args.steps,
                 "parameters": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                                if k not in ("quick", "steps")},
                 "model": str(MODEL.relative_to(ROOT)), "workdir": str(work)},
    }

    def save() -> None:
        (args.out / "benchmarks.json").write_text(json.dumps(results, indent=1, default=str))

    def step(name: str) -> None:  # the load average as each step starts: was the machine busy?
        results["meta"].setdefault("load_by_step", []).append({"step": name, "load_average": load_average(),
                                                               "minute": round((time.perf_counter() - started) / 60, 1)})

    print(f"bench: {', '.join(args.steps)}; logs in {work}", file=sys.stderr)
    stock: Dict[str, Any] = {}
    try:
        if "nlu" in args.steps:
            step("nlu: held-out set")
            results["nlu"] = {"heldout": nlu.heldout(MODEL, work, args.out)}
            save()
        if {"cv", "train"} & set(args.steps) or ("serve" in args.steps and {"stock", "stock_sql"} & set(args.bots)):
            step("stock bot: rasa init")
            stock = stockbot.create(work)
            results["stock_bot"] = {"made_with": "rasa init --no-prompt", "init": stock["init"],
                                    "model": stock["model"].name}
            save()
        if "cv" in args.steps:
            step("nlu: cross-validation")
            results.setdefault("nlu", {})["cv"] = nlu.cross_validation(ROOT, args.folds, work, "coach", args.out)
            save()
            results["nlu"]["stock_cv"] = nlu.cross_validation(stock["botdir"], args.folds, work, "stock")
            save()
        if "train" in args.steps:
            step("training from scratch")
            results["training"] = {
                "coach": training.train_from_scratch(ROOT, work, "coach"),
                "coach_spacy_pipeline": training.spacy_build(work),
            }
            save()
            results["training"]["stock"] = training.train_from_scratch(stock["botdir"], work, "stock")
            save()
        if "serve" in args.steps:
            step("serve: coach and stock bot")
            results["import_baseline"] = import_baseline()
            if "coach" in args.bots:
                measure_server(BenchCoach(work / "coach"), COACH_CONVERSATIONS, long_conversation(), args,
                               results, "coach", save)
            for key, sql in (("stock", False), ("stock_sql", True)):
                if key in args.bots:
                    measure_server(StockServer(stock["botdir"], stock["model"], work / key, sql=sql),
                                   stock_conversations(), stock_long_conversation(), args, results, key, save)
        if "profile" in args.steps:
            step("profile")
            out = work / "profile.json"
            _, code = run_logged([PYTHON, "-m", "bench.profile", "--out", str(out), "--runs", str(args.profile_runs)],
                                 desc="profile: one turn broken down", log=work / "profile.log")
            results["profile"] = json.loads(out.read_text()) if out.exists() else {"failed": f"exit {code}"}
            save()
    finally:
        step("end")
        results["meta"]["load_average_after"] = load_average()
        results["meta"]["duration_min"] = round((time.perf_counter() - started) / 60, 1)
        save()
        paths = report.write(results, args.out)
        print("bench: wrote " + ", ".join(str(p) for p in paths), file=sys.stderr)
        if args.keep:
            print(f"bench: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
