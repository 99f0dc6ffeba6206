"""Home: one big choice (take a number by scanning), the no-phone path, queue figures.

In elder mode (长辈模式) Home shows fewer and larger choices: scan, no phone, and 呼叫帮办;
the other services move to a second page (更多服务) and the queue figures are left out.

With a hall, each category's figure also says how many numbers are left today (放号量) or,
outside its opening hours, from when it gives numbers (kiosk.ui.queue_status). When no
category gives numbers (at night), the two ways to a number are switched off and a notice
says when numbers are given next; the other services stay open.
"""

from __future__ import annotations

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QWidget,
)

from kiosk.backend.interface import QueueFigures
from kiosk.common.clock import Clock, shanghai_now
from kiosk.domain.catalog import Catalog
from kiosk.ui import messages
from kiosk.ui.queue_status import category_status, nothing_open_notice, show_closed
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.choice_pages import ChoicePages
from kiosk.ui.widgets.wrap_button import WrapButton

SERVICES = ("bundles", "query", "checkin", "rating")


class HomeScreen(Screen):
    name = ScreenName.HOME
    has_back = False
    scanChosen = Signal()
    noPhoneChosen = Signal()
    helpChosen = Signal()  # elder mode's 呼叫帮办 tile
    moreChosen = Signal()  # elder mode: the other services, on their own page
    serviceChosen = Signal(str)  # "bundles" | "query" | "checkin" | "rating"

    SERVICES = SERVICES

    def __init__(self, theme: Theme, catalog: Catalog, center_name: str,
                 parent: QWidget | None = None, *, center_name_en: str = "") -> None:
        super().__init__(theme, parent)
        self.catalog = catalog
        self.center_names = {"zh": center_name, "en": center_name_en or center_name}
        self.welcome = self.label(name="title", center=True)
        self.center = self.label(center_name, "subtitle", center=True)
        self.scan_button = WrapButton()
        self.scan_button.setObjectName("tilePrimary")
        self.scan_button.clicked.connect(lambda _=False: self._take_number(self.scanChosen))
        self.no_phone_button = WrapButton()
        self.no_phone_button.setObjectName("tile")
        self.no_phone_button.clicked.connect(lambda _=False: self._take_number(self.noPhoneChosen))
        self.help_button = WrapButton()
        self.help_button.setObjectName("tile")
        self.help_button.clicked.connect(self.helpChosen)
        for tile in (self.scan_button, self.no_phone_button, self.help_button):
            tile.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Portrait panels stack the choices; the one most residents need is the larger.
        self.tiles = QBoxLayout(QBoxLayout.Direction.TopToBottom if theme.portrait
                                else QBoxLayout.Direction.LeftToRight)
        self.tiles.setSpacing(32)
        self.tiles.addWidget(self.scan_button, 3)
        self.tiles.addWidget(self.no_phone_button, 2)
        self.tiles.addWidget(self.help_button, 2)
        # The other services: smaller tiles, one row (two rows on portrait panels).
        self.service_buttons: dict[str, WrapButton] = {}
        self.services = QGridLayout()
        self.services.setSpacing(24)
        for column in range(2 if theme.portrait else len(self.SERVICES)):
            self.services.setColumnStretch(column, 1)
        for i, key in enumerate(self.SERVICES):
            button = WrapButton()
            button.setObjectName("tile")
            button.setMinimumHeight(150)
            button.clicked.connect(lambda _=False, k=key: self.serviceChosen.emit(k))
            self.service_buttons[key] = button
            if theme.portrait:
                self.services.addWidget(button, i // 2, i % 2)
            else:
                self.services.addWidget(button, 0, i)
        self.more_button = WrapButton()
        self.more_button.setObjectName("tile")
        self.more_button.clicked.connect(self.moreChosen)
        self.queue_title = self.label(name="subtitle")
        self.queue_grid = QGridLayout()
        self.queue_grid.setHorizontalSpacing(32)
        self.queue_labels: dict[str, QLabel] = {}
        columns = 2 if theme.portrait else 4
        for i, cat in enumerate(catalog.categories):
            lab = self.label(name="small")
            self.queue_labels[cat.id] = lab
            self.queue_grid.addWidget(lab, i // columns, i % columns)
        # No category gives numbers now: says until when (shown in both modes).
        self.closed_notice = self.label(name="notice", center=True)
        self.closed_notice.hide()
        # The printer is known not to print: numbers are still given, on screen only, and
        # a resident without a phone must know before choosing that way.
        self.printer_notice = self.label(name="notice", center=True)
        self.printer_notice.hide()
        self._printer_problem = ""
        self.layout_.addWidget(self.welcome)
        self.layout_.addWidget(self.center)
        self.layout_.addLayout(self.tiles, 1)
        self.layout_.addWidget(self.closed_notice)
        self.layout_.addWidget(self.printer_notice)
        self.layout_.addLayout(self.services)
        self.layout_.addWidget(self.more_button)
        self.layout_.addSpacing(8)
        self.layout_.addWidget(self.queue_title)
        self.layout_.addLayout(self.queue_grid)
        self.footer = self.label(name="small", center=True)
        self.layout_.addWidget(self.footer)
        self._figures: dict[str, QueueFigures] = {}
        self._spoken_notice = ""
        # "Today" and "tomorrow" of the opening times: the kiosk's clock (set by app.py).
        self.clock: Clock = shanghai_now
        self.apply_theme()

    def apply_theme(self) -> None:
        elder = self.theme.elder
        self.help_button.setVisible(elder)
        self.more_button.setVisible(elder)
        for button in self.service_buttons.values():
            button.setVisible(not elder)
        # Fewer things to read: the queue figures are on the category screen too.
        for lab in self.queue_labels.values():
            lab.setVisible(not elder)
        self.more_button.setMinimumHeight(self.theme.min_target_px)
        self.retranslate()  # sizes the tiles too (_size_tiles), with the notice or without

    def _size_tiles(self) -> None:
        portrait = self.theme.portrait
        closed = bool(self.closed_notice.text())
        printer = bool(self.printer_notice.text())
        # A landscape panel has not the height for both the queue figures and the printer's
        # notice, which matters more to a resident without a phone.
        figures = not self.theme.elder and not (printer and not portrait)
        for lab in self.queue_labels.values():
            lab.setVisible(figures)
        # Nobody to count while no category gives numbers: each says from when instead.
        self.queue_title.setVisible(figures and not closed)
        # Elder type on a landscape panel gives the notice the welcome's line (the bar above
        # says where the resident is) and the footer's way to help (the 呼叫帮办 tile is
        # beside the others): its three tiles hold four lines of English each.
        squeezed = printer and self.theme.elder and not portrait
        self.welcome.setVisible(not squeezed)
        self.footer.setVisible(not squeezed)
        # With a notice the tiles give it room: closed, they invite less.
        noticed = closed or (printer and portrait)
        less = (40 if self.theme.elder else 120) if noticed else 0
        if self.theme.elder and portrait:
            # The big scan tile gives the room: the two below it hold two lines of elder
            # type ("No phone? / Take a number here") and no less.
            self.scan_button.setMinimumHeight(330 - 2 * less)
            self.no_phone_button.setMinimumHeight(220)
            self.help_button.setMinimumHeight(220)
        elif self.theme.elder:  # three tiles side by side
            self.scan_button.setMinimumHeight(380 - less)
            self.no_phone_button.setMinimumHeight(380 - less)
            self.help_button.setMinimumHeight(380 - less)
        else:
            self.scan_button.setMinimumHeight((300 if portrait else 280) - less)
            self.no_phone_button.setMinimumHeight((200 if portrait else 280) - less)

    def retranslate(self) -> None:
        self.center.setText(self.center_names.get(self.language, self.center_names["zh"]))
        self.welcome.setText(self.tr("欢迎使用 24小时自助服务"))
        self.help_button.setText(self.tr("呼叫帮办"))
        self.help_button.set_detail(self.tr("工作人员来帮您"))
        self.more_button.setText(self.tr("更多服务 ›"))
        texts = {
            "bundles": self.tr("一件事\n一次办成"),
            "query": self.tr("办件查询"),
            "checkin": self.tr("预约签到"),
            "rating": self.tr("好差评"),
        }
        for key, button in self.service_buttons.items():
            button.setText(texts[key])
        self.queue_title.setText(self.tr("当前排队人数"))
        self.footer.setText(self.tr("如需帮助，请联系工作人员或拨打 12345 热线"))
        self.set_printer_problem(self._printer_problem)
        self.set_queue_figures(self._figures)  # and the two ways to a number, open or not

    def _take_number_tiles(self, closed: bool) -> None:
        scan, no_phone = self.tr("扫码取号\n请出示随申码"), self.tr("没有手机\n直接取号")
        for button, text in ((self.scan_button, scan), (self.no_phone_button, no_phone)):
            title, _, detail = text.partition("\n")
            if closed:
                # No numbers now: the tile's name only, no instruction to follow.
                button.setText(title)
                button.set_detail("")
            elif self.theme.elder:
                # Elder type: the second line in the smaller detail font, or it does not fit.
                button.setText(title)
                button.set_detail(detail)
            else:
                button.setText(text)
                button.set_detail("")
        for tile in (self.scan_button, self.no_phone_button):
            show_closed(tile, closed)

    def set_printer_problem(self, code: str) -> None:
        """The printing service's problem code ("" once the printer prints again)."""
        self._printer_problem = code
        text = messages.printing_unavailable(code) if code else ""
        self.printer_notice.setText(text)
        self.printer_notice.setVisible(bool(text))
        self._size_tiles()

    def spoken_text(self) -> str:
        if self._spoken_notice:
            return self._spoken_notice  # no numbers now: when, and what works meanwhile
        if self._printer_problem:
            return sentences(self.printer_notice.text(), self._welcome_prompt())
        return self._welcome_prompt()

    def _welcome_prompt(self) -> str:
        return self.tr("欢迎使用自助服务。取号请点“扫码取号”，没有手机请点“没有手机”，"
                       "需要帮忙请点“呼叫帮办”。")

    def set_queue_figures(self, figures: dict[str, QueueFigures]) -> None:
        self._figures = figures
        now = self.clock()
        statuses = []
        for cat in self.catalog.categories:
            fig = figures.get(cat.id)
            status = category_status(fig, now)
            if fig is not None:
                statuses.append(status)
            title = cat.title.get(self.language)
            if status.closed:
                # Nobody waits at night: when numbers are given is what matters.
                text = self.tr("{title}：{note}").format(title=title, note=status.note)
            else:
                waiting = "—" if fig is None else str(fig.waiting)
                text = self.tr("{title}：{n} 人").format(title=title, n=waiting)
                if status.note:
                    text += " · " + status.note
            self.queue_labels[cat.id].setText(text)
        notice = nothing_open_notice(statuses, now, brief=self.theme.elder)
        self._spoken_notice = nothing_open_notice(statuses, now)
        self.closed_notice.setText(notice)
        self.closed_notice.setVisible(bool(notice))
        self._take_number_tiles(bool(notice))
        self._size_tiles()

    def _take_number(self, chosen: SignalInstance) -> None:
        # No category gives numbers now: a scan would only use up the resident's code.
        notice = self.closed_notice.text()
        if notice:
            self.announced.emit(notice, False)
            return
        chosen.emit()


class ServicesScreen(Screen):
    """Elder mode's second page of Home: the other services, large, two to a row."""

    name = ScreenName.SERVICES
    serviceChosen = Signal(str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.heading = self.label(name="title", center=True)
        self.service_buttons: dict[str, WrapButton] = {}
        for key in SERVICES:
            button = WrapButton()
            button.setObjectName("tile")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            button.clicked.connect(lambda _=False, k=key: self.serviceChosen.emit(k))
            self.service_buttons[key] = button
        self.pages = ChoicePages()
        self.pages.set_buttons(list(self.service_buttons.values()))
        self.layout_.addWidget(self.heading)
        self.layout_.addWidget(self.pages, 1)
        self.apply_theme()
        self.retranslate()

    def apply_theme(self) -> None:
        self.pages.arrange(1 if self.theme.portrait else 2)
        for button in self.service_buttons.values():
            button.setMinimumHeight(260 if self.theme.elder else 200)

    def retranslate(self) -> None:
        self.heading.setText(self.tr("请选择服务"))
        texts = {
            "bundles": self.tr("一件事\n一次办成"),
            "query": self.tr("办件查询"),
            "checkin": self.tr("预约签到"),
            "rating": self.tr("好差评"),
        }
        for key, button in self.service_buttons.items():
            button.setText(texts[key])
        self.pages.retranslate()

    def title_text(self) -> str:
        return self.tr("更多服务")

    def spoken_text(self) -> str:
        return self.tr("请选择服务：一件事、办件查询、预约签到，或者好差评。")
