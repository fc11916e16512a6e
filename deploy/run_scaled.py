"""`make run-scaled`: the coach as Rasa's production set-up, on this machine.

PostgreSQL (trackers, canvas store, review dashboard), Redis (the lock store),
two action servers and two Rasa servers, nginx in front of both, and the web
app; all on 127.0.0.1. It installs the Debian packages that are missing (as
root; otherwise it says what to install), keeps PostgreSQL's data in
var/scaled/pgdata, says what it starts, and stops everything on Ctrl-C or when
any process exits. docs/deploy.md describes each part.

    python -m deploy.run_scaled            # the ports below, or from the environment
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from deploy.services import ROOT, ScaledSetup, ServiceError, missing_packages


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


def main() -> int:
    install_missing()
    workdir = ROOT / "var" / "scaled"
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
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        setup.start(say=lambda line: print("starting", line, flush=True))
    except ServiceError as error:
        print(f"Could not start the scaled set-up: {error}", file=sys.stderr)
        setup.stop()
        return 1
    print(
        f"""
Rapport runs scaled out (logs in {workdir}):
  widget:   http://localhost:{ports["web"]}/
  REST:     curl -s localhost:{ports["nginx"]}/webhooks/rest/webhook \\
              -d '{{"sender": "me", "message": "hi", "message_id": "m1"}}'
  database: {setup.postgres.url}
Ctrl-C stops everything.""",
        flush=True,
    )
    try:
        while not stopping:
            exited = [p.name for p in setup.processes() if not p.running]
            if exited:
                print(f"{', '.join(exited)} exited; stopping (see {workdir}/*.log)", file=sys.stderr)
                return 1
            time.sleep(1)
        return 0
    finally:
        print("stopping...", flush=True)
        setup.stop()


if __name__ == "__main__":
    sys.exit(main())
