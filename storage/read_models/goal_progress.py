"""The shared goal's progress as report sections (being written: issue 16)."""

from __future__ import annotations

from sqlalchemy import Connection

from domain.report import Figure, Scope, Section


def goal_figures(conn: Connection, scope: Scope) -> list[Figure]:
    """The meeting pack's summary of the goal: actual, pace, forecast, gap."""
    raise NotImplementedError


def goal_sections(conn: Connection, scope: Scope) -> list[Section]:
    """The goal's pages: cumulative actual against the pace line by week; contribution
    by tier, source or campaign, industry and rep."""
    raise NotImplementedError
