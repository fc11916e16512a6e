"""`make run-scaled`: the coach as Rasa's production set-up, on this machine.

PostgreSQL (trackers, canvas store, review dashboard), Redis (the lock store),
two action servers and two Rasa servers, nginx in front of both, and the web
app; all on 127.0.0.1. It installs the Debian packages that are missing (as
root; otherwise it says what to install), keeps PostgreSQL's data in
var/scaled/pgdata (SCALED_DIR), and says what it starts. docs/deploy.md
describes each part.

A process that dies is restarted; the others go on serving. supervisord (the
`supervisor` package from PyPI) runs every process: it restarts one that exits,
waits 1, 2, 3, 4 s between starts that fail (a start fails when the process
exits within START_SECONDS of starting), and gives up on a process after
START_RETRIES + 1 such exits in a row: a crash loop. Then this prints what
happened and where the log is, and the rest keeps serving. Ctrl-C (or SIGTERM)
stops everything: supervisord stops the processes in the reverse order of their
start, each with its own clean signal.

This script starts the processes through supervisord's XML-RPC interface, one
after the other, each only once the one before it serves (PostgreSQL before the
migrations, the action servers before the Rasa servers), which supervisord's
priorities alone do not do. `supervisorctl -c var/scaled/supervisord.conf status`
shows them while it runs.

    python -m deploy.run_scaled            # the ports below, or from the environment
"""

from __future__ import annotations

import http.client
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import xmlrpc.client
from pathlib import Path
from typing import Dict, List

from supervisor.xmlrpc import SupervisorTransport

from deploy.services import ROOT, Process, ScaledSetup, ServiceError, migrate, missing_packages, wait_until

START_SECONDS = 60  # a process that exits sooner after its start has failed to start
START_RETRIES = 4  # so the fifth exit in a row, each within a minute of its start, is a crash loop
# Each process's order (supervisord stops them in reverse) and the signal that stops it cleanly.
RPC_ERRORS = (OSError, http.client.HTTPException, xmlrpc.client.Error)
PRIORITY = {"postgres": 10, "redis": 20, "actions": 30, "nginx": 40, "rasa": 50, "web": 60}


