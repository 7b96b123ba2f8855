"""The call queue: the ranking rule in domain/, the same order from SQL on random field
history (SQLite and PostgreSQL), the reasons each line shows, and who sees whose queue."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert, select

from domain.accounts import create_account
from domain.calendar import Holiday, WorkCalendar
from domain.errors import PermissionDenied, ValidationError
from domain.interactions import Channel, Interaction, Outcome, log_interaction
from domain.queue import (
    RULES,
    CallSheet,
    QueueEntry,
    QueueRules,
    Urgency,
    call_queue,
    first_touch_deadline,
    ranked,
    reasons,
)
from domain.targets import Stage, add_to_target_list, assign_owners, hand_off
from domain.users import Role
from domain.values import counted
from storage.keys import derived_columns
from storage.queue import SqlQueue, queue_head
from storage.queue_facts import refresh_queue_facts
from storage.repositories import SqlUnitOfWork
from storage.schema import (
    AccountRow,
    AccountScoreRow,
    DossierRow,
    EngagementRow,
    InteractionRow,
    TargetRow,
    table_of,
)
from storage.workspace import open_workspace

accounts = table_of(AccountRow)
targets = table_of(TargetRow)
scores = table_of(AccountScoreRow)
interactions = table_of(InteractionRow)
engagements = table_of(EngagementRow)
dossier_rows = table_of(DossierRow)

#: A Wednesday noon, UTC.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def _entry(**values) -> QueueEntry:
    if values.get("handed_off_at"):
        values["first_touch_by"] = first_touch_deadline(values["handed_off_at"])
    return QueueEntry(uuid.uuid4(), values.pop("account", "Acme"), values.pop("priority", 2),
                      Stage.CONTACTED, **values)  # fmt: skip


# --- the rule --------------------------------------------------------------------------------


def test_the_queue_puts_what_is_late_first():
    overdue = _entry(account="Overdue", follow_up=TODAY - timedelta(days=2),
                     last_touch=NOW - timedelta(days=3))  # fmt: skip
    untouched = _entry(account="Handed off", handed_off_at=NOW - timedelta(hours=5))
    due = _entry(account="Due", follow_up=TODAY, last_touch=NOW - timedelta(days=1))
    engaged = _entry(account="Engaged", engagements=2, last_touch=NOW - timedelta(days=9))
    best = _entry(account="Best open", priority=1, score=90, tier="A")
    other = _entry(account="Open", priority=1, score=40, tier="C")
    later = _entry(account="Later", priority=1, score=99, follow_up=TODAY + timedelta(days=3))
    shuffled = [later, other, engaged, best, due, untouched, overdue]
    order = [e.account for e in ranked(shuffled, TODAY)]
    assert order == ["Overdue", "Handed off", "Due", "Engaged", "Best open", "Open", "Later"]


def test_the_nearest_first_touch_deadline_comes_first_and_overdue_goes_by_priority():
    soon = _entry(account="Deadline soon", priority=3, handed_off_at=NOW - timedelta(days=2))
    later = _entry(account="Deadline later", priority=1, handed_off_at=NOW - timedelta(hours=1))
    assert [e.account for e in ranked([later, soon], TODAY)] == ["Deadline soon", "Deadline later"]
    stale = _entry(account="Stale", priority=2, follow_up=TODAY - timedelta(days=90))
    first = _entry(account="First priority", priority=1, follow_up=TODAY - timedelta(days=1))
    assert [e.account for e in ranked([stale, first], TODAY)] == ["First priority", "Stale"]


def test_within_a_reason_priority_then_fit_then_the_longest_untouched_come_first():
    a = _entry(account="P2", priority=2, score=99)
    b = _entry(account="P1 unscored", priority=1)
    c = _entry(account="P1 touched long ago", priority=1, score=50,
               last_touch=NOW - timedelta(days=30))  # fmt: skip
    d = _entry(account="P1 never touched", priority=1, score=50)
    e = _entry(account="P1 best", priority=1, score=80)
    order = [x.account for x in ranked([a, b, c, d, e], TODAY)]
    assert order == ["P1 best", "P1 never touched", "P1 touched long ago", "P1 unscored", "P2"]


def test_a_touch_after_the_hand_off_ends_the_first_touch_reason():
    handed = NOW - timedelta(days=1)
    assert _entry(handed_off_at=handed).urgency(TODAY) is Urgency.FIRST_TOUCH
    before = _entry(handed_off_at=handed, last_touch=handed - timedelta(days=3))
    assert before.urgency(TODAY) is Urgency.FIRST_TOUCH
    after = _entry(handed_off_at=handed, last_touch=handed + timedelta(hours=1))
    assert after.urgency(TODAY) is Urgency.OPEN


def test_the_first_touch_deadline_is_the_agreements_business_days_on_the_workspace_calendar():
    vienna = WorkCalendar("Europe/Vienna", holidays=(Holiday(date(2026, 12, 8), "Feast"),))
    rules = QueueRules(first_touch_business_days=2, calendar=vienna)

    def local(*moment: int) -> datetime:
        return datetime(*moment, tzinfo=vienna.zone)

    friday = local(2026, 12, 4, 10, 0)  # Monday 7th, Wednesday 9th (the 8th is a holiday)
    assert first_touch_deadline(friday, rules) == local(2026, 12, 10, 0, 0)
    friday_night = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # Saturday in Vienna: Monday on
    assert first_touch_deadline(friday_night, rules) == local(2026, 12, 11, 0, 0)
    one_day = QueueRules(first_touch_business_days=1, calendar=vienna)
    assert first_touch_deadline(local(2026, 11, 25, 12, 0), one_day) == local(2026, 11, 27, 0, 0)


def test_each_line_says_why():
    overdue = _entry(follow_up=TODAY - timedelta(days=3), score=87, tier="A", priority=1,
                     last_touch=NOW - timedelta(days=12), engagements=2,
                     last_engaged=NOW - timedelta(days=4))  # fmt: skip
    assert reasons(overdue, NOW, TODAY) == (
        "Follow-up overdue by 3 days (due 2026-11-22) · 2 engagements in 30 days (last "
        "2026-11-21) · Tier A, score 87 · priority 1 · last touch 12 days ago"
    )
    handed = _entry(handed_off_at=NOW - timedelta(hours=20))  # Tuesday: by Thursday's end
    assert reasons(handed, NOW, TODAY) == (
        "Handed off: first touch within 1 day 12 hours · Not in any tier · priority 2 · never "
        "touched"
    )
    late = _entry(handed_off_at=NOW - timedelta(days=6))  # Thursday: by Monday's end
    assert reasons(late, NOW, TODAY).startswith("Handed off: first touch 1 day 12 hours late")
    assert reasons(_entry(follow_up=TODAY), NOW, TODAY).startswith("Follow-up due today")
    engaged = _entry(engagements=1, last_touch=NOW - timedelta(hours=1))
    assert reasons(engaged, NOW, TODAY).startswith("Recent engagement · 1 engagement in 30 days")
    late_long = _entry(handed_off_at=NOW - timedelta(days=30, hours=5))
    assert reasons(late_long, NOW, TODAY).startswith("Handed off: first touch 27 days late ·")
    assert reasons(engaged, NOW, TODAY).endswith("last touch today")
    assert reasons(_entry(), NOW, TODAY).startswith("Not contacted yet")


# --- SQL gives the same order ----------------------------------------------------------------

HOURS = [0, 1, 20, 24, 48, 24 * 10, 24 * 40]
history = st.fixed_dictionaries(
    {
        "mine": st.booleans(),
        "deleted": st.booleans(),
        "listed": st.booleans(),
        "stage": st.sampled_from(list(Stage)),
        "priority": st.sampled_from([1, 2]),
        "fit": st.one_of(st.just("no row"), st.none(),
                         st.tuples(st.sampled_from([50, 90]), st.sampled_from("AB"))),
        "handed_off": st.one_of(st.none(), st.sampled_from([1, 24, 30, 24 * 5])),
        # each interaction: hours ago, follow-up in days from today, the earlier one it corrects
        "interactions": st.lists(
            st.tuples(st.sampled_from(HOURS), st.one_of(st.none(), st.sampled_from([-3, -1, 0, 2])),
                      st.one_of(st.none(), st.integers(0, 3))),
            max_size=4,
        ),
        # days ago; 30 is exactly the edge of "lately"
        "engagements": st.lists(st.sampled_from([1, 10, 30, 31, 60]), max_size=3),
    }
)  # fmt: skip


_PLAIN = {"mine": True, "deleted": False, "listed": True, "stage": Stage.CONTACTED, "priority": 1,
          "fit": "no row", "handed_off": None, "interactions": [], "engagements": []}  # fmt: skip


def _store_history(workspace, people, batch) -> list[QueueEntry]:
    """Write the accounts and their history; the rep's queue entries as Python finds them."""
    rep, other = people[Role.REP], people[Role.OWNER]
    rows, listed, fits, logged, engaged, expected = [], [], [], [], [], []
    for n, facts in enumerate(batch):
        account_id = uuid.uuid4()
        values = {"name": f"Account {n}", "phone": "+1 555 0100"}
        rows.append({"id": account_id, "changed_by": "t", **values, **derived_columns(values),
                     "deleted_at": NOW if facts["deleted"] else None})  # fmt: skip
        handed = None if facts["handed_off"] is None else NOW - timedelta(hours=facts["handed_off"])
        listed.append({"id": uuid.uuid4(), "account_id": account_id, "changed_by": "t",
                       "owner_id": rep.id if facts["mine"] else other.id,
                       "stage": facts["stage"].value, "priority": facts["priority"],
                       "handed_off_at": handed,
                       "deleted_at": None if facts["listed"] else NOW})  # fmt: skip
        score = tier = None
        if facts["fit"] != "no row":
            score, tier = facts["fit"] or (None, None)
            fits.append({"account_id": account_id, "score": score, "tier": tier})
        entries = []
        for hours, follow, corrects in facts["interactions"]:
            at = NOW - timedelta(hours=hours)
            entry = {"id": uuid.uuid4(), "account_id": account_id, "at": at, "channel": "call",
                     "outcome": "conversation", "meaningful": True,
                     "next_step": f"step {len(entries)}", "logged_by": "t", "logged_at": NOW,
                     "follow_up": None if follow is None else TODAY + timedelta(days=follow),
                     "supersedes_id": entries[corrects]["id"] if corrects is not None
                     and corrects < len(entries) else None}  # fmt: skip
            entries.append(entry)
        logged += entries
        recent = [NOW - timedelta(days=d) for d in facts["engagements"]]
        engaged += [{"id": uuid.uuid4(), "account_id": account_id, "kind": "webinar", "at": at,
                     "created_by": "t"} for at in recent]  # fmt: skip
        lately = [at for at in recent if at >= NOW - timedelta(days=RULES.engagement_days)]
        corrected = {e["supersedes_id"] for e in entries}
        current = max((e for e in entries if e["id"] not in corrected),
                      key=lambda e: (e["at"], e["id"]), default=None)  # fmt: skip
        if (
            facts["mine"]
            and facts["listed"]
            and not facts["deleted"]
            and facts["stage"] not in (Stage.WON, Stage.LOST)
        ):
            expected.append(QueueEntry(
                account_id, values["name"], facts["priority"], facts["stage"], score, tier,
                handed, max((e["at"] for e in entries), default=None),
                current["follow_up"] if current else None,
                current["next_step"] if current else "", len(lately), max(lately, default=None),
                values["phone"], handed and first_touch_deadline(handed, RULES),
            ))  # fmt: skip
    with workspace.write() as conn:
        for table in (engagements, interactions, scores, targets, accounts):
            conn.execute(delete(table))
        conn.execute(insert(accounts), rows)
        for table, more in ((targets, listed), (scores, fits), (interactions, logged),
                            (engagements, engaged)):  # fmt: skip
            if more:
                conn.execute(insert(table), more)
    return expected


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(history, min_size=1, max_size=8))
@example(batch=[_PLAIN, {**_PLAIN, "interactions": [(24, None, None)]}])  # never touched first
def test_sql_and_python_rank_alike(workspace, people, batch):
    expected = _store_history(workspace, people, batch)
    in_sql = SqlQueue(workspace).queue(people[Role.REP], NOW, TODAY, None, RULES)
    assert in_sql == ranked(expected, TODAY), batch


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(history, min_size=1, max_size=8), head=st.integers(1, 9))
@example(batch=[_PLAIN, {**_PLAIN, "interactions": [(24, None, None)]}], head=1)
def test_the_head_of_a_queue_read_in_its_facts_is_the_queues_first_entries(
    workspace, people, batch, head
):
    """The dashboard's dossiers to write read the head of each queue reason by reason in the
    queue's facts: the same first entries, in the same order, as the whole queue."""
    expected = _store_history(workspace, people, batch)
    with workspace.write() as conn:
        refresh_queue_facts(conn, None)  # raw rows written by hand: their facts worked out
    with workspace.read() as conn:
        first = queue_head(conn, people[Role.REP].id, NOW, TODAY, head, RULES)
    assert first == ranked(expected, TODAY)[:head], batch


