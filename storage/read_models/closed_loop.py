"""The closed loop as report sections: the funnel with its conversion, close rate and time
in each stage, lead quality by segment, what the field learned, and the ICP's calibration
against the outcomes; and the raw interactions and stage changes behind them.

Everything is counted in SQL; Python only words the counts.

- The funnel is read from the stage history, summed up per account in ``account_reach``
  (:mod:`storage.reach`: when it first reached each stage), by the rules of
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
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    or_,
    select,
)

from domain.calibration import CriterionOutcomes, Suggestion, calibrate
from domain.closed_loop import FUNNEL, OPEN, median, next_stage, share
from domain.errors import Cancelled
from domain.icp import IcpVersion, Tier
from domain.interactions import LeadVerdict
from domain.progress import Cancel
from domain.report import Chart, ChartKind, Figure, Quote, Scope, Section, Series, Unit
from domain.tables import ColumnKind, TableColumn, TableData
from domain.targets import Stage
from domain.values import counted
from storage.icp_sql import criterion_sql
from storage.icps import read_active_version
from storage.interactions import UNCORRECTED, interactions, stage_changes
from storage.learning_facts import LEARNED, LEVELS, learning_facts, telling
from storage.queries import live_account_id, scanned
from storage.reach import account_reach, days_column, left_column, reached_column
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
    IcpVersionRow,
    TargetRow,
    UserRow,
    stored_utc,
    table_of,
)
from storage.segments import APART, account_segments

T = TypeVar("T")
V = TypeVar("V")

accounts = table_of(AccountRow)
targets = table_of(TargetRow)
versions = table_of(IcpVersionRow)
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
#: The learnings the digest reads at a time, newest first, until each group has its quotes.
_NEWEST_READ = 1000

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


def _bounds(scope: Scope) -> tuple[datetime, datetime]:
    zone = scope.calendar.zone
    return scope.period.start(zone), scope.period.end(zone)


def _seconds(scope: Scope) -> tuple[int, int]:
    """The period's bounds in whole seconds since 1970, as the funnel's summary holds its
    times (a zone's midnight is a whole second: a time falls in the period exactly when its
    whole seconds do)."""
    start, end = _bounds(scope)
    return int(start.timestamp()), int(end.timestamp())


#: The segments an account carries itself (a column each in the queries); its campaigns
#: are one text beside them, each campaign a segment of its own.
_OWN = (Segment.TIER, Segment.ICP_VERSION, Segment.INDUSTRY, Segment.SOURCE, Segment.REP)
#: Every way of segmenting: what the reports and the closed loop window read.
EVERY = tuple(Segment)
Key = tuple[Segment | None, str | None]
#: The whole: every account, whatever its segments.
WHOLE: Key = (None, None)


def _with_segments(
    base: Any, account_id: ColumnElement[Any], scope: Scope, segments: Sequence[Segment] = EVERY
) -> tuple[Any, list[Any]]:
    """``base`` joined, when ``segments`` are asked for, to the closed loop's segments of the
    accounts behind its ``account_id`` (:mod:`storage.segments`, one narrow row each:
    looking up each account, its score and its target costs more than the rest of the
    read), with the conditions: live accounts (the deleted ones through their own small
    index), one rep's if the scope says so."""
    conditions: list[Any] = [live_account_id(account_id)]
    if segments:
        joined = base.join(account_segments, account_segments.c.account_id == account_id)
        if scope.rep is not None:
            conditions.append(account_segments.c.owner_id == _rep_id(scope.rep))
        return joined, conditions
    if scope.rep is not None:
        owned = select(targets.c.account_id).where(targets.c.owner_id == _rep_id(scope.rep))
        conditions.append(account_id.in_(owned))
    return base, conditions


def _rep_id(rep: str) -> ColumnElement[Any]:
    return select(owners.c.id).where(owners.c.name == rep).scalar_subquery()


