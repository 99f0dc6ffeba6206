"""What every screen shares: a title, a body, and a way to forget the resident."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.ui.screen_names import ScreenName
from kiosk.ui.theme import Theme
from kiosk.ui.widgets.label import label

_END = tuple(".。!！?？:：…")


def sentences(*parts: str) -> str:
    """Texts joined for speaking: each a sentence (a full stop added where missing, Chinese
    or Latin by its last character), line breaks as pauses, empty parts left out."""
    out = []
    for part in parts:
        text = " ".join(line.strip() for line in part.split("\n") if line.strip())
        if not text:
            continue
        if not text.endswith(_END):
            text += "。" if ord(text[-1]) >= 0x2E80 else "."
        out.append(text)
    return " ".join(out)


class Screen(QWidget):
    """One step of a flow. Screens never call services; they emit what the resident chose."""

    #: Which screen this is: MainWindow.go() shows it by this name. Every screen sets one.
    name: ScreenName
    #: Whether the top bar shows Back (Home always shows on non-home screens).
    has_back = True
    #: The resident's language ("zh" | "en"), for data that carries both (catalog, bundles);
    #: set by MainWindow.set_language before it calls retranslate().
    language = "zh"
    #: Something the resident should hear now (a refused code, a result): spoken in elder
    #: mode, at once or after the current prompt. The screen's main instruction is
    #: spoken_text(), read when the screen shows.
    announced = Signal(str, bool)  # text, queued after what is being said
    #: The main instruction changed without a change of screen (a new wizard page, help has
    #: come): spoken_text() is read again.
    promptChanged = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.theme = theme
        self.layout_ = QVBoxLayout(self)
        self._apply_margins()

    def _apply_margins(self) -> None:
        margin = 40 if self.theme.portrait else 56
        # Elder mode: less margin and spacing, so the larger type keeps its room.
        self.layout_.setContentsMargins(margin - 8 * self.theme.elder, 32 - 8 * self.theme.elder,
                                        margin - 8 * self.theme.elder, 32 - 8 * self.theme.elder)
        self.layout_.setSpacing(16 if self.theme.elder else 24)

    def set_theme(self, theme: Theme) -> None:
        """Normal or elder mode: sizes and choices for `theme`. The window has already set
        its style sheet (fonts, colours); screens override apply_theme() for the rest."""
        if theme == self.theme:
            return
        self.theme = theme
        self._apply_margins()
        self.apply_theme()

    def apply_theme(self) -> None:
        """Adjust sizes, columns and visible choices to self.theme (self.theme.elder)."""

    #: Screens make their labels as `self.label(text, "title", center=True)`.
    label = staticmethod(label)

    def retranslate(self) -> None:
        """Set every text again through tr(): called at construction and when the language
        changes. Screens with texts override it."""

    def title_text(self) -> str:
        """Shown in the top bar."""
        return ""

    def spoken_text(self) -> str:
        """The screen's main instruction, read aloud when it shows (elder mode)."""
        return ""

    def wants_codes(self) -> bool:
        """Whether scanned codes mean something on this screen (the scanner reports them)."""
        return False

    def handle_back(self) -> bool:
        """Back was pressed; return True if the screen handled it itself."""
        return False

    def entered(self) -> None:
        """Called after the screen became visible."""

    def left(self) -> None:
        """Called when another screen replaces it."""

    def clear(self) -> None:
        """Forget everything about the current resident (session end, idle timeout)."""
