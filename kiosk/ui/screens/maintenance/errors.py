"""最近错误: the last warnings and errors, newest first: this run's from the in-memory log
buffer and, when the log goes to the journal, earlier runs' read back from it (the
controller merges them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtWidgets import QWidget

from kiosk.ui.log_buffer import LogLine
from kiosk.ui.screens.maintenance.parts import mono
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label

ERRORS_SHOWN = 50


class ErrorsSection(Section):
    """Time, level, module and message of the recent warnings and errors."""

    key = "errors"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.hint = label(name="small")
        self.text = mono()
        self.layout_.addWidget(self.hint)
        self.layout_.addWidget(self.text, 1)

    def title(self) -> str:
        return self.tr("最近错误")

    def retranslate(self) -> None:
        super().retranslate()
        self.hint.setText(self.tr(
            "最近 {n} 条警告和错误，最新的在最上面（只记录时间、模块和消息）。"
        ).format(n=ERRORS_SHOWN))

    def set_errors(self, lines: Sequence[LogLine]) -> None:
        shown = list(lines)[-ERRORS_SHOWN:]
        if not shown:
            self.text.setPlainText(self.tr("（没有警告或错误）"))
            return
        text = "\n".join(
            f"{dt.datetime.fromtimestamp(line.created):%m-%d %H:%M:%S} {line.level} "
            f"{line.logger}: {line.message}"
            for line in reversed(shown)
        )
        self.text.setPlainText(text)
