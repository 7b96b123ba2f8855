"""Python and SQL evaluate the ICP alike: same score and tier on random accounts and criteria."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from domain.fields import ACCOUNT_FIELDS
from domain.icp import (
    CRITERION_FIELDS,
    CUSTOM,
    HAS_DECISION_MAKER,
    Criterion,
    IdealCustomerProfile,
    Operator,
    is_numeric,
    operators_for,
)
from storage.icp_sql import score_sql, tier_sql
from storage.keys import derived_columns
from storage.schema import AccountRow, ContactRow

accounts = AccountRow.__table__
contacts = ContactRow.__table__

WORDS = ["Software", "Retail", "software", "Ünïcode", "a%b", "x_y", "", " ", "\u00a0", "Köln",
         "東京", "acme.com", "Acme", "1", "true"]  # fmt: skip
word = st.sampled_from(WORDS)
#: Countries as people type them: one country many ways, and spellings that name none.
COUNTRIES = ["US", "USA", "United States", "united states", "U.S.A.", "Britain", "GB",
             "Deutschland", "Germany", "Atlantis", "Köln", ""]  # fmt: skip
country = st.sampled_from(COUNTRIES)
tags = st.lists(st.sampled_from(["cloud", "erp", "Cloud", "b2b", "a%"]), max_size=3, unique=True)
#: Custom field names as import headers may spell them, JSON path characters included.
CUSTOM_NAMES = ["Stack", "Tech.Stack", 'say "hi"', "Größe", "$[0]", "a b", "x'y", "a\\b", "😀"]
ODD_NAMES = ("Größe", 'say "hi"', "a\\b")
NUMBERS = {"employees": 5000, "annual_revenue": 10**12, "founded_year": 2100}
TEXTS = [f.name for f in ACCOUNT_FIELDS if f.name not in NUMBERS and f.name != "tags"]


def _number(field: str) -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=NUMBERS[field])


#: A random value for every field of an account, and its contacts' decision-maker flag.
FACTS = {
    **{field: st.one_of(st.none(), word) for field in TEXTS if field != "country"},
    "country": st.one_of(st.none(), country),
    **{field: st.one_of(st.none(), _number(field)) for field in NUMBERS},
    "tags": tags.map(lambda t: ", ".join(t) or None),
    "custom": st.one_of(
        st.none(), st.dictionaries(st.sampled_from(CUSTOM_NAMES), word, max_size=3)
    ),
    HAS_DECISION_MAKER: st.booleans(),
}
account = st.fixed_dictionaries(FACTS)


def test_random_accounts_have_every_field():
    assert set(FACTS) == {f.name for f in ACCOUNT_FIELDS} | {"custom", HAS_DECISION_MAKER}


def _criterion() -> st.SearchStrategy[Criterion]:
    """A valid criterion on any field, custom fields included, with any operator it takes."""
    fields = [*CRITERION_FIELDS, *(CUSTOM + name for name in CUSTOM_NAMES)]
    return st.sampled_from(fields).flatmap(
        lambda field: st.sampled_from(operators_for(field)).flatmap(
            lambda operator: st.builds(
                Criterion,
                st.just(field),
                st.just(operator),
                _values(field, operator),
                st.booleans(),
                st.integers(min_value=1, max_value=100),
            )
        )
    )


def _values(field: str, operator: Operator) -> st.SearchStrategy[tuple[object, ...]]:
    if operator is Operator.IS_SET:
        return st.just(())
    if is_numeric(field):
        n = _number(field)
        if operator is Operator.BETWEEN:
            return st.tuples(n, n).map(lambda t: tuple(sorted(t)))
        return n.map(lambda v: (v,))
    if field == "tags":
        return st.sampled_from(["cloud", "Cloud", "a%", "", "b2b"]).map(lambda w: (w,))
    if operator is Operator.CONTAINS:
        return word.map(lambda w: (w,))
    if field == "country":
        return st.lists(country, min_size=1, max_size=3).map(tuple)
    return st.lists(word, min_size=1, max_size=3).map(tuple)


icps = st.builds(
    IdealCustomerProfile,
    st.just("random"),
    st.lists(_criterion(), max_size=5).map(tuple),
    st.integers(min_value=50, max_value=100),
    st.integers(min_value=0, max_value=50),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(icp=icps, batch=st.lists(account, min_size=1, max_size=8))
@example(  # names that a SQLite JSON path does not find: non-ASCII, a quote, a backslash
    icp=IdealCustomerProfile("names", tuple(Criterion(CUSTOM + name, Operator.CONTAINS, ("Go",))
                                            for name in ODD_NAMES)),
    batch=[{**dict.fromkeys(FACTS), "custom": dict.fromkeys(ODD_NAMES, "Go"),
            HAS_DECISION_MAKER: False}],
)  # fmt: skip
def test_sql_and_python_agree(workspace, icp, batch):
    rows, people = [], []
    for facts in batch:
        values = {k: v for k, v in facts.items() if k != HAS_DECISION_MAKER}
        values["name"] = values["name"] or "Acme"  # an account always has a name
        row_id = uuid.uuid4()
        rows.append({"id": row_id, "changed_by": "t", **values, **derived_columns(values)})
        people.append({"id": uuid.uuid4(), "account_id": row_id, "name": "P", "changed_by": "t",
                       "decision_maker": facts[HAS_DECISION_MAKER]})  # fmt: skip
    with workspace.write() as conn:
        conn.execute(delete(contacts))
        conn.execute(delete(accounts))
        conn.execute(insert(accounts), rows)
        conn.execute(insert(contacts), people)
    with workspace.read() as conn:
        got = dict(
            (r.id, (r.score, r.tier))
            for r in conn.execute(
                select(accounts.c.id, score_sql(icp).label("score"), tier_sql(icp).label("tier"))
            )
        )
    for row, facts in zip(rows, batch, strict=True):
        expected = icp.evaluate({**facts, "name": row["name"]})
        assert got[row["id"]] == (expected.score, expected.tier), (facts, icp)
