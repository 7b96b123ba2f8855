"""One concept, one name (PRODUCT.md): words the code once used for a product concept under
another name, held out of every name the source defines or uses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import sqlalchemy
from sqlalchemy import orm

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ("domain", "storage", "reports", "ui", "main.py", "bench")

#: A word no name may contain, where (the paths that contain this text; "" is everywhere),
#: and the product's word for what it meant.
RETIRED = {
    "subject": ("", "a criterion is about a field (PRODUCT.md, the ICP's JSON, the editor's "
                    "header)"),
    "target": ("import", "a column of an import file maps to a field; the target is the "
                         "target list"),
    "targets": ("import", "the columns of an import file map to fields (mapped_fields); the "
                          "targets are the target list"),
}  # fmt: skip


def _names(tree: ast.AST):
    for node in ast.walk(tree):
        match node:
            case ast.Name(id=name) | ast.Attribute(attr=name) | ast.arg(arg=name):
                yield node.lineno, name
            case ast.FunctionDef(name=name) | ast.AsyncFunctionDef(name=name):
                yield node.lineno, name
            case ast.ClassDef(name=name):
                yield node.lineno, name
            case ast.alias(name=name, asname=asname):
                yield node.lineno, asname or name
            case ast.keyword(arg=str(name)):
                yield node.lineno, name


def _words(name: str) -> list[str]:
    """``CRITERION_FIELDS`` → criterion, fields; ``fieldLabel`` → field, label. The target
    list is one concept, and so is a row of it: ``target_list`` and ``TargetRow`` are one word
    each."""
    name = re.sub(r"(?i)target_?(list|row)", lambda m: "target" + m[1].lower(), name)
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def _sources() -> list[Path]:
    return [p for s in SOURCE for p in ((ROOT / s).rglob("*.py") if (ROOT / s).is_dir()
                                        else [ROOT / s])]  # fmt: skip


def test_no_name_uses_a_retired_word():
    paths = _sources()
    offences = sorted(
        f"{where}:{line} {name}: {RETIRED[word][1]}"
        for path in paths
        for where in [path.relative_to(ROOT).as_posix()]
        for line, name in _names(ast.parse(path.read_text(encoding="utf-8")))
        for word in _words(name)
        if word in RETIRED and RETIRED[word][0] in where
    )
    assert offences == []


def test_no_class_is_named_like_one_of_sqlalchemys():
    """A ``Column`` or ``Table`` of ours beside SQLAlchemy's reads as theirs (and an import
    of one shadows the other)."""
    theirs = set(dir(sqlalchemy)) | set(dir(orm))
    offences = sorted(
        f"{path.relative_to(ROOT).as_posix()}:{node.lineno} {node.name}"
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef) and node.name in theirs
    )
    assert offences == []
