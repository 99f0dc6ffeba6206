"""ChoicePages: choices in a grid, one page at a time (elder mode shows fewer per page)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractButton, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.ui.widgets.action_button import ActionButton


class ChoicePages(QWidget):
    """Choices in a grid, one page at a time, with 更多选择 › and ‹ 上一页 to reach the rest.

    Normal mode shows every choice on one page; elder mode (适老化: fewer and larger choices
    on each screen) shows a few, large, and pages. The buttons stay the caller's: it connects
    them; this widget only places and shows them.
    """

    pageChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.grid = QGridLayout()
        self.grid.setSpacing(24)
        outer.addLayout(self.grid)
        self.buttons: list[QAbstractButton] = []
        self.columns = 1
        self.per_page = 0
        self.page = 0
        nav = QHBoxLayout()
        self.previous_button = ActionButton()
        self.previous_button.clicked.connect(lambda: self.show_page(self.page - 1))
        self.more_button = ActionButton()
        self.more_button.setObjectName("primary")
        self.more_button.clicked.connect(lambda: self.show_page(self.page + 1))
        nav.addWidget(self.previous_button)
        nav.addStretch(1)
        nav.addWidget(self.more_button)
        self.nav = nav
        outer.addLayout(nav)
        self.retranslate()
        self._place()

    def retranslate(self) -> None:
        self.previous_button.setText(self.tr("‹ 上一页"))
        self.more_button.setText(self.tr("更多选择 ›"))

    def set_buttons(self, buttons: list[QAbstractButton]) -> None:
        """The choices, in order (earlier ones are on the first page)."""
        for b in self.buttons:
            self.grid.removeWidget(b)
        self.buttons = list(buttons)
        for b in self.buttons:
            b.setParent(self)
        self.page = 0
        self._place()

    def arrange(self, columns: int, per_page: int = 0) -> None:
        """`columns` per row; `per_page` choices per page (0: all on one page)."""
        self.columns = max(1, columns)
        self.per_page = per_page
        self.page = min(self.page, self.pages() - 1)
        self._place()

    def pages(self) -> int:
        if not self.per_page or not self.buttons:
            return 1
        return -(-len(self.buttons) // self.per_page)

    def page_of(self, button: QAbstractButton) -> int:
        i = self.buttons.index(button)
        return i // self.per_page if self.per_page else 0

    def show_page(self, page: int) -> None:
        page = max(0, min(page, self.pages() - 1))
        if page != self.page:
            self.page = page
            self._place()
            self.pageChanged.emit(page)

    def _place(self) -> None:
        for b in self.buttons:
            self.grid.removeWidget(b)
        for column in range(self.grid.columnCount()):
            self.grid.setColumnStretch(column, 0)
        for column in range(self.columns):
            self.grid.setColumnStretch(column, 1)
        start = self.page * self.per_page if self.per_page else 0
        shown = self.buttons[start:start + self.per_page] if self.per_page else self.buttons
        for i, b in enumerate(shown):
            self.grid.addWidget(b, i // self.columns, i % self.columns)
        for b in self.buttons:
            b.setVisible(b in shown)
        paged = self.pages() > 1
        self.previous_button.setVisible(paged and self.page > 0)
        self.more_button.setVisible(paged and self.page < self.pages() - 1)
