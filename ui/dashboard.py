"""The dashboard: the owner's home (the goal, both sides of the agreement, the funnel and
the trend) and marketing's (their side this month, lead quality, dossiers to write for the
reps' queues). Its figures are the report read models' (``domain.report.Figure``), read
off the GUI thread; every number opens the rows it was computed from. A read model that
fails shows one sentence in its panels, never a crash."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from domain.agreement import Standing
from domain.errors import AccordError
from domain.report import Figure, Trend, shown, shown_value
from domain.tables import TableData
from domain.users import Role, User
from domain.values import counted
from storage.read_models.dashboard import (
    RAW_ROWS,
    PanelData,
    Read,
    agreement_panels,
    dossier_panel,
    funnel_panel,
    goal_panel,
    quality_panel,
)
from storage.workspace import Workspace
from ui.charts import chart_view
from ui.messages import plain_label, plain_tooltip
from ui.report_view import TableDataModel, table_view
from ui.settings import keep_geometry
from ui.workers import run_task

#: The most rows a rows window shows: a figure's rows are for reading, the workbook has all.
SHOWN_ROWS = 5000
_STANDING_STYLE = {
    Standing.MET: "background: #dcefdc; color: #1e5a1e",
    Standing.CLOSE: "background: #fbe9c6; color: #6b4a00",
    Standing.MISSED: "background: #f6d5d5; color: #8a1c1c",
}
#: The trend against the previous period: an arrow on the tile, words in its tooltip.
_TREND = {Trend.UP: ("↑", "up"), Trend.DOWN: ("↓", "down"), Trend.SAME: ("→", "the same")}


@dataclass(frozen=True)
class Layout:
    """A home's panels: (key, title, row, column, column span), and the reads that fill them
    (each read fills the panels of the keys it gives)."""

    title: str
    panels: tuple[tuple[str, str, int, int, int], ...]
    reads: tuple[tuple[tuple[str, ...], Read], ...]


OWNER = Layout(
    "Dashboard",
    (
        ("goal", "Shared goal", 0, 0, 1),
        ("funnel", "Funnel", 0, 1, 1),
        ("marketing", "Marketing's side of the agreement", 1, 0, 1),
        ("sales", "Sales' side of the agreement", 1, 1, 1),
        ("trend", "Trend", 2, 0, 2),
    ),
    (
        (("goal",), goal_panel),
        (("marketing", "sales", "trend"), agreement_panels(this_month=False)),
        (("funnel",), funnel_panel),
    ),
)
MARKETING = Layout(
    "Marketing this month",
    (
        ("marketing", "Hand-offs this month against the agreement", 0, 0, 2),
        ("quality", "Lead quality", 1, 0, 1),
        ("dossiers", "Dossiers to write for the reps' queues", 1, 1, 1),
    ),
    (
        (("marketing",), agreement_panels(this_month=True)),
        (("quality",), quality_panel),
        (("dossiers",), dossier_panel),
    ),
)


def layout_for(user: User) -> Layout:
    return MARKETING if user.role is Role.MARKETING else OWNER


def failure(error: BaseException) -> str:
    """One sentence for a panel whose figures could not be read."""
    if isinstance(error, AccordError):
        return f"These figures could not be read: {error}"
    return f"These figures could not be worked out ({type(error).__name__}); the others stand."


class _Loader(QObject):
    """Runs the reads on the thread pool; each answer carries the refresh's number, so that
    only the newest refresh's answers are shown."""

    ready = Signal(int, object, object)  # refresh number, panel keys, dict | exception