def test_the_head_of_a_queue_reads_its_facts_index_in_queue_order(sqlite_workspace, sqlite_people):
    """A reason's accounts come from the queue's facts in queue order without sorting them:
    the head stops at its tenth account instead of working out the facts of every account
    the rep owns (at 270,000 accounts in two queues that took five seconds)."""
    plans = []

    def explained(conn, cursor, statement, parameters, context, executemany):
        if "queue_facts" in statement:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plans.append(" / ".join(row[3] for row in cursor.fetchall()))
        return statement, parameters

    _listed(sqlite_workspace, sqlite_people, "Acme")
    with sqlite_workspace.read() as conn:
        event.listen(conn, "before_cursor_execute", explained, retval=True)
        queue_head(conn, sqlite_people[Role.REP].id, NOW, TODAY, 10, RULES)
    assert len(plans) == 6  # a reason at a time, until ten are found
    for plan in plans:
        assert "USING COVERING INDEX ix_queue_facts_" in plan, plan
        assert "TEMP B-TREE" not in plan, plan


# --- the use case on a workspace -------------------------------------------------------------


def _listed(workspace, people, name: str):
    uow, owner = SqlUnitOfWork(workspace), people[Role.OWNER]
    account = create_account(uow, owner, {"name": name})
    add_to_target_list(SqlUnitOfWork(workspace), owner, [account.id], "asked for it")
    assign_owners(SqlUnitOfWork(workspace), owner, {account.id: people[Role.REP].id})
    return account


