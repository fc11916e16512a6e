"""The architecture's one hard boundary: the coach's domain (bot/coach) never
imports Rasa, so it can be tested, reused by every channel and read on its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "bot" / "coach"
FORBIDDEN = ("rasa", "rasa_sdk", "sanic", "socketio", "slack_sdk")


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def test_the_domain_imports_no_rasa_nor_any_channel_library():
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(DOMAIN.rglob("*.py"))
        for line, module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN or module.startswith(("bot.plugins", "bot.web", "actions"))
    ]
    assert not offences, "bot/coach must stay free of Rasa and the front doors:\n" + "\n".join(offences)


def test_importing_every_domain_module_loads_no_rasa():
    """The static check above misses imports hidden behind a library; this one runs them."""
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in DOMAIN.rglob("*.py")
        if "migrations" not in path.parts
    )
    assert "bot.coach.engine" in modules  # the walk found the domain
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"importing bot.coach loaded: {result.stdout.strip()}"
