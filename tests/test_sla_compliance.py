"""The service agreement's compliance (storage/read_models/sla_compliance.py) against a
plain Python reading of domain/agreement.py's definitions, on random histories, on SQLite
and PostgreSQL; and the sections a report prints."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from domain.agreement import Agreement, MarketingSide, SalesSide, save_agreement
from domain.calendar import Holiday, WorkCalendar
from domain.periods import Period
from domain.report import Scope
from domain.tables import TableData
from domain.users import Role
from storage.agreements import SqlAgreementStore
from storage.keys import derived_columns
from storage.read_models.sla_compliance import (
    Compliance,
    black_hole,
    black_hole_table,
    breaches,
    compliance,
    handoff_rows,
    sla_figures,
    sla_sections,
)
from storage.schema import (
    AccountRow,
    InteractionRow,
    StageChangeRow,
    TargetRow,
    table_of,
)
from storage.sla_facts import refresh_sla_facts
from storage.workspace import Workspace

accounts = table_of(AccountRow)
targets = table_of(TargetRow)
interactions = table_of(InteractionRow)
stage_changes = table_of(StageChangeRow)

#: A Wednesday noon, UTC.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
VIENNA = WorkCalendar("Europe/Vienna", holidays=(Holiday(date(2026, 11, 2), "All Souls"),))
PERIOD = Period.parse("2026-10..2026-11")
AGREEMENT = Agreement(
    MarketingSide(handoffs_per_month=3, min_average_quality=3.0),
    SalesSide(first_touch_days=2, attempts=2, attempts_days=3, feedback_days=2, on_time_share=0.8),
)
SCOPE = Scope(PERIOD, VIENNA, NOW)

history = st.lists(
    st.fixed_dictionaries(
        {
            "mine": st.booleans(),
            # hours before NOW; Oct 1 in Vienna is 1330 hours before, Nov 30 after NOW
            "handed_off": st.one_of(st.none(), st.integers(1, 1500)),
            "closed": st.one_of(st.none(), st.integers(0, 200)),  # hours after the hand-off
            "interactions": st.lists(
                st.fixed_dictionaries({
                    "hours": st.integers(-100, 300),  # after the hand-off (or 1000 before NOW)
                    "meaningful": st.booleans(),
                    "quality": st.one_of(st.none(), st.integers(1, 5)),
                    "lead": st.sampled_from([None, "accepted", "rejected"]),
                    "follow_up": st.one_of(st.none(), st.integers(-40, 10)),  # days from its day
                    "corrects": st.one_of(st.none(), st.integers(0, 3)),
                }),
                max_size=5,
            ),
        }
    ),
    min_size=1,
    max_size=6,
)  # fmt: skip


def _store(workspace, people, batch) -> list[dict]:
    """Write the history; give back each account's hand-off and current interactions."""
    rep, owner = people[Role.REP], people[Role.OWNER]
    rows, listed, logged, closed, facts = [], [], [], [], []
    minute = 0
    for n, item in enumerate(batch):
        account_id = uuid.uuid4()
        values = {"name": f"Account {n}"}
        rows.append({"id": account_id, "changed_by": "t", **values, **derived_columns(values)})
        handed = None if item["handed_off"] is None else NOW - timedelta(hours=item["handed_off"])
        listed.append({"id": uuid.uuid4(), "account_id": account_id, "changed_by": "t",
                       "owner_id": rep.id if item["mine"] else owner.id,
                       "stage": "sales-ready", "handed_off_at": handed})  # fmt: skip
        base = handed or NOW - timedelta(hours=1000)
        if handed is not None and item["closed"] is not None:
            closed.append({"id": uuid.uuid4(), "account_id": account_id, "from_stage": "meeting",
                           "to_stage": "won", "changed_by": "t",
                           "at": handed + timedelta(hours=item["closed"])})  # fmt: skip
        entries = []
        for logged_item in item["interactions"]:
            minute += 1  # no two at the same moment
            at = base + timedelta(hours=logged_item["hours"], minutes=minute)
            if at > NOW:
                continue
            follow = logged_item["follow_up"]
            corrects = logged_item["corrects"]
            entries.append({
                "id": uuid.uuid4(), "account_id": account_id, "at": at, "channel": "call",
                "outcome": "conversation", "meaningful": logged_item["meaningful"],
                "quality": logged_item["quality"], "lead": logged_item["lead"],
                "follow_up": None if follow is None
                else VIENNA.local_day(at) + timedelta(days=follow),
                "logged_by": rep.name if item["mine"] else owner.name, "logged_at": NOW,
                "supersedes_id": entries[corrects]["id"]
                if corrects is not None and corrects < len(entries) else None,
            })  # fmt: skip
        logged += entries
        superseded = {e["supersedes_id"] for e in entries}
        current = [e for e in entries if e["id"] not in superseded]
        facts.append({"handed": handed, "interactions": current, "mine": item["mine"],
                      "closed": closed[-1]["at"] if closed and closed[-1]["account_id"] ==
                      account_id else None, "account": values["name"]})  # fmt: skip
    with workspace.write() as conn:
        for table in (stage_changes, interactions, targets, accounts):
            conn.execute(delete(table))
        conn.execute(insert(accounts), rows)
        conn.execute(insert(targets), listed)
        for table, more in ((interactions, logged), (stage_changes, closed)):
            if more:
                conn.execute(insert(table), more)
        refresh_sla_facts(conn, None)  # raw rows written by hand: their facts worked out
    return facts


