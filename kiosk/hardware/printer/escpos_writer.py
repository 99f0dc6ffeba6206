"""Turn a `PrintDocument` into ESC/POS bytes for one printer profile.

Why not python-escpos's `text()`: it sends any string holding a CJK ideograph as GB18030
bytes and never switches the printer into Chinese mode (`FS &`) or out of it (`FS .`), so
punctuation-only strings, single-byte symbols and characters the font lacks come out as
garbage (docs/notes/ESCPOS.md). Here every character is encoded strictly for the font
the printer declares, ASCII goes out in single-byte mode, and a line holding a character the
font lacks (a rare name character) is sent as a small raster image of that line.

The layout is computed once (`escpos_layout.layout()`: lines in display cells, QR codes,
feeds, cuts) and then either encoded as text (`encode_document`, here) or painted as one image
(`raster.encode_raster_document`, used to compare sizes and as a last resort). The image
code lives in `raster.py` so that numpy and PIL load only when a line needs them, not on the
way to Home.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator

from kiosk.domain.printdoc import Align, PrintDocument
from kiosk.hardware.printer.escpos_layout import (
    CELL_DOTS,
    CHARSETS,
    CHINESE_OFF,
    CHINESE_ON,
    ESC,
    FEED_LINE_DOTS,
    FS,
    GS,
    INIT,
    LF,
    PANEL_BUTTONS_OFF,
    QR_EC_LEVELS,
    QR_QUIET_MODULES,
    Charset,
    CutOp,
    FeedOp,
    Line,
    Op,
    PrinterProfile,
    QrOp,
    Style,
    cut_bytes,
    display_cells,
    layout,
    le16,
)

log = logging.getLogger(__name__)

# Characters whose usual code point is outside the 2-byte GB area (or maps to a single-byte
# code page symbol that would swallow the next byte in Chinese mode) but which have a
# full-width GB2312 twin.
_GB_ALTERNATIVES = {
    "¥": "￥",
    "¢": "￠",
    "£": "￡",
    "¬": "￢",
    "¦": "￤",
    "·": "・",
    "・": "·",
    "—": "―",
    "―": "—",
    "‐": "－",
    "–": "－",
}

# (lead range, trail range) pairs of GBK code points that printers' fonts do not hold: the
# three user-defined areas, and FE50-FEA0 where GB18030-2005 put characters (such as 䶮 at
# FE9F) that GBK fonts in printers predate.
_GBK_EXCLUDED = (
    (range(0xAA, 0xB0), range(0xA1, 0xFF)),
    (range(0xF8, 0xFF), range(0xA1, 0xFF)),
    (range(0xA1, 0xA8), range(0x40, 0xA1)),
    (range(0xFE, 0xFF), range(0x40, 0xA1)),
)
_GB2312_AREA = (range(0xA1, 0xF8), range(0xA1, 0xFF))


class GbEncoder:
    """Encodes characters strictly to what a printer font of one GB charset holds."""

    def __init__(self, charset: Charset) -> None:
        if charset not in CHARSETS:
            raise ValueError(f"unknown charset {charset!r}")
        self.charset = charset
        self._cache: dict[str, bytes | None] = {}

    def encode_char(self, ch: str) -> bytes | None:
        """The GB bytes for one non-ASCII character, or None if the font lacks it."""
        if ch not in self._cache:
            self._cache[ch] = self._lookup(ch)
        return self._cache[ch]

    def covers(self, text: str) -> bool:
        return all(ord(ch) < 0x80 or self.encode_char(ch) is not None for ch in text)

    def _lookup(self, ch: str) -> bytes | None:
        # Prefer a 2-byte code (every font has them) over a 4-byte one or a missing one.
        for candidate in (ch, _GB_ALTERNATIVES.get(ch)):
            if candidate is None:
                continue
            raw = self._codec_bytes(candidate)
            if raw is not None and len(raw) == 2 and in_printer_font(raw, self.charset):
                return raw
        if self.charset == "GB18030" and not _is_private_use(ch):
            raw = self._codec_bytes(ch)
            if raw is not None and len(raw) == 4:
                return raw
        return None

    def _codec_bytes(self, ch: str) -> bytes | None:
        codec = {"GB2312": "gb2312", "GBK": "gbk", "GB18030": "gb18030"}[self.charset]
        try:
            return ch.encode(codec)
        except UnicodeEncodeError:
            return None

def in_printer_font(raw: bytes, charset: Charset) -> bool:
    """Whether a printer font of `charset` has a glyph at this 2-byte code."""
    lead, trail = raw[0], raw[1]
    if _is_private_use_bytes(lead, trail):
        return False
    if charset == "GB2312":
        return lead in _GB2312_AREA[0] and trail in _GB2312_AREA[1]
    if charset == "GBK":
        return not any(lead in leads and trail in trails for leads, trails in _GBK_EXCLUDED)
    return True  # GB18030 fonts hold FE50-FEA0 (e.g. 䶮 at FE9F)


def _is_private_use(ch: str) -> bool:
    return unicodedata.category(ch) == "Co"


def _is_private_use_bytes(lead: int, trail: int) -> bool:
    # GBK/GB18030 user-defined areas hold private-use characters: no font agrees on them.
    return any(lead in leads and trail in trails for leads, trails in _GBK_EXCLUDED[:3])


def encode_document(doc: PrintDocument, profile: PrinterProfile) -> bytes:
    """ESC/POS bytes for the document: text where the font can, images only where it cannot."""
    emitter = _Emitter(profile)
    for op in layout(doc, profile):
        emitter.op(op)
    if emitter.raster_lines:
        log.info("%d line(s) printed as images (characters missing from the %s font)",
                 emitter.raster_lines, profile.font_charset)
    return emitter.getvalue()


class _Emitter:
    """Writes ops as bytes, sending a mode or style command only when it changes."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile
        self.encoder = GbEncoder(profile.font_charset)
        self.buf = bytearray(INIT)
        if profile.disable_feed_button:
            self.buf += PANEL_BUTTONS_OFF
        # ESC @ resets these; Chinese mode is a memory-switch default on many models, so its
        # state stays unknown (None) until we set it.
        self.align = Align.LEFT
        self.style = Style()
        self.chinese: bool | None = None
        self.raster_lines = 0

    def getvalue(self) -> bytes:
        return bytes(self.buf)

    def op(self, op: Op) -> None:
        if isinstance(op, Line):
            self.line(op)
        elif isinstance(op, QrOp):
            self.qr(op)
        elif isinstance(op, FeedOp):
            self.buf += ESC + b"d" + bytes([op.lines])
        elif isinstance(op, CutOp):
            self.buf += cut_bytes(self.profile)

    def line(self, line: Line) -> None:
        if self.encoder.covers(line.text):
            self.set_align(line.style.align)
            self.set_style(line.style)
            if line.right_from:
                self.text_with_right_part(line)
            else:
                self.text(line.text)
            self.buf += LF
        else:
            self.raster_lines += 1
            self.set_align(Align.LEFT)  # the image carries its own alignment
            from kiosk.hardware.printer.raster import paint_line, raster_bytes, trim_right

            bits = paint_line(line, self.profile.line_dots)
            self.buf += raster_bytes(trim_right(bits))
            gap = FEED_LINE_DOTS - bits.shape[0]
            if gap > 0:  # the space a text line leaves below itself (ESC J: feed n dots)
                self.buf += ESC + b"J" + bytes([gap])

    def set_align(self, align: Align) -> None:
        if align != self.align:
            self.buf += ESC + b"a" + bytes([_ALIGN_CODE[align]])
            self.align = align

    def set_style(self, style: Style) -> None:
        old = self.style
        if style.bold != old.bold:
            self.buf += ESC + b"E" + bytes([style.bold])
        if style.underline != old.underline:
            # ESC - underlines single-byte characters, FS - Chinese ones.
            self.buf += ESC + b"-" + bytes([style.underline])
            self.buf += FS + b"-" + bytes([style.underline])
        if (style.width, style.height) != (old.width, old.height):
            self.buf += GS + b"!" + bytes([(style.width - 1) << 4 | (style.height - 1)])
        self.style = Style(Align.LEFT, style.bold, style.underline, style.width, style.height)

    def text(self, text: str) -> None:
        for chinese, chunk in _runs(text, self.encoder):
            if chinese != self.chinese:
                self.buf += CHINESE_ON if chinese else CHINESE_OFF
                self.chinese = chinese
            self.buf += chunk

    def text_with_right_part(self, line: Line) -> None:
        left, right = line.text[: line.right_from], line.text[line.right_from :]
        self.text(left.rstrip(" "))
        x = (display_cells(left) * line.style.width) * CELL_DOTS
        self.buf += ESC + b"$" + le16(x)  # absolute position, in dots from the left margin
        self.text(right)

    def qr(self, op: QrOp) -> None:
        # Quiet zone above and below as paper feed (ESC J): the printer adds none to native
        # codes, and as rows of white bytes it would cost kilobytes per image code.
        margin = QR_QUIET_MODULES * op.module_size
        quiet = ESC + b"J" + bytes([min(255, margin)])
        if self.profile.native_qr:
            # python-escpos raises on center=True with native codes: centre with ESC a.
            self.set_align(Align.CENTER)
            self.buf += quiet + native_qr_bytes(op) + quiet
        else:
            from kiosk.hardware.printer.raster import (
                center_bits,
                qr_bits,
                raster_bytes,
                trim_right,
            )

            self.set_align(Align.LEFT)  # centred by the image's own left margin
            bits = center_bits(qr_bits(op)[margin:-margin], self.profile.line_dots)
            self.buf += quiet + raster_bytes(trim_right(bits)) + quiet


_ALIGN_CODE = {Align.LEFT: 0, Align.CENTER: 1, Align.RIGHT: 2}


def _runs(text: str, encoder: GbEncoder) -> Iterator[tuple[bool, bytes]]:
    """(chinese mode?, bytes) runs; the caller checked that every character is encodable."""
    chunk = bytearray()
    chinese: bool | None = None
    for ch in text:
        is_cjk = ord(ch) >= 0x80
        if chinese is not None and is_cjk != chinese:
            yield chinese, bytes(chunk)
            chunk.clear()
        chinese = is_cjk
        chunk += (encoder.encode_char(ch) or b"") if is_cjk else ch.encode("ascii")
    if chinese is not None:
        yield chinese, bytes(chunk)


def native_qr_bytes(op: QrOp) -> bytes:
    """GS ( k for model 2, built by python-escpos (imported lazily: it configures logging)."""
    from escpos.printer import Dummy

    printer = Dummy()
    printer.qr(op.data, ec=QR_EC_LEVELS[op.ec_level], size=op.module_size, native=True)
    return bytes(printer.output)


