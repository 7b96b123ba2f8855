"""The layer rule of STYLE.md, checked on every import statement of the source tree."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QT, DB, FILES = ("PySide6", "shiboken6"), ("sqlalchemy", "alembic", "psycopg"), (
    "reportlab", "openpyxl", "python_calamine")  # fmt: skip
FORBIDDEN = {
    "domain": (*QT, *DB, *FILES, "storage", "ui", "reports", "main"),
    "storage": (*QT, "reportlab", "openpyxl", "ui", "reports", "main"),
    "reports": (*QT, *DB, "storage", "ui", "main"),
    "ui": (*DB, "main"),
}


def _imports(path: Path):
    """Every module ``path`` imports, at the top, inside a function or for type checking
    only (``from a import b`` names ``a`` and ``a.b``, which may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _modules() -> dict[str, Path]:
    paths = [ROOT / "main.py", *(p for layer in FORBIDDEN for p in (ROOT / layer).rglob("*.py"))]
    names = (".".join(p.relative_to(ROOT).with_suffix("").parts) for p in paths)
    return {n.removesuffix(".__init__"): p for n, p in zip(names, paths, strict=True)}


def test_each_layer_imports_only_what_it_may():
    offences = []
    for layer, banned in FORBIDDEN.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            for line, module in _imports(path):
                if module.split(".")[0] in banned:
                    offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []


def test_no_module_imports_itself_through_others():
    """A circle of imports hides behind imports inside functions or for type checking only;
    what a module needs from one that imports it is an interface (ui.window_api)."""
    modules = _modules()
    graph = {name: {m for _, m in _imports(path) if m in modules} - {name}
             for name, path in modules.items()}  # fmt: skip

    def reached(start: str) -> set[str]:
        seen, todo = set(), list(graph[start])
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])
        return seen

    reach = {name: reached(name) for name in graph}
    circles = [f"{name} -> {module} -> ... -> {name}"
               for name in sorted(graph) for module in sorted(graph[name])
               if name in reach[module]]  # fmt: skip
    assert circles == []


def test_storage_rooms_are_used_only_from_outside_storage():
    """storage/'s rooms (importing/, demo/, read_models/, sync/, a package each) stand on its base
    (schema, workspace, the stores); nothing in storage outside a room imports it, so the
    base never leans on an importer, the demo or a read model, nor one room on another."""
    rooms = sorted(p.parent.name for p in (ROOT / "storage").glob("*/__init__.py")
                   if p.parent.name != "migrations")  # fmt: skip
    assert rooms == ["demo", "importing", "read_models", "sync"]
    # The one door into a room from the base: opening a workspace that syncs migrates it
    # with the capture triggers lifted and put back (a table a migration rebuilds loses
    # them, and its edits would go uncaptured until the next sync).
    allowed = {("storage/workspace.py", "storage.sync.capture")}
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "storage").rglob("*.py"))
        for line, module in _imports(path)
        for room in rooms
        if module.startswith(f"storage.{room}.")
        and path.relative_to(ROOT / "storage").parts[0] != room
        and (path.relative_to(ROOT).as_posix(), module) not in allowed
    ]
    assert offences == []


def test_the_domain_loads_without_qt_or_a_database():
    code = ("import sys, domain.accounts, domain.importing, domain.icp; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'sqlalchemy', 'openpyxl', 'reportlab')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"


def test_the_reports_share_only_public_names():
    """A PDF or a workbook takes what another report module shares by its public name
    (reports/pdf_kit.py, reports/tabular.py), never one of its private ones."""
    offences = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name} from {node.module}"
        for path in (ROOT / "reports").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reports")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert offences == []
