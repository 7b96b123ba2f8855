"""The main window: the accounts list with search, and every action on accounts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from domain.accounts import changed_fields, delete_account
from domain.errors import AccordError, WorkspaceDamaged
from domain.tables import TableData
from domain.targets import Stage
from domain.users import Action, Role, User, export
from domain.values import counted
from storage.read_models.account_list import SORTABLE, ListColumn, Scope
from storage.repositories import SqlUnitOfWork
from storage.workspace import SERVER_URL_FORM, Workspace, data_dir, sqlite_file
from ui.accounts_model import HEADERS, AccountIdRole, AccountsModel
from ui.backups import BackupKeeper, BackupsDialog, Damage, ask_about_damage
from ui.call_queue import CallQueueView
from ui.dashboard import Dashboard
from ui.dossier_actions import DossierActions
from ui.field_actions import FieldActions
from ui.messages import plain_label, plain_tooltip
from ui.quick_log import LOG_SHORTCUT, open_quick_log
from ui.report_actions import ReportActions
from ui.settings import (
    keep_geometry,
    remember_columns,
    remember_view,
    remember_workspace,
    remembered_view,
    restore_columns,
)
from ui.sync_actions import SyncActions, described, last_synced
from ui.target_actions import TargetActions
from ui.undo_commands import CreateAccount, DeleteAccount, EditAccount
from ui.workers import Task, end_work, run_task, show_error, show_warning
from ui.workspaces import WORKSPACE_FILES, open_demo_workspace

SEARCH_DELAY_MS = 250
#: The views the window remembers per user: the call queue, the accounts list, the dashboard.
MY_DAY, ACCOUNTS, DASHBOARD = "my day", "accounts", "dashboard"
#: Columns of free text, which give up width first when the list is narrower than its
#: content; the others hold short values that are read whole (a stage, a time, a phone).
FREE_TEXT = (ListColumn.NAME, ListColumn.WEBSITE, ListColumn.INDUSTRY, ListColumn.COUNTRY,
             ListColumn.CITY, ListColumn.OWNER)  # fmt: skip
#: Rows measured for the columns' first widths: one page of the list.
MEASURED_ROWS = 200


class FirstRun(QWidget):
    """What an empty workspace shows: the two ways to begin."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        title = plain_label("Welcome to Accord")
        title.setStyleSheet("font-size: 22px; font-weight: 600")
        text = plain_label(
            "This workspace has no accounts yet. Bring in your company list, "
            "or look around a demo workspace first."
        )
        text.setWordWrap(True)
        self.import_button = QPushButton("Import accounts…")
        self.demo_button = QPushButton("Open demo workspace")
        for button in (self.import_button, self.demo_button):
            button.setMinimumSize(220, 48)
        self.import_button.clicked.connect(window.import_accounts)
        self.demo_button.clicked.connect(window.open_demo)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.demo_button)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addStretch()
        # Centred text rather than a centred label: a word-wrapped label placed with an
        # alignment gets too little height for its lines and cuts them off.
        for label in (title, text):
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            layout.addWidget(label)
        layout.addSpacing(16)
        layout.addLayout(buttons)
        layout.addStretch()


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, user: User) -> None:
        super().__init__()
        self.workspace, self.user = workspace, user
        self.task: Task | None = None
        self.keeper: BackupKeeper | None = None
        self.undo_stack = QUndoStack(self)
        self.model = AccountsModel(workspace, user.id, self)
        self.targets = TargetActions(self)
        self.field = FieldActions(self)
        self.dossiers = DossierActions(self)
        self.reports = ReportActions(self)
        self.sync = SyncActions(self)
        self.sync.changed.connect(self._show_sync)

        self.scope = QComboBox()
        self.scope.setObjectName("scope")
        for scope in Scope:
            self.scope.addItem(scope.value, scope)
        self.scope.currentIndexChanged.connect(self._scope_changed)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(
            "Search name, website, industry, place, phone, tags  (Ctrl+F)"
        )
        self.search.setClearButtonEnabled(True)
        self.search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self.search.textChanged.connect(self.search_timer.start)
        self.search_timer.timeout.connect(self._search)
        self.count = plain_label("")
        self.count.setObjectName("count")

        self.table = QTableView()
        self.table.setObjectName("accounts")
        self.table.setModel(self.model)
        # The indicator first: enabling sorting sorts by it, which is the order already read.
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionsMovable(True)
        header.setResizeContentsPrecision(MEASURED_ROWS)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self.columns_menu)
        self.table.doubleClicked.connect(self.open_account)
        header.sortIndicatorChanged.connect(self._sort_changed)
        self.first_columns = header.saveState()  # for a user who has not changed them yet

        top = QHBoxLayout()
        top.addWidget(self.scope)
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        self.list_page = list_page = QWidget()
        list_layout = QVBoxLayout(list_page)
        list_layout.addLayout(top)
        list_layout.addWidget(self.table)
        self.first_run = FirstRun(self)
        self.my_day = CallQueueView(workspace, user)
        self.my_day.open_requested.connect(self.open_account_id)
        self.dashboard = Dashboard(workspace, user)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.first_run)
        self.pages.addWidget(list_page)
        self.pages.addWidget(self.my_day)
        self.pages.addWidget(self.dashboard)
        self.setCentralWidget(self.pages)
        self.user_label = plain_label("")
        self.statusBar().addPermanentWidget(self.user_label)
        self._menus()
        self.addToolBar(self.sync.toolbar)
        self._restore_columns()
        self._show_workspace()
        self._land()
        self._keep_backed_up()
        keep_geometry(self, QSize(1440, 900))

    # --- building -------------------------------------------------------------------------
    def add_action(
        self, menu: Any, text: str, slot: Any, shortcut: Any = None, needs: Action | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        action.setData(needs)
        menu.addAction(action)
        return action

    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.add_action(file, "Import accounts…", self.import_accounts, "Ctrl+I", Action.IMPORT)
        self.add_action(
            file, "Import contacts…", self.import_contacts, "Ctrl+Shift+I", Action.IMPORT
        )
        self.add_action(file, "Import engagement…", self.import_engagement, needs=Action.IMPORT)
        self.add_action(file, "Import history and undo…", self.import_history, "Ctrl+H")
        self.add_action(file, "Export accounts…", self.export_accounts, "Ctrl+E", Action.EXPORT)
        file.addSeparator()
        self.add_action(file, "New workspace…", self.new_workspace)
        self.add_action(file, "Open workspace…", self.open_workspace, QKeySequence.StandardKey.Open)
        self.add_action(file, "Connect to a team database…", self.connect_team_database)
        file.addSeparator()
        self.sync.menu(file)
        file.addSeparator()
        self.add_action(file, "Open demo workspace", self.open_demo)
        self.restore_action = self.add_action(file, "Restore a backup…", self.restore_backup)
        file.addSeparator()
        self.add_action(file, "Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addAction(undo)
        edit.addAction(redo)
        edit.addSeparator()
        self.add_action(edit, "New account…", self.new_account, "Ctrl+N", Action.EDIT_ACCOUNTS)
        self.add_action(edit, "Open account", self.open_account, "Return")
        self.add_action(edit, "Log interaction…", self.log_interaction, LOG_SHORTCUT,
                        Action.LOG_INTERACTION)  # fmt: skip
        self.add_action(
            edit,
            "Delete account",
            self.delete_account,
            QKeySequence.StandardKey.Delete,
            Action.EDIT_ACCOUNTS,
        )
        edit.addSeparator()
        self.add_action(edit, "Find", self.search.setFocus, QKeySequence.StandardKey.Find)
        self.add_action(edit, "Refresh", self.refresh, QKeySequence.StandardKey.Refresh)
        view = bar.addMenu("&View")
        self.add_action(view, "My day", self.show_my_day, "Ctrl+0")
        self.add_action(view, "Dashboard", self.show_dashboard, "Ctrl+9")
        for number, scope in enumerate(Scope, 1):
            self.add_action(view, scope.value, lambda _=False, s=scope: self.show_scope(s),
                         f"Ctrl+{number}")  # fmt: skip
        view.addSeparator()
        self.add_action(view, "Field feedback…", self.field_feedback, "Ctrl+Shift+R")
        plan = bar.addMenu("&Plan")
        self.add_action(plan, "The plan…", self.show_plan)
        plan.addSeparator()
        self.add_action(plan, "Ideal customer profile…", self.edit_icp, "Ctrl+Shift+P")
        self.add_action(plan, "Lead definition…", self.edit_lead_definition, "Ctrl+Shift+L")
        self.add_action(plan, "Goal…", self.edit_goal)
        self.add_action(plan, "Closed loop…", self.closed_loop, "Ctrl+Shift+C")
        self.add_action(plan, "Service agreement…", self.edit_agreement, "Ctrl+Shift+A")
        self.add_action(plan, "Workspace calendar…", self.edit_calendar)
        self.add_action(plan, "Breaches…", self.show_breaches, "Ctrl+Shift+U")
        targets = bar.addMenu("&Targets")
        self.targets.menu(targets)
        targets.addSeparator()
        self.field.menu(targets)
        self.dossiers.menu(bar.addMenu("&Dossiers"))
        self.reports.menu(bar.addMenu("&Reports"))
        settings = bar.addMenu("&Settings")
        self.add_action(settings, "Users and roles…", self.users, None, Action.MANAGE_USERS)

    def _show_workspace(self) -> None:
        for action in self.findChildren(QAction):
            needs = action.data()  # Qt hands the Action back as its text
            if needs:
                action.setEnabled(self.user.can(Action(needs)))
        self.first_run.import_button.setEnabled(self.user.can(Action.IMPORT))
        self.restore_action.setEnabled(self.workspace.is_sqlite)
        self.sync.read_status()  # says which workspace this is (_show_sync)
        self._update_count()

    def _show_sync(self) -> None:
        """Who works on which workspace: the team's, a copy of it for whom, and when it last
        synced, in the title and the status bar."""
        who = f"{self.user.name} ({self.user.role})"
        status = self.sync.status
        which = [part for part in (described(status), self.workspace.label) if part]
        self.setWindowTitle(" — ".join(("Accord", who, *which)))
        synced = last_synced(status)
        self.user_label.setText("  ·  ".join(
            (who, f"{which[0]}, {synced}" if synced else which[0], *which[1:])))  # fmt: skip
        self.user_label.setToolTip(
            plain_tooltip(f"Copied from {status.source}") if status and status.source else ""
        )

    def _empty(self) -> bool:
        """The workspace has no accounts yet (the list, unfiltered, has none)."""
        query = self.model.query
        return self.model.rowCount() == 0 and not query.search and query.scope is Scope.ALL

    def _update_count(self) -> None:
        total = self.model.rowCount()
        if self.pages.currentWidget() in (self.first_run, self.list_page):
            self.pages.setCurrentIndex(0 if self._empty() else 1)
        self._fit_columns_if_unfitted()
        self.count.setText(counted(total, "account"))

    def show_scope(self, scope: Scope) -> None:
        """The accounts list, in ``scope``."""
        self.scope.setCurrentIndex(list(Scope).index(scope))
        self.show_accounts()

    def showing_my_day(self) -> bool:
        return self.pages.currentWidget() is self.my_day

    def show_my_day(self) -> None:
        self.pages.setCurrentWidget(self.my_day)
        self.my_day.refresh()
        self.my_day.table.setFocus()
        remember_view(self.user.name, MY_DAY)

    def showing_dashboard(self) -> bool:
        return self.pages.currentWidget() is self.dashboard

    def show_dashboard(self) -> None:
        self.pages.setCurrentWidget(self.dashboard)
        self.dashboard.refresh()
        remember_view(self.user.name, DASHBOARD)

    def show_accounts(self) -> None:
        self.pages.setCurrentIndex(1)
        self._update_count()
        self.table.setFocus()
        remember_view(self.user.name, ACCOUNTS)

    def _land(self) -> None:
        """Open on the view this user had last; the first time, a rep on My day and the
        owner and marketing on their dashboard (an empty workspace on how to begin)."""
        first = MY_DAY if self.user.role is Role.REP else DASHBOARD
        view = remembered_view(self.user.name) or first
        if view == MY_DAY:
            self.show_my_day()
        elif view == DASHBOARD and not self._empty():
            self.show_dashboard()
        elif self.pages.currentWidget() not in (self.first_run, self.list_page):
            self.show_accounts()

    def _scope_changed(self) -> None:
        self.model.set_scope(self.scope.currentData())
        self._update_count()

    # --- list ------------------------------------------------------------------------------
    def _search(self) -> None:
        self.model.set_search(self.search.text())
        self._update_count()

    def _sort_changed(self, column: int, _order: Qt.SortOrder) -> None:
        if ListColumn(column) in SORTABLE:
            return
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        current = (
            Qt.SortOrder.DescendingOrder
            if self.model.query.descending
            else (Qt.SortOrder.AscendingOrder)
        )
        header.setSortIndicator(self.model.query.sort, current)
        header.blockSignals(False)
        names = ", ".join(HEADERS[c] for c in ListColumn if c in SORTABLE)
        self.statusBar().showMessage(f"The list sorts by {names}.", 6000)

    def _restore_columns(self) -> None:
        """The columns as this user left them (and the list in their order), else fitted
        to the list once it shows."""
        header = self.table.horizontalHeader()
        self.columns_unfitted = not restore_columns(header, self.user.name)
        if self.columns_unfitted:
            header.restoreState(self.first_columns)
            self._fit_columns_if_unfitted()
        else:
            self.table.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def _fit_columns_if_unfitted(self) -> None:
        if self.columns_unfitted and self.table.isVisible():
            self.fit_columns()

    def fit_columns(self) -> None:
        """Give each shown column the width of its heading and of what it shows; when that
        is wider than the list, cut the longest free-text columns to a common width (the
        account's name to twice that) so that every column stays in sight."""
        self.columns_unfitted = False
        header = self.table.horizontalHeader()
        metric = header.style().pixelMetric
        # The sort arrow needs room only on the columns the list sorts by.
        arrow = metric(QStyle.PixelMetric.PM_HeaderMarkSize) + 2 * metric(
            QStyle.PixelMetric.PM_HeaderMargin
        )
        heading = {
            c: header.sectionSizeHint(c) - (0 if c in SORTABLE else arrow) for c in ListColumn
        }
        content = {c: self.table.sizeHintForColumn(c) for c in ListColumn}
        # Every stage, not only those of the rows measured (Qt's item margins and grid line).
        item_margin = 2 * (metric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1) + 1
        widest_stage = max(self.table.fontMetrics().horizontalAdvance(s) for s in Stage)
        content[ListColumn.STAGE] = max(content[ListColumn.STAGE], widest_stage + item_margin)
        widths = {
            c: max(heading[c], content[c]) for c in ListColumn if not header.isSectionHidden(c)
        }
        free = [c for c in FREE_TEXT if c in widths]
        room = self.table.viewport().width() - sum(w for c, w in widths.items() if c not in free)

        def capped(level: int) -> dict[ListColumn, int]:
            """The free-text columns cut to ``level`` (the account's name to twice that),
            never narrower than their heading."""
            cap = {c: level * (2 if c is ListColumn.NAME else 1) for c in free}
            return {c: max(heading[c], min(widths[c], cap[c])) for c in free}

        low, high = 0, max(widths.values(), default=0)
        while low < high:  # the highest level at which the free-text columns fit the room
            level = (low + high + 1) // 2
            low, high = (level, high) if sum(capped(level).values()) <= room else (low, level - 1)
        widths.update(capped(low))
        for column, width in widths.items():
            header.resizeSection(column, width)

    def columns_menu(self, where: QPoint) -> QMenu:
        """The heading's menu: which columns show, and their first widths back."""
        header = self.table.horizontalHeader()
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        shown = [c for c in ListColumn if not header.isSectionHidden(c)]
        for column in sorted(ListColumn, key=header.visualIndex):
            action = menu.addAction(HEADERS[column])
            action.setCheckable(True)
            action.setChecked(column in shown)
            action.setEnabled(shown != [column])  # the last column shown stays
            action.toggled.connect(lambda on, c=column: header.setSectionHidden(c, not on))
        menu.addSeparator()
        menu.addAction("Fit columns to the window", self.fit_columns)
        menu.popup(header.mapToGlobal(where))
        return menu

    def refresh(self) -> None:
        """Read the list again, keeping the selected rows selected (by position), and My day
        when it shows."""
        if self.showing_my_day():
            self.my_day.refresh()
        if self.showing_dashboard():
            self.dashboard.refresh()
        rows = [i.row() for i in self.table.selectionModel().selectedRows()]
        current = self.table.currentIndex().row()
        self.model.refresh()
        self._update_count()
        selection = self.table.selectionModel()
        for row in rows:
            if row < self.model.rowCount():
                selection.select(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        if 0 <= current < self.model.rowCount():
            selection.setCurrentIndex(
                self.model.index(current, 0), QItemSelectionModel.SelectionFlag.NoUpdate
            )

    def act(self, change: Any) -> bool:
        """Run one user action; show its error, refresh the list either way."""
        try:
            change()
        except AccordError as error:
            show_error(self, "Not done", error)
            return False
        finally:
            self.refresh()
        return True

    def _current_id(self) -> Any:
        """The account of the current line: of My day when it shows, else of the list."""
        if self.showing_my_day():
            return self.my_day.current_account_id()
        index = self.table.currentIndex()
        return index.data(AccountIdRole) if index.isValid() else None

    def selected_ids(self) -> list[Any]:
        """The accounts of the selected rows (the current one when nothing is selected)."""
        rows = self.table.selectionModel().selectedRows()
        ids = [r.data(AccountIdRole) for r in rows] or [self._current_id()]
        return [i for i in ids if i is not None]

    # --- plan ------------------------------------------------------------------------------
    def show_plan(self) -> None:
        from ui.plan_window import PlanWindow

        PlanWindow(self.workspace, self.user, self).exec()
        self.refresh()

    def edit_icp(self) -> None:
        from ui.icp_editor import IcpEditor

        IcpEditor(self.workspace, self.user, self).exec()
        self.refresh()

    def edit_lead_definition(self) -> None:
        from ui.lead_dialog import LeadDefinitionDialog

        LeadDefinitionDialog(self.workspace, self.user, self).exec()
        self.refresh()

    def edit_goal(self) -> None:
        from ui.goal_dialog import GoalDialog

        GoalDialog(self.workspace, self.user, self).exec()

    def closed_loop(self) -> None:
        from ui.closed_loop import ClosedLoopWindow

        ClosedLoopWindow(self.workspace, self.user, self).exec()

    def edit_agreement(self) -> None:
        from ui.agreement_dialog import AgreementDialog

        AgreementDialog(self.workspace, self.user, self).exec()
        self.refresh()  # the queue's deadlines follow the agreement

    def edit_calendar(self) -> None:
        from ui.agreement_dialog import CalendarDialog

        CalendarDialog(self.workspace, self.user, self).exec()
        self.refresh()

    def show_breaches(self) -> None:
        from ui.breaches import BreachesDialog

        BreachesDialog(self.workspace, self.user, self).exec()

    def field_feedback(self) -> None:
        from ui.field_feedback import FieldFeedback

        FieldFeedback(self.workspace, self.user, self).exec()
        self.refresh()

    # --- accounts ----------------------------------------------------------------------------
    def open_account(self, index: QModelIndex | None = None) -> None:
        self.open_account_id(self._current_id())

    def open_account_id(self, account_id: Any) -> None:
        from ui.account_dialog import AccountDialog

        if account_id is None:
            return
        with SqlUnitOfWork.reading(self.workspace) as uow:
            account = uow.accounts.get(account_id)
        if account is None:
            show_error(self, "Not found", AccordError("This account was deleted meanwhile."))
            return
        dialog = AccountDialog(self.workspace, self.user, account, self)
        if dialog.exec():
            self.refresh()
            before, after = dialog.saved_from, dialog.account
            if before is not None and after is not None and changed_fields(before, after):
                self.undo_stack.push(EditAccount(self, before, after))

    def log_interaction(self) -> None:
        """The quick log for the current account (Ctrl+L)."""
        account_id = self._current_id()
        if account_id is None:
            self.statusBar().showMessage("Choose the account to log against first.", 6000)
        elif open_quick_log(self, self.workspace, self.user, account_id):
            self.statusBar().showMessage("Logged; the account's timeline shows it.", 6000)
            self.refresh()

    def new_account(self) -> None:
        from ui.account_dialog import AccountDialog

        dialog = AccountDialog(self.workspace, self.user, None, self)
        if dialog.exec() and dialog.account is not None:
            self.refresh()
            self.undo_stack.push(CreateAccount(self, dialog.account.id, dialog.account.name))

    def delete_account(self) -> None:
        account_id = self._current_id()
        if account_id is None:
            return
        with SqlUnitOfWork.reading(self.workspace) as uow:
            account = uow.accounts.get(account_id)
        if account is None:
            return
        if self.act(lambda: delete_account(SqlUnitOfWork(self.workspace), self.user, account)):
            self.undo_stack.push(DeleteAccount(self, account.id, account.name))
            self.statusBar().showMessage(f"Deleted {account.name} — Ctrl+Z brings it back", 8000)

    # --- files ---------------------------------------------------------------------------------
    def import_accounts(self) -> None:
        self._import("accounts")

    def import_contacts(self) -> None:
        self._import("contacts")

    def import_engagement(self) -> None:
        self._import("engagement")

    def _import(self, kind: str) -> None:
        from ui.import_wizard import ImportWizard

        ImportWizard(self.workspace, self.user, kind, self).exec()
        self.refresh()

    def import_history(self) -> None:
        from ui.import_history import ImportHistoryDialog

        ImportHistoryDialog(self.workspace, self.user, self).exec()
        self.refresh()

    def export_accounts(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export accounts", "accounts.xlsx", "Excel (*.xlsx);;CSV (*.csv)"
        )
        if name:
            self.export_to(Path(name))

    def export_to(self, path: Path) -> Task | None:
        from storage.read_models.export import account_table

        workspace, query = self.workspace, self.model.query
        return self.export_table(path, lambda: account_table(workspace, query), "account")

    def export_table(self, path: Path, table: Callable[[], TableData], noun: str) -> Task | None:
        """Write ``table()`` to ``path`` off the GUI thread; a place that cannot take the
        file is said before any work, a text cut to fit a spreadsheet cell after it."""
        from reports.output import check_output
        from reports.tabular import Written, write_table

        try:
            check_output(path)
        except AccordError as error:
            show_error(self, "Export", error)
            return None

        user = self.user

        def done(written: Written) -> None:
            self.statusBar().showMessage(f"Exported {counted(written.rows, noun)} to {path}", 8000)
            if written.warning:
                show_warning(self, "Export", written.warning)

        self.task = run_task(
            self,
            f"Exporting to {path.name}",
            lambda progress, cancel: write_table(
                export(user, table), path, progress=progress, cancel=cancel
            ),
            done,
        )
        return self.task

    def users(self) -> None:
        from ui.users_dialog import UsersDialog

        UsersDialog(self.workspace, self.user, self).exec()

    # --- workspaces --------------------------------------------------------------------------
    def new_workspace(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "New workspace", str(data_dir() / "new-workspace.sqlite"), WORKSPACE_FILES
        )
        if not name:
            return
        if Path(name).exists():
            show_error(self, "New workspace", AccordError(
                f"{name} already exists: File › Open workspace… opens it."))  # fmt: skip
            return
        self.open_workspace_at(name)

    def open_workspace(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "Open workspace", str(data_dir()), WORKSPACE_FILES
        )
        if name:
            self.open_workspace_at(name)

    def connect_team_database(self) -> None:
        ask = QInputDialog(self)
        ask.setWindowTitle("Connect to a team database")
        ask.setLabelText("The team's PostgreSQL database (ask whoever set it up):")
        ask.setTextValue(self.workspace.label if not self.workspace.is_sqlite else SERVER_URL_FORM)
        ask.resize(560, ask.sizeHint().height())  # wide enough to read a whole address
        if ask.exec() and ask.textValue().strip():
            self.open_workspace_at(ask.textValue().strip())

    def open_workspace_at(
        self,
        db: str,
        first: Callable[[], object] | None = None,
        title: str = "Opening the workspace",
    ) -> Task:
        """Open (or make) the workspace at ``db`` off the GUI thread (a server may be slow
        to answer, an old file is upgraded first) and work on in it as the same person;
        ``first`` runs in that thread before (a restore). A damaged workspace is offered
        its newest good backup."""
        from storage.users import sign_in
        from storage.workspace import open_workspace

        def opened(_progress: Any, _cancel: Any) -> tuple[Workspace, User]:
            if first is not None:
                first()
            workspace = open_workspace(db)
            try:
                return workspace, sign_in(workspace, self.user.name)
            except BaseException:
                workspace.close()
                raise

        self.task = Task(self, title, opened)
        self.task.done.connect(lambda result: self.switch_to(*result))
        self.task.error.connect(lambda error: self._not_opened(title, error))
        return self.task.start()

    def _not_opened(self, title: str, error: BaseException) -> None:
        if isinstance(error, WorkspaceDamaged):
            self.damaged(error)
        else:
            show_error(self, title, error)

    # --- backups -----------------------------------------------------------------------------
    def _keep_backed_up(self) -> None:
        """Back the workspace file up once a day while the window is open (not a server)."""
        if self.keeper is not None:
            self.keeper.stop()
            self.keeper.deleteLater()
            self.keeper = None
        path = sqlite_file(self.workspace.url)
        if path is None:
            return
        self.keeper = BackupKeeper(path, self)
        self.keeper.made.connect(
            lambda backup: self.statusBar().showMessage(f"Backed up to {backup.path}", 10_000)
        )
        self.keeper.failed.connect(self._backup_failed)
        self.keeper.damaged.connect(self.damaged)

    def _backup_failed(self, error: BaseException) -> None:
        self.statusBar().showMessage(
            f"The daily backup could not be made ({error}); Accord tries again in an hour."
        )

    def restore_backup(self) -> None:
        path = sqlite_file(self.workspace.url)
        if path is None:
            return
        dialog = BackupsDialog(path, self)
        if dialog.exec() and dialog.chosen is not None:
            self.restore_from(path, dialog.chosen)

    def restore_from(self, workspace: Path, backup: Path) -> Task:
        """Put ``backup`` in the place of the workspace file and open it; the workspace is
        closed first (nothing may write to it meanwhile), and opened again if that fails."""
        from storage.backups import restore

        current = sqlite_file(self.workspace.url) == workspace
        if current:
            if self.keeper is not None:
                self.keeper.stop()
            self.table.setModel(None)  # nothing reads the file while it is replaced
            self.dashboard.stop()
            self.workspace.close()
        task = self.open_workspace_at(
            str(workspace), lambda: restore(workspace, backup), "Restoring a backup"
        )
        if current:
            task.error.connect(lambda _error: self.open_workspace_at(str(workspace)))
        return task

    def damaged(self, error: WorkspaceDamaged) -> None:
        """Offer the newest good backup of a damaged workspace, or another workspace."""
        choice = ask_about_damage(self, error, "Close")
        if choice is Damage.RESTORE and error.backup is not None:
            self.restore_from(Path(error.workspace), Path(error.backup))
        elif choice is Damage.OPEN_ANOTHER:
            self.open_workspace()

    def open_demo(self) -> None:
        open_demo_workspace(self, self.user.name, self.switch_to)

    def switch_to(self, workspace: Workspace, user: User) -> None:
        remember_workspace(workspace.url)
        remember_columns(self.table.horizontalHeader(), self.user.name)
        old = self.workspace
        self.dashboard.stop()  # its reads are of the workspace that closes
        self.sync.stop()
        self.workspace, self.user = workspace, user
        self.undo_stack.clear()
        self.model = AccountsModel(workspace, user.id, self)
        self.table.setModel(self.model)
        self.scope.setCurrentIndex(0)
        self.search.clear()
        self._restore_columns()
        self._show_workspace()
        self.my_day.set_workspace(workspace, user)
        self.dashboard.set_workspace(workspace, user)
        self._land()
        if old is not workspace:
            self._keep_backed_up()
            old.close()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._fit_columns_if_unfitted()
        if self.showing_my_day():
            self.my_day.table.setFocus()

    def closeEvent(self, event: Any) -> None:
        remember_columns(self.table.horizontalHeader(), self.user.name)
        self.dashboard.stop()
        self.sync.stop()
        end_work()  # closed, the window is deleted: nothing it started may outlive it
        if self.keeper is not None:
            self.keeper.stop()
        super().closeEvent(event)
