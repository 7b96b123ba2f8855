"""Users of a workspace: who is working, with which role."""

from __future__ import annotations

from sqlalchemy import select

from domain.errors import AccordError
from domain.users import Role, User, role_for_new_user
from storage.schema import ChangeRow, UserRow
from storage.workspace import Workspace


def _user(row: UserRow) -> User:
    return User(id=row.id, name=row.name, role=Role(row.role))


def sign_in(workspace: Workspace, name: str) -> User:
    """The named user; a new name is added (the first person becomes the owner)."""
    name = name.strip()
    if not name:
        raise AccordError("A user name is needed.")
    with workspace.session() as session, session.begin():
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            has_owner = session.scalar(
                select(UserRow.id).where(UserRow.role == Role.OWNER.value).limit(1)
            )
            role = role_for_new_user(has_owner is not None)
            row = UserRow(name=name, role=role.value, changed_by=name)
            session.add(row)
            session.flush()
        return _user(row)


def list_users(workspace: Workspace) -> list[User]:
    with workspace.session() as session:
        rows = session.scalars(
            select(UserRow).where(UserRow.deleted_at.is_(None)).order_by(UserRow.name)
        )
        return [_user(r) for r in rows]


class SqlUserStore:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def save_user(self, name: str, role: Role, actor: User) -> User:
        with self.workspace.session() as session, session.begin():
            row = session.scalar(select(UserRow).where(UserRow.name == name))
            if row is None:
                row = UserRow(name=name, role=role.value, changed_by=actor.name)
                session.add(row)
            else:
                row.role = role.value
                row.changed_by = actor.name
            session.flush()
            session.add(
                ChangeRow(
                    user_name=actor.name,
                    table_name="users",
                    record_id=row.id,
                    action="set role",
                    details={"name": row.name, "role": role.value},
                )
            )
            return _user(row)
