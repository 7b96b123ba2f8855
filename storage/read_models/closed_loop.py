"""The closed loop as report sections: the funnel with its conversion, close rate and time
in each stage, lead quality by segment, what the field learned, and the ICP's calibration
against the outcomes; and the raw interactions and stage changes behind them.

Everything is counted in SQL; Python only words the counts.

- The funnel is read from the stage history (``stage_changes``), by the rules of
  :mod:`domain.closed_loop`: an account reaches a stage when it moves there or to any later
  stage of the line (an account that skipped a stage counts as having reached it), a stage
  is counted in the period in which the account first reached it, and the conversion from
  one stage to the next is the share of those accounts that reached the next by the
  period's end. The close rate is won / (won + lost) of the accounts closed in the period.
  Time in a stage is the median of whole days from reaching it to leaving it (for a later
  stage or lost), over the accounts that reached it in the period and left it by its end.
- Segments are the account's: its tier (as scored now), the ICP version that put it on the
  target list, its industry, its source, each campaign it engaged with (an account in two
  campaigns counts in both) and the rep who owns it. A report for one rep counts the
  accounts that rep owns.
- Lead quality is read from the period's ratings and accepted/rejected verdicts; an entry
  that a later one corrects is left out, its correction counts. So for the learnings.
- Deleted accounts are left out everywhere.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction

from domain.calibration import CriterionOutcomes, Suggestion, calibrate
from domain.closed_loop import FUNNEL, OPEN, leaving, median, next_stage, reaching, share
from domain.icp import IcpVersion, Tier
from domain.interactions import LeadVerdict, Outcome
from domain.report import Chart, ChartKind, Figure, Quote, Scope, Section, Series, Unit
from domain.tables import ColumnKind, TableColumn, TableData
from domain.targets import Stage
from domain.values import counted
from storage.icp_sql import criterion_sql
from storage.icps import read_active_version
from storage.interactions import CORRECTED, interactions, stage_changes
from storage.read_models.interaction_export import (
    COLUMNS as INTERACTION_COLUMNS,
)
from storage.read_models.interaction_export import (
    interaction_cells,
    interaction_statement,
    streamed,
)
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    EngagementRow,
    IcpVersionRow,
    TargetRow,
    UserRow,
    stored_utc,
    table_of,
)

accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
targets = table_of(TargetRow)
versions = table_of(IcpVersionRow)
engagements = table_of(EngagementRow)
owners = table_of(UserRow).alias("owner")

#: The most segments a table lists (the largest first); the rest are said in a note.
MAX_SEGMENTS = 25
#: The most segments a funnel chart draws.
CHART_SEGMENTS = 6
#: The learnings shown per group of the digest, and the most groups: about five minutes'
#: reading.
PER_GROUP = 3
MAX_GROUPS = 12
#: The longest learning quoted whole; a longer one is cut at a word.
QUOTE_LENGTH = 280

STAGE_CHANGE_COLUMNS = [
    TableColumn("Time (UTC)", ColumnKind.DATETIME),  # as stored: the same on every computer
    TableColumn("Account"),
    TableColumn("From stage"),
    TableColumn("To stage"),
    TableColumn("Changed by"),
    TableColumn("Reason"),
]


class Segment(enum.StrEnum):
    TIER = "tier"
    ICP_VERSION = "ICP version"
    INDUSTRY = "industry"
    SOURCE = "source"
    CAMPAIGN = "campaign"
    REP = "rep"

    @property
    def label(self) -> str:
        """``Tier``, ``ICP version`` …: a column's heading."""
        return self.value[0].upper() + self.value[1:]

    @property
    def missing(self) -> str:
        """What a segment without a value is called: ``No tier``, ``No campaign`` …"""
        return f"No {self.value}"


# --- SQL helpers ------------------------------------------------------------------------


