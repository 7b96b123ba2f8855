"""The written plan as report sections (being written: issue 16)."""

from __future__ import annotations

from sqlalchemy import Connection

from domain.report import Scope, Section


def plan_sections(conn: Connection, scope: Scope) -> list[Section]:
    """The goal, the ICP, the lead definition, the agreement and the dossier template at
    their current versions, the goal-to-agreement arithmetic, and the sign-offs."""
    raise NotImplementedError
