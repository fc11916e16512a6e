"""The scaled set-up's processes, each one a child this harness can start, kill
(even with SIGKILL) and start again: PostgreSQL, Redis, nginx, the action
servers, the Rasa servers and the web app.

Each process says how it runs (its command, user and directory): the fault tests
and the benchmark run it as a child of this harness, and `make run-scaled` hands
the same command to supervisord, which restarts it when it dies
(deploy/run_scaled.py). Everything listens on 127.0.0.1 only. PostgreSQL and Redis run private instances in their own data
directory, so nothing touches a system-wide cluster.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from string import Template
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import quote

from deploy.launchers import MODEL, ROOT, actions_command, free_port, rasa_command, web_command

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DEBIAN_PACKAGES = {"postgres": "postgresql", "redis-server": "redis-server", "nginx": "nginx", "pkill": "procps"}


class ServiceError(RuntimeError):
    pass


def wait_until(
    ready: Callable[[], bool],
    what: str,
    timeout: float,
    process: Optional[subprocess.Popen] = None,
    log: Optional[Path] = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceError(f"{what} exited with {process.returncode}; see {log}")
        if ready():
            return
        time.sleep(0.2)
    raise ServiceError(f"{what} did not come up within {timeout:.0f} s; see {log}")


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
        return False


def missing_packages() -> List[str]:
    """The Debian packages of the scaled set-up that are not installed."""
    found = {
        "postgres": (PG_BIN / "postgres").exists(),
        "redis-server": shutil.which("redis-server"),
        "nginx": shutil.which("nginx") or Path("/usr/sbin/nginx").exists(),
        "pkill": shutil.which("pkill"),  # clears a killed nginx master's workers (Nginx.command)
    }
    return [DEBIAN_PACKAGES[name] for name, there in found.items() if not there]


class Process:
    """One child process with its own log file.

    `prepare()` makes what it needs on disk, `command()` says how it runs (the
    arguments, the user, the directory), `ready()` whether it serves. This
    harness runs the command itself (tests, benchmarks); `make run-scaled` hands
    the same command to supervisord (deploy/run_scaled.py), which restarts it."""

    stop_signal = signal.SIGTERM

    def __init__(self, name: str, workdir: Path, env: Optional[Dict[str, str]] = None):
        self.name = name
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self.env = env
        self.popen: Optional[subprocess.Popen] = None

    def prepare(self) -> None:
        """Whatever must exist before the command runs (config files, a data directory)."""

    def command(self) -> Tuple[List[str], Optional[str], Path]:
        raise NotImplementedError

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 60) -> None:
        self.prepare()
        args, user, cwd = self.command()
        self.spawn(args, user=user, cwd=cwd)
        wait_until(self.ready, self.name, timeout, self.popen, self.log)

    def spawn(self, args: List[str], user: Optional[str] = None, cwd: Path = ROOT) -> None:
        with open(self.log, "ab") as log:
            self.popen = subprocess.Popen(
                args, cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, user=user, start_new_session=True
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Sends sig to the process (SIGKILL: as a crash would, nothing gets to clean up)."""
        if self.running:
            self.popen.send_signal(sig)
            self.popen.wait(timeout=30)

    def stop(self, sig: Optional[int] = None, timeout: float = 20) -> None:
        if not self.running:
            return
        self.popen.send_signal(sig or self.stop_signal)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def new_secret(path: Path, variable: str) -> str:
    """A secret from the environment, else one made once into path (mode 600), like var/actions_token."""
    given = (os.environ.get(variable) or "").strip()
    if given:
        return given
    if not (path.exists() and path.read_text().strip()):
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of a password (RFC 7677, as libpq makes it).
    CREATE ROLE gets this instead of the password, so the password itself never
    reaches PostgreSQL, its logs, or psql's command line."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


