"""The closed loop: the funnel from the stage history (and the same counts from a plain
Python path on random histories, SQLite and PostgreSQL), lead quality by segment, the
learnings digest, the ICP's calibration and its re-weighting rule, the raw rows."""

from __future__ import annotations

import statistics
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, bindparam, create_engine, delete, insert, select, update

from domain.calendar import WorkCalendar
from domain.calibration import MIN_CLOSED, CriterionOutcomes, calibrate, reweighted, suggest
from domain.closed_loop import LINE, OPEN, median
from domain.icp import HAS_DECISION_MAKER, Criterion, IdealCustomerProfile, Operator, to_document
from domain.periods import Period
from domain.report import Scope
from domain.targets import Stage
from domain.users import Role
from storage import reach
from storage.icps import versions
from storage.keys import derived_columns
from storage.learning_facts import refresh_learning_facts
from storage.reach import account_reach, refresh_reach
from storage.read_models import closed_loop
from storage.read_models.closed_loop import (
    PER_GROUP,
    Segment,
    calibration,
    funnels,
    interaction_rows,
    learnings,
    reached,
    stage_change_rows,
)
from storage.read_models.dashboard import funnel_panel, quality_panel
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    ContactRow,
    EngagementRow,
    InteractionRow,
    StageChangeRow,
    TargetRow,
    table_of,
)
from storage.segments import refresh_segments
from tests.conftest import statements_of

contacts = table_of(ContactRow)
accounts = table_of(AccountRow)
targets = table_of(TargetRow)
scores = table_of(AccountScoreRow)
interactions = table_of(InteractionRow)
stage_changes = table_of(StageChangeRow)
engagements = table_of(EngagementRow)

#: March and April 2026, on a calendar in UTC.
PERIOD = Period.parse("2026-03..2026-04")
START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 5, 1, tzinfo=UTC)
SCOPE = Scope(PERIOD, WorkCalendar(), END)


def _day(n: float) -> datetime:
    """``n`` days after the period's start (negative: before it)."""
    return START + timedelta(days=n)


def _section(sections, title):
    return next(s for s in sections if s.title == title)


# --- the rules in domain/ ---------------------------------------------------------------


def test_the_median_of_counted_values():
    assert median([]) is None
    assert median([(4, 1)]) == 4
    assert median([(1, 1), (5, 1)]) == 3
    assert median([(9, 1), (2, 3), (7, 0)]) == 2
    assert median([(1, 2), (3, 2)]) == 2


def _whole_days_on(engine, pairs):
    """The whole days between each pair of times, counted by ``engine``'s SQLite."""
    first, then = bindparam("first", type_=DateTime()), bindparam("then", type_=DateTime())
    statement = select(reach.days_between(first, then))
    with engine.connect() as conn:
        sql = str(statement.compile(conn))
        return sql, [conn.execute(statement, {"first": a, "then": b}).scalar() for a, b in pairs]


_times = st.datetimes(min_value=datetime(1900, 1, 1))


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(_times, _times), min_size=1))
def test_days_in_a_stage_are_counted_alike_by_every_sqlite(pairs):
    """A SQLite with ``unixepoch`` (this one) counts a stage's days with it, in less than
    half the time, and the same days as ``strftime`` on an older one."""
    newer, older = create_engine("sqlite://"), create_engine("sqlite://")
    with older.connect():
        older.dialect.server_version_info = (3, 35, 0)
    faster, days = _whole_days_on(newer, pairs)
    slower, days_before = _whole_days_on(older, pairs)
    assert "unixepoch" in faster and "unixepoch" not in slower
    assert days == days_before


_CRITERION = Criterion("industry", Operator.IN, ("Software",), weight=20)


def test_a_criterion_whose_accounts_win_more_often_weighs_more():
    suggestion = suggest(CriterionOutcomes(_CRITERION, met_won=30, met_closed=60,
                                           unmet_won=10, unmet_closed=60))  # fmt: skip
    assert suggestion.weight > 20 and suggestion.changed
    assert "win more often" in suggestion.reason


def test_a_criterion_whose_accounts_win_less_often_weighs_less_but_never_below_one():
    weaker = suggest(CriterionOutcomes(_CRITERION, 10, 60, 30, 60))
    assert 1 <= weaker.weight < 20 and "less often" in weaker.reason
    light = Criterion("industry", Operator.IN, ("Software",), weight=1)
    assert suggest(CriterionOutcomes(light, 0, 100, 90, 100)).weight == 1
    heavy = Criterion("industry", Operator.IN, ("Software",), weight=90)
    assert suggest(CriterionOutcomes(heavy, 90, 100, 1, 100)).weight == 100


