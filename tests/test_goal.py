"""The shared goal: its progress arithmetic, its versions in the workspace, its progress
read from the raw rows in SQL (against a plain Python path on random histories), and the
rates history gives the goal-to-agreement arithmetic."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, delete, event, func, insert, select, update

from domain.calendar import WorkCalendar
from domain.errors import PermissionDenied, ValidationError
from domain.goal import Goal, Metric, Progress, elapsed, reaches, reverse_funnel, set_goal
from domain.periods import Month, Period
from domain.report import ReportKind, Scope
from domain.targets import Stage
from domain.users import Role
from main import main
from storage.demo.build import GOAL_OWNERS, build_demo
from storage.goal_facts import refresh_goal_facts
from storage.goals import SqlGoalStore, current_goal, goal_history
from storage.keys import derived_columns
from storage.read_models import goal_progress
from storage.read_models.dashboard import goal_panel
from storage.read_models.goal_progress import (
    ACTUAL,
    FORECAST,
    GAP,
    PACE,
    contributions,
    goal_figures,
    goal_sections,
    observed_rates,
)
from storage.read_models.reports import make_report
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    ChangeRow,
    GoalVersionRow,
    InteractionRow,
    StageChangeRow,
    TargetRow,
    table_of,
)

accounts = table_of(AccountRow)
scores = table_of(AccountScoreRow)
interactions = table_of(InteractionRow)
stage_changes = table_of(StageChangeRow)
targets = table_of(TargetRow)
change_log = table_of(ChangeRow)
goal_versions = table_of(GoalVersionRow)

UTC_CALENDAR = WorkCalendar()
START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 2, 1, tzinfo=UTC)  # half of a two-month goal gone by (31 of 59 days)


def _goal(metric=Metric.NEW_REVENUE, target=1000, months=2) -> Goal:
    return Goal(metric, target, date(2026, 1, 10), months, ("Mark Marketer", "Rita Rep"))


def _scope(now=NOW, period="2026-01..2026-02", rep=None) -> Scope:
    return Scope(Period.parse(period), UTC_CALENDAR, now, rep)


# --- the rules --------------------------------------------------------------------------------


def test_pace_forecast_and_gap_follow_the_time_gone_by():
    progress = Progress(target=1000, actual=300, elapsed=0.25, pipeline=200)
    assert progress.pace == 250
    assert progress.run_rate == 1200
    assert progress.forecast == 1400
    assert progress.gap == -400  # the forecast goes 400 beyond the target
    assert Progress(1000, 0, 0.0).forecast is None  # nothing to extend before it starts
    assert Progress(1000, 900, 1.0, pipeline=500).forecast == 900  # over: the actual alone


def test_elapsed_is_a_share_of_the_period_held_between_0_and_1():
    end = START + timedelta(days=10)
    assert elapsed(START, end, START - timedelta(days=1)) == 0
    assert elapsed(START, end, START + timedelta(days=5)) == 0.5
    assert elapsed(START, end, end + timedelta(days=1)) == 1


def test_a_move_reaches_a_stage_into_it_or_past_it_from_before_it():
    assert reaches(Stage.MEETING, Stage.CONTACTED, Stage.MEETING)
    assert reaches(Stage.MEETING, Stage.CONTACTED, Stage.OPPORTUNITY)  # one call, both
    assert reaches(Stage.WON, Stage.LOST, Stage.WON)
    assert reaches(Stage.OPPORTUNITY, None, Stage.OPPORTUNITY)
    assert not reaches(Stage.MEETING, Stage.MEETING, Stage.OPPORTUNITY)  # reached before
    assert not reaches(Stage.MEETING, Stage.CONTACTED, Stage.LOST)


# --- the versions in the workspace ------------------------------------------------------------


def test_each_goal_set_is_a_new_version_with_its_change_logged(workspace, people):
    store, owner = SqlGoalStore(workspace), people[Role.OWNER]
    first = set_goal(store, owner, _goal(target=400_000))
    second = set_goal(store, owner, _goal(Metric.WON_ACCOUNTS, 20, months=6))
    assert (first.number, second.number) == (1, 2)
    with workspace.read() as conn:
        now = current_goal(conn)
        history = goal_history(conn)
        logged = conn.execute(
            select(func.count()).where(change_log.c.table_name == "goal_versions")
        ).scalar_one()
    assert now is not None and now.goal == _goal(Metric.WON_ACCOUNTS, 20, months=6)
    assert (now.number, now.set_by) == (2, owner.name)
    assert [v.number for v in history] == [2, 1]
    assert history[1].goal.target == 400_000
    assert logged == 2


@pytest.mark.parametrize(
    ("owners", "key"),
    [(("Mark Marketer",), "owners"), (("Mark Marketer", "Nobody Here"), "owners"),
     (("Rita Rep", "Olivia Owner"), "owners")],
)  # fmt: skip
def test_a_goal_without_owners_from_both_teams_is_refused_and_nothing_written(
    workspace, people, owners, key
):
    goal = Goal(Metric.MEETINGS, 40, date(2026, 1, 1), 6, owners)
    with pytest.raises(ValidationError) as refused:
        set_goal(SqlGoalStore(workspace), people[Role.OWNER], goal)
    assert list(refused.value.problems) == [key]
    with workspace.read() as conn:
        assert current_goal(conn) is None


def test_only_the_owner_sets_the_goal(workspace, people):
    for role in (Role.MARKETING, Role.REP):
        with pytest.raises(PermissionDenied):
            set_goal(SqlGoalStore(workspace), people[role], _goal())
    with workspace.read() as conn:
        assert goal_history(conn) == []


# --- progress from the raw rows ----------------------------------------------------------------


@contextmanager
def _by_hand(workspace) -> Iterator[Connection]:
    """A transaction that writes raw rows by hand, their goal's facts worked out at its end,
    as every write path does."""
    with workspace.write() as conn:
        yield conn
        refresh_goal_facts(conn, None)


def _account(conn, name, tier=None, source=None, industry=None, owner=None) -> uuid.UUID:
    account_id = uuid.uuid4()
    values = {"name": name, "source": source, "industry": industry}
    conn.execute(insert(accounts).values(id=account_id, changed_by="t", **values,
                                         **derived_columns(values)))  # fmt: skip
    conn.execute(insert(targets).values(id=uuid.uuid4(), account_id=account_id, changed_by="t",
                                        owner_id=owner, stage="opportunity"))  # fmt: skip
    if tier:
        conn.execute(insert(scores).values(account_id=account_id, score=80, tier=tier))
    return account_id


def _interaction(conn, account_id, at, outcome="won", value=None, supersedes=None) -> uuid.UUID:
    entry_id = uuid.uuid4()
    conn.execute(insert(interactions).values(
        id=entry_id, account_id=account_id, at=at, channel="call", outcome=outcome,
        meaningful=True, value=value, supersedes_id=supersedes, logged_by="t"))  # fmt: skip
    return entry_id


def _move(conn, account_id, at, before, after, interaction_id=None) -> None:
    conn.execute(insert(stage_changes).values(
        id=uuid.uuid4(), account_id=account_id, from_stage=before, to_stage=after, at=at,
        changed_by="t", interaction_id=interaction_id))  # fmt: skip


def _save_goal(workspace, people, goal) -> None:
    set_goal(SqlGoalStore(workspace), people[Role.OWNER], goal)


def test_without_a_goal_the_figures_say_so_instead_of_zero(workspace, people):
    with workspace.read() as conn:
        figures = goal_figures(conn, _scope())
        sections = goal_sections(conn, _scope())
    assert [f.label for f in figures] == [ACTUAL, PACE, FORECAST, GAP]
    assert all(f.value is None for f in figures)
    assert "No shared goal is set yet" in sections[0].notes[0]


def test_progress_counts_wins_that_stand_and_weighs_the_open_pipeline(workspace, people):
    _save_goal(workspace, people, _goal(target=1000))
    rep = people[Role.REP].id
    with _by_hand(workspace) as conn:
        big = _account(conn, "Big", tier="A", source="Fair", industry="Retail", owner=rep)
        small = _account(conn, "Small", tier="B", source="Web", owner=rep)
        none = _account(conn, "Loose")
        typo = _interaction(conn, big, START + timedelta(days=3), value=900)
        fixed = _interaction(conn, big, START + timedelta(days=3), value=300, supersedes=typo)
        _move(conn, big, START + timedelta(days=3), "opportunity", "won", typo)
        _move(conn, big, START + timedelta(days=3), "opportunity", "won", fixed)
        _interaction(conn, small, START + timedelta(days=10), value=100)
        _move(conn, small, START + timedelta(days=10), "opportunity", "won")
        _interaction(conn, none, START - timedelta(days=1), value=5000)  # before the goal
        _move(conn, none, START + timedelta(days=12), "opportunity", "lost")
        _interaction(conn, none, NOW + timedelta(hours=1), value=7000)  # after now
        for n in range(2):  # two open opportunities, 200 each
            listed = _account(conn, f"Open {n}", owner=rep)
            _interaction(conn, listed, START, "opportunity", value=200)
    with workspace.read() as conn:
        actual, pace, forecast, gap = goal_figures(conn, _scope())
        sections = goal_sections(conn, _scope())
    share = 31 / 59
    assert actual.value == 400 and actual.basis == "2 won deals"
    assert pace.value == pytest.approx(1000 * share)
    # run rate + the open pipeline (400) times the win rate (2 won of 3 closed)
    assert forecast.value == pytest.approx(400 / share + 400 * 2 / 3)
    assert forecast.basis == "run rate 761 + 400 in open deals × win rate 67% (2 of 3)"
    assert gap.value == pytest.approx(1000 - forecast.value)
    summary, contribution = sections
    weekly = summary.charts[0]
    assert weekly.references == ("Pace",)
    actual_line = dict(zip(weekly.categories, weekly.series[0].values, strict=True))
    assert actual_line["01 Jan"] == 300 and actual_line["08 Jan"] == 400  # weeks' starts
    assert actual_line["29 Jan"] == 400  # the week in progress, to now
    assert weekly.series[0].values[-1] is None  # weeks to come are not drawn
    by_tier = {t.title: list(t.rows) for t in contribution.tables}["Goal by tier"]
    assert by_tier == [("A", 300, 1), ("B", 100, 1)]


def test_the_dashboard_and_the_meeting_pack_read_the_goal_once(workspace, people, monkeypatch):
    """The goal's figures and its pages come from one reading: on a big workspace a reading
    is the most of what the goal panel waits for."""
    _save_goal(workspace, people, _goal(target=1000))
    with _by_hand(workspace) as conn:
        listed = _account(conn, "Big", tier="A", owner=people[Role.REP].id)
        _interaction(conn, listed, START + timedelta(days=3), value=300)
    readings = []
    reading = goal_progress._read
    monkeypatch.setattr(goal_progress, "_read", lambda *a: readings.append(a) or reading(*a))
    with workspace.read() as conn:
        panel = goal_panel(workspace, NOW, people[Role.OWNER])["goal"]
        assert len(readings) == 1
        meeting = make_report(conn, ReportKind.MEETING, _scope(), "Acme")
        assert len(readings) == 2
        assert [f.value for f in panel.figures] == [f.value for f in goal_figures(conn, _scope())]
    assert meeting.sections[0].figures[0].value == 300


def test_a_rep_report_counts_their_accounts_against_the_teams_target(workspace, people):
    _save_goal(workspace, people, _goal(Metric.WON_ACCOUNTS, target=10))
    with _by_hand(workspace) as conn:
        mine = _account(conn, "Mine", owner=people[Role.REP].id)
        theirs = _account(conn, "Theirs", owner=people[Role.OWNER].id)
        for account in (mine, theirs):
            _move(conn, account, START + timedelta(days=2), "opportunity", "won")
    with workspace.read() as conn:
        team = goal_figures(conn, _scope())[0]
        rita = goal_figures(conn, _scope(rep="Rita Rep"))[0]
        notes = goal_sections(conn, _scope(rep="Rita Rep"))[0].notes
    assert (team.value, rita.value, rita.target) == (2, 1, 10)
    assert "Rita Rep's accounts only" in notes[1]


def test_a_report_on_a_past_month_reads_the_goal_as_it_stood_then(workspace, people):
    _save_goal(workspace, people, _goal(Metric.OPPORTUNITIES, target=10))
    with _by_hand(workspace) as conn:
        early = _account(conn, "Early")
        late = _account(conn, "Late")
        _move(conn, early, START + timedelta(days=5), "meeting", "opportunity")
        _move(conn, late, START + timedelta(days=40), "contacted", "opportunity")
    later = datetime(2026, 3, 1, tzinfo=UTC)
    with workspace.read() as conn:
        january = goal_figures(conn, _scope(later, "2026-01"))
        whole = goal_figures(conn, _scope(later))
    assert january[0].value == 1 and january[1].value == pytest.approx(10 * 31 / 59)
    assert whole[0].value == 2 and whole[2].value == 2  # over: the forecast is the actual


def test_the_forecast_weighs_the_open_deals_of_the_moment_it_is_read_at(workspace, people):
    """Over: the forecast is the actual, whatever is open. A report on a past month reads the
    open deals as they stood at its end, not today's; the share gone by says 100% only
    once the goal's period is over."""
    _save_goal(workspace, people, _goal(target=1000))  # January and February 2026
    with _by_hand(workspace) as conn:
        won, lost = _account(conn, "Won"), _account(conn, "Lost")
        _interaction(conn, won, START + timedelta(days=2), value=300)
        _move(conn, won, START + timedelta(days=2), "opportunity", "won")
        _move(conn, lost, START + timedelta(days=3), "opportunity", "lost")
        then = _account(conn, "Open in January")  # open on 31 January, lost since
        _interaction(conn, then, START + timedelta(days=5), "opportunity", value=200)
        _move(conn, then, START + timedelta(days=5), "meeting", "opportunity")
        _move(conn, then, START + timedelta(days=45), "opportunity", "lost")
        now = _account(conn, "Open since February")
        _interaction(conn, now, START + timedelta(days=40), "opportunity", value=500)
        _move(conn, now, START + timedelta(days=40), "meeting", "opportunity")
        for account, stage in ((won, "won"), (lost, "lost"), (then, "lost")):
            conn.execute(update(targets).where(targets.c.account_id == account).values(
                stage=stage))  # fmt: skip
    with workspace.read() as conn:
        january = goal_figures(conn, _scope(START + timedelta(days=50), "2026-01"))
        over = goal_figures(conn, _scope(datetime(2026, 3, 2, tzinfo=UTC)))
        last_hour = goal_figures(conn, _scope(datetime(2026, 2, 28, 23, tzinfo=UTC)))
    # the run rate on 31 January + 200 open then × win rate 1 of 2
    assert january[2].value == pytest.approx(300 * 59 / 31 + 200 / 2)
    assert "200 in open deals" in january[2].basis
    assert over[2].value == 300 and over[2].basis == "the goal's period is over: the actual"
    assert over[1].basis == "100% of the goal's period gone by"
    assert last_hour[1].basis == "99% of the goal's period gone by"
    assert "500 in open deals" in last_hour[2].basis


