"""No number now: the category is closed, or today's numbers are all taken.

The hall's own words (its opening hours and daily caps are its to know) in the resident's
language, when the next numbers are given, and what the kiosk still does: nothing is
printed, and the way on is back to Home.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from kiosk.domain.text import Bilingual
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton

Reason = Literal["closed", "cap_reached"]
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class TicketRefusedScreen(Screen):
    name = ScreenName.TICKET_REFUSED
    has_back = False  # the category screen would offer the same refusal again
    doneChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title", center=True)
        self.message = self.label(name="notice")
        self.next_opening = self.label(name="subtitle")
        self.next_opening.hide()
        self.others = self.label(name="subtitle")
        self.done_button = ActionButton()
        self.done_button.setObjectName("primary")
        self.done_button.setMinimumWidth(420)
        self.done_button.clicked.connect(self.doneChosen)
        self.layout_.addWidget(self.heading)
        self.layout_.addWidget(self.message)
        self.layout_.addWidget(self.next_opening)
        self.layout_.addWidget(self.others)
        self.layout_.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.done_button)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self._reason: Reason = "closed"
        self._said: Bilingual | None = None
        self._opens_at: dt.datetime | None = None
        self.retranslate()

    def show_refusal(self, reason: Reason, said: Bilingual | None,
                     opens_at: dt.datetime | None) -> None:
        """`said`: the hall's message, or None when the kiosk decided it (offline, from the
        hall's last figures); `opens_at`: when numbers are given next, if known."""
        self._reason = reason
        self._said = said
        self._opens_at = opens_at
        self.retranslate()

    def retranslate(self) -> None:
        closed = self._reason == "closed"
        self.heading.setText(self.tr("现在不能取号") if closed else self.tr("今日号源已取完"))
        if self._said is not None:
            self.message.setText(self._said.get(self.language))
        elif closed:
            self.message.setText(self.tr("该业务现在不取号。"))
        else:
            self.message.setText(self.tr("该业务今日的号已经取完了。"))
        # The hall's word on a closed category names the time itself.
        when = self._opens_at
        show_when = when is not None and (self._said is None or not closed)
        self.next_opening.setText(self.tr("下次可取号时间：{when}").format(
            when=self._when_text(when)) if when is not None and show_when else "")
        self.next_opening.setVisible(show_when)
        self.others.setText(self.tr("其他事项（一件事、办件查询、好差评、帮办）仍可办理。"))
        self.done_button.setText(self.tr("返回首页"))

    def _when_text(self, when: dt.datetime) -> str:
        if self.language == "en":
            return f"{when.day} {_MONTHS[when.month - 1]} {when:%H:%M}"
        return f"{when.month}月{when.day}日 {when:%H:%M}"

    def title_text(self) -> str:
        return self.tr("取号")

    def spoken_text(self) -> str:
        return sentences(self.heading.text(), self.message.text(),
                         self.next_opening.text() if self.next_opening.isVisibleTo(self)
                         else "", self.others.text())

    def clear(self) -> None:
        self._said = None
        self._opens_at = None
        self.message.clear()
        self.next_opening.clear()
        self.next_opening.hide()