def test_too_few_closed_accounts_or_a_small_difference_keep_the_weight():
    few = suggest(CriterionOutcomes(_CRITERION, 5, MIN_CLOSED - 1, 0, 50))
    assert few.weight == 20 and not few.changed
    assert few.reason == (
        f"Kept: one side has only 9 closed accounts, fewer than the {MIN_CLOSED} a win rate needs."
    )
    alike = suggest(CriterionOutcomes(_CRITERION, 21, 60, 20, 60))
    assert alike.weight == 20 and alike.reason == "Kept: both sides win about as often."


def test_a_must_have_is_not_reweighted_and_the_draft_keeps_the_rest_of_the_icp():
    must = Criterion("country", Operator.IN, ("DE",), must_have=True, weight=0)
    icp = IdealCustomerProfile("Mid-market", (must, _CRITERION), tier_a=60, tier_b=30)
    suggestions = calibrate([CriterionOutcomes(must, 40, 100, 0, 0),
                             CriterionOutcomes(_CRITERION, 30, 60, 10, 60)])  # fmt: skip
    assert suggestions[0].reason == "A must-have is not re-weighted." and not suggestions[0].changed
    draft = reweighted(icp, suggestions)
    assert draft.criteria[0] == must
    assert draft.criteria[1].weight == suggestions[1].weight != 20
    assert (draft.name, draft.tier_a, draft.tier_b) == ("Mid-market", 60, 30)


# --- the funnel on a workspace ----------------------------------------------------------


def _store(workspace, people, histories: list[dict[str, Any]]) -> list[uuid.UUID]:
    """Accounts with their stage history ``moves`` [(day, stage)], tier, campaigns, owner
    (a role) and whether they are deleted."""
    rows, listed, fits, moved, engaged, ids = [], [], [], [], [], []
    for n, facts in enumerate(histories):
        account_id = uuid.uuid4()
        ids.append(account_id)
        values = {"name": facts.get("name", f"Account {n}"),
                  "industry": facts.get("industry")}  # fmt: skip
        rows.append({"id": account_id, "changed_by": "t", **values, **derived_columns(values),
                     "deleted_at": _day(70) if facts.get("deleted") else None})  # fmt: skip
        owner = facts.get("owner", Role.REP)
        owner_id = people[owner].id if owner else None
        listed.append({"id": uuid.uuid4(), "account_id": account_id, "changed_by": "t",
                       "stage": "targeted", "owner_id": owner_id})  # fmt: skip
        if facts.get("tier"):
            fits.append({"account_id": account_id, "score": 50, "tier": facts["tier"]})
        for day, stage in facts.get("moves", []):
            moved.append({"id": uuid.uuid4(), "account_id": account_id, "to_stage": stage.value,
                          "at": _day(day), "changed_by": "t"})  # fmt: skip
        for campaign in facts.get("campaigns", []):
            engaged.append({"id": uuid.uuid4(), "account_id": account_id, "kind": "webinar",
                            "at": _day(-5), "campaign": campaign, "created_by": "t"})  # fmt: skip
    with workspace.write() as conn:
        for table in (account_reach, engagements, stage_changes, interactions, scores, targets,
                      accounts):  # fmt: skip
            conn.execute(delete(table))
        conn.execute(insert(accounts), rows)
        for table, more in ((targets, listed), (scores, fits), (stage_changes, moved),
                            (engagements, engaged)):  # fmt: skip
            if more:
                conn.execute(insert(table), more)
        refresh_reach(conn, ids)  # what every write of stage changes does
        refresh_segments(conn, None)  # and every scoring and write to the target list
        refresh_learning_facts(conn, None)  # and every write of interactions
    return ids


_WON_FROM_MEETING = [(-10, Stage.TARGETED), (2, Stage.SALES_READY), (3.5, Stage.CONTACTED),
                     (10, Stage.MEETING), (20.25, Stage.WON)]  # fmt: skip