def test_a_log_moves_the_account_in_the_queue(workspace, people):
    rep = people[Role.REP]
    first = _listed(workspace, people, "First call")
    second = _listed(workspace, people, "Second call")
    hand_off(SqlUnitOfWork(workspace), people[Role.OWNER], [first.id, second.id])
    now = datetime.now(UTC) + timedelta(minutes=1)

    def queue():
        return [e.account for e in call_queue(SqlQueue(workspace), rep, now=now, today=now.date())]

    assert set(queue()) == {"First call", "Second call"}
    log_interaction(SqlUnitOfWork(workspace), rep, Interaction(
        first.id, Channel.CALL, Outcome.CONVERSATION, now - timedelta(seconds=30),
        follow_up=now.date() + timedelta(days=7), next_step="Send the offer"), now=now)  # fmt: skip
    entries = call_queue(SqlQueue(workspace), rep, now=now, today=now.date())
    assert [e.account for e in entries] == ["Second call", "First call"]
    assert entries[1].next_step == "Send the offer"
    assert reasons(entries[1], now, now.date()).startswith("Follow-up planned for")
    assert len(call_queue(SqlQueue(workspace), rep, now=now, today=now.date(), limit=1)) == 1


def test_a_rep_sees_only_their_own_queue(workspace, people):
    rep, now = people[Role.REP], datetime.now(UTC)
    with pytest.raises(PermissionDenied, match="see any rep's call queue"):
        call_queue(SqlQueue(workspace), rep, "Someone Else", now=now, today=now.date())
    for boss in (people[Role.OWNER], people[Role.MARKETING]):
        assert call_queue(SqlQueue(workspace), boss, rep.name, now=now, today=now.date()) == []
    with pytest.raises(ValidationError, match="only reps have a call queue"):
        call_queue(SqlQueue(workspace), people[Role.OWNER], now=now, today=now.date())


