"""The printed layout of a `PrintDocument`, shared by the text encoder and the image painter.

`layout()` turns a document into lines measured in font-A cells, QR codes, feeds and cuts for
one printer profile; `escpos_writer` encodes those as text commands and `raster` paints them
as an image. Both read the ESC/POS command bytes and dot dimensions declared here, so that
neither imports the other. Imports only the domain (the print model, QR modules), the
shared line-break rules of kiosk.common and the standard library.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from typing import Literal, Protocol

from kiosk.common.linebreak import NO_LINE_START
from kiosk.domain.printdoc import Align, Cut, Feed, KeyValue, PrintDocument, Qr, Rule, Text
from kiosk.domain.qr import QrMatrix, qr_matrix

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
QR_EC_LEVELS = {"L": 0, "M": 1, "Q": 2, "H": 3}  # GS ( k error-correction codes


class PrinterConfigLike(Protocol):
    """What a profile reads of the `printer` config section (read-only: the section is
    frozen)."""

    @property
    def font_charset(self) -> Charset: ...
    @property
    def native_qr(self) -> bool: ...
    @property
    def cutter(self) -> bool: ...
    @property
    def disable_feed_button(self) -> bool: ...

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
            font_charset=cfg.font_charset,
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
    ops: list[Op] = [Line(t, left) for t in wrap(label, columns)]
    ops.extend(Line(t, right) for t in wrap(value, columns))
    return ops


def _layout_rule(block: Rule, columns: int) -> Line:
    char = clean_text(block.char)[:1] or "-"
    return Line(char * (columns // display_cells(char)))


def _layout_qr(block: Qr, profile: PrinterProfile) -> QrOp:
    if not block.data.isascii():
        raise ValueError("QR data must be ASCII")
    ec = block.ec_level.upper()
    if ec not in QR_EC_LEVELS:
        raise ValueError(f"QR error correction must be L, M, Q or H, not {block.ec_level!r}")
    modules = len(printed_qr_matrix(block.data, ec))
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
    if cut > 1 and text[cut] in NO_LINE_START:
        return cut - 1
    return cut


def _inside_ascii_word(text: str, cut: int) -> bool:
    before, after = text[cut - 1], text[cut]
    return before.isascii() and after.isascii() and before != " " and after != " "


# --------------------------------------------------------------------------- text encoding


# --------------------------------------------------------------------------- helpers


def le16(n: int) -> bytes:
    return bytes([n & 0xFF, n >> 8 & 0xFF])


@functools.lru_cache(maxsize=32)
def printed_qr_matrix(data: str, ec: str) -> QrMatrix:
    """The modules of a printed code (the standard quiet zone, the encoder's best mask),
    kept for the raster pass that draws the code the layout has just sized."""
    return qr_matrix(data, ec_level=ec, border=QR_QUIET_MODULES)



def cut_bytes(profile: PrinterProfile) -> bytes:
    if profile.cutter:
        return ESC + b"d" + bytes([CUT_FEED_LINES]) + PARTIAL_CUT_WITH_FEED
    return ESC + b"d" + bytes([TEAR_FEED_LINES])
