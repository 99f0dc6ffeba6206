"""The one way the UI makes a text label: an object name for the style sheet, word wrap on
unless told otherwise, centred on request."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def label(text: str = "", name: str = "", *, center: bool = False,
          wrap: bool = True) -> QLabel:
    """A QLabel showing `text`, styled by the sheet's rules for `name` (e.g. "title")."""
    lab = QLabel(text)
    if name:
        lab.setObjectName(name)
    lab.setWordWrap(wrap)
    if center:
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return lab