# --- the command line -------------------------------------------------------------------------


def test_the_queue_command_prints_and_writes_a_reps_queue(tmp_path, capsys):
    from openpyxl import load_workbook

    from main import main

    db = str(tmp_path / "w.sqlite")

    def run(*args: str, user: str = "Olivia Owner") -> int:
        return main(["--db", db, "--user", user, *args])

    assert run("demo", "--accounts", "400") == 0
    capsys.readouterr()
    assert run("queue", "--rep", "Sam Rivera", "--limit", "3") == 0
    out = capsys.readouterr().out
    assert out.startswith("Sam Rivera's call queue: 3 accounts\n1. ")
    lines = out.splitlines()
    assert " · priority " in lines[2]
    assert "last touch " in lines[2] or "never touched" in lines[2]
    assert run("queue", user="Sam Rivera") == 0  # their own
    mine = capsys.readouterr().out
    assert mine.startswith("Sam Rivera's call queue: ")
    assert run("queue", "--rep", "Jordan Lee", user="Sam Rivera") == 1
    assert "Sam Rivera (rep) may not see any rep's call queue." in capsys.readouterr().err
    out_file = tmp_path / "queue.xlsx"
    assert run("queue", "--out", str(out_file), user="Sam Rivera") == 0
    assert f"to {out_file}" in capsys.readouterr().out
    sheet = load_workbook(out_file).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Rank", "Account Name", "Why now")
    assert rows[1][0] == 1 and rows[1][2]
    assert mine.splitlines()[0] == f"Sam Rivera's call queue: {len(rows) - 1:,} accounts"


