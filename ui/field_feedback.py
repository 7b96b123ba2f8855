"""Field feedback: what the reps reported back after their calls and visits (what they
learned, how good the lead was, why they rejected it), newest first, for marketing.

Lines are read a page at a time as the list scrolls (keyset pages, see
storage/read_models/field_feedback.py); every filter is a new query. A rep sees their own
feedback only: the domain refuses them anyone else's, and the rep filter shows them alone.
Enter or a double-click opens the line's account.
"""

from __future__ import annotations

import enum
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.icp import Tier
from domain.interactions import read_feedback
from domain.users import Action, User
from domain.values import clean_text, counted, shown_time
from storage.read_models.field_feedback import (
    PAGE_SIZE,
    FeedbackFilter,
    FeedbackLine,
    feedback_choices,
    feedback_page,
)
from storage.repositories import SqlUnitOfWork
from storage.workspace import Workspace
from ui.account_dialog import AccountDialog
from ui.messages import plain_label, plain_tooltip
from ui.settings import keep_geometry
from ui.workers import show_error

Index = QModelIndex | QPersistentModelIndex
AccountIdRole = Qt.ItemDataRole.UserRole + 1
#: How much of a long text a cell shows; the whole text is its tooltip.
SHOWN_CHARACTERS = 200


class FeedbackColumn(enum.IntEnum):
    WHEN = 0
    REP = 1
    ACCOUNT = 2
    TIER = 3
    INDUSTRY = 4
    SOURCE = 5
    OUTCOME = 6
    RATING = 7
    LEAD = 8
    REASON = 9
    LEARNED = 10


HEADERS = {
    FeedbackColumn.WHEN: "When",
    FeedbackColumn.REP: "Rep",
    FeedbackColumn.ACCOUNT: "Account",
    FeedbackColumn.TIER: "Tier",
    FeedbackColumn.INDUSTRY: "Industry",
    FeedbackColumn.SOURCE: "Source",
    FeedbackColumn.OUTCOME: "Outcome",
    FeedbackColumn.RATING: "Rating",
    FeedbackColumn.LEAD: "Lead",
    FeedbackColumn.REASON: "Reason",
    FeedbackColumn.LEARNED: "Learned",
}
WIDTHS = {
    FeedbackColumn.WHEN: 125,
    FeedbackColumn.REP: 95,
    FeedbackColumn.ACCOUNT: 165,
    FeedbackColumn.TIER: 36,
    FeedbackColumn.INDUSTRY: 100,
    FeedbackColumn.SOURCE: 95,
    FeedbackColumn.OUTCOME: 112,
    FeedbackColumn.RATING: 62,
    FeedbackColumn.LEAD: 72,
    FeedbackColumn.REASON: 140,
}


def _text(line: FeedbackLine, column: FeedbackColumn) -> str:
    """The whole text a cell stands for (what a person typed as typed)."""
    match column:
        case FeedbackColumn.WHEN:
            return shown_time(line.at)
        case FeedbackColumn.REP:
            return line.rep
        case FeedbackColumn.ACCOUNT:
            return clean_text(line.account)
        case FeedbackColumn.TIER:
            return line.tier or ""
        case FeedbackColumn.INDUSTRY:
            return clean_text(line.industry or "")
        case FeedbackColumn.SOURCE:
            return clean_text(line.source or "")
        case FeedbackColumn.OUTCOME:
            return line.outcome.label
        case FeedbackColumn.RATING:
            return f"{line.rating} of 5" if line.rating is not None else ""
        case FeedbackColumn.LEAD:
            return line.lead.value.capitalize() if line.lead is not None else ""
        case FeedbackColumn.REASON:
            return line.reason
        case FeedbackColumn.LEARNED:
            return line.learned


def _shown(text: str) -> str:
    """A cell's text on one line, cut short where it is long."""
    line = " ".join(text.split())
    return line if len(line) <= SHOWN_CHARACTERS else line[: SHOWN_CHARACTERS - 1] + "…"


