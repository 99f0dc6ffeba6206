"""办件查询 results and 预约签到 outcomes."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.screens.bundles import _clear_layout
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton


class QueryResultScreen(Screen):
    name = ScreenName.QUERY_RESULT
    doneChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title", center=True)
        self.items = QVBoxLayout()
        self.items.setSpacing(20)
        self.done_button = ActionButton()
        self.done_button.setObjectName("primary")
        self.done_button.clicked.connect(self.doneChosen)
        self.layout_.addWidget(self.heading)
        self.layout_.addLayout(self.items, 1)
        self.layout_.addWidget(self.done_button)
        self._spoken: list[str] = []
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("办理进度"))
        self.done_button.setText(self.tr("完成，返回首页"))

    def title_text(self) -> str:
        return self.tr("办件查询")

    def spoken_text(self) -> str:
        return sentences(self.heading.text(), *self._spoken)

    def show_applications(self, apps: list[tuple[str, str, list[tuple[str, str, str]]]],
                          empty_text: str) -> None:
        """apps: (title line, current status, [(time, status, note)])."""
        _clear_layout(self.items)
        self._spoken = [empty_text] if not apps else [
            self.tr("{title}：{status}").format(title=title, status=status)
            for title, status, _ in apps[:3]]
        if not apps:
            empty = self.label(empty_text, "notice")
            self.items.addWidget(empty)
            empty.show()
        for title, status, timeline in apps[:3]:  # one screen, no scrolling: newest three
            card = QFrame()
            card.setObjectName("card")
            box = QVBoxLayout(card)
            box.addWidget(self.label(self.tr("{title}  ·  {status}").format(
                title=title, status=status), "subtitle"))
            for when, what, note in timeline:
                line = (self.tr("{when}   {what}：{note}").format(when=when, what=what, note=note)
                        if note else f"{when}   {what}")
                box.addWidget(self.label(line))
            self.items.addWidget(card)
            card.show()
        self.items.addStretch(1)

    def clear(self) -> None:
        _clear_layout(self.items)
        self._spoken = []


class CheckInResultScreen(Screen):
    name = ScreenName.CHECKIN_RESULT
    ordinaryChosen = Signal()
    doneChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title", center=True)
        self.explanation = self.label(name="notice")
        self.ordinary_button = ActionButton()
        self.ordinary_button.setObjectName("primary")
        self.ordinary_button.clicked.connect(self.ordinaryChosen)
        self.done_button = ActionButton()
        self.done_button.clicked.connect(self.doneChosen)
        self.layout_.addWidget(self.heading)
        self.layout_.addWidget(self.explanation)
        self.layout_.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.done_button)
        row.addWidget(self.ordinary_button)
        self.layout_.addLayout(row)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("预约签到"))
        self.ordinary_button.setText(self.tr("取普通号"))
        self.done_button.setText(self.tr("返回首页"))

    def title_text(self) -> str:
        return self.tr("预约签到")

    def spoken_text(self) -> str:
        return sentences(self.explanation.text())

    def show_explanation(self, text: str) -> None:
        self.explanation.setText(text)

    def clear(self) -> None:
        self.explanation.clear()
