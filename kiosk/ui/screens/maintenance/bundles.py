"""一件事文件: whether every bundle file loaded, and what is wrong with those that did not."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from kiosk.ui.screens.maintenance.parts import breakable, scrolling, show_message
from kiosk.ui.screens.maintenance.section import Section
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label


class BundlesSection(Section):
    """A summary line, then one label per broken file with the path inside it."""

    key = "bundles"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self.summary = label(name="ok")
        holder = QWidget()
        self.errors = QVBoxLayout(holder)
        self.errors.setContentsMargins(0, 0, 0, 0)
        self.errors.setSpacing(12)
        self.errors.addStretch(1)
        # Emptied and refilled in place, never replaced: the screen hands out this list.
        self.error_labels: list[QLabel] = []
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(holder)
        scrolling(scroll.viewport())
        self.layout_.addWidget(self.summary)
        self.layout_.addWidget(scroll, 1)

    def title(self) -> str:
        return self.tr("一件事文件")

    def set_bundles(self, valid: int, problems: Sequence[str]) -> None:
        for lab in self.error_labels:
            self.errors.removeWidget(lab)
            lab.deleteLater()
        self.error_labels.clear()
        if not problems:
            show_message(self.summary, self.tr("全部 {n} 个有效").format(n=valid), "ok")
            return
        show_message(self.summary, self.tr(
            "{bad} 个文件有问题，未被加载；其余 {n} 个有效。").format(bad=len(problems), n=valid),
            "error")
        for i, text in enumerate(problems):
            lab = label(breakable(text), name="notice")
            lab.setTextFormat(Qt.TextFormat.PlainText)
            lab.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            self.errors.insertWidget(i, lab)
            self.error_labels.append(lab)
