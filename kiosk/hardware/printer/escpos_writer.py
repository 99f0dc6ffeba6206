"""Turn a `PrintDocument` into ESC/POS bytes for one printer profile.

Why not python-escpos's `text()`: it sends any string holding a CJK ideograph as GB18030
bytes and never switches the printer into Chinese mode (`FS &`) or out of it (`FS .`), so
punctuation-only strings, single-byte symbols and characters the font lacks come out as
garbage (field notes, ESCPOS.md). Here every character is encoded strictly for the font
the printer declares, ASCII goes out in single-byte mode, and a line holding a character the
font lacks (a rare name character) is sent as a small raster image of that line.

The layout is computed once (`layout()`: lines in display cells, QR codes, feeds, cuts) and
then either encoded as text (`encode_document`) or painted as one image
(`raster.encode_raster_document`, used to compare sizes and as a last resort). The image
code lives in `raster.py` so that numpy and PIL load only when a line needs them, not on the
way to Home.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from kiosk.domain.printdoc import Align, Cut, Feed, KeyValue, PrintDocument, Qr, Rule, Text

log = logging.getLogger(__name__)

Charset = Literal["GB2312", "GBK", "GB18030"]
CHARSETS: tuple[Charset, ...] = ("GB2312", "GBK", "GB18030")

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
LF = b"\n"
INIT = ESC + b"@"
PANEL_BUTTONS_OFF = ESC + b"c5\x01"  # ESC c 5 n: bit 0 set = buttons disabled
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
PARTIAL_CUT_WITH_FEED = GS + b"VB\x00"  # GS V 66 0: feed to the cutter, then cut

CELL_DOTS = 12  # font A: 12 x 24 dots per ASCII character, 24 x 24 per Chinese character
ROW_DOTS = 24
LINE_GAP_DOTS = 6  # raster rendering only: the gap a text line leaves below itself
FEED_LINE_DOTS = ROW_DOTS + LINE_GAP_DOTS
CUT_FEED_LINES = 1
TEAR_FEED_LINES = 5  # no cutter: bring the last line past the tear bar
QR_QUIET_MODULES = 4
RASTER_MAX_ROWS = 256  # per GS v 0: long rasters overflow cheap printers' buffers
RASTER_MAX_BYTES = 65_535

_QR_EC_NATIVE = {"L": 0, "M": 1, "Q": 2, "H": 3}

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
# Lines must not start with these; the character before them moves down with them.
_NO_LINE_START = set("，。、；：！？）」』》〉】〕”’…%,.;:!?)]}")

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


class PrinterConfigLike(Protocol):
    font_charset: str
    native_qr: bool
    cutter: bool
    disable_feed_button: bool

    def columns(self) -> int: ...

    def paper_dots(self) -> int: ...


@dataclass(frozen=True)
class PrinterProfile:
    """What the encoder needs to know about one printer model."""

    columns: int = 48  # font A characters per line (a Chinese character takes two)
    paper_dots: int = 576
    font_charset: Charset = "GB2312"
    native_qr: bool = True
    cutter: bool = True
    disable_feed_button: bool = True

    def __post_init__(self) -> None:
        if self.font_charset not in CHARSETS:
            raise ValueError(f"font_charset must be one of {CHARSETS}, not {self.font_charset!r}")
        if not 8 <= self.columns <= 64:
            raise ValueError(f"columns must be 8..64, not {self.columns}")
        if self.paper_dots < 64:
            raise ValueError(f"paper_dots too small: {self.paper_dots}")

    @classmethod
    def from_config(cls, cfg: PrinterConfigLike) -> PrinterProfile:
        return cls(
            columns=cfg.columns(),
            paper_dots=cfg.paper_dots(),
            font_charset=cfg.font_charset,  # type: ignore[arg-type]  # validated in __post_init__
            native_qr=cfg.native_qr,
            cutter=cfg.cutter,
            disable_feed_button=cfg.disable_feed_button,
        )

    @property
    def line_dots(self) -> int:
        """Printable width used for images: the text line's width, whole bytes."""
        return min(self.columns * CELL_DOTS, self.paper_dots) // 8 * 8


# --------------------------------------------------------------------------- characters


def clean_text(text: str) -> str:
    """Printable text only: control bytes in a name must not become printer commands."""
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    for ch in text:
        if ch == "\n":
            out.append(ch)
        elif ch in "\t\u00a0":
            out.append(" ")
        elif _is_invisible(ch):
            continue
        else:
            out.append(ch)
    return "".join(out)


def _is_invisible(ch: str) -> bool:
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Zl", "Zp"):
        return True
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF  # variation selectors


def display_cells(text: str) -> int:
    """Width in font-A cells: ASCII takes one, anything sent as GB bytes (or drawn) two."""
    return sum(1 if ord(ch) < 0x80 else 2 for ch in text)


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


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class Style:
    align: Align = Align.LEFT
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1


@dataclass(frozen=True)
class Line:
    """One printed line; its cells (times `style.width`) never exceed the profile's columns."""

    text: str
    style: Style = Style()
    # KeyValue lines: where the right-aligned value starts in `text`. The text encoder jumps
    # there with ESC $ instead of sending the padding spaces (up to ~40 bytes a line, and two
    # Chinese-mode switches); images draw `text` as it is.
    right_from: int = 0


@dataclass(frozen=True)
class QrOp:
    data: str
    module_size: int
    ec_level: str


@dataclass(frozen=True)
class FeedOp:
    lines: int


@dataclass(frozen=True)
class CutOp:
    pass


Op = Line | QrOp | FeedOp | CutOp


