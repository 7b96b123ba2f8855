"""The service agreement's compliance as report sections (being written: issue 16)."""

from __future__ import annotations

from sqlalchemy import Connection

from domain.report import Figure, Scope, Section
from domain.tables import TableData


def sla_figures(conn: Connection, scope: Scope) -> tuple[list[Figure], list[Figure]]:
    """The meeting pack's summary: four figures for marketing (hand-offs against agreed,
    quality, tier A share, dossiers complete for the queue) and four for sales (first touch
    on time, attempts met, follow-ups kept, feedback given)."""
    raise NotImplementedError


def sla_sections(conn: Connection, scope: Scope) -> list[Section]:
    """Marketing's side and sales' side, with the black hole."""
    raise NotImplementedError


def handoff_rows(conn: Connection, scope: Scope) -> TableData:
    """The raw hand-offs of the period, one row each, streamed."""
    raise NotImplementedError
