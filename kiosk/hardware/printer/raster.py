"""Bitmaps for the printer: a line of rare characters, an image QR code, a whole ticket.

Split from `escpos_writer` because numpy and PIL cost a few hundred milliseconds to import
and a normal ticket needs neither: the writer imports this module only when a line holds a
character outside the printer's font, the printer cannot draw QR codes itself, or a
benchmark wants the all-image baseline.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.domain.printdoc import Align, PrintDocument
from kiosk.hardware.printer.escpos_layout import (
    CELL_DOTS,
    FEED_LINE_DOTS,
    GS,
    INIT,
    LINE_GAP_DOTS,
    PANEL_BUTTONS_OFF,
    RASTER_MAX_BYTES,
    RASTER_MAX_ROWS,
    ROW_DOTS,
    CutOp,
    FeedOp,
    Line,
    Op,
    PrinterProfile,
    QrOp,
    cut_bytes,
    display_cells,
    layout,
    le16,
    printed_qr_matrix,
)

log = logging.getLogger(__name__)


def raster_bytes(bits: np.ndarray) -> bytes:
    """GS v 0 commands for a bitmap (True = black), in fragments cheap printers can buffer."""
    height, width = bits.shape
    if height == 0 or width == 0:
        return b""
    packed = np.packbits(bits, axis=1)
    width_bytes = packed.shape[1]
    rows_per_chunk = max(1, min(RASTER_MAX_ROWS, RASTER_MAX_BYTES // width_bytes))
    out = bytearray()
    for top in range(0, height, rows_per_chunk):
        chunk = packed[top : top + rows_per_chunk]
        rows = chunk.shape[0]
        out += GS + b"v0\x00" + le16(width_bytes) + le16(rows) + chunk.tobytes()
    return bytes(out)


def trim_right(bits: np.ndarray) -> np.ndarray:
    """Drop white columns on the right (whole bytes): fewer bytes, same print."""
    columns = np.flatnonzero(bits.any(axis=0))
    if columns.size == 0:
        return bits[:, :8]
    width = -(-(int(columns[-1]) + 1) // 8) * 8
    return bits[:, :width]


def center_bits(bits: np.ndarray, width: int) -> np.ndarray:
    """Centre a bitmap on a white band `width` dots wide (alignment without ESC a)."""
    height, own = bits.shape
    out = np.zeros((height, max(width, own)), dtype=bool)
    left = max(0, (width - own) // 2)
    out[:, left : left + own] = bits
    return out


def qr_bits(op: QrOp) -> np.ndarray:
    """The QR code (with its quiet zone) as a bitmap, one module = `module_size` dots."""
    matrix = np.array(printed_qr_matrix(op.data, op.ec_level), dtype=bool)
    return np.kron(matrix, np.ones((op.module_size, op.module_size), dtype=bool))


def paint_line(line: Line, width: int) -> np.ndarray:
    """A text line drawn with the CJK font: 24 dots per row x magnification, aligned."""
    style = line.style
    base = _paint_cells(line.text, style.bold, style.underline)
    bits = np.repeat(np.repeat(base, style.height, axis=0), style.width, axis=1)
    bits = bits[:, :width]
    out = np.zeros((bits.shape[0], width), dtype=bool)
    left = _aligned_left(style.align, width - bits.shape[1])
    out[:, left : left + bits.shape[1]] = bits
    return out


def _aligned_left(align: Align, free: int) -> int:
    if align is Align.CENTER:
        return free // 2
    return free if align is Align.RIGHT else 0


def _paint_cells(text: str, bold: bool, underline: bool) -> np.ndarray:
    """Draw at magnification 1 on the font-A grid, so images line up with printed text."""
    img = Image.new("L", (max(1, display_cells(text) * CELL_DOTS), ROW_DOTS), 255)
    draw = ImageDraw.Draw(img)
    font, y = _glyph_font(bold)
    x = 0
    for ch in text:
        cell = display_cells(ch) * CELL_DOTS
        if ch != " ":
            draw.text((x + cell / 2, y), ch, font=font, fill=0, anchor="ms")
            if underline:
                draw.line([(x, ROW_DOTS - 1), (x + cell - 1, ROW_DOTS - 1)], fill=0)
        x += cell
    return np.asarray(img) < 140


# --------------------------------------------------------------------------- fonts

_FONT_CANDIDATES = {
    False: (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ),
    True: (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
    ),
}
# A monospaced face puts Latin letters exactly in half a Chinese cell, like the printer's font.
_FACE_PREFERENCE = ("Noto Sans Mono CJK SC", "Noto Sans CJK SC")
_GLYPH_SIZE = 22  # a 22-dot em keeps Chinese ink inside the 24-dot row


@functools.lru_cache(maxsize=2)
def _glyph_font(bold: bool) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, float]:
    """The font and the baseline that centres a Chinese character's ink in a 24-dot row."""
    font = _load_cjk_font(bold) or (_load_cjk_font(False) if bold else None)
    if font is None:
        log.warning("no CJK font found: rare characters will print as boxes")
        fallback = ImageFont.load_default(size=_GLYPH_SIZE)
        return fallback, ROW_DOTS - 4
    _, top, _, bottom = font.getbbox("国", anchor="ls")
    return font, (ROW_DOTS - (bottom - top)) / 2 - top


def _load_cjk_font(bold: bool) -> ImageFont.FreeTypeFont | None:
    for path in (*_FONT_CANDIDATES[bold], *_fc_match(bold)):
        font = _best_face(path)
        if font is not None:
            return font
    return None


def _best_face(path: str) -> ImageFont.FreeTypeFont | None:
    faces: dict[str, ImageFont.FreeTypeFont] = {}
    for index in range(16):
        try:
            face = ImageFont.truetype(path, _GLYPH_SIZE, index=index)
        except OSError:
            break
        faces.setdefault(face.getname()[0] or "", face)
    for name in _FACE_PREFERENCE:
        if name in faces:
            return faces[name]
    return next(iter(faces.values()), None)


def _fc_match(bold: bool) -> Sequence[str]:
    if shutil.which("fc-match") is None:
        return ()
    pattern = "Noto Sans CJK SC:bold" if bold else "Noto Sans CJK SC"
    try:
        done = subprocess.run(["fc-match", "-f", "%{file}", pattern],
                              capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return (done.stdout.strip(),) if done.stdout.strip() else ()


# --------------------------------------------------------------------------- whole raster


def encode_raster_document(doc: PrintDocument, profile: PrinterProfile) -> bytes:
    """The whole document as images (GS v 0): the size baseline, tens of kilobytes."""
    out = bytearray(INIT)
    if profile.disable_feed_button:
        out += PANEL_BUTTONS_OFF
    band: list[np.ndarray] = []
    for op in layout(doc, profile):
        if isinstance(op, CutOp):
            out += _flush_band(band) + cut_bytes(profile)
            band = []
        else:
            band.append(_paint_op(op, profile))
    out += _flush_band(band)
    return bytes(out)


def _paint_op(op: Op, profile: PrinterProfile) -> np.ndarray:
    width = profile.line_dots
    if isinstance(op, Line):
        gap = np.zeros((LINE_GAP_DOTS, width), dtype=bool)
        return np.vstack([paint_line(op, width), gap])
    if isinstance(op, QrOp):
        return center_bits(qr_bits(op), width)[:, :width]
    if isinstance(op, FeedOp):
        return np.zeros((op.lines * FEED_LINE_DOTS, width), dtype=bool)
    raise TypeError(f"cannot paint {type(op).__name__}")


def _flush_band(band: list[np.ndarray]) -> bytes:
    return raster_bytes(np.vstack(band)) if band else b""


