"""The Plan window (Plan › The plan…): the written plan as it will be printed, Draft or
Agreed in plain sight, who signed what, and a Sign button for the user's side (the owner
chooses the side)."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from domain.errors import AccordError
from domain.plan import PlanState, Side, side_of, sign_plan
from domain.users import Action, Role, User
from storage.plan import SqlPlanStore
from storage.read_models.dashboard import dashboard_scope
from storage.read_models.plan_document import plan_sections
from storage.workspace import Workspace
from ui.messages import Button, ask, plain_label, plain_tooltip
from ui.report_view import SectionsView
from ui.settings import keep_geometry
from ui.workers import show_error

#: The status's colours: agreed green, draft amber (with the word, never colour alone).
_STATUS_STYLE = {
    True: "background: #dcefdc; color: #1e5a1e",
    False: "background: #fbe9c6; color: #6b4a00",
}


class PlanWindow(QDialog):
    def __init__(self, workspace: Workspace, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.store = SqlPlanStore(workspace)
        self.setWindowTitle("The plan")
        self.status = plain_label()
        self.status.setObjectName("plan status")
        self.summary = plain_label(wrap=True)
        self.summary.setObjectName("plan summary")
        self.document = QScrollArea()
        self.document.setWidgetResizable(True)
        self.side = QComboBox()
        self.side.setObjectName("side")
        for side in Side:
            self.side.addItem(str(side), side)
        self.side.setCurrentIndex(list(Side).index(side_of(user)))
        side_label = plain_label("Sign for")
        side_label.setBuddy(self.side)
        for widget in (side_label, self.side):
            widget.setVisible(user.role is Role.OWNER)
        self.side.currentIndexChanged.connect(self._update_sign)
        self.sign_button = QPushButton()
        self.sign_button.setObjectName("sign")
        self.sign_button.clicked.connect(self.sign)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        head = QHBoxLayout()
        head.addWidget(self.status)
        head.addWidget(self.summary, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(side_label)
        bottom.addWidget(self.side)
        bottom.addWidget(self.sign_button)
        bottom.addStretch()
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.document, 1)
        layout.addLayout(bottom)
        self.state: PlanState = self.store.plan_state()
        self.refresh()
        keep_geometry(self, QSize(960, 760))

    def chosen_side(self) -> Side:
        return Side(self.side.currentData())  # Qt hands a StrEnum back as its text

    def refresh(self) -> None:
        with self.workspace.read() as conn:
            scope = dashboard_scope(conn, datetime.now(UTC), this_month=True)
            sections = plan_sections(conn, scope)
        self.state = self.store.plan_state()
        agreed = self.state.agreed
        self.status.setText(self.state.status)
        self.status.setStyleSheet(
            f"{_STATUS_STYLE[agreed]}; font-size: 20px; font-weight: 700; padding: 6px 14px"
        )
        self.summary.setText("\n".join(self.state.summary()))
        # The first section says what the head says: the document shows the parts on.
        self.document.setWidget(SectionsView(sections[1:]))
        self._update_sign()

    def _update_sign(self) -> None:
        side = self.chosen_side()
        self.sign_button.setText(f"Sign for {side}…")
        signed = self.state.latest(side)
        refusal = ""
        if not self.user.can(Action.SIGN_PLAN):
            refusal = "Your role does not sign the plan."
        elif signed is not None and not self.state.changed(side):
            refusal = f"{signed.signed_by} signed the plan as it is now for {side} already."
        self.sign_button.setEnabled(not refusal)
        self.sign_button.setToolTip(plain_tooltip(refusal))

    def sign(self) -> None:
        side = self.chosen_side()
        question = (
            f"Sign the plan as it is now for {side}, as {self.user.name}? Both sides "
            "sign again when one of its parts changes."
        )
        if ask(self, "Sign the plan", question) != Button.Yes:
            return
        try:
            sign_plan(self.store, self.user, side, datetime.now(UTC))
        except AccordError as error:
            show_error(self, "Not signed", error)
        self.refresh()
