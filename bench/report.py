"""The reports: benchmarks.json (everything measured) and benchmarks.md (the tables,
the targets met or missed and by how much, what bounds each, the profile), and
the latency-by-position curve as a picture."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bench.common import marked_section
from bench.conversations import KIND_LABELS, KINDS

TARGETS = {
    "p95": "Turn p95 no higher than the stock bot's",
    "growth": "Turn 80 no slower than 1.25x turn 5",
    "errors50": "50 conversations at once, zero errors",
    "cold": "Cold start under 25 s",
    "memory": "Rasa server under 900 MB resident",
    "training": "Training from scratch under 4 minutes",
    "f1": "Held-out intent macro-F1 at least 0.92",
}
PARTS = {
    "nlu": "NLU (parse: spaCy, featurizers, intent classifier, vocabulary, fallback)",
    "policies": "policies (RulePolicy, each prediction)",
    "tracker_load": "tracker store: load (SQL query + tracker rebuilt from events)",
    "tracker_save": "tracker store: save",
    "actions": "action calls (request built from the tracker + HTTP + action server)",
    "other": "other (slot extraction, forms, events, responses)",
}
NESTED = {
    "tracker_rebuild": "in tracker load: the tracker rebuilt from its events",
    "action_payload": "in action calls: the request built from the tracker",
    "action_http": "in action calls: HTTP round trip, action server included",
    "action_response_check": "in action calls: Rasa checking the answer (jsonschema)",
    "nlg": "in action calls and other: responses rendered (NLG)",
}


def _loads(components: List[Dict[str, Any]], count: int) -> str:
    """The slowest graph components to load, as "IntentClassifier 7.7 s, ..."."""
    return ", ".join(f"{c['node'].replace('run_', '')} {c['seconds']:.1f} s" for c in components[:count])


def get(data: Any, *path: Any, default: Any = None) -> Any:
    for key in path:
        if isinstance(data, dict) and key in data:
            data = data[key]
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return default
    return data


def fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return round(a / b, 2) if a is not None and b else None


# ------------------------------------------------------------------ targets


def targets(r: Dict[str, Any]) -> List[Dict[str, Any]]:
    coach, stock, sql = (get(r, "serve", k, default={}) for k in ("coach", "stock", "stock_sql"))
    rows: List[Dict[str, Any]] = []

    def row(key, measured, goal, unit, met, stock_value=None, stock_sql_value=None, lower_is_better=True, digits=1):
        if measured is None or goal is None:
            by = "not measured in this run"
            met = None
        else:
            diff = measured - goal if lower_is_better else goal - measured
            pct = abs(diff) / goal * 100 if goal else 0
            word = "over" if lower_is_better else "under"
            if met:
                by = f"met, {fmt(abs(diff), unit, digits)} to spare ({pct:.0f} %)"
            else:
                by = f"missed by {fmt(abs(diff), unit, digits)} ({pct:.0f} % {word})"
        rows.append(
            {
                "key": key,
                "target": TARGETS[key],
                "goal": goal,
                "measured": measured,
                "unit": unit,
                "stock": stock_value,
                "stock_sql": stock_sql_value,
                "ratio_to_stock": _ratio(measured, stock_value) if stock_value is not None else None,
                "met": met,
                "by": by,
            }
        )

    p95, stock_p95 = get(coach, "latency", "all", "p95"), get(stock, "latency", "all", "p95")
    row(
        "p95",
        p95,
        stock_p95,
        " ms",
        p95 is not None and stock_p95 is not None and p95 <= stock_p95,
        stock_p95,
        get(sql, "latency", "all", "p95"),
    )
    growth = get(coach, "by_position", "ratio_mean")
    row(
        "growth",
        growth,
        1.25,
        "x",
        growth is not None and growth <= 1.25,
        get(stock, "by_position", "ratio_mean"),
        get(sql, "by_position", "ratio_mean"),
        digits=2,
    )
    errors = get(coach, "throughput", "50", "errors")
    row(
        "errors50",
        errors,
        0,
        " errors",
        errors == 0,
        get(stock, "throughput", "50", "errors"),
        get(sql, "throughput", "50", "errors"),
        digits=0,
    )
    cold = get(coach, "cold_start", "first_answer_s")
    row(
        "cold",
        cold,
        25.0,
        " s",
        cold is not None and cold < 25,
        get(stock, "cold_start", "first_answer_s"),
        get(sql, "cold_start", "first_answer_s"),
    )
    memory = get(coach, "memory_after_latency", "rasa", "rss_mb")
    row(
        "memory",
        memory,
        900.0,
        " MB",
        memory is not None and memory < 900,
        get(stock, "memory_after_latency", "rasa", "rss_mb"),
        get(sql, "memory_after_latency", "rasa", "rss_mb"),
        digits=0,
    )
    train = get(r, "training", "coach", "seconds") if get(r, "training", "coach", "exit_code") == 0 else None
    stock_train = get(r, "training", "stock", "seconds") if get(r, "training", "stock", "exit_code") == 0 else None
    row("training", train, 240.0, " s", train is not None and train < 240, stock_train)
    f1 = get(r, "nlu", "heldout", "intent", "macro_f1") if get(r, "nlu", "heldout", "exit_code") == 0 else None
    row("f1", f1, 0.92, "", f1 is not None and f1 >= 0.92, lower_is_better=False, digits=3)
    return rows


# ------------------------------------------------------------------ what bounds each figure


def _share(part: Optional[float], total: Optional[float]) -> str:
    return f"{part / total * 100:.0f} %" if part is not None and total else "n/a"


def bounds(r: Dict[str, Any]) -> Dict[str, str]:
    """For each target, what its figure is made of, from the measurements."""
    out: Dict[str, str] = {}
    prof = r.get("profile") or {}
    coach, stock, sql = (get(r, "serve", k, default={}) for k in ("coach", "stock", "stock_sql"))
    overall = prof.get("overall") or {}
    total = overall.get("total")
    if total:
        ranked = sorted(((k, overall.get(k) or 0) for k in PARTS), key=lambda kv: -kv[1])
        parts = "; ".join(f"{PARTS[k].split(' (')[0]} {v:.1f} ms ({_share(v, total)})" for k, v in ranked[:4])
        rest = [m for m in (get(coach, "by_position", "mean_ms") or []) if m is not None]
        over_rest = (
            f" Over REST the same 80-turn conversation averages {sum(rest) / len(rest):.0f} ms a turn "
            f"(HTTP server and REST channel included; a different process and moment)."
            if rest
            else ""
        )
        out["p95"] = (
            f"In-process, a turn of the 80-turn conversation averages {total:.1f} ms: {parts}. "
            f"{fmt(prof.get('action_calls_per_turn'), '', 1)} action-server calls per turn.{over_rest} "
            f"The stock bot calls no action server and its trackers are "
            f"{'in memory' if stock else 'n/a'}; with the coach's SQLite store its p95 is "
            f"{fmt(get(sql, 'latency', 'all', 'p95'), ' ms')}."
        )
    early, late = prof.get("early") or {}, prof.get("late") or {}
    if early.get("total") and late.get("total"):
        grew = sorted(((k, (late.get(k) or 0) - (early.get(k) or 0)) for k in PARTS), key=lambda kv: -kv[1])
        growth = "; ".join(f"{PARTS[k].split(' (')[0]} +{d:.1f} ms" for k, d in grew if d > 0.5) or "nothing"
        events = prof.get("tracker_events") or {}
        payload = prof.get("payload_kb") or {}
        out["growth"] = (
            f"The same kind of turn ({KIND_LABELS.get(prof.get('early_kind'), prof.get('early_kind'))}) takes "
            f"{early['total']:.1f} ms early (turns {early.get('positions')}) and {late['total']:.1f} ms late "
            f"(turns {late.get('positions')}), in-process. What grew: {growth}. The tracker has "
            f"{fmt(events.get('turn_first'), '', 0)} events at turn 5 and {fmt(events.get('turn_last'), '', 0)} at "
            f"turn 80, and an action call sends {fmt(payload.get('turn_first'), ' KB')} at turn 5 and "
            f"{fmt(payload.get('turn_last'), ' KB')} at turn 80: the SQL store loads, Rasa replays, the rule policy "
            f"featurizes and the action server receives the current session only, and a new session starts after "
            f"each segment's interview (data/rules/coaching.yml, bot/plugins/patches/session_start.py). What still grows is the "
            f"slots' size (the list of segments) and the SQL query, which looks for the session's start among all "
            f"the conversation's events. "
            f"The stock bot grows too: {fmt(get(stock, 'by_position', 'ratio_mean'), 'x', 2)} in memory, "
            f"{fmt(get(sql, 'by_position', 'ratio_mean'), 'x', 2)} with SQLite."
        )
    t50 = get(coach, "throughput", "50") or {}
    t1 = get(coach, "throughput", "1") or {}
    if t50:
        kinds = ", ".join(f"{k}: {v}" for k, v in (t50.get("error_kinds") or {}).items()) or "none"
        out["errors50"] = (
            f"{t50.get('errors')} errors ({kinds}); {fmt(t50.get('conversations_saved'))} of "
            f"{t50.get('conversations')} conversations saved their block. Throughput is "
            f"{fmt(t50.get('turns_per_s'), ' turns/s')} at 50 at once against "
            f"{fmt(t1.get('turns_per_s'), ' turns/s')} one at a time: the Rasa server is one process "
            f"on one event loop, and a turn's work (NLU, policies, the synchronous SQLite store) is "
            f"CPU-bound and blocks that loop, so 50 conversations queue and p95 grows with the queue "
            f"({fmt(get(t50, 'latency', 'p95'), ' ms')})."
        )
    cold = coach.get("cold_start") or {}
    base = r.get("import_baseline") or {}
    loads = prof.get("model_load_components") or []
    load_text = ""
    if prof.get("model_load_s"):
        load_text = f" Loading the model in-process takes {prof['model_load_s']} s, of which {_loads(loads, 3)}."
    if cold:
        out["cold"] = (
            (
                f"Action server up after {fmt(cold.get('actions_up_s'), ' s')}, "
                if cold.get("actions_up_s") is not None
                else "No action server (the custom actions run in the Rasa server); "
            )
            + f"Rasa server up after "
            f"{fmt(cold.get('rasa_up_s'), ' s')} (polled every 0.5 s), first answer at "
            f"{fmt(cold.get('first_answer_s'), ' s')}. Importing Rasa (and with it TensorFlow) alone "
            f"takes {fmt(base.get('import_s'), ' s')}.{load_text} "
            f"The stock bot answers after {fmt(get(stock, 'cold_start', 'first_answer_s'), ' s')} "
            f"(DIET, ResponseSelector, TED and UnexpecTED to load, no action server)."
        )
    mem = get(coach, "memory_after_latency") or {}
    prss = prof.get("rss_mb") or {}
    if mem:
        split = ""
        if prss.get("after_imports") and prss.get("after_model_load"):
            split = (
                f" In the profile process: {prss['after_imports']:.0f} MB after the imports, "
                f"{prss['after_model_load']:.0f} MB with the model loaded, "
                f"{fmt(prss.get('after_turns'), ' MB', 0)} after its conversations."
            )
        out["memory"] = (
            f"Rasa server {fmt(get(mem, 'rasa', 'rss_mb'), ' MB', 0)} after the latency runs, peak "
            f"{fmt(get(coach, 'memory_end', 'rasa', 'peak_rss_mb'), ' MB', 0)}; a Python that only "
            f"imports Rasa and TensorFlow holds {fmt(base.get('rss_mb'), ' MB', 0)}.{split} The stock "
            f"bot's Rasa server: {fmt(get(stock, 'memory_after_latency', 'rasa', 'rss_mb'), ' MB', 0)}. "
            f"Action server: {fmt(get(mem, 'actions', 'rss_mb'), ' MB', 0)}."
        )
    train = get(r, "training", "coach") or {}
    if train.get("components"):
        top = "; ".join(f"{c['component']} {c['seconds']:.0f} s" for c in train["components"][:4])
        out["training"] = (
            f"{fmt(train.get('seconds'), ' s')} in all, of which (Rasa's log, 1 s resolution) {top}. "
            f"The rest is Rasa reading and validating the data and the domain, and packing the "
            f"model. The stock bot: {fmt(get(r, 'training', 'stock', 'seconds'), ' s')}."
        )
    held = get(r, "nlu", "heldout", "intent") or {}
    if held:
        worst = ", ".join(f"{w['intent']} {w['f1']:.2f}" for w in held.get("worst", [])[:4])
        confused = ", ".join(
            f"{c['intent']} taken for {c['predicted']} ({c['count']})" for c in held.get("top_confusions", [])[:4]
        )
        out["f1"] = (
            f"Lowest intent F1s: {worst}. Most frequent confusions: {confused}. Cross-validation on the "
            f"training data: macro-F1 {fmt(get(r, 'nlu', 'cv', 'intent', 'macro_f1'), '', 3)}."
        )
    return out


# ------------------------------------------------------------------ the picture


def plot_by_position(r: Dict[str, Any], out: Path) -> Optional[str]:
    curves = {k: get(r, "serve", k, "by_position") for k in ("coach", "stock", "stock_sql")}
    if not any(curves.values()):
        return None
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=110)
    names = {
        "coach": "Rapport coach (SQLite tracker, action server)",
        "stock": "stock bot (in-memory tracker)",
        "stock_sql": "stock bot (SQLite tracker)",
    }
    colours = {"coach": "tab:blue", "stock": "tab:gray", "stock_sql": "tab:orange"}
    for key, curve in curves.items():
        if not curve:
            continue
        xs = list(range(1, len(curve["mean_ms"]) + 1))
        ax.plot(xs, curve["mean_ms"], label=f"{names[key]}, mean of {curve['runs']}", color=colours[key], lw=1.4)
        if key == "coach" and curve.get("kinds"):
            same = [
                (x, y)
                for x, y, k in zip(xs, curve["mean_ms"], curve["kinds"])
                if k == curve["kinds"][curve["turn_first"] - 1] and y is not None
            ]
            if same:
                ax.scatter(
                    *zip(*same),
                    s=12,
                    color=colours[key],
                    zorder=3,
                    label=f"coach, {KIND_LABELS.get(curve['kinds'][curve['turn_first'] - 1])} turns",
                )
    coach = curves.get("coach")
    if coach:
        for x in (coach["turn_first"], coach["turn_last"]):
            ax.axvline(x, color="tab:red", lw=0.6, ls="--")
    ax.set_xlabel("turn in the conversation")
    ax.set_ylabel("turn latency over REST (ms)")
    ax.set_title("Turn latency by position, 80-turn conversations")
    ax.set_xlim(0, 81)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out / "latency_by_turn.png")
    plt.close(fig)
    return "latency_by_turn.png"


# ------------------------------------------------------------------ Markdown


def _table(header: List[str], rows: List[List[Any]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines + [""]


def _met(value: Optional[bool]) -> str:
    return {True: "**met**", False: "**missed**", None: "n/a"}[value]


BOT_NAMES = {"coach": "coach", "stock": "stock bot (in memory)", "stock_sql": "stock bot (SQLite)"}


def _bots(r: Dict[str, Any]) -> List[Tuple[str, Dict[str, Any]]]:
    """The serving measurements of the coach, the stock bot and the stock bot on SQLite, by key."""
    return [(key, get(r, "serve", key, default={})) for key in BOT_NAMES]


def markdown(r: Dict[str, Any], picture: Optional[str]) -> str:
    """docs/benchmarks.md: one section after another."""
    return "\n".join(
        [
            "# Benchmarks: the coach against the stock Rasa bot",
            "",
            *_machine_and_run(r),
            *_targets(r),
            *_speed(r),
            *coaching_section(r.get("coaching")),
            *_nlu(r),
            *_latency(r),
            *_by_position(r, picture),
            *_throughput(r),
            *_resources(r),
            *_profile(r),
            *_closing(r),
        ]
    )


def _speed(r: Dict[str, Any]) -> List[str]:
    """Issue 21's targets, as ratios to the stock bot measured in the same run (bench/speed.py)."""
    from bench import speed

    if not (get(r, "serve", "coach") and get(r, "serve", "stock")):
        return []
    return speed.section(r).splitlines() + [""]


