"""The coach's three servers for browser tests, and a headless Chromium.

WebCoachServers is deploy.launchers.CoachServers plus the web app, with the
Rasa server started as the Procfile starts it (`--cors` with the allowed
origins). Everything runs on free ports with its own SQLite files.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, List, Optional, Tuple

from bot.web.origins import allowed_origins
from deploy.launchers import MODEL, PYTHON, ROOT, CoachServers, free_port, web_command

REVIEW_ADMIN = ("admin", "admin password 123")
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Flags for a headless Chromium in a container: no sandbox (root, no user
# namespaces), nothing that phones home (the network only reaches registries).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class WebCoachServers(CoachServers):
    """The action server, the Rasa server and the web app, as `make run` starts them."""

    def __init__(self, workdir: Path, **options: Any):
        super().__init__(workdir, **options)  # options of CoachServers (remote_actions), for subclasses that mix in
        self.web_port = free_port()
        # Another site that embeds the coach, allowed through WEB_ORIGINS.
        self.partner_port = free_port()
        self.env["WEB_PORT"] = str(self.web_port)
        self.env["WEB_ORIGINS"] = f"http://localhost:{self.partner_port}"
        self.env.pop("RASA_SOCKET_URL", None)
        # The review dashboard: its own database here, and a first admin.
        self.review_db = workdir / "review.db"
        self.env["REVIEW_DB_URL"] = f"sqlite:///{self.review_db}"
        self.env["REVIEW_SECRET_KEY"] = "test-secret-" + "x" * 40
        self.env["REVIEW_ADMIN_USER"] = REVIEW_ADMIN[0]
        self.env["REVIEW_ADMIN_PASSWORD"] = REVIEW_ADMIN[1]
        self.api_token = secrets.token_hex(16)
        self.web = None

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def origins(self) -> List[str]:
        return allowed_origins(self.env)

    def start_rasa(self) -> None:
        # As CoachServers.start_rasa, plus --cors as the Procfile passes it, and
        # the HTTP API (tests only, behind a token) to push a message into a widget's session.
        if not MODEL.exists():
            raise RuntimeError(f"{MODEL} is missing: `make test` trains it before the tests run")
        self.rasa = self._spawn(
            "rasa",
            self.rasa_command("--cors", *self.origins(), "--enable-api", "--auth-token", self.api_token),
            self.rasa_env(),
        )
        self._wait(f"http://127.0.0.1:{self.rasa_port}/", self.rasa, "Rasa server")

    def start_web(self) -> None:
        self.web = self._spawn("web", web_command())
        self._wait(f"{self.web_url}/health", self.web, "web app", timeout=60)

    def stop(self) -> None:
        from deploy.launchers import stop_process

        stop_process(self.web)
        super().stop()


def launch_chromium(playwright: Any):
    """Debian's Chromium, headless. Missing is a failure, not a skip: .ci/run installs it."""
    if not CHROMIUM.exists():
        raise AssertionError(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`, "
            "as .ci/run does) to run the browser tests"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


class SitePage:
    """Another web site: one HTML page on localhost:port, e.g. with the embed snippet."""

    def __init__(self, port: int, html: str):
        body = html.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.url = f"http://localhost:{port}/"
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def users_command(servers: Any, *args: str, password: Optional[str] = None) -> None:
    """`python -m bot users ...` as an admin runs it, with the servers' settings
    (`password` is the new user's, read from REVIEW_PASSWORD as the README says)."""
    env = {**servers.env, **({"REVIEW_PASSWORD": password} if password is not None else {})}
    done = subprocess.run(
        [PYTHON, "-m", "bot", "users", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def add_user(servers: Any, name: str, password: str, *args: str) -> None:
    """A dashboard user, added with the command line (--role, --cohort, --slack-user in args)."""
    users_command(servers, "add", name, *args, password=password)


def send_sign_in_form(page: Any, user: Tuple[str, str]) -> None:
    """Fills in and sends the dashboard's sign-in form that the page shows, as a coordinator does."""
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button:has-text('Sign in')")


class HeldConnection:
    """A page's socket.io requests held back until release(): the widget still connecting,
    as on a slow network or with a busy server."""

    def __init__(self, page: Any):
        self.page, self.held, self.holding = page, [], True
        page.route("**/socket.io/**", self._hold)

    def _hold(self, route: Any) -> None:
        if self.holding:
            self.held.append(route)
        else:
            route.continue_()

    def wait_until_tried(self) -> None:
        for _ in range(1200):
            if self.held:
                return
            self.page.wait_for_timeout(50)
        raise AssertionError("the widget never tried to connect")

    def release(self) -> None:
        self.holding = False
        for route in self.held:
            route.continue_()