# --- the call pack over the queue -------------------------------------------------------------


def test_the_call_pack_of_the_queue_has_every_account_in_queue_order(tmp_path, capsys):
    from pypdf import PdfReader

    from main import main

    db, out = str(tmp_path / "w.sqlite"), tmp_path / "pack.pdf"
    assert main(["--db", db, "--user", "Olivia Owner", "demo", "--accounts", "400"]) == 0
    assert main(["--db", db, "--user", "Sam Rivera", "queue", "--limit", "8"]) == 0
    queue_lines = capsys.readouterr().out.splitlines()
    names = [line.split(". ", 1)[1] for line in queue_lines if line[:1].isdigit()]
    args = ["--db", db, "--user", "Sam Rivera", "report", "call-pack", "--queue", "--limit", "8"]
    assert main([*args, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("Wrote the call pack of 8 accounts (")
    pages = [page.extract_text() for page in PdfReader(out).pages]
    assert "the next 8 accounts of the call queue, in its order" in pages[0]
    # After the cover and the contents, each account from a new page on, in queue order (a
    # long dossier runs over more than one).
    account_pages = pages[2:]
    starts = [next(n for n, page in enumerate(account_pages) if name in page) for name in names]
    assert starts == sorted(set(starts)) and starts[0] == 0 and len(starts) == 8
    ends = [*starts[1:], None]
    texts = ["\n".join(account_pages[a:b]) for a, b in zip(starts, ends, strict=True)]
    with open_workspace(db).read() as conn:  # whose dossier the demo wrote depends on the day
        written = set(
            conn.execute(
                select(accounts.c.name).join(
                    dossier_rows, dossier_rows.c.account_id == accounts.c.id
                )
            ).scalars()
        )
    sheets = [text for text in texts if "Call sheet (no dossier yet)" in text]
    on_sheets = {name for name, text in zip(names, texts, strict=True) if text in sheets}
    assert on_sheets == set(names) - written  # a sheet exactly where there is no dossier
    assert all("Why now: " in page and "Last interactions" in page for page in sheets)
    dossiers = 8 - len(sheets)
    assert f"({counted(dossiers, 'dossier')} and {counted(len(sheets), 'call sheet')})" in said


def test_a_call_sheet_prints_what_was_typed_as_text(tmp_path):
    from pypdf import PdfReader

    from domain.dossiers import PrintedContact
    from reports.call_sheet import write_call_pack

    typed = "<b>not bold</b> & =SUM(A1) 東京 " + "x" * 20_000
    entry = Interaction(uuid.uuid4(), Channel.VISIT, Outcome.CONVERSATION, NOW, learned=typed,
                        next_step="<i>Call back</i>", logged_by="Rita <Rep>")  # fmt: skip
    sheet = CallSheet(
        account="Acme & <Sons>", facts=(("City", "Graz"),), score=None, tier=None, why=(),
        owner="Rita <Rep>", priority=1, stage="contacted", why_now="Follow-up due today",
        next_step="Bring <the> offer", follow_up=TODAY, phone="+43 1 234",
        contacts=(PrintedContact("Ann <Lee>", "CEO", "ann@acme.at", "+43 1 235", True),),
        interactions=((entry, "Ann <Lee>"),),
    )  # fmt: skip
    out = tmp_path / "sheet.pdf"
    assert write_call_pack([sheet], out, title="Call pack", workspace="w") == 1
    page = " ".join(p.extract_text() for p in PdfReader(out).pages).replace("\n", " ")
    for shown in ("Acme & <Sons>", "Bring <the> offer", "<b>not bold</b> & =SUM(A1) 東京",
                  "Main line: +43 1 234", "Ann <Lee>: +43 1 235", "Rita <Rep>", "<i>Call back</i>",
                  "Why now: Follow-up due today"):  # fmt: skip
        assert shown in page, shown
    assert len(PdfReader(out).pages) == 1  # a long learned text is cut: a sheet is one page
