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
    """Every 预约签到 outcome but a new priority ticket (that one is the ticket screen): early,
    late or no appointment (an ordinary number offered), the backend unreachable (再试一次),
    and an appointment checked in before (its number, reprinted on request)."""

    name = ScreenName.CHECKIN_RESULT
    ordinaryChosen = Signal()
    retryChosen = Signal()
    printChosen = Signal()
    doneChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title", center=True)
        self.explanation = self.label(name="notice")
        self.status = self.label(name="subtitle")
        self.status.hide()
        self.ordinary_button = ActionButton()
        self.ordinary_button.setObjectName("primary")
        self.ordinary_button.clicked.connect(self.ordinaryChosen)
        self.retry_button = ActionButton()
        self.retry_button.setObjectName("primary")
        self.retry_button.clicked.connect(self.retryChosen)
        self.print_button = ActionButton()
        self.print_button.setObjectName("primary")
        self.print_button.clicked.connect(self.printChosen)
        self.done_button = ActionButton()
        self.done_button.clicked.connect(self.doneChosen)
        self.layout_.addWidget(self.heading)
        self.layout_.addWidget(self.explanation)
        self.layout_.addWidget(self.status)
        self.layout_.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.done_button)
        row.addWidget(self.ordinary_button)
        row.addWidget(self.retry_button)
        row.addWidget(self.print_button)
        self.layout_.addLayout(row)
        self._offer(self.ordinary_button)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("预约签到"))
        self.ordinary_button.setText(self.tr("取普通号"))
        self.retry_button.setText(self.tr("再试一次"))
        self.print_button.setText(self.tr("重新打印凭条"))
        self.done_button.setText(self.tr("返回首页"))

    def title_text(self) -> str:
        return self.tr("预约签到")

    def spoken_text(self) -> str:
        return sentences(self.explanation.text())

    def _offer(self, button: ActionButton) -> None:
        """One way on beside 返回首页: the one this outcome needs."""
        for b in (self.ordinary_button, self.retry_button, self.print_button):
            b.setVisible(b is button)
            b.setEnabled(True)
        self.status.clear()
        self.status.hide()

    def show_explanation(self, text: str) -> None:
        """Early, late, no appointment: why, and an ordinary number offered."""
        self.explanation.setText(text)
        self._offer(self.ordinary_button)

    def show_unreachable(self, text: str) -> None:
        """The check-in's answer did not come: what to do, and 再试一次 (the same scan)."""
        self.explanation.setText(text)
        self._offer(self.retry_button)
        if self.isVisible():  # a retry that failed too: said again (entering says it first)
            self.announced.emit(text, False)

    def show_earlier(self, text: str) -> None:
        """Checked in before: its number, and the paper again on request."""
        self.explanation.setText(text)
        self._offer(self.print_button)

    def show_refused(self, text: str) -> None:
        """Nothing to do here but ask staff."""
        self.explanation.setText(text)
        self._offer(self.done_button)

    def set_busy(self, busy: bool) -> None:
        """A retry on its way: one at a time."""
        self.retry_button.setEnabled(not busy)

    def show_status(self, text: str) -> None:
        """How the reprint goes (printing, take it, a printer problem)."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def clear(self) -> None:
        self.explanation.clear()
        self._offer(self.ordinary_button)
