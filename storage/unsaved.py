"""Dossier text and interaction logs typed but not yet in the workspace, kept in files on
this computer.

The dossier editor writes here on every change (a small file, replaced atomically) and
deletes the file once the workspace holds the text. A crash, a closed laptop or a lost
connection to the team database therefore loses nothing: the next time the dossier is
opened, the editor finds the file and saves its text like any other edit, merged with
whatever others saved meanwhile (the file keeps the texts the edit started from). The
quick-log dialog keeps what is typed in it the same way, one file per account (and entry
corrected), offered back when the dialog opens again for that account.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from domain.dossiers import Dossier, DossierEdit, Source
from storage.workspace import Workspace, data_dir


@dataclass(frozen=True)
class Unsaved:
    """An edit of ``dossier`` (as it was loaded: its version and texts), not yet saved."""

    dossier: Dossier
    edit: DossierEdit


def _folder(workspace: Workspace, folder: Path | None) -> Path:
    """This workspace's folder of unsaved text (a workspace is told apart by its address)."""
    key = hashlib.sha256(workspace.url.encode()).hexdigest()[:16]
    return (folder or data_dir() / "unsaved") / key


def _write_durably(path: Path, document: Any) -> None:
    """Write ``document`` as JSON: a temporary file, flushed to disk, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


class UnsavedDossiers:
    def __init__(self, workspace: Workspace, folder: Path | None = None) -> None:
        self.folder = _folder(workspace, folder)

    def _path(self, dossier_id: uuid.UUID) -> Path:
        return self.folder / f"{dossier_id}.json"

    def keep(self, dossier: Dossier, edit: DossierEdit) -> None:
        """Write the edit durably."""
        document = {
            "dossier": str(dossier.id),
            "version": dossier.version,
            "base": dict(dossier.texts),
            "texts": dict(edit.texts),
            "sources": [{"url": s.url, "title": s.title} for s in edit.sources],
            "contacts": [str(c) for c in edit.contact_ids],
        }
        _write_durably(self._path(dossier.id), document)

    def find(self, current: Dossier) -> Unsaved | None:
        """Unsaved text for ``current`` (the dossier as stored now), based on the version
        the editor had loaded."""
        path = self._path(current.id)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        edit = DossierEdit(
            texts={str(k): str(v) for k, v in document["texts"].items()},
            sources=tuple(Source(s["url"], s.get("title", "")) for s in document["sources"]),
            contact_ids=tuple(uuid.UUID(c) for c in document["contacts"]),
        )
        loaded = replace(current, version=int(document["version"]), texts=document["base"])
        return Unsaved(loaded, edit)

    def forget(self, dossier_id: uuid.UUID) -> None:
        self._path(dossier_id).unlink(missing_ok=True)

    def waiting(self) -> list[uuid.UUID]:
        """Dossiers with text on this computer that the workspace does not hold yet."""
        if not self.folder.exists():
            return []
        return [uuid.UUID(p.stem) for p in sorted(self.folder.glob("*.json"))]


class UnsavedLogs:
    """What was typed in the quick-log dialog and not yet saved: one file per account, or
    per account and entry when it corrects one. The values are the dialog's own (plain
    texts, numbers and flags), written on every change and removed once saved."""

    def __init__(self, workspace: Workspace, folder: Path | None = None) -> None:
        self.folder = _folder(workspace, folder) / "logs"

    def _path(self, account_id: uuid.UUID, corrects: uuid.UUID | None) -> Path:
        return self.folder / f"{account_id}{f'-{corrects}' if corrects else ''}.json"

    def keep(
        self, account_id: uuid.UUID, corrects: uuid.UUID | None, typed: dict[str, Any]
    ) -> None:
        _write_durably(self._path(account_id, corrects), typed)

    def find(self, account_id: uuid.UUID, corrects: uuid.UUID | None) -> dict[str, Any] | None:
        try:
            text = self._path(account_id, corrects).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            found = json.loads(text)
        except json.JSONDecodeError:  # cut short by a crash in the middle of a rename
            return None
        return found if isinstance(found, dict) else None

    def forget(self, account_id: uuid.UUID, corrects: uuid.UUID | None) -> None:
        self._path(account_id, corrects).unlink(missing_ok=True)
