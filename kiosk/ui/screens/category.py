"""Pick a service category: one decision, seven large buttons (four a page in elder mode).

With a hall, a tile also says how many numbers are left today, or that the category gives
none now (outside its hours: from when; its daily numbers all taken). Such a tile is drawn
closed, and a tap on it says why instead of asking for a number.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from kiosk.backend.interface import QueueFigures
from kiosk.common.clock import Clock, shanghai_now
from kiosk.domain.catalog import Catalog
from kiosk.ui.queue_status import OPEN, CategoryStatus, category_status, show_closed
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
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
        self.layout_.addWidget(self.greeting)
        self.layout_.addWidget(self.priority)
        self.layout_.addWidget(self.question)
        self.layout_.addWidget(self.problem)
        self.layout_.addWidget(self.pages)
        self.layout_.addStretch(1)
        self._figures: dict[str, QueueFigures] = {}
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
        for button in self.buttons.values():
            if elder:
                # 180 on a landscape panel: at 200, with an 80+ resident's priority notice
                # shown, the second row ran 2 px into 更多选择.
                button.setMinimumHeight(200 if self.theme.portrait else 180)
            else:
                button.setMinimumHeight(200 if self.theme.portrait else 220)
        self.set_queue_figures(self._figures)

    def retranslate(self) -> None:
        self.question.setText(self.tr("请选择要办理的业务"))
        self.pages.retranslate()
        self.set_queue_figures(self._figures)

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
        now = self.clock()
        for cat in self.catalog.categories:
            fig = figures.get(cat.id)
            status = category_status(fig, now)
            self._status[cat.id] = status
            waiting = self.tr("等候 {n} 人").format(n=fig.waiting) if fig else ""
            # Closed for the day or the night: nobody to count, the opening time instead.
            lines = [t for t in ("" if status.closed else waiting, status.note) if t]
            button = self.buttons[cat.id]
            if self.theme.elder:
                # Elder type: the queue figure in the smaller detail line, so that four
                # tiles and the page's other choices fit one screen.
                button.setText(cat.title.get(self.language))
                button.set_detail(" · ".join(lines))
            else:
                button.setText("\n".join([cat.title.get(self.language), *lines]))
                button.set_detail("")
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
        for b in self.buttons.values():
            b.setEnabled(not busy)

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

    def clear(self) -> None:
        self.show_problem("")
        self.greeting.clear()
        self.priority.clear()
        self.priority.hide()
        self.set_busy(False)
