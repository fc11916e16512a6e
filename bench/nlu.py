"""NLU quality: intent macro-F1 and entity F1 on the held-out founder messages
(tests/nlu/heldout.yml, written apart from data/nlu), and k-fold cross-validation
on the training data. Both with `rasa test nlu`, as a user of Rasa would run them."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Optional

from bench.common import RASA, ROOT, bench_env, run_logged

HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
NOT_ENTITY_REPORTS = {"intent_report.json", "response_selection_report.json"}


def _f1(report: Dict[str, Any], key: str) -> Optional[float]:
    value = report.get(key, {})
    return round(value["f1-score"], 4) if isinstance(value, dict) and "f1-score" in value else None


def read_reports(out: Path) -> Dict[str, Any]:
    """The figures of a `rasa test nlu` output folder."""
    result: Dict[str, Any] = {}
    intent_path = out / "intent_report.json"
    if intent_path.exists():
        report = json.loads(intent_path.read_text())
        per_intent = {
            k: v
            for k, v in report.items()
            if isinstance(v, dict) and k not in ("macro avg", "weighted avg", "micro avg")
        }
        result["intent"] = {
            "examples": report.get("macro avg", {}).get("support"),
            "accuracy": round(report["accuracy"], 4) if "accuracy" in report else None,
            "macro_f1": _f1(report, "macro avg"),
            "weighted_f1": _f1(report, "weighted avg"),
            "worst": sorted(
                ({"intent": k, "f1": round(v["f1-score"], 3), "support": v["support"]} for k, v in per_intent.items()),
                key=lambda x: x["f1"],
            )[:5],
        }
    errors_path = out / "intent_errors.json"
    if errors_path.exists():
        pairs = Counter((e["intent"], e["intent_prediction"]["name"]) for e in json.loads(errors_path.read_text()))
        result["intent"]["top_confusions"] = [
            {"intent": a, "predicted": b, "count": n} for (a, b), n in pairs.most_common(6)
        ]
    entities = {}
    for path in sorted(out.glob("*_report.json")):
        if path.name in NOT_ENTITY_REPORTS:
            continue
        report = json.loads(path.read_text())
        entities[path.name[: -len("_report.json")]] = {
            # Rasa scores entities token by token; micro-F1 over the entity tokens.
            "micro_f1": _f1(report, "micro avg"),
            "macro_f1": _f1(report, "macro avg"),
            "precision": round(report.get("micro avg", {}).get("precision", 0), 4),
            "recall": round(report.get("micro avg", {}).get("recall", 0), 4),
            "entity_tokens": report.get("micro avg", {}).get("support"),
        }
    if entities:
        result["entities"] = entities
    return result


def heldout(model: Path, work: Path, docs: Path) -> Dict[str, Any]:
    """The trained model on the held-out set; copies the confusion matrix to docs/."""
    out = work / "heldout"
    seconds, code = run_logged(
        [RASA, "test", "nlu", "--model", str(model), "--nlu", str(HELDOUT), "--out", str(out)],
        desc="NLU: held-out test set",
        log=work / "heldout.log",
    )
    result = {
        "test_set": str(HELDOUT.relative_to(ROOT)),
        "model": str(model),
        "seconds": round(seconds, 1),
        "exit_code": code,
        **read_reports(out),
    }
    picture = out / "intent_confusion_matrix.png"
    if picture.exists():
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copy(picture, docs / "intent_confusion_matrix.png")
        result["confusion_matrix"] = "intent_confusion_matrix.png"
    return result


_FOLD_LINE = re.compile(r"\b(train|test) (Accuracy|F1-score|Precision): ([\d.]+) \(([\d.]+)\)")


def _fold_means(log: str) -> Dict[str, Any]:
    """Rasa logs each metric's mean (std) over the folds: intents first, then each entity extractor."""
    sections: Dict[str, Dict[str, Any]] = {}
    current = None
    for line in log.splitlines():
        if "Intent evaluation results" in line:
            current = "intent"
        elif "Entity evaluation results" in line:
            current = "entity"
        elif re.search(r"Evaluation for entity extractor: (\w+)", line):
            current = "entity:" + re.search(r"Evaluation for entity extractor: (\w+)", line).group(1)
        match = _FOLD_LINE.search(line)
        if match and current:
            split, metric, mean, std = match.groups()
            sections.setdefault(current, {})[f"{split}_{metric.lower().replace('-score', '')}"] = {
                "mean": float(mean),
                "std": float(std),
            }
    return sections


def cross_validation(
    project: Path, folds: int, work: Path, name: str, docs: Optional[Path] = None, nlu: str = "data"
) -> Dict[str, Any]:
    """k-fold cross-validation on a project's training data (Rasa trains a fresh model per fold)."""
    out = work / f"cv-{name}"
    log = work / f"cv-{name}.log"
    env = bench_env(RASA_CACHE_DIRECTORY=str(work / f"cache-cv-{name}"))
    seconds, code = run_logged(
        [
            RASA,
            "test",
            "nlu",
            "--cross-validation",
            "--folds",
            str(folds),
            "--config",
            "config.yml",
            "--nlu",
            nlu,
            "--out",
            str(out),
        ],
        desc=f"NLU: {folds}-fold cross-validation ({name})",
        log=log,
        cwd=project,
        env=env,
    )
    result = {
        "folds": folds,
        "seconds": round(seconds, 1),
        "exit_code": code,
        **read_reports(out),
        "fold_means_weighted": _fold_means(log.read_text(errors="replace") if log.exists() else ""),
    }
    picture = out / "intent_confusion_matrix.png"
    if docs is not None and picture.exists():
        shutil.copy(picture, docs / "intent_confusion_matrix_cv.png")
        result["confusion_matrix"] = "intent_confusion_matrix_cv.png"
    return result