def _segment_columns(segments: Sequence[Segment]) -> list[Any]:
    """The account's own ``segments``, the ICP version and the rep by their ids (named from
    the few versions and users afterwards: joining them on every account costs seconds)."""
    columns = {
        Segment.TIER: account_segments.c.tier,
        Segment.ICP_VERSION: account_segments.c.icp_version_id,
        Segment.INDUSTRY: account_segments.c.industry,
        Segment.SOURCE: account_segments.c.source,
        Segment.REP: account_segments.c.owner_id,
    }
    return [columns[segment].label(segment.name) for segment in _OWN if segment in segments]


def _segmented(
    columns: Sequence[Any],
    base: Any,
    account_id: ColumnElement[Any],
    scope: Scope,
    *where: Any,
    segments: Sequence[Segment] = EVERY,
) -> CTE:
    """``columns`` of ``base`` (rows ``where`` picks) with the ``segments`` of the account
    behind ``account_id``: its own (:func:`_segment_columns`) and its campaigns
    (``campaigns``, one text kept with its segments: :data:`storage.segments.APART` between
    them); live accounts, one rep's if the scope says so."""
    joined, conditions = _with_segments(base, account_id, scope, segments)
    selected = [*columns, *_segment_columns(segments)]
    if Segment.CAMPAIGN in segments:
        selected.append(account_segments.c.campaigns)
    return select(*selected).select_from(joined).where(*where, *conditions).cte("segmented")


def _grouped(
    source: CTE, aggregates: Sequence[Any], segments: Sequence[Segment] = EVERY
) -> Select[Any]:
    """``aggregates`` over the rows of ``source``, grouped by the account's ``segments`` (its
    own and its set of campaigns). There are a few hundred combinations of segments on a
    million accounts: Python adds them up per segment (:func:`_keys`)."""
    by = [source.c[s.name] for s in _OWN if s in segments]
    if Segment.CAMPAIGN in segments:
        by.append(source.c.campaigns)
    return select(*by, *aggregates).select_from(source).group_by(*by)


def _names(conn: Connection) -> dict[Segment, dict[Any, str]]:
    """The ICP versions' labels and the users' names, by id."""
    labels = {
        row.id: f"{row.name} v{row.number}"
        for row in conn.execute(select(versions.c.id, versions.c.name, versions.c.number))
    }
    people = {row.id: row.name for row in conn.execute(select(owners.c.id, owners.c.name))}
    return {Segment.ICP_VERSION: labels, Segment.REP: people}


def _keys(
    row: Sequence[Any], names: dict[Segment, dict[Any, str]], segments: Sequence[Segment] = EVERY
) -> list[Key]:
    """The segments a row of :func:`_grouped` counts in: the whole, each of its own and each
    of its campaigns (or no campaign), of those in ``segments``."""
    keys: list[Key] = [WHOLE]
    own = [segment for segment in _OWN if segment in segments]
    for segment, value in zip(own, row[: len(own)], strict=True):
        if segment in names and value is not None:
            value = names[segment].get(value)
        keys.append((segment, value))
    if Segment.CAMPAIGN in segments:
        campaigns = row[len(own)]
        sets = campaigns.split(APART) if campaigns else [None]
        keys += [(Segment.CAMPAIGN, campaign) for campaign in sets]
    return keys


# --- the funnel -------------------------------------------------------------------------


def _within(at: ColumnElement[Any], scope: Scope) -> ColumnElement[bool]:
    """``at`` (a time of the funnel's summary, :mod:`storage.reach`) falls in the period."""
    start, end = _seconds(scope)
    return and_(at >= start, at < end)


def reached(conn: Connection, scope: Scope) -> dict[Stage, int]:
    """How many accounts reached each stage in the period, for the whole: the funnel's
    bars, which the dashboard's funnel panel shows, counted from the summary's rows alone
    (no segment, conversion or days in a stage)."""
    times = [account_reach.c[reached_column(stage)] for stage in FUNNEL]
    counts = select(*(_sum(_within(at, scope)) for at in times))
    _, conditions = _with_segments(account_reach, account_reach.c.account_id, scope, ())
    row = conn.execute(counts.where(*conditions)).one()
    return dict(zip(FUNNEL, (int(number) for number in row), strict=True))


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


