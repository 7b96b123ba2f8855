"""Errors that the use cases raise and every layer may show to a user."""

from __future__ import annotations


class AccordError(Exception):
    """Base of every error whose message is meant for the user."""


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
