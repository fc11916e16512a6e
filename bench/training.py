"""Training time from scratch: `rasa train --force` with an empty cache, and the
time each component took, read from Rasa's own log."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

from bench.common import PYTHON, RASA, bench_env, run_logged

_HOOK = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+\w+\s+rasa\.engine\.training\.hooks\s+-\s+"
    r"(Starting to train|Finished training) component '(\w+)'"
)


def component_times(log: str) -> List[Dict[str, Any]]:
    """Seconds per trained component (1 s resolution: Rasa's log timestamps)."""
    started: Dict[str, dt.datetime] = {}
    times: List[Dict[str, Any]] = []
    for line in log.splitlines():
        match = _HOOK.search(line.strip())
        if not match:
            continue
        stamp, what, component = match.groups()
        when = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
        if what.startswith("Starting"):
            started[component] = when
        elif component in started:
            times.append({"component": component, "seconds": (when - started.pop(component)).total_seconds()})
    return times


def train_from_scratch(project: Path, work: Path, name: str) -> Dict[str, Any]:
    """Trains the project's assistant (NLU and dialogue) from scratch: forced, fresh cache."""
    log = work / f"train-{name}.log"
    out = work / f"models-{name}"
    env = bench_env(RASA_CACHE_DIRECTORY=str(work / f"cache-train-{name}"))
    seconds, code = run_logged(
        [RASA, "train", "--force", "--out", str(out), "--fixed-model-name", f"{name}-scratch"],
        desc=f"training {name} from scratch",
        log=log,
        cwd=project,
        env=env,
    )
    text = log.read_text(errors="replace") if log.exists() else ""
    components = component_times(text)
    return {
        "seconds": round(seconds, 1),
        "exit_code": code,
        "command": f"rasa train --force (RASA_CACHE_DIRECTORY empty), in {project.name if name != 'coach' else '.'}",
        "components": sorted(components, key=lambda c: -c["seconds"]),
        "model_mb": _size_mb(out),
    }


def spacy_build(work: Path) -> Dict[str, Any]:
    """The coach's spaCy pipeline, built into a temp dir as `make setup` builds var/spacy."""
    seconds, code = run_logged(
        [PYTHON, "-m", "bot.plugins.nlu.spacy_model", str(work / "spacy" / "rapport_en")],
        desc="spaCy pipeline build",
        log=work / "spacy.log",
    )
    return {"seconds": round(seconds, 1), "exit_code": code}


def _size_mb(folder: Path) -> Optional[float]:
    files = list(folder.glob("*.tar.gz"))
    return round(files[0].stat().st_size / 1024 / 1024, 1) if files else None