def layout(doc: PrintDocument, profile: PrinterProfile) -> list[Op]:
    """The document as printed lines and graphics, wrapped to the profile's width."""
    ops: list[Op] = []
    for block in doc.blocks:
        ops.extend(_layout_block(block, profile))
    return ops


def _layout_block(block: object, profile: PrinterProfile) -> list[Op]:
    if isinstance(block, Text):
        return _layout_text(block, profile.columns)
    if isinstance(block, KeyValue):
        return _layout_key_value(block, profile.columns)
    if isinstance(block, Rule):
        return [_layout_rule(block, profile.columns)]
    if isinstance(block, Qr):
        return [_layout_qr(block, profile)]
    if isinstance(block, Feed):
        return [FeedOp(max(0, min(255, block.lines)))]
    if isinstance(block, Cut):
        return [CutOp()]
    raise TypeError(f"unknown print block {type(block).__name__}")


def _layout_text(block: Text, columns: int) -> list[Op]:
    width, height = _clamp_size(block.width), _clamp_size(block.height)
    style = Style(block.align, block.bold, block.underline, width, height)
    limit = max(2, columns // width)
    text = clean_text(block.text)
    lines = wrap(text, limit)
    if block.align is Align.CENTER and len(lines) > 1:
        lines = _balanced(text, limit, len(lines))
    return [Line(t, style) for t in lines]


def _balanced(text: str, limit: int, count: int) -> list[str]:
    """The narrowest wrap with the same line count: no lone character under a centred title."""
    best = wrap(text, limit)
    for narrower in range(limit - 1, 1, -1):
        lines = wrap(text, narrower)
        if len(lines) > count:
            break
        best = lines
    return best


def _layout_key_value(block: KeyValue, columns: int) -> list[Op]:
    label = clean_text(block.label).replace("\n", " ").strip()
    value = clean_text(block.value).replace("\n", " ").strip()
    gap = columns - display_cells(label) - display_cells(value)
    if gap >= 1:
        padded = label + " " * gap
        return [Line(padded + value, Style(bold=block.bold), right_from=len(padded))]
    left = Style(Align.LEFT, block.bold)
    right = Style(Align.RIGHT, block.bold)
    return [Line(t, left) for t in wrap(label, columns)] + [
        Line(t, right) for t in wrap(value, columns)
    ]


def _layout_rule(block: Rule, columns: int) -> Line:
    char = clean_text(block.char)[:1] or "-"
    return Line(char * (columns // display_cells(char)))


def _layout_qr(block: Qr, profile: PrinterProfile) -> QrOp:
    if not block.data.isascii():
        raise ValueError("QR data must be ASCII")
    ec = block.ec_level.upper()
    if ec not in _QR_EC_NATIVE:
        raise ValueError(f"QR error correction must be L, M, Q or H, not {block.ec_level!r}")
    modules = len(_qr_matrix(block.data, ec, border=QR_QUIET_MODULES))
    # A code wider than the paper would be cut off and unreadable: shrink the modules.
    size = max(1, min(block.module_size, 16, profile.line_dots // modules))
    return QrOp(block.data, size, ec)


def _clamp_size(n: int) -> int:
    return max(1, min(8, n))


def wrap(text: str, limit: int) -> list[str]:
    """Lines of at most `limit` cells; hard line breaks kept, ASCII words kept whole."""
    lines: list[str] = []
    for para in text.split("\n"):
        lines.extend(_wrap_paragraph(para, limit))
    return lines


def _wrap_paragraph(text: str, limit: int) -> list[str]:
    out: list[str] = []
    while display_cells(text) > limit:
        cut = _break_point(text, _fit(text, limit))
        out.append(text[:cut].rstrip(" "))
        text = text[cut:].lstrip(" ")
    out.append(text)
    return out


def _fit(text: str, limit: int) -> int:
    """How many leading characters fit in `limit` cells (at least one)."""
    used = 0
    for i, ch in enumerate(text):
        used += display_cells(ch)
        if used > limit:
            return max(1, i)
    return len(text)


def _break_point(text: str, cut: int) -> int:
    if _inside_ascii_word(text, cut):
        space = text.rfind(" ", 0, cut)
        if space > 0:
            return space + 1
    if cut > 1 and text[cut] in _NO_LINE_START:
        return cut - 1
    return cut


def _inside_ascii_word(text: str, cut: int) -> bool:
    before, after = text[cut - 1], text[cut]
    return before.isascii() and after.isascii() and before != " " and after != " "


# --------------------------------------------------------------------------- text encoding


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
            self.buf += _cut_bytes(self.profile)

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
        self.buf += ESC + b"$" + _le16(x)  # absolute position, in dots from the left margin
        self.text(right)

    def qr(self, op: QrOp) -> None:
        # Quiet zone above and below as paper feed (ESC J): the printer adds none to native
        # codes, and as rows of white bytes it would cost ~1.5 KB per image code.
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
    printer.qr(op.data, ec=_QR_EC_NATIVE[op.ec_level], size=op.module_size, native=True)
    return bytes(printer.output)


# --------------------------------------------------------------------------- helpers


def _le16(n: int) -> bytes:
    return bytes([n & 0xFF, n >> 8 & 0xFF])


@functools.lru_cache(maxsize=32)
def _qr_matrix(data: str, ec: str, border: int) -> tuple[tuple[bool, ...], ...]:
    import qrcode  # ~0.1 s of imports (PIL with it) that Home does not need
    import qrcode.constants

    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
              "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels[ec], border=border)
    code.add_data(data.encode("ascii"))
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())



def _cut_bytes(profile: PrinterProfile) -> bytes:
    if profile.cutter:
        return ESC + b"d" + bytes([CUT_FEED_LINES]) + PARTIAL_CUT_WITH_FEED
    return ESC + b"d" + bytes([TEAR_FEED_LINES])
