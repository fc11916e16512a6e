"""The servers under test: the coach (deploy/launchers.py, started as `make run`
starts it) and the stock bot `rasa init` makes, each timed from spawn to first answer."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from bench.common import LOCALHOST, RASA, bench_env, free_port, log_errors, memory_mb, rest_turn, url_up
from deploy.launchers import CoachServers

COLD_START_TIMEOUT = 300.0  # seconds


def _first_answer(port: int, alive, started: float, timeout: float = COLD_START_TIMEOUT) -> float:
    """Sends "hi" (as a new founder each time) until a non-empty answer comes back;
    the seconds from `started`."""
    deadline = started + timeout
    attempt = 0
    while time.perf_counter() < deadline:
        if not alive():
            raise RuntimeError("a server exited while starting")
        attempt += 1
        try:
            if rest_turn(port, f"cold-start-{attempt}", "hi", timeout=30):
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no answer within {timeout:.0f} s")


class BenchCoach(CoachServers):
    """The coach's action server and Rasa server, started at once as honcho does."""

    label = "coach"
    tracker = "SQL (SQLite)"

    def __init__(self, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(workdir)
        # The benchmark's settings, under this coach's own ports and databases: `make bench`
        # exports the default RASA_PORT and ACTIONS_PORT, which must not win here.
        self.env = {**bench_env(), **self.env}

    @property
    def port(self) -> int:
        return self.rasa_port

    @property
    def tracker_db_path(self) -> Optional[Path]:
        return self.tracker_db

    def cold_start(self) -> Dict[str, float]:
        """Spawns both servers together; seconds to each being up and to the first answer."""
        started = time.perf_counter()
        ready: Dict[str, float] = {}
        failures: List[BaseException] = []

        def start(name, method):
            try:
                method()
                ready[name] = time.perf_counter() - started
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)

        threads = [
            threading.Thread(target=start, args=("actions_up_s", self.start_actions)),
            threading.Thread(target=start, args=("rasa_up_s", self.start_rasa)),
        ]
        for thread in threads:
            thread.start()
        try:
            first = _first_answer(self.rasa_port, lambda: not failures, started)
        except RuntimeError as error:
            for thread in threads:
                thread.join()
            raise RuntimeError(f"the coach did not start: {failures[0] if failures else error}") from None
        for thread in threads:
            thread.join()
        # CoachServers polls every 0.5 s, so the up times are up to 0.5 s late; the first answer is not.
        return {"first_answer_s": round(first, 2), **{k: round(v, 2) for k, v in ready.items()}}

    def memory(self) -> Dict[str, Dict[str, Optional[float]]]:
        return {
            "rasa": memory_mb(self.rasa.pid if self.rasa else None),
            "actions": memory_mb(self.actions.pid if self.actions else None),
        }

    def errors_in_logs(self) -> Dict[str, Dict[str, int]]:
        return {name: log_errors(self.log(name)) for name in ("rasa", "actions")}


class StockServer:
    """The stock bot's Rasa server (it has no custom actions, so no action server)."""

    label = "stock"

    def __init__(self, botdir: Path, model: Path, workdir: Path, sql: bool):
        self.botdir, self.model, self.workdir, self.sql = botdir, model, workdir, sql
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.rasa: Optional[subprocess.Popen] = None
        self.tracker_db_path: Optional[Path] = None
        self.endpoints = botdir / "endpoints.yml"  # as `rasa init` writes it: no tracker store, so in memory
        self.tracker = "in memory (rasa init's default)"
        if sql:
            self.tracker_db_path = workdir / "tracker.db"
            self.endpoints = workdir / "endpoints-sql.yml"
            self.endpoints.write_text(  # the coach's tracker store (endpoints.yml)
                f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{self.tracker_db_path}"\n'
            )
            self.tracker = "SQL (SQLite), as the coach's"
            self.label = "stock (SQLite)"

    def cold_start(self) -> Dict[str, float]:
        started = time.perf_counter()
        log = open(self.workdir / "rasa.log", "ab")
        self.rasa = subprocess.Popen(
            [
                RASA,
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                str(self.endpoints),
                "--credentials",
                str(self.botdir / "credentials.yml"),
                "--port",
                str(self.port),
                "--interface",
                LOCALHOST,
            ],
            cwd=self.botdir,
            env=bench_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        while not url_up(f"http://{LOCALHOST}:{self.port}/"):
            if self.rasa.poll() is not None:
                raise RuntimeError(f"the stock bot exited with {self.rasa.returncode}; see {self.workdir}")
            if time.perf_counter() - started > COLD_START_TIMEOUT:
                raise RuntimeError("the stock bot did not come up")
            time.sleep(0.1)
        up = time.perf_counter() - started
        first = _first_answer(self.port, lambda: self.rasa.poll() is None, started)
        return {"first_answer_s": round(first, 2), "rasa_up_s": round(up, 2)}

    def memory(self) -> Dict[str, Dict[str, Optional[float]]]:
        return {"rasa": memory_mb(self.rasa.pid if self.rasa else None)}

    def log(self, name: str = "rasa") -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def errors_in_logs(self) -> Dict[str, Dict[str, int]]:
        return {"rasa": log_errors(self.log())}

    def stop(self) -> None:
        if self.rasa and self.rasa.poll() is None:
            self.rasa.terminate()
            try:
                self.rasa.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.rasa.kill()
                self.rasa.wait()
        self.rasa = None


def describe(server: Any) -> Dict[str, Any]:
    return {"label": server.label, "tracker_store": server.tracker}