def test_the_funnel_counts_what_reached_each_stage_in_the_period(workspace, people):
    _store(workspace, people, [
        # skips the opportunity: counts as having reached it
        {"moves": _WON_FROM_MEETING, "tier": "A"},
        # not a fit after the first call: lost, and never an opportunity
        {"moves": [(1, Stage.TARGETED), (3, Stage.SALES_READY), (4, Stage.CONTACTED),
                   (5, Stage.LOST)], "tier": "B"},
        # moved only before the period: not in it
        {"moves": [(-40, Stage.TARGETED), (-30, Stage.SALES_READY)], "tier": "A"},
        # reached the meeting after the period: counted up to contacted
        {"moves": [(50, Stage.TARGETED), (55, Stage.SALES_READY), (58, Stage.CONTACTED),
                   (65, Stage.MEETING)], "tier": "A"},
        # deleted: left out
        {"moves": [(1, Stage.TARGETED)], "deleted": True},
    ])  # fmt: skip
    with workspace.read() as conn:
        whole = funnels(conn, SCOPE)[None, None]
        sections = closed_loop.closed_loop(conn, SCOPE).sections()
    assert whole.reached == {Stage.TARGETED: 2, Stage.SALES_READY: 3, Stage.CONTACTED: 3,
                             Stage.MEETING: 1, Stage.OPPORTUNITY: 1, Stage.WON: 1,
                             Stage.LOST: 1}  # fmt: skip
    assert whole.conversion(Stage.CONTACTED) == (pytest.approx(1 / 3), "1 of 3")
    assert whole.conversion(Stage.OPPORTUNITY) == (1.0, "1 of 1")
    assert whole.close_rate() == (0.5, "1 of 2")
    # sales-ready 2 → contacted 3.5: 1 whole day; 3 → 4: 1; 55 → 58: 3 → median 1
    assert whole.days[Stage.SALES_READY] == 1
    assert whole.days[Stage.MEETING] == 10  # to the win, the skipped opportunity aside
    funnel = _section(sections, "Funnel")
    figures = {f.label: f for f in funnel.figures}
    assert figures["Reached sales-ready"].value == 3
    assert figures["Close rate"].value == 0.5 and figures["Close rate"].basis == "1 of 2"
    table = funnel.tables[0]
    # contacted 3.5 → meeting 10: 6 days, 4 → lost 5: 1; the median 3.5 shows as 4
    assert list(table.rows)[2] == ["Contacted", 3, pytest.approx(1 / 3), "1 of 3", "Meeting", 4]
    by_tier, days_by_tier = _section(sections, "Funnel by tier").tables
    assert [row[:8] for row in by_tier.rows] == [["A", 1, 2, 2, 1, 1, 1, 0],
                                                  ["B", 1, 1, 1, 0, 0, 0, 1]]  # fmt: skip
    assert [len(t.columns) for t in (by_tier, days_by_tier)] == [10, 6]  # each fits a page
    assert [row[0] for row in days_by_tier.rows] == ["A", "B"]


def test_the_dashboards_funnel_and_lead_quality_read_only_what_they_show(
    workspace, people, monkeypatch
):
    """The owner's funnel panel reads the funnel alone, marketing's lead quality panel lead
    quality alone: the learnings digest and the calibration are the closed loop window's
    and the reports', and on a big workspace they cost seconds the panels would wait for."""
    [account_id] = _store(workspace, people, [{"moves": _WON_FROM_MEETING, "tier": "A"}])
    _log(workspace, account_id, 20, quality=4)
    now = _day(25)

    def refused(conn, scope):
        raise AssertionError("read by a panel that does not show it")

    for name in ("learnings", "calibration", "funnels"):
        monkeypatch.setattr(closed_loop, name, refused)
    with workspace.read() as conn:
        funnel = funnel_panel(workspace, now, people[Role.OWNER])["funnel"]
        shown = quality_panel(workspace, now, people[Role.MARKETING])["quality"]
    monkeypatch.undo()
    with workspace.read() as conn:
        expected = closed_loop.closed_loop(conn, funnel.scope).sections()
        whole = _section(closed_loop.closed_loop(conn, shown.scope).sections(), "Lead quality")
    quality = {f.label: f.value for f in whole.figures}
    # the funnel's bars alone: its segments, conversions and days in stage are not read
    assert funnel.chart == _section(expected, "Funnel").charts[0]
    assert funnel.chart.series[0].values == (1.0,) * 6 + (0.0,)
    assert {f.label: f.value for f in shown.figures} == quality
    assert quality["Average rating"] == 4
    # its table by tier, and no other segment read (the campaigns group every engagement)
    assert shown.table is not None and shown.table.rows == whole.tables[0].rows == [
        ["A", 1, 4, 0, 0, None]]  # fmt: skip
    assert [t.title for t in shown.sections[0].tables] == ["Lead quality by tier"]


