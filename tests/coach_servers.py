"""Starts the real action server and Rasa server for end-to-end tests.

Each run gets its own free ports and its own SQLite files, so tests never touch
var/ and can run beside a `make run`.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "rapport.tar.gz"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class CoachServers:
    """The action server and the Rasa server, as `make run` starts them."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.rasa_port = free_port()
        self.actions_port = free_port()
        self.canvas_db = workdir / "canvas.db"
        self.tracker_db = workdir / "tracker.db"
        self.env = {
            **os.environ,
            "RASA_PORT": str(self.rasa_port),
            "ACTIONS_PORT": str(self.actions_port),
            "CANVAS_DB_URL": f"sqlite:///{self.canvas_db}",
            "TRACKER_DB": str(self.tracker_db),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            # The Rasa server's key to the action server, made afresh for each run.
            "ACTIONS_TOKEN": secrets.token_hex(24),
            # The key that signs the widget's sessions, likewise (never var/widget_secret).
            "WIDGET_SECRET": secrets.token_urlsafe(32),
            "ACTIONS_HOST": "127.0.0.1",
            "ACTIONS_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
        }
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None

    def _spawn(self, name: str, args: List[str], env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        return subprocess.Popen(args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_actions(self) -> None:
        self.actions = self._spawn("actions", self.actions_command())
        self._wait(f"http://127.0.0.1:{self.actions_port}/health", self.actions, "action server")

    def actions_command(self) -> List[str]:
        """The action server as the Procfile starts it."""
        return [str(VENV_BIN / "python"), "-m", "bot.plugins.action_server", "--port", str(self.actions_port)]

    def start_rasa(self) -> None:
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: `make test` trains it before the tests run")
        self.rasa = self._spawn("rasa", self.rasa_command(), self.rasa_env())
        self._wait(f"http://127.0.0.1:{self.rasa_port}/", self.rasa, "Rasa server")

    def rasa_env(self) -> Dict[str, str]:
        """The Rasa server's environment (a subclass adds settings, e.g. Slack's)."""
        return self.env

    def rasa_command(self, *extra: str) -> List[str]:
        """The Rasa server as the Procfile starts it."""
        return [
            str(VENV_BIN / "python"),
            "-m",
            "bot.plugins.rasa_server",
            "run",
            "--model",
            str(MODEL),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
            "--port",
            str(self.rasa_port),
            *extra,
        ]

    def _wait(self, url: str, process: subprocess.Popen, what: str, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the {what} exited with {process.returncode}; see {self.workdir}")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except (urllib.error.URLError, ConnectionError, socket.timeout):
                time.sleep(0.5)
        raise RuntimeError(f"the {what} did not come up within {timeout:.0f} s; see {self.workdir}")

    def stop_rasa(self) -> None:
        _stop(self.rasa)
        self.rasa = None

    def stop(self) -> None:
        _stop(self.rasa)
        _stop(self.actions)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def say(self, sender: str, message: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        """One turn over the REST channel: the coach's replies."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)


@contextmanager
def running_coach(workdir: Path, servers: Optional[CoachServers] = None) -> Iterator[CoachServers]:
    """Both servers up for the block, stopped after it (a module's fixture); `servers`
    for a subclass (tests/test_slack_app.py)."""
    servers = servers or CoachServers(workdir)
    try:
        servers.start_actions()
        servers.start_rasa()
        yield servers
    finally:
        servers.stop()


def _stop(process: Optional[subprocess.Popen]) -> None:
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def texts(replies: List[Dict[str, Any]]) -> str:
    """All reply texts of one turn, joined, for assertions."""
    return "\n".join(r.get("text") or "" for r in replies)


def buttons(replies: List[Dict[str, Any]]) -> List[str]:
    return [b["title"] for r in replies for b in r.get("buttons") or []]
