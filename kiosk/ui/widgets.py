"""Reusable widgets: camera preview with a guide frame, the ticket card, the idle overlay."""

from __future__ import annotations

import qrcode
from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
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


class CameraView(QWidget):
    """Live preview, mirrored like a mirror so residents can aim, with a guide frame."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frame: QImage | None = None
        self._message = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)

    def set_frame(self, image: QImage) -> None:
        self._frame = image
        self.update()

    def set_message(self, text: str) -> None:
        self._message = text
        self.update()

    def clear(self) -> None:
        self._frame = None
        self._message = ""
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
        if self._message:
            box = QRectF(0, self.height() - 110, self.width(), 110)
            p.fillRect(box, QColor(0, 0, 0, 170))
            p.setPen(QColor("#ffffff"))
            font = p.font()
            font.setPixelSize(34)
            p.setFont(font)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, self._message)
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
        layout.addLayout(grid)
        layout.addWidget(self.qr)
        layout.addWidget(self.qr_caption)

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
        self.button = QPushButton()
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
        self.show()
        self.raise_()

    def mousePressEvent(self, event: object) -> None:
        self.continued.emit()
