"""A sync's steps, each one transaction on one side: progress after each, and a Cancel
between them that keeps what the steps before it committed (the next sync carries on)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import Cancelled
from domain.progress import Cancel, Progress


@dataclass(frozen=True)
class Steps:
    total: int
    progress: Progress | None = None
    cancelled: Cancel | None = None

    def reached(self, done: int) -> None:
        """Say that ``done`` steps are committed; :class:`Cancelled` if the user asked to
        stop and steps are left."""
        if self.progress is not None:
            self.progress(done, self.total)
        if done < self.total and self.cancelled is not None and self.cancelled():
            raise Cancelled(
                "The sync was stopped. What it sent or received so far is kept; the next "
                "sync carries on from there."
            )