def test_a_period_without_moves_says_so(workspace, people):
    _store(workspace, people, [{"moves": [(-40, Stage.TARGETED)]}])
    with workspace.read() as conn:
        sections = closed_loop.closed_loop(conn, SCOPE).sections()
    funnel = _section(sections, "Funnel")
    assert all(f.value is None for f in funnel.figures)
    assert funnel.notes == ["No account moved through the funnel in this period."]
    assert not funnel.tables and not funnel.charts
    assert _section(sections, "Lead quality").notes == [
        "No lead was rated, accepted or rejected in this period."
    ]
    assert _section(sections, "What the field learned").notes == [
        "No rep wrote down what they learned in this period."
    ]
    assert _section(sections, "ICP calibration").notes == [
        "No ICP has been applied yet: there is nothing to calibrate."
    ]


def test_segments_by_campaign_and_rep_and_one_reps_scope(workspace, people):
    _store(workspace, people, [
        {"moves": _WON_FROM_MEETING, "campaigns": ["Spring webinar", "Trade fair"]},
        {"moves": [(1, Stage.TARGETED)], "campaigns": ["Trade fair"], "owner": Role.OWNER},
        {"moves": [(1, Stage.TARGETED)], "owner": None},
    ])  # fmt: skip
    with workspace.read() as conn:
        found = funnels(conn, SCOPE)
        mine = funnels(conn, Scope(PERIOD, WorkCalendar(), END, rep="Rita Rep"))
        bars = reached(conn, Scope(PERIOD, WorkCalendar(), END, rep="Rita Rep"))
    fair = found[Segment.CAMPAIGN, "Trade fair"].reached  # both accounts, each once
    assert (fair[Stage.TARGETED], fair[Stage.WON]) == (1, 1)
    assert found[Segment.CAMPAIGN, "Spring webinar"].reached[Stage.WON] == 1
    assert found[Segment.CAMPAIGN, None].reached[Stage.TARGETED] == 1
    assert found[Segment.REP, "Rita Rep"].reached[Stage.WON] == 1
    assert found[Segment.REP, None].reached[Stage.TARGETED] == 1
    assert mine[None, None].reached[Stage.WON] == mine[None, None].total == 1
    assert set(key for key in mine if key[0] is Segment.REP) == {(Segment.REP, "Rita Rep")}
    assert bars == mine[None, None].reached  # the dashboard's funnel for the rep


# --- the same funnel from a plain Python path -------------------------------------------

_moves = st.lists(st.tuples(st.integers(-30, 90), st.integers(0, 23), st.sampled_from(list(Stage))),
                  max_size=6)  # fmt: skip
history = st.fixed_dictionaries({
    "moves": _moves.map(lambda ms: [(day + hour / 24, stage) for day, hour, stage in ms]),
    "tier": st.sampled_from([None, "A", "B"]),
    "campaigns": st.lists(st.sampled_from(["Spring", "Fair"]), max_size=2, unique=True),
    "deleted": st.booleans(),
})  # fmt: skip


def _plain_funnel(facts: dict[str, Any]) -> dict[str, Any] | None:
    """One account's part of the funnel, walked through its history in order."""
    if facts["deleted"]:
        return None
    seen = sorted(
        (at, stage) for at, stage in ((_day(d), s) for d, s in facts["moves"]) if at < END
    )
    first: dict[Stage, datetime] = {}
    for at, stage in seen:
        reached = [Stage.LOST] if stage is Stage.LOST else LINE[: LINE.index(stage) + 1]
        for earlier in reached:
            first.setdefault(earlier, at)
    if all(at < START for at in first.values()):
        return None  # it moved in the period, but reached no stage there for the first time
    days = {}
    for stage in OPEN:
        if first.get(stage, START - timedelta(1)) < START:
            continue
        after = LINE[LINE.index(stage) + 1 :]
        later = [at for at, s in seen if s is Stage.LOST or s in after]
        if later and min(later) >= first[stage]:
            days[stage] = (min(later) - first[stage]) // timedelta(days=1)
    return {"first": first, "days": days}


