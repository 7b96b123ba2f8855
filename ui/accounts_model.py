"""The accounts list as a windowed table model: the row count comes from SQL, rows are
fetched a page at a time into a small cache, sorting and searching are new queries."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QLocale, QModelIndex, QPersistentModelIndex, Qt

from domain.values import clean_text, country_name, shown_phone, shown_time
from storage.read_models.account_list import SORTABLE, ListColumn, ListQuery, Scope, count, page
from storage.workspace import Workspace

PAGE_SIZE = 200
CACHED_PAGES = 20
AccountIdRole = Qt.ItemDataRole.UserRole + 1

HEADERS = {
    ListColumn.NAME: "Account Name",
    ListColumn.WEBSITE: "Website",
    ListColumn.INDUSTRY: "Industry",
    ListColumn.EMPLOYEES: "Employees",
    ListColumn.ANNUAL_REVENUE: "Annual Revenue",
    ListColumn.COUNTRY: "Country",
    ListColumn.CITY: "City",
    ListColumn.PHONE: "Phone",
    ListColumn.SCORE: "Score",
    ListColumn.TIER: "Tier",
    ListColumn.OWNER: "Owner",
    ListColumn.STAGE: "Stage",
    ListColumn.PRIORITY: "Priority",
    ListColumn.UPDATED_AT: "Updated",
}
NUMBERS = {ListColumn.EMPLOYEES, ListColumn.ANNUAL_REVENUE, ListColumn.SCORE, ListColumn.PRIORITY}

_Index = QModelIndex | QPersistentModelIndex


def format_revenue(value: int) -> str:
    """``800k``, ``42.6M``, ``1M`` for 999,950: one decimal, none when it is zero."""
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        shown = round(value / limit, 1)
        if shown >= 1:
            return f"{shown:,.1f}".removesuffix(".0") + suffix
    return f"{value:,}"


def display(column: ListColumn, value: Any) -> str:
    if value is None:
        return ""
    if column is ListColumn.EMPLOYEES:
        return f"{value:,}"
    if column is ListColumn.ANNUAL_REVENUE:
        return format_revenue(value)
    if column is ListColumn.COUNTRY:  # an ISO code, or a spelling that names no country
        return country_name(value, QLocale().name())
    if column is ListColumn.PHONE and value.startswith("+") and value[1:].isdigit():
        return shown_phone(value)
    if isinstance(value, datetime):
        return shown_time(value)
    return clean_text(str(value))  # a text stored before the import cleaned it


class AccountsModel(QAbstractTableModel):
    def __init__(self, workspace: Workspace, owner_id: Any = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.query = ListQuery(owner_id=owner_id)
        self._total = count(workspace, self.query)
        self._pages: OrderedDict[int, list[Sequence[Any]]] = OrderedDict()

    # --- what the view asks -------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(ListColumn)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[ListColumn(section)]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._total:
            return None
        column = ListColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return display(column, self.row(index.row())[column + 1])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMBERS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == AccountIdRole:
            return self.row(index.row())[0]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if ListColumn(column) not in SORTABLE:
            return  # no index to sort a million rows by; the window says so
        descending = order == Qt.SortOrder.DescendingOrder
        sorted_query = replace(self.query, sort=ListColumn(column), descending=descending)
        if sorted_query != self.query:  # the view asks again for the order it already has
            self._requery(sorted_query)

    # --- what the window asks -----------------------------------------------------------
    def set_search(self, text: str) -> None:
        if text.strip() != self.query.search:
            self._requery(replace(self.query, search=text.strip()))

    def set_scope(self, scope: Scope) -> None:
        if scope is not self.query.scope:
            self._requery(replace(self.query, scope=scope))

    def refresh(self) -> None:
        """Read the list again (after an edit, an import or an undo)."""
        self._requery(self.query)

    def row(self, number: int) -> Sequence[Any]:
        """(id, *columns) of a row, fetching its page if it is not cached."""
        key = number // PAGE_SIZE
        cached = self._pages.get(key)
        if cached is None:
            cached = page(self.workspace, self.query, key * PAGE_SIZE, PAGE_SIZE, self._total)
            self._pages[key] = cached
            if len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(key)
        offset = number - key * PAGE_SIZE
        return cached[offset] if offset < len(cached) else (None,) * (len(ListColumn) + 1)

    def _requery(self, query: ListQuery) -> None:
        self.beginResetModel()
        self.query = query
        self._pages.clear()
        self._total = count(self.workspace, query)
        self.endResetModel()