def test_before_the_goal_starts_nothing_is_counted_or_forecast(workspace, people):
    _save_goal(workspace, people, _goal())
    with workspace.read() as conn:
        actual, pace, forecast, gap = goal_figures(conn, _scope(START - timedelta(days=3)))
        notes = goal_sections(conn, _scope(START - timedelta(days=3)))[0].notes
    assert actual.value is None and forecast.value is None and gap.value is None
    assert pace.value == 0
    assert "The goal starts in January 2026" in notes[1]


def test_the_open_pipeline_of_a_past_moment_reads_each_opportunity_from_one_index_entry(
    sqlite_workspace,
):
    """As a period that is over stood at its end, the forecast's open pipeline costs the
    accounts that moved to the opportunity stage, not the target list: each one's latest
    opportunity entry and its deal value come from an index of the opportunity entries,
    newest first, without sorting the account's interactions."""
    plans = []

    def explained(conn, cursor, statement, parameters, context, executemany):
        if "outcome = ?" in statement and "targets" in statement:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plans.append(" / ".join(row[3] for row in cursor.fetchall()))
        return statement, parameters

    with sqlite_workspace.read() as conn:
        event.listen(conn, "before_cursor_execute", explained, retval=True)
        assert goal_progress._open_pipeline(conn, None, START) == (0, 0)
    [plan] = plans
    assert "SEARCH interactions USING INDEX ix_interactions_opportunity (account_id=?" in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.parametrize("metric", list(Metric))