def _expected(walked: list[dict[str, Any]]) -> dict[str, Any]:
    reached = {s: sum(1 for w in walked if w["first"].get(s, START - timedelta(1)) >= START)
               for s in (*LINE, Stage.LOST)}  # fmt: skip
    converted = {
        s: sum(1 for w in walked if w["first"].get(s, START - timedelta(1)) >= START
               and LINE[LINE.index(s) + 1] in w["first"])
        for s in OPEN
    }  # fmt: skip
    days = {}
    for s in OPEN:
        spans = [w["days"][s] for w in walked if s in w["days"]]
        days[s] = statistics.median(spans) if spans else None
    return {"reached": reached, "converted": converted, "days": days}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(batch=st.lists(history, min_size=1, max_size=8))
def test_sql_and_a_plain_python_path_count_the_same_funnel(workspace, people, batch):
    _store(workspace, people, batch)
    with workspace.read() as conn:
        found = funnels(conn, SCOPE)
        bars = reached(conn, SCOPE)
    walked = [(facts, _plain_funnel(facts)) for facts in batch]
    # the whole is there (all zeros) even when nothing moved
    groups: dict[tuple[Segment | None, str | None], list[dict[str, Any]]] = {(None, None): []}
    for facts, walk in walked:
        if walk is None:
            continue
        groups.setdefault((None, None), []).append(walk)
        groups.setdefault((Segment.TIER, facts["tier"]), []).append(walk)
        for campaign in facts["campaigns"] or [None]:
            groups.setdefault((Segment.CAMPAIGN, campaign), []).append(walk)
    for key, walks in groups.items():
        counts, expected = found[key], _expected(walks)
        assert counts.reached == expected["reached"], (key, batch)
        assert counts.converted == expected["converted"], (key, batch)
        assert counts.days == expected["days"], (key, batch)
    assert {k for k in found if k[0] in (None, Segment.TIER, Segment.CAMPAIGN)} == set(groups)
    assert bars == _expected(groups[(None, None)])["reached"], batch  # the dashboard's


# --- lead quality, learnings, calibration, raw rows -------------------------------------


def _log(workspace, account_id, day, **values) -> uuid.UUID:
    entry = {"id": uuid.uuid4(), "account_id": account_id, "at": _day(day), "channel": "call",
             "outcome": "conversation", "meaningful": True, "logged_by": "Rita Rep",
             "logged_at": _day(day), **values}  # fmt: skip
    with workspace.write() as conn:
        conn.execute(insert(interactions), [entry])
        refresh_learning_facts(conn, [account_id])  # what every write of interactions does
    return entry["id"]


def test_lead_quality_by_segment_counts_a_correction_instead_of_what_it_corrects(workspace, people):
    first, second = _store(workspace, people, [
        {"moves": [(1, Stage.TARGETED)], "tier": "A", "industry": "Software"},
        {"moves": [(1, Stage.TARGETED)], "tier": "B", "industry": "Retail"},
    ])  # fmt: skip
    wrong = _log(workspace, first, 2, quality=1, lead="rejected", reason="no budget")
    _log(workspace, first, 3, quality=5, lead="accepted", supersedes_id=wrong)
    _log(workspace, first, 4, quality=4)
    _log(workspace, second, 5, quality=2, lead="rejected", reason="too small")
    _log(workspace, second, -5, quality=5, lead="accepted")  # before the period
    with workspace.read() as conn:
        quality = _section(closed_loop.closed_loop(conn, SCOPE).sections(), "Lead quality")
    figures = {f.label: f for f in quality.figures}
    assert figures["Average rating"].value == pytest.approx(11 / 3)
    assert figures["Average rating"].basis == "3 ratings"
    assert (figures["Accepted share"].value, figures["Accepted share"].basis) == (0.5, "1 of 2")
    by_tier = next(t for t in quality.tables if t.title == "Lead quality by tier")
    assert list(by_tier.rows) == [["A", 2, 4.5, 1, 0, 1.0], ["B", 1, 2.0, 0, 1, 0.0]]


