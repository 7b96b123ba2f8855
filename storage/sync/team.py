"""Syncing a local copy with the team database it was taken from (``accord sync``, the
window's Sync).

Three steps, each one transaction on one side, so that a sync cut at any point (network
lost, laptop closed, process killed) leaves each side as it was or as the next sync leaves
it, never half:

1. the copy stamps what was changed on it since the last sync (seal);
2. the team database stamps its own, takes in the copy's changes it has not seen (each
   author's role checked there) and commits;
3. the copy takes in the team's changes in its scope (a rep's accounts; an account that
   came into it since the last sync is first copied whole, as a checkout would) and
   commits.

A change taken in twice is skipped, so repeating a step that was cut changes nothing. The
copy's clock is checked against the team database's at each sync: the difference corrects
the stamps the copy makes (its ``offset_ms``) and is said when it is more than a minute.
"""

from __future__ import annotations

from sqlalchemy import text, update

from domain.errors import AccordError
from domain.progress import Cancel, Progress
from domain.sync import SyncSummary, copy_scope
from domain.users import User
from storage.schema import utcnow
from storage.sync.capture import device_table
from storage.sync.checkout import bring_accounts
from storage.sync.engine import (
    Device,
    apply_changes,
    changes_since,
    device_of,
    mark_synced,
    rep_scope,
    schema_of,
    seal,
    seen_by,
    wall_ms,
)
from storage.sync.steps import Steps
from storage.workspace import Workspace

#: A difference between the copy's clock and the team database's that is corrected but not
#: said (a network round trip, a clock a few seconds off).
CLOCK_SAID_MS = 60_000
#: Below this the copy's clock is taken as right.
CLOCK_CORRECTED_MS = 1_000
_STEPS = 3


class NotACopy(AccordError):
    """The workspace was not taken from a team database."""


def sync_with_team(
    local: Workspace,
    team: Workspace,
    user: User,
    progress: Progress | None = None,
    cancelled: Cancel | None = None,
) -> SyncSummary:
    """Send the copy's changes to ``team`` and bring the team's down, for ``user``."""
    device = _copy_device(local)
    copy_scope(user, device.rep)  # a rep syncs a copy of their own accounts only
    _require_upgraded(local, team)
    offset = _clock_offset(team)
    corrected = 0 if abs(offset) < CLOCK_CORRECTED_MS else offset

    step = Steps(_STEPS, progress, cancelled).reached
    step(0)
    with local.write() as conn:
        conn.execute(update(device_table).values(offset_ms=corrected))
        seal(conn, wall_ms())
    step(1)
    with local.read() as source, team.write() as target:
        # The team database's own time: what a stamp from the copy is checked against.
        seal(target, wall_ms() + offset)
        outgoing = changes_since(source, seen_by(target), None)
        sent = apply_changes(target, outgoing, wall_ms() + offset)
    step(2)
    with team.read() as source, local.write() as target:
        scope = None if device.rep is None else rep_scope(source, device.rep)
        if scope is not None:
            bring_accounts(source, target, scope)
        incoming = changes_since(source, seen_by(target), scope)
        received = apply_changes(target, incoming, wall_ms())
        mark_synced(target, utcnow())
    step(3)
    return SyncSummary(
        sent=sent.applied,
        received=received.applied,
        conflicts=received.conflicts,
        refused=sent.refused + received.refused,
        clock_off_ms=-offset if abs(offset) >= CLOCK_SAID_MS else None,
    )


class TeamNotUpgraded(AccordError):
    """The team database is at an older schema than the copy."""


def _require_upgraded(local: Workspace, team: Workspace) -> None:
    """A team database that an older Accord last upgraded cannot take this copy's changes:
    its owner upgrades it (the laptop does not)."""
    with local.read() as mine, team.read() as theirs:
        ours, its = schema_of(mine), schema_of(theirs)
    if int(its) < int(ours):
        raise TeamNotUpgraded(
            f"The team workspace {team.label} is at an older schema ({its}) than this Accord "
            f"({ours}): its owner opens it once with this version of Accord to upgrade it, "
            "then sync again. Nothing was sent."
        )


def team_source(local: Workspace) -> str:
    """The team database ``local`` was copied from, as its URL without the password (a
    login's password comes from PGPASSWORD or the ~/.pgpass file)."""
    source = _copy_device(local).source
    assert source is not None  # a copy knows where it came from
    return source


def _copy_device(local: Workspace) -> Device:
    with local.read() as conn:
        device = device_of(conn)
    if device is None or device.kind != "copy":
        raise NotACopy(
            f"{local.label} is not a copy of a team workspace: take one with accord checkout, "
            "or sync it with other computers through a shared folder (accord sync --folder DIR)."
        )
    return device


def _clock_offset(team: Workspace) -> int:
    """How far the team database's clock is ahead of this computer's, in milliseconds
    (taken at the middle of the round trip)."""
    if team.is_sqlite:  # a file on this computer: the same clock
        return 0
    with team.read() as conn:
        before = wall_ms()
        theirs = conn.execute(
            text("SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS bigint)")
        ).scalar_one()
        after = wall_ms()
    return int(theirs) - (before + after) // 2
