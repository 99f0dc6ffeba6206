"""帮办: a staff member is called; the screen says how far the call has got, and the hotline.

Its states, in order: calling (the call is being stored and sent), notifying (the hall has
the call, or the kiosk keeps it itself: nobody has answered yet, so the hotline is the
way to help at once), coming (a person at the hall acknowledged the call: only then
"工作人员正在赶来"), or failed (the call did not go through: the service desk and the
hotline).
"""

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
        self._state = ""  # "" | calling | notifying | coming | failed
        self.retranslate()

    def retranslate(self) -> None:
        self.hotline_label.setText(
            self.tr("也可以拨打 {hotline} 政务服务热线，或使用“随申办”App 在线咨询").format(
                hotline=self.hotline
            )
        )
        self.back_button.setText(self.tr("返回刚才的页面"))
        self._show_state()

    def _show_state(self) -> None:
        state = self._state
        if state == "notifying":
            # Nobody has answered yet: the hotline is the way to help at once.
            self.heading.setText(self.tr("正在通知工作人员…"))
            self.status.setText(self.tr("如需立即帮助，请拨打 {hotline} 政务服务热线。").format(
                hotline=self.hotline))
        elif state == "coming":
            self.heading.setText(self.tr("工作人员正在赶来，请稍候"))
            self.status.setText(self.tr("请在终端旁稍候。"))
        elif state == "failed":
            self.heading.setText(self.tr("暂时无法呼叫工作人员"))
            self.status.clear()
        else:
            self.heading.setText(self.tr("正在为您呼叫工作人员"))
            self.status.setText(self.tr("请稍候……") if state == "calling" else "")
        # While notifying, the status names the hotline: the same line twice is not needed.
        self.hotline_label.setVisible(state != "notifying")

    def title_text(self) -> str:
        return self.tr("帮办")

    def spoken_text(self) -> str:
        return sentences(self.heading.text(), self.status.text(),
                         self.problem.text() if self.problem.isVisibleTo(self) else "",
                         self.hotline_label.text() if self.hotline_label.isVisibleTo(self)
                         else "")

    @property
    def state(self) -> str:
        return self._state

    def _set_state(self, state: str) -> None:
        self._state = state
        self._show_state()

    def calling(self) -> None:
        self.problem.hide()
        self._set_state("calling")

    def notifying(self) -> None:
        """The call is stored and sent (or kept on this kiosk), but nobody has answered it."""
        self._set_state("notifying")
        self.promptChanged.emit()

    def coming(self) -> None:
        """A staff member acknowledged the call at the hall: only now is someone coming."""
        self._set_state("coming")
        self.promptChanged.emit()

    def failed(self, text: str) -> None:
        self._set_state("failed")
        self.problem.setText(text)
        self.problem.show()
        self.promptChanged.emit()

    def clear(self) -> None:
        self._state = ""
        self.retranslate()
        self.problem.clear()
        self.problem.hide()
