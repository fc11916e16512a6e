"""The tree's imports: no module imports in a circle, and only tests import tests.

A circle makes the import order matter and hides which module does which job
(bot/plugins once had one, between the Rasa server's command line and its patches).
Product tooling (bench/, scripts/, deploy/) runs without the test suite, so nothing
outside tests/ may import from it: what both need lives in deploy/.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Set

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = {".venv", "node_modules", ".git", ".cache", "var", "models"}


def python_files() -> Iterable[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIPPED.intersection(path.relative_to(ROOT).parts):
            yield path


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _known(name: str, modules: Set[str]) -> Optional[str]:
    """The tree's own module that `name` means (its longest prefix that is one), or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def import_graph() -> Dict[str, Set[str]]:
    """Each of the tree's modules and the tree's modules it imports, anywhere in it
    (a function's import too: it is a circle that was only postponed)."""
    paths = {module_name(path): path for path in python_files()}
    modules = set(paths)
    graph: Dict[str, Set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: Set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(filter(None, (_known(alias.name, modules) for alias in node.names)))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    target = _known(f"{base}.{alias.name}", modules) or _known(base, modules)
                    if target:
                        targets.add(target)
        targets.discard(name)
        graph[name] = targets
    return graph


def circles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_the_trees_imports():
    graph = import_graph()
    assert "bot.coach.store" in graph["bot.plugins.founder_data"]
    assert "bot.plugins.patches" in graph["bot.plugins.patches.registry"]
    assert "deploy.launchers" in graph["deploy.services"]


def test_no_module_imports_in_a_circle():
    found = circles(import_graph())
    assert not found, "modules that import each other:\n" + "\n".join(" <-> ".join(group) for group in found)


def test_nothing_outside_tests_imports_tests():
    result = subprocess.run(
        [
            "grep",
            "-rnE",
            "--include=*.py",
            *(f"--exclude-dir={name}" for name in sorted(SKIPPED | {"tests"})),
            r"^\s*(from tests(\.| import)|import tests\b)",
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1), result.stderr  # 1: nothing found
    assert result.stdout == "", "product code imports the test suite:\n" + result.stdout