def _day_end(day: date, days: int = 0) -> datetime:
    return VIENNA.day_start(day + timedelta(days=days + 1))


def _expected(facts: list[dict]) -> dict[str, int]:
    """The measures as domain/agreement.py words them, read in plain Python."""
    s, zone = AGREEMENT.sales, VIENNA.zone
    start, end = PERIOD.start(zone), PERIOD.end(zone)
    got = dict.fromkeys(["handoffs", "on_time", "touch_judged", "attempts_met",
                         "attempts_judged", "feedback", "feedback_judged", "black_hole",
                         "rated", "rating_sum", "verdicts", "accepted", "follow_ups_due",
                         "follow_ups_kept", "all_black_hole"], 0)  # fmt: skip
    today = VIENNA.local_day(NOW)
    for f in facts:
        for i in f["interactions"]:  # follow-ups: whoever's account, set in the period
            due = i["follow_up"]
            if due is None or not PERIOD.first.first_day <= due < PERIOD.last.plus(1).first_day:
                continue
            kept = any(i["at"] < k["at"] < _day_end(due) for k in f["interactions"])
            if due < today or kept:
                got["follow_ups_due"] += 1
                got["follow_ups_kept"] += kept
        handed = f["handed"]
        if handed is None:
            continue
        after = sorted((i for i in f["interactions"] if i["at"] > handed), key=lambda i: i["at"])
        deadline = VIENNA.deadline(handed, s.first_touch_days)
        untouched_late = not after and deadline <= NOW
        got["all_black_hole"] += untouched_late
        if not start <= handed < end:
            continue
        got["handoffs"] += 1
        got["black_hole"] += untouched_late
        got["on_time"] += bool(after) and after[0]["at"] < deadline
        got["touch_judged"] += bool(after) or deadline <= NOW
        window = _day_end(VIENNA.local_day(handed), s.attempts_days)
        met = len([i for i in after if i["at"] < window]) >= s.attempts or (
            f["closed"] is not None and handed < f["closed"] < window
        )
        got["attempts_met"] += met
        got["attempts_judged"] += met or window <= NOW
        meaningful = [i for i in after if i["meaningful"]]
        if meaningful:
            first = meaningful[0]["at"]
            until = _day_end(VIENNA.local_day(first), s.feedback_days)
            rated = any(i["quality"] is not None and first <= i["at"] < until for i in after)
            got["feedback"] += rated
            got["feedback_judged"] += rated or until <= NOW
        ratings = [i["quality"] for i in after if i["quality"] is not None]
        if ratings:
            got["rated"] += 1
            got["rating_sum"] += ratings[0]
        verdicts = [i["lead"] for i in after if i["lead"] is not None]
        if verdicts:
            got["verdicts"] += 1
            got["accepted"] += verdicts[0] == "accepted"
    return got


def _logged(hours: int, corrects: int | None = None) -> dict:
    return {"hours": hours, "meaningful": False, "quality": None, "lead": None,
            "follow_up": None, "corrects": corrects}  # fmt: skip


