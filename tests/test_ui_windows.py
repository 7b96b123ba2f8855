"""Windows on a laptop: every window and dialog fits a 1280×720 screen with its buttons in
sight and opens where it was closed; the accounts list shows every column at 1280 px and
keeps each user's columns; what is remembered between runs."""

from __future__ import annotations

import ast
import gc
import subprocess
import sys
import uuid
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QStyle,
    QStyleOptionHeader,
    QTabBar,
    QWidget,
)

from domain.report import Figure, ReportKind
from domain.targets import Stage
from domain.users import Role, add_user
from storage.demo.build import build_demo
from storage.dossiers import DossierFilter, dossier_for, dossier_lines
from storage.goals import current_goal
from storage.icps import list_versions
from storage.read_models.account_list import SORTABLE, ListColumn
from storage.repositories import SqlUnitOfWork
from storage.targets import target_history
from storage.users import SqlUserStore, sign_in
from storage.workspace import Workspace, open_workspace, sqlite_file
from tests.dashboard_figures import BLACK_HOLE
from ui import settings
from ui.account_dialog import AccountDialog, ContactDialog
from ui.accounts_model import HEADERS, AccountIdRole
from ui.agreement_dialog import AgreementDialog, CalendarDialog
from ui.backups import BackupsDialog
from ui.breaches import BreachesDialog
from ui.closed_loop import ClosedLoopWindow
from ui.conflicts import ConflictsDialog
from ui.dashboard import RowsWindow
from ui.dossier_actions import CallPackDialog, TemplateEditor
from ui.dossier_editor import DossierEditor
from ui.dossier_list import DossierList
from ui.field_actions import ExceptionsDialog, GrantDialog, StageDialog
from ui.field_feedback import FieldFeedback
from ui.goal_dialog import GoalDialog, GoalToAgreementDialog
from ui.icp_editor import CompareDialog, IcpEditor
from ui.import_history import ImportHistoryDialog, PossibleDuplicatesDialog
from ui.import_wizard import ImportWizard
from ui.lead_dialog import LeadDefinitionDialog
from ui.main_window import MainWindow
from ui.offline import WorkOfflineDialog
from ui.plan_window import PlanWindow
from ui.quick_log import QuickLogDialog
from ui.report_actions import ReportDialog
from ui.target_actions import BuildDialog, HistoryDialog, RepsDialog, TerritoryDialog, reps_of
from ui.users_dialog import UsersDialog

