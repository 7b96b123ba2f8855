"""The desktop app as a person uses it: the list, editing an account, the import wizard."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit, QMessageBox
from sqlalchemy import select

from domain.accounts import update_account
from domain.importing import IGNORE
from domain.users import Role
from storage.demo.build import build_demo
from storage.queries import accounts
from storage.repositories import SqlUnitOfWork
from storage.users import sign_in
from ui.account_dialog import AccountDialog
from ui.accounts_model import AccountIdRole, AccountsModel
from ui.import_history import HEADERS, ImportHistoryDialog
from ui.import_wizard import ImportWizard
from ui.main_window import MainWindow


@pytest.fixture
def demo(sqlite_workspace):
    build_demo(sqlite_workspace, accounts=600, seed=5, replace=True, owner_name="Olivia Owner")
    return sqlite_workspace


def test_model_passes_qt_model_checks(qtmodeltester, demo):
    qtmodeltester.check(AccountsModel(demo))


def test_revenue_reads_short_in_the_list():
    from ui.accounts_model import format_revenue

    shown = [format_revenue(v) for v in (950, 800_000, 42_640_000, 999_950, 2_500_000_000)]
    assert shown == ["950", "800k", "42.6M", "1M", "2.5B"]


def test_list_covers_every_row_and_sorts_in_sql(demo):
    model = AccountsModel(demo)
    assert model.rowCount() == 600
    last = model.index(599, 0)
    assert model.data(last) and model.data(last, AccountIdRole) is not None
    model.sort(3, Qt.SortOrder.DescendingOrder)
    employees = [model.row(n)[4] for n in range(600)]
    assert employees == sorted(employees, key=lambda v: -(v or -1))
    model.set_search("software")
    assert 0 < model.rowCount() < 600
    assert all(model.data(model.index(n, 2)) == "Software" for n in range(model.rowCount()))


def test_window_shows_user_role_and_first_run_panel(qtbot, sqlite_workspace):
    window = MainWindow(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(window)
    assert "Olivia Owner (owner)" in window.windowTitle()
    assert window.pages.currentWidget() is window.first_run
    assert window.first_run.import_button.isEnabled()


def test_search_narrows_the_list(qtbot, demo):
    window = MainWindow(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(window)
    qtbot.keyClicks(window.search, "software")
    qtbot.waitUntil(lambda: window.model.query.search == "software", timeout=2000)
    assert window.count.text() != "600 accounts" and window.count.text().endswith("accounts")


def _dialog_for_first(workspace, user):
    model = AccountsModel(workspace)
    with SqlUnitOfWork(workspace) as uow:
        account = uow.accounts.get(model.data(model.index(0, 0), AccountIdRole))
    return account, AccountDialog(workspace, user, account)


def _field(dialog, name) -> QLineEdit:
    return dialog.form.inputs[name]


def test_editing_an_account_saves_it(qtbot, demo):
    owner = sign_in(demo, "Olivia Owner")
    account, dialog = _dialog_for_first(demo, owner)
    qtbot.addWidget(dialog)
    _field(dialog, "city").setText("Graz")
    _field(dialog, "employees").setText("1,250")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.result() == dialog.DialogCode.Accepted
    with SqlUnitOfWork(demo) as uow:
        saved = uow.accounts.get(account.id)
    assert (saved.city, saved.employees, saved.version) == ("Graz", 1250, account.version + 1)


def test_a_bad_value_is_shown_beside_its_field(qtbot, demo):
    _, dialog = _dialog_for_first(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(dialog)
    _field(dialog, "employees").setText("a few")
    dialog.save()
    assert dialog.result() != dialog.DialogCode.Accepted
    assert "'a few' is not a number of employees" in dialog.form.problems["employees"].text()


def test_a_concurrent_edit_is_reported_not_overwritten(qtbot, demo, monkeypatch):
    owner = sign_in(demo, "Olivia Owner")
    account, dialog = _dialog_for_first(demo, owner)
    qtbot.addWidget(dialog)
    update_account(SqlUnitOfWork(demo), owner, account, {"city": "Theirs"})
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    _field(dialog, "city").setText("Mine")
    dialog.save()
    assert shown and "changed by someone else" in shown[0]
    with SqlUnitOfWork(demo) as uow:
        assert uow.accounts.get(account.id).city == "Theirs"


def test_a_rep_sees_the_account_read_only(qtbot, demo):
    owner = sign_in(demo, "Olivia Owner")
    from domain.users import add_user
    from storage.users import SqlUserStore

    rep = add_user(SqlUserStore(demo), owner, "Rita Rep", Role.REP)
    _, dialog = _dialog_for_first(demo, rep)
    qtbot.addWidget(dialog)
    assert _field(dialog, "name").isReadOnly()
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "fair.csv"
    path.write_text(
        "Leads from the fair\n\nFirma,Website,Mitarbeiter,Country\n"
        "Acme GmbH,acme.de,120,Germany\nBeta Ltd,beta.co.uk,lots,UK\nGamma SA,gamma.fr,30,France\n"
        ",delta.es,5,Spain\n",
        encoding="utf-8",
    )
    return path


def test_import_wizard_end_to_end(qtbot, sqlite_workspace, tmp_path):
    owner = sign_in(sqlite_workspace, "Olivia Owner")
    wizard = ImportWizard(sqlite_workspace, owner)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(_csv(tmp_path)))
    wizard.next()
    assert "row 3" in wizard.mapping_page.found.text()
    combos = wizard.mapping_page.combos
    combos[0].setCurrentIndex(combos[0].findData("name"))  # "Firma" is the company name
    combos[2].setCurrentIndex(combos[2].findData("employees"))
    assert wizard.mapping_page.preview.rowCount() == 4
    wizard.next()
    next(
        b for b in wizard.duplicates_page.choice.buttons() if b.objectName() == "overwrite"
    ).click()
    wizard.next()  # starts the import on a worker thread
    qtbot.waitUntil(lambda: wizard.summary is not None, timeout=10_000)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=2000)
    text = wizard.summary_page.counts.text()
    assert "3 created" in text and "1 cell not read and left empty" in text
    assert "1 rejected" in text
    unread = wizard.summary_page.warnings
    assert [unread.item(0, c).text() for c in range(3)] == [
        "5",
        "Mitarbeiter",
        "'lots' is not a number of employees: Employees is left empty",
    ]
    assert wizard.summary_page.errors.item(0, 2).text() == "Account Name is empty"
    assert not wizard.summary_page.bands.isVisibleTo(wizard.summary_page)  # no band: not said
    assert AccountsModel(sqlite_workspace).rowCount() == 3


def test_import_wizard_stays_on_the_mapping_until_it_can_import(
    qtbot, sqlite_workspace, tmp_path, monkeypatch
):
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(_csv(tmp_path)))
    wizard.next()
    wizard.next()  # "Firma" is not known as the company name: nothing is mapped to it
    assert wizard.currentPage() is wizard.mapping_page
    assert "no column is mapped to Account Name" in said[-1]
    combos = wizard.mapping_page.combos
    combos[0].setCurrentIndex(combos[0].findData("name"))
    wizard.next()
    assert wizard.currentPage() is wizard.duplicates_page
    assert len(said) == 1


def test_import_wizard_says_which_fields_take_the_first_filled_of_several_columns(
    qtbot, sqlite_workspace, tmp_path
):
    path = tmp_path / "hubspot.csv"
    path.write_text(
        "Company name,Company Domain Name,Website URL,Country\nAcme Inc,,https://acme.com,US\n",
        encoding="utf-8",
    )
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.next()
    page = wizard.mapping_page
    assert page.mapped_fields() == ["name", "website", "website", "country"]
    assert page.shared.isVisible()
    assert page.shared.text() == (
        "Website comes from the first filled of 'Company Domain Name' and 'Website URL', "
        "in that order."
    )
    page.combos[2].setCurrentIndex(page.combos[2].findData(IGNORE))
    assert not page.shared.isVisible()
    page.combos[3].setCurrentIndex(page.combos[3].findData("name"))
    assert page.shared.text() == (
        "Account Name comes from the first filled of 'Company name' and 'Country', in that order."
    )


def test_import_history_undoes_an_import(qtbot, sqlite_workspace, tmp_path, monkeypatch):
    from domain.importing import ImportOptions
    from storage.importing.importer import import_accounts

    owner = sign_in(sqlite_workspace, "Olivia Owner")
    options = ImportOptions(mapped_fields=["name", "website", "employees", "country"])
    import_accounts(sqlite_workspace, owner, _csv(tmp_path), options)
    dialog = ImportHistoryDialog(sqlite_workspace, owner)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: QMessageBox.StandardButton.Yes)
    dialog.table.selectRow(0)
    assert dialog.undo.isEnabled()
    dialog.undo.click()
    assert AccountsModel(sqlite_workspace).rowCount() == 0
    assert "by Olivia Owner" in dialog.table.item(0, HEADERS.index("Undone")).text()


def test_delete_then_undo_brings_the_account_back(qtbot, demo):
    window = MainWindow(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(window)
    window.table.selectRow(0)
    name = window.model.data(window.model.index(0, 0))
    window.delete_account()
    assert window.model.rowCount() == 599
    window.undo_stack.undo()
    assert window.model.rowCount() == 600
    assert window.model.data(window.model.index(0, 0)) == name
    window.undo_stack.redo()
    assert window.model.rowCount() == 599


def test_an_account_edit_and_a_new_account_can_be_undone_and_redone(qtbot, demo, monkeypatch):
    window = MainWindow(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(window)
    window.table.selectRow(0)
    first = window.model.data(window.model.index(0, 0), AccountIdRole)

    def save_in_dialog(dialog, city=None, name=None):
        if city is not None:
            _field(dialog, "city").setText(city)
        if name is not None:
            _field(dialog, "name").setText(name)
        dialog.save()
        return dialog.result()

    monkeypatch.setattr(AccountDialog, "exec", lambda d: save_in_dialog(d, city="Graz"))
    window.open_account()
    with SqlUnitOfWork(demo) as uow:
        before = uow.accounts.get(first)
    assert before.city == "Graz"
    window.undo_stack.undo()
    with SqlUnitOfWork(demo) as uow:
        assert uow.accounts.get(first).city != "Graz"
    window.undo_stack.redo()
    with SqlUnitOfWork(demo) as uow:
        assert uow.accounts.get(first).city == "Graz"

    monkeypatch.setattr(AccountDialog, "exec", lambda d: save_in_dialog(d, name="Aaa New Co"))
    window.new_account()
    assert window.model.rowCount() == 601
    assert window.undo_stack.undoText() == "create Aaa New Co"
    window.undo_stack.undo()
    assert window.model.rowCount() == 600
    window.undo_stack.redo()
    assert window.model.rowCount() == 601


def test_closing_an_account_with_unsaved_typing_asks_first(qtbot, demo, monkeypatch):
    account, dialog = _dialog_for_first(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(dialog)
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save]
    asked = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: asked.append(box.text()) or answers.pop(0))
    dialog.reject()  # nothing typed: closes without asking
    assert asked == [] and dialog.result() == dialog.DialogCode.Rejected
    dialog.show()
    _field(dialog, "city").setText("Graz")
    dialog.reject()  # Cancel: the dialog stays open with the typing
    assert dialog.isVisible() and _field(dialog, "city").text() == "Graz"
    assert "Save your changes" in asked[0]
    dialog.reject()  # Save
    assert dialog.result() == dialog.DialogCode.Accepted and not dialog.isVisible()
    with SqlUnitOfWork(demo) as uow:
        assert uow.accounts.get(account.id).city == "Graz"


def test_a_new_contact_with_typing_is_dropped_only_when_asked_to(qtbot, demo, monkeypatch):
    from ui.account_dialog import ContactDialog

    account, _ = _dialog_for_first(demo, sign_in(demo, "Olivia Owner"))
    dialog = ContactDialog(demo, sign_in(demo, "Olivia Owner"), account.id, None)
    qtbot.addWidget(dialog)
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard]
    monkeypatch.setattr(QMessageBox, "exec", lambda box: answers.pop(0))
    dialog.show()
    _field(dialog, "name").setText("Jane Roe")
    dialog.reject()
    assert answers == [QMessageBox.StandardButton.Discard] and dialog.isVisible()
    dialog.reject()
    assert answers == [] and not dialog.isVisible()
    with SqlUnitOfWork(demo) as uow:
        assert "Jane Roe" not in {c.name for c in uow.contacts.for_account(account.id)}


def test_export_from_the_window_writes_the_current_search(qtbot, demo, tmp_path):
    import openpyxl

    window = MainWindow(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(window)
    window.model.set_search("software")
    out = tmp_path / "software.xlsx"
    task = window.export_to(out)
    qtbot.waitUntil(lambda: not task.running and out.exists(), timeout=10_000)
    rows = list(openpyxl.load_workbook(out).active.values)
    assert len(rows) - 1 == window.model.rowCount()
    assert {r[2] for r in rows[1:]} == {"Software"}


def test_columns_without_an_index_do_not_resort_a_million_rows(qtbot, demo):
    window = MainWindow(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(window)
    window.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    window.table.sortByColumn(6, Qt.SortOrder.AscendingOrder)  # City has no index
    assert window.model.query.sort == 3 and window.model.query.descending
    assert window.table.horizontalHeader().sortIndicatorSection() == 3
    assert "sorts by" in window.statusBar().currentMessage()


def test_open_demo_workspace_from_the_first_run_panel(qtbot, sqlite_workspace):
    window = MainWindow(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(window)
    window.first_run.demo_button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=30_000)
    assert window.workspace.label.endswith("demo.sqlite")
    assert window.user.role is Role.OWNER
    assert window.pages.currentWidget() is not window.first_run


def test_open_a_new_workspace_then_a_bad_one_from_the_file_menu(
    qtbot, sqlite_workspace, tmp_path, monkeypatch
):
    from ui.settings import remembered_workspace

    window = MainWindow(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(window)
    other = tmp_path / "team" / "other.sqlite"
    task = window.open_workspace_at(str(other))
    qtbot.waitUntil(lambda: window.workspace.label == str(other), timeout=10_000)
    assert not task.running and other.exists()
    assert window.user.role is Role.OWNER and window.pages.currentWidget() is window.first_run
    assert remembered_workspace() == window.workspace.url
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: said.append(box.text()))
    listing = _csv(tmp_path)
    task = window.open_workspace_at(str(listing))
    qtbot.waitUntil(lambda: bool(said), timeout=10_000)
    assert "file is not a database" in said[0] and window.workspace.label == str(other)


def test_the_wizard_picks_the_sheet_that_holds_the_list(qtbot, sqlite_workspace, tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Read me"
    workbook.create_sheet("Accounts").append(["Company name", "Country"])
    path = tmp_path / "crm.xlsx"
    workbook.save(path)
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.file_page.path.setText(str(path))
    wizard.file_page.load_sheets()
    assert wizard.file_page.sheet.currentText() == "Accounts"
    assert wizard.file_page.sheet.isEnabled()


def test_the_list_shows_times_on_this_computers_clock(qtbot, sqlite_workspace, india_clock):
    from domain.accounts import create_account
    from storage.read_models.account_list import ListColumn

    owner = sign_in(sqlite_workspace, "Olivia Owner")
    account = create_account(SqlUnitOfWork(sqlite_workspace), owner, {"name": "Acme"})
    with sqlite_workspace.read() as conn:
        stored = conn.execute(select(accounts.c.updated_at)).scalar_one()
    model = AccountsModel(sqlite_workspace)
    assert model.data(model.index(0, 0), AccountIdRole) == account.id
    later = stored + india_clock
    assert model.data(model.index(0, ListColumn.UPDATED_AT)) == later.strftime("%Y-%m-%d %H:%M")


def test_connect_to_a_team_database_opens_the_address_typed(
    qtbot, sqlite_workspace, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QInputDialog

    window = MainWindow(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(window)
    typed = f"sqlite:///{tmp_path / 'team.sqlite'}"

    def answer(dialog):
        assert dialog.textValue().startswith("postgresql+psycopg://")
        dialog.setTextValue(f"  {typed} ")
        return 1

    monkeypatch.setattr(QInputDialog, "exec", answer)
    window.connect_team_database()
    qtbot.waitUntil(lambda: window.workspace.url == typed, timeout=10_000)


def test_import_wizard_lists_countries_it_does_not_know(qtbot, sqlite_workspace, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Account Name,Country\nAcme,USA\nGale,Atlantis\n", encoding="utf-8")
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.next()
    wizard.next()
    wizard.next()  # starts the import on a worker thread
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=10_000)
    shown = wizard.summary_page.unknown_countries
    assert shown.isVisible() and "'Atlantis' (1 row)" in shown.text()


def test_a_desktop_without_qt_s_x11_libraries_is_told_the_packages_to_install():
    from ui.app import X11_LIBRARIES, display_problem

    x11 = {"DISPLAY": ":0"}
    missing = {"xcb-cursor", "xkbcommon-x11"}

    def find(name: str) -> str | None:
        return None if name in missing else f"lib{name}.so.0"

    said = display_problem(x11, "linux", find)
    assert said is not None and said.splitlines() == [
        "Accord's window needs X11 libraries that this computer lacks (libxcb-cursor, "
        "libxkbcommon-x11). Install them and start Accord again:",
        "  Debian or Ubuntu: sudo apt install libxcb-cursor0 libxkbcommon-x11-0",
        "  Fedora: sudo dnf install xcb-util-cursor libxkbcommon-x11",
        "The commands (accord --help) work without them.",
    ]
    assert display_problem({**x11, "QT_QPA_PLATFORM": "xcb"}, "linux", find) == said
    assert display_problem(x11, "linux", lambda name: f"lib{name}.so") is None
    for elsewhere in ({**x11, "QT_QPA_PLATFORM": "offscreen"}, {}, {**x11, "WAYLAND_DISPLAY": "w"}):
        assert display_problem(elsewhere, "linux", find) is None  # Qt draws without X11
    assert display_problem(x11, "darwin", find) is None
    assert set(X11_LIBRARIES) >= missing


def test_the_readme_names_the_packages_the_window_needs():
    from ui.app import X11_LIBRARIES

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    debian = " ".join(d for d, _ in X11_LIBRARIES.values())
    fedora = " ".join(f for _, f in X11_LIBRARIES.values())
    assert f"sudo apt install {debian}" in readme and f"sudo dnf install {fedora}" in readme


def test_import_wizard_scales_a_column_and_previews_the_scaled_amounts(
    qtbot, sqlite_workspace, tmp_path
):
    """The Fortune list gives its revenues in millions."""
    path = tmp_path / "fortune.csv"
    path.write_text('Name,Revenue\nWalmart,"648,125"\nYangquan Coal,22.1\n', encoding="utf-8")
    wizard = ImportWizard(sqlite_workspace, sign_in(sqlite_workspace, "Olivia Owner"))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.path.setText(str(path))
    wizard.next()
    page = wizard.mapping_page
    assert [unit.isEnabled() for unit in page.units] == [False, True]
    page.units[1].setCurrentIndex(page.units[1].findData(1_000_000))
    assert page.units[1].currentText() == "× 1,000,000"
    shown = [page.preview.item(row, 1).text() for row in range(2)]
    assert shown == ["648,125,000,000", "22,100,000"]
    page.combos[1].setCurrentIndex(page.combos[1].findData(IGNORE))
    assert not page.units[1].isEnabled() and page.units[1].currentData() == 1
    assert page.preview.item(0, 1).text() == "648,125"
    page.combos[1].setCurrentIndex(page.combos[1].findData("annual_revenue"))
    page.units[1].setCurrentIndex(page.units[1].findData(1_000_000))
    wizard.next()
    wizard.next()  # starts the import on a worker thread
    qtbot.waitUntil(lambda: wizard.summary is not None, timeout=10_000)
    with sqlite_workspace.read() as conn:
        stored = dict(conn.execute(select(accounts.c.name, accounts.c.annual_revenue)).all())
    assert stored == {"Walmart": 648_125_000_000, "Yangquan Coal": 22_100_000}
