"""The ICP compiled to SQL: one expression for the score and one for the tier, evaluated by
the database over every account. Semantics are those of :mod:`domain.icp`; a property
test checks that both evaluators agree."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    literal,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from domain.icp import CUSTOM, HAS_DECISION_MAKER, Criterion, IdealCustomerProfile, Operator
from storage.schema import AccountRow, ContactRow

accounts = AccountRow.__table__
contacts = ContactRow.__table__


class position(GenericFunction[int]):
    """1-based position of a substring, 0 if absent; case-sensitive on every database."""

    type = Integer()
    inherit_cache = True


@compiles(position, "sqlite")
def _position_sqlite(element: position, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(position, "postgresql")
def _position_postgresql(element: position, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def has_decision_maker() -> ColumnElement[bool]:
    """Whether the account has a live contact marked as a decision-maker."""
    return exists().where(
        contacts.c.account_id == accounts.c.id,
        contacts.c.deleted_at.is_(None),
        contacts.c.decision_maker.is_(True),
    )


def _subject(subject: str) -> ColumnElement[Any]:
    if subject.startswith(CUSTOM):
        custom: ColumnElement[Any] = accounts.c.custom[subject[len(CUSTOM) :]].as_string()
        return custom
    if subject == HAS_DECISION_MAKER:
        return has_decision_maker()
    return accounts.c[subject]


def criterion_sql(criterion: Criterion) -> ColumnElement[bool]:
    """The criterion as a boolean that is never NULL."""
    column = _subject(criterion.subject)
    values = criterion.values
    present = and_(column.is_not(None), cast(column, String) != "")
    match criterion.operator:
        case Operator.IS_SET if criterion.subject == HAS_DECISION_MAKER:
            return column
        case Operator.IS_SET:
            return present
        case Operator.IN:
            condition: ColumnElement[bool] = column.in_(values)
        case Operator.NOT_IN:
            condition = column.not_in(values)
        case Operator.BETWEEN:
            condition = column.between(values[0], values[1])
        case Operator.AT_LEAST:
            condition = column >= values[0]
        case Operator.AT_MOST:
            condition = column <= values[0]
        case Operator.CONTAINS if criterion.subject == "tags":
            tag = literal(f", {values[0]},", String)
            condition = position(literal(", ", String) + column + literal(",", String), tag) > 0
        case Operator.CONTAINS:
            condition = position(column, literal(str(values[0]), String)) > 0
    return case((and_(present, condition), true()), else_=false())


def score_sql(icp: IdealCustomerProfile) -> ColumnElement[int]:
    """0–100 for included accounts, 0 for those failing a must-have."""
    weighted = [c for c in icp.criteria if not c.must_have]
    musts = [criterion_sql(c) for c in icp.criteria if c.must_have]
    total = icp.total_weight
    points: ColumnElement[int] = literal(0, Integer)
    for criterion in weighted:
        points = points + case((criterion_sql(criterion), criterion.weight), else_=0)
    score: ColumnElement[int] = (
        literal(100, Integer) if total == 0 else (points * 100) // literal(total, Integer)
    )
    if not musts:
        return score
    return case((and_(*musts), score), else_=0)


def tier_sql(icp: IdealCustomerProfile) -> ColumnElement[str | None]:
    score = score_sql(icp)
    musts = [criterion_sql(c) for c in icp.criteria if c.must_have]
    included = and_(*musts) if musts else true()
    return case(
        (~included, None),
        (score >= icp.tier_a, "A"),
        (score >= icp.tier_b, "B"),
        else_="C",
    )
