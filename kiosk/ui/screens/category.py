"""Pick a service category: one decision, seven large buttons (four a page in elder mode).

Each tile says what the department does (the catalog's `hint`: 养老 · 就业 · 社保卡) where
the page has the room (English titles that wrap, elder type: it gives way). A resident who
does not know which department does what taps 按事项找: the same screen then lists the
matters residents come for (the catalog's `matters`: 办退休, 出生登记, …) as buttons, each
naming its category, and a tap takes a number for that category, exactly as its tile
would. No typing: older residents find the matter by reading, not by spelling it.

With a hall, a tile also says how many numbers are left today, or that the category gives
none now (outside its hours: from when; its daily numbers all taken). Such a tile is drawn
closed, and a tap on it says why instead of asking for a number.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from kiosk.backend.interface import QueueFigures
from kiosk.common.clock import Clock, shanghai_now
from kiosk.domain.catalog import Catalog
from kiosk.ui.queue_status import OPEN, CategoryStatus, category_status, show_closed
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton
from kiosk.ui.widgets.choice_pages import ChoicePages
from kiosk.ui.widgets.wrap_button import WrapButton


class CategoryScreen(Screen):
    name = ScreenName.CATEGORY
    categoryChosen = Signal(str)

    def __init__(self, theme: Theme, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.catalog = catalog
        self.greeting = self.label(name="title", center=True)
        self.priority = self.label(name="notice")
        self.priority.hide()
        self.question = self.label(name="subtitle", center=True)
        self.problem = self.label(name="error")
        self.problem.hide()
        self.buttons: dict[str, WrapButton] = {}
        for cat in catalog.categories:
            button = WrapButton()
            button.setObjectName("tile")
            button.clicked.connect(lambda _=False, c=cat.id: self._choose(c))
            self.buttons[cat.id] = button
        # All seven on one page; four large ones a page in elder mode (catalog order: the
        # busiest categories first).
        self.pages = ChoicePages()
        self.pages.set_buttons(list(self.buttons.values()))
        # 按事项找: every category's matters, in catalog order, each a button to its category.
        self.matter_buttons: list[tuple[WrapButton, str, int]] = []  # button, category, index
        for cat in catalog.categories:
            for i, _matter in enumerate(cat.matters):
                button = WrapButton()
                button.setObjectName("tile")
                button.clicked.connect(lambda _=False, c=cat.id: self._choose(c))
                self.matter_buttons.append((button, cat.id, i))
        self.matter_pages = ChoicePages()
        self.matter_pages.set_buttons([b for b, _c, _i in self.matter_buttons])
        self.matter_pages.hide()
        self.finding = False  # the matters are shown instead of the tiles
        self.find_button = ActionButton()
        self.find_button.clicked.connect(lambda: self.show_matters(not self.finding))
        self.layout_.addWidget(self.greeting)
        self.layout_.addWidget(self.priority)
        self.layout_.addWidget(self.question)
        self.layout_.addWidget(self.problem)
        self.layout_.addWidget(self.pages)
        self.layout_.addWidget(self.matter_pages)
        self.layout_.addStretch(1)
        self._place_find_button()
        self._figures: dict[str, QueueFigures] = {}
        self._fit_pending = False  # a check of the hints' room is queued
        self._hintless: set[str] = set()  # tiles without the room for their hint
        self._status: dict[str, CategoryStatus] = {}
        # "Today" and "tomorrow" of the opening times: the kiosk's clock (set by app.py).
        self.clock: Clock = shanghai_now
        self._busy = False
        self.apply_theme()
        self.retranslate()

    def apply_theme(self) -> None:
        elder = self.theme.elder
        if elder:
            # One to a row on a portrait panel: long English words in tile type.
            self.pages.arrange(1 if self.theme.portrait else 2, per_page=4)
        else:
            self.pages.arrange(2 if self.theme.portrait else 4)
        # Matters: twelve a page (three rows of four, six of two); elder type four a page
        # (six, one to a row, on a portrait panel).
        if elder:
            portrait = self.theme.portrait
            self.matter_pages.arrange(1 if portrait else 2, per_page=6 if portrait else 4)
        else:
            self.matter_pages.arrange(2 if self.theme.portrait else 4, per_page=12)
        for button, _c, _i in self.matter_buttons:
            button.setMinimumHeight(160 if elder else 130)
        self._find_texts()
        for button in self.buttons.values():
            if elder:
                # 180 on a landscape panel: at 200, with an 80+ resident's priority notice
                # shown, the second row ran 2 px into 更多选择.
                button.setMinimumHeight(200 if self.theme.portrait else 180)
            else:
                button.setMinimumHeight(200 if self.theme.portrait else 220)
        self.set_queue_figures(self._figures)

    def retranslate(self) -> None:
        self.question.setText(self.tr("您要办什么事？点一下，取对应业务的号") if self.finding
                              else self.tr("请选择要办理的业务"))
        self._find_texts()
        self.pages.retranslate()
        self.matter_pages.retranslate()
        for button, category_id, i in self.matter_buttons:
            cat = self.catalog.get(category_id)
            button.setText(cat.matters[i].get(self.language))
            # Where it leads: the resident learns the department's name on the way.
            button.set_detail(self.tr("取“{title}”的号").format(
                title=cat.title.get(self.language)))
        self.set_queue_figures(self._figures)

    def _find_texts(self) -> None:
        # Short: it shares a row with 更多选择 ›; the reason below it, but in elder type,
        # whose tiles need that height.
        self.find_button.setText(self.tr("‹ 按业务选择") if self.finding
                                 else self.tr("按事项找"))
        self.find_button.set_detail("" if self.finding or self.theme.elder
                                    else self.tr("不知道选哪个时"))

    def show_matters(self, shown: bool) -> None:
        """按事项找 (True), or back to the categories (False)."""
        if not self.matter_buttons:
            shown = False
        self.finding = shown
        self.pages.setVisible(not shown)
        self.matter_pages.setVisible(shown)
        self._place_find_button()
        self.matter_pages.show_page(0)
        self.show_problem("")
        self.retranslate()
        self.promptChanged.emit()

    def _place_find_button(self) -> None:
        # In the row of the shown choices' page buttons (更多选择 ›), left: no row of its
        # own, which elder type's four tiles on a landscape panel have no room for.
        for pages in (self.pages, self.matter_pages):
            pages.nav.removeWidget(self.find_button)
        shown = self.matter_pages if self.finding else self.pages
        shown.nav.insertWidget(1, self.find_button)
        self.find_button.setVisible(bool(self.matter_buttons))

    def handle_back(self) -> bool:
        if self.finding:  # Back from the matters is back to the categories
            self.show_matters(False)
            return True
        return False

    def spoken_text(self) -> str:
        # The scan's result (the greeting with the masked name), then the question.
        return sentences(self.greeting.text(),
                         self.priority.text() if self.priority.isVisibleTo(self) else "",
                         self.problem.text() if self.problem.isVisibleTo(self) else "",
                         self.question.text())

    def title_text(self) -> str:
        return self.tr("选择业务")

    def set_resident(self, masked_name: str, priority_text: str) -> None:
        if masked_name:
            self.greeting.setText(self.tr("{name}，您好").format(name=masked_name))
        else:
            self.greeting.setText(self.tr("您好"))
        self.priority.setText(priority_text)
        self.priority.setVisible(bool(priority_text))

    def set_queue_figures(self, figures: dict[str, QueueFigures]) -> None:
        self._figures = figures
        self._fit_hints()

    def _fit_hints(self) -> None:
        """The tiles with what each department does, where the page holds them; a tile
        without room goes without its hint (English titles wrap, a hall's tile has a line
        for the numbers left today, an 80+ resident's notice takes height, and elder type
        has room for one smaller line): a layout short of height squeezes a tile's lines
        over each other. 按事项找 helps either way."""
        self._hintless.clear()
        self._tiles()
        if self.isVisible() and not self._fit_pending:
            # Measured once the page is laid out at its size (a screen just shown is not).
            self._fit_pending = True
            QTimer.singleShot(0, self, self._check_hints)

    def _check_hints(self) -> None:
        self._fit_pending = False
        if not self.isVisible() or not self.pages.isVisible():
            return
        # One tile at a time, the most squeezed first: a row is as tall as its tallest tile,
        # so once that one drops its hint the others of its row may fit with theirs (a hall's
        # 户籍 tile, with today's numbers left, used to take every tile's hint with it).
        for _ in range(len(self.buttons)):
            for _pass in range(3):  # a tile re-wrapped at its new width asks for another pass
                self.layout_.invalidate()
                self.layout_.activate()
            short = [(b.sizeHint().height() - b.height(), cid)
                     for cid, b in self.buttons.items()
                     if b.isVisible() and cid not in self._hintless and b.detail()
                     and b.height() < b.sizeHint().height() - 2]
            if not short:
                return
            self._hintless.add(max(short)[1])
            self._tiles()

    def _tiles(self) -> None:
        now = self.clock()
        figures = self._figures
        for cat in self.catalog.categories:
            fig = figures.get(cat.id)
            status = category_status(fig, now)
            self._status[cat.id] = status
            waiting = self.tr("等候 {n} 人").format(n=fig.waiting) if fig else ""
            # Closed for the day or the night: nobody to count, the opening time instead.
            lines = [t for t in ("" if status.closed else waiting, status.note) if t]
            button = self.buttons[cat.id]
            hint = (cat.hint.get(self.language)
                    if cat.hint and cat.id not in self._hintless else "")
            if self.theme.elder:
                # Elder type: one smaller detail line, so that four tiles and the page's
                # other choices fit one screen. What the department does, unless the
                # category gives no numbers now or few: then that (the queue figure is on
                # the ticket); without the hint, the figure, as on Home.
                button.setText(cat.title.get(self.language))
                button.set_detail(status.note or hint or " · ".join(lines))
            else:
                button.setText("\n".join([cat.title.get(self.language), *lines]))
                button.set_detail(hint)
            show_closed(button, not status.available)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        # The problem takes the place of the greeting and the question (the resident has
        # chosen already): with it, elder type's tiles no longer fit a landscape panel.
        self.greeting.setVisible(not text)
        self.question.setVisible(not text)
        if text:
            self.announced.emit(text, False)

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        for b in [*self.buttons.values(), *(m for m, _c, _i in self.matter_buttons)]:
            b.setEnabled(not busy)
        self.find_button.setEnabled(not busy)

    def _choose(self, category_id: str) -> None:
        # Double taps: the first tap disables every button until the ticket is out.
        if self._busy:
            return
        status = self._status.get(category_id, OPEN)
        if not status.available:
            title = self.catalog.get(category_id).title.get(self.language)
            self.show_problem(self.tr("{title}现在不能取号：{note}。").format(
                title=title, note=status.note))
            return
        self.set_busy(True)
        self.categoryChosen.emit(category_id)

    def entered(self) -> None:
        self.set_busy(False)
        self.pages.show_page(0)
        self._fit_hints()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_hints()

    def clear(self) -> None:
        self.show_problem("")
        self.greeting.clear()
        self.priority.clear()
        self.priority.hide()
        self.set_busy(False)
        if self.finding:
            self.show_matters(False)