def test_the_goal_is_read_from_its_facts_index_alone(sqlite_workspace, sqlite_people, metric):
    """The goal's panel and pages as of now add up the goal's facts in their index: no won
    deal's or move's account, score, target or correction is looked up, and no interaction
    or stage change is read (at a million accounts they took two seconds, the panel's
    budget is 0.3 s)."""
    _save_goal(sqlite_workspace, sqlite_people, _goal(metric))
    with _by_hand(sqlite_workspace) as conn:
        won = _account(conn, "Won", tier="A", owner=sqlite_people[Role.REP].id)
        _interaction(conn, won, START + timedelta(days=3), value=400)
        _move(conn, won, START + timedelta(days=3), "contacted", "won")
        _move(conn, _account(conn, "Lost"), START + timedelta(days=4), "meeting", "lost")
    plans = []

    def explained(conn, cursor, statement, parameters, context, executemany):
        if "goal_facts" in statement:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plans.append((statement, " / ".join(row[3] for row in cursor.fetchall())))
        return statement, parameters

    with sqlite_workspace.read() as conn:
        event.listen(conn, "before_cursor_execute", explained, retval=True)
        assert goal_figures(conn, _scope())[0].value == (400 if metric.is_amount else 1)
        goal_sections(conn, _scope(rep="Rita Rep"))
    assert plans
    for statement, plan in plans:
        assert "USING COVERING INDEX ix_goal_facts_" in plan, plan
        for table in ("interactions", "stage_changes", "accounts", "account_scores", "targets"):
            assert f" {table} " not in f"{plan} ", plan
        if "GROUP BY goal_facts.tier" in statement:  # by segment in the index's order
            assert "TEMP B-TREE" not in plan, plan