class FeedbackModel(QAbstractTableModel):
    """The lines of one filter, read a page at a time as the view scrolls."""

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.chosen = FeedbackFilter()
        self.lines: list[FeedbackLine] = []
        self._more = False

    def show(self, chosen: FeedbackFilter) -> None:
        """Read the first page of ``chosen``; a refused read leaves the list empty."""
        self.beginResetModel()
        self.chosen, self.lines, self._more = chosen, [], False
        try:
            self.lines = self._page()
        finally:
            self.endResetModel()

    def _page(self) -> list[FeedbackLine]:
        """The page after the lines read so far (the first when there are none)."""
        after = self.lines[-1].after if self.lines else None
        chosen = self.chosen
        page = read_feedback(
            self.user,
            lambda rep: feedback_page(self.workspace, replace(chosen, rep=rep), after, PAGE_SIZE),
            chosen.rep,
        )
        self._more = len(page) == PAGE_SIZE
        return page

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FeedbackColumn)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid() or not self.lines:
            return
        more = self._page()
        if more:
            first = len(self.lines)
            self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
            self.lines += more
            self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return HEADERS[FeedbackColumn(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        line, column = self.lines[index.row()], FeedbackColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return _shown(_text(line, column))
        if role == Qt.ItemDataRole.ToolTipRole and column in (
            FeedbackColumn.REASON,
            FeedbackColumn.LEARNED,
        ):
            return plain_tooltip(_text(line, column))
        if role == AccountIdRole:
            return line.account_id
        return None


class FieldFeedback(QDialog):
    """Marketing reads what the reps learned and how good they found the leads."""

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Field feedback")
        choices = feedback_choices(workspace)
        every_rep = user.can(Action.READ_FIELD_FEEDBACK)
        self.rep = self._combo("Every rep", [(n, n) for n in choices.reps] if every_rep else [])
        if not every_rep:  # a rep reads their own feedback only
            self.rep.clear()
            self.rep.addItem(user.name, user.name)
            self.rep.setEnabled(False)
        self.tier = self._combo("Any tier", [(f"Tier {t.value}", t.value) for t in Tier])
        self.version = self._combo("Any ICP version", [(n, i) for i, n in choices.versions])
        self.industry = self._combo("Any industry", [(n, n) for n in choices.industries])
        self.source = self._combo("Any source", [(n, n) for n in choices.sources])
        self.rating = self._combo("Any rating", [(f"{n} of 5", n) for n in range(5, 0, -1)])
        self.rejected_only = QCheckBox("Rejected leads only")
        self.model = FeedbackModel(workspace, user, self)
        self.table = QTableView()
        self.table.setObjectName("feedback")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        for column, width in WIDTHS.items():
            self.table.setColumnWidth(column, width)
        self.table.horizontalHeader().setStretchLastSection(True)
        # Enter, and a double-click (or a click where the desktop opens with one)
        self.table.activated.connect(self.open_line)
        self.shown = plain_label(muted=True)
        self.model.modelReset.connect(self._say_shown)
        self.model.rowsInserted.connect(self._say_shown)
        for combo in (self.rep, self.tier, self.version, self.industry, self.source, self.rating):
            combo.currentIndexChanged.connect(self.refresh)
        self.rejected_only.toggled.connect(self.refresh)

        filters = QGridLayout()
        for place, widget in enumerate((self.rep, self.tier, self.version, self.industry,
                                        self.source, self.rating, self.rejected_only)):  # fmt: skip
            filters.addWidget(widget, place // 4, place % 4)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.shown)
        keep_geometry(self, QSize(1200, 640))
        self.refresh()
        self.table.setFocus()

    def _combo(self, anything: str, items: list[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox()
        combo.addItem(anything, None)
        for text, value in items:
            combo.addItem(clean_text(text), value)
        combo.setMinimumContentsLength(14)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        return combo

    def chosen(self) -> FeedbackFilter:
        return FeedbackFilter(
            rep=self.rep.currentData(),
            tier=self.tier.currentData(),
            icp_version_id=self.version.currentData(),
            industry=self.industry.currentData(),
            source=self.source.currentData(),
            rating=self.rating.currentData(),
            rejected=self.rejected_only.isChecked(),
        )

    def refresh(self) -> None:
        try:
            self.model.show(self.chosen())
        except AccordError as error:
            show_error(self, "Field feedback", error)
        if self.model.lines:
            self.table.selectRow(0)

    def _say_shown(self) -> None:
        shown = len(self.model.lines)
        if shown == 0:
            self.shown.setText("No feedback matches these filters.")
        elif self.model.canFetchMore(QModelIndex()):
            self.shown.setText(f"The newest {counted(shown, 'line')}; more as you scroll.")
        else:
            self.shown.setText(counted(shown, "line"))

    def open_line(self, index: QModelIndex) -> None:
        """Open the account of the line in the account window."""
        with SqlUnitOfWork.reading(self.workspace) as uow:
            account = uow.accounts.get(index.data(AccountIdRole))
        if account is None:
            show_error(self, "Not found", AccordError("This account was deleted meanwhile."))
            return
        AccountDialog(self.workspace, self.user, account, self).exec()
