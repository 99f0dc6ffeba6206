"""CameraView: the live preview a resident aims their phone at, mirrored, with a guide frame,
and what it says instead of a picture when the camera is not delivering."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


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
