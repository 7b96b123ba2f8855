"""The main window: the accounts list with search, and every action on accounts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from domain.accounts import (
    Account,
    changed_fields,
    delete_account,
    restore_account,
    revert_account_edit,
)
from domain.errors import AccordError
from domain.tables import Table
from domain.users import Action, User
from domain.values import counted
from storage.account_list import SORTABLE, Column, Scope
from storage.repositories import SqlUnitOfWork
from storage.workspace import SERVER_URL_FORM, Workspace, data_dir
from ui.accounts_model import HEADERS, AccountIdRole, AccountsModel
from ui.dossier_actions import DossierActions
from ui.settings import remember_workspace
from ui.target_actions import TargetActions
from ui.workers import Task, run_task, show_error, show_warning

SEARCH_DELAY_MS = 250
COLUMN_WIDTHS = (220, 170, 130, 80, 105, 110, 95, 120, 50, 36, 100, 85, 55)


WORKSPACE_FILES = "Accord workspaces (*.sqlite);;All files (*)"


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


class _AlreadyDone(QUndoCommand):
    """A change made before its command is pushed: the push's redo skips it, later redos
    make it again."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.pushed = False

    def redo(self) -> None:
        if self.pushed:
            self.again()
        self.pushed = True

    def again(self) -> None:
        raise NotImplementedError


class DeleteAccount(_AlreadyDone):
    """A delete that Edit › Undo takes back (the account is a tombstone until then)."""

    def __init__(self, window: MainWindow, account_id: Any, name: str) -> None:
        super().__init__(f"delete {name}")
        self.window, self.account_id = window, account_id

    def again(self) -> None:
        self.delete()

    def undo(self) -> None:
        self.restore()

    def delete(self) -> None:
        with SqlUnitOfWork(self.window.workspace) as uow:
            account = uow.accounts.get(self.account_id)
        if account is not None:
            self.window.act(
                lambda: delete_account(
                    SqlUnitOfWork(self.window.workspace), self.window.user, account
                )
            )

    def restore(self) -> None:
        self.window.act(
            lambda: restore_account(
                SqlUnitOfWork(self.window.workspace), self.window.user, self.account_id
            )
        )


class CreateAccount(DeleteAccount):
    """A new account that Edit › Undo deletes again."""

    def __init__(self, window: MainWindow, account_id: Any, name: str) -> None:
        super().__init__(window, account_id, name)
        self.setText(f"create {name}")

    def again(self) -> None:
        self.restore()

    def undo(self) -> None:
        self.delete()


class EditAccount(_AlreadyDone):
    """A saved edit of an account's fields that Edit › Undo takes back."""

    def __init__(self, window: MainWindow, before: Account, after: Account) -> None:
        super().__init__(f"edit {after.name}")
        self.window, self.before, self.after = window, before, after

    def again(self) -> None:
        self._revert(self.after, self.before)

    def undo(self) -> None:
        self._revert(self.before, self.after)

    def _revert(self, edited_from: Account, edited_to: Account) -> None:
        uow = SqlUnitOfWork(self.window.workspace)
        self.window.act(lambda: revert_account_edit(uow, self.window.user, edited_from, edited_to))


