"""The shared goal (Plan › Goal…): the owner sets it, everyone reads it, its versions and
its progress; and from it, the agreement's numbers (From the goal to the agreement…)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from PySide6.QtCore import QDate, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from domain.agreement import Standing, save_agreement
from domain.errors import AccordError
from domain.goal import (
    LONGEST,
    Goal,
    GoalVersion,
    Metric,
    MissingRate,
    Observed,
    Rate,
    ReverseFunnel,
    Step,
    reverse_funnel,
    set_goal,
)
from domain.report import Figure, Scope, shown_value
from domain.users import Action, User
from domain.values import in_words, shown_time
from storage.agreements import SqlAgreementStore, current_agreement, current_calendar
from storage.goals import SqlGoalStore, current_goal, goal_history
from storage.read_models.goal_progress import (
    ACTUAL,
    FORECAST,
    described,
    goal_figures,
    observed_rates,
)
from storage.targets import users_by_name
from storage.workspace import Workspace
from ui.messages import plain_label, plain_tooltip, tell
from ui.settings import keep_geometry
from ui.workers import show_error

#: The most a target may be typed as (QSpinBox holds a 32-bit number).
_MOST = 2_000_000_000


def _scrolled(content: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setWidget(content)
    return area


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(text))  # an item's text is plain text


class GoalDialog(QDialog):
    """The goal in force in a form the owner edits (others read it), its progress as the
    reports count it, and every version set before."""

    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.setWindowTitle("Shared goal")
        allowed = user.can(Action.SET_GOAL)
        intro = plain_label(
            "One goal that marketing and sales own together: what counts, how much, over "
            "which months, and its owners from both teams. Only the owner changes it; each "
            "change is kept as a version." if allowed else
            "The goal marketing and sales own together. Only the owner changes it.",
            wrap=True,
        )  # fmt: skip
        self.metric_box = QComboBox()
        for metric in Metric:
            self.metric_box.addItem(metric.label, metric.value)
        self.target = QSpinBox()
        self.target.setRange(1, _MOST)
        self.target.setGroupSeparatorShown(True)
        self.start = QDateEdit()
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.months = QSpinBox()
        self.months.setRange(1, LONGEST)
        self.months.setSuffix(" months")
        self.owners = QListWidget()
        self.owners.setMaximumHeight(110)
        form = QFormLayout()
        form.addRow("Metric", self.metric_box)
        form.addRow("Target", self.target)
        form.addRow("Starts on", self.start)
        form.addRow("Runs for", self.months)
        form.addRow("Owners", self.owners)
        form.addRow("", plain_label("At least one marketing person and one rep.", muted=True))
        for widget in (self.metric_box, self.target, self.start, self.months, self.owners):
            widget.setEnabled(allowed)
        self.progress = QGridLayout()
        progress = QGroupBox("Progress")
        progress.setLayout(self.progress)
        self.said = plain_label(wrap=True)
        self.history = _table(["Version", "Goal", "Owners", "Set by", "Set on"])
        self.history.setMinimumHeight(120)
        history = QGroupBox("Versions")
        QVBoxLayout(history).addWidget(self.history)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.addWidget(intro)
        inner.addLayout(form)
        inner.addWidget(self.said)
        inner.addWidget(progress)
        inner.addWidget(history, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.addButton(
            "Save as a new version", QDialogButtonBox.ButtonRole.ApplyRole
        )
        _allow(self.save_button, user, Action.SET_GOAL, "Only the owner sets the shared goal.")
        self.save_button.clicked.connect(self.save)
        self.arithmetic_button = QPushButton("From the goal to the agreement…")
        self.arithmetic_button.clicked.connect(self.to_agreement)
        self.buttons.addButton(self.arithmetic_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(_scrolled(content))
        layout.addWidget(self.buttons)
        self._load()
        keep_geometry(self, QSize(760, 640))

    def _load(self) -> None:
        now = datetime.now(UTC)
        with self.workspace.read() as conn:
            people = users_by_name(conn)
            version = current_goal(conn)
            history = goal_history(conn)
            figures: list[Figure] = []
            if version is not None:
                scope = Scope(version.goal.period, current_calendar(conn), now)
                figures = goal_figures(conn, scope)
        goal = version.goal if version is not None else None
        chosen = set(goal.owners) if goal else set()
        self.owners.clear()
        for name, person in sorted(people.items()):
            item = QListWidgetItem(f"{name} — {person.role}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in chosen else
                               Qt.CheckState.Unchecked)  # fmt: skip
            self.owners.addItem(item)
        if goal is not None:
            self.metric_box.setCurrentIndex(self.metric_box.findData(goal.metric.value))
            self.target.setValue(min(goal.target, _MOST))
            self.start.setDate(QDate(goal.start.year, goal.start.month, goal.start.day))
            self.months.setValue(goal.months)
        else:
            today = now.date()
            self.start.setDate(QDate(today.year, today.month, 1))
            self.months.setValue(6)
        self.said.setText(described(version) if version else "No shared goal is set yet.")
        self._show_progress(figures)
        _fill(self.history, [
            [str(v.number), _goal_text(v.goal), in_words(list(v.goal.owners)), v.set_by,
             shown_time(v.set_at)] for v in history
        ])  # fmt: skip
        self.arithmetic_button.setEnabled(version is not None)
        self.arithmetic_button.setToolTip(
            "" if version else plain_tooltip("Set a goal first: the arithmetic starts from it.")
        )

    def _show_progress(self, figures: list[Figure]) -> None:
        while self.progress.count():
            item = self.progress.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        if not figures:
            self.progress.addWidget(plain_label("Nothing to measure until a goal is set."), 0, 0)
            return
        for row, figure in enumerate(figures):
            value = "—" if figure.value is None else shown_value(figure)
            if figure.standing and figure.label in _AGAINST:
                value += f", {_STANDING[figure.standing]} {_AGAINST[figure.label]}"
            self.progress.addWidget(plain_label(figure.label), row, 0)
            self.progress.addWidget(plain_label(value), row, 1)
            self.progress.addWidget(plain_label(figure.basis, wrap=True, muted=True), row, 2)
        self.progress.setColumnStretch(2, 1)

    def goal(self) -> Goal:
        chosen = []
        for row in range(self.owners.count()):
            item = self.owners.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                chosen.append(str(item.data(Qt.ItemDataRole.UserRole)))
        start = self.start.date()
        return Goal(Metric(self.metric_box.currentData()), self.target.value(),
                    date(start.year(), start.month(), start.day()), self.months.value(),
                    tuple(chosen))  # fmt: skip

    def save(self) -> None:
        try:
            version = set_goal(SqlGoalStore(self.workspace), self.user, self.goal())
        except AccordError as error:
            show_error(self, "Goal not saved", error)
            return
        self._load()
        tell(self, "Goal saved", f"The shared goal is now version {version.number}.")

    def to_agreement(self) -> None:
        with self.workspace.read() as conn:
            version = current_goal(conn)
        if version is not None:
            GoalToAgreementDialog(self.workspace, self.user, version, self).exec()


def _allow(button: QPushButton, user: User, action: Action, reason: str) -> None:
    """Enable ``button`` for those whose role allows ``action``; to the others it says why
    it is not theirs (the domain checks it again when it is pressed)."""
    if not user.can(action):
        button.setEnabled(False)
        button.setToolTip(plain_tooltip(reason))


#: How a figure stands, said against what it is measured by.
_STANDING = {Standing.MET: "on or ahead of", Standing.CLOSE: "close to", Standing.MISSED: "behind"}
_AGAINST = {ACTUAL: "the pace", FORECAST: "the target"}


def _goal_text(goal: Goal) -> str:
    return f"{goal.metric.label}: {goal.target:,} over {goal.period.label}"


class GoalToAgreementDialog(QDialog):
    """The reverse funnel, step by step, from the goal in force and the rates of the last
    six months; the owner types a rate or an average deal where history has none (or to
    override it) and saves the result as the agreement's numbers."""

    def __init__(
        self, workspace: Workspace, user: User, version: GoalVersion, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user, self.version = workspace, user, version
        self.setWindowTitle("From the goal to the agreement")
        with workspace.read() as conn:
            self.observed = observed_rates(conn, current_calendar(conn), datetime.now(UTC))
            self.agreement = current_agreement(conn)
        allowed = user.can(Action.EDIT_AGREEMENT)
        intro = plain_label(
            f"{described(version)} Worked back from it with what the last six months show; "
            "type a figure where history has none, or to use your own.",
            wrap=True,
        )
        observed = self.observed
        deal = observed.average_deal
        self.deal = QSpinBox()
        self.deal.setRange(0, _MOST)
        self.deal.setGroupSeparatorShown(True)
        self.deal.setSpecialValueText("from history")
        self.rates = {name: _rate_box() for name in _RATES}
        inputs = QFormLayout()
        inputs.addRow("Average won deal", _with_basis(
            self.deal, "no won deal yet" if deal is None
            else f"{deal:,} from {observed.wins:,} won deals"))  # fmt: skip
        for name, (label, field) in _RATES.items():
            rate: Rate = getattr(observed, field)
            seen = "no history" if rate.value is None else f"{rate.value:.0%} ({rate.basis})"
            inputs.addRow(label, _with_basis(self.rates[name], seen))
        self.steps = _table(["Step", "Figure", "How"])
        self.steps.setMinimumHeight(220)
        self.missing = plain_label(wrap=True)
        self.per_month = QSpinBox()
        self.per_month.setRange(0, _MOST)
        self.per_rep = QSpinBox()
        self.per_rep.setRange(0, _MOST)
        self.per_rep.setSpecialValueText("not per rep")
        chosen = QFormLayout()
        chosen.addRow("Sales-ready hand-offs a month", self.per_month)
        chosen.addRow("of which per rep", self.per_rep)
        for widget in (self.deal, *self.rates.values(), self.per_month, self.per_rep):
            widget.setEnabled(allowed)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.addWidget(intro)
        inner.addLayout(inputs)
        inner.addWidget(self.steps, 1)
        inner.addWidget(self.missing)
        inner.addWidget(plain_label("The agreement's numbers (round or change them):"))
        inner.addLayout(chosen)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = self.buttons.addButton(
            "Save as the agreement's numbers", QDialogButtonBox.ButtonRole.AcceptRole
        )
        _allow(self.save_button, user, Action.EDIT_AGREEMENT,
               "Only the owner changes the service agreement.")  # fmt: skip
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(_scrolled(content))
        layout.addWidget(self.buttons)
        self.allowed = allowed
        self.funnel: ReverseFunnel | None = None
        self.deal.valueChanged.connect(self.work_out)
        for box in self.rates.values():
            box.valueChanged.connect(self.work_out)
        self.work_out()
        keep_geometry(self, QSize(760, 640))

    def entered(self) -> Observed:
        """The observed rates with what the owner typed in their place."""
        observed = self.observed

        def rate(name: str) -> Rate:
            typed = self.rates[name].value()
            return Rate(entered=typed / 100) if typed else getattr(observed, _RATES[name][1])

        return replace(
            observed,
            opportunity_to_won=rate("won"),
            meeting_to_opportunity=rate("opportunity"),
            handoff_to_meeting=rate("meeting"),
            entered_deal=self.deal.value() or observed.entered_deal,
        )

    def work_out(self) -> None:
        try:
            self.funnel = reverse_funnel(self.version.goal, self.entered())
        except MissingRate as missing:
            self.funnel = None
            self.missing.setText(f"Not worked out yet: {missing}.")
            _fill(self.steps, [])
        else:
            self.missing.setText("")
            _fill(self.steps, [[s.step, _figure(s), s.how] for s in self.funnel.steps])
            self.per_month.setValue(self.funnel.handoffs_per_month)
            self.per_rep.setValue(self.funnel.handoffs_per_rep or 0)
        self.save_button.setEnabled(self.allowed and self.funnel is not None)

    def accept(self) -> None:
        if self.funnel is None:
            return
        marketing = replace(self.agreement.marketing, handoffs_per_month=self.per_month.value(),
                            handoffs_per_rep=self.per_rep.value() or None)  # fmt: skip
        agreement = replace(self.agreement, marketing=marketing,
                            arithmetic=tuple(self.funnel.to_document()))  # fmt: skip
        try:
            saved = save_agreement(SqlAgreementStore(self.workspace), self.user, agreement)
        except AccordError as error:
            show_error(self, "Agreement not saved", error)
            return
        tell(self, "Agreement saved",
             f"The agreement is now version {saved.number}: {marketing.handoffs_per_month:,} "
             "sales-ready hand-offs a month, with the arithmetic kept beside them.")  # fmt: skip
        super().accept()


#: The rates the arithmetic takes: what the form calls each, and its field of Observed.
_RATES = {
    "won": ("Opportunity → won", "opportunity_to_won"),
    "opportunity": ("Meeting → opportunity", "meeting_to_opportunity"),
    "meeting": ("Hand-off → meeting", "handoff_to_meeting"),
}


def _rate_box() -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0, 100)
    box.setDecimals(1)
    box.setSuffix(" %")
    box.setSpecialValueText("from history")
    return box


def _with_basis(box: QWidget, basis: str) -> QWidget:
    row = QWidget()
    line = QHBoxLayout(row)
    line.setContentsMargins(0, 0, 0, 0)
    line.addWidget(box)
    line.addWidget(plain_label(f"history: {basis}", muted=True), 1)
    return row


def _figure(step: Step) -> str:
    """A rate as a percentage (its step reads "a → b"), anything else as a number."""
    return f"{step.figure:.0%}" if "→" in step.step else f"{step.figure:,.0f}"
