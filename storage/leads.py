"""The lead definition in the workspace, and compiled to SQL: which accounts are
sales-ready. Each rule kind of ``domain.leads`` has its SQL here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, select, true

from domain.leads import (
    DEFAULT_LEAD_DEFINITION,
    DossierComplete,
    HasDecisionMaker,
    HasPhone,
    LeadDefinition,
    LeadRule,
    MinimumEmployees,
    TierIn,
)
from domain.users import User
from storage.change_log import log_change
from storage.dossiers import dossier_complete_sql
from storage.icp_sql import has_decision_maker, is_blank_sql
from storage.schema import AccountRow, LeadDefinitionRow, table_of, utcnow
from storage.scores import stored
from storage.workspace import Workspace

accounts = table_of(AccountRow)
definitions = table_of(LeadDefinitionRow)


def _has_phone(rule: HasPhone) -> ColumnElement[bool]:
    return ~is_blank_sql(accounts.c.phone)


def _has_decision_maker(rule: HasDecisionMaker) -> ColumnElement[bool]:
    return has_decision_maker()


def _tier_in(rule: TierIn) -> ColumnElement[bool]:
    return stored("tier").in_(sorted(rule.tiers))


def _minimum_employees(rule: MinimumEmployees) -> ColumnElement[bool]:
    return and_(accounts.c.employees.is_not(None), accounts.c.employees >= rule.employees)


def _dossier_complete(rule: DossierComplete) -> ColumnElement[bool]:
    return dossier_complete_sql()


_COMPILERS: dict[str, Callable[[Any], ColumnElement[bool]]] = {
    HasPhone.kind: _has_phone,
    HasDecisionMaker.kind: _has_decision_maker,
    TierIn.kind: _tier_in,
    MinimumEmployees.kind: _minimum_employees,
    DossierComplete.kind: _dossier_complete,
}


def rule_sql(rule: LeadRule) -> ColumnElement[bool]:
    return _COMPILERS[rule.kind](rule)


def sales_ready_sql(definition: LeadDefinition) -> ColumnElement[bool]:
    """True for accounts that meet every point of the checklist."""
    return and_(true(), *(rule_sql(r) for r in definition.rules))


class SqlLeadStore:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def save_lead_definition(self, definition: LeadDefinition, user: User) -> None:
        with self.workspace.write() as conn:
            document = definition.to_document()
            conn.execute(
                insert(definitions).values(
                    document=document, created_by=user.name, created_at=utcnow()
                )
            )
            log_change(conn, user, "lead_definitions", None, "save", document)


def current_lead_definition(workspace: Workspace) -> LeadDefinition:
    """The newest saved lead definition, or the default one."""
    with workspace.read() as conn:
        return lead_definition_in(conn)


def lead_definition_in(conn: Connection) -> LeadDefinition:
    """The newest lead definition as ``conn`` sees it (inside its transaction)."""
    document = conn.execute(
        select(definitions.c.document).order_by(definitions.c.id.desc()).limit(1)
    ).scalar()
    return DEFAULT_LEAD_DEFINITION if document is None else LeadDefinition.from_document(document)