def _read_as_defined(workspace: Workspace, scope: Scope, expected: dict[str, int],
                     batch: object) -> Compliance:  # fmt: skip
    """Compliance, the black hole and the raw hand-offs read for ``scope``, each checked
    against what the definitions give (``expected``) for the random ``batch``."""
    with workspace.read() as conn:
        c = compliance(conn, scope)
        hole = black_hole(conn, scope)
        rows = list(handoff_rows(conn, scope).rows)
    got = {name: getattr(c.total, name) for name in expected if name != "all_black_hole"}
    got["all_black_hole"] = len(hole)
    assert got == expected, batch
    assert len(rows) == expected["handoffs"]
    return c


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=history)
# Handed off before the period; the one call after the hand-off was corrected into one
# before it: still untouched, so in the black hole.
@example(batch=[{"mine": True, "handed_off": 1364, "closed": None,
                 "interactions": [_logged(5), _logged(-100, corrects=0)]}])  # fmt: skip
# Two follow-ups for a date to come: one kept already (due, then), one not (not due yet).
@example(batch=[{"mine": True, "handed_off": 30, "closed": None,
                 "interactions": [_logged(5) | {"follow_up": 3},
                                  _logged(20) | {"follow_up": 2}]}])  # fmt: skip
def test_compliance_is_what_the_definitions_say_on_random_histories(workspace, people, batch):
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    facts = _store(workspace, people, batch)
    expected = _expected(facts)
    c = _read_as_defined(workspace, SCOPE, expected, batch)
    assert sum(t.handoffs for t in c.by_month.values()) == expected["handoffs"]
    assert sum(t.on_time for t in c.by_rep.values()) == expected["on_time"]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=history, hours=st.integers(0, 400))
# A follow-up for a date to come kept already on one account, and an interaction logged
# after now on another: only the other's follow-ups are compared with now, the first's
# counted once, from their tallies.
@example(batch=[{"mine": True, "handed_off": 30, "closed": None,
                 "interactions": [_logged(5) | {"follow_up": 3}, _logged(20)]},
                {"mine": True, "handed_off": 30, "closed": None,
                 "interactions": [_logged(29) | {"follow_up": 1}]}],
         hours=2)  # fmt: skip
def test_what_was_logged_after_now_changes_no_figure_as_of_now(workspace, people, batch, hours):
    """The compliance as of a moment is the same whether what was logged after it is there
    (each fact's time then compared with it) or not yet (the facts read as they are, in
    their index): read both ways on random histories, without corrections (one made later
    would take back what stood at that moment)."""
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    batch = [item | {"interactions": [i | {"corrects": None} for i in item["interactions"]]}
             for item in batch]  # fmt: skip
    _store(workspace, people, batch)
    scope = replace(SCOPE, now=NOW - timedelta(hours=hours))
    with workspace.read() as conn:
        with_later = compliance(conn, scope)
    with workspace.write() as conn:
        conn.execute(delete(interactions).where(interactions.c.at > scope.now))
        refresh_sla_facts(conn, None)
    with workspace.read() as conn:
        assert compliance(conn, scope) == with_later, batch


def test_the_summary_figures_stand_against_the_agreement_and_the_previous_period(workspace, people):
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    batch = [{"mine": True, "handed_off": 24 * d, "closed": None,
              "interactions": [{"hours": h, "meaningful": True, "quality": 4, "lead": "accepted",
                                "follow_up": None, "corrects": None} for h in (2, 30)]}
             for d in (3, 9, 20, 70)]  # fmt: skip
    _store(workspace, people, batch)
    with workspace.read() as conn:
        marketing, sales = sla_figures(conn, SCOPE)
        sections = sla_sections(conn, SCOPE)
    handoffs, quality, tier_a, _dossiers = marketing
    # three in October and November, one in September (the previous period's)
    assert (handoffs.value, handoffs.target, handoffs.standing) == (3, 6, "missed")
    assert handoffs.basis == "3 against 6 agreed (3 a month), 5 of them due by now"
    assert handoffs.trend == "up"
    assert (quality.value, quality.standing, quality.trend) == (4, "met", "same")
    assert tier_a.value == 0 and tier_a.basis == "0 of 3"
    on_time = sales[0]
    assert (on_time.value, on_time.basis, on_time.standing) == (1.0, "3 of 3", "met")
    assert [s.title for s in sections] == ["Marketing's side", "Sales' side"]
    assert sections[1].tables[-1].count == 0
    assert "No hand-off is in the black hole." in sections[1].notes