def port(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def install_missing() -> None:
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(
            f"The scaled set-up needs these Debian packages: {' '.join(missing)}\n"
            f"Install them with: sudo apt-get install -y {' '.join(missing)}"
        )
    print(f"Installing {' '.join(missing)} with apt-get (once)...", flush=True)
    subprocess.run(["apt-get", "update", "-q"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", *missing],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def _conf_value(text: str) -> str:
    return text.replace("%", "%%")  # supervisord expands %(name)s in its config


def supervisor_conf(setup: ScaledSetup, workdir: Path) -> str:
    """supervisord's config: one [program] per process, none started by itself. It holds no
    secret: those reach the processes through supervisord's own environment (setup.env)."""
    socket_path = workdir / "supervisor.sock"
    as_root = "user=root\n" if os.geteuid() == 0 else ""  # said, so supervisord does not warn about it
    sections = [
        f"[unix_http_server]\nfile={socket_path}\nchmod=0700\n",
        f"[supervisorctl]\nserverurl=unix://{socket_path}\n",
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisord]\nnodaemon=true\n{as_root}logfile={workdir / 'supervisord.log'}\n"
        f"pidfile={workdir / 'supervisord.pid'}\n",
    ]
    for process in setup.processes():
        args, user, cwd = process.command()
        # Only what differs from the shared environment (ports, URLs): no secrets here.
        own_env = {k: v for k, v in (process.env or {}).items() if setup.env.get(k) != v}
        lines = [
            f"[program:{process.name}]",
            f"command={_conf_value(shlex.join(args))}",
            f"directory={cwd}",
            "autostart=false",
            "autorestart=true",
            f"startsecs={START_SECONDS}",
            f"startretries={START_RETRIES}",
            f"stopsignal={signal.Signals(process.stop_signal).name[3:]}",
            "stopwaitsecs=30",
            "stopasgroup=true",
            "killasgroup=true",
            f"priority={PRIORITY[process.name.rstrip('0123456789')]}",
            f"stdout_logfile={process.log}",
            "stdout_logfile_maxbytes=20MB",
            "redirect_stderr=true",
        ]
        if user:
            lines.append(f"user={user}")
        if own_env:
            pairs = ",".join(f'{key}="{_conf_value(value)}"' for key, value in sorted(own_env.items()))
            lines.append(f"environment={pairs}")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


class Supervisor:
    """supervisord, a child of this script, and its XML-RPC interface."""

    def __init__(self, setup: ScaledSetup, workdir: Path):
        self.setup = setup
        self.conf = workdir / "supervisord.conf"
        self.socket = workdir / "supervisor.sock"
        if self._answers():
            raise ServiceError(f"the scaled set-up already runs in {workdir} (supervisord answers at {self.socket})")
        descriptor = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(supervisor_conf(setup, workdir))
        self.popen = subprocess.Popen(
            [str(Path(sys.executable).parent / "supervisord"), "-c", str(self.conf)], env=setup.env, cwd=ROOT
        )
        try:
            wait_until(self._answers, "supervisord", 30, self.popen, workdir / "supervisord.log")
        except BaseException:
            self.shut_down()
            raise

    @property
    def rpc(self):
        # A new connection for each call: one that met an error cannot be used again.
        return xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, f"unix://{self.socket}")
        ).supervisor

    def _answers(self) -> bool:
        try:
            return self.rpc.getState()["statename"] == "RUNNING"
        except RPC_ERRORS:
            return False

    def start(self, process: Process, timeout: float = 240) -> None:
        self.rpc.startProcess(process.name, False)

        def up() -> bool:
            if self.rpc.getProcessInfo(process.name)["statename"] == "FATAL":
                raise ServiceError(f"{process.name} could not start; see {process.log}")
            return process.ready()

        wait_until(up, process.name, timeout, self.popen, process.log)

    def states(self) -> Dict[str, dict]:
        return {info["name"]: info for info in self.rpc.getAllProcessInfo()}

    def shut_down(self, timeout: float = 120) -> None:
        """Stops every process (in reverse order) and supervisord itself."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


def watch(supervisor: Supervisor, setup: ScaledSetup, workdir: Path, stopping: List[bool]) -> None:
    """Says when a process died and was restarted, and when supervisord gave up on one."""
    pids = {name: info["pid"] for name, info in supervisor.states().items()}
    given_up = set()
    while not stopping and supervisor.popen.poll() is None:
        time.sleep(1)
        try:
            states = supervisor.states()
        except RPC_ERRORS:
            continue  # supervisord is shutting down
        for name, info in states.items():
            if info["pid"] and info["pid"] != pids.get(name):
                if pids.get(name):
                    print(f"{name} was restarted (pid {info['pid']}); the others kept serving", flush=True)
                pids[name] = info["pid"]
            if info["statename"] == "FATAL" and name not in given_up:
                given_up.add(name)
                print(
                    f"\n{name} exited {START_RETRIES + 1} times in a row, each within {START_SECONDS} s of "
                    f"its start: a crash loop, so it is no longer restarted. The rest keeps serving "
                    f"where it can. Its log: {workdir / (name + '.log')}. Once fixed, start it again with:\n"
                    f"  {Path(sys.executable).parent / 'supervisorctl'} -c {supervisor.conf} start {name}\n",
                    file=sys.stderr,
                    flush=True,
                )
            elif info["statename"] != "FATAL":
                given_up.discard(name)


def main() -> int:
    install_missing()
    workdir = Path(os.environ.get("SCALED_DIR") or ROOT / "var" / "scaled").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    ports = {
        "nginx": port("RASA_PORT", 5005),
        "actions": port("ACTIONS_PORT", 5055),
        "web": port("WEB_PORT", 8000),
        "rasa0": port("RASA_PORT_1", 5011),
        "rasa1": port("RASA_PORT_2", 5012),
        "actions0": port("ACTIONS_PORT_1", 5061),
        "actions1": port("ACTIONS_PORT_2", 5062),
        "postgres": port("POSTGRES_PORT", 5433),
        "redis": port("REDIS_PORT", 6380),
    }
    setup = ScaledSetup(workdir, web=True, ports=ports, pg_data=workdir / "pgdata")
    stopping: List[bool] = []

    def stop(*_: object) -> None:
        stopping.append(True)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    supervisor = None
    try:
        for process in setup.processes():
            process.prepare()
        supervisor = Supervisor(setup, workdir)
        print(f"starting PostgreSQL on 127.0.0.1:{setup.postgres.port} (data in {setup.postgres.data})", flush=True)
        supervisor.start(setup.postgres, timeout=60)
        setup.postgres.create_database()
        print(f"starting Redis on 127.0.0.1:{setup.redis.port}", flush=True)
        supervisor.start(setup.redis, timeout=30)
        print("canvas store and review dashboard migrations on PostgreSQL (Alembic, to head)", flush=True)
        migrate(setup.postgres.url)
        for process in setup.actions:
            print(f"starting {process.name}: {process.health}", flush=True)
            supervisor.start(process)
        print(f"starting nginx on {setup.url} (Rasa servers), 127.0.0.1:{setup.nginx.actions_port} (actions)")
        supervisor.start(setup.nginx, timeout=30)
        # One at a time: both at once on 2 cores take longer than twice one.
        for process in setup.rasa:
            print(f"starting {process.name}: {process.health} (about 20 s)", flush=True)
            supervisor.start(process)
        print(f"starting the web app: http://127.0.0.1:{setup.web_port}/", flush=True)
        supervisor.start(setup.web)
    except ServiceError as error:
        print(f"Could not start the scaled set-up: {error}", file=sys.stderr)
        if supervisor:
            supervisor.shut_down()
        return 1
    except BaseException:
        if supervisor:
            supervisor.shut_down()
        raise
    if stopping:
        supervisor.shut_down()
        return 0
    print(
        f"""
Rapport runs scaled out (logs in {workdir}):
  widget:   http://localhost:{ports["web"]}/
  REST:     curl -s localhost:{ports["nginx"]}/webhooks/rest/webhook \\
              -d '{{"sender": "me", "message": "hi", "message_id": "m1"}}'
  database: {setup.postgres.url_for_display} (password in {workdir / "postgres_password"})
  status:   {Path(sys.executable).parent / "supervisorctl"} -c {supervisor.conf} status
A process that dies is restarted. Ctrl-C stops everything.""",
        flush=True,
    )
    try:
        watch(supervisor, setup, workdir, stopping)
    finally:
        print("stopping...", flush=True)
        supervisor.shut_down()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