class Postgres(Process):
    """A private PostgreSQL 15 cluster in workdir/pgdata, on loopback.

    Its superuser is the operating-system user that runs it and logs in only
    through the Unix socket in the data directory (peer). The coach logs in over
    TCP as `rapport`, a role that is no superuser, owns only its database, and has
    a password checked by SCRAM-SHA-256: POSTGRES_PASSWORD, else one made once
    into workdir/postgres_password (mode 600).

    PostgreSQL refuses to run as root, so as root the cluster belongs to the
    `postgres` user that Debian's package creates."""

    stop_signal = signal.SIGINT  # PostgreSQL's fast shutdown: ends the sessions, then stops cleanly
    ROLE = "rapport"

    def __init__(
        self,
        workdir: Path,
        port: Optional[int] = None,
        database: str = "rapport",
        data: Optional[Path] = None,
        password: Optional[str] = None,
    ):
        super().__init__("postgres", workdir)
        self.port = port or free_port()
        self.database = database
        self.user = "postgres" if os.geteuid() == 0 else None
        self.superuser = self.user or pwd.getpwuid(os.geteuid()).pw_name
        self.password = password or new_secret(workdir / "postgres_password", "POSTGRES_PASSWORD")
        # As root the data directory must be one the postgres user can reach (pytest's
        # own temporary directories are private to root): a fresh one under /tmp.
        self.temporary = data is None and self.user is not None
        self.data = data or (
            Path(tempfile.mkdtemp(prefix="rapport-pg-")) / "pgdata" if self.temporary else workdir / "pgdata"
        )

    @property
    def url(self) -> str:
        return f"postgresql://{self.ROLE}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/{self.database}"

    @property
    def url_for_display(self) -> str:
        return f"postgresql://{self.ROLE}:***@127.0.0.1:{self.port}/{self.database}"

    def prepare(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            self._init()
        rules = [line.split() for line in (self.data / "pg_hba.conf").read_text().splitlines()]
        if any(rule and not rule[0].startswith("#") and rule[-1] == "trust" for rule in rules):
            raise ServiceError(
                f"{self.data} is a cluster from before passwords (it trusts every local login, and `rapport` is "
                f"its superuser). Remove it (rm -rf {self.data}) and start again: a new one is made with a password."
            )

    def command(self) -> Tuple[List[str], Optional[str], Path]:
        args = [
            str(PG_BIN / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-k",
            str(self.data),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=200",
            "-c",
            "fsync=on",
            "-c",
            "password_encryption=scram-sha-256",
        ]
        return args, self.user, self.data

    def ready(self) -> bool:
        result = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
        )
        return result.returncode == 0

    def start(self, timeout: float = 60) -> None:
        super().start(timeout)
        self.create_database()

    def _init(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        if self.user:
            owner = pwd.getpwnam(self.user)
            for path in {self.data.parent, self.data}:
                os.chown(path, owner.pw_uid, owner.pw_gid)
        result = subprocess.run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                self.superuser,
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            cwd=self.data,
            user=self.user,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise ServiceError(f"initdb failed: {result.stderr or result.stdout}")

    def create_database(self) -> None:
        """The `rapport` role (no superuser, its password's SCRAM verifier) and its database, which
        it owns. Run as the superuser through the Unix socket; idempotent, and it sets the
        verifier again, so a changed POSTGRES_PASSWORD takes effect."""
        role, database = self.ROLE, self.database
        sql = f"""
SELECT 'CREATE ROLE {role}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}')\\gexec
ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '{scram_verifier(self.password)}';
SELECT 'CREATE DATABASE {database} OWNER {role}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec
REVOKE ALL ON DATABASE {database} FROM PUBLIC;
"""
        result = subprocess.run(
            [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.data), "-p", str(self.port)]
            + ["-U", self.superuser, "-d", "postgres", "-f", "-"],
            input=sql,
            cwd=self.data,
            user=self.user,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise ServiceError(f"could not create the {role} role and database: {result.stderr or result.stdout}")

    def remove(self) -> None:
        """Deletes a temporary cluster's data (after stop)."""
        if self.temporary:
            shutil.rmtree(self.data.parent, ignore_errors=True)


class Redis(Process):
    """A private redis-server on loopback, without persistence: it holds only locks (and the
    Slack app's dedupe memory). With a password (the scaled set-up's, REDIS_PASSWORD or one
    made once into workdir/redis_password), it is in a config file of mode 600, never on
    the command line where `ps` would show it."""

    def __init__(self, workdir: Path, port: Optional[int] = None, password: Optional[str] = None):
        super().__init__("redis", workdir)
        self.port = port or free_port()
        self.password = password
        self.conf = workdir / "redis.conf"

    def url(self, db: int = 0) -> str:
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{db}"

    def prepare(self) -> None:
        lines = [
            f"port {self.port}",
            "bind 127.0.0.1",
            'save ""',
            "appendonly no",
            f"dir {self.workdir}",
        ]
        if self.password:
            lines.append(f"requirepass {self.password}")
        descriptor = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("\n".join(lines) + "\n")

    def command(self) -> Tuple[List[str], Optional[str], Path]:
        return ["redis-server", str(self.conf)], None, ROOT

    def ready(self) -> bool:
        return port_open(self.port)


class Nginx(Process):
    """nginx in front of the Rasa servers, from deploy/nginx.conf."""

    def __init__(
        self,
        workdir: Path,
        rasa_ports: List[int],
        actions_ports: List[int],
        port: Optional[int] = None,
        actions_port: Optional[int] = None,
    ):
        super().__init__("nginx", workdir)
        self.port = port or free_port()
        self.actions_port = actions_port or free_port()
        self.rasa_ports = rasa_ports
        self.actions_ports = actions_ports
        self.conf = workdir / "nginx.conf"

    stop_signal = signal.SIGQUIT  # graceful: requests in flight are answered first

    def prepare(self) -> None:
        (self.workdir / "nginx").mkdir(exist_ok=True)
        self.conf.write_text(
            nginx_conf(self.port, self.rasa_ports, self.actions_port, self.actions_ports, self.workdir / "nginx")
        )

    def command(self) -> Tuple[List[str], Optional[str], Path]:
        # A master killed with SIGKILL leaves its workers behind, still holding the port, and
        # a new master could never bind it. Its pid file names it: when that process is gone,
        # the nginx processes left in its process group are its workers, told to finish
        # their requests and go (QUIT) before the new master starts. (systemd does the same
        # by killing a service's whole cgroup.)
        pid_file = shlex.quote(str(self.workdir / "nginx" / "nginx.pid"))
        nginx = shlex.join(["nginx", "-p", str(self.workdir / "nginx"), "-c", str(self.conf), "-g", "daemon off;"])
        script = (
            f"old=$(cat {pid_file} 2>/dev/null); "
            f'if [ -n "$old" ] && [ ! -e "/proc/$old" ]; then pkill -QUIT -g "$old" -x nginx; fi; '
            f"exec {nginx}"
        )
        return ["/bin/sh", "-c", script], None, ROOT

    def ready(self) -> bool:
        return port_open(self.port)


def nginx_conf(port: int, rasa_ports: List[int], actions_port: int, actions_ports: List[int], prefix: Path) -> str:
    """deploy/nginx.conf with this set-up's ports and paths."""
    template = Template((ROOT / "deploy" / "nginx.conf").read_text())

    def servers(ports: List[int]) -> str:
        return "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)

    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    return template.substitute(
        port=port,
        rasa_servers=servers(rasa_ports),
        actions_port=actions_port,
        actions_servers=servers(actions_ports),
        prefix=prefix,
        user=user,
    )


class CoachProcess(Process):
    """An action server, a Rasa server or the web app, started as Procfile does."""

    def __init__(self, name: str, workdir: Path, env: Dict[str, str], args: List[str], health: str):
        super().__init__(name, workdir, env)
        self.args = args
        self.health = health

    def command(self) -> Tuple[List[str], Optional[str], Path]:
        return self.args, None, ROOT

    def ready(self) -> bool:
        return http_ok(self.health)

    def start(self, timeout: float = 240) -> None:
        super().start(timeout)


def migrate(database_url: str) -> None:
    """The canvas store's and the review dashboard's migrations, run once before any
    server starts, so that two servers opening a fresh database never migrate it at
    the same time."""
    from bot.coach.store import CanvasStore
    from bot.review.db import ReviewDB

    CanvasStore(database_url).close()
    ReviewDB(database_url).close()


class ScaledSetup:
    """PostgreSQL, Redis, `rasa_servers` Rasa servers and as many action servers,
    nginx in front of the Rasa servers, and (optionally) the web app."""

    def __init__(
        self,
        workdir: Path,
        rasa_servers: int = 2,
        lock_store: str = "atomic",
        web: bool = False,
        ports: Optional[Dict[str, int]] = None,
        pg_data: Optional[Path] = None,
    ):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        ports = ports or {}
        self.postgres = Postgres(workdir, ports.get("postgres"), data=pg_data)
        self.redis = Redis(workdir, ports.get("redis"), new_secret(workdir / "redis_password", "REDIS_PASSWORD"))
        self.rasa_ports = [ports.get(f"rasa{i}") or free_port() for i in range(rasa_servers)]
        self.actions_ports = [ports.get(f"actions{i}") or free_port() for i in range(rasa_servers)]
        self.nginx = Nginx(workdir, self.rasa_ports, self.actions_ports, ports.get("nginx"), ports.get("actions"))
        self.web_port = ports.get("web") or free_port()
        self.lock_store = lock_store
        self.env = self._env()
        self.actions = [self._actions(i) for i in range(rasa_servers)]
        self.rasa = [self._rasa(i) for i in range(rasa_servers)]
        self.web = self._web() if web else None

    def _env(self) -> Dict[str, str]:
        env = {
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            "POSTGRES_URL_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(self.postgres.port),
            "POSTGRES_DB": self.postgres.database,
            "POSTGRES_USER": self.postgres.ROLE,
            "POSTGRES_PASSWORD": self.postgres.password,
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.redis.port),
            "REDIS_PASSWORD": self.redis.password,
            "LOCK_STORE_TYPE": {"atomic": "bot.plugins.lock_store.AtomicRedisLockStore", "stock": "redis"}[
                self.lock_store
            ],
            "CANVAS_DB_URL": self.postgres.url,
            # The review dashboard (web app) keeps its tables in the same database and reads the events there.
            "REVIEW_DB_URL": self.postgres.url,
            "TRACKER_DB_URL": self.postgres.url,
            "WEB_PORT": str(self.web_port),
            "RASA_SOCKET_URL": f"http://127.0.0.1:{self.nginx.port}",
        }
        # Slack's retries and a mention's twin may land on either Rasa server: their memory is
        # shared in this Redis (bot/plugins/channels/slack/routing.py, SharedSeen).
        if not (env.get("SLACK_DEDUPE_REDIS_URL") or "").strip():
            env["SLACK_DEDUPE_REDIS_URL"] = self.redis.url(2)
        # The Rasa servers' key to the action servers (bot/plugins/action_server.py).
        if not (env.get("ACTIONS_TOKEN") or "").strip():
            env["ACTIONS_TOKEN"] = secrets.token_hex(24)
        env["ACTIONS_HOST"] = "127.0.0.1"
        return env

    def _actions(self, i: int) -> CoachProcess:
        port = self.actions_ports[i]
        return CoachProcess(
            f"actions{i + 1}",
            self.workdir,
            {**self.env, "ACTIONS_PORT": str(port)},
            actions_command(port),
            f"http://127.0.0.1:{port}/health",
        )

    def _rasa(self, i: int) -> CoachProcess:
        port = self.rasa_ports[i]
        # The Rasa servers call the action servers through nginx.
        env = {**self.env, "RASA_PORT": str(port), "ACTIONS_URL": f"http://127.0.0.1:{self.nginx.actions_port}/webhook"}
        return CoachProcess(
            f"rasa{i + 1}",
            self.workdir,
            env,
            rasa_command(port, "--interface", "127.0.0.1", endpoints="deploy/endpoints.scaled.yml"),
            f"http://127.0.0.1:{port}/",
        )

    def _web(self) -> CoachProcess:
        return CoachProcess(
            "web",
            self.workdir,
            {**self.env, "WEB_HOST": "127.0.0.1"},
            web_command(),
            f"http://127.0.0.1:{self.web_port}/",
        )

    @property
    def url(self) -> str:
        """The load balancer: the Rasa servers' one address."""
        return f"http://127.0.0.1:{self.nginx.port}"

    def start(self, say: Callable[[str], None] = lambda _: None) -> None:
        missing = missing_packages()
        if missing:
            raise ServiceError(f"Missing Debian packages: {' '.join(missing)} (apt-get install {' '.join(missing)})")
        if not MODEL.exists():
            raise ServiceError(f"{MODEL} is missing: `make train` first")
        say(f"PostgreSQL on 127.0.0.1:{self.postgres.port} (data in {self.postgres.data})")
        self.postgres.start()
        say(f"Redis on 127.0.0.1:{self.redis.port}")
        self.redis.start()
        say("canvas store and review dashboard migrations on PostgreSQL (Alembic, to head)")
        migrate(self.postgres.url)
        for process in self.actions:
            say(f"{process.name}: {process.health}")
            process.start()
        say(f"nginx on {self.url} (Rasa servers) and 127.0.0.1:{self.nginx.actions_port} (action servers)")
        self.nginx.start()
        say("Rasa servers: " + ", ".join(p.health for p in self.rasa) + " (about 20 s each)")
        # One at a time: both at once on 2 cores take longer than twice one.
        for process in self.rasa:
            process.start()
        if self.web:
            say(f"web app: http://127.0.0.1:{self.web_port}/")
            self.web.start()

    def stop(self) -> None:
        for process in [self.web, self.nginx, *self.rasa, *self.actions, self.redis, self.postgres]:
            if process is not None:
                process.stop()
        self.postgres.remove()

    def processes(self) -> List[Process]:
        return [p for p in [self.postgres, self.redis, *self.actions, *self.rasa, self.nginx, self.web] if p]
