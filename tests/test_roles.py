"""The role matrix: every use case, called by every role, is allowed or refused exactly as
the domain's permission table says; and only the domain checks roles."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest

from domain import (
    accounts,
    agreement,
    calendar,
    dossiers,
    engagement,
    goal,
    icp,
    importing,
    interactions,
    leads,
    plan,
    queue,
    targets,
    users,
)
from domain.errors import PermissionDenied
from domain.users import Action, Role, User, allowed_actions

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = {role: User(uuid.uuid4(), f"A {role.value}", role) for role in Role}
ACCOUNT = accounts.Account(name="Acme", id=uuid.uuid4())
CONTACT = accounts.Contact(account_id=ACCOUNT.id, name="Ann", id=uuid.uuid4())
VERSION = icp.IcpVersion(
    uuid.uuid4(), icp.IdealCustomerProfile("Any"), 1, "", "x", datetime.now(UTC)
)
DRAFT = dossiers.Dossier(uuid.uuid4(), ACCOUNT.id, uuid.uuid4(), {}, author="Someone else")
NOW = datetime.now(UTC)
CALL = interactions.Interaction(
    ACCOUNT.id, interactions.Channel.CALL, interactions.Outcome.CONVERSATION, NOW
)
GOAL = goal.Goal(goal.Metric.WON_ACCOUNTS, 20, NOW.date(), owners=("Rita", "Mark"))
READY = replace(DRAFT, status=dossiers.DossierStatus.READY, completeness=100)


def _store() -> MagicMock:
    """Stands in for any store or unit of work, and remembers what it was asked."""
    store = MagicMock()
    store.targets.users_by_name.return_value = {"Rita": PEOPLE[Role.REP]}
    store.targets.unowned.return_value = [(ACCOUNT.id, "Germany", None)]
    store.template_of.return_value = dossiers.DEFAULT_TEMPLATE
    store.accounts.get.return_value = ACCOUNT
    store.interactions.users_by_name.return_value = {"Rita": PEOPLE[Role.REP]}
    store.interactions.stage_of.return_value = targets.Stage.CONTACTED
    store.interactions.get.return_value = replace(CALL, logged_by=PEOPLE[Role.REP].name)
    store.interactions.is_superseded.return_value = False
    store.interactions.contact_account.return_value = ACCOUNT.id
    store.interactions.change_of.return_value = None
    store.users_by_name.return_value = {"Rita": PEOPLE[Role.REP]}
    store.roles.return_value = {"Rita": Role.REP, "Mark": Role.MARKETING}
    store.plan_state.return_value = plan.PlanState(plan.PlanVersions(goal=1), ())
    return store


Case = Callable[[Any, User], object]

#: Every use case that checks a role: the action it needs, and a call with plain values.
USE_CASES: list[tuple[Action, str, Case]] = [
    (Action.EDIT_ACCOUNTS, "create_account",
     lambda s, u: accounts.create_account(s, u, {"name": "Acme"})),
    (Action.EDIT_ACCOUNTS, "update_account",
     lambda s, u: accounts.update_account(s, u, ACCOUNT, {"city": "Graz"})),
    (Action.EDIT_ACCOUNTS, "revert_account_edit",
     lambda s, u: accounts.revert_account_edit(s, u, ACCOUNT, ACCOUNT)),
    (Action.EDIT_ACCOUNTS, "delete_account", lambda s, u: accounts.delete_account(s, u, ACCOUNT)),
    (Action.EDIT_ACCOUNTS, "restore_account",
     lambda s, u: accounts.restore_account(s, u, ACCOUNT.id)),
    (Action.EDIT_ACCOUNTS, "add_contact",
     lambda s, u: accounts.add_contact(s, u, ACCOUNT.id, {"name": "Ann"})),
    (Action.EDIT_ACCOUNTS, "update_contact",
     lambda s, u: accounts.update_contact(s, u, CONTACT, {"title": "CEO"})),
    (Action.EDIT_ACCOUNTS, "delete_contact", lambda s, u: accounts.delete_contact(s, u, CONTACT)),
    (Action.IMPORT, "import_file",
     lambda s, u: importing.import_file(s, u, Path("accounts.csv"), "accounts")),
    (Action.IMPORT, "import_engagement",
     lambda s, u: engagement.import_engagement(s, u, Path("engagement.csv"))),
    (Action.IMPORT, "review_possible_duplicate",
     lambda s, u: importing.review_possible_duplicate(u, s.keep_both)),
    (Action.UNDO_IMPORT, "undo_import", lambda s, u: importing.undo_import(s, u, "batch")),
    (Action.EXPORT, "export", lambda s, u: users.export(u, s.read)),
    (Action.MANAGE_USERS, "add_user", lambda s, u: users.add_user(s, u, "Ron", Role.REP)),
    (Action.MANAGE_USERS, "set_up_team", lambda s, u: users.set_up_team(s, u)),
    (Action.EDIT_ICP, "save_icp", lambda s, u: icp.save_icp(s, u, icp.IdealCustomerProfile("A"))),
    (Action.EDIT_ICP, "apply_icp", lambda s, u: icp.apply_icp(s, u, VERSION)),
    (Action.EDIT_LEAD_DEFINITION, "save_lead_definition",
     lambda s, u: leads.save_lead_definition(s, u, leads.DEFAULT_LEAD_DEFINITION)),
    (Action.EDIT_TARGET_LIST, "build_target_list",
     lambda s, u: targets.build_target_list(s, u, VERSION, {icp.Tier.A})),
    (Action.EDIT_TARGET_LIST, "add_to_target_list",
     lambda s, u: targets.add_to_target_list(s, u, [ACCOUNT.id], "asked for it")),
    (Action.EDIT_TARGET_LIST, "remove_from_target_list",
     lambda s, u: targets.remove_from_target_list(s, u, [ACCOUNT.id], "closed down")),
    (Action.EDIT_TARGET_LIST, "assign_owners",
     lambda s, u: targets.assign_owners(s, u, {ACCOUNT.id: PEOPLE[Role.REP].id})),
    (Action.EDIT_TARGET_LIST, "assign_round_robin",
     lambda s, u: targets.assign_round_robin(s, u, ["Rita"])),
    (Action.EDIT_TARGET_LIST, "assign_by_territory",
     lambda s, u: targets.assign_by_territory(
         s, u, targets.Territories.from_document({"Germany": "Rita"}))),
    (Action.EDIT_TARGET_LIST, "set_priority",
     lambda s, u: targets.set_priority(s, u, [ACCOUNT.id], 1)),
    (Action.EDIT_TARGET_LIST, "hand_off", lambda s, u: targets.hand_off(s, u)),
    (Action.EDIT_DOSSIER_TEMPLATE, "save_template",
     lambda s, u: dossiers.save_template(s, u, dossiers.DEFAULT_TEMPLATE)),
    (Action.EDIT_DOSSIER, "start_dossier",
     lambda s, u: dossiers.start_dossier(s, u, ACCOUNT.id)),
    (Action.EDIT_DOSSIER, "save_dossier",
     lambda s, u: dossiers.save_dossier(s, u, DRAFT, dossiers.DossierEdit({}))),
    (Action.EDIT_DOSSIER, "settle_conflict",
     lambda s, u: dossiers.settle_conflict(s, u, DRAFT, "overview")),
    (Action.EDIT_DOSSIER, "set_status (ready)",
     lambda s, u: dossiers.set_status(s, u, READY, dossiers.DossierStatus.READY)),
    (Action.REVIEW_DOSSIER, "set_status (reviewed)",
     lambda s, u: dossiers.set_status(s, u, READY, dossiers.DossierStatus.REVIEWED)),
    (Action.RATE_DOSSIER, "rate_dossier", lambda s, u: dossiers.rate_dossier(s, u, DRAFT, 4)),
    (Action.LOG_INTERACTION, "log_interaction",
     lambda s, u: interactions.log_interaction(s, u, CALL, now=NOW)),
    (Action.LOG_INTERACTION, "correct_interaction",
     lambda s, u: interactions.correct_interaction(s, u, uuid.uuid4(), CALL, now=NOW)),
    (Action.CORRECT_STAGE, "correct_stage",
     lambda s, u: interactions.correct_stage(s, u, ACCOUNT.id, targets.Stage.LOST, "gone")),
    (Action.GRANT_EXCEPTION, "grant_exception",
     lambda s, u: interactions.grant_exception(s, u, "Rita", ACCOUNT.id, "trade fair")),
    (Action.GRANT_EXCEPTION, "revoke_exception",
     lambda s, u: interactions.revoke_exception(s, u, uuid.uuid4())),
    (Action.SEE_ANY_QUEUE, "call_queue (another rep's)",
     lambda s, u: queue.call_queue(s, u, "Rita", now=NOW, today=NOW.date())),
    (Action.READ_FIELD_FEEDBACK, "read_feedback",
     lambda s, u: interactions.read_feedback(u, s.read, "Another rep")),
    (Action.SET_GOAL, "set_goal", lambda s, u: goal.set_goal(s, u, GOAL)),
    (Action.EDIT_AGREEMENT, "save_agreement",
     lambda s, u: agreement.save_agreement(s, u, agreement.Agreement())),
    (Action.EDIT_AGREEMENT, "save_calendar",
     lambda s, u: calendar.save_calendar(s, u, calendar.WorkCalendar())),
    (Action.SIGN_PLAN, "sign_plan", lambda s, u: plan.sign_plan(s, u, plan.side_of(u), NOW)),
]  # fmt: skip


def test_every_action_has_a_use_case():
    assert {action for action, _, _ in USE_CASES} == set(Action)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize(("action", "name", "call"), USE_CASES, ids=[n for _, n, _ in USE_CASES])
def test_the_role_matrix(role: Role, action: Action, name: str, call: Case):
    store = _store()
    if action in allowed_actions(role):
        call(store, PEOPLE[role])
        assert store.mock_calls, f"{name} did nothing for the {role}"
    else:
        with pytest.raises(PermissionDenied, match=re.escape(str(action))):
            call(store, PEOPLE[role])
        assert store.mock_calls == [], f"{name} touched the store for the {role}"


def test_the_matrix_is_the_agreed_one():
    """Who may do what, as PRODUCT.md has it: a rep cannot edit the ICP, the lead
    definition, the target list, the template or users."""
    assert allowed_actions(Role.OWNER) == set(Action)
    assert allowed_actions(Role.REP) == {
        Action.EXPORT,
        Action.RATE_DOSSIER,
        Action.LOG_INTERACTION,
        Action.SIGN_PLAN,
    }
    assert allowed_actions(Role.MARKETING) == set(Action) - {
        Action.MANAGE_USERS,
        Action.RATE_DOSSIER,
        Action.LOG_INTERACTION,
        Action.SET_GOAL,
        Action.EDIT_AGREEMENT,
    }


def test_roles_are_checked_only_in_the_domain():
    outside = [
        f"{path.relative_to(ROOT)}:{number}"
        for layer in ("storage", "ui", "reports")
        for path in sorted((ROOT / layer).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ".require(" in line
    ]
    assert outside == []