def funnels(conn: Connection, scope: Scope) -> dict[Key, FunnelCounts]:
    """The period's funnel for the whole (:data:`WHOLE`) and for each segment
    (``(Segment.TIER, "A")`` …; a segment without a value has None).

    The rows of :func:`_moved` (a combination of segments each) are added up per segment,
    column by column, and each segment's days in each open stage counted together (a
    million days in all on a big workspace, counted by :class:`collections.Counter` rather
    than one by one). The rows of the same own segments, whatever their campaigns, are
    added up once, and what they add up to then goes to the whole and to each of those
    segments: each day is counted about twice, not once for every segment it counts in."""
    names = _names(conn)
    by_own: dict[tuple[Key, ...], _Tally] = {}
    found: dict[Key, _Tally] = {WHOLE: _Tally()}
    for row in conn.execute(_moved(scope)):
        keys = _keys(row, names)  # the whole and its own segments, then its campaigns
        own, campaigns = tuple(keys[: len(_OWN) + 1]), keys[len(_OWN) + 1 :]
        days = [text.split(",") if text else [] for text in row[_DAYS]]
        by_own.setdefault(own, _Tally()).add(row[_REACHED], row[_WENT_ON], days)
        for key in campaigns:
            found.setdefault(key, _Tally()).add(row[_REACHED], row[_WENT_ON], days)
    for own, tally in by_own.items():
        for key in own:
            found.setdefault(key, _Tally()).add(tally.reached, tally.went_on, tally.days)
    return {key: tally.funnel() for key, tally in found.items()}


#: Where :func:`_moved`'s aggregates are in its rows, after the segments and the campaigns.
_REACHED = slice(len(_OWN) + 1, len(_OWN) + 1 + len(FUNNEL))
_WENT_ON = slice(_REACHED.stop, _REACHED.stop + len(OPEN))
_DAYS = slice(_WENT_ON.stop, _WENT_ON.stop + len(OPEN))


class _Tally:
    """Rows of :func:`_moved` added up: the accounts that reached each stage, those that
    went on from each open stage, and how many spent each number of whole days in each
    open stage."""

    def __init__(self) -> None:
        self.reached = [0] * len(FUNNEL)
        self.went_on = [0] * len(OPEN)
        self.days: list[Counter[str]] = [Counter() for _ in OPEN]

    def add(
        self, reached: Sequence[int], went_on: Sequence[int], days: Sequence[Iterable[str]]
    ) -> None:
        """Add accounts: how many reached and went on, and their days (each number of days
        listed once per account, or counted)."""
        self.reached = [mine + more for mine, more in zip(self.reached, reached, strict=True)]
        self.went_on = [mine + more for mine, more in zip(self.went_on, went_on, strict=True)]
        for counts, more in zip(self.days, days, strict=True):
            counts.update(more)

    def funnel(self) -> FunnelCounts:
        return FunnelCounts(
            dict(zip(FUNNEL, self.reached, strict=True)),
            dict(zip(OPEN, self.went_on, strict=True)),
            {stage: median((int(number), times) for number, times in counts.items())
             for stage, counts in zip(OPEN, self.days, strict=True)},
        )  # fmt: skip


