"""Who worked last on this computer: a one-line file in Accord's settings folder, so that
the window and the command line both find the name, and the command line without Qt."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_path


def _file() -> Path:
    return user_config_path("Accord", appauthor=False) / "user.txt"


def remembered_user() -> str | None:
    try:
        name = _file().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def remember_user(name: str) -> None:
    _file().parent.mkdir(parents=True, exist_ok=True)
    _file().write_text(name + "\n", encoding="utf-8")