def _machine_and_run(r: Dict[str, Any]) -> List[str]:
    """Where and how the run was measured, and what disturbed it."""
    meta = r.get("meta", {})
    bots = _bots(r)
    L: List[str] = []
    L += [
        f"Written by `make bench` (`python -m bench`, {meta.get('mode')} run, {meta.get('duration_min')} min) on "
        f"{meta.get('date')}. Everything measured is in [benchmarks.json](benchmarks.json). "
        f"The stock bot is the moodbot that `rasa init --no-prompt` makes, created and trained in a temp folder "
        f"in the same run, on the same machine. Its endpoints.yml configures no tracker store, so Rasa keeps "
        f"its conversations in memory; it is measured that way and again with the coach's SQLite SQL tracker "
        f"store, for a fair comparison.",
        "",
    ]
    v = meta.get("versions", {})
    L += _table(
        ["machine", ""],
        [
            ["CPU", f"{meta.get('cpu_model')}, {meta.get('cores')} cores"],
            ["RAM", f"{meta.get('ram_gb')} GB"],
            ["OS, Python", f"{meta.get('os')}, Python {meta.get('python')}"],
            ["versions", ", ".join(f"{k} {val}" for k, val in v.items() if val)],
            ["code", f"git {meta.get('git_commit')} ({meta.get('git_dirty_files')} changed files not committed)"],
            [
                "load average (1, 5, 15 min)",
                f"{meta.get('load_average_before')} before, {meta.get('load_average_after')} after",
            ],
        ],
    )
    steps = meta.get("load_by_step") or []
    if steps:
        L += [
            "Load average (1 min) as each step started: "
            + "; ".join(f"{s['step']} (minute {s['minute']}) {s['load_average'][0]}" for s in steps)
            + ". While each bot was "
            "measured: "
            + "; ".join(
                f"{BOT_NAMES[k]} {b.get('load_average_before', ['?'])[0]} → {b.get('load_average_after', ['?'])[0]}"
                for k, b in bots
                if b
            )
            + ".",
            "",
        ]
    if meta.get("resumed"):
        L += [
            f"**This run was stopped {len(meta['resumed'])} time(s)** and went on with `--resume`: finished "
            f"steps were kept, an unfinished step was run again from its start; each bot's serving measurements "
            f"ran in one go. "
            f"Stops: "
            + "; ".join(
                f"{x.get('after_stop')} (resumed {x.get('date')}, load {x['load_average'][0]})" for x in meta["resumed"]
            )
            + ".",
            "",
        ]
    if meta.get("stopped"):
        L += [f"**This run was stopped before it finished** ({meta['stopped']}): what is missing says n/a.", ""]
    killed = [
        f"{name} (exit {get(r, *path, 'exit_code')})"
        for name, path in (
            ("held-out test", ("nlu", "heldout")),
            ("coach cross-validation", ("nlu", "cv")),
            ("stock cross-validation", ("nlu", "stock_cv")),
            ("coach training", ("training", "coach")),
            ("stock training", ("training", "stock")),
        )
        if get(r, *path, "exit_code") not in (None, 0)
    ]
    if killed:
        L += [
            "**Steps that did not finish** (a negative exit is a signal from outside the benchmark): "
            + ", ".join(killed)
            + "; their figures are not valid.",
            "",
        ]
    busy = [x for x in (meta.get("load_average_before") or [0]) + (meta.get("load_average_after") or [0])] + [
        s["load_average"][0] for s in steps
    ]
    if max(busy or [0]) > 1.0:
        L += [
            f"The machine was not idle: a load average above 1 on {meta.get('cores')} cores means other work "
            f"shared the CPUs, which makes absolute times slower and noisier. The coach and the stock bot ran "
            f"back to back, so their ratios are fairer than their absolute times.",
            "",
        ]
    return L


