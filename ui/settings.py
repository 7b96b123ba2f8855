"""What Accord remembers between runs (QSettings): the last user and workspace."""

from __future__ import annotations

from PySide6.QtCore import QSettings


def _settings() -> QSettings:
    return QSettings("Accord", "Accord")


def remembered_user() -> str | None:
    value = _settings().value("user")
    return str(value) if value else None


def remember_user(name: str) -> None:
    _settings().setValue("user", name)


def remembered_workspace() -> str | None:
    value = _settings().value("workspace")
    return str(value) if value else None


def remember_workspace(db: str) -> None:
    _settings().setValue("workspace", db)
