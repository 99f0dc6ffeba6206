"""Pick a service category: one decision, seven large buttons."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from kiosk.backend.interface import QueueFigures
from kiosk.domain.catalog import Catalog
from kiosk.ui.screens.base import Screen
from kiosk.ui.theme import Theme
from kiosk.ui.widgets import WrapButton


class CategoryScreen(Screen):
    name = "category"
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
        grid = QGridLayout()
        grid.setSpacing(24)
        columns = 2 if theme.portrait else 4
        self.buttons: dict[str, WrapButton] = {}
        for column in range(columns):
            grid.setColumnStretch(column, 1)
        for i, cat in enumerate(catalog.categories):
            button = WrapButton()
            button.setObjectName("tile")
            button.setMinimumHeight(200 if theme.portrait else 220)
            button.clicked.connect(lambda _=False, c=cat.id: self._choose(c))
            self.buttons[cat.id] = button
            grid.addWidget(button, i // columns, i % columns)
        self.layout_.addWidget(self.greeting)
        self.layout_.addWidget(self.priority)
        self.layout_.addWidget(self.question)
        self.layout_.addWidget(self.problem)
        self.layout_.addLayout(grid)
        self.layout_.addStretch(1)
        self._figures: dict[str, QueueFigures] = {}
        self._busy = False
        self.retranslate()

    def retranslate(self) -> None:
        self.question.setText(self.tr("请选择要办理的业务"))
        self.set_queue_figures(self._figures)

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
        for cat in self.catalog.categories:
            fig = figures.get(cat.id)
            waiting = self.tr("等候 {n} 人").format(n=fig.waiting) if fig else ""
            self.buttons[cat.id].setText(f"{cat.title.get(self.language)}\n{waiting}".strip())

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        for b in self.buttons.values():
            b.setEnabled(not busy)

    def _choose(self, category_id: str) -> None:
        # Double taps: the first tap disables every button until the ticket is out.
        if self._busy:
            return
        self.set_busy(True)
        self.categoryChosen.emit(category_id)

    def entered(self) -> None:
        self.set_busy(False)

    def clear(self) -> None:
        self.show_problem("")
        self.greeting.clear()
        self.priority.clear()
        self.priority.hide()
        self.set_busy(False)