def _moved(scope: Scope) -> Select[Any]:
    """Per combination of segments, after them: for each stage how many accounts reached it
    in the period (in :data:`FUNNEL`'s order), for each open stage how many of them went on
    to the next stage by the period's end, and for each open stage the whole days each
    spent in it (a list, commas between: none for an account still in the stage at the
    end). One grouping of the accounts that reached a stage in the period, compared with
    the period's bounds in the summary's whole seconds, each account's days in a stage as
    the summary holds them: the days are listed rather than grouped by, which would sort the
    accounts once per stage."""
    start, end = _seconds(scope)
    columns = [account_reach.c.account_id,
               *(account_reach.c[reached_column(stage)] for stage in FUNNEL),
               *(account_reach.c[left_column(stage)] for stage in OPEN),
               *(account_reach.c[days_column(stage)] for stage in OPEN)]  # fmt: skip
    moved = or_(*(_within(account_reach.c[reached_column(stage)], scope) for stage in FUNNEL))
    reach = _segmented(columns, account_reach, account_reach.c.account_id, scope, moved)
    at = {stage: reach.c[reached_column(stage)] for stage in FUNNEL}
    reached = [_sum(_within(at[stage], scope)) for stage in FUNNEL]
    went_on = [
        _sum(and_(_within(at[stage], scope), at[after] < end))
        for stage in OPEN
        if (after := next_stage(stage)) is not None
    ]
    days = []
    for stage in OPEN:
        left, spent = reach.c[left_column(stage)], reach.c[days_column(stage)]
        counted_here = case((and_(at[stage] >= start, left < end), cast(spent, String)))
        days.append(func.aggregate_strings(counted_here, ","))
    return _grouped(reach, [*reached, *went_on, *days])


# --- lead quality ---------------------------------------------------------------------


@dataclass
class Quality:
    rated: int = 0
    rating_sum: int = 0
    accepted: int = 0
    rejected: int = 0

    @property
    def average(self) -> float | None:
        return self.rating_sum / self.rated if self.rated else None

    @property
    def accepted_share(self) -> float | None:
        return share(self.accepted, self.accepted + self.rejected)


def lead_quality(
    conn: Connection, scope: Scope, segments: Sequence[Segment] = EVERY
) -> dict[Key, Quality]:
    """The period's ratings and verdicts, for the whole and per segment of ``segments``."""
    start, end = _bounds(scope)
    # Added up per account first: its segments are then looked up once per account, not
    # once per rating (a million lookups in random order). What it adds up is all in the
    # index of the interactions that judge their lead (``ix_interactions_judged``).
    per_account = (
        select(
            interactions.c.account_id,
            _sum(interactions.c.quality.is_not(None)).label("rated"),
            func.coalesce(func.sum(interactions.c.quality), 0).label("rating_sum"),
            _sum(interactions.c.lead == LeadVerdict.ACCEPTED.value).label("accepted"),
            _sum(interactions.c.lead == LeadVerdict.REJECTED.value).label("rejected"),
        )
        .where(
            interactions.c.at >= start,
            interactions.c.at < end,
            or_(interactions.c.quality.is_not(None), interactions.c.lead.is_not(None)),
            UNCORRECTED,
        )
        .group_by(interactions.c.account_id)
        .subquery("per_account")
    )
    rated = _segmented(
        [per_account], per_account, per_account.c.account_id, scope, segments=segments
    )
    measures = ("rated", "rating_sum", "accepted", "rejected")
    aggregates = [func.sum(rated.c[name]).label(name) for name in measures]
    names = _names(conn)
    found: dict[Key, Quality] = {WHOLE: Quality()}
    for row in conn.execute(_grouped(rated, aggregates, segments)):
        for key in _keys(row, names, segments):
            quality = found.setdefault(key, Quality())
            quality.rated += int(row.rated or 0)
            quality.rating_sum += int(row.rating_sum or 0)
            quality.accepted += int(row.accepted or 0)
            quality.rejected += int(row.rejected or 0)
    return found


