"""The ICP compiled to SQL: one expression for the score and one for the tier, evaluated by
the database over every account. Semantics are those of :mod:`domain.icp`; a property
test checks that both evaluators agree."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from domain.icp import (
    CUSTOM,
    HAS_DECISION_MAKER,
    Criterion,
    IdealCustomerProfile,
    Operator,
    is_numeric,
)
from domain.values import WHITESPACE, is_blank
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


class custom_field_by_key(GenericFunction[str]):
    """``custom_field_by_key(custom, name)``: the text of the custom field ``name``, the key
    compared as text (no JSON path)."""

    type = String()
    inherit_cache = True


@compiles(custom_field_by_key, "sqlite")
def _custom_field_by_key_sqlite(element: custom_field_by_key, compiler: Any, **kw: Any) -> str:
    custom, name = (compiler.process(c, **kw) for c in element.clauses)
    return f"(SELECT value FROM json_each({custom}) WHERE key = {name})"


@compiles(custom_field_by_key, "postgresql")
def _custom_field_by_key_postgresql(element: custom_field_by_key, compiler: Any, **kw: Any) -> str:
    custom, name = (compiler.process(c, **kw) for c in element.clauses)
    return f"({custom} ->> {name})"


#: A custom field name that a JSON path finds on every SQLite version.
_PLAIN_NAME = re.compile(r"[ !#-\[\]-~]*")


def custom_field(name: str) -> ColumnElement[str]:
    """The text of an account's custom field ``name`` (NULL when it has none).

    SQLite before 3.45 compares a JSON path with the key as stored, and the JSON is stored
    ASCII-escaped: a path never found "Größe" (stored ``Gr\\u00f6\\u00dfe``) nor a name
    with a quote in it. Such names are looked up with ``json_each``, which reads keys as
    text; plain names keep the JSON path, which is quicker over a million accounts.
    """
    if _PLAIN_NAME.fullmatch(name):
        by_path: ColumnElement[str] = accounts.c.custom[name].as_string()
        return by_path
    return custom_field_by_key(accounts.c.custom, literal(name, String))


class trim_whitespace(GenericFunction[str]):
    """``trim(text, characters)``: removes every character of the set from both ends."""

    type = String()
    inherit_cache = True


@compiles(trim_whitespace)
def _trim_whitespace(element: trim_whitespace, compiler: Any, **kw: Any) -> str:
    return f"trim({compiler.process(element.clauses, **kw)})"


@compiles(trim_whitespace, "postgresql")
def _trim_whitespace_postgresql(element: trim_whitespace, compiler: Any, **kw: Any) -> str:
    return f"btrim({compiler.process(element.clauses, **kw)})"


def is_blank_sql(column: ColumnElement[str | None]) -> ColumnElement[bool]:
    """SQL's :func:`domain.values.is_blank`: NULL, or whitespace only."""
    return func.coalesce(trim_whitespace(column, literal(WHITESPACE, String)), "") == ""


def has_decision_maker() -> ColumnElement[bool]:
    """Whether the account has a live contact marked as a decision-maker."""
    return exists().where(
        contacts.c.account_id == accounts.c.id,
        contacts.c.deleted_at.is_(None),
        contacts.c.decision_maker.is_(True),
    )


def _field_column(field: str) -> ColumnElement[Any]:
    if field.startswith(CUSTOM):
        return custom_field(field[len(CUSTOM) :])
    if field == HAS_DECISION_MAKER:
        return has_decision_maker()
    return accounts.c[field]


def _condition(criterion: Criterion) -> ColumnElement[bool]:
    """The criterion as a condition that is NULL where the field is empty, which SQL treats
    as not met; the "is it empty?" test is written out only where the operator needs it
    (this runs a million times per score)."""
    by_code = criterion.by_country_code
    column = accounts.c.country_code if by_code else _field_column(criterion.field)
    values = criterion.values
    if is_numeric(criterion.field):
        present: ColumnElement[bool] = column.is_not(None)
    else:
        present = ~is_blank_sql(column)
    needs_present = False
    match criterion.operator:
        case Operator.IS_SET if criterion.field == HAS_DECISION_MAKER:
            return column
        case Operator.IS_SET:
            return present
        case Operator.IN:
            condition: ColumnElement[bool] = column.in_(values)
            needs_present = any(is_blank(str(v)) for v in values)
        case Operator.NOT_IN:
            condition = column.not_in(values)
            needs_present = True
        case Operator.BETWEEN:
            condition = column.between(values[0], values[1])
        case Operator.AT_LEAST:
            condition = column >= values[0]
        case Operator.AT_MOST:
            condition = column <= values[0]
        case Operator.CONTAINS if criterion.field == "tags":
            tag = literal(f", {values[0]},", String)
            condition = position(literal(", ", String) + column + literal(",", String), tag) > 0
            needs_present = is_blank(str(values[0]))
        case Operator.CONTAINS:
            condition = position(column, literal(str(values[0]), String)) > 0
            needs_present = is_blank(str(values[0]))
    return and_(present, condition) if needs_present else condition


def criterion_sql(criterion: Criterion) -> ColumnElement[bool]:
    """The criterion as a boolean that is never NULL."""
    return case((_condition(criterion), true()), else_=false())


def points_sql(icp: IdealCustomerProfile) -> ColumnElement[int]:
    """The weight of the weighted criteria an account meets."""
    points: ColumnElement[int] = literal(0, Integer)
    for criterion in icp.criteria:
        if not criterion.must_have:
            points = points + case((_condition(criterion), criterion.weight), else_=0)
    return points


def included_sql(icp: IdealCustomerProfile) -> ColumnElement[bool]:
    """True when the account meets every must-have (NULL or false otherwise: use it as a
    condition, never negate it)."""
    musts = [_condition(c) for c in icp.criteria if c.must_have]
    return and_(*musts) if musts else true()


def scaled_sql(icp: IdealCustomerProfile) -> ColumnElement[int]:
    """The weighted criteria's points on the 0–100 scale, must-haves aside."""
    total = icp.total_weight
    if total == 0:
        return literal(100, Integer)
    return (points_sql(icp) * 100) // literal(total, Integer)


def score_of(
    icp: IdealCustomerProfile, included: ColumnElement[bool], scaled: ColumnElement[int]
) -> ColumnElement[int]:
    """The score from whether the account meets the must-haves and its scaled points."""
    if not any(c.must_have for c in icp.criteria):
        return scaled
    return case((included, scaled), else_=0)


def tier_of(
    icp: IdealCustomerProfile, included: ColumnElement[bool], scaled: ColumnElement[int]
) -> ColumnElement[str | None]:
    """The tier from the same two values (NULL for accounts a must-have excludes)."""
    tier = case((scaled >= icp.tier_a, "A"), (scaled >= icp.tier_b, "B"), else_="C")
    return case((included, tier), else_=None)


def score_sql(icp: IdealCustomerProfile) -> ColumnElement[int]:
    """0–100 for included accounts, 0 for those failing a must-have."""
    return score_of(icp, included_sql(icp), scaled_sql(icp))


def tier_sql(icp: IdealCustomerProfile) -> ColumnElement[str | None]:
    return tier_of(icp, included_sql(icp), scaled_sql(icp))