@pytest.mark.parametrize(
    ("period", "now", "judged"),
    [
        ("2026-11", NOW, ("met", "3 against 3 agreed (3 a month), 2 of them due by now")),
        ("2026-12", datetime(2026, 12, 1, 8, tzinfo=UTC),
         (None, "0 against 3 agreed (3 a month), none due yet")),
        ("2026-10", NOW, ("missed", "0 against 3 agreed (3 a month)")),
    ],
    ids=["month in progress", "month's first morning", "month over"],
)  # fmt: skip
def test_a_period_in_progress_is_judged_against_the_hand_offs_due_by_now(
    workspace, people, period, now, judged
):
    """The hand-offs of a period that is not over are judged against the agreed number for
    the part of it gone by, as a goal's actual against its pace: on a month's first morning
    none is due and nothing is judged (not "missed"); once it is over, against all of it."""
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    # three hand-offs in November, 3, 9 and 20 days before NOW
    batch = [{"mine": True, "handed_off": 24 * d, "closed": None, "interactions": []}
             for d in (3, 9, 20)]  # fmt: skip
    _store(workspace, people, batch)
    with workspace.read() as conn:
        (handoffs, *_), _sales = sla_figures(conn, Scope(Period.parse(period), VIENNA, now))
    assert (handoffs.standing, handoffs.basis) == judged


def test_the_dashboard_and_the_meeting_pack_work_out_each_periods_compliance_once(
    workspace, people, monkeypatch
):
    """Their figures come with the SLA's sections, and the previous period's compliance (what
    the figures' trends compare with) with the period's, so that on a big workspace the
    dashboard and the meeting pack read the hand-offs of both periods in one pass (the
    dashboard's in parts side by side, one a connection it reads on)."""
    from domain.report import ReportKind
    from storage.read_models import sla_compliance
    from storage.read_models.dashboard import agreement_panels
    from storage.read_models.reports import make_report

    periods: list[Period] = []
    day_tallies = sla_compliance._day_tallies

    def counted_tallies(scope, span, *more):  # type: ignore[no-untyped-def]
        periods.append(scope.period)
        return day_tallies(scope, span, *more)

    monkeypatch.setattr(sla_compliance, "_day_tallies", counted_tallies)
    panels = agreement_panels(False)(workspace, NOW, people[Role.OWNER])
    (both,) = set(periods)
    assert panels["sales"].figures[0].label == "First touch on time"
    shown = panels["sales"].scope.period
    assert both == Period(shown.previous().first, shown.last)
    periods.clear()
    with workspace.read() as conn:
        report = make_report(conn, ReportKind.MEETING, SCOPE, "Acme")
        assert periods == [Period(PERIOD.previous().first, PERIOD.last)]
    assert report.sections[1].figures[0].label == "Hand-offs"


def test_a_period_without_hand_offs_says_so_instead_of_zero_percent(workspace, people):
    with workspace.read() as conn:
        marketing, sales = sla_figures(conn, SCOPE)
        sections = sla_sections(conn, SCOPE)
    assert all(f.value is None for f in sales) and marketing[2].value is None
    assert marketing[0].value == 0
    assert "No hand-offs in October 2026 – November 2026." in sections[0].notes


def test_a_past_periods_black_hole_is_as_it_stood_at_the_periods_end(workspace, people):
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    batch = [
        {"mine": True, "handed_off": 1000, "closed": None, "interactions": []},
        # touched three weeks later, in November
        {"mine": True, "handed_off": 800, "closed": None, "interactions": [_logged(500)]},
        # handed off on 17 November, after October
        {"mine": True, "handed_off": 200, "closed": None, "interactions": []},
    ]  # fmt: skip
    _store(workspace, people, batch)
    october = Scope(Period.parse("2026-10"), VIENNA, NOW)
    with workspace.read() as conn:
        then = sla_sections(conn, october)[1].tables[-1]
        now = sla_sections(conn, SCOPE)[1].tables[-1]
    assert [row[0] for row in then.rows] == ["Account 0", "Account 1"]
    # business days overdue by Saturday 31 October: from Monday 19 and Wednesday 28
    assert [row[3] for row in then.rows] == [10, 3]
    assert [row[0] for row in now.rows] == ["Account 0", "Account 2"]


