"""ActionButton: a button that says what it does, on one line when it fits."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QSizePolicy, QWidget

from kiosk.ui.widgets.wrap_button import WrapButton


class ActionButton(WrapButton):
    """A button that says what it does ("完成，返回首页"): one line when the layout has the
    room, wrapped only when it has not (a long English label in elder type), never cut."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return self._hint(self._raw, self._detail).expandedTo(self.minimumSizeHint())
