"""What every screen shares: a title, a body, and a way to forget the resident."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.ui.theme import Theme


class Screen(QWidget):
    """One step of a flow. Screens never call services; they emit what the resident chose."""

    name = "screen"
    #: Whether the top bar shows Back (Home always shows on non-home screens).
    has_back = True
    #: The resident's language ("zh" | "en"), for data that carries both (catalog, bundles);
    #: set by MainWindow.set_language before it calls retranslate().
    language = "zh"

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.theme = theme
        self.layout_ = QVBoxLayout(self)
        margin = 40 if theme.portrait else 56
        self.layout_.setContentsMargins(margin, 32, margin, 32)
        self.layout_.setSpacing(24)

    @staticmethod
    def label(text: str = "", name: str = "", center: bool = False) -> QLabel:
        lab = QLabel(text)
        if name:
            lab.setObjectName(name)
        lab.setWordWrap(True)
        if center:
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return lab

    def retranslate(self) -> None:
        """Set every text again through tr(): called at construction and when the language
        changes. Screens with texts override it."""

    def title_text(self) -> str:
        """Shown in the top bar."""
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
