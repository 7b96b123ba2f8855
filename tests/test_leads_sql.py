"""Python and SQL evaluate the lead definition alike: the same checklist and the same
sales-ready answer on random accounts and definitions, on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from domain.icp import Tier
from domain.leads import (
    DossierComplete,
    HasDecisionMaker,
    HasPhone,
    LeadDefinition,
    MinimumEmployees,
    TierIn,
)
from domain.values import WHITESPACE, is_blank
from storage.icps import account_facts
from storage.keys import derived_columns
from storage.leads import rule_sql, sales_ready_sql
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    ContactRow,
    DossierRow,
    DossierTemplateRow,
    table_of,
    utcnow,
)

accounts = table_of(AccountRow)
contacts = table_of(ContactRow)
scores = table_of(AccountScoreRow)
dossiers = table_of(DossierRow)
templates = table_of(DossierTemplateRow)

#: Phones as they may be stored: typed, imported or synced, spaces of every kind included.
PHONES = [None, "", " ", "\t", "\u00a0", "\u3000", " \u2007\n", "\u200b", "+1 555",
          "\u00a0+49 30 1\u00a0", "n/a", "\x85"]  # fmt: skip

account = st.fixed_dictionaries(
    {
        "phone": st.sampled_from(PHONES),
        "employees": st.one_of(st.none(), st.integers(min_value=0, max_value=500)),
        # the stored fit: no row (never scored), unscored, or a tier
        "tier": st.one_of(st.just("no row"), st.none(), st.sampled_from(list(Tier))),
        # each contact: (decision-maker, deleted)
        "contacts": st.lists(st.tuples(st.booleans(), st.booleans()), max_size=3),
        # the dossier: none, or (completeness, deleted)
        "dossier": st.one_of(
            st.none(), st.tuples(st.sampled_from([0, 50, 99, 100]), st.booleans())
        ),
    }
)

rules = st.one_of(
    st.just(HasPhone()),
    st.just(HasDecisionMaker()),
    st.just(DossierComplete()),
    st.sets(st.sampled_from(list(Tier)), min_size=1).map(lambda t: TierIn(frozenset(t))),
    st.integers(min_value=0, max_value=500).map(MinimumEmployees),
)
definitions = st.lists(rules, max_size=5, unique_by=lambda r: r.kind).map(
    lambda r: LeadDefinition(tuple(r))
)


def test_whitespace_is_what_python_calls_whitespace():
    assert set(WHITESPACE) == {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()}
    assert is_blank(None) and is_blank("\u00a0\t ") and not is_blank("\u200b")


def _store(workspace, batch) -> list[uuid.UUID]:
    """Write the accounts with their contacts, stored fit and dossier; their ids in order."""
    rows, people, fits, research = [], [], [], []
    template, now = uuid.uuid4(), utcnow()
    for facts in batch:
        values = {"name": "Acme", "phone": facts["phone"], "employees": facts["employees"]}
        account_id = uuid.uuid4()
        rows.append({"id": account_id, "changed_by": "t", **values, **derived_columns(values)})
        for decision_maker, deleted in facts["contacts"]:
            people.append({"id": uuid.uuid4(), "account_id": account_id, "name": "P",
                           "changed_by": "t", "decision_maker": decision_maker,
                           "deleted_at": now if deleted else None})  # fmt: skip
        if facts["tier"] != "no row":
            fits.append({"account_id": account_id, "score": None, "tier": facts["tier"],
                         "icp_version_id": None})  # fmt: skip
        if facts["dossier"] is not None:
            completeness, deleted = facts["dossier"]
            research.append({"id": uuid.uuid4(), "account_id": account_id,
                             "template_id": template, "texts": {}, "sources": [],
                             "contact_ids": [], "status": "draft", "author": "t",
                             "search_text": "", "changed_by": "t", "completeness": completeness,
                             "deleted_at": now if deleted else None})  # fmt: skip
    with workspace.write() as conn:
        for table in (dossiers, templates, contacts, scores, accounts):
            conn.execute(delete(table))
        conn.execute(insert(accounts), rows)
        conn.execute(insert(templates).values(id=template, number=1, document={},
                                              created_by="t"))  # fmt: skip
        for table, more in ((contacts, people), (scores, fits), (dossiers, research)):
            if more:
                conn.execute(insert(table), more)
    return [row["id"] for row in rows]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(definition=definitions, batch=st.lists(account, min_size=1, max_size=6))
def test_sql_and_python_agree(workspace, definition, batch):
    ids = _store(workspace, batch)
    columns = [rule_sql(rule).label(f"rule{i}") for i, rule in enumerate(definition.rules)]
    statement = select(accounts.c.id, sales_ready_sql(definition).label("ready"), *columns)
    with workspace.read() as conn:
        in_sql = {row.id: (bool(row.ready), [bool(v) for v in row[2:]])
                  for row in conn.execute(statement)}  # fmt: skip
        in_python = {account_id: account_facts(conn, account_id) for account_id in ids}
    for account_id, facts in zip(ids, batch, strict=True):
        checks = definition.evaluate(in_python[account_id])
        expected = (definition.sales_ready(in_python[account_id]), [c.met for c in checks])
        assert in_sql[account_id] == expected, (facts, definition)
