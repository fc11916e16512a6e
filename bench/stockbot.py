"""The stock Rasa bot: what `rasa init` makes (the moodbot), created in a temp dir
for each run and never committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

from bench.common import RASA, bench_env, run_logged
from bench.training import component_times


def create(work: Path) -> Dict[str, Any]:
    """`rasa init --no-prompt` in work/stockbot (it trains its model too); the model's path."""
    botdir = work / "stockbot"
    botdir.mkdir(parents=True, exist_ok=True)
    log = work / "rasa-init.log"
    env = bench_env(RASA_CACHE_DIRECTORY=str(work / "cache-init"))
    seconds, code = run_logged(
        [RASA, "init", "--no-prompt", "--init-dir", str(botdir)],
        desc="stock bot: rasa init",
        log=log,
        cwd=work,
        env=env,
    )
    models = sorted((botdir / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if code != 0 or not models:
        raise RuntimeError(f"rasa init failed (exit {code}); see {log}")
    return {
        "botdir": botdir,
        "model": models[-1],
        "init": {
            "seconds": round(seconds, 1),
            "exit_code": code,
            "components": component_times(log.read_text(errors="replace")),
        },
    }