def _targets(r: Dict[str, Any]) -> List[str]:
    """Each target beside its measure, and what bounds each figure."""
    L: List[str] = []
    rows = r.get("targets") or []
    L += ["## Targets", ""]
    L += _table(
        ["target", "coach", "stock bot", "stock bot (SQLite)", "coach / stock", "", "by how much"],
        [
            [
                t["target"],
                fmt(t["measured"], t["unit"], 3 if t["key"] == "f1" else 2 if t["key"] == "growth" else 1),
                fmt(t["stock"], t["unit"], 2 if t["key"] == "growth" else 1),
                fmt(t["stock_sql"], t["unit"], 2 if t["key"] == "growth" else 1),
                fmt(t["ratio_to_stock"], "x", 2),
                _met(t["met"]),
                t["by"],
            ]
            for t in rows
        ],
    )
    why = r.get("bounds") or {}
    if why:
        L += ["### What bounds each figure", ""]
        for t in rows:
            if t["key"] in why:
                L += [
                    f"- **{t['target']}** ({'met' if t['met'] else 'missed' if t['met'] is False else 'n/a'}). "
                    f"{why[t['key']]}"
                ]
        L += [""]
    return L


def _nlu(r: Dict[str, Any]) -> List[str]:
    """The NLU: the held-out test and cross-validation, the coach's and the stock bot's."""
    L: List[str] = []
    held = get(r, "nlu", "heldout") or {}
    cv = get(r, "nlu", "cv") or {}
    scv = get(r, "nlu", "stock_cv") or {}
    if held or cv:
        L += ["## NLU", ""]
        nrows = []
        if held:
            ents = held.get("entities") or {}
            ent = (
                "; ".join(
                    f"{k} {fmt(e.get('micro_f1'), '', 3)} (P {e['precision']:.2f}, R {e['recall']:.2f})"
                    for k, e in ents.items()
                )
                or "n/a"
            )
            nrows.append(
                [
                    f"held-out set ({held.get('test_set')}, {get(held, 'intent', 'examples')} messages)",
                    fmt(get(held, "intent", "macro_f1"), "", 3),
                    fmt(get(held, "intent", "accuracy"), "", 3),
                    ent,
                ]
            )
        for name, c in (("coach", cv), ("stock bot", scv)):
            if c:
                means = get(c, "fold_means_weighted", "intent", "test_f1") or {}
                ents = c.get("entities") or {}
                ent = "; ".join(f"{k} {fmt(e.get('micro_f1'), '', 3)}" for k, e in ents.items()) or "n/a"
                nrows.append(
                    [
                        f"{name}: {c.get('folds')}-fold cross-validation on its training data "
                        f"(per fold, weighted F1 {fmt(means.get('mean'), '', 3)} ± {fmt(means.get('std'), '', 3)})",
                        fmt(get(c, "intent", "macro_f1"), "", 3),
                        fmt(get(c, "intent", "accuracy"), "", 3),
                        ent,
                    ]
                )
        L += _table(
            ["test", "intent macro-F1", "intent accuracy", "entity F1 (token-level micro, by extractor)"], nrows
        )
        L += [
            "The held-out set cannot be run on the stock bot (its intents are the moodbot's), so the stock "
            "bot's figure is its own cross-validation. Entity F1 is Rasa's: token by token, over entity tokens.",
            "",
        ]
        if held.get("intent"):
            L += [
                "Lowest intents on the held-out set: "
                + ", ".join(f"{w['intent']} {w['f1']:.2f} ({w['support']})" for w in held["intent"].get("worst", []))
                + ". "
                "Most frequent confusions: "
                + ", ".join(
                    f"{c['intent']} → {c['predicted']} ({c['count']})" for c in held["intent"].get("top_confusions", [])
                )
                + ".",
                "",
            ]
        if held.get("confusion_matrix"):
            L += [f"![Intent confusion matrix, held-out set]({held['confusion_matrix']})", ""]
        cv_picture = get(r, "nlu", "cv", "confusion_matrix")
        if cv_picture:
            L += [f"The coach's cross-validation confusion matrix: [{cv_picture}]({cv_picture}).", ""]
    return L


