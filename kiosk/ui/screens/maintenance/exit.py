"""退出自助模式: close the kiosk for good (until a technician starts it), after a question."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk.ui.screens.maintenance.parts import ConfirmRow
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label


class ExitSection(Section):
    """What leaving kiosk mode means, and the button that does it once confirmed."""

    key = "exit"

    exitKioskChosen = Signal()  # confirmed

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.hint = label(name="notice")
        self.exit_button = QPushButton()
        self.exit_button.clicked.connect(self._ask_exit)
        self.exit_confirm = ConfirmRow()
        self.exit_confirm.confirmed.connect(self.exitKioskChosen)
        self.layout_.addWidget(self.hint)
        self.layout_.addStretch(1)
        self.add_buttons(self.exit_button)
        self.layout_.addWidget(self.exit_confirm)

    def title(self) -> str:
        return self.tr("退出自助模式")

    def retranslate(self) -> None:
        super().retranslate()
        self.hint.setText(self.tr(
            "退出后自助程序关闭，终端回到系统界面，居民无法再使用，"
            "而且不会自动重新启动（退出码 10）。维护完成后，请在控制台执行 "
            "systemctl start kiosk，或重启终端，恢复服务。"
        ))
        self.exit_button.setText(self.tr("退出自助模式"))

    def switched(self, visible: bool) -> None:
        self.exit_confirm.hide()

    def clear(self) -> None:
        self.exit_confirm.hide()

    def _ask_exit(self) -> None:
        self.exit_confirm.ask(self.tr("确定要退出自助模式吗？"), self.tr("确定退出"),
                              self.tr("取消"))
