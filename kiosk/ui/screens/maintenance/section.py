"""The common base of the maintenance screen's sections.

A section is one page of the maintenance screen (Picard's options pages are the model): it
declares its key and its title, owns its widgets and the signals they emit, and is told
what to show by the controller. Like a screen it never calls a service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label


class Section(QWidget):
    """One page of the maintenance screen, headed by its title."""

    #: The section's name in code, logs and `MaintenanceScreen.sectionChosen`.
    key: ClassVar[str] = ""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(16)
        self.heading = label(name="title")
        self.layout_.addWidget(self.heading)

    #: The section's name, translated (through the section's own tr(), so lupdate finds
    #: it): on its button in the column and above its page. Every section defines it, as a
    #: method; Qt's metaclass rules out abc, so __init_subclass__ checks instead.
    title: Callable[[], str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not callable(getattr(cls, "title", None)):
            raise TypeError(f"maintenance section {cls.__name__} has no title()")

    def retranslate(self) -> None:
        """Set every fixed text again through tr(); sections with more texts extend it."""
        self.heading.setText(self.title())

    def switched(self, visible: bool) -> None:
        """A section was chosen, this one if `visible`: close questions left open, drop what
        must not wait for the technician's return."""

    def clear(self) -> None:
        """Forget what may concern a resident and hide the results of earlier actions; the
        controller fills the figures in again on entry."""

    def add_buttons(self, *buttons: QPushButton) -> None:
        """The section's actions: side by side, or stacked on a narrow portrait panel."""
        box: QBoxLayout = QVBoxLayout() if self.theme.portrait else QHBoxLayout()
        box.setSpacing(16)
        for b in buttons:
            box.addWidget(b)
        self.layout_.addLayout(box)
