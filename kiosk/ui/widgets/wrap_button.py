"""WrapButton: a push button whose text wraps to its width, as a label's would, with an
optional smaller detail line below (a tile's title and summary)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QWidget,
)

from kiosk.ui.widgets.text_wrap import break_units, wrap_text


class WrapButton(QPushButton):
    """A push button whose text wraps to its width, as a label's would, with an optional
    detail below the text in a smaller, regular font (a tile's title and summary).

    A QPushButton draws its text on one line (or at explicit line breaks) and asks for as
    much width as that line needs: a long English label or a bundle summary either widens
    the layout off the panel or is cut off. This one asks only for its widest word, and
    re-wraps its text whenever its width changes. `text()` returns the text as set.
    """

    DETAIL_SCALE = 0.72
    DETAIL_GAP_PX = 6

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._raw = ""
        self._detail = ""
        self._detail_shown = ""
        self._min_height = 0
        # Tiles of a row share its height, so a row of tiles lines up.
        self.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def text(self) -> str:
        return self._raw

    def shown_text(self) -> str:
        """The text as drawn, with the line breaks wrapping added."""
        return super().text()

    def setText(self, text: str) -> None:
        self._raw = text
        self._rewrap()

    def detail(self) -> str:
        return self._detail

    def shown_detail(self) -> str:
        return self._detail_shown

    def set_detail(self, text: str) -> None:
        self._detail = text
        self._rewrap()
        self.update()

    def detail_font(self) -> QFont:
        font = QFont(self.font())
        px = font.pixelSize() if font.pixelSize() > 0 else round(font.pointSizeF() * 4 / 3)
        font.setPixelSize(max(28, round(px * self.DETAIL_SCALE)))
        font.setBold(False)
        return font

    def content_rect(self) -> QRect:
        """Where the text may go: the button less the style sheet's border and padding."""
        opt = QStyleOptionButton()
        self.initStyleOption(opt)
        return self.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, opt, self)

    def content_width(self) -> int:
        return max(1, self.content_rect().width())

    def _rewrap(self) -> None:
        width = self.content_width()
        wrapped = wrap_text(self._raw, QFontMetrics(self.font()), width)
        detail = wrap_text(self._detail, QFontMetrics(self.detail_font()), width)
        if wrapped != super().text() or detail != self._detail_shown:
            self._detail_shown = detail
            super().setText(wrapped)
            self.updateGeometry()

    def _text_size(self, text: str, detail: str) -> QSize:
        fm = QFontMetrics(self.font())
        lines = text.split("\n") if text else [""]
        width = max(fm.horizontalAdvance(line) for line in lines)
        height = fm.lineSpacing() * len(lines)
        if detail:
            dm = QFontMetrics(self.detail_font())
            dlines = detail.split("\n")
            width = max(width, *(dm.horizontalAdvance(line) for line in dlines))
            # A little air above and below a tile's two blocks of text.
            height += self.DETAIL_GAP_PX + dm.lineSpacing() * len(dlines) + 2 * 8
        return QSize(width, height)

    def _hint(self, text: str, detail: str) -> QSize:
        opt = QStyleOptionButton()
        self.initStyleOption(opt)
        size = self.style().sizeFromContents(QStyle.ContentsType.CT_PushButton, opt,
                                             self._text_size(text, detail), self)
        return size.expandedTo(self.minimumSize())

    def _widest_unit(self, text: str, font: QFont) -> int:
        fm = QFontMetrics(font)
        return max((fm.horizontalAdvance(u.rstrip(" ")) for p in text.split("\n")
                    for u in break_units(p)), default=0)

    def minimumSizeHint(self) -> QSize:
        widest = max(self._widest_unit(self._raw, self.font()),
                     self._widest_unit(self._detail, self.detail_font()))
        hint = self._hint(super().text(), self._detail_shown)
        return QSize(self._hint("", "").width() + widest, hint.height())

    def sizeHint(self) -> QSize:
        return self.minimumSizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._detail:
            super().paintEvent(event)
            return
        painter = QStylePainter(self)
        opt = QStyleOptionButton()
        self.initStyleOption(opt)
        opt.text = ""
        painter.drawControl(QStyle.ControlElement.CE_PushButton, opt)
        rect = self.content_rect()
        title = super().text()
        fm = QFontMetrics(self.font())
        dm = QFontMetrics(self.detail_font())
        title_h = fm.lineSpacing() * len(title.split("\n"))
        detail_h = dm.lineSpacing() * len(self._detail_shown.split("\n"))
        top = rect.top() + max(0, (rect.height() - title_h - self.DETAIL_GAP_PX - detail_h) // 2)
        painter.setPen(self.palette().color(QPalette.ColorRole.ButtonText))
        centred = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        painter.setFont(self.font())
        painter.drawText(QRect(rect.left(), top, rect.width(), title_h), centred, title)
        painter.setFont(self.detail_font())
        painter.drawText(QRect(rect.left(), top + title_h + self.DETAIL_GAP_PX, rect.width(),
                               detail_h), centred, self._detail_shown)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._rewrap()

    def setMinimumHeight(self, height: int) -> None:
        """Kept through style sheet changes: polishing applies the sheet's `min-height`
        over any height set before (at the first show, and when elder mode re-styles)."""
        self._min_height = height
        super().setMinimumHeight(height)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.Polish and self._min_height:
            super().setMinimumHeight(self._min_height)
        return handled

    def changeEvent(self, event: QEvent) -> None:  # a new font or style: new metrics
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            if self._min_height:
                super().setMinimumHeight(self._min_height)
            self._rewrap()