def _sum(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many of the rows ``condition`` holds for (none: 0), counted by the aggregate's
    own filter: a fifth faster on SQLite than adding up a CASE of 1 and 0."""
    return func.count().filter(condition)


# --- what the field learned -----------------------------------------------------------


def learnings(conn: Connection, scope: Scope) -> list[tuple[str, int, list[Quote]]]:
    """The period's learnings grouped by tier and industry: each group's name, how many it
    holds and its :data:`PER_GROUP` most telling (a deal won, lost or opened, a lead
    rejected; then a meaningful conversation), newest first among equals. Groups come by
    tier, the fullest first.

    Each group's count of learnings at each telling level is added up in SQL (per account
    first, from the learnings' own narrow rows in the order of their accounts
    (:mod:`storage.learning_facts`), then per group); the quotes are then read newest first
    and stop as soon as every group holds its most telling few, which those counts say: on
    a big workspace that is the period's last days, not the millions of learnings a ranking
    would sort."""
    start, end = _bounds(scope)
    levels = LEVELS
    facts = learning_facts.c
    per_account = (
        select(facts.account_id,
               *(_sum(facts.telling == level).label(f"level_{level}") for level in levels))
        .where(facts.at >= start, facts.at < end)
        .group_by(facts.account_id)
        .subquery("per_account")
    )  # fmt: skip
    by = (Segment.TIER, Segment.INDUSTRY)
    joined, conditions = _with_segments(per_account, per_account.c.account_id, scope, by)
    group = (account_segments.c.tier, account_segments.c.industry)
    wanted: dict[tuple[str | None, str | None], dict[int, int]] = {}
    numbers: dict[tuple[str | None, str | None], int] = {}
    counts = (
        select(*group, *(func.sum(per_account.c[f"level_{level}"]) for level in levels))
        .select_from(joined)
        .where(*conditions)
        .group_by(*group)
    )
    for tier, industry, *at_level in conn.execute(counts):
        left, wanted_here = PER_GROUP, {}
        for level, number in zip(levels, at_level, strict=True):
            wanted_here[level] = min(left, int(number or 0))
            left -= wanted_here[level]
        numbers[(tier, industry)] = sum(int(number or 0) for number in at_level)
        if numbers[(tier, industry)]:
            wanted[(tier, industry)] = wanted_here
    joined, conditions = _with_segments(interactions, interactions.c.account_id, scope, by)
    joined = joined.join(accounts, accounts.c.id == interactions.c.account_id)  # its name
    newest = (
        select(*group, telling().label("telling"), interactions.c.learned,
               interactions.c.logged_by, interactions.c.at, accounts.c.name)
        .select_from(joined)
        .where(interactions.c.at >= start, interactions.c.at < end, *LEARNED, *conditions)
        .order_by(interactions.c.at.desc(), interactions.c.id)
    )  # fmt: skip
    found: dict[tuple[str | None, str | None], dict[int, list[Any]]] = {
        key: {level: [] for level in levels} for key in wanted
    }
    missing = sum(sum(levels_wanted.values()) for levels_wanted in wanted.values())
    with conn.execution_options(yield_per=_NEWEST_READ).execute(newest) as rows:
        for row in rows if missing else ():
            key = (row.tier, row.industry)
            taken = found[key][row.telling]
            if len(taken) < wanted[key][row.telling]:
                taken.append(row)
                missing -= 1
                if missing == 0:
                    break
    groups = []
    for key, by_level in found.items():
        name = _group_name(*key)
        quotes = [
            Quote(_quoted(row.learned), row.logged_by, row.name,
                  scope.calendar.local_day(stored_utc(row.at)), name)
            for level in levels for row in by_level[level]
        ]  # fmt: skip
        groups.append((key, numbers[key], quotes))
    tiers = [t.value for t in Tier]

    def order(item: tuple[tuple[str | None, str | None], int, list[Quote]]) -> Any:
        (tier, industry), number, _ = item
        return (tiers.index(tier) if tier in tiers else len(tiers), -number, industry or "")

    return [(quotes[0].group, number, quotes) for _, number, quotes in sorted(groups, key=order)]


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
    won = _within(account_reach.c[reached_column(Stage.WON)], scope)
    closed = or_(won, _within(account_reach.c[reached_column(Stage.LOST)], scope))
    criteria = version.icp.criteria
    # Each closed account's criteria worked out once (a criterion may look up its contacts),
    # then counted twice, among all and among the won: the CTE is kept as it is read, not
    # merged into the counts, which would work each criterion out once per count.
    reach, conditions = _with_segments(account_reach, account_reach.c.account_id, scope, ())
    met = [criterion_sql(criterion).label(f"met_{n}") for n, criterion in enumerate(criteria)]
    each = (
        select(won.label("won"), *met)
        .select_from(reach.join(accounts, accounts.c.id == account_reach.c.account_id))
        .where(closed, *conditions)
        .cte("closed")
        .prefix_with("MATERIALIZED")
    )
    columns = [func.count().label("closed"), _sum(each.c.won).label("won")]
    for number in range(len(criteria)):
        meets = each.c[f"met_{number}"]
        columns += [_sum(and_(meets, each.c.won)).label(f"won_{number}"),
                    _sum(meets).label(f"met_{number}")]  # fmt: skip
    row = conn.execute(select(*columns).select_from(each)).one()
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


@dataclass(frozen=True)
class ClosedLoop:
    """Everything the closed loop counted for one scope: what the sections say, and what the
    window needs besides (the suggestions, to open them as an ICP draft)."""

    funnels: dict[Key, FunnelCounts]
    quality: dict[Key, Quality]
    learnings: list[tuple[str, int, list[Quote]]]
    version: IcpVersion | None
    suggestions: list[Suggestion]

    def sections(self) -> list[Section]:
        return [
            funnel_section(self.funnels),
            *segment_sections(self.funnels),
            quality_section(self.quality),
            learnings_section(self.learnings),
            calibration_section(self.version, self.suggestions),
        ]


def closed_loop(conn: Connection, scope: Scope, cancel: Cancel | None = None) -> ClosedLoop:
    """Count the closed loop of ``scope``; ``cancel()`` is asked between its queries."""

    def step(read: Callable[[Connection, Scope], T]) -> T:
        if cancel is not None and cancel():
            raise Cancelled()
        return read(conn, scope)

    found, quality, learned = step(funnels), step(lead_quality), step(learnings)
    return ClosedLoop(found, quality, learned, *step(calibration))


def lead_quality_section(conn: Connection, scope: Scope) -> Section:
    """Lead quality for the whole and by tier alone: marketing's lead quality panel, which
    shows its figures and its table by tier."""
    by_tier = (Segment.TIER,)
    return quality_section(lead_quality(conn, scope, by_tier), by_tier)


def _stage_label(stage: Stage) -> str:
    return stage.value.capitalize()


_NO_MOVES = "No account moved through the funnel in this period."


def funnel_section(found: dict[Key, FunnelCounts]) -> Section:
    section = Section("Funnel")
    whole = found.get(WHOLE)
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
    section.charts.append(funnel_chart(whole.reached))
    rows = []
    for stage in FUNNEL:
        after = next_stage(stage)
        rate, basis = whole.conversion(stage) if after else (None, "")
        rows.append(
            [
                _stage_label(stage),
                whole.reached[stage],
                rate,
                basis,
                _stage_label(after) if after else "",
                _whole_days(whole.days.get(stage)),
            ]
        )
    section.tables.append(TableData("Funnel", FUNNEL_COLUMNS, rows, len(rows)))
    if whole.reached[Stage.WON] + whole.reached[Stage.LOST] == 0:
        section.notes.append("No account was won or lost in this period: there is no close rate.")
    return section


def funnel_chart(reached: dict[Stage, int]) -> Chart:
    """The funnel's bars: how many accounts reached each stage."""
    stages = tuple(_stage_label(s) for s in FUNNEL)
    return Chart("Funnel", ChartKind.BAR, stages,
                 (Series("Accounts", tuple(float(reached[s]) for s in FUNNEL)),))  # fmt: skip


