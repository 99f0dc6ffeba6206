"""An on-screen keypad: digits (and X for ID numbers), large keys, no system keyboard.

The kiosk has no physical keyboard and an input method would keep a history of what residents
typed (a place a session reset misses), so typed fields use this widget and a plain label.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget


class Keypad(QWidget):
    keyPressed = Signal(str)  # a digit, "X", "back" or "clear"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setSpacing(12)
        self.keys: dict[str, QPushButton] = {}
        # Four rows, so the pad fits beside the page on a 1080-pixel-high landscape panel.
        layout = ["123", "456", "789", ["X", "0"]]
        for r, row in enumerate(layout):
            for c, key in enumerate(row):
                button = QPushButton()
                button.setObjectName("key")
                button.clicked.connect(lambda _=False, k=key: self.keyPressed.emit(k))
                self.keys[key] = button
                grid.addWidget(button, r, c)
        back = QPushButton()
        back.setObjectName("key")
        back.clicked.connect(lambda: self.keyPressed.emit("back"))
        self.keys["back"] = back
        grid.addWidget(back, 0, 3, 2, 1)
        self.clear_key = QPushButton()
        self.clear_key.setObjectName("key")
        self.clear_key.clicked.connect(lambda: self.keyPressed.emit("clear"))
        grid.addWidget(self.clear_key, 2, 3, 2, 1)
        self.retranslate()

    def retranslate(self) -> None:
        for key, button in self.keys.items():
            button.setText(self.tr("⌫\n删除") if key == "back" else key)
        self.clear_key.setText(self.tr("全部\n清除"))

    def allow_x(self, allowed: bool) -> None:
        self.keys["X"].setEnabled(allowed)


def apply_key(value: str, key: str, max_len: int = 32) -> str:
    if key == "back":
        return value[:-1]
    if key == "clear":
        return ""
    if len(value) >= max_len:
        return value
    return value + key
