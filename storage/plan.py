"""The written plan in the workspace: which version of each part it holds now, and the
sign-offs of marketing and sales (``domain.plan``)."""

from __future__ import annotations

from sqlalchemy import Connection, func, insert, select

from domain.plan import PlanState, PlanVersions, Side, SignOff
from domain.users import User
from storage.change_log import log_change
from storage.icps import read_active_version
from storage.schema import (
    AgreementVersionRow,
    DossierTemplateRow,
    GoalVersionRow,
    LeadDefinitionRow,
    PlanSignOffRow,
    stored_utc,
    table_of,
)
from storage.workspace import Workspace

goals = table_of(GoalVersionRow)
agreements = table_of(AgreementVersionRow)
lead_definitions = table_of(LeadDefinitionRow)
templates = table_of(DossierTemplateRow)
sign_offs = table_of(PlanSignOffRow)


def plan_versions_in(conn: Connection) -> PlanVersions:
    """The version of each part that holds now, as ``conn`` sees it: the newest goal,
    lead definition, agreement and template, and the ICP applied last."""
    icp = read_active_version(conn)
    return PlanVersions(
        goal=conn.execute(select(func.max(goals.c.number))).scalar(),
        icp=None if icp is None else icp.label,
        lead_definition=conn.execute(select(func.max(lead_definitions.c.id))).scalar(),
        agreement=conn.execute(select(func.max(agreements.c.number))).scalar(),
        template=conn.execute(select(func.max(templates.c.number))).scalar(),
    )


def plan_state_in(conn: Connection) -> PlanState:
    """The plan's parts now and every sign-off so far, oldest first."""
    rows = conn.execute(select(sign_offs).order_by(sign_offs.c.signed_at, sign_offs.c.id)).all()
    signed = tuple(
        SignOff(
            Side(row.side),
            row.signed_by,
            stored_utc(row.signed_at),
            PlanVersions.from_document(row.versions),
        )
        for row in rows
    )
    return PlanState(plan_versions_in(conn), signed)


class SqlPlanStore:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def plan_state(self) -> PlanState:
        with self.workspace.read() as conn:
            return plan_state_in(conn)

    def save_sign_off(self, sign_off: SignOff, user: User) -> None:
        document = sign_off.versions.to_document()
        with self.workspace.write() as conn:
            conn.execute(
                insert(sign_offs).values(
                    side=sign_off.side.value,
                    versions=document,
                    signed_at=sign_off.signed_at,
                    signed_by=sign_off.signed_by,
                )
            )
            log_change(
                conn,
                user,
                "plan_sign_offs",
                None,
                "sign",
                {"side": sign_off.side.value, "versions": document},
            )
