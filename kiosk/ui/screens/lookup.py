"""办件查询 results and 预约签到 outcomes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.backend.interface import TicketProgress, TicketState
from kiosk.domain.text import Bilingual
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.screens.bundles import _clear_layout
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton


@dataclass(frozen=True)
class TicketShown:
    """A ticket's progress as 办件查询 shows it: the backend's answer, the category's words,
    the number it was transferred from (if the answer followed a transfer), and the moment
    of the answer (a no-show's time to come back may have passed)."""

    progress: TicketProgress
    category: Bilingual | None
    now: dt.datetime
    transferred_from: str = ""


class QueryResultScreen(Screen):
    """The timeline of applications (a receipt's code, a hall's application link, a personal
    code), or one ticket's progress (its code or a hall's ticket link): large and plain,
    read from a step or two away."""

    name = ScreenName.QUERY_RESULT
    doneChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title", center=True)
        self.items = QVBoxLayout()
        self.items.setSpacing(20)
        # One ticket: its number large, the category, then where it stands in words; the
        # words beside the number in elder type on a landscape panel (apply_theme).
        self.ticket_card = QFrame()
        self.ticket_card.setObjectName("card")
        self.ticket_row = QBoxLayout(QBoxLayout.Direction.TopToBottom, self.ticket_card)
        self.ticket_row.setContentsMargins(40, 24, 40, 32)
        self.ticket_row.setSpacing(12)
        self.ticket_number = self.label(name="bigNumber", center=True, wrap=False)
        self.ticket_category = self.label(name="subtitle", center=True)
        self.ticket_note = self.label(name="subtitle", center=True)
        self.ticket_state = self.label(name="stateLine", center=True)
        self.ticket_detail = self.label(name="stateDetail", center=True)
        words = QVBoxLayout()
        words.setSpacing(12)
        for w in (self.ticket_category, self.ticket_note, self.ticket_state,
                  self.ticket_detail):
            words.addWidget(w)
        self.ticket_row.addWidget(self.ticket_number)
        self.ticket_row.addLayout(words, 1)
        self.ticket_card.hide()
        self.done_button = ActionButton()
        self.done_button.setObjectName("primary")
        self.done_button.clicked.connect(self.doneChosen)
        self.layout_.addWidget(self.heading)
        self.layout_.addWidget(self.ticket_card)
        self.layout_.addLayout(self.items, 1)
        self.layout_.addWidget(self.done_button)
        self._spoken: list[str] = []
        self.ticket: TicketShown | None = None
        self.apply_theme()
        self.retranslate()

    def apply_theme(self) -> None:
        beside = self.theme.elder and not self.theme.portrait
        self.ticket_row.setDirection(QBoxLayout.Direction.LeftToRight if beside
                                     else QBoxLayout.Direction.TopToBottom)
        self.ticket_row.setSpacing(48 if beside else 12)

    def retranslate(self) -> None:
        self.heading.setText(self.tr("排队进度") if self.ticket is not None
                             else self.tr("办理进度"))
        self.done_button.setText(self.tr("完成，返回首页"))
        if self.ticket is not None:
            self._fill_ticket(self.ticket)

    def title_text(self) -> str:
        return self.tr("办件查询")

    def spoken_text(self) -> str:
        if self.ticket is not None:
            return sentences(self.heading.text(), self.tr("号码 {number}").format(
                number=" ".join(self.ticket.progress.number)), self.ticket_note.text(),
                self.ticket_state.text(), self.ticket_detail.text())
        return sentences(self.heading.text(), *self._spoken)

    def show_ticket(self, shown: TicketShown) -> None:
        """One ticket's progress, in place of any applications."""
        _clear_layout(self.items)
        self._spoken = []
        self.ticket = shown
        self.retranslate()
        self.ticket_card.show()
        self.items.addStretch(1)

    def _fill_ticket(self, shown: TicketShown) -> None:
        p = shown.progress
        lang = self.language
        self.ticket_number.setText(p.number)
        self.ticket_category.setText(shown.category.get(lang) if shown.category else "")
        self.ticket_category.setVisible(shown.category is not None)
        self.ticket_note.setText(self.tr("您的号已从 {old} 转为 {new}").format(
            old=shown.transferred_from, new=p.number) if shown.transferred_from else "")
        self.ticket_note.setVisible(bool(shown.transferred_from))
        state, detail = self._state_words(shown)
        self.ticket_state.setText(state)
        self.ticket_detail.setText(detail)
        self.ticket_detail.setVisible(bool(detail))

    def _state_words(self, shown: TicketShown) -> tuple[str, str]:
        """(where the ticket stands, what to do), in the resident's language."""
        p = shown.progress
        if p.state is TicketState.WAITING:
            if p.ahead is None:
                return self.tr("正在排队"), self.tr("请留意叫号屏。")
            if p.ahead == 0:
                return self.tr("下一个就是您"), self.tr("请留意叫号屏，不要走远。")
            state = self.tr("前面还有 {n} 人").format(n=p.ahead)
            if p.estimated_wait_min is None:
                return state, self.tr("请留意叫号屏。")
            return state, self.tr("预计等待约 {m} 分钟").format(m=p.estimated_wait_min)
        if p.state is TicketState.CALLED:
            if p.counter_name is not None:
                where = p.counter_name.get(self.language)
            elif p.counter is not None:
                where = self.tr("{n} 号窗口").format(n=p.counter)
            else:
                return self.tr("正在叫您的号"), self.tr("请看叫号屏上的窗口号。")
            return self.tr("请到 {counter}").format(counter=where), self.tr("正在叫您的号")
        if p.state is TicketState.FINISHED:
            return self.tr("已办理完毕"), self.tr("这个号已经办完，不会再叫。")
        if p.state is TicketState.NO_SHOW:
            if p.return_until is not None and shown.now < p.return_until:
                return self.tr("已过号"), self.tr(
                    "{until} 前到任一窗口说明，可按原来的顺序办理。").format(
                    until=f"{p.return_until:%H:%M}")
            return self.tr("已过号"), self.tr("请重新取号。")
        if p.state is TicketState.WITHDRAWN:
            return self.tr("这个号已作废"), self.tr("取号没有完成，这个号不会被叫到。请重新取号。")
        # Transferred, and the ticket it became could not be read.
        return self.tr("已转到其他业务排队"), self.tr("请留意叫号屏，或询问工作人员。")

    def show_applications(self, apps: list[tuple[str, str, list[tuple[str, str, str]]]],
                          empty_text: str) -> None:
        """apps: (title line, current status, [(time, status, note)])."""
        self.ticket = None
        self.ticket_card.hide()
        self.retranslate()
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
        self.ticket = None
        self.ticket_card.hide()
        for w in (self.ticket_number, self.ticket_category, self.ticket_note,
                  self.ticket_state, self.ticket_detail):
            w.clear()
        self.retranslate()


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