def _latency(r: Dict[str, Any]) -> List[str]:
    """Turn latency over REST."""
    bots = _bots(r)
    coach, stock = (get(r, "serve", key, default={}) for key in ("coach", "stock"))
    L: List[str] = []
    if coach.get("latency") or stock.get("latency"):
        L += [
            "## Turn latency over REST",
            "",
            "Each turn timed on the client from request to whole answer (`POST /webhooks/rest/webhook`), over "
            "whole conversations one after the other (after one warm-up conversation). The coach's "
            f"conversations are the founder conversations of scripts/record_test_stories.py that end with a saved "
            f"block ({get(coach, 'latency', 'conversations')} conversations); the stock bot's are its moodbot "
            f"dialogues, five to a conversation of 20 turns. The kind of a coach turn is read from the actions "
            f"Rasa ran for it (tracker store).",
            "",
        ]
        lrows = []
        by_kind = get(coach, "latency", "by_kind") or {}
        for kind in KINDS:
            s = by_kind.get(kind)
            if s:
                lrows.append([f"coach: {KIND_LABELS[kind]}", s["n"], s["p50"], s["p95"], s["p99"], s["mean"]])
        for key, b in bots:
            s = get(b, "latency", "all")
            if s and s.get("n"):
                lrows.append([f"**{BOT_NAMES[key]}: all turns**", s["n"], s["p50"], s["p95"], s["p99"], s["mean"]])
        L += _table(["turns", "n", "p50 ms", "p95 ms", "p99 ms", "mean ms"], lrows)
        errs = [f"{BOT_NAMES[k]} {get(b, 'latency', 'errors')}" for k, b in bots if b.get("latency")]
        L += [
            "Errors (HTTP, timeout or empty answer): " + ", ".join(errs) + ". An empty answer from the stock bot "
            "is its own dialogue (its TED policy sometimes listens without answering a moodbot message); the "
            "latency figures are over the turns that were answered.",
            "",
        ]
    return L


def _by_position(r: Dict[str, Any], picture: Optional[str]) -> List[str]:
    """Latency by turn position, as a conversation grows."""
    bots = _bots(r)
    L: List[str] = []
    if any(get(b, "by_position") for _, b in bots):
        L += [
            "## Latency by position in the conversation",
            "",
            "The same 80-turn conversation several times; each position's mean. The coach's is a long "
            "interview (ten segments, three questions in the fifth): turn 5 and turn 80 send the same answer to "
            "the same question, so they differ only in the conversation's length. The stock bot's repeats "
            '"hi, I am sad, yes, are you a bot?, bye": turns 5 and 80 are both "bye".',
            "",
        ]
        if picture:
            L += [f"![Turn latency by position]({picture})", ""]
        prow = []
        for key, b in bots:
            p = get(b, "by_position")
            if p:
                prow.append(
                    [
                        BOT_NAMES[key],
                        p["runs"],
                        fmt(p["first_mean_ms"], " ms"),
                        fmt(p["last_mean_ms"], " ms"),
                        fmt(p["ratio_mean"], "x", 2),
                        fmt(p["ratio_median"], "x", 2),
                        f"{fmt(p['early_same_kind_mean_ms'], ' ms')} → {fmt(p['late_same_kind_mean_ms'], ' ms')}",
                        fmt(p["slope_ms_per_turn"], " ms", 2),
                    ]
                )
        L += _table(
            [
                "bot",
                "runs",
                "turn 5",
                "turn 80",
                "80 / 5 (means)",
                "80 / 5 (medians)",
                "turns 4-12 → 72-80, same kind as turn 5",
                "slope per turn",
            ],
            prow,
        )
    return L


def _throughput(r: Dict[str, Any]) -> List[str]:
    """Throughput with founders at once."""
    bots = _bots(r)
    L: List[str] = []
    if any(get(b, "throughput") for _, b in bots):
        L += [
            "## Throughput",
            "",
            "Conversations at once (asyncio + aiohttp, one connection each), each a whole conversation; "
            "turns per second over the wall time, and the turns' latency.",
            "",
        ]
        trow = []
        for key, b in bots:
            for c, t in (get(b, "throughput") or {}).items():
                saved = (
                    f"{t.get('conversations_saved')} / {t['conversations']}" if "conversations_saved" in t else "n/a"
                )
                trow.append(
                    [
                        BOT_NAMES[key],
                        c,
                        t["conversations"],
                        t["turns"],
                        fmt(t["turns_per_s"]),
                        fmt(get(t, "latency", "p50")),
                        fmt(get(t, "latency", "p95")),
                        fmt(get(t, "latency", "p99")),
                        t["errors"],
                        saved,
                    ]
                )
        L += _table(
            [
                "bot",
                "at once",
                "conversations",
                "turns",
                "turns/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "blocks saved",
            ],
            trow,
        )
    return L


