"""The ticket on screen, with the printer's progress: a fault never loses the ticket."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.domain.hall_links import is_web_address
from kiosk.domain.ticket import TicketView
from kiosk.ui import messages
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton
from kiosk.ui.widgets.ticket_card import TicketCard


class TicketScreen(Screen):
    name = ScreenName.TICKET
    has_back = False  # the number is taken; going back would suggest taking another
    doneChosen = Signal()
    rateChosen = Signal()
    reprintChosen = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title", center=True)
        # A ticket issued offline: what that means for the resident.
        self.offline_notice = self.label(name="notice")
        self.offline_notice.hide()
        self.offline_mark = ""  # the card's line under an offline number (retranslate)
        self.card = TicketCard()
        self.card.setMaximumWidth(900)
        self.print_status = self.label(name="subtitle", center=True)
        self.print_problem = self.label(name="error")
        self.print_problem.hide()
        # No paper and no phone: the number, large, with its time, to remember or copy.
        self.write_down = self.label(name="writeDown", center=True)
        self.write_down.hide()
        self._announced_status = ""
        self.done_button = ActionButton()  # wraps rather than cut, in elder type
        self.done_button.setObjectName("primary")
        self.done_button.setMinimumWidth(420)
        self.done_button.clicked.connect(self.doneChosen)
        self.rate_button = ActionButton()
        self.rate_button.clicked.connect(self.rateChosen)
        # Only for a ticket the resident already held (scanned again): printed on request.
        self.reprint_button = ActionButton()
        self.reprint_button.clicked.connect(self.reprintChosen)
        self.reprint_button.hide()
        self._already_waiting = False
        if theme.portrait:
            # Its full width, not its size hint: centred at the hint's width, a wrapped
            # line (a long English center name) would not get the height it needs.
            self.card.setMinimumWidth(900)
            self.layout_.addWidget(self.heading)
            self.layout_.addWidget(self.offline_notice)
            self.layout_.addWidget(self.card, 0, Qt.AlignmentFlag.AlignHCenter)
            self.layout_.addWidget(self.print_status)
            self.layout_.addWidget(self.print_problem)
            self.layout_.addWidget(self.write_down)
            self.layout_.addStretch(1)
            # Stacked; side by side in elder mode, where the card's larger type needs the
            # height.
            self._buttons = QBoxLayout(QBoxLayout.Direction.TopToBottom)
            # A row of its own: three side by side leave a word a line in elder type.
            self.layout_.addWidget(self.reprint_button)
            self._buttons.addWidget(self.rate_button)
            self._buttons.addWidget(self.done_button)
            self.layout_.addLayout(self._buttons)
        else:
            row = QHBoxLayout()
            self._row = row
            row.addWidget(self.card, 3)
            side = QVBoxLayout()
            side.addWidget(self.heading)
            side.addWidget(self.offline_notice)
            side.addWidget(self.print_status)
            side.addWidget(self.print_problem)
            side.addWidget(self.write_down)
            side.addStretch(1)
            side.addWidget(self.reprint_button)
            side.addWidget(self.rate_button)
            side.addWidget(self.done_button)
            row.addLayout(side, 2)
            self.layout_.addLayout(row, 1)
        self.ticket: TicketView | None = None
        self.apply_theme()
        self.retranslate()

    def apply_theme(self) -> None:
        elder = self.theme.elder
        side_by_side = elder and not self.theme.portrait
        # Elder type on a landscape panel: the QR code beside the rows, or it falls off the
        # panel; narrower margins and gaps, so the rows keep one line each.
        self.card.set_side_by_side(side_by_side)
        self.card.setMaximumWidth(1250 if elder else 900)
        caption = self.card.qr_caption
        if side_by_side:
            self._fit_caption()
        else:
            caption.setMinimumWidth(0)
            caption.setMaximumWidth(16777215)
        self.card.grid.setHorizontalSpacing(16 if side_by_side else 24)
        self.card.body.setSpacing(24 if side_by_side else 8)
        if self.theme.portrait:
            self._buttons.setDirection(QBoxLayout.Direction.LeftToRight if elder
                                       else QBoxLayout.Direction.TopToBottom)
        else:
            # The card takes a little more of the width for its rows beside the code.
            self._row.setStretch(0, 7 if elder else 3)
            self._row.setStretch(1, 4 if elder else 2)
        margin = 24 if side_by_side else 40
        card_layout = self.card.layout()
        assert card_layout is not None  # TicketCard sets its layout when it is made
        card_layout.setContentsMargins(margin, 12 if elder else 24, margin, 12 if elder else 24)
        if self.ticket is not None:
            self.show_ticket(self.ticket)

    def retranslate(self) -> None:
        self.heading.setText(self.tr("您已取过号，这是您的号码") if self._already_waiting
                             else self.tr("取号成功"))
        self.offline_notice.setText(self.tr(
            "排队系统暂时连不上，这是本机预留的号码，有效，按取号时间排队。"
            "前面等候人数和等待时间暂时未知，请留意叫号屏。"))
        self.offline_mark = self.tr("离线取号 · 等候人数和时间未知")
        self.reprint_button.setText(self.tr("重新打印凭条"))
        self.done_button.setText(self.tr("完成，返回首页"))
        self.rate_button.setText(self.tr("评价本次服务"))
        if self.ticket is not None:
            self.show_ticket(self.ticket)

    def _notice_shown(self) -> bool:
        """The explanation of an offline ticket: not in elder type (the card's line under
        the number says it, as the paper does), nor over a printer problem."""
        return (self.ticket is not None and self.ticket.offline and not self.theme.elder
                and not self.print_problem.text())

    def title_text(self) -> str:
        return self.tr("您的排队号")

    def spoken_text(self) -> str:
        t = self.ticket
        if t is None:
            return ""
        # "A 0 1 2": read character by character, as the hall's caller does.
        number = " ".join(t.number)
        # What the printer said is part of it: when the ticket prints before the screen's
        # prompt is spoken (a busy GUI thread), the prompt would otherwise cut off
        # "请取走凭条" and the resident never hears it.
        if t.offline:
            told = sentences(self.tr("您的号码是 {number}").format(number=number),
                             self.offline_mark, self.offline_notice.text())
        else:
            told = self.tr("您的号码是 {number}，前面等候 {n} 人").format(number=number, n=t.ahead)
        return sentences(
            self.heading.text(),
            told,
            t.priority_label if t.priority_reason else "",
            self._announced_status,
            self.print_problem.text(),
            self.write_down.text(),
        )

    def show_ticket(self, t: TicketView) -> None:
        self.ticket = t
        self.offline_notice.setVisible(self._notice_shown())
        unknown = self.tr("未知")
        rows = [
            (self.tr("办理业务"), t.category_title),
            (self.tr("前面等候"), unknown if t.offline else self.tr("{n} 人").format(n=t.ahead)),
            (self.tr("预计等待"), unknown if t.offline
             else self.tr("约 {n} 分钟").format(n=t.estimated_wait_min)),
        ]
        if not self.theme.elder:  # elder mode: one row fewer in larger type; it is on paper
            rows.append((self.tr("取号时间"), t.issued_at.strftime("%H:%M")))
        if t.masked_name:
            rows.append((self.tr("取号人"), t.masked_name))
        self.card.show_ticket(t, rows, messages.ticket_code_caption(
            is_web_address(t.tracking_code)), self.offline_mark)
        if self.theme.elder and not self.theme.portrait:
            self._fit_caption()

    def _fit_caption(self) -> None:
        """Beside the code: one line if it takes little room (Chinese), else two or three
        lines of a column the rows can spare (English) — not a word alone on a line."""
        caption = self.card.qr_caption
        one_line = caption.fontMetrics().horizontalAdvance(caption.text()) + 8
        caption.setFixedWidth(one_line if caption.text() and one_line <= 540 else 420)

    def set_print_status(self, text: str, *, announce: bool = False) -> None:
        self.print_status.setText(text)
        self._announced_status = text if announce else ""
        # Empty, it would still take a line's height that a printer problem's text needs
        # in elder type.
        self.print_status.setVisible(bool(text))
        if announce and text:
            self.announced.emit(text, True)  # after the number

    def show_print_problem(self, text: str) -> None:
        self.print_problem.setText(text)
        self.print_problem.setVisible(bool(text))
        # The problem takes the heading's place: the number is on the card and in the bar's
        # title, and elder type in a landscape panel's side column needs every line for it.
        self.heading.setVisible(not text)
        self.offline_notice.setVisible(self._notice_shown())
        if text:
            self.announced.emit(text, True)
        else:
            self.show_write_down("")

    def show_write_down(self, text: str) -> None:
        """The number to remember or write down (messages.write_number_down), or nothing."""
        self.write_down.setText(text)
        self.write_down.setVisible(bool(text))
        if text:
            self.announced.emit(text, True)

    def offer_reprint(self, text: str) -> None:
        """The printer is back: the ticket it refused is printed when the resident asks.
        What the problem said (no paper; copy the number down) is no longer so."""
        self.show_print_problem("")
        # Elder type in a landscape panel's side column: the status and the button take the
        # heading's lines, as the problem did (the number is on the card and in the bar).
        self.heading.setVisible(not (self.theme.elder and not self.theme.portrait))
        self.reprint_button.setVisible(True)
        self.reprint_button.setEnabled(True)
        self.set_print_status(text, announce=True)

    def set_already_waiting(self, already: bool) -> None:
        """A ticket the resident already held: said so, and a reprint offered."""
        self._already_waiting = already
        self.reprint_button.setVisible(already)
        self.reprint_button.setEnabled(True)
        self.retranslate()

    def clear(self) -> None:
        self.ticket = None
        self.offline_notice.hide()
        self.set_already_waiting(False)
        self.card.clear()
        self.print_status.clear()
        self.print_status.hide()
        self._announced_status = ""
        self.print_problem.clear()
        self.print_problem.hide()
        self.write_down.clear()
        self.write_down.hide()
        self.heading.show()
