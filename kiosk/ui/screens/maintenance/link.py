"""后台连接: the link to the backend, a timed check, and what waits in the outbox."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget

from kiosk.ui.screens.maintenance.parts import InfoGrid, show_message
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label


class LinkSection(Section):
    """The link's mode, the last check's result and time, the outbox's depth and age."""

    key = "link"

    checkLinkChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.info = InfoGrid(("mode", "check", "outbox", "oldest"))
        self.message = label(name="notice")
        self.message.hide()
        self.check_button = QPushButton()
        self.check_button.setObjectName("primary")
        self.check_button.clicked.connect(self.checkLinkChosen)
        self.layout_.addWidget(self.info)
        self.layout_.addWidget(self.message)
        self.layout_.addStretch(1)
        self.add_buttons(self.check_button)
        for key in self.info.values:
            self.info.set(key, "—")

    def title(self) -> str:
        return self.tr("后台连接")

    def retranslate(self) -> None:
        super().retranslate()
        for key, text in (
            ("mode", self.tr("连接状态")),
            ("check", self.tr("上次检查")),
            ("outbox", self.tr("待发送")),
            ("oldest", self.tr("最早一条")),
        ):
            self.info.set_key(key, text)
        self.check_button.setText(self.tr("检查连接"))

    def clear(self) -> None:
        self.message.hide()

    def set_mode(self, mode: str) -> None:
        names = {
            "up": self.tr("正常"),
            "slow": self.tr("缓慢"),
            "down": self.tr("断开（拒绝连接）"),
            "hang": self.tr("无响应（超时）"),
            "server_error": self.tr("后台报错（5xx）"),
            "lost_reply": self.tr("应答丢失"),
        }
        self.info.set("mode", self.tr("{state}（{detail}）").format(
            state=names.get(mode, mode), detail=mode))

    def show_checking(self) -> None:
        self.check_button.setEnabled(False)
        self.info.set("check", self.tr("正在检查……"))

    def show_result(self, elapsed_s: float, problem: str) -> None:
        self.check_button.setEnabled(True)
        ms = round(elapsed_s * 1000)
        if problem:
            self.info.set("check", self.tr("失败，用时 {ms} 毫秒").format(ms=ms))
            show_message(self.message, problem, "error")
        else:
            self.info.set("check", self.tr("正常，用时 {ms} 毫秒").format(ms=ms))
            self.message.hide()

    def set_outbox(self, count: int, oldest_age_s: float | None) -> None:
        self.info.set("outbox", self.tr("{n} 条").format(n=count))
        if oldest_age_s is None:
            self.info.set("oldest", "—")
        else:
            self.info.set("oldest", self.tr("{age} 前存入").format(
                age=self.format_age(oldest_age_s)))

    def format_age(self, seconds: float) -> str:
        seconds = max(0, int(seconds))
        if seconds < 60:
            return self.tr("{n} 秒").format(n=seconds)
        if seconds < 3600:
            return self.tr("{n} 分钟").format(n=seconds // 60)
        if seconds < 86400:
            return self.tr("{h} 小时 {m} 分钟").format(h=seconds // 3600, m=seconds % 3600 // 60)
        return self.tr("{n} 天").format(n=seconds // 86400)
