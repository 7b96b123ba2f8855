"""The shared goal in the workspace: its versions (the highest number holds) and the store
``domain.goal.set_goal`` talks to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select

from domain.goal import Goal, GoalVersion
from domain.users import Role, User
from storage.change_log import log_change
from storage.schema import (
    GoalVersionRow,
    stored_utc,
    table_of,
    utcnow,
)
from storage.targets import users_by_name
from storage.workspace import Workspace

goal_versions = table_of(GoalVersionRow)


class SqlGoalStore:
    """``domain.goal.GoalStore``: each save a new version numbered one up, in one transaction
    with its change-log entry."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def roles(self) -> Mapping[str, Role]:
        with self.workspace.read() as conn:
            return {name: user.role for name, user in users_by_name(conn).items()}

    def save_goal(self, goal: Goal, user: User) -> GoalVersion:
        with self.workspace.write() as conn:
            number, at = _save_version(conn, goal_versions, goal.to_document(), user)
        return GoalVersion(goal, number, user.name, at)


def _save_version(
    conn: Connection, table: Table, document: dict[str, Any], user: User
) -> tuple[int, Any]:
    """Write ``document`` as the next version of ``table``: its number and time."""
    number = int(conn.execute(select(func.coalesce(func.max(table.c.number), 0))).scalar_one()) + 1
    at = utcnow()
    row_id = conn.execute(
        insert(table)
        .values(number=number, document=document, created_at=at, created_by=user.name)
        .returning(table.c.id)
    ).scalar_one()
    log_change(conn, user, table.name, row_id, "save", {"number": number, **document})
    return number, at


def _goal_version(row: Any) -> GoalVersion:
    return GoalVersion(
        Goal.from_document(row.document), row.number, row.created_by, stored_utc(row.created_at)
    )


def current_goal(conn: Connection) -> GoalVersion | None:
    """The goal in force (its newest version), or None when the owner has set none."""
    row = conn.execute(
        select(goal_versions).order_by(goal_versions.c.number.desc()).limit(1)
    ).first()
    return None if row is None else _goal_version(row)


def goal_history(conn: Connection) -> list[GoalVersion]:
    """Every version of the goal, newest first."""
    rows = conn.execute(select(goal_versions).order_by(goal_versions.c.number.desc()))
    return [_goal_version(row) for row in rows]