def _resources(r: Dict[str, Any]) -> List[str]:
    """Start-up, memory and training."""
    bots = _bots(r)
    L: List[str] = []
    if any(b.get("cold_start") for _, b in bots) or r.get("training"):
        L += ["## Resources", ""]
        rrow = []
        for key, b in bots:
            if b.get("cold_start"):
                cs = b["cold_start"]
                rrow.append(
                    [
                        BOT_NAMES[key],
                        fmt(cs.get("first_answer_s"), " s"),
                        fmt(cs.get("rasa_up_s"), " s"),
                        fmt(cs.get("actions_up_s"), " s"),
                        fmt(get(b, "memory_after_first_answer", "rasa", "rss_mb"), " MB", 0),
                        fmt(get(b, "memory_after_latency", "rasa", "rss_mb"), " MB", 0),
                        fmt(get(b, "memory_end", "rasa", "peak_rss_mb"), " MB", 0),
                        fmt(get(b, "memory_after_latency", "actions", "rss_mb"), " MB", 0),
                    ]
                )
        if rrow:
            L += _table(
                [
                    "bot",
                    "cold start: first answer",
                    "Rasa server up",
                    "action server up",
                    "Rasa RSS after first answer",
                    "Rasa RSS after latency runs",
                    "Rasa peak RSS",
                    "action server RSS",
                ],
                rrow,
            )
            base = r.get("import_baseline") or {}
            L += [
                f"Cold start is from spawning the servers (both at once, as `make run`'s honcho does) to the "
                f'first answer to "hi" over REST. Memory is VmRSS from /proc (with children), peak is VmHWM. '
                f"For scale: `import rasa.core.agent` alone takes {fmt(base.get('import_s'), ' s')} and "
                f"{fmt(base.get('rss_mb'), ' MB', 0)}.",
                "",
            ]
        tr = r.get("training") or {}
        if tr:
            trow = []
            for key in ("coach", "stock"):
                t = tr.get(key)
                if t:
                    comps = ", ".join(f"{c['component']} {c['seconds']:.0f} s" for c in t.get("components", [])[:5])
                    trow.append(
                        [
                            BOT_NAMES[key].split(" (")[0],
                            fmt(t.get("seconds"), " s"),
                            fmt(t.get("model_mb"), " MB"),
                            comps,
                        ]
                    )
            L += _table(["bot", "training from scratch", "model", "slowest components"], trow)
            extra = []
            if get(tr, "coach_spacy_pipeline", "seconds") is not None:
                extra.append(
                    f"building the coach's spaCy pipeline (make setup) takes "
                    f"{fmt(get(tr, 'coach_spacy_pipeline', 'seconds'), ' s')} more"
                )
            if get(r, "stock_bot", "init", "seconds") is not None:
                extra.append(
                    f"`rasa init` (which trains the moodbot too) took "
                    f"{fmt(get(r, 'stock_bot', 'init', 'seconds'), ' s')}"
                )
            L += [
                "`rasa train --force` with an empty cache (RASA_CACHE_DIRECTORY set to a new folder); "
                + "; ".join(extra)
                + ".",
                "",
            ]
    return L


def _profile(r: Dict[str, Any]) -> List[str]:
    """Where a turn spends its time."""
    L: List[str] = []
    prof = r.get("profile") or {}
    if prof.get("overall"):
        L += [
            "## Profile of a coach turn",
            "",
            f"{prof.get('how')}: the 80-turn conversation {prof.get('runs')} times, with timers around Rasa's "
            f"own methods (bench/profile.py). Mean ms per turn.",
            "",
        ]
        o, e, l5, l80 = (
            prof["overall"],
            prof.get("early") or {},
            prof.get("turn_first") or {},
            prof.get("turn_last") or {},
        )
        late = prof.get("late") or {}
        prow = []
        for k in ["total", *PARTS, *NESTED]:
            label = "**whole turn**" if k == "total" else PARTS.get(k) or NESTED.get(k)
            prow.append(
                [
                    label,
                    fmt(o.get(k), "", 1),
                    _share(o.get(k), o.get("total")) if k != "total" else "",
                    fmt(l5.get(k)),
                    fmt(l80.get(k)),
                    fmt(e.get(k)),
                    fmt(late.get(k)),
                ]
            )
        L += _table(
            [
                "part",
                "all turns",
                "share",
                "turn 5",
                "turn 80",
                f"turns {e.get('positions')} ({KIND_LABELS.get(prof.get('early_kind'), '')})",
                f"turns {late.get('positions')} (same kind)",
            ],
            prow,
        )
        L += [
            f"Tracker events at turn 5: {fmt(get(prof, 'tracker_events', 'turn_first'), '', 0)}, at turn 80: "
            f"{fmt(get(prof, 'tracker_events', 'turn_last'), '', 0)}. Action request at turn 5: "
            f"{fmt(get(prof, 'payload_kb', 'turn_first'), ' KB')}, at turn 80: "
            f"{fmt(get(prof, 'payload_kb', 'turn_last'), ' KB')}. Action-server calls per turn: "
            f"{fmt(prof.get('action_calls_per_turn'))}.",
            "",
        ]
        check = prof.get("schema_check") or {}
        if check:
            L += [
                f"Rasa's check of each action-server answer (`jsonschema.validate`, as RemoteAction runs it) "
                f"takes {check.get('rasa_validate_ms')} ms a call; the same check with a validator built once "
                f"takes {check.get('validator_built_once_ms')} ms (median over {check.get('responses')} recorded "
                f"answers).",
                "",
            ]
        loads = prof.get("model_load_components") or []
        prss = prof.get("rss_mb") or {}
        if prof.get("model_load_s"):
            L += [
                f"Model load in-process: {prof['model_load_s']} s; by component: "
                + ", ".join(f"{c['node'].replace('run_', '')} {c['seconds']} s" for c in loads[:6])
                + f". Memory of the profile process: {fmt(prss.get('after_imports'), ' MB', 0)} after the "
                f"imports, {fmt(prss.get('after_model_load'), ' MB', 0)} with the model, "
                f"{fmt(prss.get('after_turns'), ' MB', 0)} after its conversations.",
                "",
            ]
        bk = prof.get("by_kind") or {}
        if bk:
            L += ["By kind of turn (mean ms):", ""]
            L += _table(
                ["kind", "turns", "whole turn", "NLU", "policies", "tracker load", "tracker save", "actions", "other"],
                [
                    [
                        KIND_LABELS.get(k, k),
                        v["turns"],
                        fmt(v.get("total")),
                        fmt(v.get("nlu")),
                        fmt(v.get("policies")),
                        fmt(v.get("tracker_load")),
                        fmt(v.get("tracker_save")),
                        fmt(v.get("actions")),
                        fmt(v.get("other")),
                    ]
                    for k, v in bk.items()
                ],
            )
        nodes = {n["node"]: n["ms_per_turn"] for n in prof.get("nodes_overall", [])}
        early_nodes = {n["node"]: n["ms_per_turn"] for n in prof.get("nodes_early", [])}
        late_nodes = {n["node"]: n["ms_per_turn"] for n in prof.get("nodes_late", [])}
        if nodes:
            L += ["Graph components (Rasa's graph nodes, ms per turn; policy nodes run once per predicted action):", ""]
            L += _table(
                ["node", "all turns", "early", "late"],
                [
                    [k, fmt(v, "", 2), fmt(early_nodes.get(k), "", 2), fmt(late_nodes.get(k), "", 2)]
                    for k, v in nodes.items()
                ],
            )
        replay = prof.get("replay") or {}
        if replay:
            L += [
                "The action server alone: the requests Rasa sent at turn 5 and turn 80, replayed to its "
                "/webhook (median of 20):",
                "",
            ]
            L += _table(
                ["turn", "action", "request", "events", "in the turn (Rasa → action server)", "replayed directly"],
                [
                    [
                        pos,
                        c["action"],
                        f"{c['payload_kb']} KB",
                        c["tracker_events"],
                        f"{c['in_turn_ms']} ms",
                        f"{c['direct_median_ms']} ms",
                    ]
                    for pos, calls in replay.items()
                    for c in calls
                ],
            )
    return L


