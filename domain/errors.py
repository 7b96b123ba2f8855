"""Errors that the use cases raise and every layer may show to a user."""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """``text`` with every character a terminal or a label would not show, or would obey
    (ESC, a line break, a right-to-left override), written as its escape: ``\\x1b``,
    ``\\n``, ``\\u202e``. Messages quote what files hold; a file's bytes must not steer the
    terminal they are printed on, nor hide from the person reading."""
    return "".join(
        char.encode("unicode_escape").decode() if _hidden(char) else char for char in text
    )


def _hidden(char: str) -> bool:
    category = unicodedata.category(char)  # Cc control, Cf format, Zl/Zp line and paragraph
    return category[0] == "C" or category in ("Zl", "Zp")


class AccordError(Exception):
    """Base of every error whose message is meant for the user: its text is one line, with
    what it quotes from files made printable."""

    def __str__(self) -> str:
        return printable(super().__str__())


class PermissionDenied(AccordError):
    """The user's role does not allow the action."""


class ValidationError(AccordError):
    """Input does not satisfy a rule; ``problems`` maps field name to message."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in self.problems.items()))


class ConcurrentEditError(AccordError):
    """Someone else saved the record since it was loaded."""

    def __init__(self, what: str = "This record") -> None:
        super().__init__(f"{what} was changed by someone else — reload it to see their changes.")


class NotFound(AccordError):
    """The record does not exist (or was deleted)."""


class WorkspaceBusy(AccordError):
    """Another change held the workspace for longer than a write waits for it."""

    def __init__(self) -> None:
        super().__init__(
            "The workspace is busy with another change, so nothing was saved: "
            "try again in a moment."
        )


class WorkspaceDamaged(AccordError):
    """SQLite found damaged pages in a workspace file, which is left as it is.

    ``backup`` is the newest backup that passed the same check, if there is one.
    """

    def __init__(self, workspace: str, backup: str | None) -> None:
        self.workspace, self.backup = workspace, backup
        super().__init__(
            f"The workspace {workspace} is damaged (SQLite found broken pages in it); "
            "it was left as it is."
        )


class Cancelled(AccordError):
    """The user cancelled the work before it was kept: nothing changed."""

    def __init__(self, message: str = "Cancelled: nothing was changed.") -> None:
        super().__init__(message)


class NotOnTargetList(NotFound):
    """An account of a selection is not on the target list."""

    def __init__(self, account: str) -> None:
        super().__init__(
            f"{account} is not on the target list, so nothing was changed: leave it out of "
            "the selection, or add it to the list first."
        )


class AlreadyOnTargetList(AccordError):
    """An account of a selection is on the target list already."""

    def __init__(self, account: str) -> None:
        super().__init__(
            f"{account} is on the target list already, so nothing was changed: leave it out "
            "of the selection and add the others."
        )


class OutsideTargetList(AccordError):
    """A rep tried to log against an account that is not on the target list, without an
    exception for it."""

    def __init__(self, rep: str, account: str) -> None:
        super().__init__(
            f"{rep} can log calls and visits only against accounts on the target list, and "
            f"{account} is not on it. The owner or marketing can put it on the list, or "
            f"grant {rep} an exception for it."
        )
