"""The small pieces every maintenance section is built from.

A key/value grid, an inline confirmation, a read-only monospace text, a message label that
changes its style by kind, and the style sheet the maintenance screen lays over the window's.
Technicians read the log and the config in bulk, so those are monospace and smaller; the rest
keeps the residents' sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from kiosk.ui.theme import Colours
from kiosk.ui.widgets.label import label

NAV_PX = 70  # content height: with padding and border a section button is 84 px (floor: 80)


def style_sheet(colours: Colours) -> str:
    """What the maintenance screen adds to the window's style sheet."""
    return f"""
QPushButton#maintNav {{
  min-height: {NAV_PX}px; max-height: {NAV_PX}px; font-size: 30px; padding: 4px 16px;
}}
QPlainTextEdit#mono {{
  font-family: "Noto Sans Mono CJK SC", monospace; font-size: 22px;
  background: {colours.paper}; border: 2px solid {colours.card_border}; border-radius: 8px;
}}
QScrollArea {{ background: transparent; border: none; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QScrollBar:vertical {{ width: 36px; }}
"""


def breakable(text: str) -> str:
    """`text` with zero-width spaces after separators, so a long path or key can wrap.

    A word-wrapped QLabel breaks only at spaces; an unbroken path would widen the label past
    the panel's edge instead.
    """
    for sep in ("/", "\\", "_", ".", ":", ",", "=", "-"):
        text = text.replace(sep, sep + "\u200b")
    return text


def scrolling(widget: QWidget) -> None:
    """Drag to scroll, as on a phone: a scroll bar is a small target for a finger."""
    QScroller.grabGesture(widget, QScroller.ScrollerGestureType.LeftMouseButtonGesture)


def mono() -> QPlainTextEdit:
    """A read-only monospace text (the log, the config), scrolled by dragging."""
    edit = QPlainTextEdit()
    edit.setObjectName("mono")
    edit.setReadOnly(True)
    edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
    edit.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    edit.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
    scrolling(edit.viewport())
    return edit


def show_message(lab: QLabel, text: str, kind: str) -> None:
    """Show `text` in `lab` styled as `kind` ("ok", "notice", "error")."""
    if lab.objectName() != kind:
        lab.setObjectName(kind)
        # The style sheet is matched by object name. Setting a (differing) style sheet of
        # its own re-polishes the label fully; style().polish() alone keeps the old padding.
        lab.setStyleSheet(f"/* {kind} */")
    lab.setText(text)
    lab.show()


class InfoGrid(QWidget):
    """Rows of `key  value` labels, the value word-wrapped."""

    def __init__(self, keys: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(10)
        grid.setColumnStretch(1, 1)
        self.keys: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        for row, key in enumerate(keys):
            k = label(name="small", wrap=False)
            v = label()
            v.setTextFormat(Qt.TextFormat.PlainText)
            grid.addWidget(k, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(v, row, 1)
            self.keys[key] = k
            self.values[key] = v

    def set_key(self, key: str, text: str) -> None:
        self.keys[key].setText(text)

    def set(self, key: str, text: str) -> None:
        self.values[key].setText(breakable(text))

    def value(self, key: str) -> str:
        return self.values[key].text().replace("\u200b", "")


class ConfirmRow(QFrame):
    """An inline "are you sure?": a modal dialog would be small, and could hide behind the
    full-screen window."""

    confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.question = label(name="notice")
        row = QHBoxLayout()
        self.yes = QPushButton()
        self.yes.setObjectName("primary")
        self.no = QPushButton()
        row.addWidget(self.no)
        row.addWidget(self.yes)
        layout.addWidget(self.question)
        layout.addLayout(row)
        self.yes.clicked.connect(self._yes)
        self.no.clicked.connect(self.hide)
        self.hide()

    def ask(self, question: str, yes: str, no: str) -> None:
        self.question.setText(question)
        self.yes.setText(yes)
        self.no.setText(no)
        self.show()

    def _yes(self) -> None:
        self.hide()
        self.confirmed.emit()
