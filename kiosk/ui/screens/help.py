"""帮办: a staff member is called; the screen says so and shows the hotline."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWidget

from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton


class HelpScreen(Screen):
    name = ScreenName.HELP
    doneChosen = Signal()

    def __init__(self, theme: Theme, hotline: str, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.hotline = hotline
        self.heading = self.label(name="title", center=True)
        self.status = self.label(name="subtitle", center=True)
        self.problem = self.label(name="error")
        self.problem.hide()
        self.hotline_label = self.label(name="notice")
        self.hotline_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.back_button = ActionButton()
        self.back_button.setObjectName("primary")
        self.back_button.clicked.connect(self.doneChosen)
        self.layout_.addStretch(1)
        for w in (self.heading, self.status, self.problem, self.hotline_label):
            self.layout_.addWidget(w)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("正在为您呼叫工作人员"))
        self.hotline_label.setText(
            self.tr("也可以拨打 {hotline} 政务服务热线，或使用“随申办”App 在线咨询").format(
                hotline=self.hotline
            )
        )
        self.back_button.setText(self.tr("返回刚才的页面"))

    def title_text(self) -> str:
        return self.tr("帮办")

    def spoken_text(self) -> str:
        return sentences(self.heading.text(), self.status.text(),
                         self.problem.text() if self.problem.isVisibleTo(self) else "",
                         self.hotline_label.text())

    def calling(self) -> None:
        self.problem.hide()
        self.status.setText(self.tr("请稍候……"))

    def called(self) -> None:
        self.heading.setText(self.tr("工作人员马上就到"))
        self.status.setText(self.tr("请在终端旁稍候，工作人员已收到您的求助。"))
        self.promptChanged.emit()

    def failed(self, text: str) -> None:
        self.heading.setText(self.tr("暂时无法呼叫工作人员"))
        self.status.clear()
        self.problem.setText(text)
        self.problem.show()
        self.promptChanged.emit()

    def clear(self) -> None:
        self.retranslate()
        self.status.clear()
        self.problem.clear()
        self.problem.hide()
