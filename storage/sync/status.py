"""What the window says of a workspace that syncs: the team's, a copy of it (for whom), or a
workspace that syncs through a folder, and when it last synced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from storage.schema import SyncDeviceRow, table_of
from storage.workspace import Workspace

TEAM, COPY, PEER = "team", "copy", "peer"


@dataclass(frozen=True)
class SyncStatus:
    """This database as a device that syncs: its ``device`` id, its ``kind`` (:data:`TEAM`,
    :data:`COPY`, :data:`PEER`), the team database a copy came from (``source``, without
    its password), the rep it was taken for (None: the whole workspace) and when it last
    synced (None: not yet)."""

    device: str
    kind: str
    source: str | None
    rep: str | None
    last_synced_at: datetime | None


def sync_status(workspace: Workspace) -> SyncStatus | None:
    """How ``workspace`` syncs; None when it has never taken part in a sync."""
    device = table_of(SyncDeviceRow)
    columns = (device.c.device, device.c.kind, device.c.source, device.c.rep,
               device.c.last_synced_at)  # fmt: skip
    with workspace.read() as conn:
        row = conn.execute(select(*columns).limit(1)).first()
    return None if row is None else SyncStatus(*row)
