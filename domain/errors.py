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


class WorkspaceBusy(AccordError):
    """Another change held the workspace for longer than a write waits for it."""

    def __init__(self) -> None:
        super().__init__(
            "The workspace is busy with another change, so nothing was saved: "
            "try again in a moment."
        )