def _closing(r: Dict[str, Any]) -> List[str]:
    """The scaled set-up, what was changed for speed, the findings and the method."""
    L: List[str] = []
    L += scaled_section(r.get("scaled") or {})
    changes = Path(__file__).with_name("changes.md")  # hand-written: what was changed for speed, and why
    if changes.exists():
        L += [changes.read_text().strip(), ""]
    L += ["## Findings and what is left to try", "", "Written by the benchmark from this run's numbers.", ""]
    L += findings(r) + [""]
    L += [
        "## Method",
        "",
        "- `make bench` = `make setup train` then `python -m bench $(BENCH_ARGS)`; `--quick` is a small run "
        "(results/bench/). Long steps show progress bars. Every request goes to 127.0.0.1, every loop is "
        "bounded in turns and time (120 s a turn, 45 min a phase).",
        "- The servers are started by deploy/launchers.py as `make run` starts them, on free ports with temp "
        "SQLite files; the stock bot runs `rasa run` on its `rasa init` model.",
        "- Benchmarks are not tests: `make test` asserts no timings.",
        "",
    ]
    return L


def scaled_section(scaled: Dict[str, Any]) -> List[str]:
    """The scaled set-up's throughput (bench/scaled.py), beside one server's, and what bounds it."""
    if not scaled:
        return []
    one, two = scaled.get("one_server") or {}, scaled.get("two_servers") or {}
    n = scaled.get("conversations_at_once")
    L = [
        "## Scale-out: one Rasa server against two",
        "",
        f"{n} whole coaching conversations at once (each greeting to saved block), over REST, measured by "
        "`python -m bench.scaled` (the `scaled` step of `make bench`) in one run: first `make run`'s set-up, "
        "then `make run-scaled`'s (docs/deploy.md). Load average (1 min) "
        f"{get(scaled, 'load_average_before', 0)} before, {get(scaled, 'load_average_after', 0)} after.",
        "",
    ]
    rows = []
    for label, res in (("one Rasa server, SQLite", one), ("two Rasa servers, PostgreSQL + Redis, nginx", two)):
        lat = res.get("latency") or {}
        rows.append(
            [
                label,
                res.get("turns"),
                fmt(res.get("turns_per_s"), "", 2),
                fmt(lat.get("p50")),
                fmt(lat.get("p95")),
                fmt(lat.get("p99")),
                res.get("errors"),
                get(res, "cpu", "cores_busy"),
            ]
        )
    L += _table(["set-up", "turns", "turns/s", "p50 ms", "p95 ms", "p99 ms", "errors", "cores busy"], rows)
    speed_up, p95 = scaled.get("speed_up"), get(two, "latency", "p95")
    faster = _met(speed_up >= 1.6 if speed_up else None)
    quick = _met(p95 < 1500 if p95 else None)
    L += [
        f"- **Two servers give at least 1.6x the throughput of one** ({faster}): {fmt(speed_up, 'x', 2)}.",
        f"- **p95 under 1.5 s at {n} at once, two servers** ({quick}): {fmt(p95, ' ms')}.",
        "",
    ]
    cpu_rows = []
    for label, res in (("one server", one), ("two servers", two)):
        used = get(res, "cpu", "cpu_s") or {}
        turns = res.get("turns") or 0
        cpu_rows.append(
            [
                label,
                ", ".join(f"{k} {v} s" for k, v in used.items()),
                fmt(1000 * sum(used.values()) / turns if turns else None, " ms"),
                f"{get(res, 'cpu', 'cores_busy')} of {get(res, 'cpu', 'cores')}",
            ]
        )
    L += ["CPU used during the load (user + system, each process and its children):", ""]
    L += _table(["set-up", "CPU seconds", "CPU per turn", "cores busy"], cpu_rows)
    busy, cores = get(two, "cpu", "cores_busy"), get(two, "cpu", "cores") or 0
    tps, cpu_s = two.get("turns_per_s"), sum((get(two, "cpu", "cpu_s") or {}).values())
    if speed_up is not None and tps and p95 and two.get("turns") and (speed_up < 1.6 or p95 >= 1500):
        # With the same number of conversations at once, latency falls as throughput rises (Little's law):
        # p95 under 1.5 s needs about p95/1500 times the throughput, and that much more CPU.
        needed_tps = tps * p95 / 1500
        cpu_per_turn = cpu_s / two["turns"]
        L += [
            f"What bounds it: CPU time for the coach. A turn costs {fmt(1000 * cpu_per_turn, ' ms')} of CPU in "
            f"all the processes together. With {n} conversations at once, latency falls as throughput rises: "
            f"p95 under 1.5 s needs about {fmt(needed_tps, ' turns/s')} instead of {fmt(tps, '', 2)}, that is "
            f"{fmt(needed_tps * cpu_per_turn, ' cores', 2)} of CPU for the coach alone. During the load its "
            f"processes got {busy} of the machine's {cores} cores: the machine is shared, and other work kept "
            f"it busy (load average {get(scaled, 'load_average_before', 0)} before the run). Two servers did "
            f"{fmt(speed_up, 'x', 2)} what one did: one server's event loop runs one turn at a time, and on "
            "a shared machine each busy process gets its share of the cores, so two servers get about twice "
            "one's. More servers help only as long as there is CPU for them.",
            "",
        ]
    return L


COACHING_TARGETS = {
    "expected": "Seed conversations: the seed's type among the three saved, in every case",
    "forbidden": "Seed conversations: no forbidden type shown",
    "dead_ends": "No dead end: every case saved, no question asked more than twice",
    "f1": "Held-out intent macro-F1 at least 0.96 (the held-out set disjoint from training)",
    "min_f1": "Every intent's held-out F1 at least 0.90",
    "rank": "Seed conversations: the seed's type first, where the case names it",
    "growth": "60-turn interview full of digressions: last ten digressions no slower than 1.25x the first ten",
}


