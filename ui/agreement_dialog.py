"""The service agreement and the workspace calendar it counts business days on: the owner
edits them, everybody else reads them (Plan › Service agreement…, Plan › Workspace
calendar…)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QSize, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.agreement import Agreement, MarketingSide, SalesSide, save_agreement
from domain.calendar import WEEKDAYS, Holiday, WorkCalendar, known_time_zones, save_calendar
from domain.errors import AccordError
from domain.users import Action, User
from domain.values import shown_time
from storage.agreements import (
    SqlAgreementStore,
    agreement_history,
    current_agreement,
    current_calendar,
)
from storage.workspace import Workspace
from ui.messages import plain_label
from ui.settings import keep_geometry
from ui.workers import show_error

NOT_SET = "Not set"


def _count(
    low: int, high: int, value: int | None, suffix: str = "", unset: bool = False
) -> QSpinBox:
    """A whole number; with ``unset``, its lowest value reads "Not set" (None)."""
    box = QSpinBox()
    box.setRange(low - 1 if unset else low, high)
    if unset:
        box.setSpecialValueText(NOT_SET)
    box.setSuffix(suffix)
    box.setValue(low - 1 if value is None else value)
    return box


def _share(value: float | None, unset: bool = False) -> QSpinBox:
    """A share as a whole percentage; with ``unset``, 0 reads "Not set"."""
    return _count(1 if unset else 0, 100, None if value is None else round(value * 100), " %",
                  unset)  # fmt: skip


def _read(box: QSpinBox) -> int | None:
    return None if box.specialValueText() and box.value() == box.minimum() else box.value()


def _read_share(box: QSpinBox) -> float | None:
    value = _read(box)
    return None if value is None else value / 100


class AgreementDialog(QDialog):
    """Both sides' numbers, the arithmetic they came from, and every version."""

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Service agreement")
        with workspace.read() as conn:
            agreement, history = current_agreement(conn), agreement_history(conn)
        m, s = agreement.marketing, agreement.sales
        self.handoffs = _count(0, 100_000, m.handoffs_per_month)
        self.per_rep = _count(1, 10_000, m.handoffs_per_rep, unset=True)
        self.quality = QDoubleSpinBox()
        self.quality.setRange(0, 5)
        self.quality.setSingleStep(0.1)
        self.quality.setDecimals(1)
        self.quality.setSpecialValueText(NOT_SET)
        self.quality.setValue(m.min_average_quality or 0)
        self.accepted_share = _share(m.min_accepted_share, unset=True)
        self.tier_a = _share(m.min_tier_a_share, unset=True)
        marketing = QGroupBox("Marketing delivers, each month")
        form = QFormLayout(marketing)
        form.addRow("Sales-ready hand-offs", self.handoffs)
        form.addRow("Hand-offs per rep", self.per_rep)
        form.addRow("Lowest average rating (1-5)", self.quality)
        form.addRow("Lowest share the reps accept", self.accepted_share)
        form.addRow("Lowest share of tier A", self.tier_a)
        self.first_touch = _count(0, 60, s.first_touch_days, " business days")
        self.attempts = _count(1, 100, s.attempts)
        self.attempts_days = _count(1, 365, s.attempts_days, " days")
        self.feedback_days = _count(0, 365, s.feedback_days, " days")
        self.on_time = _share(s.on_time_share)
        sales = QGroupBox("Sales follows up each hand-off")
        form = QFormLayout(sales)
        form.addRow("First touch within", self.first_touch)
        form.addRow("At least this many attempts", self.attempts)
        form.addRow("… within", self.attempts_days)
        form.addRow("Rating given within (of the first conversation)", self.feedback_days)
        form.addRow("Share of hand-offs that must meet each rule", self.on_time)
        self.note = QLineEdit(agreement.note)
        self.note.setPlaceholderText("Why these numbers (kept with the version)")
        self.history = QListWidget()
        for version in history:
            self.history.addItem(f"Version {version.number}: {version.created_by}, "
                                 f"{shown_time(version.created_at, '%Y-%m-%d %H:%M')}"
                                 + (f" — {version.agreement.note}" if version.agreement.note
                                    else ""))  # fmt: skip
        if not history:
            self.history.addItem("No version saved yet: these are Accord's defaults.")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(plain_label(
            "What marketing and sales promise each other. Compliance is counted from the "
            "data on the workspace calendar's business days; every save is a new version.",
            wrap=True,
        ))  # fmt: skip
        sides = QHBoxLayout()
        sides.addWidget(marketing)
        sides.addWidget(sales)
        layout.addLayout(sides)
        layout.addWidget(plain_label("Note"))
        layout.addWidget(self.note)
        if agreement.arithmetic:
            layout.addWidget(plain_label("The arithmetic these numbers came from"))
            for step in agreement.arithmetic:
                layout.addWidget(plain_label(
                    " · ".join(f"{key}: {value}" for key, value in step.items()), wrap=True
                ))  # fmt: skip
        layout.addWidget(plain_label("Versions, newest first"))
        layout.addWidget(self.history)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        allowed = user.can(Action.EDIT_AGREEMENT)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
            if allowed
            else QDialogButtonBox.StandardButton.Close
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for field in (marketing, sales, self.note):
            field.setEnabled(allowed)
        outer = QVBoxLayout(self)
        outer.addWidget(scroll)
        if not allowed:
            outer.addWidget(plain_label("Only the owner changes the agreement.", muted=True))
        outer.addWidget(buttons)
        keep_geometry(self, QSize(900, 620))

    def agreement(self) -> Agreement:
        quality = self.quality.value()
        with self.workspace.read() as conn:
            arithmetic = current_agreement(conn).arithmetic
        return Agreement(
            MarketingSide(
                self.handoffs.value(),
                _read(self.per_rep),
                quality if quality else None,
                _read_share(self.accepted_share),
                _read_share(self.tier_a),
            ),
            SalesSide(
                self.first_touch.value(),
                self.attempts.value(),
                self.attempts_days.value(),
                self.feedback_days.value(),
                self.on_time.value() / 100,
            ),
            arithmetic,
            self.note.text(),
        )

    def accept(self) -> None:
        try:
            save_agreement(SqlAgreementStore(self.workspace), self.user, self.agreement())
        except AccordError as error:
            show_error(self, "Agreement not saved", error)
            return
        super().accept()


