"""The service agreement's versions and the workspace calendar in storage (SQLite and
PostgreSQL), the call queue's deadline from them, and `accord sla` / `accord calendar`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from domain.accounts import create_account
from domain.agreement import Agreement, MarketingSide, SalesSide, save_agreement
from domain.calendar import Holiday, WorkCalendar, save_calendar
from domain.errors import PermissionDenied
from domain.queue import call_queue, why_now
from domain.targets import add_to_target_list, assign_owners
from domain.users import Role
from main import main
from storage.agreements import (
    SqlAgreementStore,
    agreement_history,
    current_agreement,
    current_calendar,
    default_calendar,
)
from storage.change_log import change_log
from storage.queue import SqlQueue
from storage.repositories import SqlUnitOfWork
from storage.schema import TargetRow, table_of
from storage.workspace import Workspace, open_workspace

targets = table_of(TargetRow)
VIENNA = WorkCalendar("Europe/Vienna", holidays=(Holiday(date(2026, 12, 8), "Feast"),))


def test_each_save_is_a_new_version_with_its_author_and_a_change_log_entry(workspace, people):
    owner = people[Role.OWNER]
    with workspace.read() as conn:
        assert current_agreement(conn) == Agreement()
        assert agreement_history(conn) == []
    store = SqlAgreementStore(workspace)
    first = save_agreement(store, owner, Agreement(MarketingSide(handoffs_per_month=30)))
    second = save_agreement(store, owner, Agreement(sales=SalesSide(first_touch_days=1),
                                                    note="Faster"))  # fmt: skip
    assert (first.number, second.number) == (1, 2)
    with workspace.read() as conn:
        assert current_agreement(conn).sales.first_touch_days == 1
        history = agreement_history(conn)
        logged = conn.execute(select(change_log.c.table_name, change_log.c.user_name)).all()
    assert [(v.number, v.created_by, v.agreement.note) for v in history] == [
        (2, owner.name, "Faster"), (1, owner.name, "")
    ]  # fmt: skip
    assert history[1].agreement.marketing.handoffs_per_month == 30
    assert logged.count(("agreement_versions", owner.name)) == 2


def test_only_the_owner_changes_the_agreement_or_the_calendar(workspace, people):
    store = SqlAgreementStore(workspace)
    for role in (Role.MARKETING, Role.REP):
        with pytest.raises(PermissionDenied):
            save_agreement(store, people[role], Agreement())
        with pytest.raises(PermissionDenied):
            save_calendar(store, people[role], VIENNA)
    with workspace.read() as conn:
        assert agreement_history(conn) == []


def test_the_newest_calendar_holds(workspace, people):
    store = SqlAgreementStore(workspace)
    with workspace.read() as conn:
        assert current_calendar(conn) == default_calendar()
    save_calendar(store, people[Role.OWNER], WorkCalendar("Asia/Tokyo"))
    save_calendar(store, people[Role.OWNER], VIENNA)
    with workspace.read() as conn:
        assert current_calendar(conn) == VIENNA


def test_without_a_saved_calendar_the_computers_zone_counts(monkeypatch):
    monkeypatch.setenv("TZ", "America/Chicago")
    assert default_calendar() == WorkCalendar("America/Chicago")
    monkeypatch.setenv("TZ", "Nowhere/Atlantis")
    assert default_calendar().time_zone != "Nowhere/Atlantis"


def _handed_off(workspace: Workspace, people, name: str, handed_off_at: datetime):
    owner, uow = people[Role.OWNER], SqlUnitOfWork(workspace)
    account = create_account(uow, owner, {"name": name})
    add_to_target_list(SqlUnitOfWork(workspace), owner, [account.id], "asked for it")
    assign_owners(SqlUnitOfWork(workspace), owner, {account.id: people[Role.REP].id})
    with workspace.write() as conn:  # as handing off a sales-ready account stores it
        conn.execute(update(targets).values(handed_off_at=handed_off_at, stage="sales-ready"))
    return account


def test_the_queues_deadline_is_the_agreements_days_on_the_workspace_calendar(workspace, people):
    owner, rep = people[Role.OWNER], people[Role.REP]
    store = SqlAgreementStore(workspace)
    save_calendar(store, owner, VIENNA)
    save_agreement(store, owner, Agreement(sales=SalesSide(first_touch_days=0)))
    _handed_off(workspace, people, "Acme", datetime(2026, 12, 4, 22, 30, tzinfo=UTC))
    now = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    [entry] = call_queue(SqlQueue(workspace), rep, now=now, today=now.date())
    friday = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)  # the end of Friday in Vienna
    assert entry.first_touch_by == friday
    save_agreement(store, owner, Agreement(sales=SalesSide(first_touch_days=5)))
    [later] = call_queue(SqlQueue(workspace), rep, now=now, today=now.date())
    # Monday 7, Wednesday 9 (the 8th is a holiday), Thursday … Monday 14th
    assert later.first_touch_by == datetime(2026, 12, 14, 23, 0, tzinfo=UTC)
    assert why_now(entry, now, now.date()) == "Handed off: first touch 30 minutes late"
    assert why_now(later, now, now.date()) == "Handed off: first touch within 9 days"


# --- the command line --------------------------------------------------------------------


def _read(db: str, read):
    workspace = open_workspace(db)
    try:
        with workspace.read() as conn:
            return read(conn)
    finally:
        workspace.close()


def _sla(tmp_path, document) -> str:
    path = tmp_path / "sla.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_sla_import_and_export_round_trip(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    agreement = Agreement(MarketingSide(handoffs_per_month=40, min_tier_a_share=0.3),
                          SalesSide(first_touch_days=1, attempts=4), note="Q1 <plan>")  # fmt: skip
    source = _sla(tmp_path, agreement.to_document())
    assert main(["--db", db, "--user", "Olivia", "sla", "import", source]) == 0
    assert "Saved the service agreement, version 1" in capsys.readouterr().out
    out = tmp_path / "out.json"
    assert main(["--db", db, "--user", "Olivia", "sla", "export", str(out)]) == 0
    assert Agreement.from_document(json.loads(out.read_text(encoding="utf-8"))) == agreement
    assert f"Wrote the service agreement, version 1, to {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"sales": {**SalesSide().__dict__, "first_touch_dayz": 2}},
         "sales.first_touch_dayz: is not a key of sales's side"),
        ({"marketing": {**MarketingSide().__dict__, "handoffs_per_month": -3}},
         "marketing.handoffs_per_month: is at least 0"),
        ({"sales": {**SalesSide().__dict__, "on_time_share": 90}},
         "sales.on_time_share: a share is between 0 and 1"),
        ({"colour": "red"}, "colour: is not a key of an agreement"),
    ],
)  # fmt: skip
def test_a_wrong_agreement_is_refused_in_one_line_naming_the_key(tmp_path, capsys, change, said):
    db = str(tmp_path / "w.sqlite")
    good = Agreement().to_document()
    assert main(["--db", db, "--user", "Olivia", "sla", "import", _sla(tmp_path, good)]) == 0
    capsys.readouterr()
    code = main(["--db", db, "--user", "Olivia", "sla", "import",
                 _sla(tmp_path, {**good, **change})])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and said in err and len(err.strip().splitlines()) == 1
    assert [v.number for v in _read(db, agreement_history)] == [1]


def _hostile(tmp_path, kind: str):
    good = json.dumps(Agreement().to_document())
    path = tmp_path / f"{kind}.json"
    if kind == "huge":  # 50 MB of note
        with path.open("w", encoding="utf-8") as file:
            file.write(good[:-1] + ', "note": "')
            for _ in range(50):
                file.write("x" * 1_000_000)
            file.write('"}')
    elif kind == "deep":  # deeper than Python's own recursion
        path.write_text(good[:-1] + ', "note": ' + "[" * 100_000 + "]" * 100_000 + "}")
    elif kind == "nested":  # within Python's recursion, far beyond any agreement
        path.write_text(good[:-1] + ', "note": ' + "[" * 500 + "]" * 500 + "}")
    else:  # a step of the arithmetic that nests
        document = {**Agreement().to_document(), "arithmetic": [{"step": [[["x"]]]}]}
        path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("huge", "huge.json is 50 MB; an agreement, ICP or territory file is at most 1 MB, "
                 "so this is not one."),
        ("deep", "deep.json nests lists and objects more than 20 deep; an agreement, ICP or "
                 "territory file never does, so this is not one."),
        ("nested", "nested.json nests lists and objects more than 20 deep"),
        ("step", "arithmetic: a list of steps, each an object of texts and numbers"),
    ],
)  # fmt: skip
def test_a_hostile_agreement_file_is_refused_in_a_sentence_and_changes_nothing(
    tmp_path, capsys, kind, said
):
    import tracemalloc

    db = str(tmp_path / "w.sqlite")
    good = Agreement().to_document()
    assert main(["--db", db, "--user", "Olivia", "sla", "import", _sla(tmp_path, good)]) == 0
    capsys.readouterr()
    path = _hostile(tmp_path, kind)
    tracemalloc.start()
    try:
        code = main(["--db", db, "--user", "Olivia", "sla", "import", str(path)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    err = capsys.readouterr().err
    assert code == 1 and said in err and len(err.strip().splitlines()) == 1
    assert len(err) < 300 and "Traceback" not in err
    assert peak < 20_000_000  # never the whole 50 MB, nor what parsing it would make
    assert [v.number for v in _read(db, agreement_history)] == [1]


def test_holidays_are_added_shown_and_removed_from_the_command_line(tmp_path, capsys):
    db = str(tmp_path / "w.sqlite")
    base = ["--db", db, "--user", "Olivia", "calendar"]
    assert main([*base, "zone", "Europe/Vienna"]) == 0
    assert main([*base, "holidays", "add", "2026-12-25", "--name", "Christmas Day"]) == 0
    assert main([*base, "holidays", "add", "2026-12-08"]) == 0
    capsys.readouterr()
    assert main([*base, "show"]) == 0
    out = capsys.readouterr().out
    assert "Time zone: Europe/Vienna" in out and "Weekend: Saturday and Sunday" in out
    assert out.index("2026-12-08") < out.index("2026-12-25 Christmas Day")
    assert main([*base, "holidays", "add", "2026-12-25"]) == 1
    assert "2026-12-25 is a holiday already" in capsys.readouterr().err
    assert main([*base, "holidays", "remove", "2026-12-08"]) == 0
    calendar = _read(db, current_calendar)
    assert calendar.holidays == (Holiday(date(2026, 12, 25), "Christmas Day"),)
    assert calendar.time_zone == "Europe/Vienna"