# Random histories: the SQL figures against a plain Python path over the same rows.

MOMENTS = [START - timedelta(seconds=1), START, START + timedelta(days=1, hours=3),
           START + timedelta(days=20), NOW - timedelta(seconds=1), NOW]  # fmt: skip
STAGES = [None, *(s.value for s in Stage)]
account_history = st.fixed_dictionaries({
    "tier": st.sampled_from([None, "A", "B"]),
    "source": st.sampled_from([None, "Fair", "Web"]),
    "industry": st.sampled_from([None, "Retail"]),
    "owner": st.sampled_from([None, Role.REP, Role.OWNER]),
    # (moment, value, the earlier one it corrects)
    "wins": st.lists(st.tuples(st.sampled_from(MOMENTS), st.integers(0, 500),
                               st.one_of(st.none(), st.integers(0, 2))), max_size=3),
    # (moment, from, to, made by the won interaction of that index, if any)
    "moves": st.lists(st.tuples(st.sampled_from(MOMENTS), st.sampled_from(STAGES),
                                st.sampled_from(STAGES[1:]),
                                st.one_of(st.none(), st.integers(0, 2))), max_size=4),
})  # fmt: skip


def _store_random(workspace, people, batch):
    """Write the histories; what Python makes of them: the events of each metric as
    (account's facts, amount)."""
    owners = {None: None, Role.REP: people[Role.REP], Role.OWNER: people[Role.OWNER]}
    events: dict[Metric, list[tuple[dict, float]]] = defaultdict(list)
    with _by_hand(workspace) as conn:
        for table in (stage_changes, interactions, scores, targets, accounts):
            conn.execute(delete(table))
        for n, facts in enumerate(batch):
            owner = owners[facts["owner"]]
            account = _account(conn, f"Account {n}", facts["tier"], facts["source"],
                               facts["industry"], owner and owner.id)  # fmt: skip
            shown = {**facts, "owner": owner.name if owner else None}
            ids, values = [], []
            for at, value, corrects in facts["wins"]:
                before = ids[corrects] if corrects is not None and corrects < len(ids) else None
                ids.append(_interaction(conn, account, at, value=value, supersedes=before))
                values.append((at, value, before))
            corrected = {before for _, _, before in values if before}
            events[Metric.NEW_REVENUE] += [
                (shown, value) for (at, value, _), entry in zip(values, ids, strict=True)
                if START <= at < NOW and entry not in corrected
            ]  # fmt: skip
            reached: dict[Stage, datetime] = {}
            for at, before, after, by in facts["moves"]:
                made_by = ids[by] if by is not None and by < len(ids) else None
                _move(conn, account, at, before, after, made_by)
                if made_by in corrected or not START <= at < NOW:
                    continue
                for stage in (Stage.MEETING, Stage.OPPORTUNITY, Stage.WON):
                    if reaches(stage, Stage(before) if before else None, Stage(after)):
                        reached[stage] = at
            for metric in (Metric.MEETINGS, Metric.OPPORTUNITIES, Metric.WON_ACCOUNTS):
                if metric.stage in reached:
                    events[metric].append((shown, 1))
    return events


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(account_history, min_size=1, max_size=6),
       metric=st.sampled_from(list(Metric)))  # fmt: skip
