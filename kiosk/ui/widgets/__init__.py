"""Reusable widgets: camera preview with a guide frame, the ticket card, the idle overlay,
pages of choices (elder mode shows fewer per screen)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain.ticket import TicketView

_QR_CACHE: dict[str, list[list[bool]]] = {}


def qr_matrix(text: str) -> list[list[bool]]:
    """The modules of a QR code. Pure Python (Reed-Solomon in qrcode costs ~15 ms), so the
    controllers call it on a worker thread first; qr_pixmap then finds it cached."""
    cached = _QR_CACHE.get(text)
    if cached is not None:
        return cached
    # Imported here: qrcode brings PIL (~30 ms) and Home shows no QR code. It runs on the
    # worker thread that precomputes the matrix, so the GUI thread never pays for it.
    import qrcode

    # A fixed mask: choosing the "best" of eight costs another ~50 ms, and any mask reads
    # fine from a lit screen.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         mask_pattern=2)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    if len(_QR_CACHE) > 16:  # a few recent codes only: they belong to residents' sessions
        _QR_CACHE.clear()
    _QR_CACHE[text] = matrix
    return matrix


def forget_qr_codes() -> None:
    """Session end: no resident's code stays in memory."""
    _QR_CACHE.clear()


def qr_pixmap(text: str, size_px: int) -> QPixmap:
    """A crisp QR code: one rectangle per module, so it scales without blur."""
    matrix = qr_matrix(text)
    n = len(matrix)
    module = max(1, size_px // n)
    side = module * n
    image = QImage(side, side, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("black"))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                painter.drawRect(x * module, y * module, module, module)
    painter.end()
    return QPixmap.fromImage(image)


# Lines must not start with these (the character before moves down with them), nor end with
# the opening ones.
_NO_LINE_START = set("，。、；：！？）」』》〉】〕”’…%,.;:!?)]}")
_NO_LINE_END = set("（「『《〈【〔“‘([{")


def _breakable_after(ch: str) -> bool:
    """Whether a line may break after `ch` without a space: after a CJK character."""
    return ord(ch) >= 0x2E80 and ch not in _NO_LINE_END


def _units(paragraph: str) -> list[str]:
    """`paragraph` cut where a line may break: after spaces (kept with the word before),
    between CJK characters, never before closing punctuation."""
    units: list[str] = []
    current = ""
    for i, ch in enumerate(paragraph):
        current += ch
        nxt = paragraph[i + 1] if i + 1 < len(paragraph) else ""
        if not nxt or nxt in _NO_LINE_START:
            continue
        if (ch == " " and nxt != " ") or (_breakable_after(ch) and nxt != " ") or (
                ord(nxt) >= 0x2E80 and ch not in _NO_LINE_END and ch != " "):
            units.append(current)
            current = ""
    if current:
        units.append(current)
    return units


def wrap_text(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text` with line breaks so that every line fits `width` pixels where it can (a single
    word wider than `width` stays whole). Explicit line breaks are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for unit in _units(paragraph):
            candidate = line + unit
            if line and metrics.horizontalAdvance(candidate.rstrip(" ")) > width:
                lines.append(line.rstrip(" "))
                line = unit
            else:
                line = candidate
        lines.append(line.rstrip(" "))
    return "\n".join(lines)


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

    def text(self) -> str:  # type: ignore[override]
        return self._raw

    def shown_text(self) -> str:
        """The text as drawn, with the line breaks wrapping added."""
        return super().text()

    def setText(self, text: str) -> None:  # type: ignore[override]
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
                    for u in _units(p)), default=0)

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

    def setMinimumHeight(self, height: int) -> None:  # type: ignore[override]
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


class ActionButton(WrapButton):
    """A button that says what it does ("完成，返回首页"): one line when the layout has the
    room, wrapped only when it has not (a long English label in elder type), never cut."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return self._hint(self._raw, self._detail).expandedTo(self.minimumSizeHint())


class CameraView(QWidget):
    """Live preview, mirrored like a mirror so residents can aim, with a guide frame."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frame: QImage | None = None
        self._unavailable = False
        self.text_px = 34  # the message over the preview; larger in elder mode
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)

    @property
    def message(self) -> str:
        """What the preview says instead of a picture (translated when it is drawn, so a
        language switch re-words it)."""
        return self.tr("摄像头暂时无法使用") if self._unavailable else ""

    def set_frame(self, image: QImage) -> None:
        if self._unavailable:
            # The camera is reported unavailable: a stale or frozen picture would tell the
            # resident that aiming the phone still works.
            return
        self._frame = image
        self.update()

    def set_unavailable(self, unavailable: bool) -> None:
        """Drop the picture and say so over the preview while the camera is not delivering."""
        self._unavailable = unavailable
        if unavailable:
            self._frame = None
        self.update()

    def clear(self) -> None:
        # Only the picture may hold the last resident; whether the camera works is kept.
        self._frame = None
        self.update()

    def image_rect(self) -> QRect:
        """Where the frame is drawn: the whole frame, letterboxed, so nothing is cropped."""
        if self._frame is None or self._frame.isNull():
            return self.rect()
        scaled = self._frame.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        return QRect((self.width() - scaled.width()) // 2, (self.height() - scaled.height()) // 2,
                     scaled.width(), scaled.height())

    def guide_rect(self) -> QRect:
        area = self.image_rect()
        side = int(min(area.width(), area.height()) * 0.7)
        return QRect(area.center().x() - side // 2, area.center().y() - side // 2, side, side)

    def paintEvent(self, _event: object) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1f2937"))
        if self._frame is not None and not self._frame.isNull():
            area = self.image_rect()
            # Mirrored, like a mirror: a resident moving the phone left sees it move left.
            p.save()
            p.translate(area.x() + area.width(), area.y())
            p.scale(-1, 1)
            p.drawImage(QRect(0, 0, area.width(), area.height()), self._frame)
            p.restore()
        guide = self.guide_rect()
        shade = QColor(0, 0, 0, 110)
        p.fillRect(QRect(0, 0, self.width(), guide.top()), shade)
        below = self.height() - guide.bottom()
        p.fillRect(QRect(0, guide.bottom() + 1, self.width(), below), shade)
        p.fillRect(QRect(0, guide.top(), guide.left(), guide.height()), shade)
        p.fillRect(QRect(guide.right() + 1, guide.top(), self.width() - guide.right(),
                         guide.height()), shade)
        pen = QPen(QColor("#ffffff"), 10)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        arm = guide.width() // 6
        for cx, cy, dx, dy in (
            (guide.left(), guide.top(), 1, 1),
            (guide.right(), guide.top(), -1, 1),
            (guide.left(), guide.bottom(), 1, -1),
            (guide.right(), guide.bottom(), -1, -1),
        ):
            p.drawLine(cx, cy, cx + dx * arm, cy)
            p.drawLine(cx, cy, cx, cy + dy * arm)
        message = self.message
        if message:
            band = round(self.text_px * 3.2)
            box = QRectF(0, self.height() - band, self.width(), band)
            p.fillRect(box, QColor(0, 0, 0, 170))
            p.setPen(QColor("#ffffff"))
            font = p.font()
            font.setPixelSize(self.text_px)
            p.setFont(font)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, message)
        p.end()


def _label(text: str = "", name: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    return label


class TicketCard(QFrame):
    """The ticket as shown on screen: everything that is printed, QR code included."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 24, 40, 24)
        layout.setSpacing(8)
        self.center = _label(name="subtitle")
        self.center.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.number = _label(name="bigNumber", wrap=False)
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.priority = _label(name="priority")
        self.priority.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        # Set, not inherited: side by side the body's wider spacing would space the rows.
        grid.setVerticalSpacing(8)
        self.grid = grid
        self._rows: list[tuple[QLabel, QLabel]] = []
        for i in range(5):
            k, v = _label(name="small"), _label()
            v.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(k, i, 0)
            grid.addWidget(v, i, 1)
            self._rows.append((k, v))
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr_caption = _label(name="small")
        self.qr_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for w in (self.center, self.number, self.priority):
            layout.addWidget(w)
        # Rows above the QR code; side by side in elder mode, where the larger type would
        # otherwise push the code off a landscape panel.
        self.body = QVBoxLayout()
        self.body.setSpacing(8)
        self.body.addLayout(grid, 1)
        qr_box = QVBoxLayout()
        qr_box.addWidget(self.qr)
        qr_box.addWidget(self.qr_caption)
        self.body.addLayout(qr_box)
        layout.addLayout(self.body)

    def set_side_by_side(self, side_by_side: bool) -> None:
        self.body.setDirection(QVBoxLayout.Direction.LeftToRight if side_by_side
                               else QVBoxLayout.Direction.TopToBottom)

    def show_ticket(self, t: TicketView, rows: list[tuple[str, str]], qr_caption: str) -> None:
        self.center.setText(t.center_name)
        self.number.setText(t.number)
        self.priority.setText(t.priority_label)
        self.priority.setVisible(bool(t.priority_reason))
        for i, (k, v) in enumerate(self._rows):
            if i < len(rows):
                k.setText(rows[i][0])
                v.setText(rows[i][1])
                k.show()
                v.show()
            else:
                k.clear()
                v.clear()
                k.hide()
                v.hide()
        self.qr.setPixmap(qr_pixmap(t.tracking_code, 230))
        self.qr_caption.setText(qr_caption)

    def clear(self) -> None:
        for w in (self.center, self.number, self.priority, self.qr_caption):
            w.clear()
        for k, v in self._rows:
            k.clear()
            v.clear()
        self.qr.clear()


class IdleOverlay(QFrame):
    """Covers the window during the idle countdown; one tap anywhere continues."""

    continued = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.question = _label()
        self.question.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.count = _label(name="overlayCount", wrap=False)
        self.count.setObjectName("overlayCount")
        self.count.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = _label()
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.button = ActionButton()
        self.button.setObjectName("primary")
        self.button.setMinimumWidth(420)
        self.button.clicked.connect(self.continued)
        for w in (self.question, self.count, self.hint):
            layout.addWidget(w)
        layout.addSpacing(30)
        layout.addWidget(self.button, alignment=Qt.AlignmentFlag.AlignCenter)
        self.hide()

    def show_count(self, seconds: int, question: str, hint: str, button: str) -> None:
        self.question.setText(question)
        self.count.setText(str(seconds))
        self.hint.setText(hint)
        self.button.setText(button)
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
            # Centred at their size hint, wrapped lines would be narrow: give them the room.
            for label in (self.question, self.hint):
                label.setFixedWidth(max(320, min(1200, parent.width() - 160)))
        self.show()
        self.raise_()

    def mousePressEvent(self, event: object) -> None:
        self.continued.emit()


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
        self.buttons: list[QAbstractButton] = []
        self.columns = 1
        self.per_page = 0
        self.page = 0
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
