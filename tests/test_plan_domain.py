"""The shared goal, the service agreement, the workspace calendar, periods and the plan's
sign-off as plain rules (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from unittest.mock import MagicMock

import pytest

from domain.agreement import Agreement, Standing, standing
from domain.calendar import Holiday, WorkCalendar
from domain.errors import ValidationError
from domain.goal import Goal, Metric, MissingRate, Observed, Rate, reverse_funnel, set_goal
from domain.periods import Month, Period
from domain.plan import PlanState, PlanVersions, Side, SignOff, sign_plan
from domain.users import Role, User

OWNER = User(uuid.uuid4(), "Olivia Owner", Role.OWNER)
MARK = User(uuid.uuid4(), "Mark Marketer", Role.MARKETING)
RITA = User(uuid.uuid4(), "Rita Rep", Role.REP)
VIENNA = WorkCalendar("Europe/Vienna", holidays=(Holiday(date(2026, 12, 8), "Immaculate"),))


def test_the_design_example_works_back_to_67_hand_offs_a_month():
    goal = Goal(Metric.NEW_REVENUE, 400_000, date(2026, 1, 1), 6, ("Mark", "Rita"))
    observed = Observed(37 * 20_000, 37, Rate(37, 148), Rate(74, 148), Rate(2, 5), reps=3)
    funnel = reverse_funnel(goal, observed)
    figures = {step.step: step.figure for step in funnel.steps}
    assert figures["wins needed"] == 20
    assert figures["opportunities needed"] == 80
    assert figures["meetings needed"] == 160
    assert figures["sales-ready hand-offs needed"] == 400
    assert (funnel.handoffs_per_month, funnel.handoffs_per_rep) == (67, 23)
    assert funnel.meetings_per_month == 27
    assert next(s.how for s in funnel.steps if s.step == "opportunity → won") == "37 of 148"


def test_a_meetings_goal_needs_no_win_rate_and_a_missing_rate_is_named():
    goal = Goal(Metric.MEETINGS, 60, date(2026, 1, 1), 6, ("Mark", "Rita"))
    none = Rate()
    funnel = reverse_funnel(goal, Observed(0, 0, none, none, Rate(entered=0.5), reps=2))
    assert funnel.handoffs_per_month == 20 and funnel.meetings_per_month == 10
    revenue = Goal(Metric.NEW_REVENUE, 100_000, date(2026, 1, 1))
    with pytest.raises(MissingRate, match="average deal"):
        reverse_funnel(revenue, Observed(0, 0, none, none, none, reps=2))


def test_a_goal_needs_owners_from_both_teams():
    store = MagicMock()
    store.roles.return_value = {"Mark": Role.MARKETING, "Rita": Role.REP, "Olivia": Role.OWNER}
    with pytest.raises(ValidationError, match="both teams"):
        set_goal(store, OWNER, Goal(Metric.MEETINGS, 10, date(2026, 1, 1), owners=("Mark",)))
    with pytest.raises(ValidationError, match="'Nobody' is not a person"):
        set_goal(store, OWNER, Goal(Metric.MEETINGS, 10, date(2026, 1, 1), owners=("Nobody",)))
    set_goal(store, OWNER, Goal(Metric.MEETINGS, 10, date(2026, 1, 1), owners=("Mark", "Rita")))
    store.save_goal.assert_called_once()


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"metric": "meetings", "target": 5, "start": "2026-01-01", "owners": [], "x": 1}, "x"),
        ({"metric": "meetings", "target": -5, "start": "2026-01-01", "owners": ["A"]}, "target"),
        ({"metric": "calls", "target": 5, "start": "2026-01-01", "owners": ["A"]}, "metric"),
        ({"metric": "meetings", "target": 5, "start": "soon", "owners": ["A"]}, "start"),
        ({"metric": "meetings", "target": 5, "start": "2026-01-01", "owners": []}, "owners"),
        ({"metric": "meetings", "target": 5, "start": "2026-01-01"}, "owners"),
        ({"metric": "meetings", "target": 5, "start": "2026-01-01", "owners": ["A"],
          "months": 0}, "months"),
    ],
)  # fmt: skip
def test_a_goal_document_that_is_wrong_names_its_key(document, key):
    with pytest.raises(ValidationError) as caught:
        Goal.from_document(document)
    assert key in caught.value.problems


def test_an_agreement_round_trips_and_refuses_impossible_numbers():
    agreement = Agreement()
    assert Agreement.from_document(agreement.to_document()) == agreement
    wrong = agreement.to_document()
    wrong["sales"]["attempts"] = 0
    with pytest.raises(ValidationError, match=r"sales\.attempts"):
        Agreement.from_document(wrong)
    wrong = agreement.to_document()
    wrong["marketing"]["tier_mix"] = 0.3
    with pytest.raises(ValidationError, match=r"marketing\.tier_mix"):
        Agreement.from_document(wrong)


def test_met_close_and_missed():
    assert standing(0.9, 0.9) is Standing.MET
    assert standing(0.85, 0.9) is Standing.CLOSE
    assert standing(0.5, 0.9) is Standing.MISSED
    assert standing(None, 0.9) is None


def test_the_first_touch_deadline_skips_weekends_and_holidays_in_the_workspace_zone():
    # Friday 4 December 2026, 23:30 in Vienna is still Friday there (22:30 UTC).
    friday_night = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    deadline = VIENNA.deadline(friday_night, 2)
    # Monday 7th is day 1, Tuesday 8th a holiday, Wednesday 9th day 2: ends at its midnight.
    assert deadline == datetime(2026, 12, 9, 23, 0, tzinfo=UTC)
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
    assert VIENNA.deadline(saturday, 0) == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert VIENNA.business_days_between(deadline, datetime(2026, 12, 14, 9, tzinfo=UTC)) == 3


def test_a_calendar_document_with_an_unknown_zone_or_key_is_refused():
    assert WorkCalendar.from_document(VIENNA.to_document()) == VIENNA
    with pytest.raises(ValidationError, match="time_zone"):
        WorkCalendar.from_document({"time_zone": "Mars/Olympus"})
    with pytest.raises(ValidationError, match="holiday"):
        WorkCalendar.from_document({"holiday": []})


def test_periods_are_read_as_typed_and_an_empty_one_is_refused():
    period = Period.parse("2026-11..2027-02")
    assert [str(m) for m in period.months] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert str(period.previous()) == "2026-07..2026-10"
    assert Period.parse("2026-05").label == "May 2026"
    with pytest.raises(ValidationError, match="ends"):
        Period.parse("2026-05..2026-01")
    with pytest.raises(ValidationError, match="YYYY-MM"):
        Period.parse("May")
    january = Month(2026, 1)
    assert january.start(VIENNA.zone) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)


def test_the_plan_is_a_draft_until_both_sides_sign_its_current_versions():
    now = datetime(2026, 11, 30, tzinfo=UTC)
    signed = PlanVersions(goal=1, icp="Core v2", lead_definition=3, agreement=1, template=1)
    state = PlanState(
        signed,
        (SignOff(Side.MARKETING, "Mark", now, signed), SignOff(Side.SALES, "Rita", now, signed)),
    )
    assert state.agreed
    changed = PlanState(PlanVersions(goal=2, icp="Core v2", lead_definition=3, agreement=1,
                                     template=1), state.sign_offs)  # fmt: skip
    assert not changed.agreed
    assert changed.changed(Side.SALES) == ["the goal"]


def test_a_rep_signs_for_sales_and_nobody_signs_both_sides():
    versions = PlanVersions(goal=1)
    store = MagicMock()
    store.plan_state.return_value = PlanState(versions, ())
    with pytest.raises(ValidationError, match="signs for sales"):
        sign_plan(store, RITA, Side.MARKETING, datetime.now(UTC))
    sign_plan(store, RITA, Side.SALES, datetime.now(UTC))
    store.plan_state.return_value = PlanState(
        versions, (SignOff(Side.SALES, OWNER.name, datetime.now(UTC), versions),)
    )
    with pytest.raises(ValidationError, match="someone else"):
        sign_plan(store, OWNER, Side.MARKETING, datetime.now(UTC))
