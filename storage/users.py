"""Users of a workspace: who is working, with which role.

On a SQLite file the file is the boundary: whoever opens it says who they are. On a team's
PostgreSQL database a person is their database login, and the server holds the login to
the person's role (:mod:`storage.team`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from domain.errors import AccordError, PermissionDenied
from domain.users import Role, User, role_for_new_user
from storage import team
from storage.bulk import one_id
from storage.schema import ChangeRow, UserRow
from storage.workspace import Workspace


def _user(row: UserRow) -> User:
    return User(id=row.id, name=row.name, role=Role(row.role))


def sign_in(workspace: Workspace, name: str) -> User:
    """Who is working. In a SQLite file: the named user, a new name is added (the first
    person becomes the owner). In a team database: the user of the database login, and
    ``name`` is not asked for (see :func:`login_name`)."""
    if workspace.is_sqlite:
        return _sign_in_as(workspace, name)
    return _sign_in_by_login(workspace)


def _find(session: Session, name: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.name == name))


def _has_owner(session: Session) -> bool:
    owner = select(UserRow.id).where(UserRow.role == Role.OWNER.value).limit(1)
    return session.scalar(owner) is not None


def _id_of(name: str) -> uuid.UUID:
    """One id per name (a user is never deleted): a person added on two copies is one
    user once they sync, a difference in role a conflict to settle."""
    return one_id("users", name)


def _add(session: Session, name: str, role: Role) -> UserRow:
    row = UserRow(id=_id_of(name), name=name, role=role.value, changed_by=name)
    session.add(row)
    session.flush()
    return row


def _sign_in_as(workspace: Workspace, name: str) -> User:
    name = name.strip()
    if not name:
        raise AccordError("A user name is needed.")
    with workspace.read_session() as session:
        known = _find(session, name)
    if known is not None:  # most sign-ins: no need to wait for someone else's write
        return _user(known)
    # A SQLite write begins IMMEDIATE: two people signing in at once take turns, so only
    # the first of them finds the workspace without an owner.
    with workspace.session() as session, session.begin():
        row = _find(session, name) or _add(session, name, role_for_new_user(_has_owner(session)))
        return _user(row)


def login_name(workspace: Workspace) -> str | None:
    """The database login a team workspace knows its user by; None for a SQLite file."""
    if workspace.is_sqlite:
        return None
    with workspace.read() as conn:
        return str(conn.execute(text("SELECT session_user")).scalar_one())


def _sign_in_by_login(workspace: Workspace) -> User:
    with workspace.session() as session, session.begin():
        login = str(session.execute(text("SELECT session_user")).scalar_one())
        row = _find(session, login)
        if row is None and _administers(session):
            # The database's owner makes the workspace's first Accord owner; people signing
            # in at the same moment wait here, and see the row the first one made.
            session.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
            row = _find(session, login)
            if row is None and not _has_owner(session):
                row = _add(session, login, Role.OWNER)
        if row is None:
            raise PermissionDenied(
                f"The database login '{login}' is not a user of this workspace: "
                f"ask its owner to add you (accord users --add '{login}' --login)."
            )
        return _user(row)


def _administers(session: Session) -> bool:
    """Whether the login is a superuser or owns the database (grants do not hold it)."""
    return bool(
        session.execute(
            text(
                "SELECT r.rolsuper OR pg_has_role(session_user, d.datdba, 'MEMBER') "
                "FROM pg_roles r, pg_database d "
                "WHERE r.rolname = session_user AND d.datname = current_database()"
            )
        ).scalar_one()
    )


def list_users(workspace: Workspace) -> list[User]:
    with workspace.read_session() as session:
        rows = session.scalars(
            select(UserRow).where(UserRow.deleted_at.is_(None)).order_by(UserRow.name)
        )
        return [_user(r) for r in rows]


@contextmanager
def _server_refusal() -> Iterator[None]:
    try:
        yield
    except ProgrammingError as error:
        if not team.refused(error):
            raise
        reason = " ".join(str(error.orig).split())
        raise PermissionDenied(
            f"The database refused this to your login ({reason}): its owner can do it."
        ) from None


class SqlUserStore:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def _team_database(self) -> None:
        if self.workspace.is_sqlite:
            raise AccordError(
                "A workspace file has no logins: whoever can open the file works in it. "
                "A team database on PostgreSQL gives each person one."
            )

    def set_up_team(self) -> None:
        self._team_database()
        with _server_refusal(), self.workspace.write() as conn:
            team.set_up(conn)

    def save_user(self, name: str, role: Role, login: bool, actor: User) -> User:
        if login:
            self._team_database()
        with _server_refusal(), self.workspace.session() as session, session.begin():
            row = _find(session, name)
            if row is None:
                row = UserRow(id=_id_of(name), name=name, role=role.value, changed_by=actor.name)
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
            if not self.workspace.is_sqlite:
                team.set_login(session.connection(), name, role, create=login)
            return _user(row)