ROOT = Path(__file__).resolve().parent.parent
#: A 1280×720 laptop screen less a taskbar.
LAPTOP = QRect(0, 0, 1280, 680)
PEOPLE = {Role.OWNER: "Olivia Owner", Role.MARKETING: "Maya Chen", Role.REP: "Sam Rivera"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = open_workspace(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    build_demo(workspace, accounts=600, seed=5, replace=True, owner_name="Olivia Owner")
    yield workspace
    workspace.close()


def _first_account(window: MainWindow):  # type: ignore[no-untyped-def]
    account_id = window.model.data(window.model.index(0, 0), AccountIdRole)
    with SqlUnitOfWork.reading(window.workspace) as uow:
        return uow.accounts.get(account_id), uow.contacts.for_account(account_id)


def _dossier(window: MainWindow) -> DossierEditor:
    line = dossier_lines(window.workspace, DossierFilter(), limit=1)[0]
    dossier = dossier_for(window.workspace, line.account_id)
    assert dossier is not None
    return DossierEditor(window.workspace, window.user, dossier, window)


def _contact(window: MainWindow) -> ContactDialog:
    account, contacts = _first_account(window)
    return ContactDialog(window.workspace, window.user, account.id, contacts[0], window)


def _possible_duplicates(window: MainWindow) -> PossibleDuplicatesDialog:
    batch = uuid.uuid4()  # an import with nothing left to review
    return PossibleDuplicatesDialog(window.workspace, window.user, batch, "companies.csv", window)


def _goal_to_agreement(window: MainWindow) -> GoalToAgreementDialog:
    with window.workspace.read() as conn:
        version = current_goal(conn)
    assert version is not None  # the demo has a goal
    return GoalToAgreementDialog(window.workspace, window.user, version, window)


#: Every window and dialog of ui/, opened as it is from the menus (a test below holds
#: this list to the classes in ui/).
WINDOWS: dict[str, Callable[[MainWindow], QWidget]] = {
    "MainWindow": lambda w: w,
    "AccountDialog": lambda w: AccountDialog(w.workspace, w.user, _first_account(w)[0], w),
    "ContactDialog": _contact,
    "DossierEditor": _dossier,
    "DossierList": lambda w: DossierList(w.workspace, w.user, w),
    "FieldFeedback": lambda w: FieldFeedback(w.workspace, w.user, w),
    "ClosedLoopWindow": lambda w: ClosedLoopWindow(w.workspace, w.user, w),
    "AgreementDialog": lambda w: AgreementDialog(w.workspace, w.user, w),
    "CalendarDialog": lambda w: CalendarDialog(w.workspace, w.user, w),
    "BreachesDialog": lambda w: BreachesDialog(w.workspace, w.user, w),
    "ExceptionsDialog": lambda w: ExceptionsDialog(w.workspace, w.user, "", w),
    "GrantDialog": lambda w: GrantDialog(w.workspace, w.user, _first_account(w)[0].name, w),
    "StageDialog": lambda w: StageDialog(
        w.workspace, w.user, _first_account(w)[0], Stage.MEETING, w
    ),
    "TemplateEditor": lambda w: TemplateEditor(w.workspace, w.user, w),
    "CallPackDialog": lambda w: CallPackDialog(reps_of(w.workspace), w.user, w),
    "IcpEditor": lambda w: IcpEditor(w.workspace, w.user, w),
    "CompareDialog": lambda w: CompareDialog(w.workspace, list_versions(w.workspace), w),
    "ImportHistoryDialog": lambda w: ImportHistoryDialog(w.workspace, w.user, w),
    "PossibleDuplicatesDialog": _possible_duplicates,
    "ImportWizard": lambda w: ImportWizard(w.workspace, w.user, "accounts", w),
    "LeadDefinitionDialog": lambda w: LeadDefinitionDialog(w.workspace, w.user, w),
    "GoalDialog": lambda w: GoalDialog(w.workspace, w.user, w),
    "GoalToAgreementDialog": _goal_to_agreement,
    "BuildDialog": lambda w: BuildDialog(w.workspace, w),
    "RepsDialog": lambda w: RepsDialog(reps_of(w.workspace), w),
    "TerritoryDialog": lambda w: TerritoryDialog(reps_of(w.workspace), w),
    "HistoryDialog": lambda w: HistoryDialog(target_history(w.workspace), w),
    "UsersDialog": lambda w: UsersDialog(w.workspace, w.user, w),
    "ReportDialog": lambda w: ReportDialog(w.workspace, w.user, ReportKind.MEETING, w),
    "BackupsDialog": lambda w: BackupsDialog(sqlite_file(w.workspace.url), w),
    "PlanWindow": lambda w: PlanWindow(w.workspace, w.user, w),
    "RowsWindow": lambda w: RowsWindow(
        Figure("First touch on time", 0.84, rows="Black hole"), BLACK_HOLE, list(BLACK_HOLE.rows), w
    ),
    "QuickLogDialog": lambda w: QuickLogDialog(
        w.workspace, w.user, _first_account(w)[0].id, None, w
    ),
    "WorkOfflineDialog": lambda w: WorkOfflineDialog(w.workspace, w.user, w),
    "ConflictsDialog": lambda w: ConflictsDialog(w.workspace, w.user, "a1b2c3d4e5f6", w),
}


def test_every_window_of_the_app_is_checked_for_a_laptop():
    windows = set()
    for path in (ROOT / "ui").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id in ("QDialog", "QMainWindow", "QWizard")
                for base in node.bases
            ):
                windows.add(node.name)
    assert windows == set(WINDOWS)


def _buttons_out_of_sight(window: QWidget) -> list[str]:
    """The buttons a person cannot see whole (those in a scrolled area scroll into sight)."""

    def scrolled(widget: QWidget) -> bool:
        parent = widget.parentWidget()
        while parent is not None and parent is not window:
            if isinstance(parent, QAbstractScrollArea | QTabBar):
                return True
            parent = parent.parentWidget()
        return False

    return [
        button.text() or button.objectName()
        for button in window.findChildren(QAbstractButton)
        if button.isVisibleTo(window)
        and not scrolled(button)
        and button.visibleRegion().boundingRect() != button.rect()
    ]


def _open(qtbot, demo: Workspace, role: Role, name: str) -> QWidget:  # type: ignore[no-untyped-def]
    main = MainWindow(demo, sign_in(demo, PEOPLE[role]))
    qtbot.addWidget(main)
    window = WINDOWS[name](main)
    qtbot.addWidget(window)
    return window


@pytest.mark.parametrize("name", list(WINDOWS))
@pytest.mark.parametrize("role", list(Role))
def test_each_window_fits_a_laptop_with_its_buttons_in_sight(qtbot, demo, role, name):
    window = _open(qtbot, demo, role, name)
    assert LAPTOP.size().expandedTo(window.minimumSizeHint()) == LAPTOP.size()
    screen = window.screen().availableGeometry().size()
    assert screen.expandedTo(window.size()) == screen  # it first opens within the screen
    window.resize(LAPTOP.size())
    window.show()
    qtbot.waitExposed(window)
    assert window.size() == LAPTOP.size()
    assert _buttons_out_of_sight(window) == []


def test_the_account_window_at_1280x720_shows_save_and_cancel(qtbot, demo):
    """The account window used to need 858 px: Save and Cancel were below the screen."""
    dialog = _open(qtbot, demo, Role.OWNER, "AccountDialog")
    dialog.show()
    qtbot.waitExposed(dialog)
    shot = dialog.grab()
    assert shot.height() <= LAPTOP.height()
    for button in dialog.buttons.buttons():
        place = QRect(button.mapTo(dialog, QPoint(0, 0)), button.size())
        assert shot.rect().contains(place), button.text()


def test_a_dialog_opens_where_and_as_big_as_it_was_closed(qtbot, demo):
    first = _open(qtbot, demo, Role.OWNER, "DossierList")
    first.show()
    first.setGeometry(60, 50, 600, 400)
    first.reject()
    again = _open(qtbot, demo, Role.OWNER, "DossierList")
    again.show()
    assert (again.pos(), again.size().toTuple()) == (first.pos(), (600, 400))
    other = _open(qtbot, demo, Role.OWNER, "UsersDialog")
    assert other.size() != again.size()  # each dialog is remembered on its own


@pytest.mark.parametrize("name", [name for name in WINDOWS if name != "MainWindow"])
def test_a_closed_dialog_is_never_left_to_the_garbage_collector(qtbot, demo, name):
    """PySide gives a dialog back to Python when exec() returns. One that only Python's
    garbage collector could free (the size keeper, the import wizard's pages pointed back at
    it) was deleted wherever the collector next ran, often in a worker's thread: quitting
    while an import ran then crashed. A closed dialog goes at once, or with its window."""
    main = MainWindow(demo, sign_in(demo, PEOPLE[Role.OWNER]))
    qtbot.addWidget(main)
    # the collector runs only between tests (conftest), as on the GUI thread in the app
    dialog = WINDOWS[name](main)
    QTimer.singleShot(0, lambda: QApplication.activeModalWidget().reject())
    dialog.exec()
    closed = weakref.ref(dialog)
    del dialog
    kept = closed() is not None
    gc.collect()
    assert (closed() is not None) == kept


# --- the accounts list ---------------------------------------------------------------------
def _elided_headings(window: MainWindow) -> list[str]:
    """Headings cut short as Qt paints them, with the sort arrow on every sortable column
    (any of them may be the one sorted by)."""
    header = window.table.horizontalHeader()
    font = QFont(header.font())
    font.setBold(True)  # headings of selected rows are bold
    metrics = QFontMetrics(font)
    cut = []
    for column in ListColumn:
        option = QStyleOptionHeader()
        option.initFrom(header)
        option.rect = QRect(0, 0, header.sectionSize(column), header.height())
        option.text = HEADERS[column]
        if column in SORTABLE:
            option.sortIndicator = QStyleOptionHeader.SortIndicator.SortDown
        label = header.style().subElementRect(QStyle.SubElement.SE_HeaderLabel, option, header)
        if metrics.horizontalAdvance(HEADERS[column]) > label.width():
            cut.append(HEADERS[column])
    return cut


@pytest.mark.parametrize("role", list(Role))
def test_at_1280_px_the_list_shows_every_column_and_heading_whole(qtbot, demo, role):
    window = MainWindow(demo, sign_in(demo, PEOPLE[role]))
    qtbot.addWidget(window)
    window.resize(LAPTOP.size())
    window.show()
    qtbot.waitExposed(window)
    window.show_accounts()  # a rep lands on My day: the list is one shortcut away
    qtbot.waitUntil(lambda: not window.table.horizontalScrollBar().isVisible(), timeout=2000)
    header = window.table.horizontalHeader()
    assert header.length() <= window.table.viewport().width()
    assert all(not header.isSectionHidden(c) for c in ListColumn)
    assert _elided_headings(window) == []
    stage = window.table.visualRect(window.model.index(0, ListColumn.STAGE)).width()
    metrics = window.table.fontMetrics()
    widest_stage = max(metrics.horizontalAdvance(s) for s in ("sales-ready", "opportunity"))
    assert stage > widest_stage  # no more "targe…"


def _window(qtbot, demo: Workspace, who: str) -> MainWindow:  # type: ignore[no-untyped-def]
    """The main window on the accounts list (the owner opens on the dashboard)."""
    window = MainWindow(demo, sign_in(demo, who))
    qtbot.addWidget(window)
    window.resize(LAPTOP.size())
    window.show()
    window.show_accounts()
    qtbot.waitExposed(window)
    return window


def test_columns_hidden_moved_and_resized_come_back_for_the_same_user_only(qtbot, demo):
    window = _window(qtbot, demo, "Olivia Owner")
    header = window.table.horizontalHeader()
    menu = window.columns_menu(QPoint(5, 5))
    website = next(a for a in menu.actions() if a.text() == "Website")
    website.trigger()
    menu.close()
    assert header.isSectionHidden(ListColumn.WEBSITE)
    header.moveSection(header.visualIndex(ListColumn.STAGE), 0)
    header.resizeSection(ListColumn.NAME, 333)
    window.close()

    again = _window(qtbot, demo, "Olivia Owner")
    header = again.table.horizontalHeader()
    assert header.isSectionHidden(ListColumn.WEBSITE)
    assert header.logicalIndex(0) == ListColumn.STAGE
    assert header.sectionSize(ListColumn.NAME) == 333

    someone_else = _window(qtbot, demo, "Maya Chen")
    header = someone_else.table.horizontalHeader()
    assert not header.isSectionHidden(ListColumn.WEBSITE)
    assert header.logicalIndex(0) == ListColumn.NAME


def test_the_last_column_shown_cannot_be_hidden_and_columns_fit_again(qtbot, demo):
    window = _window(qtbot, demo, "Olivia Owner")
    header = window.table.horizontalHeader()
    for column in ListColumn:
        if column is not ListColumn.NAME:
            header.hideSection(column)
    menu = window.columns_menu(QPoint(5, 5))
    name = next(a for a in menu.actions() if a.text() == HEADERS[ListColumn.NAME])
    assert not name.isEnabled()
    for action in menu.actions():
        if action.isCheckable() and not action.isChecked():
            action.trigger()
    next(a for a in menu.actions() if a.text() == "Fit columns to the window").trigger()
    menu.close()
    assert header.length() <= window.table.viewport().width()
    assert _elided_headings(window) == []


def test_a_workspace_opened_as_someone_else_shows_their_columns(qtbot, demo, tmp_path):
    window = _window(qtbot, demo, "Olivia Owner")
    window.table.horizontalHeader().hideSection(ListColumn.PHONE)
    other = open_workspace(tmp_path / "other.sqlite")
    owner = sign_in(other, "Olivia Owner")
    window.switch_to(demo, add_user(SqlUserStore(demo), owner, "Rita Rep", Role.REP))
    assert not window.table.horizontalHeader().isSectionHidden(ListColumn.PHONE)
    window.switch_to(demo, sign_in(demo, "Olivia Owner"))
    assert window.table.horizontalHeader().isSectionHidden(ListColumn.PHONE)
    other.close()


# --- what is remembered ----------------------------------------------------------------------
def test_territory_rules_come_back_the_next_time(qtbot, demo):
    main = MainWindow(demo, sign_in(demo, "Olivia Owner"))
    qtbot.addWidget(main)
    dialog = WINDOWS["TerritoryDialog"](main)
    assert isinstance(dialog, TerritoryDialog)
    dialog._row("Germany", "Sam Rivera")
    dialog.accept()
    again = WINDOWS["TerritoryDialog"](main)
    assert isinstance(again, TerritoryDialog)
    assert again.rules() == {"Germany": "Sam Rivera"}


def test_the_command_line_runs_without_qt_and_shares_the_remembered_user(tmp_path):
    db = tmp_path / "cli.sqlite"
    code = (
        "import main, sys; "
        f"assert main.main(['--db', {str(db)!r}, '--user', 'Olivia Owner', 'users', '--add', "
        "'Maya Chen', '--role', 'marketing']) == 0; "
        f"assert main.main(['--db', {str(db)!r}, 'users', '--add', 'Rita Rep']) == 0; "
        "assert 'PySide6' not in sys.modules, 'the command line loaded Qt'"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # Rita was added by the remembered owner, not by someone signed in under the login name.
    assert out.stdout.splitlines()[-3:] == [
        "Maya Chen\tmarketing", "Olivia Owner\towner", "Rita Rep\trep"]  # fmt: skip
    assert settings.remembered_user() == "Olivia Owner"  # and the window finds the name


def test_a_name_remembered_by_an_older_accord_is_still_found():
    QSettings("Accord", "Accord").setValue("user", "Olivia Owner")
    assert settings.remembered_user() == "Olivia Owner"
    QSettings("Accord", "Accord").remove("user")
    from storage.remembered import remembered_user

    assert remembered_user() == "Olivia Owner"


def test_qsettings_are_opened_only_in_ui_settings():
    offenders = [
        str(path.relative_to(ROOT))
        for path in [
            ROOT / "main.py",
            *(ROOT / "ui").glob("*.py"),
            *(ROOT / "storage").glob("*.py"),
        ]
        if "QSettings" in path.read_text(encoding="utf-8") and path.name != "settings.py"
    ]
    assert offenders == []