FUNNEL_COLUMNS = [
    TableColumn("Stage"),
    TableColumn("Accounts", ColumnKind.INTEGER),
    TableColumn("Went on", ColumnKind.SHARE),
    TableColumn("Of"),
    TableColumn("To"),
    TableColumn("Median days in stage", ColumnKind.INTEGER),
]
SEGMENT_COLUMNS = [
    *(TableColumn(_stage_label(s), ColumnKind.INTEGER) for s in FUNNEL),
    TableColumn("Close rate", ColumnKind.SHARE),
    TableColumn("Closed", ColumnKind.INTEGER),
]
#: The median whole days an account of the segment spent in each open stage.
DAYS_COLUMNS = [TableColumn(_stage_label(s), ColumnKind.INTEGER) for s in OPEN]


def _whole_days(days: float | None) -> int | None:
    return None if days is None else round(days)


def _segments_of(
    found: dict[Key, V], segment: Segment, size: Callable[[V], int]
) -> list[tuple[str, V]]:
    """The segments of one kind, named (``No tier`` …): tiers as they read, A, B, C; the
    others the largest first by ``size``."""
    mine = [(value or segment.missing, counts)
            for (kind, value), counts in found.items() if kind is segment]  # fmt: skip
    if segment is Segment.TIER:
        return sorted(mine, key=lambda item: item[0])
    return sorted(mine, key=lambda item: (-size(item[1]), item[0]))


