"""IdleOverlay: covers the window during the idle countdown; one tap anywhere continues."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from kiosk.ui.widgets.action_button import ActionButton
from kiosk.ui.widgets.label import label


class IdleOverlay(QFrame):
    """Covers the window during the idle countdown; one tap anywhere continues."""

    continued = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.question = label(center=True)
        self.count = label(name="overlayCount", center=True, wrap=False)
        self.hint = label(center=True)
        self.button = ActionButton()
        self.button.setObjectName("primary")
        self.button.setMinimumWidth(420)
        self.button.clicked.connect(self.continued)
        for w in (self.question, self.count, self.hint):
            layout.addWidget(w)
        layout.addSpacing(30)
        layout.addWidget(self.button, alignment=Qt.AlignmentFlag.AlignCenter)
        self.hide()

    def show_count(self, seconds: int, question: str, hint: str, button: str) -> None:
        self.question.setText(question)
        self.count.setText(str(seconds))
        self.hint.setText(hint)
        self.button.setText(button)
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
            # Centred at their size hint, wrapped lines would be narrow: give them the room.
            for label in (self.question, self.hint):
                label.setFixedWidth(max(320, min(1200, parent.width() - 160)))
        self.show()
        self.raise_()

    def mousePressEvent(self, event: object) -> None:
        self.continued.emit()