@example(
    batch=[
        {
            "tier": "A",
            "source": None,
            "industry": None,
            "owner": None,
            "wins": [(START, 10, None), (START, 20, 0)],
            "moves": [(START, "opportunity", "won", 0), (START, "opportunity", "won", 1)],
        }
    ],
    metric=Metric.WON_ACCOUNTS,
)  # a win corrected: its move counts as the correction's
def test_actual_and_contributions_in_sql_agree_with_the_raw_rows(workspace, people, batch, metric):
    _save_goal(workspace, people, _goal(metric))
    events = _store_random(workspace, people, batch)[metric]
    with workspace.read() as conn:
        by = contributions(conn, metric, START, NOW)
        actual = goal_figures(conn, _scope())[0]
    keys = {"Tier": ("tier", "No tier"), "Source": ("source", "No source"),
            "Industry": ("industry", "No industry"), "Rep": ("owner", "No rep")}  # fmt: skip
    for name, (key, without) in keys.items():
        expected: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        for facts, amount in events:
            expected[facts[key] or without][0] += amount
            expected[facts[key] or without][1] += 1
        assert {k: [v, n] for k, v, n in by[name]} == dict(expected), (name, batch)
    assert actual.value == sum(amount for _, amount in events)


def test_the_summary_actual_is_the_sum_of_its_contributions(workspace, people):
    _save_goal(workspace, people, _goal(Metric.MEETINGS, target=8))
    batch = [{"tier": "A", "source": "Web", "industry": None, "owner": Role.REP, "wins": [],
              "moves": [(START, "contacted", "meeting", None)]},
             {"tier": None, "source": None, "industry": "Retail", "owner": None, "wins": [],
              "moves": [(START + timedelta(days=20), "sales-ready", "opportunity", None),
                        (NOW, "contacted", "meeting", None)]}]  # fmt: skip
    _store_random(workspace, people, batch)
    with workspace.read() as conn:
        actual = goal_figures(conn, _scope())[0]
        by_rep = next(t for t in goal_sections(conn, _scope())[1].tables if "rep" in t.title)
    assert actual.value == 2
    assert sorted(by_rep.rows) == [("No rep", 1), ("Rita Rep", 1)]


