"""What every benchmark step shares: the machine, statistics, process memory,
subprocesses with a progress bar, and one REST turn."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from tqdm import tqdm

from deploy.launchers import MODEL, ROOT, VENV_BIN, free_port  # noqa: F401  (re-exported)

RASA = str(VENV_BIN / "rasa")
PYTHON = str(VENV_BIN / "python")
LOCALHOST = "127.0.0.1"
REQUEST_TIMEOUT = 120.0  # seconds, for one REST turn; a turn that takes longer is an error


def bench_env(**extra: str) -> Dict[str, str]:
    """The environment for every server and command: quiet TensorFlow, no telemetry."""
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    env.update(extra)
    return env


# ------------------------------------------------------------------ the machine


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def load_average() -> List[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine_info() -> Dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = _read("/proc/meminfo")
    total = re.search(r"^MemTotal:\s*(\d+) kB", meminfo, re.M)
    versions = {}
    for name in ("rasa", "rasa_sdk", "tensorflow", "spacy", "sqlalchemy"):
        try:
            from importlib.metadata import version

            versions[name] = version(name.replace("_", "-"))
        except Exception:  # noqa: BLE001 - a missing package is just not reported
            versions[name] = None
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    )
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gb": round(int(total.group(1)) / 1024 / 1024, 1) if total else None,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "git_commit": git.stdout.strip() or None,
        "git_dirty_files": len(dirty.stdout.splitlines()),
    }


# ------------------------------------------------------------------ statistics


def percentile(values: Sequence[float], q: float) -> Optional[float]:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary_ms(seconds: Iterable[float]) -> Dict[str, Any]:
    """n, mean, p50, p95, p99, max of durations given in seconds, in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "mean": round(sum(ms) / len(ms), 1),
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "p99": round(percentile(ms, 99), 1),
        "max": round(max(ms), 1),
    }


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None or b in (None, 0):
        return None
    return round(a / b, 2)


# ------------------------------------------------------------------ processes


def _children(pid: int) -> List[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        for child in _read(str(task / "children")).split():
            found.append(int(child))
            found.extend(_children(int(child)))
    return found


def memory_mb(pid: Optional[int]) -> Dict[str, Optional[float]]:
    """Resident memory (VmRSS) and its peak (VmHWM) of a process and its children, in MB."""
    if pid is None:
        return {"rss_mb": None, "peak_rss_mb": None}
    rss = hwm = 0
    for each in [pid, *_children(pid)]:
        status = _read(f"/proc/{each}/status")
        r = re.search(r"^VmRSS:\s*(\d+) kB", status, re.M)
        h = re.search(r"^VmHWM:\s*(\d+) kB", status, re.M)
        rss += int(r.group(1)) if r else 0
        hwm += int(h.group(1)) if h else 0
    return {"rss_mb": round(rss / 1024, 1) if rss else None, "peak_rss_mb": round(hwm / 1024, 1) if hwm else None}


def last_line(path: Path, width: int = 70) -> str:
    """The last non-empty line of a log (progress bars end lines with \\r), shortened."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4000))
            chunk = handle.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [part.strip() for part in re.split(r"[\r\n]+", chunk) if part.strip()]
    line = re.sub(r"\x1b\[[0-9;]*m", "", lines[-1]) if lines else ""
    return line[-width:]


def run_logged(
    cmd: List[str],
    *,
    desc: str,
    log: Path,
    cwd: Path = ROOT,
    env: Optional[Dict[str, str]] = None,
    timeout: float = 3600,
    retries: int = 1,
) -> Tuple[float, int]:
    """Runs a command with its output in a log, a progress bar that shows the elapsed
    time and the log's last line; returns (wall seconds, exit code). A command killed by
    a signal from outside (another user's pkill on a shared machine) runs again, once."""
    seconds, code = _run_logged(cmd, desc, log, cwd, env, timeout)
    while code is not None and code < 0 and retries > 0:
        retries -= 1
        print(f"bench: {desc} was killed by signal {-code}; running it again", file=sys.stderr)
        log.rename(log.with_suffix(f".killed{retries}.log"))
        seconds, code = _run_logged(cmd, desc + " (again)", log, cwd, env, timeout)
    return seconds, code


def _run_logged(
    cmd: List[str], desc: str, log: Path, cwd: Path, env: Optional[Dict[str, str]], timeout: float
) -> Tuple[float, int]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=cwd, env=env or bench_env(), stdout=out, stderr=subprocess.STDOUT)
        try:
            with tqdm(desc=desc, bar_format="{desc}: {elapsed} {postfix}", file=sys.stderr, leave=True) as bar:
                while process.poll() is None:
                    if time.perf_counter() - start > timeout:
                        process.kill()
                        process.wait()
                        break
                    bar.set_postfix_str(last_line(log), refresh=False)
                    bar.update(0)
                    time.sleep(1.0)
                bar.set_postfix_str(f"exit {process.returncode}")
        finally:
            if process.poll() is None:  # the benchmark itself was stopped: stop the command too
                process.terminate()
                process.wait(timeout=30)
        return time.perf_counter() - start, process.returncode


# ------------------------------------------------------------------ REST


def rest_turn(port: int, sender: str, message: str, timeout: float = REQUEST_TIMEOUT) -> List[Dict[str, Any]]:
    """One turn over the REST channel of the Rasa server on 127.0.0.1:port: the replies."""
    request = urllib.request.Request(
        f"http://{LOCALHOST}:{port}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def post_json(url: str, body: Any, timeout: float = REQUEST_TIMEOUT, headers: Optional[Dict[str, str]] = None) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def url_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def log_errors(text: str) -> Dict[str, int]:
    """Lines of a server log that report an error (Rasa and rasa-sdk log 'ERROR'). Rasa's
    response interpolator logs one for every button payload with {entities} (RasaHQ/rasa#6616):
    those are counted apart, they change nothing in the answer."""
    lines = [line for line in text.splitlines() if re.search(r"\bERROR\b", line)]
    payloads = [line for line in lines if "rasa.core.nlg.interpolator" in line]
    return {"errors": len(lines) - len(payloads), "button_payload_interpolation_errors": len(payloads)}


def marked_section(markdown: str, start: str, end: str) -> str:
    """The part of a report between two markers, markers included ('' if none)."""
    if start in markdown and end in markdown:
        return markdown[markdown.index(start) : markdown.index(end) + len(end)] + "\n"
    return ""


def splice_section(path: Path, start: str, end: str, new: str) -> Path:
    """Writes `new` (a section from `start` to `end`) into the report at `path`, in place of
    the old one or after the rest, so that steps run apart keep each other's sections."""
    old = path.read_text() if path.exists() else ""
    if start in old and end in old:
        text = old[: old.index(start)] + new + old[old.index(end) + len(end) :].lstrip("\n")
    else:
        text = old.rstrip("\n") + ("\n\n" if old else "") + new
    path.write_text(text)
    return path
