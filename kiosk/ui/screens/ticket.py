"""The ticket on screen, with the printer's progress: a fault never loses the ticket."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.domain.ticket import TicketView
from kiosk.ui.screens.base import Screen
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import TicketCard


class TicketScreen(Screen):
    name = "ticket"
    has_back = False  # the number is taken; going back would suggest taking another
    doneChosen = Signal()
    rateChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title", center=True)
        self.card = TicketCard()
        self.card.setMaximumWidth(900)
        self.print_status = self.label(name="subtitle", center=True)
        self.print_problem = self.label(name="error")
        self.print_problem.hide()
        self.done_button = QPushButton()
        self.done_button.setObjectName("primary")
        self.done_button.setMinimumWidth(420)
        self.done_button.clicked.connect(self.doneChosen)
        self.rate_button = QPushButton()
        self.rate_button.clicked.connect(self.rateChosen)
        if theme.portrait:
            # Its full width, not its size hint: centred at the hint's width, a wrapped
            # line (a long English center name) would not get the height it needs.
            self.card.setMinimumWidth(900)
            self.layout_.addWidget(self.heading)
            self.layout_.addWidget(self.card, 0, Qt.AlignmentFlag.AlignHCenter)
            self.layout_.addWidget(self.print_status)
            self.layout_.addWidget(self.print_problem)
            self.layout_.addStretch(1)
            self.layout_.addWidget(self.rate_button)
            self.layout_.addWidget(self.done_button)
        else:
            row = QHBoxLayout()
            row.addWidget(self.card, 3)
            side = QVBoxLayout()
            side.addWidget(self.heading)
            side.addWidget(self.print_status)
            side.addWidget(self.print_problem)
            side.addStretch(1)
            side.addWidget(self.rate_button)
            side.addWidget(self.done_button)
            row.addLayout(side, 2)
            self.layout_.addLayout(row, 1)
        self.ticket: TicketView | None = None
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(self.tr("取号成功"))
        self.done_button.setText(self.tr("完成，返回首页"))
        self.rate_button.setText(self.tr("评价本次服务"))
        if self.ticket is not None:
            self.show_ticket(self.ticket)

    def title_text(self) -> str:
        return self.tr("您的排队号")

    def show_ticket(self, t: TicketView) -> None:
        self.ticket = t
        rows = [
            (self.tr("办理业务"), t.category_title),
            (self.tr("前面等候"), self.tr("{n} 人").format(n=t.ahead)),
            (self.tr("预计等待"), self.tr("约 {n} 分钟").format(n=t.estimated_wait_min)),
            (self.tr("取号时间"), t.issued_at.strftime("%H:%M")),
        ]
        if t.masked_name:
            rows.append((self.tr("取号人"), t.masked_name))
        self.card.show_ticket(t, rows, self.tr("用手机扫码可查看排队进度"))

    def set_print_status(self, text: str) -> None:
        self.print_status.setText(text)

    def show_print_problem(self, text: str) -> None:
        self.print_problem.setText(text)
        self.print_problem.setVisible(bool(text))

    def clear(self) -> None:
        self.ticket = None
        self.card.clear()
        self.print_status.clear()
        self.print_problem.clear()
        self.print_problem.hide()