# --- the rates for the goal's arithmetic ------------------------------------------------------


def test_observed_rates_come_from_the_last_six_months(workspace, people):
    now = datetime(2026, 7, 1, tzinfo=UTC)
    with _by_hand(workspace) as conn:
        names = iter(range(100))

        def listed(handed_off=None):
            account = _account(conn, f"A {next(names)}")
            if handed_off:
                conn.execute(targets.update().where(targets.c.account_id == account)
                             .values(handed_off_at=handed_off))  # fmt: skip
            return account

        old = listed()
        _interaction(conn, old, datetime(2025, 12, 1, tzinfo=UTC), value=99_000)  # too old
        for n, value in enumerate((20_000, 40_000)):
            won = listed()
            _interaction(conn, won, datetime(2026, 3, 1 + n, tzinfo=UTC), value=value)
            _move(conn, won, datetime(2026, 3, 1 + n, tzinfo=UTC), "opportunity", "won")
        for n in range(6):
            lost = listed()
            _move(conn, lost, datetime(2026, 4, 1 + n, tzinfo=UTC), "opportunity", "lost")
        for n in range(4):  # four meetings, one went on to an opportunity
            met = listed(handed_off=datetime(2026, 2, 1, tzinfo=UTC))
            _move(conn, met, datetime(2026, 2, 10, tzinfo=UTC), "contacted", "meeting")
            if n == 0:
                _move(conn, met, datetime(2026, 2, 20, tzinfo=UTC), "meeting", "opportunity")
        for _ in range(4):  # handed off, never met
            listed(handed_off=datetime(2026, 2, 2, tzinfo=UTC))
    with workspace.read() as conn:
        observed = observed_rates(conn, UTC_CALENDAR, now)
    assert (observed.wins, observed.average_deal) == (2, 30_000)
    assert observed.opportunity_to_won.basis == "2 of 8"
    assert observed.meeting_to_opportunity.basis == "1 of 4"
    assert observed.handoff_to_meeting.basis == "4 of 8"
    assert observed.reps == 1
    funnel = reverse_funnel(Goal(Metric.NEW_REVENUE, 120_000, date(2026, 7, 1), 6,
                                 ("Mark Marketer", "Rita Rep")), observed)  # fmt: skip
    # 4 wins, 16 opportunities, 64 meetings, 128 hand-offs: 22 a month
    assert funnel.handoffs_per_month == 22 and funnel.handoffs_per_rep == 22