class FirstRun(QWidget):
    """What an empty workspace shows: the two ways to begin."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        title = _plain("Welcome to Accord")
        title.setStyleSheet("font-size: 22px; font-weight: 600")
        text = _plain(
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
        self.undo_stack = QUndoStack(self)
        self.model = AccountsModel(workspace, user.id, self)
        self.targets = TargetActions(self)
        self.dossiers = DossierActions(self)

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
        self.count = _plain("")
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
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)
        self.table.doubleClicked.connect(self.open_account)
        self.table.horizontalHeader().sortIndicatorChanged.connect(self._sort_changed)

        top = QHBoxLayout()
        top.addWidget(self.scope)
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        list_page = QWidget()
        list_layout = QVBoxLayout(list_page)
        list_layout.addLayout(top)
        list_layout.addWidget(self.table)
        self.first_run = FirstRun(self)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.first_run)
        self.pages.addWidget(list_page)
        self.setCentralWidget(self.pages)
        self.user_label = _plain("")
        self.statusBar().addPermanentWidget(self.user_label)
        self._menus()
        self._show_workspace()
        geometry = QSettings("Accord", "Accord").value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 780)

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
        self.add_action(file, "Import history and undo…", self.import_history, "Ctrl+H")
        self.add_action(file, "Export accounts…", self.export_accounts, "Ctrl+E", Action.EXPORT)
        file.addSeparator()
        self.add_action(file, "New workspace…", self.new_workspace)
        self.add_action(file, "Open workspace…", self.open_workspace, QKeySequence.StandardKey.Open)
        self.add_action(file, "Connect to a team database…", self.connect_team_database)
        self.add_action(file, "Open demo workspace", self.open_demo)
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
        for number, scope in enumerate(Scope, 1):
            self.add_action(view, scope.value, lambda _=False, s=scope: self.show_scope(s),
                         f"Ctrl+{number}")  # fmt: skip
        plan = bar.addMenu("&Plan")
        self.add_action(plan, "Ideal customer profile…", self.edit_icp, "Ctrl+Shift+P")
        self.add_action(plan, "Lead definition…", self.edit_lead_definition, "Ctrl+Shift+L")
        self.targets.menu(bar.addMenu("&Targets"))
        self.dossiers.menu(bar.addMenu("&Dossiers"))
        settings = bar.addMenu("&Settings")
        self.add_action(settings, "Users and roles…", self.users, None, Action.MANAGE_USERS)

    def _show_workspace(self) -> None:
        who = f"{self.user.name} ({self.user.role})"
        self.setWindowTitle(f"Accord — {who} — {self.workspace.label}")
        self.user_label.setText(f"{who}  ·  {self.workspace.label}")
        for action in self.findChildren(QAction):
            needs = action.data()  # Qt hands the Action back as its text
            if needs:
                action.setEnabled(self.user.can(Action(needs)))
        self.first_run.import_button.setEnabled(self.user.can(Action.IMPORT))
        self._update_count()

    def _update_count(self) -> None:
        total = self.model.rowCount()
        query = self.model.query
        empty = total == 0 and not query.search and query.scope is Scope.ALL
        self.pages.setCurrentIndex(0 if empty else 1)
        self.count.setText(counted(total, "account"))

    def show_scope(self, scope: Scope) -> None:
        self.scope.setCurrentIndex(list(Scope).index(scope))

    def _scope_changed(self) -> None:
        self.model.set_scope(self.scope.currentData())
        self._update_count()

    # --- list ------------------------------------------------------------------------------
    def _search(self) -> None:
        self.model.set_search(self.search.text())
        self._update_count()

    def _sort_changed(self, column: int, _order: Qt.SortOrder) -> None:
        if Column(column) in SORTABLE:
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
        names = ", ".join(HEADERS[c] for c in Column if c in SORTABLE)
        self.statusBar().showMessage(f"The list sorts by {names}.", 6000)

    def refresh(self) -> None:
        """Read the list again, keeping the selected rows selected (by position)."""
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
        index = self.table.currentIndex()
        return index.data(AccountIdRole) if index.isValid() else None

    def selected_ids(self) -> list[Any]:
        """The accounts of the selected rows (the current one when nothing is selected)."""
        rows = self.table.selectionModel().selectedRows()
        ids = [r.data(AccountIdRole) for r in rows] or [self._current_id()]
        return [i for i in ids if i is not None]

    # --- plan ------------------------------------------------------------------------------
    def edit_icp(self) -> None:
        from ui.icp_editor import IcpEditor

        IcpEditor(self.workspace, self.user, self).exec()
        self.refresh()

    def edit_lead_definition(self) -> None:
        from ui.lead_dialog import LeadDefinitionDialog

        LeadDefinitionDialog(self.workspace, self.user, self).exec()
        self.refresh()

    # --- accounts ----------------------------------------------------------------------------
    def open_account(self, index: QModelIndex | None = None) -> None:
        from ui.account_dialog import AccountDialog

        account_id = self._current_id()
        if account_id is None:
            return
        with SqlUnitOfWork(self.workspace) as uow:
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
        with SqlUnitOfWork(self.workspace) as uow:
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
        from storage.export import account_table

        workspace, user, query = self.workspace, self.user, self.model.query
        return self.export_table(path, lambda: account_table(workspace, user, query), "account")

    def export_table(self, path: Path, table: Callable[[], Table], noun: str) -> Task | None:
        """Write ``table()`` to ``path`` off the GUI thread; a place that cannot take the
        file is said before any work, a text cut to fit a spreadsheet cell after it."""
        from reports.output import check_output
        from reports.tabular import Written, write_table

        try:
            check_output(path)
        except AccordError as error:
            show_error(self, "Export", error)
            return None

        def done(written: Written) -> None:
            self.statusBar().showMessage(f"Exported {counted(written.rows, noun)} to {path}", 8000)
            if written.warning:
                show_warning(self, "Export", written.warning)

        self.task = run_task(
            self,
            f"Exporting to {path.name}",
            lambda progress, cancel: write_table(table(), path, progress=progress, cancel=cancel),
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

    def open_workspace_at(self, db: str) -> Task:
        """Open (or make) the workspace at ``db`` off the GUI thread (a server may be slow
        to answer, an old file is upgraded first) and work on in it as the same person."""
        from storage.users import sign_in
        from storage.workspace import open_workspace

        def opened(workspace: Workspace) -> tuple[Workspace, User]:
            try:
                return workspace, sign_in(workspace, self.user.name)
            except BaseException:
                workspace.close()
                raise

        self.task = run_task(
            self, "Opening the workspace",
            lambda _progress, _cancel: opened(open_workspace(db)),
            lambda result: self.switch_to(*result),
        )  # fmt: skip
        return self.task

    def open_demo(self) -> None:
        from ui.app import open_demo_workspace

        open_demo_workspace(self, self.user.name, self.switch_to)

    def switch_to(self, workspace: Workspace, user: User) -> None:
        remember_workspace(workspace.url)
        old = self.workspace
        self.workspace, self.user = workspace, user
        self.undo_stack.clear()
        self.model = AccountsModel(workspace, user.id, self)
        self.table.setModel(self.model)
        self.scope.setCurrentIndex(0)
        self.search.clear()
        self._show_workspace()
        if old is not workspace:
            old.close()

    def closeEvent(self, event: Any) -> None:
        QSettings("Accord", "Accord").setValue("geometry", self.saveGeometry())
        super().closeEvent(event)
