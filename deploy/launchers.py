"""How each of the coach's servers is started: one command line for each.

The Procfile (`make run`), `make shell`, the tests, the benchmark and the scaled
set-up (deploy/services.py) all start the servers from here:

    python -m deploy.launchers actions|rasa|web|shell

runs one of them with the settings from the environment (RASA_PORT, ACTIONS_PORT,
WEB_PORT, WEB_ORIGINS, SHELL_PORT, ...), as the Procfile and the Makefile do.

CoachServers starts the action server and the Rasa server for a test or a
benchmark: each run gets its own free ports and its own SQLite files, so it never
touches var/ and can run beside a `make run`.
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
from typing import Any, Dict, Iterator, List, Optional, Set

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "rapport.tar.gz"
PYTHON = str(Path(sys.executable))  # the venv's python, which every server runs on
VENV_BIN = Path(sys.executable).parent


_HANDED_OUT: Set[int] = set()


def free_port() -> int:
    """A loopback port free now, for a server started next. It is free only until
    someone binds it, so this process never hands the same one out twice; and
    where several processes pick ports at once (the test workers of `make test`,
    each with FREE_PORT_LANE=k/n from tests/conftest.py, which its servers and
    their children inherit), each takes only the ports p with p // 2 % n == k
    (by pairs: Linux hands out odd ports to bind(0), even ones to connect())."""
    lane, lanes = (int(part) for part in os.environ.get("FREE_PORT_LANE", "0/1").split("/"))
    for _ in range(100_000):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port // 2 % lanes == lane and port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError(f"no free port in lane {lane} of {lanes} (FREE_PORT_LANE)")


# ---------------------------------------------------------------- the command lines


def actions_command(port: int) -> List[str]:
    """The action server (it takes ACTIONS_HOST and ACTIONS_TOKEN from the environment)."""
    return [PYTHON, "-m", "bot.plugins.action_server", "--port", str(port)]


def rasa_command(port: int, *extra: str, endpoints: str = "endpoints.yml") -> List[str]:
    """The Rasa server: Rasa's command line with the project's patches (bot/plugins/rasa_server.py)."""
    return [
        PYTHON,
        "-m",
        "bot.plugins.rasa_server",
        "run",
        "--model",
        str(MODEL),
        "--endpoints",
        endpoints,
        "--credentials",
        "credentials.yml",
        "--port",
        str(port),
        *extra,
    ]


def shell_command(port: int) -> List[str]:
    """Rasa's terminal chat on the same patched server, on its own loopback port,
    with the same stores (and the custom actions inside it unless ACTIONS_URL is set)."""
    return [
        PYTHON,
        "-m",
        "bot.plugins.rasa_server",
        "shell",
        "--model",
        str(MODEL),
        "--endpoints",
        "endpoints.yml",
        "--interface",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def web_command() -> List[str]:
    """The web app: the widget page and the review dashboard (WEB_PORT)."""
    return [PYTHON, "-m", "bot.web"]


def command_from_environment(name: str, environ: Optional[Dict[str, str]] = None) -> List[str]:
    """What `python -m deploy.launchers NAME` runs: the Procfile's and `make shell`'s servers."""
    from bot.web.origins import allowed_origins

    environ = dict(os.environ if environ is None else environ)
    if name == "actions":
        return actions_command(int(environ.get("ACTIONS_PORT") or 5055))
    if name == "rasa":
        # The pages allowed to open the widget, the same list the web app reads.
        return rasa_command(int(environ.get("RASA_PORT") or 5005), "--cors", *allowed_origins(environ))
    if name == "shell":
        return shell_command(int(environ.get("SHELL_PORT") or 5006))
    if name == "web":
        return web_command()
    raise SystemExit(f"unknown server {name!r}: use actions, rasa, web or shell")


# ---------------------------------------------------------------- for tests and benchmarks


class CoachServers:
    """The Rasa server as `make run` starts it, its custom actions inside it; with
    `remote_actions`, a separate action server too, called over HTTP with the token
    (ACTIONS_URL), as the scaled set-up runs them."""

    def __init__(self, workdir: Path, remote_actions: bool = False):
        self.workdir = workdir
        self.remote_actions = remote_actions
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
            "ACTIONS_URL": f"http://127.0.0.1:{self.actions_port}/webhook" if remote_actions else "",
        }
        self.actions: Optional[subprocess.Popen] = None
        self.rasa: Optional[subprocess.Popen] = None

    def _spawn(self, name: str, args: List[str], env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")
        return subprocess.Popen(args, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT)

    def start_actions(self) -> None:
        """Starts the action server when the actions are remote; else they run in the Rasa server."""
        if not self.remote_actions:
            return
        self.actions = self._spawn("actions", self.actions_command())
        self._wait(f"http://127.0.0.1:{self.actions_port}/health", self.actions, "action server")

    def actions_command(self) -> List[str]:
        return actions_command(self.actions_port)

    def start_rasa(self) -> None:
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: `make test` trains it before the tests run")
        self.rasa = self._spawn("rasa", self.rasa_command(), self.rasa_env())
        self._wait(f"http://127.0.0.1:{self.rasa_port}/", self.rasa, "Rasa server")

    def rasa_env(self) -> Dict[str, str]:
        """The Rasa server's environment (a subclass adds settings, e.g. Slack's)."""
        return self.env

    def rasa_command(self, *extra: str) -> List[str]:
        return rasa_command(self.rasa_port, *extra)

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
        stop_process(self.rasa)
        self.rasa = None

    def stop(self) -> None:
        stop_process(self.rasa)
        stop_process(self.actions)

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


def stop_process(process: Optional[subprocess.Popen]) -> None:
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: Optional[List[str]] = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m deploy.launchers actions|rasa|web|shell")
    command = command_from_environment(args[0])
    os.chdir(ROOT)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