def test_breaches_list_each_account_and_month_with_what_to_do(workspace, people):
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    call = {"meaningful": False, "quality": None, "lead": None, "corrects": None}
    batch = [
        {"mine": True, "handed_off": 24 * 40, "closed": None, "interactions": []},
        {"mine": True, "handed_off": 24 * 30, "closed": None,
         "interactions": [{**call, "hours": 5, "meaningful": True, "follow_up": 3}]},
    ]  # fmt: skip
    _store(workspace, people, batch)
    with workspace.read() as conn:
        found = breaches(conn, SCOPE)
    said = [(b.kind.value, b.what, b.rep) for b in found]
    assert said == [
        ("In the black hole", "Account 0", "Rita Rep"),
        ("Too few attempts", "Account 0", "Rita Rep"),
        ("Too few attempts", "Account 1", "Rita Rep"),
        ("Follow-up not kept", "Account 1", "Rita Rep"),
        ("No rating given", "Account 1", "Rita Rep"),
        ("Too few hand-offs", "October 2026", "Marketing"),
    ]
    hole = found[0]
    # from Wednesday 21 October, All Souls (2 November) off
    assert hole.detail == "Handed off 2026-10-16, not touched; 25 business days overdue"
    assert hole.to_do == "Contact the account today and log it."
    assert found[2].detail == "1 attempt within 3 days of the hand-off on 2026-10-26; 2 agreed"
    assert found[-1].detail == "2 hand-offs against 3 agreed" and found[-1].account_id is None


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=history,
    first=st.integers(1, 4),
    scope=st.sampled_from([SCOPE, Scope(Period.parse("2026-10"), VIENNA, NOW)]),
)
def test_a_black_holes_first_rows_are_the_head_of_the_whole_list_with_its_count(
    workspace, people, batch, first, scope
):
    """What a panel reads of the black hole: its first rows, found without reading the
    rest, are the whole list's first rows, and the count is the whole list's."""
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    _store(workspace, people, batch)
    with workspace.read() as conn:
        whole = black_hole(conn, scope)
        page = black_hole(conn, scope, first)
        table = black_hole_table(conn, scope, first)
    assert page == whole[:first], batch
    assert table.count == len(whole)
    assert table.rows == [
        [e.account, e.rep or "", e.handed_off_at.replace(tzinfo=None), e.business_days_overdue]
        for e in page
    ]


def test_the_black_hole_table_reads_no_account_id(workspace, people):
    """A report lists the whole black hole (tens of thousands of hand-offs at a million
    accounts): its table reads the cells it shows, not each hand-off's account id, whose
    making into a UUID took a third of a second there."""
    from sqlalchemy import event

    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    _store(workspace, people, [{"mine": True, "handed_off": 900, "closed": None,
                                "interactions": []}])  # fmt: skip
    read: list[str] = []

    def heard(*args: object) -> None:
        read.append(str(args[2]))

    with workspace.read() as conn:
        event.listen(conn, "before_cursor_execute", heard)
        table = black_hole_table(conn, SCOPE)
        event.remove(conn, "before_cursor_execute", heard)
    listed = [sql.split("FROM (SELECT")[0] for sql in read if "accounts.name" in sql]
    assert len(table.rows) == 1 and len(listed) == 1
    assert "account_id" not in listed[0], listed[0]


def test_the_dashboard_reads_the_black_holes_count_and_its_first_rows(
    workspace, people, monkeypatch
):
    from storage.read_models import dashboard

    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    untouched = [{"mine": True, "handed_off": hours, "closed": None, "interactions": []}
                 for hours in (1000, 800, 600)]  # fmt: skip
    _store(workspace, people, untouched)
    monkeypatch.setattr(dashboard, "PANEL_ROWS", 2)
    with workspace.read() as conn:
        panels = dashboard.agreement_panels(False)(workspace, NOW, people[Role.OWNER])
        report = sla_sections(conn, SCOPE)
    shown, listed = panels["sales"].sections[1].tables[-1], report[1].tables[-1]
    assert shown.count == 3 and [row[0] for row in shown.rows] == ["Account 0", "Account 1"]
    assert listed.count == 3 and len(list(listed.rows)) == 3  # the report lists them all


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=history)
def test_a_reps_compliance_counts_their_hand_offs_and_follow_ups_alone(workspace, people, batch):
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    facts = _store(workspace, people, batch)
    expected = _expected([f for f in facts if f["mine"]])  # the rep's accounts, logged by them
    scope = Scope(PERIOD, VIENNA, NOW, people[Role.REP].name)
    _read_as_defined(workspace, scope, expected, batch)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=history, together=st.integers(1, 4), helpers=st.integers(1, 3))