class days_between(GenericFunction[int]):
    """``days_between(a, b)``: the whole days from time ``a`` to time ``b``."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    # Whole seconds, counted as integers: julianday's fractions make 3 days 2.99999.
    return (
        f"((CAST(strftime('%s', {b}) AS INTEGER) - CAST(strftime('%s', {a}) AS INTEGER)) / 86400)"
    )


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(floor(extract(epoch FROM ({b} - {a})) / 86400) AS INTEGER)"


def _bounds(scope: Scope) -> tuple[datetime, datetime]:
    zone = scope.calendar.zone
    return scope.period.start(zone), scope.period.end(zone)


def _column(stage: Stage) -> str:
    return stage.name.lower()


def _left(stage: Stage) -> str:
    return f"left_{stage.name.lower()}"


def _with_segments(
    base: Any, account_id: ColumnElement[Any], scope: Scope
) -> tuple[Any, list[Any]]:
    """``base`` joined to the accounts behind its ``account_id`` and to what segments them
    (:func:`_segment_columns`), with the conditions: live accounts, one rep's if the scope
    says so."""
    joined = (
        base.join(accounts, accounts.c.id == account_id)
        .outerjoin(scores, scores.c.account_id == accounts.c.id)
        .outerjoin(targets, targets.c.account_id == accounts.c.id)
        .outerjoin(owners, owners.c.id == targets.c.owner_id)
        .outerjoin(versions, versions.c.id == targets.c.icp_version_id)
    )
    conditions: list[Any] = [accounts.c.deleted_at.is_(None)]
    if scope.rep is not None:
        conditions.append(owners.c.name == scope.rep)
    return joined, conditions


def _segment_columns() -> list[Any]:
    version = versions.c.name + literal(" v", String) + cast(versions.c.number, String)
    return [
        scores.c.tier.label(Segment.TIER.name),
        version.label(Segment.ICP_VERSION.name),
        accounts.c.industry.label(Segment.INDUSTRY.name),
        accounts.c.source.label(Segment.SOURCE.name),
        owners.c.name.label(Segment.REP.name),
    ]


def _campaigns(within: CTE) -> FromClause:
    """Each campaign an account of ``within`` engaged with, once."""
    return (
        select(engagements.c.account_id, engagements.c.campaign)
        .where(
            engagements.c.campaign.is_not(None),
            engagements.c.campaign != "",
            engagements.c.account_id.in_(select(within.c.account_id)),
        )
        .distinct()
        .subquery("campaigns")
    )


def _by_segment(source: CTE, aggregates: Sequence[Any], *extra: Any) -> Select[Any]:
    """``aggregates`` over ``source`` for the whole (segment NULL, kind "") and grouped by
    each :class:`Segment`, as one statement: ``source`` is read once. ``extra`` columns of
    ``source`` are grouped by too."""
    campaigns = _campaigns(source)
    parts: list[Select[Any]] = [
        select(
            literal("", String).label("kind"),
            cast(null(), String).label("segment"),
            *extra,
            *aggregates,
        )
        .select_from(source)
        .group_by(*extra)
    ]
    for segment in Segment:
        if segment is Segment.CAMPAIGN:
            value: Any = campaigns.c.campaign
            joined: Any = source.outerjoin(campaigns, campaigns.c.account_id == source.c.account_id)
        else:
            value, joined = source.c[segment.name], source
        parts.append(
            select(literal(segment.name, String), value, *extra, *aggregates)
            .select_from(joined)
            .group_by(value, *extra)
        )
    return union_all(*parts)  # type: ignore[return-value]


def _key(row: Any) -> tuple[Segment | None, str | None]:
    return (Segment[row.kind] if row.kind else None), row.segment


def _sum(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- the funnel -------------------------------------------------------------------------


def _reach(scope: Scope) -> CTE:
    """Per account that moved in the period: when it first reached each stage (and left
    each open stage) by the period's end, with its segments."""
    start, end = _bounds(scope)
    moved = select(stage_changes.c.account_id).where(
        stage_changes.c.at >= start, stage_changes.c.at < end
    )
    to_stage, at = stage_changes.c.to_stage, stage_changes.c.at
    firsts = [
        func.min(case((to_stage.in_([s.value for s in reaching(stage)]), at))).label(_column(stage))
        for stage in FUNNEL
    ] + [
        func.min(case((to_stage.in_([s.value for s in leaving(stage)]), at))).label(_left(stage))
        for stage in OPEN
    ]
    moves = (
        select(stage_changes.c.account_id, *firsts)
        .where(stage_changes.c.at < end, stage_changes.c.account_id.in_(moved))
        .group_by(stage_changes.c.account_id)
        .subquery("moves")
    )
    joined, conditions = _with_segments(moves, moves.c.account_id, scope)
    return select(moves, *_segment_columns()).select_from(joined).where(*conditions).cte("reach")