class CalendarDialog(QDialog):
    """The workspace calendar: time zone, weekend days and holidays."""

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Workspace calendar")
        with workspace.read() as conn:
            calendar = current_calendar(conn)
        self.zone = QComboBox()
        self.zone.addItems(known_time_zones())
        self.zone.setCurrentText(calendar.time_zone)
        self.weekend = [QCheckBox(day) for day in WEEKDAYS]
        days = QHBoxLayout()
        for number, box in enumerate(self.weekend):
            box.setChecked(number in calendar.weekend)
            days.addWidget(box)
        self.holidays = QTableWidget(0, 2)
        self.holidays.setHorizontalHeaderLabels(["Day", "Name"])
        self.holidays.horizontalHeader().setStretchLastSection(True)
        for holiday in calendar.holidays:
            self._add(holiday.day, holiday.name)
        self.day = QDateEdit(QDate.currentDate())
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.name = QLineEdit()
        self.name.setPlaceholderText("Name, e.g. Christmas Day")
        add, remove = QPushButton("Add holiday"), QPushButton("Remove holiday")
        add.clicked.connect(self._add_typed)
        remove.clicked.connect(lambda: self.holidays.removeRow(self.holidays.currentRow()))
        adding = QHBoxLayout()
        editing: list[QWidget] = [self.day, self.name, add, remove]
        for widget in editing:
            adding.addWidget(widget)
        allowed = user.can(Action.EDIT_AGREEMENT)
        for widget in (self.zone, *self.weekend, self.holidays, *editing):
            widget.setEnabled(allowed)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
            if allowed
            else QDialogButtonBox.StandardButton.Close
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Time zone", self.zone)
        form.addRow("Weekend", days)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(
            "Business days are the days that are neither weekend nor holiday, in this time "
            "zone: the agreement's first-touch deadline and the call queue count on them.",
            wrap=True,
        ))  # fmt: skip
        layout.addLayout(form)
        layout.addWidget(plain_label("Holidays"))
        layout.addWidget(self.holidays)
        layout.addLayout(adding)
        if not allowed:
            layout.addWidget(plain_label("Only the owner changes the calendar.", muted=True))
        layout.addWidget(buttons)
        keep_geometry(self, QSize(760, 520))

    def _add_typed(self) -> None:
        typed = self.day.date()
        self._add(date(typed.year(), typed.month(), typed.day()), self.name.text())
        self.name.clear()

    def _add(self, day: date, name: str) -> None:
        row = self.holidays.rowCount()
        self.holidays.insertRow(row)
        shown = QTableWidgetItem(day.isoformat())
        shown.setData(Qt.ItemDataRole.UserRole, day)
        shown.setFlags(shown.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.holidays.setItem(row, 0, shown)
        self.holidays.setItem(row, 1, QTableWidgetItem(name))

    def calendar(self) -> WorkCalendar:
        holidays = []
        for row in range(self.holidays.rowCount()):
            day, name = self.holidays.item(row, 0), self.holidays.item(row, 1)
            if day is not None:
                holidays.append(Holiday(day.data(Qt.ItemDataRole.UserRole),
                                        name.text() if name is not None else ""))  # fmt: skip
        weekend = frozenset(n for n, box in enumerate(self.weekend) if box.isChecked())
        return WorkCalendar(self.zone.currentText(), weekend,
                            tuple(sorted(holidays, key=lambda h: h.day)))  # fmt: skip

    def accept(self) -> None:
        try:
            save_calendar(SqlAgreementStore(self.workspace), self.user, self.calendar())
        except AccordError as error:
            show_error(self, "Calendar not saved", error)
            return
        super().accept()
