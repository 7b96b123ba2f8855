"""Message boxes, labels and tooltips that show what users typed as text, never as markup.

Qt guesses whether a label's text is HTML (``Qt.AutoText``), and so do the static
``QMessageBox.question``/``warning``/``information``/``critical`` and tooltips: a contact
named ``<h1>Ann</h1>`` would show as a heading, and ``<img src=…>`` would ask for an image.
Everything in ui/ that can show user data builds its boxes, labels and tooltips here.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

Button = QMessageBox.StandardButton
Icon = QMessageBox.Icon


def message_box(
    parent: QWidget | None, icon: Icon, title: str, text: str, buttons: Button = Button.Ok
) -> QMessageBox:
    """A message box whose text shows exactly as given."""
    box = QMessageBox(icon, title, text, buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


def ask(
    parent: QWidget | None, title: str, text: str, buttons: Button = Button.Yes | Button.No
) -> Button:
    """Ask a question; the button chosen (Escape gives No or Cancel)."""
    return Button(message_box(parent, Icon.Question, title, text, buttons).exec())


def tell(parent: QWidget | None, title: str, text: str) -> None:
    """Say what happened, and wait for OK."""
    message_box(parent, Icon.Information, title, text).exec()


def plain_label(text: str = "", *, wrap: bool = False, muted: bool = False) -> QLabel:
    """A label whose text shows exactly as given."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if muted:
        label.setStyleSheet("color: #5f6b7a")
    return label


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` as typed: a tooltip has no text format of its own,
    so the text is escaped into rich text that keeps its spaces and lines and still wraps."""
    return f'<p style="white-space: pre-wrap">{escape(text)}</p>' if text else ""


def chart_text(text: str) -> str:
    """Text for Qt's charts, which draw a chart's title, its categories and its series'
    names as rich text: an industry named ``<b>Retail</b>`` shows as typed."""
    return escape(text, quote=False)