@dataclass(frozen=True)
class FunnelCounts:
    """One funnel: accounts that reached each stage in the period, of them those that
    reached the next stage by its end, and the median days in each open stage."""

    reached: dict[Stage, int]
    converted: dict[Stage, int]
    days: dict[Stage, float | None]

    @property
    def total(self) -> int:
        return max(self.reached.values(), default=0)

    def conversion(self, stage: Stage) -> tuple[float | None, str]:
        """The share of ``stage``'s accounts that reached the next stage, with its basis."""
        whole, part = self.reached[stage], self.converted[stage]
        return share(part, whole), f"{part:,} of {whole:,}"

    def close_rate(self) -> tuple[float | None, str]:
        won, lost = self.reached[Stage.WON], self.reached[Stage.LOST]
        return share(won, won + lost), f"{won:,} of {won + lost:,}"


def funnels(
    conn: Connection, scope: Scope
) -> dict[tuple[Segment | None, str | None], FunnelCounts]:
    """The period's funnel for the whole (key ``(None, None)``) and for each segment
    (``(Segment.TIER, "A")`` …; a segment without a value has None)."""
    start, _ = _bounds(scope)
    reach = _reach(scope)
    counts = [_sum(reach.c[_column(s)] >= start).label(_column(s)) for s in FUNNEL] + [
        _sum(
            and_(reach.c[_column(s)] >= start, reach.c[_column(next_stage(s) or s)].is_not(None))
        ).label(f"to_{_column(s)}")
        for s in OPEN
    ]
    found: dict[tuple[Segment | None, str | None], FunnelCounts] = {}
    for row in conn.execute(_by_segment(reach, counts)):
        found[_key(row)] = FunnelCounts(
            reached={s: int(getattr(row, _column(s))) for s in FUNNEL},
            converted={s: int(getattr(row, f"to_{_column(s)}")) for s in OPEN},
            days=dict.fromkeys(OPEN),
        )
    histograms: dict[tuple[Segment | None, str | None, Stage], list[tuple[int, int]]] = {}
    for row in conn.execute(_spans(reach, start)):
        histograms.setdefault((*_key(row), Stage(row.stage)), []).append((row.days, row.number))
    for (segment, value, stage), histogram in histograms.items():
        if (segment, value) in found:
            found[segment, value].days[stage] = median(histogram)
    return found


def _spans(reach: CTE, start: datetime) -> Select[Any]:
    """How many accounts spent how many whole days in each open stage, per segment."""
    stages = union_all(*(select(literal(s.value, String).label("stage")) for s in OPEN)).subquery(
        "stages"
    )
    reached = case(*((stages.c.stage == s.value, reach.c[_column(s)]) for s in OPEN))
    left = case(*((stages.c.stage == s.value, reach.c[_left(s)]) for s in OPEN))
    segments = [
        reach.c.account_id,
        *(reach.c[s.name] for s in Segment if s is not Segment.CAMPAIGN),
    ]
    spans = (
        select(*segments, stages.c.stage, days_between(reached, left).label("days"))
        .select_from(reach.join(stages, true()))
        .where(reached >= start, left >= reached)
        .cte("spans")
    )
    return _by_segment(spans, [func.count().label("number")], spans.c.stage, spans.c.days)


# --- lead quality ---------------------------------------------------------------------


