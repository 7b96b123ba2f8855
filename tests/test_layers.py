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
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def test_each_layer_imports_only_what_it_may():
    offences = []
    for layer, banned in FORBIDDEN.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            for line, module in _imports(path):
                if module.split(".")[0] in banned:
                    offences.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offences == []


def test_the_domain_loads_without_qt_or_a_database():
    code = ("import sys, domain.accounts, domain.importing, domain.icp; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'sqlalchemy', 'openpyxl', 'reportlab')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]"
