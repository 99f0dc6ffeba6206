"""配置: the effective config with secrets hidden, a check of the file, and a restart."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk.ui.screens.maintenance.parts import ConfirmRow, breakable, mono, show_message
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label


class ConfigSection(Section):
    """The config file's path and text; "check the file again" and "restart" (confirmed)."""

    key = "config"

    reloadChosen = Signal()
    restartChosen = Signal()  # confirmed

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.path = label(name="small")
        self.text = mono()
        self.reload_result = label(name="notice")
        self.reload_result.hide()
        self.reload_button = QPushButton()
        self.reload_button.setObjectName("primary")
        self.reload_button.clicked.connect(self.reloadChosen)
        self.restart_button = QPushButton()
        self.restart_button.clicked.connect(self._ask_restart)
        self.restart_confirm = ConfirmRow()
        self.restart_confirm.confirmed.connect(self.restartChosen)
        self.layout_.addWidget(self.path)
        self.layout_.addWidget(self.text, 1)
        self.layout_.addWidget(self.reload_result)
        self.add_buttons(self.reload_button, self.restart_button)
        self.layout_.addWidget(self.restart_confirm)

    def title(self) -> str:
        return self.tr("配置")

    def retranslate(self) -> None:
        super().retranslate()
        self.reload_button.setText(self.tr("重新加载检查"))
        self.restart_button.setText(self.tr("重启终端"))

    def switched(self, visible: bool) -> None:
        self.restart_confirm.hide()

    def clear(self) -> None:
        self.reload_result.hide()
        self.restart_confirm.hide()

    def _ask_restart(self) -> None:
        self.restart_confirm.ask(
            self.tr("自助程序将关闭，并在几秒后按配置文件中的配置重新启动。确定重启吗？"),
            self.tr("确定重启"), self.tr("取消"))

    def set_config(self, path: str, text: str) -> None:
        self.path.setText(breakable(self.tr("配置文件：{path}").format(path=path)))
        self.text.setPlainText(text)

    def show_checking(self) -> None:
        self.reload_button.setEnabled(False)
        show_message(self.reload_result, self.tr("正在检查配置文件……"), "notice")

    def show_result(self, problems: str) -> None:
        """`problems` is "" when the file is valid, else every problem, one per line."""
        self.reload_button.setEnabled(True)
        if problems:
            show_message(self.reload_result, breakable(problems), "error")
        else:
            show_message(self.reload_result, self.tr(
                "OK：配置文件有效。修改后的配置要重启终端才会生效。"), "ok")