@dataclass(frozen=True)
class Quality:
    rated: int
    rating_sum: int
    accepted: int
    rejected: int

    @property
    def average(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None

    @property
    def accepted_share(self) -> float | None:
        return share(self.accepted, self.accepted + self.rejected)


def lead_quality(
    conn: Connection, scope: Scope
) -> dict[tuple[Segment | None, str | None], Quality]:
    """The period's ratings and verdicts, for the whole and per segment."""
    start, end = _bounds(scope)
    joined, conditions = _with_segments(interactions, interactions.c.account_id, scope)
    rated = (
        select(
            interactions.c.account_id,
            interactions.c.quality,
            interactions.c.lead,
            *_segment_columns(),
        )
        .select_from(joined)
        .where(
            interactions.c.at >= start,
            interactions.c.at < end,
            or_(interactions.c.quality.is_not(None), interactions.c.lead.is_not(None)),
            ~CORRECTED.element,
            *conditions,
        )
        .cte("rated")
    )
    aggregates = [
        _sum(rated.c.quality.is_not(None)).label("rated"),
        func.coalesce(func.sum(rated.c.quality), 0).label("rating_sum"),
        _sum(rated.c.lead == LeadVerdict.ACCEPTED.value).label("accepted"),
        _sum(rated.c.lead == LeadVerdict.REJECTED.value).label("rejected"),
    ]
    return {
        _key(row): Quality(
            int(row.rated), int(row.rating_sum), int(row.accepted), int(row.rejected)
        )
        for row in conn.execute(_by_segment(rated, aggregates))
    }


# --- what the field learned -----------------------------------------------------------

#: Outcomes that say most about an account: how a deal went, or why it did not.
_TELLING = (Outcome.WON, Outcome.LOST, Outcome.NOT_A_FIT, Outcome.OPPORTUNITY)


def learnings(conn: Connection, scope: Scope) -> list[tuple[str, int, list[Quote]]]:
    """The period's learnings grouped by tier and industry: each group's name, how many it
    holds and its :data:`PER_GROUP` most telling (a deal won, lost or opened, a lead
    rejected; then a meaningful conversation), newest first among equals. Groups come by
    tier, the fullest first."""
    start, end = _bounds(scope)
    joined, conditions = _with_segments(interactions, interactions.c.account_id, scope)
    telling = case(
        (interactions.c.outcome.in_([o.value for o in _TELLING]), 2),
        (interactions.c.lead == LeadVerdict.REJECTED.value, 2),
        (interactions.c.meaningful.is_(True), 1),
        else_=0,
    )
    group = (scores.c.tier, accounts.c.industry)
    ranked = (
        select(
            interactions.c.learned,
            interactions.c.logged_by,
            interactions.c.at,
            accounts.c.name,
            scores.c.tier,
            accounts.c.industry,
            func.row_number()
            .over(
                partition_by=group,
                order_by=(telling.desc(), interactions.c.at.desc(), interactions.c.id),
            )
            .label("place"),
            func.count().over(partition_by=group).label("in_group"),
        )
        .select_from(joined)
        .where(
            interactions.c.at >= start,
            interactions.c.at < end,
            interactions.c.learned != "",
            ~CORRECTED.element,
            *conditions,
        )
        .subquery("ranked")
    )
    rows = conn.execute(select(ranked).where(ranked.c.place <= PER_GROUP).order_by(ranked.c.place))
    groups: dict[tuple[str | None, str | None], tuple[int, list[Quote]]] = {}
    for row in rows:
        name = _group_name(row.tier, row.industry)
        quote = Quote(
            _quoted(row.learned),
            row.logged_by,
            row.name,
            scope.calendar.local_day(stored_utc(row.at)),
            name,
        )
        groups.setdefault((row.tier, row.industry), (int(row.in_group), []))[1].append(quote)
    tiers = [t.value for t in Tier]

    def order(item: tuple[tuple[str | None, str | None], tuple[int, list[Quote]]]) -> Any:
        (tier, industry), (number, _) = item
        return (tiers.index(tier) if tier in tiers else len(tiers), -number, industry or "")

    return [
        (quotes[0].group, number, quotes)
        for _, (number, quotes) in sorted(groups.items(), key=order)
    ]


def _group_name(tier: str | None, industry: str | None) -> str:
    tier_name = f"Tier {tier}" if tier else Segment.TIER.missing
    return f"{tier_name} · {industry or Segment.INDUSTRY.missing}"


def _quoted(text: str) -> str:
    if len(text) <= QUOTE_LENGTH:
        return text
    cut = text[:QUOTE_LENGTH].rsplit(maxsplit=1)[0]
    return f"{cut}…"


# --- ICP calibration ------------------------------------------------------------------


def calibration(conn: Connection, scope: Scope) -> tuple[IcpVersion | None, list[Suggestion]]:
    """The active ICP and, for each of its criteria, the accounts closed in the period that
    meet it and that do not, how many of each were won, and the weight they suggest."""
    version = read_active_version(conn)
    if version is None or not version.icp.criteria:
        return version, []
    start, _ = _bounds(scope)
    reach = _reach(scope)
    won = reach.c[_column(Stage.WON)] >= start
    closed = or_(won, reach.c[_column(Stage.LOST)] >= start)
    criteria = version.icp.criteria
    columns = [func.count().label("closed"), _sum(won).label("won")]
    for number, criterion in enumerate(criteria):
        met = criterion_sql(criterion)
        columns += [_sum(and_(met, won)).label(f"won_{number}"), _sum(met).label(f"met_{number}")]
    row = conn.execute(
        select(*columns)
        .select_from(reach.join(accounts, accounts.c.id == reach.c.account_id))
        .where(closed)
    ).one()
    outcomes = [
        CriterionOutcomes(
            criterion,
            met_won=int(getattr(row, f"won_{n}")),
            met_closed=int(getattr(row, f"met_{n}")),
            unmet_won=int(row.won) - int(getattr(row, f"won_{n}")),
            unmet_closed=int(row.closed) - int(getattr(row, f"met_{n}")),
        )
        for n, criterion in enumerate(criteria)
    ]
    return version, calibrate(outcomes)


# --- the sections -----------------------------------------------------------------------


def closed_loop_sections(conn: Connection, scope: Scope) -> list[Section]:
    """The funnel, lead quality by segment, what the field learned, ICP calibration."""
    found = funnels(conn, scope)
    return [
        funnel_section(found),
        *segment_sections(found),
        quality_section(lead_quality(conn, scope)),
        learnings_section(learnings(conn, scope)),
        calibration_section(*calibration(conn, scope)),
    ]


def _stage_label(stage: Stage) -> str:
    return stage.value.capitalize()


_NO_MOVES = "No account moved through the funnel in this period."


def funnel_section(found: dict[tuple[Segment | None, str | None], FunnelCounts]) -> Section:
    section = Section("Funnel")
    whole = found.get((None, None))
    if whole is None or whole.total == 0:
        section.figures = [Figure(f"Reached {s.value}", None, rows="Stage changes") for s in FUNNEL]
        section.figures.append(Figure("Close rate", None, Unit.SHARE, rows="Stage changes"))
        section.notes.append(_NO_MOVES)
        return section
    section.figures = [
        Figure(f"Reached {s.value}", whole.reached[s], rows="Stage changes") for s in FUNNEL
    ]
    rate, basis = whole.close_rate()
    section.figures.append(
        Figure("Close rate", rate, Unit.SHARE, basis=basis, rows="Stage changes")
    )
    section.charts.append(
        Chart(
            "Funnel",
            ChartKind.BAR,
            tuple(_stage_label(s) for s in FUNNEL),
            (Series("Accounts", tuple(float(whole.reached[s]) for s in FUNNEL)),),
        )
    )
    rows = []
    for stage in FUNNEL:
        after = next_stage(stage)
        rate, basis = whole.conversion(stage) if after else (None, "")
        rows.append(
            [
                _stage_label(stage),
                whole.reached[stage],
                _percent(rate) if after else "",
                basis,
                _stage_label(after) if after else "",
                _whole_days(whole.days.get(stage)),
            ]
        )
    section.tables.append(TableData("Funnel", FUNNEL_COLUMNS, rows, len(rows)))
    if whole.reached[Stage.WON] + whole.reached[Stage.LOST] == 0:
        section.notes.append("No account was won or lost in this period: there is no close rate.")
    return section


FUNNEL_COLUMNS = [
    TableColumn("Stage"),
    TableColumn("Accounts", ColumnKind.INTEGER),
    TableColumn("Went on"),
    TableColumn("Of"),
    TableColumn("To"),
    TableColumn("Median days in stage", ColumnKind.INTEGER),
]
SEGMENT_COLUMNS = [
    *(TableColumn(_stage_label(s), ColumnKind.INTEGER) for s in FUNNEL),
    TableColumn("Close rate"),
    TableColumn("Closed", ColumnKind.INTEGER),
    *(TableColumn(f"Days {s.value}", ColumnKind.INTEGER) for s in OPEN),
]


def _whole_days(days: float | None) -> int | None:
    return None if days is None else round(days)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _segments_of(
    found: dict[tuple[Segment | None, str | None], Any], segment: Segment
) -> list[tuple[str, Any]]:
    mine = [(value, counts) for (kind, value), counts in found.items() if kind is segment]
    return [(value if value is not None else segment.missing, counts) for value, counts in mine]


def segment_sections(found: dict[tuple[Segment | None, str | None], FunnelCounts]) -> list[Section]:
    """A funnel table and chart per way of segmenting, the largest segments first."""
    sections = []
    for segment in Segment:
        section = Section(f"Funnel by {segment.value}")
        listed = sorted(_segments_of(found, segment), key=lambda item: (-item[1].total, item[0]))
        listed = [(name, counts) for name, counts in listed if counts.total]
        if not listed:
            section.notes.append(_NO_MOVES)
            sections.append(section)
            continue
        rows = []
        for name, counts in listed[:MAX_SEGMENTS]:
            rate, _ = counts.close_rate()
            closed = counts.reached[Stage.WON] + counts.reached[Stage.LOST]
            days = [_whole_days(counts.days[s]) for s in OPEN]
            rows.append([name, *(counts.reached[s] for s in FUNNEL), _percent(rate), closed, *days])
        columns = [TableColumn(segment.label), *SEGMENT_COLUMNS]
        section.tables.append(TableData(f"Funnel by {segment.value}", columns, rows, len(rows)))
        if len(listed) > MAX_SEGMENTS:
            more = len(listed) - MAX_SEGMENTS
            section.notes.append(
                f"The {counted(more, 'smaller segment')} are left out of this table."
            )
        drawn = listed[:CHART_SEGMENTS]
        section.charts.append(
            Chart(
                f"Funnel by {segment.value}",
                ChartKind.BAR,
                tuple(_stage_label(s) for s in FUNNEL),
                tuple(
                    Series(name, tuple(float(c.reached[s]) for s in FUNNEL)) for name, c in drawn
                ),
            )
        )
        sections.append(section)
    return sections


QUALITY_COLUMNS = [
    TableColumn("Rated", ColumnKind.INTEGER),
    TableColumn("Average rating"),
    TableColumn("Accepted", ColumnKind.INTEGER),
    TableColumn("Rejected", ColumnKind.INTEGER),
    TableColumn("Accepted share"),
]


def quality_section(found: dict[tuple[Segment | None, str | None], Quality]) -> Section:
    section = Section("Lead quality")
    whole = found.get((None, None), Quality(0, 0, 0, 0))
    judged = whole.accepted + whole.rejected
    section.figures = [
        Figure(
            "Average rating",
            whole.average,
            Unit.RATING,
            basis=f"{counted(whole.rated, 'rating')}",
            rows="Interactions",
        ),
        Figure(
            "Accepted share",
            whole.accepted_share,
            Unit.SHARE,
            basis=f"{whole.accepted:,} of {judged:,}",
            rows="Interactions",
        ),
    ]
    if whole.rated == 0 and judged == 0:
        section.notes.append("No lead was rated, accepted or rejected in this period.")
        return section
    for segment in Segment:
        listed = sorted(
            _segments_of(found, segment),
            key=lambda item: (-(item[1].rated + item[1].accepted + item[1].rejected), item[0]),
        )
        rows = [
            [
                name,
                q.rated,
                "" if q.average is None else f"{q.average:.1f}",
                q.accepted,
                q.rejected,
                _percent(q.accepted_share),
            ]
            for name, q in listed[:MAX_SEGMENTS]
        ]
        columns = [TableColumn(segment.label), *QUALITY_COLUMNS]
        section.tables.append(
            TableData(f"Lead quality by {segment.value}", columns, rows, len(rows))
        )
    return section


def learnings_section(groups: list[tuple[str, int, list[Quote]]]) -> Section:
    section = Section("What the field learned")
    if not groups:
        section.notes.append("No rep wrote down what they learned in this period.")
        return section
    for name, number, quotes in groups[:MAX_GROUPS]:
        section.quotes.extend(quotes)
        if number > len(quotes):
            section.notes.append(
                f"{name}: {counted(number - len(quotes), 'more learning')} "
                "in the Interactions sheet."
            )
    if len(groups) > MAX_GROUPS:
        rest = groups[MAX_GROUPS:]
        learned = counted(sum(number for _, number, _ in rest), "learning")
        section.notes.append(
            f"{learned} of {counted(len(rest), 'smaller group')} are in the Interactions sheet."
        )
    return section


CALIBRATION_COLUMNS = [
    TableColumn("Criterion"),
    TableColumn("Weight", ColumnKind.INTEGER),
    TableColumn("Won when met", ColumnKind.INTEGER),
    TableColumn("Closed when met", ColumnKind.INTEGER),
    TableColumn("Win rate when met"),
    TableColumn("Won when not met", ColumnKind.INTEGER),
    TableColumn("Closed when not met", ColumnKind.INTEGER),
    TableColumn("Win rate when not met"),
    TableColumn("Suggested weight", ColumnKind.INTEGER),
    TableColumn("Why"),
]


def calibration_section(version: IcpVersion | None, suggestions: list[Suggestion]) -> Section:
    section = Section("ICP calibration")
    if version is None:
        section.notes.append("No ICP has been applied yet: there is nothing to calibrate.")
        return section
    section.notes.append(
        f"The criteria of {version.label}, the active ICP, against the "
        "accounts won or lost in this period."
    )
    if not suggestions:
        section.notes.append(f"{version.label} has no criteria.")
        return section
    if all(s.outcomes.met_closed + s.outcomes.unmet_closed == 0 for s in suggestions):
        section.notes.append(
            "No account was won or lost in this period: there is nothing to calibrate against."
        )
    rows = []
    for s in suggestions:
        o, criterion = s.outcomes, s.outcomes.criterion
        rows.append(
            [
                criterion.describe() + (" (must-have)" if criterion.must_have else ""),
                None if criterion.must_have else criterion.weight,
                o.met_won,
                o.met_closed,
                _percent(o.met_rate),
                o.unmet_won,
                o.unmet_closed,
                _percent(o.unmet_rate),
                None if criterion.must_have else s.weight,
                s.reason,
            ]
        )
    section.tables.append(TableData("ICP calibration", CALIBRATION_COLUMNS, rows, len(rows)))
    return section


# --- the raw rows -----------------------------------------------------------------------


def _owned(account_id: ColumnElement[Any], scope: Scope) -> list[Any]:
    if scope.rep is None:
        return []
    owner = select(owners.c.name).select_from(
        targets.join(owners, owners.c.id == targets.c.owner_id)
    )
    return [owner.where(targets.c.account_id == account_id).scalar_subquery() == scope.rep]


def interaction_rows(conn: Connection, scope: Scope) -> TableData:
    """The raw interactions of the period, one row each (a corrected one too, marked),
    oldest first, streamed."""
    start, end = _bounds(scope)
    statement = interaction_statement().where(
        interactions.c.at >= start,
        interactions.c.at < end,
        accounts.c.deleted_at.is_(None),
        *_owned(interactions.c.account_id, scope),
    )
    count = conn.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    ordered = statement.order_by(interactions.c.at, interactions.c.id)
    return TableData(
        "Interactions", INTERACTION_COLUMNS, streamed(conn, ordered, interaction_cells), count
    )


def stage_change_rows(conn: Connection, scope: Scope) -> TableData:
    """The raw stage changes of the period, one row each, oldest first, streamed."""
    start, end = _bounds(scope)
    statement = (
        select(
            stage_changes.c.at,
            accounts.c.name,
            stage_changes.c.from_stage,
            stage_changes.c.to_stage,
            stage_changes.c.changed_by,
            stage_changes.c.reason,
        )
        .select_from(stage_changes.join(accounts, accounts.c.id == stage_changes.c.account_id))
        .where(
            stage_changes.c.at >= start,
            stage_changes.c.at < end,
            accounts.c.deleted_at.is_(None),
            *_owned(stage_changes.c.account_id, scope),
        )
    )
    count = conn.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    ordered = statement.order_by(stage_changes.c.at, stage_changes.c.id)
    return TableData(
        "Stage changes", STAGE_CHANGE_COLUMNS, streamed(conn, ordered, _stage_change_cells), count
    )


def _stage_change_cells(row: Sequence[Any]) -> list[Any]:
    at, account, before, after, by, reason = row
    return [
        at,
        account,
        _stage_label(Stage(before)) if before else "",
        _stage_label(Stage(after)),
        by,
        reason,
    ]