def test_the_digest_groups_by_tier_and_industry_the_most_telling_first(workspace, people):
    first, second = _store(workspace, people, [
        {"name": "Acme", "moves": [(1, Stage.TARGETED)], "tier": "A", "industry": "Software"},
        {"name": "Bolt", "moves": [(1, Stage.TARGETED)], "tier": "B", "industry": "Retail"},
    ])  # fmt: skip
    for day in range(PER_GROUP + 2):
        _log(workspace, first, 10 + day, learned=f"Chat {day}")
    _log(workspace, first, 5, learned="Lost to a cheaper tool", outcome="lost", reason="price")
    _log(workspace, second, 6, learned="Buys in <spring> & autumn")
    _log(workspace, second, 7, learned="")
    with workspace.read() as conn:
        digest = _section(closed_loop.closed_loop(conn, SCOPE).sections(), "What the field learned")
    texts = [(q.group, q.text, q.account) for q in digest.quotes]
    assert texts == [
        ("Tier A · Software", "Lost to a cheaper tool", "Acme"),
        ("Tier A · Software", f"Chat {PER_GROUP + 1}", "Acme"),
        ("Tier A · Software", f"Chat {PER_GROUP}", "Acme"),
        ("Tier B · Retail", "Buys in <spring> & autumn", "Bolt"),
    ]
    assert digest.quotes[0].rep == "Rita Rep" and digest.quotes[0].at == _day(5).date()
    assert digest.notes == ["Tier A · Software: 3 more learnings in the Interactions sheet."]


logged = st.fixed_dictionaries({
    "account": st.integers(0, 3),
    "day": st.integers(-3, 63),  # the period is days 0..60, with ties on a day
    "outcome": st.sampled_from(["conversation", "no-answer", "won", "lost", "opportunity"]),
    "meaningful": st.booleans(),
    "lead": st.sampled_from([None, "accepted", "rejected"]),
    "learned": st.sampled_from(["", "Budget in May", "Uses a rival", "Chose us"]),
    "corrects": st.none() | st.integers(0, 40),
})  # fmt: skip
accounts_of = st.lists(st.fixed_dictionaries({"tier": st.sampled_from([None, "A", "B"]),
                                              "industry": st.sampled_from([None, "Retail"])}),
                       min_size=4, max_size=4)  # fmt: skip


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(facts=accounts_of, logs=st.lists(logged, max_size=40), one_rep=st.booleans())
def test_the_digest_quotes_what_a_plain_ranking_of_every_learning_quotes(
    workspace, people, facts, logs, one_rep
):
    ids = _store(workspace, people, [
        {**f, "name": f"Account {n}", "owner": Role.REP if n % 2 else Role.OWNER}
        for n, f in enumerate(facts)
    ])  # fmt: skip
    entries: list[dict[str, Any]] = []
    for n, log in enumerate(logs):
        corrects = log["corrects"]
        entries.append({
            "id": uuid.uuid4(), "account_id": ids[log["account"]], "at": _day(log["day"]),
            "channel": "call", "outcome": log["outcome"], "meaningful": log["meaningful"],
            "lead": log["lead"], "learned": log["learned"] + (f" #{n}" if log["learned"] else ""),
            "logged_by": "Rita Rep", "logged_at": _day(log["day"]),
            "supersedes_id": entries[corrects]["id"] if corrects is not None
            and corrects < len(entries) else None,
        })  # fmt: skip
    if entries:
        with workspace.write() as conn:
            conn.execute(insert(interactions), entries)
            refresh_learning_facts(conn, ids)  # what every write of interactions does
    scope = Scope(PERIOD, WorkCalendar(), END, rep="Rita Rep" if one_rep else None)
    with workspace.read() as conn:
        found = learnings(conn, scope)
    corrected = {e["supersedes_id"] for e in entries}
    groups: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
    for e in entries:
        account = ids.index(e["account_id"])
        if (e["learned"] and e["id"] not in corrected and START <= e["at"] < END
                and not (one_rep and account % 2 == 0)):  # fmt: skip
            groups.setdefault((facts[account]["tier"], facts[account]["industry"]), []).append(e)

    def telling(e: dict[str, Any]) -> int:
        if e["outcome"] in ("won", "lost", "opportunity") or e["lead"] == "rejected":
            return 2
        return 1 if e["meaningful"] else 0

    order = sorted(
        groups.items(),
        key=lambda item: (
            ["A", "B", "C"].index(item[0][0]) if item[0][0] else 3,
            -len(item[1]),
            item[0][1] or "",
        ),
    )
    expected = [
        (len(group), [e["learned"] for e in sorted(group, key=lambda e: (
            -telling(e), -e["at"].timestamp(), e["id"]))[:PER_GROUP]])
        for _, group in order
    ]  # fmt: skip
    assert [(number, [q.text for q in quotes]) for _, number, quotes in found] == expected


