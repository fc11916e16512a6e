"""NLU quality: intent macro-F1 and entity F1 on the held-out founder messages
(tests/nlu/heldout.yml, written apart from data/nlu), and k-fold cross-validation
on the training data. Both with `rasa test nlu`, as a user of Rasa would run them."""

from __future__ import annotations

import difflib
import json
import re
import shutil
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

from bench.common import RASA, ROOT, bench_env, run_logged

HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
TRAINING = ROOT / "data" / "nlu"
NEAR_DUPLICATE = 0.9  # a held-out text this similar to a training text (difflib's ratio) is a copy of it
NOT_ENTITY_REPORTS = {"intent_report.json", "response_selection_report.json"}


# ------------------------------------------------------------------ keeping the held-out set held out

_ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """A text as the overlap check compares it: entity markup read as its words; case,
    punctuation, symbols (emoji among them) and whitespace ignored, so "Self-service!"
    and "self service 🙂" are one text."""
    text = unicodedata.normalize("NFKC", _ENTITY_MARKUP.sub(r"\1", text)).casefold()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PSCZ")


def labelled_examples(paths: Iterable[Path]) -> List[Tuple[str, str, Path]]:
    """(intent, text, file) for every intent example of Rasa YAML NLU files."""
    found = []
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            if "intent" not in item:
                continue
            for line in str(item.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.append((item["intent"], line[2:].strip(), path))
    return found


def training_examples() -> List[Tuple[str, str, Path]]:
    return labelled_examples(sorted(TRAINING.rglob("*.yml")))


def heldout_examples() -> List[Tuple[str, str, Path]]:
    return labelled_examples([HELDOUT])


def near_duplicate(text: str, others: Iterable[str], ratio: float = NEAR_DUPLICATE) -> Optional[str]:
    """The first of the (normalised) others that is at least `ratio` similar to the
    normalised text, if any; lengths too far apart to reach the ratio are skipped."""
    for other in others:
        if 2 * min(len(text), len(other)) / max(len(text) + len(other), 1) < ratio:
            continue
        matcher = difflib.SequenceMatcher(None, text, other)
        if matcher.real_quick_ratio() >= ratio and matcher.quick_ratio() >= ratio and matcher.ratio() >= ratio:
            return other
    return None


def compare(training: Iterable[Tuple[str, str, Any]], heldout: Iterable[Tuple[str, str, Any]]) -> Dict[str, List[Any]]:
    """Where a held-out set fails to be held out: its texts that equal a training text once
    normalised, those over NEAR_DUPLICATE similar to one, and texts (normalised) given
    two labels, within either set or across them."""
    train_labels: Dict[str, set] = {}
    for intent, text, _ in training:
        train_labels.setdefault(normalise(text), set()).add(intent)
    labels: Dict[str, set] = {key: set(value) for key, value in train_labels.items()}
    equal, near = [], []
    for intent, text, _ in heldout:
        key = normalise(text)
        labels.setdefault(key, set()).add(intent)
        if key in train_labels:
            equal.append((intent, text))
        else:
            other = near_duplicate(key, train_labels)
            if other is not None:
                near.append((intent, text, other))
    return {
        "equal_once_normalised": equal,
        "near_duplicates": near,
        "two_labels": sorted((key, sorted(value)) for key, value in labels.items() if len(value) > 1),
    }


def overlap() -> Dict[str, Any]:
    """The held-out set against the training data, as counts (make bench reports them)."""
    train, held = training_examples(), heldout_examples()
    found = compare(train, held)
    return {
        "training_examples": len(train),
        "heldout_examples": len(held),
        **{key: len(value) for key, value in found.items()},
    }


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
            # the weakest intent's F1, against the per-intent target
            "min_intent_f1": round(min(v["f1-score"] for v in per_intent.values()), 4) if per_intent else None,
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
