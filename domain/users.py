"""Users and their roles, and which role may do what."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

from domain.errors import PermissionDenied, ValidationError

T = TypeVar("T")


class Role(enum.StrEnum):
    OWNER = "owner"
    MARKETING = "marketing"
    REP = "rep"


class Action(enum.StrEnum):
    EDIT_ACCOUNTS = "edit accounts and contacts"
    IMPORT = "import"
    UNDO_IMPORT = "undo an import"
    EXPORT = "export"
    MANAGE_USERS = "manage users"
    EDIT_ICP = "edit the ideal customer profile"
    EDIT_LEAD_DEFINITION = "edit the lead definition"
    EDIT_TARGET_LIST = "change the target list"
    EDIT_DOSSIER_TEMPLATE = "change the dossier template"
    EDIT_DOSSIER = "write dossiers"
    REVIEW_DOSSIER = "review dossiers"
    RATE_DOSSIER = "rate dossiers"
    LOG_INTERACTION = "log calls and visits"
    CORRECT_STAGE = "correct a stage by hand"
    GRANT_EXCEPTION = "grant exceptions to the target list"
    SEE_ANY_QUEUE = "see any rep's call queue"
    READ_FIELD_FEEDBACK = "read every rep's field feedback"
    SET_GOAL = "set the shared goal"
    EDIT_AGREEMENT = "edit the service agreement and the workspace calendar"
    SIGN_PLAN = "sign off the plan"


_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.MARKETING: frozenset(
        {
            Action.EDIT_ACCOUNTS,
            Action.IMPORT,
            Action.UNDO_IMPORT,
            Action.EXPORT,
            Action.EDIT_ICP,
            Action.EDIT_LEAD_DEFINITION,
            Action.EDIT_TARGET_LIST,
            Action.EDIT_DOSSIER_TEMPLATE,
            Action.EDIT_DOSSIER,
            Action.REVIEW_DOSSIER,
            Action.CORRECT_STAGE,
            Action.GRANT_EXCEPTION,
            Action.SEE_ANY_QUEUE,
            Action.READ_FIELD_FEEDBACK,
            Action.SIGN_PLAN,
        }
    ),
    Role.REP: frozenset(
        {Action.EXPORT, Action.RATE_DOSSIER, Action.LOG_INTERACTION, Action.SIGN_PLAN}
    ),
}


def allowed_actions(role: Role) -> frozenset[Action]:
    """What ``role`` may do: the one permission table, also behind the database's grants."""
    return _ALLOWED[role]


@dataclass(frozen=True)
class User:
    id: UUID
    name: str
    role: Role

    def can(self, action: Action) -> bool:
        return action in _ALLOWED[self.role]

    def require(self, action: Action) -> None:
        """Raise :class:`PermissionDenied` unless the user's role allows ``action``."""
        if not self.can(action):
            raise PermissionDenied(f"{self.name} ({self.role}) may not {action}.")


def role_for_new_user(workspace_has_owner: bool) -> Role:
    """The first person in a workspace owns it; anyone after starts as a rep."""
    return Role.REP if workspace_has_owner else Role.OWNER


class UserStore(Protocol):
    def save_user(self, name: str, role: Role, login: bool, actor: User) -> User: ...
    def set_up_team(self) -> None: ...


def add_user(store: UserStore, actor: User, name: str, role: Role, login: bool = False) -> User:
    """Add a person with a role, or change an existing person's role; ``login`` also gives
    them a login of their own on a team database."""
    actor.require(Action.MANAGE_USERS)
    if not name.strip():
        raise ValidationError({"name": "a user needs a name"})
    return store.save_user(name.strip(), role, login, actor)


def set_up_team(store: UserStore, actor: User) -> None:
    """Have a team database hold every login to its person's role (the owner, once)."""
    actor.require(Action.MANAGE_USERS)
    store.set_up_team()


def export(user: User, read: Callable[[], T]) -> T:
    """What ``read`` gives (a table or dossiers to write to a file), if ``user`` may export."""
    user.require(Action.EXPORT)
    return read()