class FigureTile(QPushButton):
    """One figure: its value large, what it is, its standing against the agreement and its
    trend; a click opens the rows it was computed from."""

    def __init__(self, figure: Figure, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure = figure
        self.setObjectName(figure.label)
        # Room for the value, and for its label and what it is against on two lines each.
        self.setMinimumSize(140, 120)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        value = shown_value(figure)
        self.value = plain_label(value, wrap=True)  # "ahead by 594,371" on two lines
        self.value.setObjectName("value")
        self.value.setStyleSheet("font-size: 20px; font-weight: 700")
        label = plain_label(figure.label, wrap=True)
        against = []
        if figure.target is not None:
            against.append(f"target {shown(figure.target, figure.unit)}")
        if figure.trend is not None:
            against.append(_TREND[figure.trend][0])
        self.against = plain_label(" ".join(against), muted=True)
        self.standing = plain_label(figure.standing.value if figure.standing else "")
        self.standing.setObjectName("standing")
        if figure.standing is not None:
            self.standing.setStyleSheet(
                f"{_STANDING_STYLE[figure.standing]}; padding: 1px 6px; font-weight: 600"
            )
        self.standing.setVisible(figure.standing is not None)
        self.against.setWordWrap(True)
        bottom = QHBoxLayout()
        bottom.addWidget(self.standing, 0, Qt.AlignmentFlag.AlignTop)
        bottom.addWidget(self.against, 1)
        self.inside = layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.value)
        layout.addWidget(label)
        layout.addLayout(bottom)
        for child in (self.value, label, self.against, self.standing):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        basis = f" ({figure.basis})" if figure.basis else ""
        said = [f"{figure.label}: {value}{basis}."]
        if figure.standing is not None:
            said.append(f"{figure.standing.value.capitalize()} against its target of "
                        f"{shown(figure.target, figure.unit)}.")  # fmt: skip
        if figure.trend is not None:
            said.append(f"{_TREND[figure.trend][1].capitalize()} on the previous period.")
        if figure.rows:
            said.append(f"Click to open the {figure.rows.casefold()} it was computed from.")
        self.setToolTip(plain_tooltip(" ".join(said)))
        self.setAccessibleName(f"{figure.label}: {value}")

    def sizeHint(self) -> QSize:
        return self.inside.sizeHint().expandedTo(self.minimumSize())


