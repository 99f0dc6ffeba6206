"""QR codes on screen: the crisp pixmap the ticket and the receipt show, and the session's
cache of their modules.

The modules come from kiosk.domain.qr; this module only fixes the screen's settings and keeps
the few codes of the current session so the controllers can compute them on a worker thread
and the GUI thread then finds them ready.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from kiosk.domain.qr import QrMatrix, qr_matrix

_QR_CACHE: dict[str, QrMatrix] = {}


def screen_qr_matrix(text: str) -> QrMatrix:
    """The modules of `text`'s code as the screen draws it, cached for this session.

    A narrow quiet zone (the card around it is white) and a fixed mask: searching for the
    best of eight masks is most of the encoding time, and any mask reads fine from a lit
    screen.
    """
    cached = _QR_CACHE.get(text)
    if cached is not None:
        return cached
    matrix = qr_matrix(text, ec_level="M", border=2, mask_pattern=2)
    if len(_QR_CACHE) > 16:  # a few recent codes only: they belong to residents' sessions
        _QR_CACHE.clear()
    _QR_CACHE[text] = matrix
    return matrix


def forget_qr_codes() -> None:
    """Session end: no resident's code stays in memory."""
    _QR_CACHE.clear()


def qr_pixmap(text: str, size_px: int) -> QPixmap:
    """A crisp QR code: one rectangle per module, so it scales without blur."""
    matrix = screen_qr_matrix(text)
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
