"""Users and their roles, and which role may do what."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from uuid import UUID

from domain.errors import PermissionDenied


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
        }
    ),
    Role.REP: frozenset({Action.EXPORT, Action.RATE_DOSSIER}),
}


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