def coaching_section(c: Optional[Dict[str, Any]]) -> List[str]:
    """The coaching step's figures beside their targets (issue 11)."""
    if not c:
        return []
    suite, held, dig = c.get("seed_suite") or {}, c.get("heldout") or {}, c.get("digressions") or {}
    cases = suite.get("cases")
    f1 = held.get("macro_f1")
    overlap = held.get("overlap") or {}
    growth = dig.get("growth")
    rows = [
        [
            COACHING_TARGETS["expected"],
            f"{suite.get('expected_in_top3')} of {cases}",
            _met(suite.get("expected_in_top3") == cases if cases else None),
        ],
        [
            COACHING_TARGETS["forbidden"],
            f"{suite.get('forbidden_shown')} of {cases} show one",
            _met(suite.get("forbidden_shown") == 0 if cases else None),
        ],
        [
            COACHING_TARGETS["dead_ends"],
            f"{suite.get('saved')} of {cases} saved, "
            f"{suite.get('questions_asked_more_than_twice')} asked a question 3+ times",
            _met(suite.get("saved") == cases and suite.get("questions_asked_more_than_twice") == 0 if cases else None),
        ],
        [
            COACHING_TARGETS["rank"],
            f"{suite.get('first_as_expected')} of {suite.get('ranked')}",
            _met(suite.get("first_as_expected") == suite.get("ranked") if suite.get("ranked") else None),
        ],
        [
            COACHING_TARGETS["f1"],
            f"{fmt(f1, '', 3)} on {held.get('examples')} texts; "
            f"{overlap.get('equal_once_normalised')} equal to a training text once normalised, "
            f"{overlap.get('near_duplicates')} near copies",
            _met(
                f1 >= 0.96 and not overlap.get("equal_once_normalised") and not overlap.get("near_duplicates")
                if f1 is not None and overlap
                else None
            ),
        ],
        [
            COACHING_TARGETS["min_f1"],
            fmt(held.get("min_intent_f1"), "", 3) + (f" ({held['worst'][0]['intent']})" if held.get("worst") else ""),
            _met(held["min_intent_f1"] >= 0.90 if held.get("min_intent_f1") is not None else None),
        ],
        [
            COACHING_TARGETS["growth"],
            f"{fmt(growth, 'x', 2)} ({fmt(dig.get('first_digressions_ms'), ' ms')} → "
            f"{fmt(dig.get('last_digressions_ms'), ' ms')})",
            _met(growth <= 1.25 if growth is not None else None),
        ],
    ]
    L = [
        "## Coaching",
        "",
        f"The conversation-level seed suite ({cases} cases from the seed articles, tests/seed_conversations.yml) "
        f"played over REST against the real action and Rasa servers, as a founder types; the held-out intent "
        f"macro-F1; and one segment's interview stretched to {dig.get('turns')} turns by questions asked "
        f"mid-form ({dig.get('runs')} runs, median per turn).",
        "",
    ]
    L += _table(["target", "measured", ""], rows)
    L += [
        f'Turns to a saved block, from "hi": median {suite.get("turns_to_saved_median")}, '
        f"max {suite.get('turns_to_saved_max')}. Questions asked again (each re-ask counted): "
        f"{suite.get('reasks')} in all. Cases that got stuck: {suite.get('dead_ends')}. "
        f"Digression turns' latency slope: {fmt(dig.get('slope_ms_per_turn'), ' ms per turn', 3)}; "
        f"turn errors {dig.get('errors')}; the interview ended with advice: {dig.get('ended_with_advice')}.",
        "",
    ]
    misses = [x for x in suite.get("by_case") or [] if not x["expected_in_top3"] or x["forbidden_shown"] or x["stuck"]]
    if misses:
        L += [
            "Cases that missed: "
            + "; ".join(f"{x['id']} ({x['stuck'] or 'top three ' + ', '.join(x['top3'])})" for x in misses)
            + ".",
            "",
        ]
    return L


