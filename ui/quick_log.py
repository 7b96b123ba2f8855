"""The quick-log dialog: a call, visit, email, meeting or video call logged in seconds from
the keyboard (Ctrl+L on the accounts list, in the account window and in the call queue).

The cursor starts in the outcome (type its first letters), Tab goes on to what was learned,
Enter saves (Shift+Enter starts a new line). Every change is kept in a file on this
computer (storage.unsaved) until the workspace holds the entry, so a crash or a closed
window loses nothing: the dialog opened again for that account offers it back.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from typing import Any
from uuid import UUID

from PySide6.QtCore import QDateTime, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from domain.accounts import Contact
from domain.errors import AccordError, ValidationError
from domain.interactions import (
    Channel,
    Interaction,
    LeadVerdict,
    Outcome,
    correct_interaction,
    log_interaction,
    parse_outcome,
    typed_entry,
)
from domain.users import User
from domain.values import shown_time
from storage.repositories import SqlUnitOfWork
from storage.unsaved import UnsavedLogs
from storage.workspace import Workspace
from ui.messages import plain_label
from ui.settings import keep_geometry, remember_channel, remembered_channel
from ui.workers import show_error

#: The shortcut of the quick log, wherever an account is at hand (nothing else takes it).
LOG_SHORTCUT = "Ctrl+L"
#: The contact box's first and last choices, besides the account's contacts.
NOBODY, SOMEONE_NEW = "", "new"
#: How a time is typed in the dialog: the domain reads it on this computer's clock.
_TIME_FORMAT = "yyyy-MM-dd HH:mm"


class _TextBox(QPlainTextEdit):
    """A text box where Tab moves on and Enter saves the dialog; Shift+Enter starts a line."""

    submitted = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class QuickLogDialog(QDialog):
    """Log an interaction against one account, or correct ``correcting`` (an entry of its
    history): the form then starts from that entry and saving stores the correction."""

    def __init__(
        self,
        workspace: Workspace,
        user: User,
        account_id: UUID,
        correcting: Interaction | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user, self.account_id = workspace, user, account_id
        self.correcting = correcting
        self.corrects = correcting.id if correcting is not None else None
        self.unsaved = UnsavedLogs(workspace)
        self.logged: Interaction | None = None
        self.meaningful_touched = False
        with SqlUnitOfWork.reading(workspace) as uow:
            account = uow.accounts.get(account_id)
            self.contacts = uow.contacts.for_account(account_id)
        self.account_name = account.name if account is not None else "a deleted account"
        self.setWindowTitle(
            f"Correct an entry of {self.account_name}"
            if correcting is not None
            else f"Log an interaction with {self.account_name}"
        )
        self._build()
        self._fill(correcting)
        self.started = self.typed()
        self._offer_draft()
        self._connect_draft()
        self.outcome.setFocus()
        keep_geometry(self, QSize(640, 640))

    # --- the form ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.outcome = QComboBox()
        self.outcome.setPlaceholderText("Type its first letters: conversation, voicemail…")
        for outcome in Outcome:
            self.outcome.addItem(outcome.label, outcome.value)
        self.outcome.setCurrentIndex(-1)
        self.value = QLineEdit()
        self.value.setPlaceholderText("12,500 or 1.2M")
        self.reason = QLineEdit()
        self.learned = _TextBox()
        self.learned.setPlaceholderText("What you learned (Shift+Enter for a new line)")
        self.learned.setMinimumHeight(90)
        self.next_step = QLineEdit()
        self.next_step.setPlaceholderText("What happens next")
        self.follow_up = QLineEdit()
        self.follow_up.setPlaceholderText("YYYY-MM-DD, empty for none")
        self.commitments = QLineEdit()
        self.commitments.setPlaceholderText("What you promised the customer")
        self.contact = QComboBox()
        self.contact.addItem("Nobody in particular", NOBODY)
        for contact in self.contacts:
            title = f" ({contact.title})" if contact.title else ""
            self.contact.addItem(contact.name + title, str(contact.id))
        self.contact.addItem("Someone new…", SOMEONE_NEW)
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("Their name")
        self.new_title = QLineEdit()
        self.new_title.setPlaceholderText("Their title")
        self.channel = QComboBox()
        for channel in Channel:
            self.channel.addItem(channel.label, channel.value)
        self.at = QDateTimeEdit(QDateTime.currentDateTime())
        self.at.setDisplayFormat(_TIME_FORMAT)
        self.at.setCalendarPopup(True)
        self.meaningful = QCheckBox("Someone was reached and it moved things on")
        self.quality = QSpinBox()
        self.quality.setRange(0, 5)
        self.quality.setSpecialValueText("not rated")
        self.quality.setSuffix(" of 5")
        self.lead = QComboBox()
        self.lead.addItem("not said", "")
        for verdict in LeadVerdict:
            self.lead.addItem(verdict.value.capitalize(), verdict.value)

        self.inputs: dict[str, QWidget] = {
            "outcome": self.outcome, "value": self.value, "reason": self.reason,
            "learned": self.learned, "next_step": self.next_step,
            "follow_up": self.follow_up, "commitments": self.commitments,
            "contact": self.contact, "channel": self.channel, "at": self.at,
            "meaningful": self.meaningful, "quality": self.quality, "lead": self.lead,
        }  # fmt: skip
        labels = {
            "outcome": "&Outcome", "value": "Deal &value", "reason": "&Why",
            "learned": "What you &learned", "next_step": "&Next step",
            "follow_up": "&Follow up on", "commitments": "&Promised", "contact": "&Contact",
            "channel": "C&hannel", "at": "&When", "meaningful": "&Meaningful",
            "quality": "Lead &quality", "lead": "Lead &accepted",
        }  # fmt: skip
        self.problems: dict[str, QLabel] = {}
        self.rows: dict[str, int] = {}
        form = QWidget()
        self.form = QFormLayout(form)
        for name, editor in self.inputs.items():
            problem = plain_label(wrap=True)
            problem.setStyleSheet("color: #b00020")
            problem.hide()
            self.problems[name] = problem
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(editor)
            if name == "contact":
                new = QHBoxLayout()
                new.addWidget(self.new_name, 2)
                new.addWidget(self.new_title, 1)
                self.new_contact = QWidget()
                self.new_contact.setLayout(new)
                new.setContentsMargins(0, 0, 0, 0)
                column.addWidget(self.new_contact)
            column.addWidget(problem)
            self.rows[name] = self.form.rowCount()
            self.form.addRow(labels[name], column)
            label = self.form.labelForField(column)
            if isinstance(label, QLabel):  # its mnemonic (Alt+O …) goes to the editor
                label.setBuddy(editor)
        order = [*self.inputs.values()]
        order.insert(order.index(self.contact) + 1, self.new_name)
        order.insert(order.index(self.new_name) + 1, self.new_title)
        for first, second in pairwise(order):
            QWidget.setTabOrder(first, second)

        self.general = plain_label(wrap=True)
        self.general.setStyleSheet("color: #b00020")
        self.general.hide()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(form)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setDefault(True)
        save.setToolTip("Enter saves; what you typed is kept on this computer until then")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.learned.submitted.connect(self.save)
        self.restored = plain_label(muted=True, wrap=True)
        self.restored.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.restored)
        layout.addWidget(self.general)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.buttons)
        self.outcome.currentIndexChanged.connect(self._outcome_changed)
        self.lead.currentIndexChanged.connect(self._show_rows)
        self.contact.currentIndexChanged.connect(self._show_rows)
        self.meaningful.clicked.connect(self._meaningful_touched)
        remembered = remembered_channel(self.user.name)
        self.channel.setCurrentIndex(max(0, self.channel.findData(remembered)))
        self._show_rows()

    def _meaningful_touched(self) -> None:
        self.meaningful_touched = True

    def _chosen_outcome(self) -> Outcome | None:
        value = self.outcome.currentData()
        return parse_outcome(value) if value else None

    def _outcome_changed(self) -> None:
        outcome = self._chosen_outcome()
        if outcome is not None and not self.meaningful_touched:
            self.meaningful.setChecked(outcome.meaningful)
        self._show_rows()

    def _show_rows(self) -> None:
        """The deal value only for an opportunity or a win; the reason when one is asked
        for (a lost deal, an account that is not a fit, a rejected lead) or typed; a new
        contact's name when someone new was met."""
        outcome = self._chosen_outcome()
        needs_reason = (outcome is not None and outcome.needs_reason) or (
            self.lead.currentData() == LeadVerdict.REJECTED.value
        )
        self.form.setRowVisible(
            self.rows["value"],
            (outcome is not None and outcome.needs_value) or bool(self.value.text()),
        )
        self.form.setRowVisible(self.rows["reason"], needs_reason or bool(self.reason.text()))
        self.new_contact.setVisible(self.contact.currentData() == SOMEONE_NEW)

    # --- what was typed ---------------------------------------------------------------------
    def typed(self) -> dict[str, Any]:
        """The form as plain values: what the draft file keeps and the domain reads."""
        return {
            "outcome": self.outcome.currentData() or "",
            "value": self.value.text(),
            "reason": self.reason.text(),
            "learned": self.learned.toPlainText(),
            "next_step": self.next_step.text(),
            "follow_up": self.follow_up.text(),
            "commitments": self.commitments.text(),
            "contact": self.contact.currentData(),
            "new_name": self.new_name.text(),
            "new_title": self.new_title.text(),
            "channel": self.channel.currentData(),
            "at": self.at.dateTime().toString(_TIME_FORMAT),
            "meaningful": self.meaningful.isChecked() if self.meaningful_touched else None,
            "quality": str(self.quality.value() or ""),
            "lead": self.lead.currentData(),
        }

    def _load(self, typed: dict[str, Any]) -> None:
        def pick(box: QComboBox, data: Any) -> None:
            box.setCurrentIndex(box.findData(data) if data else (-1 if box is self.outcome else 0))

        pick(self.outcome, typed.get("outcome"))
        pick(self.channel, typed.get("channel"))
        pick(self.lead, typed.get("lead"))
        pick(self.contact, typed.get("contact"))
        for name in ("value", "reason", "next_step", "follow_up", "commitments", "new_name",
                     "new_title"):  # fmt: skip
            getattr(self, name).setText(str(typed.get(name) or ""))
        self.learned.setPlainText(str(typed.get("learned") or ""))
        at = QDateTime.fromString(str(typed.get("at") or ""), _TIME_FORMAT)
        if at.isValid():
            self.at.setDateTime(at)
        self.quality.setValue(int(typed.get("quality") or 0))
        meaningful = typed.get("meaningful")
        self.meaningful_touched = meaningful is not None
        if meaningful is not None:
            self.meaningful.setChecked(bool(meaningful))
        self._show_rows()

    def _fill(self, entry: Interaction | None) -> None:
        """Start from ``entry`` (the one corrected), as it was logged."""
        if entry is None:
            return
        self._load({
            "outcome": entry.outcome.value, "channel": entry.channel.value,
            "value": f"{entry.value:,}" if entry.value is not None else "",
            "reason": entry.reason, "learned": entry.learned, "next_step": entry.next_step,
            "follow_up": entry.follow_up.isoformat() if entry.follow_up else "",
            "commitments": entry.commitments,
            "contact": str(entry.contact_id) if entry.contact_id else NOBODY,
            "at": shown_time(entry.at, "%Y-%m-%d %H:%M"),
            "meaningful": entry.meaningful, "quality": str(entry.quality or ""),
            "lead": entry.lead.value if entry.lead else "",
        })  # fmt: skip

    def _offer_draft(self) -> None:
        draft = self.unsaved.find(self.account_id, self.corrects)
        if draft is None:
            return
        self._load(draft)
        self.restored.setText(
            "This is what you typed here before and did not save. Save it, change it, or "
            "clear the fields you do not want."
        )
        self.restored.show()

    def _connect_draft(self) -> None:
        for box in (self.outcome, self.channel, self.lead, self.contact):
            box.currentIndexChanged.connect(self._keep)
        for line in (self.value, self.reason, self.next_step, self.follow_up, self.commitments,
                     self.new_name, self.new_title):  # fmt: skip
            line.textChanged.connect(self._keep)
        self.learned.textChanged.connect(self._keep)
        self.at.dateTimeChanged.connect(self._keep)
        self.quality.valueChanged.connect(self._keep)
        self.meaningful.clicked.connect(self._keep)

    def _keep(self) -> None:
        """Every change is on disk before anything else happens (a crash loses nothing)."""
        self.unsaved.keep(self.account_id, self.corrects, self.typed())

    def reject(self) -> None:
        """Closed: what was typed stays on this computer for next time, unless it is what
        the form started with."""
        if self.typed() == self.started:
            self.unsaved.forget(self.account_id, self.corrects)
        super().reject()

    # --- saving -----------------------------------------------------------------------------
    def entry(self) -> tuple[Interaction, Contact | None]:
        """The entry the form holds, and the contact met on the spot (a ValidationError
        names each field that cannot be read)."""
        typed = self.typed()
        entry = typed_entry(self.account_id, {k: v for k, v in typed.items() if isinstance(v, str)})
        new_contact = None
        if typed["contact"] == SOMEONE_NEW:
            new_contact = Contact(
                self.account_id, typed["new_name"], title=typed["new_title"] or None
            )
        elif typed["contact"]:
            entry = replace(entry, contact_id=UUID(typed["contact"]))
        if typed["meaningful"] is not None:
            entry = replace(entry, meaningful=typed["meaningful"])
        return entry, new_contact

    def save(self) -> None:
        try:
            entry, new_contact = self.entry()
            uow = SqlUnitOfWork(self.workspace)
            if self.corrects is not None:
                self.logged = correct_interaction(uow, self.user, self.corrects, entry).interaction
            else:
                logged = log_interaction(uow, self.user, entry, new_contact)
                self.logged = logged.interaction
        except ValidationError as error:
            self.show_problems(error.problems)
            return
        except AccordError as error:
            show_error(self, "Not logged", error)
            return
        self.unsaved.forget(self.account_id, self.corrects)
        remember_channel(self.user.name, self.logged.channel.value)
        self.accept()

    def show_problems(self, problems: dict[str, str]) -> None:
        """Each refusal under its field (the form kept as typed); the first one focused."""
        for name, label in self.problems.items():
            label.setText(problems.get(name, "").capitalize())
            label.setVisible(name in problems)
            if name in problems:
                self.form.setRowVisible(self.rows[name], True)
        others = [f"{why[:1].upper()}{why[1:]}." for name, why in problems.items()
                  if name not in self.problems]  # fmt: skip
        self.general.setText(" ".join(others))
        self.general.setVisible(bool(others))
        first = next((name for name in self.inputs if name in problems), None)
        if first is not None:
            self.inputs[first].setFocus()


def open_quick_log(
    parent: QWidget | None,
    workspace: Workspace,
    user: User,
    account_id: UUID,
    correcting: Interaction | None = None,
) -> bool:
    """Log an interaction with the account (or correct ``correcting``); True when saved."""
    return bool(QuickLogDialog(workspace, user, account_id, correcting, parent).exec())
