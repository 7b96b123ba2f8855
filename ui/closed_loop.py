"""The closed loop window (Plan › Closed loop…): the funnel with its conversion and the
time in each stage, by the segment chosen; lead quality; what the field learned; the ICP's
calibration, whose suggested weights open as a new ICP draft in the editor (never applied
by themselves).

Everything is read off the GUI thread (ui/workers.py) from
storage/read_models/closed_loop.py, which counts in SQL; the window only shows the sections
the reports print. The owner and marketing see every rep's accounts, a rep their own
(the domain's rule for field feedback: ``domain.interactions.read_feedback``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from PySide6.QtCharts import QChart, QChartView
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.calibration import reweighted
from domain.interactions import read_feedback
from domain.periods import Month, Period
from domain.report import Chart, Figure, Quote, Scope, Unit
from domain.tables import ColumnKind, TableData, shown_cell
from domain.users import Action, User
from domain.values import clean_text, counted
from storage.agreements import current_calendar
from storage.read_models.closed_loop import ClosedLoop, Segment, closed_loop
from storage.targets import users_by_name
from storage.workspace import Workspace
from ui.charts import qt_chart
from ui.icp_editor import IcpEditor
from ui.messages import plain_label, plain_tooltip
from ui.settings import keep_geometry
from ui.workers import Task, show_error

#: The periods the window offers: a name and how many months, this one the last.
PERIODS = (
    ("The last six months", 6),
    ("This month", 1),
    ("The last three months", 3),
    ("The last twelve months", 12),
)


def _periods(today: date) -> list[tuple[str, Period]]:
    this = Month.of(today)
    chosen = [(name, Period(this.plus(1 - months), this)) for name, months in PERIODS]
    last = this.plus(-1)
    return [*chosen[:2], ("Last month", Period(last, last)), *chosen[2:]]


def _figure(figure: Figure) -> str:
    """A figure as a line says it: ``Close rate: 34% (75 of 222)``."""
    if figure.value is None:
        return f"{figure.label}: no data"
    match figure.unit:
        case Unit.SHARE:
            value = f"{figure.value:.0%}"
        case Unit.RATING:
            value = f"{figure.value:.1f} of 5"
        case _:
            value = f"{figure.value:,.0f}"
    return f"{figure.label}: {value}" + (f" ({figure.basis})" if figure.basis else "")


def _cell(value: Any, kind: ColumnKind) -> str:
    return "" if value is None else clean_text(shown_cell(value, kind))


def fill_table(table: QTableWidget, data: TableData | None) -> None:
    """Show ``data`` in ``table`` as plain text (nothing when None)."""
    table.clear()
    if data is None:
        table.setRowCount(0)
        table.setColumnCount(0)
        return
    rows = [list(row) for row in data.rows]
    table.setColumnCount(len(data.columns))
    table.setHorizontalHeaderLabels([c.label for c in data.columns])
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(_cell(value, data.columns[c].kind))
            if isinstance(value, int | float):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


def _table() -> QTableWidget:
    table = QTableWidget()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table


class FunnelChart(QChartView):
    """A bar chart of a :class:`domain.report.Chart` (stages along, a bar per series)."""

    def __init__(self) -> None:
        super().__init__()
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(180)
        self.show_chart(None)

    def show_chart(self, chart: Chart | None) -> None:
        drawn = QChart() if chart is None else qt_chart(chart)
        drawn.legend().setAlignment(Qt.AlignmentFlag.AlignRight)
        drawn.legend().setVisible(chart is not None and len(chart.series) > 1)
        old = self.chart()
        self.setChart(drawn)
        if old is not None:
            old.deleteLater()


class ClosedLoopWindow(QDialog):
    """Marketing and the owner read which accounts convert, how good the leads were, what
    the reps learned, and how the ICP's criteria did against the outcomes."""

    def __init__(
        self,
        workspace: Workspace,
        user: User,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        with workspace.read() as conn:
            self.calendar = current_calendar(conn)
        self.setWindowTitle("Closed loop")
        self.found: ClosedLoop | None = None

        self.period = QComboBox()
        for name, period in _periods(datetime.now(UTC).astimezone(self.calendar.zone).date()):
            self.period.addItem(f"{name} ({period.label})", period)
        self.rep = QComboBox()
        if user.can(Action.READ_FIELD_FEEDBACK):
            self.rep.addItem("Every rep", None)
            with workspace.read() as conn:
                reps = sorted(name for name, person in users_by_name(conn).items()
                              if person.can(Action.LOG_INTERACTION))  # fmt: skip
            for name in reps:
                self.rep.addItem(clean_text(name), name)
        else:  # a rep reads their own accounts only
            self.rep.addItem(clean_text(user.name), user.name)
            self.rep.setEnabled(False)
        self.segment = QComboBox()
        for segment in Segment:
            self.segment.addItem(f"By {segment.value}", segment)
        self.refresh_button = QPushButton("Refresh")

        self.figures = plain_label(wrap=True)
        self.chart = FunnelChart()
        self.funnel = _table()
        self.funnel.setObjectName("funnel")
        self.by_segment = _table()
        self.by_segment.setObjectName("funnel by segment")
        self.funnel_notes = plain_label(wrap=True, muted=True)
        funnel = QWidget()
        funnel_layout = QVBoxLayout(funnel)
        funnel_layout.addWidget(self.figures)
        row = QHBoxLayout()
        row.addWidget(self.chart, 1)
        row.addWidget(self.funnel, 1)
        funnel_layout.addLayout(row, 1)
        funnel_layout.addWidget(self.by_segment, 1)
        funnel_layout.addWidget(self.funnel_notes)

        self.quality_figures = plain_label(wrap=True)
        self.quality = _table()
        self.quality.setObjectName("lead quality")
        self.quality_notes = plain_label(wrap=True, muted=True)
        quality = QWidget()
        quality_layout = QVBoxLayout(quality)
        quality_layout.addWidget(self.quality_figures)
        quality_layout.addWidget(self.quality, 1)
        quality_layout.addWidget(self.quality_notes)

        self.learned = QTreeWidget()
        self.learned.setObjectName("learnings")
        self.learned.setHeaderLabels(["What the rep learned", "Rep", "Account", "Date"])
        self.learned.setWordWrap(True)
        self.learned.setColumnWidth(0, 560)
        self.learned_notes = plain_label(wrap=True, muted=True)
        learned = QWidget()
        learned_layout = QVBoxLayout(learned)
        learned_layout.addWidget(self.learned, 1)
        learned_layout.addWidget(self.learned_notes)

        self.calibration_notes = plain_label(wrap=True, muted=True)
        self.calibration = _table()
        self.calibration.setObjectName("calibration")
        self.draft_button = QPushButton("Open as a new ICP draft…")
        self.draft_button.clicked.connect(self.open_draft)
        calibration = QWidget()
        calibration_layout = QVBoxLayout(calibration)
        calibration_layout.addWidget(self.calibration_notes)
        calibration_layout.addWidget(self.calibration, 1)
        draft_row = QHBoxLayout()
        draft_row.addStretch()
        draft_row.addWidget(self.draft_button)
        calibration_layout.addLayout(draft_row)

        self.tabs = QTabWidget()
        self.tabs.addTab(funnel, "Funnel")
        self.tabs.addTab(quality, "Lead quality")
        self.tabs.addTab(learned, "What the field learned")
        self.tabs.addTab(calibration, "ICP calibration")
        self.status = plain_label(muted=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        choices = QHBoxLayout()
        for widget in (self.period, self.rep, self.segment):
            choices.addWidget(widget)
        choices.addStretch()
        choices.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(choices)
        layout.addWidget(self.tabs, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)

        self.period.currentIndexChanged.connect(self.refresh)
        self.rep.currentIndexChanged.connect(self.refresh)
        self.segment.currentIndexChanged.connect(self._show_segment)
        self.refresh_button.clicked.connect(self.refresh)
        keep_geometry(self, QSize(1240, 660))
        self._show_draft_button()
        self.refresh()

    # --- reading --------------------------------------------------------------------------
    def scope(self) -> Scope:
        period: Period = self.period.currentData()
        return Scope(period, self.calendar, datetime.now(UTC), self.rep.currentData())

    def refresh(self) -> None:
        """Read the closed loop of the chosen period and rep, off the GUI thread."""
        self._end_reading()
        scope, workspace, user = self.scope(), self.workspace, self.user
        self.status.setText("Reading…")

        def work(progress: Any, cancel: Any) -> ClosedLoop:
            def read(rep: str | None) -> ClosedLoop:
                with workspace.read() as conn:
                    return closed_loop(conn, replace(scope, rep=rep), cancel)

            return read_feedback(user, read, scope.rep)

        # Connected to methods, and kept by Qt as the window's child only: a task in an
        # attribute, its callbacks holding the window, would make a cycle that Python's
        # collector breaks in whatever thread it runs, deleting the window there.
        task = Task(self, "Reading the closed loop", work)
        task.done.connect(self.show_loop)
        task.error.connect(self._failed)
        task.start()

    def _end_reading(self) -> None:
        """Stop a read still running and let Qt delete the tasks that ended."""
        for task in self.findChildren(Task):
            if task.running:
                task.end()
            task.deleteLater()

    def _failed(self, error: Exception) -> None:
        self.status.setText("")
        show_error(self, "Closed loop", error)

    def done(self, result: int) -> None:
        self._end_reading()
        super().done(result)

    # --- showing --------------------------------------------------------------------------
    def show_loop(self, found: ClosedLoop) -> None:
        self.found = found
        self.sections = {section.title: section for section in found.sections()}
        funnel = self.sections["Funnel"]
        self.figures.setText("   ·   ".join(_figure(f) for f in funnel.figures))
        self.chart.show_chart(funnel.charts[0] if funnel.charts else None)
        fill_table(self.funnel, funnel.tables[0] if funnel.tables else None)
        quality = self.sections["Lead quality"]
        self.quality_figures.setText("   ·   ".join(_figure(f) for f in quality.figures))
        self._show_learnings(found.learnings)
        calibration = self.sections["ICP calibration"]
        self.calibration_notes.setText(" ".join(calibration.notes))
        fill_table(self.calibration, calibration.tables[0] if calibration.tables else None)
        self._show_segment()
        self._show_draft_button()
        self.status.setText(f"{self.scope().period.label}: "
                            f"{counted(found.funnels[None, None].total, 'account')} "
                            "moved through the funnel.")  # fmt: skip

    def _show_segment(self) -> None:
        if self.found is None:
            return
        segment = Segment(self.segment.currentData())
        by_funnel = self.sections[f"Funnel by {segment.value}"]
        fill_table(self.by_segment, by_funnel.tables[0] if by_funnel.tables else None)
        funnel = self.sections["Funnel"]
        self.funnel_notes.setText(" ".join([*funnel.notes, *by_funnel.notes]))
        if by_funnel.charts and funnel.charts:
            self.chart.show_chart(by_funnel.charts[0])
        quality = self.sections["Lead quality"]
        title = f"Lead quality by {segment.value}"
        fill_table(self.quality, next((t for t in quality.tables if t.title == title), None))
        self.quality_notes.setText(" ".join(quality.notes))

    def _show_learnings(self, groups: list[tuple[str, int, list[Quote]]]) -> None:
        """Every group of the period's learnings with its most telling, and how many more
        the field feedback view holds."""
        self.learned.clear()
        for name, number, quotes in groups:
            group = QTreeWidgetItem(self.learned, [clean_text(name)])
            group.setFirstColumnSpanned(True)
            for quote in quotes:
                cells = [quote.text, quote.rep, quote.account, quote.at.isoformat()]
                item = QTreeWidgetItem(group, [clean_text(cell) for cell in cells])
                item.setToolTip(0, plain_tooltip(quote.text))
            if number > len(quotes):
                more = QTreeWidgetItem(group, [f"and {counted(number - len(quotes), 'more')} "
                                               "in View › Field feedback…"])  # fmt: skip
                more.setFirstColumnSpanned(True)
            group.setExpanded(True)
        self.learned_notes.setText(
            "" if groups else "No rep wrote down what they learned in this period."
        )

    # --- the ICP draft ----------------------------------------------------------------------
    def _show_draft_button(self) -> None:
        found = self.found
        if not self.user.can(Action.EDIT_ICP):
            refusal = f"Your role ({self.user.role}) may not {Action.EDIT_ICP}."
        elif found is None or found.version is None:
            refusal = "No ICP has been applied yet."
        elif not any(s.changed for s in found.suggestions):
            refusal = "The outcomes suggest no other weight for any criterion."
        else:
            refusal = ""
        self.draft_button.setEnabled(not refusal)
        self.draft_button.setToolTip(plain_tooltip(refusal or "The ICP editor opens on a new "
                                     "version with the suggested weights; nothing is saved or "
                                     "applied until you do it there."))  # fmt: skip

    def open_draft(self) -> None:
        """Open the ICP editor on a new draft with the suggested weights."""
        found = self.found
        if found is None or found.version is None:
            return
        editor = IcpEditor(self.workspace, self.user, self)
        editor.open_draft(reweighted(found.version.icp, found.suggestions))
        editor.exec()
