"""Python and SQL evaluate the ICP alike: same score and tier on random accounts and criteria."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from domain.icp import HAS_DECISION_MAKER, Criterion, IdealCustomerProfile, Operator
from storage.icp_sql import score_sql, tier_sql
from storage.keys import derived_columns
from storage.schema import AccountRow, ContactRow

accounts = AccountRow.__table__
contacts = ContactRow.__table__

WORDS = ["Software", "Retail", "software", "Ünïcode", "a%b", "x_y", "", "Köln", "東京"]
word = st.sampled_from(WORDS)
#: Countries as people type them: one country many ways, and spellings that name none.
COUNTRIES = ["US", "USA", "United States", "united states", "U.S.A.", "Britain", "GB",
             "Deutschland", "Germany", "Atlantis", "Köln", ""]  # fmt: skip
country = st.sampled_from(COUNTRIES)
number = st.one_of(st.none(), st.integers(min_value=0, max_value=5000))
tags = st.lists(st.sampled_from(["cloud", "erp", "Cloud", "b2b", "a%"]), max_size=3, unique=True)

account = st.fixed_dictionaries(
    {
        "industry": st.one_of(st.none(), word),
        "country": st.one_of(st.none(), country),
        "employees": number,
        "founded_year": number,
        "phone": st.one_of(st.none(), st.just(""), st.just("+1 555")),
        "tags": tags.map(lambda t: ", ".join(t) or None),
        "custom": st.one_of(st.none(), st.fixed_dictionaries({"Stack": word})),
        HAS_DECISION_MAKER: st.booleans(),
    }
)


def _criterion() -> st.SearchStrategy[Criterion]:
    weight = st.integers(min_value=1, max_value=100)
    must = st.booleans()
    text_field = st.sampled_from(["industry", "country"])
    countries = st.lists(country, min_size=1, max_size=3).map(tuple)
    num_field = st.sampled_from(["employees", "founded_year"])
    values = st.lists(word, min_size=1, max_size=3).map(tuple)
    n = st.integers(min_value=0, max_value=5000)
    return st.one_of(
        st.builds(Criterion, text_field, st.sampled_from([Operator.IN, Operator.NOT_IN]), values,
                  must, weight),
        st.builds(Criterion, st.just("country"), st.sampled_from([Operator.IN, Operator.NOT_IN]),
                  countries, must, weight),
        st.builds(Criterion, text_field, st.just(Operator.CONTAINS), word.map(lambda w: (w,)),
                  must, weight),
        st.builds(Criterion, num_field, st.just(Operator.BETWEEN),
                  st.tuples(n, n).map(lambda t: tuple(sorted(t))), must, weight),
        st.builds(Criterion, num_field, st.sampled_from([Operator.AT_LEAST, Operator.AT_MOST]),
                  n.map(lambda v: (v,)), must, weight),
        st.builds(Criterion, st.sampled_from(["phone", "industry", HAS_DECISION_MAKER]),
                  st.just(Operator.IS_SET), st.just(()), must, weight),
        st.builds(Criterion, st.just("tags"), st.just(Operator.CONTAINS),
                  st.sampled_from(["cloud", "Cloud", "a%"]).map(lambda w: (w,)), must, weight),
        st.builds(Criterion, st.just("custom:Stack"), st.just(Operator.CONTAINS),
                  word.map(lambda w: (w,)), must, weight),
    )  # fmt: skip


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
def test_sql_and_python_agree(workspace, icp, batch):
    rows, people = [], []
    for facts in batch:
        values = {k: v for k, v in facts.items() if k != HAS_DECISION_MAKER}
        values["name"] = "Acme"
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
        expected = icp.evaluate(facts)
        assert got[row["id"]] == (expected.score, expected.tier), (facts, icp)