def segment_sections(found: dict[Key, FunnelCounts]) -> list[Section]:
    """A funnel table and chart per way of segmenting, the largest segments first."""
    sections = []
    for segment in Segment:
        section = Section(f"Funnel by {segment.value}")
        listed = [
            (name, counts)
            for name, counts in _segments_of(found, segment, lambda counts: counts.total)
            if counts.total
        ]
        if not listed:
            section.notes.append(_NO_MOVES)
            sections.append(section)
            continue
        reached, days = [], []
        for name, counts in listed[:MAX_SEGMENTS]:
            rate, _ = counts.close_rate()
            closed = counts.reached[Stage.WON] + counts.reached[Stage.LOST]
            reached.append([name, *(counts.reached[s] for s in FUNNEL), rate, closed])
            days.append([name, *(_whole_days(counts.days[s]) for s in OPEN)])
        # two tables, each narrow enough for a page: how far they got, and how long it took
        label = TableColumn(segment.label)
        section.tables += [
            TableData(
                f"Funnel by {segment.value}", [label, *SEGMENT_COLUMNS], reached, len(reached)
            ),
            TableData(f"Days in stage by {segment.value}", [label, *DAYS_COLUMNS], days, len(days)),
        ]
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
    TableColumn("Average rating", ColumnKind.DECIMAL),
    TableColumn("Accepted", ColumnKind.INTEGER),
    TableColumn("Rejected", ColumnKind.INTEGER),
    TableColumn("Accepted share", ColumnKind.SHARE),
]


def quality_section(found: dict[Key, Quality], segments: Sequence[Segment] = EVERY) -> Section:
    section = Section("Lead quality")
    whole = found.get(WHOLE, Quality())
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
    for segment in segments:
        listed = _segments_of(found, segment, lambda q: q.rated + q.accepted + q.rejected)
        rows = [
            [
                name,
                q.rated,
                q.average,
                q.accepted,
                q.rejected,
                q.accepted_share,
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
    TableColumn("Win rate when met", ColumnKind.SHARE),
    TableColumn("Won when not met", ColumnKind.INTEGER),
    TableColumn("Closed when not met", ColumnKind.INTEGER),
    TableColumn("Win rate when not met", ColumnKind.SHARE),
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
                o.met_rate,
                o.unmet_won,
                o.unmet_closed,
                o.unmet_rate,
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
    count = conn.execute(_period_count(interactions, scope)).scalar_one()
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
    count = conn.execute(_period_count(stage_changes, scope)).scalar_one()
    ordered = statement.order_by(stage_changes.c.at, stage_changes.c.id)
    return TableData(
        "Stage changes", STAGE_CHANGE_COLUMNS, streamed(conn, ordered, _stage_change_cells), count
    )


def _period_count(table: Any, scope: Scope) -> Select[Any]:
    """How many rows of ``table`` (the interactions or the stage changes) of live accounts,
    one rep's if the scope says so, the period holds: the rows its raw sheet streams. Their
    ``(account_id, at)`` index holds all it needs (``scanned``: not the time index, which
    would look up each row in random order to learn its account), nothing is joined."""
    start, end = _bounds(scope)
    _, conditions = _with_segments(table, table.c.account_id, scope, ())
    at = scanned(table.c.at)
    return select(func.count()).select_from(table).where(at >= start, at < end, *conditions)


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