# --- the command line ---------------------------------------------------------------------------


def _team_file(tmp_path) -> str:
    db = str(tmp_path / "goal.sqlite")
    for name, role in (("Mark Marketer", "marketing"), ("Rita Rep", "rep")):
        assert main(["--db", db, "--user", "Olivia Owner", "users", "--add", name,
                     "--role", role]) == 0  # fmt: skip
    return db


def test_goal_set_and_show_from_the_command_line(tmp_path, capsys):
    db = _team_file(tmp_path)
    capsys.readouterr()
    code = main(["--db", db, "--user", "Olivia Owner", "goal", "set", "--metric", "won-accounts",
                 "--target", "1,200", "--start", "2026-03-15", "--months", "4",
                 "--owners", "Mark Marketer, Rita Rep"])  # fmt: skip
    assert code == 0
    said = capsys.readouterr().out
    assert said.startswith("Goal set. 1,200 won accounts over March 2026 – June 2026, ")
    assert "owned by Mark Marketer and Rita Rep (version 1, set by Olivia Owner" in said
    assert main(["--db", db, "goal", "show"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert "(version 1, set by Olivia Owner" in shown[0]
    assert shown[1].startswith("Actual to date: ") and "Gap to the target: " in shown[1]


@pytest.mark.parametrize(
    ("change", "key"),
    [({"--metric": "revenue"}, "metric"), ({"--target": "-5"}, "target"),
     ({"--target": "lots"}, "target"), ({"--start": "2026-02-30"}, "start"),
     ({"--months": "0"}, "months"), ({"--owners": "Mark Marketer"}, "owners")],
)  # fmt: skip
def test_a_refused_goal_exits_1_naming_the_key_and_writes_nothing(tmp_path, capsys, change, key):
    db = _team_file(tmp_path)
    typed = {"--metric": "meetings", "--target": "40", "--start": "2026-01-01",
             "--months": "6", "--owners": "Mark Marketer,Rita Rep", **change}  # fmt: skip
    capsys.readouterr()
    argv = ["--db", db, "--user", "Olivia Owner", "goal", "set"]
    assert main([*argv, *(part for pair in typed.items() for part in pair)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"accord: {key}: ") and error.count("\n") == 1
    assert main(["--db", db, "goal", "show"]) == 0
    assert (
        capsys.readouterr().out
        == "No shared goal is set yet: the owner sets it with accord goal set.\n"
    )


def test_the_demo_opens_on_a_goal_within_reach(sqlite_workspace):
    build_demo(sqlite_workspace, accounts=600)
    now = datetime.now(UTC)
    with sqlite_workspace.read() as conn:
        version = current_goal(conn)
        assert version is not None
        scope = Scope(version.goal.period, UTC_CALENDAR, now)
        actual, _, forecast, _ = goal_figures(conn, scope)
    goal = version.goal
    assert (goal.metric, goal.months, goal.owners) == (Metric.NEW_REVENUE, 6, GOAL_OWNERS)
    assert goal.period.last == Month.of(now.date())  # six months to this one
    assert 0 < actual.value < goal.target and forecast.value is not None


def test_a_goal_ahead_of_its_target_says_so_in_every_place_it_is_shown(
    qtbot, sqlite_workspace, sqlite_people, tmp_path, capsys
):
    """The gap below zero reads "ahead by 300", never "-300": in the goal's window,
    `accord goal show`, the dashboard and the reports (the workbook's cell a number still)."""
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from domain.report import ReportKind
    from reports.report_file import write_report
    from storage.read_models.reports import make_report
    from ui.dashboard import FigureTile
    from ui.goal_dialog import GoalDialog

    workspace = sqlite_workspace
    _save_goal(workspace, sqlite_people, _goal(target=100))  # January and February 2026
    with _by_hand(workspace) as conn:
        won = _account(conn, "Won")
        _interaction(conn, won, START + timedelta(days=3), value=400)
        _move(conn, won, START + timedelta(days=3), "opportunity", "won")
    over = _scope(datetime(2026, 3, 2, tzinfo=UTC))
    with workspace.read() as conn:
        gap = goal_figures(conn, over)[3]
        report = make_report(conn, ReportKind.GOAL, over, "Acme")
        write_report(report, tmp_path / "goal.pdf")
        write_report(report, tmp_path / "goal.xlsx")
    assert gap.value == -300
    text = " ".join(page.extract_text() for page in PdfReader(tmp_path / "goal.pdf").pages)
    assert "ahead by 300" in text and "-300" not in text
    summary = load_workbook(tmp_path / "goal.xlsx")["Summary"]
    cell = next(row[2] for row in summary.iter_rows() if row[1].value == GAP)
    assert cell.value == -300 and cell.number_format == '#,##0;"ahead by "#,##0'
    tile = FigureTile(gap)
    qtbot.addWidget(tile)
    assert tile.value.text() == "ahead by 300"
    dialog = GoalDialog(workspace, sqlite_people[Role.OWNER])
    qtbot.addWidget(dialog)
    assert dialog.progress.itemAtPosition(3, 1).widget().text() == "ahead by 300"
    assert main(["--db", workspace.label, "goal", "show"]) == 0
    assert "Gap to the target: ahead by 300 (" in capsys.readouterr().out