class Panel(QFrame):
    """A panel of the dashboard: its title, then its figures, chart or table, or the one
    sentence that says why it has none."""

    def __init__(self, key: str, title: str, dashboard: Dashboard) -> None:
        super().__init__()
        self.key, self.dashboard = key, dashboard
        self.setObjectName(key)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        heading = plain_label(title)
        heading.setStyleSheet("font-size: 15px; font-weight: 600")
        self.message = plain_label("Reading…", wrap=True, muted=True)
        self.message.setObjectName("message")
        self.body = QWidget()
        self.inside = QVBoxLayout(self)
        self.inside.addWidget(heading)
        self.inside.addWidget(self.message)
        self.inside.addWidget(self.body, 1)
        self.data: PanelData | None = None

    def _new_body(self) -> QVBoxLayout:
        old = self.body
        self.body = QWidget()
        self.inside.replaceWidget(old, self.body)
        old.deleteLater()
        return QVBoxLayout(self.body)

    def show_failure(self, text: str) -> None:
        self.data = None
        self._new_body()
        self.message.setText(text)
        self.message.show()

    def show_data(self, data: PanelData) -> None:
        self.data = data
        layout = self._new_body()
        layout.setContentsMargins(0, 0, 0, 0)
        empty = not data.figures and data.chart is None and data.table is None
        self.message.setText("Nothing to show for this period yet." if empty else "")
        self.message.setVisible(empty)
        if data.figures:
            tiles = QGridLayout()
            for n, figure in enumerate(data.figures):
                tile = FigureTile(figure)
                tile.clicked.connect(lambda _=False, f=figure: self.dashboard.open_rows(f, self))
                tiles.addWidget(tile, n // 4, n % 4)
            for column in range(min(4, len(data.figures))):
                tiles.setColumnStretch(column, 1)  # as wide as each other, whatever they say
            layout.addLayout(tiles)
        if data.chart is not None:
            layout.addWidget(chart_view(data.chart), 1)
        if data.chart is None and data.table is None:
            layout.addStretch()
        if data.table is not None:
            rows = list(data.table.rows)
            if rows:
                layout.addWidget(table_view(TableDataModel(data.table, rows, self)), 1)
            else:
                self.message.setText("Every account at the head of a queue has its dossier.")
                self.message.show()


class Dashboard(QWidget):
    """The dashboard page of the main window: the owner's, or marketing's."""

    #: Every refresh's answers are in (for tests and the benchmark).
    refreshed = Signal()

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = _Loader(self)
        self.loader.ready.connect(self._answer)
        self.generation = 0
        self.waiting: set[tuple[str, ...]] = set()
        self.panels: dict[str, Panel] = {}
        self.title = plain_label()
        self.title.setStyleSheet("font-size: 18px; font-weight: 600")
        self.period = plain_label(muted=True)
        self.period.setObjectName("period")
        refresh = QPushButton("Refresh")
        refresh.setObjectName("refresh")
        refresh.setToolTip("Read the figures again (F5 refreshes too)")
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addSpacing(12)
        top.addWidget(self.period, 1)
        top.addWidget(refresh)
        self.page = QScrollArea()
        self.page.setWidgetResizable(True)
        self.page.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.page, 1)
        self.set_workspace(workspace, user)

    def set_workspace(self, workspace: Workspace, user: User) -> None:
        self.workspace, self.user = workspace, user
        self.layout_shown = layout_for(user)
        self.title.setText(self.layout_shown.title)
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        self.panels = {}
        for key, title, row, column, span in self.layout_shown.panels:
            self.panels[key] = Panel(key, title, self)
            grid.addWidget(self.panels[key], row, column, 1, span)
        for column in range(2):
            grid.setColumnStretch(column, 1)
        # the last row takes the height left (a table there shows more rows), the others
        # theirs alone
        grid.setRowStretch(max(row for _, _, row, _, _ in self.layout_shown.panels), 1)
        self.page.setWidget(grid_widget)
        self.period.setText("")

    def refresh(self) -> None:
        """Read every panel again, off the GUI thread."""
        self.generation += 1
        generation, now, user = self.generation, datetime.now(UTC), self.user
        workspace, loader = self.workspace, self.loader
        self.waiting = {keys for keys, _read in self.layout_shown.reads}
        for keys, read in self.layout_shown.reads:

            def work(keys: tuple[str, ...] = keys, read: Read = read) -> None:
                answer: Any
                try:
                    answer = read(workspace, now, user)
                except Exception as exc:  # said in the panel, never lost in a thread
                    answer = exc
                loader.ready.emit(generation, keys, answer)

            QThreadPool.globalInstance().start(work)

    def stop(self) -> None:
        """Wait for the reads under way and drop their answers: the workspace is closing."""
        self.generation += 1
        self.waiting = set()
        QThreadPool.globalInstance().waitForDone()

    def _answer(self, generation: int, keys: tuple[str, ...], answer: Any) -> None:
        if generation != self.generation:
            return  # a newer refresh is on its way
        for key in keys:
            panel = self.panels[key]
            if isinstance(answer, BaseException):
                panel.show_failure(failure(answer))
            else:
                panel.show_data(answer[key])
                self.period.setText(answer[key].scope.period.label)
        self.waiting.discard(keys)
        if not self.waiting:
            self.refreshed.emit()

    def open_rows(self, figure: Figure, panel: Panel) -> None:
        """Open the rows ``figure`` was computed from: a raw sheet read for its panel's
        scope, a table of its panel's sections, or the field feedback view."""
        name = figure.rows.casefold()
        data = panel.data
        if not name or data is None:
            return
        if name == "field feedback":
            from ui.field_feedback import FieldFeedback

            FieldFeedback(self.workspace, self.user, self).exec()
            return
        for section in data.sections:
            for table in section.tables:
                if table.title.casefold() == name:
                    rows = list(itertools.islice(table.rows, SHOWN_ROWS))
                    RowsWindow(figure, table, rows, self).exec()
                    return
        raw = RAW_ROWS.get(name)
        if raw is None:
            return
        workspace, scope = self.workspace, data.scope

        def work(_progress: Any, _cancel: Any) -> tuple[TableData, list[Any]]:
            with workspace.read() as conn:
                table = raw(conn, scope)
                return table, [tuple(row) for row in itertools.islice(table.rows, SHOWN_ROWS)]

        def done(answer: tuple[TableData, list[Any]]) -> None:
            RowsWindow(figure, answer[0], answer[1], self).exec()

        run_task(self, f"Reading the {figure.rows.casefold()}", work, done)


class RowsWindow(QDialog):
    """The rows a figure was computed from."""

    def __init__(
        self, figure: Figure, table: TableData, rows: list[Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{figure.label}: {table.title}")
        said = f"{figure.label}: {shown_value(figure)}"
        if figure.basis:
            said += f" ({figure.basis})"
        listed = counted(len(rows), "row")
        if table.count is not None and table.count > len(rows):
            listed = f"the first {listed} of {table.count:,}; the workbook has them all"
        heading = plain_label(f"{said}. Computed from these rows: {listed}.", wrap=True)
        self.model = TableDataModel(table, rows, self)
        self.table = table_view(self.model)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        keep_geometry(self, QSize(1000, 600))