def test_the_hand_offs_counted_in_parts_side_by_side_give_what_one_count_gives(
    workspace, people, monkeypatch, batch, together, helpers
):
    """The dashboard counts the period's hand-offs in parts, each on a connection of its own
    beside the others: the compliance is what one count on one connection gives, however the
    hand-offs fall into the parts (a part with none, several handed off at one moment)."""
    from storage.read_models import sla_compliance

    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    moment = {"mine": True, "handed_off": 700, "closed": None, "interactions": []}
    _store(workspace, people, [*batch, *([moment] * together)])
    with workspace.read() as conn:
        alone = compliance(conn, SCOPE)
    counted: list[object] = []
    day_tallies = sla_compliance._day_tallies

    def counted_tallies(*args):  # type: ignore[no-untyped-def]
        counted.append(args)
        return day_tallies(*args)

    monkeypatch.setattr(sla_compliance, "_day_tallies", counted_tallies)
    with workspace.read_together(1 + helpers) as (conn, *more):
        assert compliance(conn, SCOPE, more) == alone, batch
    assert len(counted) == 1 + helpers


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=history, together=st.integers(0, 4))
def test_the_raw_hand_offs_are_every_one_of_the_period_oldest_first_read_a_slice_at_a_time(
    workspace, people, monkeypatch, batch, together
):
    """The hand-offs' sheet lists each of the period's hand-offs once, oldest first and
    those of one moment by name, though it reads them a few at a time: slices of two here,
    with up to four accounts handed off at one moment (a selection's hand-off)."""
    from storage.read_models import sla_compliance

    monkeypatch.setattr(sla_compliance, "SLICE", 2)
    moment = {"mine": True, "handed_off": 700, "closed": None, "interactions": []}
    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    facts = _store(workspace, people, [*batch, *([moment] * together)])
    start, end = PERIOD.start(VIENNA.zone), PERIOD.end(VIENNA.zone)
    listed = sorted((f["handed"], f["account"]) for f in facts
                    if f["handed"] is not None and start <= f["handed"] < end)  # fmt: skip
    with workspace.read() as conn:
        table = handoff_rows(conn, SCOPE)
        rows = [(row[3], row[0]) for row in table.rows]
    assert rows == [(handed.replace(tzinfo=None), name) for handed, name in listed], batch
    assert table.count == len(listed)


def test_the_agreements_reads_are_compiled_once_whatever_the_days(workspace, people):
    """The days of the calendar a measure joins are one parameter, not a statement of their
    own: a second read of the two sides, the black hole and the hand-offs, a read for
    another period too, compiles nothing again (a list of their values was compiled afresh
    at every read, and took longer than most of the reads themselves)."""
    from sqlalchemy import event

    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    _store(workspace, people, [{"mine": True, "handed_off": 200, "closed": None,
                                "interactions": [_logged(5)]}])  # fmt: skip
    compiled: list[object] = []

    def read(conn, scope):
        sla_sections(conn, scope)
        list(handoff_rows(conn, scope).rows)
        breaches(conn, scope)

    with workspace.read() as conn:
        read(conn, SCOPE)
        event.listen(conn, "before_cursor_execute", lambda *a: compiled.append(a[-2].cache_hit))
        read(conn, SCOPE)
        read(conn, Scope(Period.parse("2026-09..2026-11"), VIENNA, NOW))
    misses = [hit for hit in compiled if hit != hit.CACHE_HIT]
    assert compiled and not misses


