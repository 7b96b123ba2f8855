"""The dossier list: every dossier with its status, completeness, the reps' rating and the
owning rep; filtered, and searched across all dossier text. Rows are fetched a page at a
time; double-click (or Enter) opens a dossier."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from domain.dossiers import DossierStatus
from domain.users import Role, User
from domain.values import counted, shown_time
from storage.dossiers import DossierFilter, DossierLine, count_dossiers, dossier_lines
from storage.targets import SqlTargetStore
from storage.workspace import Workspace
from ui.dossier_editor import open_dossier
from ui.messages import plain_label
from ui.settings import keep_geometry

PAGE = 200
HEADERS = ["Account", "Tier", "Owner", "Status", "Complete", "Rating", "Author", "Changed"]
Index = QModelIndex | QPersistentModelIndex


class DossierModel(QAbstractTableModel):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.chosen = DossierFilter()
        self.lines: list[DossierLine] = []
        self.total = 0

    def show(self, chosen: DossierFilter) -> None:
        self.beginResetModel()
        self.chosen = chosen
        self.total = count_dossiers(self.workspace, chosen)
        self.lines = dossier_lines(self.workspace, chosen, 0, PAGE)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and len(self.lines) < self.total

    def fetchMore(self, parent: Index) -> None:
        more = dossier_lines(self.workspace, self.chosen, len(self.lines), PAGE)
        if more:
            self.beginInsertRows(QModelIndex(), len(self.lines), len(self.lines) + len(more) - 1)
            self.lines += more
            self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        line = self.lines[index.row()]
        if role == Qt.ItemDataRole.UserRole:
            return line.account_id
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        rating = f"{line.rating:.1f} ({line.ratings})" if line.rating is not None else "—"
        return [
            line.account, line.tier or "", line.owner or "", line.status.value,
            f"{line.completeness}%", rating, line.author, shown_time(line.updated_at),
        ][index.column()]  # fmt: skip


class DossierList(QDialog):
    """Marketing sees how its dossiers are doing; anyone can search them."""

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Dossiers")
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search all dossier text")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        self.status.addItem("Any status", None)
        for status in DossierStatus:
            self.status.addItem(status.value, status)
        self.complete = QSpinBox()
        self.complete.setRange(0, 100)
        self.complete.setSingleStep(25)
        self.complete.setPrefix("at least ")
        self.complete.setSuffix("% complete")
        self.rating = QComboBox()
        self.rating.addItem("Any rating", 0)
        for n in range(1, 6):
            self.rating.addItem(f"rated {n}+", n)
        self.owner = QComboBox()
        self.owner.addItem("Any owner", None)
        for rep in sorted(SqlTargetStore(workspace).users_by_name().values(), key=lambda u: u.name):
            if rep.role is Role.REP:
                self.owner.addItem(rep.name, rep.id)
        self.count = plain_label()
        self.model = DossierModel(workspace, self)
        self.table = QTableView()
        self.table.setObjectName("dossiers")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        for column, width in enumerate([260, 40, 120, 80, 80, 80, 120]):
            self.table.setColumnWidth(column, width)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.doubleClicked.connect(self.open_current)
        self.timer = QTimer(self, singleShot=True, interval=250)
        self.timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(self.timer.start)
        for combo in (self.status, self.rating, self.owner):
            combo.currentIndexChanged.connect(self.refresh)
        self.complete.valueChanged.connect(self.refresh)

        filters = QHBoxLayout()
        for widget in (self.search, self.status, self.complete, self.rating, self.owner):
            filters.addWidget(widget, 2 if widget is self.search else 0)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        keep_geometry(self, QSize(1050, 600))
        self.refresh()

    def chosen(self) -> DossierFilter:
        status = self.status.currentData()  # Qt hands a StrEnum back as its text
        return DossierFilter(
            search=self.search.text(),
            status=DossierStatus(status) if status else None,
            min_completeness=self.complete.value(),
            min_rating=self.rating.currentData(),
            owner_id=self.owner.currentData(),
        )

    def refresh(self) -> None:
        self.model.show(self.chosen())
        self.count.setText(counted(self.model.total, "dossier"))

    def keyPressEvent(self, event: Any) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.table.hasFocus():
            self.open_current()
            return
        super().keyPressEvent(event)

    def open_current(self, *_: Any) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            open_dossier(self, self.workspace, self.user, index.data(Qt.ItemDataRole.UserRole))
            self.refresh()