def test_calibration_counts_the_closed_accounts_that_meet_each_criterion(workspace, people):
    won = [(1, Stage.TARGETED), (20, Stage.WON)]
    lost = [(1, Stage.TARGETED), (20, Stage.LOST)]
    _store(workspace, people, [
        {"industry": "Software", "moves": won}, {"industry": "Software", "moves": won},
        {"industry": "Software", "moves": lost}, {"industry": "Retail", "moves": lost},
        {"industry": "Retail", "moves": [(1, Stage.TARGETED)]},  # still open
    ])  # fmt: skip
    icp = IdealCustomerProfile("Fit", (_CRITERION,))
    with workspace.write() as conn:
        conn.execute(insert(versions), [{"id": uuid.uuid4(), "name": "Fit", "number": 3,
                                         "document": to_document(icp),
                                         "created_by": "t", "applied_at": _day(0)}])  # fmt: skip
    with workspace.read() as conn:
        section = _section(closed_loop.closed_loop(conn, SCOPE).sections(), "ICP calibration")
    assert section.notes == ["The criteria of Fit v3, the active ICP, against the accounts won "
                             "or lost in this period."]  # fmt: skip
    (row,) = section.tables[0].rows
    assert row[:8] == ["Industry in Software", 20, 2, 3, pytest.approx(2 / 3), 0, 1, 0.0]
    assert row[8] == 20 and row[9].startswith("Kept: one side has only 1 closed account,")


def test_calibration_looks_up_each_closed_accounts_contacts_once(workspace, people):
    """A criterion on the account's contacts (a decision maker) is worked out once per
    closed account, not once for each count it is in (all closed, the won): the counts are
    those of the accounts."""
    decides = Criterion(HAS_DECISION_MAKER, Operator.IS_SET, weight=10)
    won = [(1, Stage.TARGETED), (20, Stage.WON)]
    [first, _] = _store(workspace, people, [{"moves": won}, {"moves": won}])
    icp = IdealCustomerProfile("Fit", (decides,))
    with workspace.write() as conn:
        conn.execute(insert(versions), [{"id": uuid.uuid4(), "name": "Fit", "number": 3,
                                         "document": to_document(icp),
                                         "created_by": "t", "applied_at": _day(0)}])  # fmt: skip
        conn.execute(insert(contacts).values(
            id=uuid.uuid4(), account_id=first, name="Dana", decision_maker=True,
            created_at=_day(0), updated_at=_day(0), changed_by="t", version=1))  # fmt: skip
    with workspace.read() as conn:
        sent = statements_of([workspace], lambda: calibration(conn, SCOPE))
        _, [suggestion] = calibration(conn, SCOPE)
    [counted] = [statement for statement in sent if "FROM contacts" in statement]
    assert counted.count("FROM contacts") == 1
    assert (suggestion.outcomes.met_won, suggestion.outcomes.unmet_won) == (1, 1)


def test_the_raw_rows_are_the_periods(workspace, people):
    account, gone = _store(workspace, people, [
        {"name": "Acme", "moves": [(-3, Stage.TARGETED), (2, Stage.SALES_READY)]},
        {"name": "Gone", "moves": [(1, Stage.SALES_READY)], "deleted": True},
    ])  # fmt: skip
    _log(workspace, account, 1, learned="=1+1")
    _log(workspace, account, -1)
    _log(workspace, gone, 1)  # a deleted account's: counted nowhere
    with workspace.read() as conn:
        logged = interaction_rows(conn, SCOPE)
        rows = list(logged.rows)
        moved = stage_change_rows(conn, SCOPE)
        changes = list(moved.rows)
        assert interaction_rows(conn, Scope(PERIOD, WorkCalendar(), END, rep="Rita Rep")).count == 1
    with workspace.write() as conn:
        conn.execute(update(targets).values(owner_id=people[Role.OWNER].id))
    with workspace.read() as conn:
        none = interaction_rows(conn, Scope(PERIOD, WorkCalendar(), END, rep="Rita Rep"))
        assert none.count == 0 and list(none.rows) == []
    assert logged.count == 1 and len(rows) == 1
    assert rows[0][0] == "Acme" and rows[0][8] == "=1+1"
    assert moved.count == 1
    assert changes[0][1:] == ["Acme", "", "Sales-ready", "t", ""]