@pytest.mark.parametrize("logged_later", [False, True])
def test_sqlite_reads_the_periods_hand_offs_in_one_pass_and_the_black_hole_by_first_touch(
    sqlite_workspace, sqlite_people, logged_later
):
    """How SQLite finds the rows (it has no statistics to choose by): the period's
    hand-offs in the index that holds all the count reads of them, in one pass (at a million
    accounts it is sorted in half the time of the facts' own rows), and when something was
    logged after now, the hand-offs of its accounts (whose facts' times are then compared
    with it) by their account, not every hand-off's facts in a pass over them (about 3 s at
    a million accounts); never each looked up in random order through their times'
    index (a few hundred thousand lookups at a million accounts took seconds); the black
    hole's through the index of first touches, which holds the untouched few, not every
    hand-off made before its last day."""
    from sqlalchemy import event

    workspace = sqlite_workspace
    save_agreement(SqlAgreementStore(workspace), sqlite_people[Role.OWNER], AGREEMENT)
    _store(workspace, sqlite_people, [{"mine": True, "handed_off": 900, "closed": None,
                                       "interactions": [_logged(5)]}])  # fmt: skip
    # as of an hour after the hand-off, its first touch four hours later is logged after now
    scope = replace(SCOPE, now=NOW - timedelta(hours=899)) if logged_later else SCOPE
    read: list[tuple[str, object]] = []

    def heard(*args: object) -> None:
        read.append((str(args[2]), args[3]))

    with workspace.read() as conn:
        event.listen(conn, "before_cursor_execute", heard)
        compliance(conn, scope)
        black_hole(conn, scope)
        event.remove(conn, "before_cursor_execute", heard)
        raw = conn.connection.dbapi_connection
        plans = [
            " / ".join(step[3] for step in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in read
            if "handoff_facts.tier" in sql
        ]
    *counts, hole = plans
    assert "SEARCH handoff_facts USING COVERING INDEX ix_handoff_facts_days" in counts[0]
    # what was logged after now: its accounts' hand-offs found by their account (counted
    # in the index as the rest, then with each fact compared with now), none in a pass
    by_account = "SEARCH handoff_facts USING INDEX sqlite_autoindex_handoff_facts_1 (account_id=?)"
    assert [by_account in plan for plan in counts[1:]] == ([True, True] if logged_later else [])
    assert "USING INDEX ix_handoff_facts_attempt_1" in hole, hole
    assert "SCAN handoff_facts" not in " ".join(plans)
    assert "ix_handoff_facts_handed_off_at" not in " ".join(plans)


def test_sqlite_counts_the_periods_hand_offs_per_day_without_a_lookup_for_each(
    sqlite_workspace, sqlite_people
):
    """The period's hand-offs are counted per day of hand-off, rep, tier and day of first
    touch in one pass over their facts' index, each fact's day worked out from the seconds the facts
    keep: no day is looked up in the days' table for each hand-off (at a million accounts,
    two lookups for each of 400,000 hand-offs and their sort by month, week, rep, tier and
    bucket took most of the owner's agreement panel's 3.3 s)."""
    from sqlalchemy import event

    workspace = sqlite_workspace
    save_agreement(SqlAgreementStore(workspace), sqlite_people[Role.OWNER], AGREEMENT)
    _store(workspace, sqlite_people, [{"mine": True, "handed_off": 900, "closed": None,
                                       "interactions": [_logged(5)]}])  # fmt: skip
    read: list[tuple[str, object]] = []
    with workspace.read() as conn:
        event.listen(conn, "before_cursor_execute", lambda *a: read.append((a[2], a[3])))
        compliance(conn, SCOPE)
        raw = conn.connection.dbapi_connection
        (plan,) = [
            [step[3] for step in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
            for sql, params in read
            if "handoff_facts.tier" in sql
        ]
    scanned = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
    assert scanned[0].startswith("SEARCH handoff_facts USING COVERING INDEX"), plan
    assert all("days" not in step and "handoff_facts" not in step for step in scanned[1:]), plan


#: Zones whose days end on the quarter or half hour, cross the date line or move with
#: summer time around the period.
ZONES = ("Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham", "Pacific/Kiritimati",
         "Pacific/Pago_Pago", "Europe/Vienna", "UTC")  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from(ZONES),
    logged=st.lists(
        st.tuples(
            st.integers(0, 60 * 24 * 70),  # minutes after Sep 25, in UTC
            st.one_of(st.none(), st.integers(-2, 3)),  # the follow-up: days from its day
            st.one_of(st.none(), st.integers(-40, 40)),  # minutes from its date's end: a call
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_the_follow_ups_kept_are_what_the_definition_says_in_any_zone(
    workspace, people, zone, logged
):
    """The dates gone by are added up from the follow-ups' tallies (how late the next
    interaction came, in quarters of an hour from the date's end in UTC): in every zone they
    are the follow-ups a plain reading of the definition finds due and kept, a call just
    before or just after a date's end too, and nothing logged after the report's time."""
    calendar = WorkCalendar(zone)
    rep, start = people[Role.REP], datetime(2026, 9, 25, tzinfo=UTC)
    account_id = uuid.uuid4()
    values = {"name": "Acme"}
    times: list[tuple[datetime, date | None]] = []
    for minutes, days, near in logged:
        at = start + timedelta(minutes=minutes)
        follow_up = None if days is None else calendar.local_day(at) + timedelta(days=days)
        times.append((at, follow_up))
        if follow_up is not None and near is not None:
            call = calendar.day_start(follow_up + timedelta(days=1)) + timedelta(minutes=near)
            if at < call <= NOW:
                times.append((call, None))
    entries = [
        {"id": uuid.uuid4(), "account_id": account_id, "at": at, "channel": "call",
         "outcome": "conversation", "meaningful": False, "logged_by": rep.name,
         "logged_at": NOW, "follow_up": follow_up}
        for at, follow_up in times
    ]  # fmt: skip
    with workspace.write() as conn:
        for table in (stage_changes, interactions, targets, accounts):
            conn.execute(delete(table))
        conn.execute(insert(accounts), [{"id": account_id, "changed_by": "t", **values,
                                         **derived_columns(values)}])  # fmt: skip
        conn.execute(insert(interactions), entries)
        refresh_sla_facts(conn, None)
    first, until = PERIOD.first.first_day, PERIOD.last.plus(1).first_day
    due = kept = 0
    known = [e for e in entries if e["at"] <= NOW]  # as of NOW, nothing later was logged
    for e in known:
        if e["follow_up"] is None or not first <= e["follow_up"] < until:
            continue
        end = calendar.day_start(e["follow_up"] + timedelta(days=1))
        met = any(e["at"] < k["at"] < end for k in known)
        if e["follow_up"] < calendar.local_day(NOW) or met:
            due, kept = due + 1, kept + met
    with workspace.read() as conn:
        total = compliance(conn, Scope(PERIOD, calendar, NOW)).total
    assert (total.follow_ups_due, total.follow_ups_kept) == (due, kept)


def test_the_follow_ups_are_read_from_their_tallies_when_nothing_was_logged_after_now(
    workspace, people
):
    """Not from each follow-up (millions at a million accounts, a hundred thousand due
    today): the dates gone by, today's and later ones alike."""
    from tests.conftest import statements_of

    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    _store(workspace, people, [{"mine": True, "handed_off": 200, "closed": None,
                                "interactions": [_logged(5) | {"follow_up": 1}]}])  # fmt: skip
    sent = statements_of([workspace], lambda: _compliance_of(workspace))
    read = [s for s in sent if "follow_up_facts" in s or "follow_up_days" in s]
    assert len(read) == 1
    assert "follow_up_days" in read[0] and "follow_up_facts" not in read[0]


def _compliance_of(workspace: Workspace) -> Compliance:
    with workspace.read() as conn:
        return compliance(conn, SCOPE)


def test_a_panels_black_hole_works_out_its_days_once_for_its_rows_and_its_count(workspace, people):
    """The days since the oldest untouched hand-off are looked for once, not again for the
    count beside the first rows."""
    from tests.conftest import statements_of

    save_agreement(SqlAgreementStore(workspace), people[Role.OWNER], AGREEMENT)
    _store(workspace, people, [{"mine": True, "handed_off": 900, "closed": None,
                                "interactions": []}])  # fmt: skip
    table: list[TableData] = []

    def read() -> None:
        with workspace.read() as conn:
            table.append(black_hole_table(conn, SCOPE, 1))

    sent = statements_of([workspace], read)
    assert len([s for s in sent if "min(handoff_facts.handed_off_at)" in s]) == 1
    assert table[0].count == 1
