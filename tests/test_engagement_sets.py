"""The engagement import's work in set form: the keys several accounts share said by one
statement for all of them, however many ways and keys a file holds."""

from __future__ import annotations

import pytest

from domain.accounts import create_account
from domain.users import Role
from storage.repositories import SqlUnitOfWork
from tests.conftest import statements_of
from tests.test_engagement import _csv, _import, crm  # noqa: F401 (crm: a fixture)


@pytest.mark.usefixtures("crm")
def test_the_keys_several_accounts_share_are_said_by_one_statement_for_all_ways(
    workspace, people, tmp_path
):
    owner = people[Role.OWNER]
    create_account(SqlUnitOfWork(workspace), owner, {"name": "Gamma France", "website": "gamma.fr"})
    path = _csv(tmp_path, (
        "info@gamma.example,,,Webinar,2025-03-01,,,\n"
        ",www.gamma.fr,,Webinar,2025-03-02,,,\n"
        ",,Gamma,Webinar,2025-03-03,,,\n"
    ))  # fmt: skip
    sent = statements_of([workspace], lambda: _import(workspace, owner, path))
    looked_up = [
        s for s in sent if any(f"{key}_key IN" in s for key in ("email", "domain", "name"))
    ]
    assert len(looked_up) == 1
    summary = _import(workspace, owner, path)
    assert [e.reason.split(": ")[0] for e in summary.errors] == [
        "2 accounts have this contact e-mail (Gamma, gamma.de, Germany; Gamma, gamma.fr, France)",
        "2 accounts have this website (Gamma France, gamma.fr; Gamma, gamma.fr, France)",
        "2 accounts have this name (Gamma, gamma.de, Germany; Gamma, gamma.fr, France)",
    ]
