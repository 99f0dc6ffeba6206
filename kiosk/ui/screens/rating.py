"""好差评: five levels, then optional reason tags that suit the level; no free text at a kiosk.

A level once chosen is the resident's rating: 完成 submits it too (it then reads 提交评价，
返回首页), so a resident who taps 不满意 and leaves the familiar way is still heard."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QWidget

from kiosk.domain.text import Bilingual
from kiosk.ui.screen_names import ScreenName
from kiosk.ui.screens.base import Screen, sentences
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.action_button import ActionButton
from kiosk.ui.widgets.choice_pages import ChoicePages
from kiosk.ui.widgets.wrap_button import WrapButton


class RatingScreen(Screen):
    name = ScreenName.RATING
    submitted = Signal(int, tuple)  # level, reason tag ids
    doneChosen = Signal()

    def __init__(
        self,
        theme: Theme,
        levels: dict[int, Bilingual],
        reasons: dict[str, Bilingual],
        reasons_by_level: dict[int, list[str]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(theme, parent)
        self._level: int | None = None  # the level tapped; None until one is
        self._sent = False  # submitted and not refused: a second tap sends nothing
        self.levels = levels
        self.reasons = reasons
        # The reasons offered after each level (all of them where none is given).
        self.reasons_by_level = reasons_by_level or {lv: list(reasons) for lv in levels}
        self.heading = self.label(name="title", center=True)
        self.target = self.label(name="subtitle", center=True)
        self.level_buttons: dict[int, QPushButton] = {}
        for level in sorted(levels, reverse=True):
            b = WrapButton()
            b.setObjectName("tile")
            b.setCheckable(True)
            b.setMinimumHeight(140)
            b.clicked.connect(lambda _=False, lv=level: self._choose_level(lv))
            self.level_buttons[level] = b
        # The five levels on one page: a row (landscape), or rows of two (portrait) or of
        # three (elder mode on landscape: "Very dissatisfied" in elder type needs the width).
        self.levels_grid = ChoicePages()
        self.levels_grid.grid.setSpacing(16)
        self.levels_grid.set_buttons(list(self.level_buttons.values()))
        self.reason_title = self.label(name="subtitle")
        grid = QGridLayout()
        grid.setSpacing(16)
        self.reason_grid = grid
        self.reason_buttons: dict[str, QPushButton] = {}
        self._columns = 2 if theme.portrait else 4
        for column in range(self._columns):
            grid.setColumnStretch(column, 1)
        for i, tag in enumerate(reasons):
            b = WrapButton()
            b.setCheckable(True)
            self.reason_buttons[tag] = b
            grid.addWidget(b, i // self._columns, i % self._columns)
        self.submit_button = ActionButton()
        self.submit_button.setObjectName("primary")
        self.submit_button.clicked.connect(self._submit)
        self.thanks = self.label(name="ok")
        self.thanks.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.problem = self.label(name="error")
        self.done_button = ActionButton()
        self.done_button.clicked.connect(self.doneChosen)
        self.layout_.addWidget(self.heading)
        self.layout_.addWidget(self.target)
        self.layout_.addWidget(self.levels_grid)
        self.layout_.addWidget(self.reason_title)
        self.layout_.addLayout(grid)
        self.layout_.addStretch(1)
        self.layout_.addWidget(self.thanks)
        self.layout_.addWidget(self.problem)
        bottom = QHBoxLayout()
        bottom.addWidget(self.done_button)
        bottom.addWidget(self.submit_button)
        self.layout_.addLayout(bottom)
        self.language = "zh"
        self.clear()
        self.apply_theme()

    def apply_theme(self) -> None:
        elder, portrait = self.theme.elder, self.theme.portrait
        self.levels_grid.arrange(2 if portrait else (3 if elder else len(self.level_buttons)))
        for b in self.level_buttons.values():
            b.setMinimumHeight(150 if elder else 140)
        self._show_reasons(self._level is not None)

    def offered_reasons(self) -> list[str]:
        """The reason tags the chosen level offers ([] before a level is chosen)."""
        if self._level is None:
            return []
        return [t for t in self.reasons_by_level.get(self._level, list(self.reasons))
                if t in self.reason_buttons]

    def _show_reasons(self, shown: bool) -> None:
        # Elder mode: one decision, the level; the optional reasons are left out.
        shown = shown and not self.theme.elder
        self.reason_title.setVisible(shown)
        offered = self.offered_reasons() if shown else []
        # Laid out afresh for each level: the offered ones fill the grid from its start.
        for b in self.reason_buttons.values():
            self.reason_grid.removeWidget(b)
        for i, tag in enumerate(offered):
            self.reason_grid.addWidget(self.reason_buttons[tag], i // self._columns,
                                       i % self._columns)
        for tag, b in self.reason_buttons.items():
            b.setVisible(tag in offered)
            if tag not in offered:
                b.setChecked(False)  # a praise ticked before switching to 不满意 is not sent

    def retranslate(self) -> None:
        self.heading.setText(self.tr("请为本次服务评价"))
        for level, b in self.level_buttons.items():
            b.setText(self.levels[level].get(self.language))
        for tag, b in self.reason_buttons.items():
            b.setText(self.reasons[tag].get(self.language))
        self.reason_title.setText(self.tr("原因（可选，可多选）"))
        self.submit_button.setText(self.tr("提交评价"))
        self._retranslate_done()

    def _retranslate_done(self) -> None:
        # Says what the tap does: with a level chosen and not yet sent, it sends it.
        if self.unsent_choice() is not None:
            self.done_button.setText(self.tr("提交评价，返回首页"))
        else:
            self.done_button.setText(self.tr("完成，返回首页"))

    def title_text(self) -> str:
        return self.tr("好差评")

    def spoken_text(self) -> str:
        return sentences(self.heading.text(), self.target.text())

    def set_target(self, text: str) -> None:
        self.target.setText(text)

    def _choose_level(self, level: int) -> None:
        for lv, b in self.level_buttons.items():
            b.setChecked(lv == level)
        self._level = level
        self._show_reasons(True)
        self.submit_button.show()
        self.submit_button.setEnabled(True)
        self._retranslate_done()

    def unsent_choice(self) -> tuple[int, tuple[str, ...]] | None:
        """The level and reasons chosen and not (successfully) sent yet, or None."""
        if self._level is None or self._sent:
            return None
        return self._level, self._chosen_reasons()

    def _chosen_reasons(self) -> tuple[str, ...]:
        return tuple(t for t, b in self.reason_buttons.items()
                     if b.isChecked() and t in self.offered_reasons())

    def _submit(self) -> None:
        if self._level is None or self._sent:
            return
        self._sent = True  # a double tap must not rate twice
        self.submit_button.setEnabled(False)
        # The choice is frozen once sent: a retry after a problem resends this rating.
        for b in list(self.level_buttons.values()) + list(self.reason_buttons.values()):
            b.setEnabled(False)
        self._retranslate_done()
        self.submitted.emit(self._level, self._chosen_reasons())

    def show_thanks(self) -> None:
        self.thanks.setText(self.tr("感谢您的评价！"))
        self.thanks.show()
        self.announced.emit(self.thanks.text(), False)
        self.submit_button.hide()
        for b in list(self.level_buttons.values()) + list(self.reason_buttons.values()):
            b.setEnabled(False)

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()
        self.announced.emit(text, False)
        self._sent = False
        self.submit_button.setEnabled(True)
        self._retranslate_done()

    def clear(self) -> None:
        self._level = None
        self._sent = False
        self.target.clear()
        self.thanks.clear()
        self.thanks.hide()
        self.problem.clear()
        self.problem.hide()
        for b in list(self.level_buttons.values()) + list(self.reason_buttons.values()):
            b.setChecked(False)
            b.setEnabled(True)
        self._show_reasons(False)
        self.submit_button.hide()
        self.retranslate()
