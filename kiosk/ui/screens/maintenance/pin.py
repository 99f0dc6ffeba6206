"""The maintenance PIN screen: a masked entry on a digit keypad, and why a PIN was refused.

It only shows what the controller says (checking, wrong, locked, no PIN configured) and emits
the entered PIN; `kiosk.domain.pin.PinGuard` checks it, on the controller's worker thread.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen
from kiosk.ui.screens.maintenance.parts import show_message
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.keypad import Keypad, apply_key

PIN_MAX_LEN = 12  # kiosk.domain.pin: PIN_MAX_DIGITS (10-12 digits; 6-12 for an old scrypt hash)
MASK = "●"


class PinScreen(Screen):
    """The maintenance PIN: a masked entry, digits only, and why it was refused."""

    name = ScreenName.MAINTENANCE_PIN
    submitted = Signal(str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._pin = ""
        self._busy = False
        self._enabled = True
        self.heading = self.label(name="title")
        self.prompt = self.label(name="subtitle")
        self.entry = QLabel()
        self.entry.setObjectName("entry")
        self.entry.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = self.label(name="error")
        self.message.hide()
        self.keypad = Keypad()
        # Digits only: a PIN never has an X, and a visible key that does nothing confuses.
        self.keypad.keys["X"].hide()
        self.keypad.keyPressed.connect(self._key)
        self.confirm_button = QPushButton()
        self.confirm_button.setObjectName("primary")
        self.confirm_button.clicked.connect(self._submit)
        text = QVBoxLayout()
        text.setSpacing(24)
        for w in (self.heading, self.prompt, self.entry, self.message):
            text.addWidget(w)
        text.addStretch(1)
        if theme.portrait:
            self.layout_.addLayout(text)
            self.layout_.addWidget(self.keypad)
            self.layout_.addWidget(self.confirm_button)
        else:
            row = QHBoxLayout()
            row.setSpacing(48)
            text.addWidget(self.confirm_button)
            row.addLayout(text, 1)
            # At its natural height: stretched over the page, the rows drift apart.
            row.addWidget(self.keypad, 1, Qt.AlignmentFlag.AlignVCenter)
            self.layout_.addLayout(row, 1)
        self.clear()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("请输入维护密码"))
        self.prompt.setText(self.tr("6–12 位数字，仅限技术人员使用"))
        self.confirm_button.setText(self.tr("确认"))
        self.keypad.retranslate()

    def title_text(self) -> str:
        return self.tr("终端维护")

    # --- entry ----------------------------------------------------------------------------
    def _key(self, key: str) -> None:
        if self._busy or not self._enabled:
            return
        self._pin = apply_key(self._pin, key, PIN_MAX_LEN)
        self.entry.setText(MASK * len(self._pin))
        self._update_confirm()

    def _submit(self) -> None:
        if self._busy or not self._pin:
            return
        pin, self._pin = self._pin, ""  # not kept on screen while it is being checked
        self.entry.clear()
        self.submitted.emit(pin)

    def _update_confirm(self) -> None:
        self.confirm_button.setEnabled(self._enabled and not self._busy and bool(self._pin))

    # --- what the controller says ---------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        if busy:
            self._show(self.tr("正在核对……"), "notice")
        self._update_confirm()

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        for key in self.keypad.keys.values():
            key.setEnabled(enabled)
        self.keypad.clear_key.setEnabled(enabled)
        if not enabled:
            self._pin = ""
            self.entry.clear()
        self._update_confirm()

    def show_wrong(self, remaining: int) -> None:
        self._show(self.tr("密码不正确。再输错 {n} 次将锁定维护功能。").format(n=remaining),
                   "error")

    def show_locked(self, until: dt.datetime) -> None:
        self.set_enabled(False)
        self._show(self.tr("密码输错次数过多，维护功能已锁定，请在 {time} 后再试。").format(
            time=until.strftime("%H:%M")), "error")

    def show_disabled(self) -> None:
        self.set_enabled(False)
        self._show(self.tr(
            "本终端未设置维护密码，维护功能无法使用。请在终端上运行 kiosk hash-pin"
            "（它把密码的哈希写入配置文件的 [maintenance] 部分），然后重启终端。"
        ), "notice")

    def show_problem(self, text: str) -> None:
        self._show(text, "error")

    def hide_message(self) -> None:
        self.message.clear()
        self.message.hide()

    def _show(self, text: str, kind: str) -> None:
        show_message(self.message, text, kind)

    @property
    def entered_length(self) -> int:
        return len(self._pin)

    def clear(self) -> None:
        self._pin = ""
        self._busy = False
        self.entry.clear()
        self.hide_message()
        self.set_enabled(True)
        self.retranslate()
