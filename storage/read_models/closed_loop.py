"""The closed loop as report sections (being written: issue 16)."""

from __future__ import annotations

from sqlalchemy import Connection

from domain.report import Scope, Section
from domain.tables import TableData


def closed_loop_sections(conn: Connection, scope: Scope) -> list[Section]:
    """The funnel, lead quality by segment, what the field learned, ICP calibration."""
    raise NotImplementedError


def interaction_rows(conn: Connection, scope: Scope) -> TableData:
    """The raw interactions of the period, one row each, streamed."""
    raise NotImplementedError


def stage_change_rows(conn: Connection, scope: Scope) -> TableData:
    """The raw stage changes of the period, one row each, streamed."""
    raise NotImplementedError
