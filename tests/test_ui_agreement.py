"""The agreement editor, the calendar dialog and the breaches window, driven as people use
them (offscreen)."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from domain.calendar import Holiday
from domain.users import Role
from storage.agreements import agreement_history, current_calendar
from storage.demo.build import build_demo
from storage.users import sign_in
from ui.account_dialog import AccountDialog
from ui.agreement_dialog import AgreementDialog, CalendarDialog
from ui.breaches import BreachesDialog


@pytest.fixture
def demo(sqlite_workspace):
    build_demo(sqlite_workspace, accounts=400, seed=5, replace=True, owner_name="Olivia Owner")
    return sqlite_workspace


def test_the_owner_saves_a_new_version_and_sees_it_in_the_history(qtbot, demo):
    dialog = AgreementDialog(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(dialog)
    assert dialog.history.count() == 1 and "Version 1" in dialog.history.item(0).text()
    dialog.first_touch.setValue(1)
    dialog.per_rep.setValue(12)
    dialog.accepted_share.setValue(dialog.accepted_share.minimum())  # "Not set"
    dialog.note.setText("Faster first touch")
    dialog.accept()
    with demo.read() as conn:
        newest = agreement_history(conn)[0]
    assert newest.number == 2 and newest.created_by == "Olivia Owner"
    assert newest.agreement.sales.first_touch_days == 1
    assert newest.agreement.marketing.handoffs_per_rep == 12
    assert newest.agreement.marketing.min_accepted_share is None
    assert newest.agreement.note == "Faster first touch"
    again = AgreementDialog(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(again)
    assert again.history.item(0).text().startswith("Version 2: Olivia Owner")
    assert again.first_touch.value() == 1


@pytest.mark.parametrize("name", ["Maya Chen", "Sam Rivera"])
def test_others_read_the_agreement_but_cannot_change_it(qtbot, demo, name):
    user = sign_in(demo, name)
    assert user.role in (Role.MARKETING, Role.REP)
    for dialog in (AgreementDialog(demo, user), CalendarDialog(demo, user)):
        qtbot.addWidget(dialog)
        box = dialog.findChild(QDialogButtonBox)
        assert box.button(QDialogButtonBox.StandardButton.Save) is None
        assert box.button(QDialogButtonBox.StandardButton.Close) is not None
    agreement = AgreementDialog(demo, user)
    qtbot.addWidget(agreement)
    assert not agreement.handoffs.isEnabled() and not agreement.first_touch.isEnabled()


def test_a_holiday_added_in_the_calendar_dialog_is_saved(qtbot, demo):
    dialog = CalendarDialog(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(dialog)
    dialog.zone.setCurrentText("Europe/Vienna")
    dialog.day.setDate(date(2026, 12, 8))
    dialog.name.setText("Immaculate Conception")
    dialog._add_typed()
    dialog.accept()
    with demo.read() as conn:
        calendar = current_calendar(conn)
    assert calendar.time_zone == "Europe/Vienna"
    assert Holiday(date(2026, 12, 8), "Immaculate Conception") in calendar.holidays


def test_a_breach_line_opens_its_account(qtbot, demo, monkeypatch):
    opened = []
    monkeypatch.setattr(AccountDialog, "exec", lambda self: opened.append(self.windowTitle()))
    dialog = BreachesDialog(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() > 0
    assert dialog.table.item(0, 0).text() == "In the black hole"
    assert dialog.table.item(0, 5).text() == "Contact the account today and log it."
    account = dialog.table.item(0, 1).text()
    dialog.table.setCurrentCell(0, 0)
    dialog.open_line()
    assert opened and account in opened[0]


def test_a_rep_sees_only_their_own_breaches(qtbot, demo):
    dialog = BreachesDialog(demo, sign_in(demo, "Sam Rivera"))
    qtbot.addWidget(dialog)
    reps = {dialog.table.item(row, 2).text() for row in range(dialog.table.rowCount())}
    assert reps <= {"Sam Rivera"}