def findings(r: Dict[str, Any]) -> List[str]:
    """What the numbers say about the coach as it is, and what is left to try."""
    out: List[str] = []
    prof = r.get("profile") or {}
    o, e, late = prof.get("overall") or {}, prof.get("early") or {}, prof.get("late") or {}
    coach = get(r, "serve", "coach", default={})
    stock = get(r, "serve", "stock", default={})
    total = o.get("total")
    calls = prof.get("action_calls_per_turn")
    n = 0

    def add(text: str) -> None:
        nonlocal n
        n += 1
        out.append(f"{n}. {text}")

    if total:
        ranked = sorted(((k, o.get(k) or 0) for k in PARTS), key=lambda kv: -kv[1])
        out.append(
            "In-process, the mean coach turn of the 80-turn conversation takes "
            f"{total:.0f} ms: "
            + ", ".join(f"{PARTS[k].split(' (')[0]} {v:.0f} ms ({_share(v, total)})" for k, v in ranked)
            + "."
        )
        out.append("")
    check = prof.get("schema_check") or {}
    if o.get("action_response_check") and check.get("rasa_validate_ms"):
        saving = (check["rasa_validate_ms"] - check["validator_built_once_ms"]) * (calls or 0)
        add(
            f"**The action server's answers are checked by validators compiled once.** Rasa 3.6's "
            f"RemoteAction._validate_action_result calls `jsonschema.validate()`, which validates Rasa's whole "
            f"events schema against the JSON-Schema metaschema before each answer: {check['rasa_validate_ms']:.1f} ms "
            f"a call; the same schema compiled once takes {check['validator_built_once_ms']:.2f} ms. "
            f"`python -m bot.plugins.rasa_server` (what `make run` starts) compiles it once and checks each event against "
            f"its own type's schema only. In the profiled turns the check takes "
            f"{o['action_response_check']:.1f} ms a turn ({calls} calls); Rasa's own would take about "
            f"{saving + o['action_response_check']:.0f} ms."
        )
    if e.get("total") and late.get("total") and late["total"] > e["total"]:
        d = {k: (late.get(k) or 0) - (e.get(k) or 0) for k in [*PARTS, *NESTED]}
        parts = sorted(((k, v) for k, v in d.items() if k in PARTS and v > 0.5), key=lambda kv: -kv[1])
        ev = prof.get("tracker_events") or {}
        add(
            f"**What still grows with the conversation.** The same kind of turn costs {e['total']:.0f} ms at "
            f"turns {e.get('positions')} and {late['total']:.0f} ms at turns {late.get('positions')} "
            f"({late['total'] / e['total']:.2f}x): "
            + (", ".join(f"{PARTS[k].split(' (')[0]} +{v:.0f} ms" for k, v in parts) or "nothing measurable")
            + f". Rasa loads, replays (`DialogueStateTracker.from_dict`: {fmt(e.get('tracker_rebuild'), ' ms')} → "
            f"{fmt(late.get('tracker_rebuild'), ' ms')}), featurizes for the rules and sends to the action server "
            f"the current session only, and the coach starts a new session after each segment's interview "
            f"(data/rules/coaching.yml), carrying one SlotSet per slot (bot/plugins/patches/session_start.py): the tracker has "
            f"{fmt(ev.get('turn_first'), '', 0)} events at turn 5 and {fmt(ev.get('turn_last'), '', 0)} at turn 80. "
            f"What remains is the slots themselves (the list of segments grows with each one) and the SQL query, "
            f"which finds the session's start among all the conversation's events."
        )
    replay = prof.get("replay") or {}
    first = (replay.get("5") or [{}])[0]
    last_key = str(prof.get("turns") or 80)
    last = (replay.get(last_key) or [{}])[0]
    by_name = prof.get("action_calls_by_name") or {}
    if first.get("direct_median_ms") is not None and last.get("direct_median_ms") is not None:
        names = ", ".join(f"{k} {v:g}" for k, v in by_name.items())
        add(
            f"**Each action-server call costs more than the action.** {calls} calls a turn "
            f"({names} in the 80-turn conversation): their HTTP round trips (action server included) take "
            f"{fmt(o.get('action_http'), ' ms')} a turn on average, plus the schema check above. The action server's own time follows the request's "
            f"size, not the coach's logic: the same `{first.get('action')}` call takes "
            f"{first['direct_median_ms']} ms at turn 5 ({first['payload_kb']} KB, {first['tracker_events']} "
            f"events) and {last['direct_median_ms']} ms at turn 80 ({last['payload_kb']} KB, "
            f"{last['tracker_events']} events), replayed directly to /webhook, because rasa-sdk receives and "
            f"parses the whole tracker (the current session) on every call. Change to try: fewer calls where two "
            f"custom actions run back to back in one turn (e.g. the form's last validation followed by "
            f"`action_save_segment`)."
        )
    nodes = {x["node"]: x["ms_per_turn"] for x in prof.get("nodes_overall", [])}
    if o.get("policies"):
        policy_nodes = ", ".join(f"{k[4:]} {v:.1f} ms" for k, v in nodes.items() if "Policy" in k)
        late_nodes = {x["node"]: x["ms_per_turn"] for x in prof.get("nodes_late", [])}
        early_nodes = {x["node"]: x["ms_per_turn"] for x in prof.get("nodes_early", [])}
        grow = ", ".join(
            f"{k[4:]} {fmt(early_nodes.get(k), ' ms')} → {fmt(late_nodes.get(k), ' ms')}"
            for k in nodes
            if "Policy" in k
        )
        add(
            f"**Policies: {o['policies']:.0f} ms a turn** ({policy_nodes}; early → late: {grow}). The coach runs "
            f"the RulePolicy alone (every step is a rule or a form; no MemoizationPolicy, no TED). It runs on every "
            f"prediction (two or more a turn) and reads the session's states."
        )
    if o.get("nlu"):
        nlu_nodes = [(k, v) for k, v in nodes.items() if "Policy" not in k and k.startswith("run_")][:3]
        add(
            f"**NLU is not what bounds a turn**: {o['nlu']:.0f} ms ({_share(o['nlu'], total)}); "
            + ", ".join(f"{k[4:]} {v:.1f} ms" for k, v in nlu_nodes)
            + ". Its cost per message does not "
            "depend on the conversation."
        )
    if o.get("tracker_load") and o.get("tracker_rebuild") is not None:
        sql_part = o["tracker_load"] - (o.get("tracker_rebuild") or 0)
        add(
            f"**Tracker store**: loading takes {o['tracker_load']:.0f} ms a turn: {o['tracker_rebuild']:.0f} ms "
            f"rebuilding the tracker from its events (`DialogueStateTracker.from_dict`, the same for every store: "
            f"Rasa's in-memory store keeps a serialized tracker and replays it too, which is why the stock bot also "
            f"slows down with the conversation) and {sql_part:.0f} ms for the SQL query and decoding each event's "
            f"JSON; saving takes {fmt(o.get('tracker_save'), ' ms', 0)}. The stock bot's p95 is "
            f"{fmt(get(stock, 'latency', 'all', 'p95'), ' ms')} in memory and "
            f"{fmt(get(r, 'serve', 'stock_sql', 'latency', 'all', 'p95'), ' ms')} with the coach's SQLite store."
        )
    t1, t50 = get(coach, "throughput", "1") or {}, get(coach, "throughput", "50") or {}
    if t1.get("turns_per_s") and t50.get("turns_per_s"):
        add(
            f"**Throughput is one core's**: {t1['turns_per_s']} turns/s alone, {t50['turns_per_s']} turns/s with "
            f"50 at once (p95 {fmt(get(t50, 'latency', 'p95'), ' ms')}). The Rasa server is one process on one "
            f"event loop; NLU, policies and the synchronous SQLite calls block it, so conversations queue. Change: "
            f"run two or more Rasa server processes (sticky by sender, with a shared lock store such as Redis); "
            f"everything that makes a turn cheaper above raises this too."
        )
    logs = get(coach, "log_errors", "rasa") or {}
    if logs.get("button_payload_interpolation_errors"):
        turns = (
            (get(coach, "latency", "turns") or 0)
            + sum((t.get("turns") or 0) for t in (get(coach, "throughput") or {}).values())
            + (get(coach, "by_position", "turns") or 0) * (get(coach, "by_position", "runs") or 0)
        )
        add(
            f"**The Rasa log is full of false errors**: {logs['button_payload_interpolation_errors']} ERROR lines "
            f"with tracebacks (in about {turns} turns) from the response interpolator reading the buttons' "
            f"`/inform{{...}}` payloads as slot placeholders (RasaHQ/rasa#6616); domain.yml doubles their braces, so "
            f"a payload that still shows up here has single ones. "
            f"({logs.get('errors', 0)} other ERROR lines)."
        )
    cold = coach.get("cold_start") or {}
    base = r.get("import_baseline") or {}
    loads = prof.get("model_load_components") or []
    if cold.get("first_answer_s"):
        slowest = _loads(loads, 2)
        add(
            f"**Cold start and memory are mostly Rasa's imports**: the first answer comes after "
            f"{fmt(cold['first_answer_s'], ' s')} "
            f"(stock bot {fmt(get(stock, 'cold_start', 'first_answer_s'), ' s')}). Importing Rasa, and with it "
            f"TensorFlow, takes {fmt(base.get('import_s'), ' s')} and {fmt(base.get('rss_mb'), ' MB', 0)}, although "
            f"the coach runs no TensorFlow model; the slowest components to load are {slowest or 'n/a'}. "
            f"The Rasa server holds {fmt(get(coach, 'memory_after_latency', 'rasa', 'rss_mb'), ' MB', 0)} (stock "
            f"bot {fmt(get(stock, 'memory_after_latency', 'rasa', 'rss_mb'), ' MB', 0)}, which loads DIET, TED "
            f"and a ResponseSelector)."
        )
    return out


def write(results: Dict[str, Any], out: Path) -> List[Path]:
    out.mkdir(parents=True, exist_ok=True)
    results["targets"] = targets(results)
    results["bounds"] = bounds(results)
    picture = plot_by_position(results, out)
    (out / "benchmarks.json").write_text(json.dumps(results, indent=1, default=str))
    # The review dashboard's and the inbox loop's sections (bench/review.py, bench/inbox_loop.py write them) stay.
    from bench import inbox_loop, review, speed

    old = (out / "benchmarks.md").read_text() if (out / "benchmarks.md").exists() else ""
    kept_steps = [review, inbox_loop]
    if not _speed(results):  # a run without both bots keeps issue 21's section of the last one that had them
        kept_steps.insert(0, speed)
    kept = "".join(marked_section(old, step.START, step.END) for step in kept_steps)
    (out / "benchmarks.md").write_text(markdown(results, picture) + ("\n" + kept if kept else ""))
    paths = [out / "benchmarks.json", out / "benchmarks.md"]
    return paths + ([out / picture] if picture else [])
