"""The dossier editor: one text box per template section, sources, linked contacts, the
account's fit and why, status, completeness and ratings.

Nothing typed is lost: every change is written at once to a file on this computer
(storage.unsaved) and saved to the workspace shortly after typing stops, on Ctrl+S and on
closing. If someone else saved meanwhile, both edits are merged section by section; where
both changed a section, their text stays and yours is listed under "Kept texts" to settle.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from domain.dossiers import (
    Dossier,
    DossierEdit,
    DossierStatus,
    Source,
    completeness,
    rate_dossier,
    save_dossier,
    set_status,
    settle_conflict,
    start_dossier,
    status_refusal,
)
from domain.errors import AccordError
from domain.icp import reasons
from domain.users import Action, User
from domain.values import shown_time
from storage.dossiers import (
    SqlDossierStore,
    current_template,
    dossier_for,
    kept_conflicts,
    ratings_of,
)
from storage.icps import account_facts, active_version
from storage.repositories import SqlUnitOfWork
from storage.unsaved import UnsavedDossiers
from storage.workspace import Workspace
from ui.messages import plain_label, plain_tooltip
from ui.settings import keep_geometry
from ui.workers import show_error

AUTOSAVE_MS = 800


class DossierEditor(QDialog):
    """``dossier`` is the account's dossier, or the account's id when it has none yet: then
    the editor shows the current template, and the dossier starts (under your name) when
    you first type, so opening one to look leaves nothing behind."""

    def __init__(
        self,
        workspace: Workspace,
        user: User,
        dossier: Dossier | uuid.UUID,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.workspace, self.user = workspace, user
        self.store = SqlDossierStore(workspace)
        self.unsaved = UnsavedDossiers(workspace)
        self.account_id = dossier.account_id if isinstance(dossier, Dossier) else dossier
        self.dossier: Dossier | None = dossier if isinstance(dossier, Dossier) else None
        self.template = (
            self.store.template_of(dossier) if isinstance(dossier, Dossier)
            else current_template(workspace)
        )  # fmt: skip
        self.editable = user.can(Action.EDIT_DOSSIER)
        self.dirty = False
        self.timer = QTimer(self, singleShot=True, interval=AUTOSAVE_MS)
        self.timer.timeout.connect(self.save_now)
        with workspace.read() as conn:
            self.facts = account_facts(conn, self.account_id)
        with SqlUnitOfWork.reading(workspace) as uow:
            self.contacts = uow.contacts.for_account(self.account_id)
        self.setWindowTitle(f"Dossier — {self.facts['name']}")

        self.status = plain_label(wrap=True)
        self.status.setObjectName("status")
        self.progress = QProgressBar()
        self.progress.setFormat("%p% complete")
        self.saved = plain_label(wrap=True, muted=True)
        self.saved.setObjectName("saved")
        self.boxes: dict[str, QPlainTextEdit] = {}
        sections = QWidget()
        form = QVBoxLayout(sections)
        for section in self.template.sections:
            title = plain_label(section.title + (" *" if section.required else ""))
            title.setStyleSheet("font-weight: bold")
            box = QPlainTextEdit()
            box.setObjectName(f"section_{section.key}")
            box.setPlaceholderText(section.guidance)
            box.setToolTip(plain_tooltip(section.guidance))
            box.setTabChangesFocus(True)
            box.setMinimumHeight(90)
            box.setReadOnly(not self.editable)
            box.textChanged.connect(self._changed)
            form.addWidget(title)
            form.addWidget(box)
            self.boxes[section.key] = box
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(sections)

        self.sources = QTableWidget(0, 2)
        self.sources.setObjectName("sources")
        self.sources.setHorizontalHeaderLabels(["Link", "What it is"])
        self.sources.horizontalHeader().setStretchLastSection(True)
        self.sources.setColumnWidth(0, 380)
        self.sources.itemChanged.connect(self._changed)
        add_source = QPushButton("Add link")
        add_source.clicked.connect(self._add_source)
        remove_source = QPushButton("Remove link")
        remove_source.clicked.connect(self._remove_source)
        for button in (add_source, remove_source):
            button.setEnabled(self.editable)
        self.linked = QListWidget()
        self.linked.setObjectName("contacts")
        for contact in self.contacts:
            role = " (decision-maker)" if contact.decision_maker else ""
            item = QListWidgetItem(f"{contact.name}, {contact.title or 'no title'}{role}")
            item.setData(Qt.ItemDataRole.UserRole, contact.id)
            item.setCheckState(Qt.CheckState.Unchecked)
            if not self.editable:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            self.linked.addItem(item)
        self.linked.itemChanged.connect(self._changed)
        links = QWidget()
        links_layout = QVBoxLayout(links)
        links_layout.addWidget(plain_label("Source links", wrap=True))
        links_layout.addWidget(self.sources)
        row = QHBoxLayout()
        row.addWidget(add_source)
        row.addWidget(remove_source)
        row.addStretch()
        links_layout.addLayout(row)
        links_layout.addWidget(plain_label("Contacts this dossier is about", wrap=True))
        links_layout.addWidget(self.linked)

        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "Research")
        self.tabs.addTab(links, "Sources and contacts")
        self.tabs.addTab(self._fit_tab(), "Fit and why")
        self.tabs.addTab(self._ratings_tab(), "Ratings")

        self.conflicts = QWidget()
        self.conflicts_layout = QVBoxLayout(self.conflicts)
        self.ready = QPushButton("Mark &ready")
        self.ready.clicked.connect(lambda: self._move(DossierStatus.READY))
        self.reviewed = QPushButton("Mark re&viewed")
        self.reviewed.clicked.connect(lambda: self._move(DossierStatus.REVIEWED))
        self.draft = QPushButton("Back to &draft")
        self.draft.clicked.connect(lambda: self._move(DossierStatus.DRAFT))
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.ready, self.reviewed, self.draft):
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(self.saved)
        buttons.addWidget(close)

        header = QHBoxLayout()
        header.addWidget(self.status, 1)
        header.addWidget(self.progress)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.conflicts)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save_now)
        keep_geometry(self, QSize(900, 680))
        if self.dossier is None:
            self._show_state()
            self.conflicts.hide()
        else:
            self._show(self.dossier)
            self._recover()

    # --- showing -----------------------------------------------------------------------
    def _fit_tab(self) -> QWidget:
        version = active_version(self.workspace)
        tier = self.facts["tier"]
        lines = [f"Fit score {self.facts['score']}, tier {tier}" if tier else "Not in any tier"]
        if version is not None:
            lines += [f"{c}: {o}" for c, o in reasons(version.icp.evaluate(self.facts))]
        page = QWidget()
        box = QVBoxLayout(page)
        box.addWidget(plain_label("\n".join(lines), wrap=True))
        box.addStretch()
        return page

    def _ratings_tab(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        self.ratings = plain_label(wrap=True)
        self.ratings.setObjectName("ratings")
        box.addWidget(self.ratings)
        if self.user.can(Action.RATE_DOSSIER) and self.dossier is not None:
            self.stars = QComboBox()
            self.stars.setObjectName("stars")
            for n in range(5, 0, -1):
                self.stars.addItem(f"{n} of 5", n)
            self.comment = QLineEdit()
            self.comment.setObjectName("comment")
            self.comment.setPlaceholderText("What helped, what was missing")
            rate = QPushButton("Save my rating")
            rate.setObjectName("rate")
            rate.clicked.connect(self.rate)
            form = QFormLayout()
            form.addRow("How useful was it?", self.stars)
            form.addRow("Comment", self.comment)
            form.addRow("", rate)
            box.addLayout(form)
        box.addStretch()
        self._show_ratings()
        return page

    def _show_ratings(self) -> None:
        given = ratings_of(self.workspace, self.dossier.id) if self.dossier else []
        lines = [f"{r.stars}/5 from {r.rater}: {r.comment or '(no comment)'}" for r in given]
        self.ratings.setText("\n".join(lines) or "No rep has rated this dossier yet.")

    def _show(self, dossier: Dossier) -> None:
        """Put the stored dossier on screen (without counting that as an edit)."""
        self.dossier = dossier
        for widget in (*self.boxes.values(), self.sources, self.linked):
            widget.blockSignals(True)
        for key, box in self.boxes.items():
            if box.toPlainText() != dossier.texts.get(key, ""):
                box.setPlainText(dossier.texts.get(key, ""))
        self.sources.setRowCount(0)
        for source in dossier.sources:
            self._source_row(source.url, source.title)
        for n in range(self.linked.count()):
            item = self.linked.item(n)
            linked = item.data(Qt.ItemDataRole.UserRole) in dossier.contact_ids
            item.setCheckState(Qt.CheckState.Checked if linked else Qt.CheckState.Unchecked)
        for widget in (*self.boxes.values(), self.sources, self.linked):
            widget.blockSignals(False)
        self._show_state()
        self._show_conflicts()

    def _show_state(self) -> None:
        d = self.dossier
        done = completeness(self.template, self.edit().texts)
        self.progress.setValue(done)
        if d is None:
            self.status.setText(f"{self.facts['name']} has no dossier yet: it starts when "
                                "you type in a section.")  # fmt: skip
            for button in (self.ready, self.reviewed, self.draft):
                button.setEnabled(False)
            return
        when = shown_time(d.updated_at) if d.updated_at else ""
        self.status.setText(
            f"{self.facts['name']} — {d.status}, by {d.author}; last change {when} "
            f"by {d.changed_by}"
        )
        on_screen = replace(d, completeness=done)  # what a click saves before it moves
        reviewer = self.user.can(Action.REVIEW_DOSSIER)
        moves = (
            (self.ready, DossierStatus.READY, self.editable and d.status is DossierStatus.DRAFT),
            (
                self.reviewed,
                DossierStatus.REVIEWED,
                reviewer and d.status is not DossierStatus.REVIEWED,
            ),
            (
                self.draft,
                DossierStatus.DRAFT,
                self.editable and d.status is not DossierStatus.DRAFT,
            ),
        )
        for button, status, offered in moves:
            refusal = status_refusal(on_screen, self.user, status) if offered else None
            button.setEnabled(offered and refusal is None)
            button.setToolTip(plain_tooltip(refusal or ""))

    def _show_conflicts(self) -> None:
        while self.conflicts_layout.count():
            item = self.conflicts_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        titles = {s.key: s.title for s in self.template.sections}
        kept = kept_conflicts(self.workspace, self.dossier.id) if self.dossier else []
        for conflict in kept:
            row = QHBoxLayout()
            note = plain_label(
                f"Kept text for “{titles.get(conflict.section, conflict.section)}” by "
                f"{conflict.author}: someone else changed it at the same time. "
                f"Kept: {conflict.text[:120]}",
                wrap=True,
            )
            row.addWidget(note, 1)
            append = QPushButton("Add it to the section")
            append.clicked.connect(lambda _=False, c=conflict: self._settle(c, True))
            drop = QPushButton("Let it go")
            drop.clicked.connect(lambda _=False, c=conflict: self._settle(c, False))
            for button in (append, drop):
                button.setEnabled(self.editable)
                row.addWidget(button)
            holder = QWidget()
            holder.setLayout(row)
            holder.setStyleSheet("background: #fff4e5")
            self.conflicts_layout.addWidget(holder)
        self.conflicts.setVisible(bool(kept))

    # --- editing -----------------------------------------------------------------------
    @property
    def started(self) -> Dossier:
        """The dossier, for what only a started one offers (status, conflicts, rating)."""
        if self.dossier is None:
            raise AccordError("This account has no dossier yet: type in a section to start it.")
        return self.dossier

    def edit(self) -> DossierEdit:
        sources = []
        for row in range(self.sources.rowCount()):
            url, title = (self.sources.item(row, c) for c in (0, 1))
            if url is not None and url.text().strip():
                sources.append(Source(url.text().strip(), title.text().strip() if title else ""))
        linked = [
            self.linked.item(n).data(Qt.ItemDataRole.UserRole)
            for n in range(self.linked.count())
            if self.linked.item(n).checkState() == Qt.CheckState.Checked
        ]
        texts = {key: box.toPlainText() for key, box in self.boxes.items()}
        return DossierEdit(texts, tuple(sources), tuple(linked))

    def _changed(self, *_: Any) -> None:
        if not self.editable:
            return
        if self.dossier is None:
            try:
                self.dossier = start_dossier(self.store, self.user, self.account_id)
            except AccordError as error:
                self.saved.setText(f"Not started: {error} Your text is still here.")
                return
        self.dirty = True
        self.unsaved.keep(self.dossier, self.edit())  # on disk before anything else
        self.saved.setText("Editing…")
        self._show_state()
        self.timer.start()

    def _source_row(self, url: str, title: str) -> None:
        row = self.sources.rowCount()
        self.sources.insertRow(row)
        self.sources.setItem(row, 0, QTableWidgetItem(url))
        self.sources.setItem(row, 1, QTableWidgetItem(title))

    def _add_source(self) -> None:
        self.sources.blockSignals(True)
        self._source_row("https://", "")
        self.sources.blockSignals(False)
        self.sources.setCurrentCell(self.sources.rowCount() - 1, 0)
        self.sources.editItem(self.sources.currentItem())

    def _remove_source(self) -> None:
        if self.sources.currentRow() >= 0:
            self.sources.removeRow(self.sources.currentRow())
            self._changed()

    def save_now(self) -> bool:
        """Save what is on screen; True when the workspace holds it."""
        self.timer.stop()
        if self.dossier is None or not (self.dirty and self.editable):
            return True
        edit = self.edit()
        try:
            saved = save_dossier(self.store, self.user, self.dossier, edit)
        except AccordError as error:
            self.saved.setText(f"Not saved: {error} Your text is kept on this computer.")
            return False
        except Exception as error:  # e.g. the team database is out of reach
            self.saved.setText(
                f"Not saved ({type(error).__name__}); your text is kept on this computer "
                "and saved when you next open this dossier."
            )
            return False
        self.dirty = False
        self.unsaved.forget(self.dossier.id)
        self._show(saved.dossier)
        at = saved.dossier.updated_at  # a saved dossier has one; the type allows a new one
        self.saved.setText(f"Saved {shown_time(at, '%H:%M:%S')}" if at else "Saved")
        return True

    def _recover(self) -> None:
        """Text typed here before a crash (or while the database was out of reach)."""
        if not self.editable or self.dossier is None:
            return
        found = self.unsaved.find(self.dossier)
        if found is None:
            return
        before = self.dossier
        self.dossier, self.dirty = found.dossier, True
        for key, box in self.boxes.items():
            box.blockSignals(True)
            box.setPlainText(found.edit.texts.get(key, ""))
            box.blockSignals(False)
        if not self.save_now():
            self.dossier = before
            return
        self.saved.setText("Recovered text that had not been saved, and saved it.")

    def _settle(self, conflict: Any, take: bool) -> None:
        if take:
            box = self.boxes.get(conflict.section)
            if box is not None:
                box.setPlainText(f"{box.toPlainText()}\n\n{conflict.text}".strip())
                self.save_now()
        try:
            settle_conflict(self.store, self.user, self.started, conflict.section)
        except AccordError as error:
            show_error(self, "Not done", error)
        self._show_conflicts()

    def _move(self, status: DossierStatus) -> None:
        if not self.save_now():
            return
        try:
            self._show(set_status(self.store, self.user, self.started, status))
        except AccordError as error:
            show_error(self, "Status not changed", error)

    def rate(self) -> None:
        try:
            rate_dossier(self.store, self.user, self.started, self.stars.currentData(),
                         self.comment.text())  # fmt: skip
        except AccordError as error:
            show_error(self, "Rating not saved", error)
            return
        self._show_ratings()

    def done(self, result: int) -> None:
        self.save_now()  # on failure the text stays in the file on this computer
        super().done(result)

    def closeEvent(self, event: Any) -> None:
        self.save_now()
        super().closeEvent(event)


def open_dossier(parent: QWidget, workspace: Workspace, user: User, account_id: uuid.UUID) -> None:
    """The account's dossier in the editor; where there is none, marketing sees the empty
    template, and the dossier starts when they first type."""
    dossier = dossier_for(workspace, account_id)
    if dossier is None and not user.can(Action.EDIT_DOSSIER):
        show_error(parent, "No dossier", AccordError("Nobody has started a dossier here yet."))
        return
    DossierEditor(workspace, user, dossier or account_id, parent).exec()
