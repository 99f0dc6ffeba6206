"""Pure ESC/POS stream decoder: bytes in, a flat list of printable elements out.

Why a hand-written parser: the public ESC/POS "emulators" and decoders we looked at
(python-escpos only *encodes*; the receipt-print-hq / escpos-php / thermal-printer
emulators decode a subset) either treat every byte >= 0x80 as a single code-page
character or decode Chinese only as GB2312 after an explicit ``FS &``.  Real Chinese
printers power up in Chinese mode, python-escpos 3.1's ``text()`` sends GB18030 bytes
*without* ``FS &``, and GB18030 has 4-byte sequences (second byte 0x30-0x39) that no
GB2312 decoder handles.  We also need exact argument lengths for dozens of harmless
commands so that an unknown or truncated command never derails the rest of a ticket.

The parser is deliberately forgiving: it never raises on bad input.  Anything it does not
understand becomes a :class:`Diagnostic` element (with the byte offset) and parsing
continues.  The one exception is a stream that asks for more work than any receipt needs
(see "Limits" below): a few bytes of ESC/POS can ask for gigabytes of pixels or millions of
lines, and a developer tool must not become a way to exhaust the machine it runs on.  Such
a stream raises :class:`StreamTooLarge` and nothing of it is rendered.

Geometry is in printer dots (203 dpi; 576 dots printable on 80 mm paper, 384 on 58 mm);
Font A is 12x24 dots for single-byte characters and 24x24 for GB18030 characters.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Align = Literal["left", "center", "right"]

NUL, LF, HT, FF, CR, CAN = 0x00, 0x0A, 0x09, 0x0C, 0x0D, 0x18
DLE, EOT, ENQ, DC4, ESC, FS, GS = 0x10, 0x04, 0x05, 0x14, 0x1B, 0x1C, 0x1D

DEFAULT_LINE_SPACING = 30  # ESC 2: 1/6 inch, about 30 dots on a 203 dpi head
DEFAULT_TAB_COLUMNS = 8  # default horizontal tab stops: every 8 Font-A characters
FONT_A_WIDTH = 12

# Control bytes we drop silently (harmless on a roll printer).
_SILENT_CONTROLS = frozenset({NUL, 0x07, CAN, 0x11, 0x12, 0x13, DC4, 0x7F})

# --------------------------------------------------------------------------- limits
# Per stream, each far above a real receipt (a kiosk ticket is a few hundred bytes, about
# forty lines, one QR code and perhaps one small image of a rare-character line) and far
# below what would take seconds or hundreds of megabytes. docs/RELIABILITY.md has the
# measured cost of the worst streams.
MAX_STREAM_BYTES = 16 * 1024 * 1024
"""Bytes `kiosk receipt-render` reads from a file at most (it never reads the rest)."""
MAX_COMMANDS = 100_000
"""Commands, characters and control bytes decoded: bounds the parser's loop itself."""
MAX_LINES = 20_000
"""Printed lines, blank ones included (ESC d 255 asks for 255 lines in three bytes)."""
MAX_CHARACTERS = 50_000
"""Characters of text, plus the data of QR codes and barcodes, which the text shows."""
MAX_IMAGE_PIXELS = 40_000_000
"""Image pixels decoded or copied: each decoded image, and each printed copy at its scale
(GS / prints a stored 2040x2040 image at double size, 16 million pixels, in three bytes).
A full 576-dot-wide image 30,000 dots high (the longest drawing) counts 35 million."""
MAX_GRAPHICS = 300
"""QR codes, barcodes, images and markers printed."""
MAX_IMAGES_DECODED = 5_000
"""Image data decoded: each ESC * strip (24 dots high), raster image or stored graphic."""


class StreamTooLarge(ValueError):
    """The stream asks for more work than a receipt ever needs; nothing of it is rendered."""

    def __init__(self, what: str, limit: int, offset: int | None = None) -> None:
        where = f" (by byte {offset:,})" if offset is not None else ""
        super().__init__(
            f"stream refused: it asks for more than {limit:,} {what}{where}; "
            "a receipt needs far fewer, so nothing was rendered"
        )
        self.what = what
        self.limit = limit
        self.offset = offset


# --------------------------------------------------------------------------- blocks
@dataclass(frozen=True)
class QrBlock:
    """A native QR code (GS ( k cn=49) as the printer would print it."""

    data: bytes
    module_size: int  # dots per module, 1..16
    ec_level: str  # 'L', 'M', 'Q' or 'H'


@dataclass(frozen=True)
class ImageBlock:
    """A printed bit image, already scaled as printed.

    ``pixels`` is ``width * height`` bytes, row-major, one byte per pixel: 1 = black.
    """

    width: int
    height: int
    pixels: bytes

    def to_array(self) -> np.ndarray:
        """The pixels as a ``(height, width)`` uint8 array (1 = black)."""
        arr = np.frombuffer(self.pixels, dtype=np.uint8)
        return (
            arr.reshape(self.height, self.width)
            if self.width and self.height
            else (np.zeros((self.height, self.width), dtype=np.uint8))
        )


@dataclass(frozen=True)
class BarcodeBlock:
    """A 1-D barcode (GS k) or a non-QR 2-D symbol (GS ( k cn != 49)."""

    kind: str  # 'CODE128', 'EAN13', ... or 'PDF417', 'DATAMATRIX', ...
    data: bytes
    height: int = 162  # GS h, dots
    module_width: int = 3  # GS w, dots
    hri: int = 0  # GS H: 0 none, 1 above, 2 below, 3 both
    hri_font: int = 0  # GS f

    @property
    def display(self) -> str:
        """The human-readable interpretation (code-set selectors of CODE128 removed)."""
        return barcode_display_text(self.kind, self.data)


@dataclass(frozen=True)
class Marker:
    """Something printed that we cannot draw (e.g. an NV logo stored in the printer)."""

    label: str


GraphicItem = QrBlock | ImageBlock | BarcodeBlock | Marker


# --------------------------------------------------------------------------- elements
@dataclass(frozen=True)
class Style:
    """Effective character style of a run of text."""

    bold: bool = False
    underline: int = 0  # 0, 1 or 2 dots
    width: int = 1  # horizontal multiplier 1..8
    height: int = 1  # vertical multiplier 1..8
    font: int = 0  # 0 = Font A (12x24), 1 = Font B (9x17), 2 = Font C (treated as B)
    invert: bool = False  # GS B: white on black
    upside_down: bool = False  # ESC {: recorded, not drawn


@dataclass(frozen=True)
class Text:
    """A run of characters with one style.  ``wide`` runs are GB18030 double-byte glyphs."""

    text: str
    style: Style
    wide: bool
    align: Align
    offset: int


@dataclass(frozen=True)
class Tab:
    """HT: move to the next tab stop (stops in Font-A character columns)."""

    stops: tuple[int, ...]
    align: Align
    offset: int


@dataclass(frozen=True)
class SetX:
    """ESC $ (absolute) / ESC \\ (relative) horizontal print position, in dots."""

    dots: int
    relative: bool
    align: Align
    offset: int


@dataclass(frozen=True)
class Feed:
    """Print the line buffer, then feed.  ``dots`` for drawing, ``lines`` for text."""

    dots: int
    lines: float
    offset: int


@dataclass(frozen=True)
class ClearLine:
    """ESC @ / CAN discard the unprinted line buffer."""

    offset: int


@dataclass(frozen=True)
class Margins:
    """GS L left margin / GS W print area width, in dots.

    ``None`` leaves a value unchanged; a width of 0 means "to the right edge".
    """

    left: int | None
    width: int | None
    offset: int


@dataclass(frozen=True)
class Graphic:
    """A block printed on its own: QR code, image, barcode, marker."""

    item: GraphicItem
    align: Align
    offset: int


@dataclass(frozen=True)
class Cut:
    partial: bool
    offset: int


@dataclass(frozen=True)
class Diagnostic:
    """A warning: unknown, truncated or unsupported command at ``offset``."""

    message: str
    offset: int


Element = Text | Tab | SetX | Feed | ClearLine | Margins | Graphic | Cut | Diagnostic


# --------------------------------------------------------------------------- code pages
# ESC t n -> (name, Python codec).  Numbering is Epson's, as in python-escpos's
# capabilities.json "default" profile.  None = no Python codec: decoded as CP437.
CODE_PAGES: dict[int, tuple[str, str | None]] = {
    0: ("CP437", "cp437"),
    1: ("Katakana", "katakana"),
    2: ("CP850", "cp850"),
    3: ("CP860", "cp860"),
    4: ("CP863", "cp863"),
    5: ("CP865", "cp865"),
    11: ("CP851", None),
    12: ("CP853", None),
    13: ("CP857", "cp857"),
    14: ("CP737", "cp737"),
    15: ("ISO_8859-7", "iso8859_7"),
    16: ("CP1252", "cp1252"),
    17: ("CP866", "cp866"),
    18: ("CP852", "cp852"),
    19: ("CP858", "cp858"),
    21: ("CP874", "cp874"),
    32: ("CP720", "cp720"),
    33: ("CP775", "cp775"),
    34: ("CP855", "cp855"),
    35: ("CP861", "cp861"),
    36: ("CP862", "cp862"),
    37: ("CP864", "cp864"),
    38: ("CP869", "cp869"),
    39: ("ISO_8859-2", "iso8859_2"),
    40: ("ISO_8859-15", "iso8859_15"),
    44: ("CP1125", "cp1125"),
    45: ("CP1250", "cp1250"),
    46: ("CP1251", "cp1251"),
    47: ("CP1253", "cp1253"),
    48: ("CP1254", "cp1254"),
    49: ("CP1255", "cp1255"),
    50: ("CP1256", "cp1256"),
    51: ("CP1257", "cp1257"),
    52: ("CP1258", "cp1258"),
    53: ("RK1048", "kz1048"),
}

_TABLE_CACHE: dict[str, tuple[str, ...]] = {}


def _code_page_table(codec: str | None) -> tuple[str, ...]:
    """256 entries: the character printed for each byte ('' for non-printing controls)."""
    key = codec or "cp437"
    table = _TABLE_CACHE.get(key)
    if table is not None:
        return table
    chars: list[str] = []
    for b in range(256):
        if b < 0x20 or b == 0x7F:
            chars.append("")
        elif b < 0x80:
            chars.append(chr(b))
        elif key == "katakana":
            chars.append(chr(0xFF61 + b - 0xA1) if 0xA1 <= b <= 0xDF else "?")
        else:
            try:
                ch = bytes([b]).decode(key)
            except (UnicodeDecodeError, LookupError):
                ch = "?"
            chars.append(ch if ch.isprintable() else "?")
    table = tuple(chars)
    _TABLE_CACHE[key] = table
    return table


_GB18030 = codecs.getdecoder("gb18030")

BARCODE_TYPES: dict[int, str] = {
    0: "UPC-A",
    1: "UPC-E",
    2: "EAN13",
    3: "EAN8",
    4: "CODE39",
    5: "ITF",
    6: "CODABAR",
    65: "UPC-A",
    66: "UPC-E",
    67: "EAN13",
    68: "EAN8",
    69: "CODE39",
    70: "ITF",
    71: "CODABAR",
    72: "CODE93",
    73: "CODE128",
    74: "GS1-128",
    75: "GS1 DATABAR OMNIDIRECTIONAL",
    76: "GS1 DATABAR TRUNCATED",
    77: "GS1 DATABAR LIMITED",
    78: "GS1 DATABAR EXPANDED",
    79: "CODE128 AUTO",
}

SYMBOLS_2D: dict[int, str] = {
    48: "PDF417",
    49: "QR",
    50: "MAXICODE",
    51: "GS1 DATABAR",
    52: "COMPOSITE",
    53: "AZTEC",
    54: "DATAMATRIX",
}

_EC_LEVELS = {
    48: "L",
    49: "M",
    50: "Q",
    51: "H",
    0: "L",
    1: "M",
    2: "Q",
    3: "H",
    ord("L"): "L",
    ord("M"): "M",
    ord("Q"): "Q",
    ord("H"): "H",
}


def barcode_display_text(kind: str, data: bytes) -> str:
    """HRI text of a barcode: CODE128 ``{A``/``{B``/``{C`` selectors and FNCs removed."""
    if not kind.startswith(("CODE128", "GS1-128")):
        return data.decode("latin-1")
    out: list[str] = []
    code_set = "B"
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x7B and i + 1 < len(data):  # '{'
            sel = chr(data[i + 1])
            i += 2
            if sel in "ABC":
                code_set = sel
            elif sel == "{":
                out.append("{")
            continue
        if code_set == "C":
            out.append(f"{b:02d}" if b < 100 else "?")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        i += 1
    return "".join(out)


_ALIGNS: dict[int, Align] = {
    0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right",
}


def _align_from(n: int) -> Align | None:
    return _ALIGNS.get(n)


def _column_bits(data: bytes, columns: int, bytes_per_column: int, height: int) -> np.ndarray:
    """Decode column-format bit image data (MSB = top dot) into a (height, columns) array.

    Only columns that have data are decoded, whatever size the command declared.
    """
    if bytes_per_column <= 0 or columns <= 0:
        return np.zeros((max(0, height), 0), dtype=np.uint8)
    columns = min(columns, -(-len(data) // bytes_per_column))
    need = columns * bytes_per_column
    buf = np.frombuffer(data[:need].ljust(need, b"\x00"), dtype=np.uint8)
    cols = np.unpackbits(buf.reshape(columns, bytes_per_column), axis=1)  # (columns, bits)
    return np.ascontiguousarray(cols[:, :height].T)


def _raster_bits(
    data: bytes, width_bytes: int, height: int, width: int | None = None
) -> np.ndarray:
    """Decode raster bit image data (MSB = left dot) into a (height, width) array.

    Only rows that have data are decoded, whatever size the command declared.
    """
    if width_bytes <= 0 or height <= 0:
        return np.zeros((0, max(0, width or 0)), dtype=np.uint8)
    height = min(height, -(-len(data) // width_bytes))
    need = width_bytes * height
    buf = np.frombuffer(data[:need].ljust(need, b"\x00"), dtype=np.uint8)
    arr = np.unpackbits(buf.reshape(height, width_bytes), axis=1)
    if width is not None:
        arr = arr[:, :width]
    return np.ascontiguousarray(arr)


def _column_bits_size(length: int, columns: int, bytes_per_column: int, height: int) -> int:
    """How many pixels _column_bits allocates for ``length`` bytes of data."""
    if bytes_per_column <= 0 or columns <= 0:
        return 0
    decoded = min(columns, -(-length // bytes_per_column))
    return decoded * bytes_per_column * 8 + decoded * min(max(0, height), bytes_per_column * 8)


def _raster_bits_size(length: int, width_bytes: int, height: int) -> int:
    """How many pixels _raster_bits allocates for ``length`` bytes of data."""
    if width_bytes <= 0 or height <= 0:
        return 0
    return min(height, -(-length // width_bytes)) * width_bytes * 8


def _image_block(arr: np.ndarray, sx: int = 1, sy: int = 1) -> ImageBlock:
    if sx > 1:
        arr = np.repeat(arr, sx, axis=1)
    if sy > 1:
        arr = np.repeat(arr, sy, axis=0)
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    return ImageBlock(width=int(arr.shape[1]), height=int(arr.shape[0]), pixels=arr.tobytes())


class _Truncated(Exception):
    """Raised internally when a command needs more bytes than the stream has."""


# --------------------------------------------------------------------------- the parser
@dataclass
class _State:
    chinese: bool
    code_page: int = 0
    font: int = 0
    bold: bool = False
    double_strike: bool = False
    underline: int = 0
    width: int = 1
    height: int = 1
    invert: bool = False
    upside_down: bool = False
    kanji_dw: bool = False
    kanji_dh: bool = False
    kanji_quad: bool = False
    kanji_underline: int = 0
    align: Align = "left"
    line_spacing: int = DEFAULT_LINE_SPACING
    tab_stops: tuple[int, ...] = field(
        default_factory=lambda: tuple(range(DEFAULT_TAB_COLUMNS, 256, DEFAULT_TAB_COLUMNS))
    )
    qr_size: int = 3
    qr_ec: str = "L"
    symbol_data: dict[int, bytes] = field(default_factory=dict)
    barcode_height: int = 162
    barcode_width: int = 3
    hri: int = 0
    hri_font: int = 0
    page_mode: bool = False


class _Parser:
    def __init__(self, data: bytes, chinese_default: bool) -> None:
        self.data = bytes(data)
        self.n = len(self.data)
        self.chinese_default = chinese_default
        self.st = _State(chinese=chinese_default)
        self.out: list[Element] = []
        self.i = 0
        self.line_has_content = False
        # pending text run
        self.run: list[str] = []
        self.run_key: tuple[Style, bool, Align] | None = None
        self.run_offset = 0
        # ESC * strips being merged into one image: its lines, each a list of strips
        # printed side by side
        self.col_strips: list[list[np.ndarray]] = []
        self.col_open = False
        self.col_align: Align = "left"
        self.col_offset = 0
        # graphics buffers
        self.graphics_buffer: ImageBlock | None = None
        self.stored_graphics: dict[tuple[int, int, int], ImageBlock] = {}
        self.downloaded_image: np.ndarray | None = None
        self.warned_code_pages: set[int] = set()
        self.warned_page_mode = False
        # Work done so far, against the limits above.
        self.commands = 0
        self.lines = 0.0
        self.characters = 0
        self.pixels = 0
        self.graphics_printed = 0
        self.images_decoded = 0

    # ------------------------------------------------------------------ limits
    def count_command(self, offset: int) -> None:
        """One more step of the parser's loops: a command, a character, a control byte, or
        one round of a command's own loop (ESC &, ESC D, FS q)."""
        self.commands += 1
        if self.commands > MAX_COMMANDS:
            raise StreamTooLarge("commands and characters", MAX_COMMANDS, offset)

    def count_lines(self, lines: float, offset: int) -> None:
        self.lines += max(0.0, lines)
        if self.lines > MAX_LINES:
            raise StreamTooLarge("printed lines", MAX_LINES, offset)

    def spend_pixels(self, pixels: int, offset: int) -> None:
        """Count image pixels about to be decoded or copied; refuse before allocating them."""
        self.pixels += pixels
        if self.pixels > MAX_IMAGE_PIXELS:
            raise StreamTooLarge("image pixels", MAX_IMAGE_PIXELS, offset)

    def count_image(self, offset: int) -> None:
        self.images_decoded += 1
        if self.images_decoded > MAX_IMAGES_DECODED:
            raise StreamTooLarge("images or image strips", MAX_IMAGES_DECODED, offset)

    def spend_characters(self, count: int, offset: int) -> None:
        self.characters += count
        if self.characters > MAX_CHARACTERS:
            raise StreamTooLarge("characters", MAX_CHARACTERS, offset)

    def image_block(self, arr: np.ndarray, sx: int, sy: int, offset: int) -> ImageBlock:
        self.spend_pixels(int(arr.shape[0]) * sy * int(arr.shape[1]) * sx, offset)
        return _image_block(arr, sx, sy)

    def column_bits(
        self, data: bytes, columns: int, bytes_per_column: int, height: int, offset: int
    ) -> np.ndarray:
        self.count_image(offset)
        self.spend_pixels(_column_bits_size(len(data), columns, bytes_per_column, height),
                          offset)
        return _column_bits(data, columns, bytes_per_column, height)

    def raster_bits(
        self, data: bytes, width_bytes: int, height: int, width: int | None, offset: int
    ) -> np.ndarray:
        self.count_image(offset)
        self.spend_pixels(_raster_bits_size(len(data), width_bytes, height), offset)
        return _raster_bits(data, width_bytes, height, width)

    # ------------------------------------------------------------------ helpers
    def warn(self, message: str, offset: int) -> None:
        self.flush_run()
        self.out.append(Diagnostic(message, offset))

    def need(self, count: int) -> bytes:
        """The ``count`` bytes after the cursor, or raise _Truncated."""
        if self.i + count > self.n:
            raise _Truncated
        return self.data[self.i : self.i + count]

    def take(self, count: int) -> bytes:
        chunk = self.need(count)
        self.i += count
        return chunk

    def take_byte(self) -> int:
        return self.take(1)[0]

    def take_u16(self) -> int:
        lo, hi = self.take(2)
        return lo | (hi << 8)

    def style(self, wide: bool) -> Style:
        st = self.st
        width, height, underline = st.width, st.height, st.underline
        if wide:
            if st.kanji_dw or st.kanji_quad:
                width = max(width, 2)
            if st.kanji_dh or st.kanji_quad:
                height = max(height, 2)
            underline = max(underline, st.kanji_underline)
        return Style(
            bold=st.bold or st.double_strike,
            underline=underline,
            width=width,
            height=height,
            font=st.font,
            invert=st.invert,
            upside_down=st.upside_down,
        )

    def emit_char(self, ch: str, wide: bool, offset: int) -> None:
        if not ch:
            return
        self.spend_characters(1, offset)
        key = (self.style(wide), wide, self.st.align)
        if key != self.run_key:
            self.flush_run()
            self.run_key = key
            self.run_offset = offset
        self.run.append(ch)
        self.line_has_content = True

    def flush_run(self) -> None:
        if self.run and self.run_key is not None:
            style, wide, align = self.run_key
            self.out.append(Text("".join(self.run), style, wide, align, self.run_offset))
        self.run = []
        self.run_key = None

    def emit(self, element: Element) -> None:
        if isinstance(element, Cut):  # a line of its own, in the text and on the drawing
            self.count_lines(1, element.offset)
        self.flush_run()
        self.out.append(element)
        if isinstance(element, Tab | SetX):
            self.line_has_content = True
        elif isinstance(element, Feed | ClearLine | Graphic | Cut):
            self.line_has_content = False

    def emit_graphic(self, item: GraphicItem, offset: int) -> None:
        self.graphics_printed += 1
        if self.graphics_printed > MAX_GRAPHICS:
            raise StreamTooLarge("QR codes, barcodes and images", MAX_GRAPHICS, offset)
        if isinstance(item, QrBlock | BarcodeBlock):  # the text shows their data
            self.spend_characters(len(item.data), offset)
        if self.line_has_content:  # printers print the pending line first
            self.emit(Feed(self.st.line_spacing, 1, offset))
        self.emit(Graphic(item, self.st.align, offset))

    def feed(self, dots: int, lines: float, offset: int) -> None:
        self.count_lines(lines, offset)
        self.emit(Feed(max(0, dots), max(0.0, lines), offset))

    # ------------------------------------------------------------------ column images
    def flush_columns(self) -> None:
        if not self.col_strips:
            return
        # One image of all the lines of strips, each strip copied once into place: joining
        # at every strip would copy the growing line again each time.
        heights = [max(p.shape[0] for p in pieces) for pieces in self.col_strips]
        width = max(sum(p.shape[1] for p in pieces) for pieces in self.col_strips)
        self.spend_pixels(width * sum(heights), self.col_offset)
        arr = np.zeros((sum(heights), width), dtype=np.uint8)
        top = 0
        for pieces, h in zip(self.col_strips, heights, strict=True):
            left = 0
            for p in pieces:
                arr[top : top + p.shape[0], left : left + p.shape[1]] = p
                left += p.shape[1]
            top += h
        self.col_strips = []
        self.col_open = False
        self.emit(Graphic(self.image_block(arr, 1, 1, self.col_offset), self.col_align,
                          self.col_offset))

    def _column_neutral(self) -> bool:
        """Bytes that may sit between ESC * strips without ending the image."""
        b = self.data[self.i]
        if b in (LF, NUL):
            return True
        if b == ESC and self.i + 1 < self.n:
            return self.data[self.i + 1] in b"*32A+"
        return False

    # ------------------------------------------------------------------ main loop
    def parse(self) -> list[Element]:
        while self.i < self.n:
            start = self.i
            self.count_command(start)
            if self.col_strips and not self._column_neutral():
                self.flush_columns()
            try:
                self.step()
            except StreamTooLarge:
                raise
            except _Truncated:
                cmd = " ".join(f"{b:02X}" for b in self.data[start : min(start + 3, self.n)])
                self.warn(f"truncated command {cmd} at byte {start} (stream ends)", start)
                self.i = self.n
            except Exception as exc:  # pragma: no cover - defensive: never crash
                self.warn(f"could not decode bytes at byte {start}: {exc!r}", start)
                self.i = start + 1
        self.flush_columns()
        self.flush_run()
        return self.out

    def step(self) -> None:
        b = self.data[self.i]
        start = self.i
        if b == ESC:
            self.i += 1
            self.esc(start)
        elif b == GS:
            self.i += 1
            self.gs(start)
        elif b == FS:
            self.i += 1
            self.fs(start)
        elif b == DLE:
            self.i += 1
            self.dle(start)
        elif b == LF:
            self.i += 1
            if self.col_open:  # the LF that ends an ESC * strip
                self.col_open = False
                return
            self.feed(self.st.line_spacing, 1, start)
        elif b == CR:
            self.i += 1
            prev_lf = start > 0 and self.data[start - 1] == LF
            next_lf = self.i < self.n and self.data[self.i] == LF
            if not (prev_lf or next_lf):  # lone CR: behave like auto line feed
                self.feed(self.st.line_spacing, 1, start)
        elif b == HT:
            self.i += 1
            self.emit(Tab(self.st.tab_stops, self.st.align, start))
        elif b == FF:
            self.i += 1
            self.st.page_mode = False
            if self.line_has_content:
                self.feed(self.st.line_spacing, 1, start)
        elif b == CAN:
            self.i += 1
            if self.st.page_mode:
                self.emit(ClearLine(start))
        elif b < 0x20 or b == 0x7F:
            self.i += 1
            if b not in _SILENT_CONTROLS:
                self.warn(f"skipped control byte {b:02X} at byte {start}", start)
        elif b < 0x80:
            self.i += 1
            self.emit_char(_code_page_table(self.codec())[b], False, start)
        else:
            self.high_byte(start)

    def codec(self) -> str | None:
        page = CODE_PAGES.get(self.st.code_page)
        return page[1] if page else None

    def high_byte(self, start: int) -> None:
        b = self.data[start]
        if self.st.chinese and 0x81 <= b <= 0xFE:
            b2 = self.data[start + 1] if start + 1 < self.n else -1
            if b2 < 0 or (0x30 <= b2 <= 0x39 and start + 3 >= self.n):
                self.warn(f"truncated GB18030 character at byte {start} (stream ends)", start)
                self.i = self.n
                return
            seq: bytes | None = None
            if 0x30 <= b2 <= 0x39:
                b3, b4 = self.data[start + 2], self.data[start + 3]
                if 0x81 <= b3 <= 0xFE and 0x30 <= b4 <= 0x39:
                    seq = self.data[start : start + 4]
            elif 0x40 <= b2 <= 0xFE and b2 != 0x7F:
                seq = self.data[start : start + 2]
            if seq is not None:
                try:
                    ch = _GB18030(seq)[0]
                except UnicodeDecodeError:
                    ch = "?"
                self.i = start + len(seq)
                self.emit_char(ch, True, start)
                return
            self.warn(
                f"invalid GB18030 sequence {b:02X} {b2:02X} at byte {start}; "
                f"decoded {b:02X} with the code page",
                start,
            )
        self.i = start + 1
        self.emit_char(_code_page_table(self.codec())[b], False, start)

    # ------------------------------------------------------------------ ESC
    def reset(self, start: int) -> None:
        if self.line_has_content:
            self.warn(f"ESC @ at byte {start} discards an unprinted line (no LF before it)", start)
            self.emit(ClearLine(start))
        self.st = _State(chinese=self.chinese_default)
        self.graphics_buffer = None
        self.emit(Margins(0, 0, start))

    def esc(self, start: int) -> None:
        c = self.take_byte()
        st = self.st
        simple_args = {
            0x20: 1,
            0x25: 1,
            0x3D: 1,
            0x3F: 1,
            0x4B: 1,
            0x52: 1,
            0x54: 1,
            0x55: 1,
            0x56: 1,
            0x65: 1,
            0x72: 1,
            0x75: 1,
            0x39: 1,
            0x42: 2,
            0x38: 2,
            0x66: 2,
            0x37: 3,
            0x70: 3,
            0x57: 8,
            0x63: 2,
        }
        if c == 0x40:  # ESC @
            self.reset(start)
        elif c == 0x21:  # ESC ! n
            n = self.take_byte()
            st.font = n & 1
            st.bold = bool(n & 0x08)
            st.height = 2 if n & 0x10 else 1
            st.width = 2 if n & 0x20 else 1
            st.underline = 1 if n & 0x80 else 0
        elif c == 0x45:  # ESC E n
            st.bold = bool(self.take_byte() & 1)
        elif c == 0x47:  # ESC G n
            st.double_strike = bool(self.take_byte() & 1)
        elif c == 0x2D:  # ESC - n
            n = self.take_byte()
            st.underline = {0: 0, 48: 0, 1: 1, 49: 1, 2: 2, 50: 2}.get(n, st.underline)
        elif c == 0x4D:  # ESC M n
            n = self.take_byte()
            st.font = {0: 0, 48: 0, 1: 1, 49: 1, 2: 2, 50: 2}.get(n, 0)
        elif c == 0x61:  # ESC a n
            align = _align_from(self.take_byte())
            if align:
                st.align = align
        elif c == 0x7B:  # ESC { n
            st.upside_down = bool(self.take_byte() & 1)
        elif c == 0x74:  # ESC t n
            n = self.take_byte()
            st.code_page = n
            if CODE_PAGES.get(n, ("", None))[1] is None and n not in self.warned_code_pages:
                self.warned_code_pages.add(n)
                self.warn(f"code page {n} (ESC t) not supported; decoding as CP437", start)
        elif c == 0x32:  # ESC 2
            st.line_spacing = DEFAULT_LINE_SPACING
        elif c == 0x33:  # ESC 3 n
            st.line_spacing = self.take_byte()
        elif c == 0x41:  # ESC A n (1/60 inch, non-Epson)
            st.line_spacing = round(self.take_byte() * 203 / 60)
        elif c == 0x2B:  # ESC + n (1/360 inch, non-Epson)
            st.line_spacing = round(self.take_byte() * 203 / 360)
        elif c == 0x64:  # ESC d n
            n = self.take_byte()
            self.feed(n * st.line_spacing, n, start)
        elif c == 0x4A:  # ESC J n
            n = self.take_byte()
            self.feed(n, n / DEFAULT_LINE_SPACING, start)
        elif c in (0x69, 0x6D):  # ESC i / ESC m
            self.emit(Cut(partial=c == 0x6D, offset=start))
        elif c == 0x24:  # ESC $ nL nH
            self.emit(SetX(self.take_u16(), False, st.align, start))
        elif c == 0x5C:  # ESC \ nL nH
            n = self.take_u16()
            self.emit(SetX(n - 0x10000 if n & 0x8000 else n, True, st.align, start))
        elif c == 0x44:  # ESC D n1..nk NUL
            stops: list[int] = []
            while True:
                self.count_command(start)
                n = self.take_byte()
                if n == 0 or len(stops) >= 32:
                    break
                if not stops or n > stops[-1]:
                    stops.append(n)
            st.tab_stops = tuple(stops)
        elif c == 0x2A:  # ESC * m nL nH d
            self.esc_star(start)
        elif c == 0x26:  # ESC & y c1 c2 [x d1..d(y*x)]...
            y, c1, c2 = self.take(3)
            for _ in range(max(0, c2 - c1 + 1)):
                self.count_command(start)
                x = self.take_byte()
                self.take(y * x)
        elif c == 0x28:  # ESC ( X pL pH ...
            self.take_byte()
            self.take(self.take_u16())
        elif c == 0x4C:  # ESC L: page mode
            st.page_mode = True
            if not self.warned_page_mode:
                self.warned_page_mode = True
                self.warn(f"page mode (ESC L) at byte {start} drawn as standard mode", start)
        elif c == 0x53:  # ESC S
            st.page_mode = False
        elif c == 0x0C:  # ESC FF: print page-mode data
            if self.line_has_content:
                self.feed(st.line_spacing, 1, start)
        elif c == 0x5A:  # ESC Z m n k dL dH d: QR code on many Chinese printers
            _version, ec, size = self.take(3)
            payload = self.take(self.take_u16())
            self.emit_graphic(
                QrBlock(payload, max(1, min(size, 16)), _EC_LEVELS.get(ec, "L")), start
            )
        elif c in (0x3C, 0x76):  # ESC < / ESC v: no arguments
            pass
        elif c in simple_args:
            self.take(simple_args[c])
        else:
            self.warn(f"skipped unknown command 1B {c:02X} at byte {start}", start)

    def esc_star(self, start: int) -> None:
        m = self.take_byte()
        n = self.take_u16()
        if m in (0, 1):
            raw = self.take(n)
            strip = self.column_bits(raw, n, 1, 8, start)
            sx, sy = (2 if m == 0 else 1), 3
        elif m in (32, 33):
            raw = self.take(3 * n)
            strip = self.column_bits(raw, n, 3, 24, start)
            sx, sy = (2 if m == 32 else 1), 1
        else:
            self.warn(f"ESC * with unknown density {m} at byte {start}", start)
            return
        self.spend_pixels(int(strip.size) * sx * sy, start)
        if sx > 1:
            strip = np.repeat(strip, sx, axis=1)
        if sy > 1:
            strip = np.repeat(strip, sy, axis=0)
        if self.line_has_content and not self.col_strips:
            self.feed(self.st.line_spacing, 1, start)
        if not self.col_strips:
            self.col_align = self.st.align
            self.col_offset = start
        if self.col_open and self.col_strips:  # two strips on the same line: side by side
            self.col_strips[-1].append(strip)
        else:
            self.col_strips.append([strip])
        self.col_open = True

    # ------------------------------------------------------------------ GS
    def gs(self, start: int) -> None:
        c = self.take_byte()
        st = self.st
        simple_args = {
            0x24: 2,
            0x45: 1,
            0x49: 1,
            0x50: 2,
            0x54: 1,
            0x5C: 2,
            0x5E: 3,
            0x61: 1,
            0x62: 1,
            0x6A: 1,
            0x72: 1,
            0x7C: 1,
            0x3A: 0,
            0x63: 0,
        }
        if c == 0x21:  # GS ! n
            n = self.take_byte()
            st.width = ((n >> 4) & 7) + 1
            st.height = (n & 7) + 1
        elif c == 0x42:  # GS B n
            st.invert = bool(self.take_byte() & 1)
        elif c == 0x4C:  # GS L nL nH
            left = self.take_u16()
            self.emit(Margins(left, None, start))
        elif c == 0x57:  # GS W nL nH
            width = self.take_u16()
            self.emit(Margins(None, width, start))
        elif c == 0x56:  # GS V m [n]
            m = self.take_byte()
            if m in (65, 66, 97, 98, 103, 104):
                n = self.take_byte()
                if n:
                    self.feed(n, n / DEFAULT_LINE_SPACING, start)
            elif m not in (0, 1, 48, 49):
                self.warn(f"GS V with unknown mode {m} at byte {start}", start)
                return
            self.emit(Cut(partial=m in (1, 49, 66, 98, 104), offset=start))
        elif c == 0x68:  # GS h n
            st.barcode_height = self.take_byte()
        elif c == 0x77:  # GS w n
            st.barcode_width = self.take_byte()
        elif c == 0x48:  # GS H n
            st.hri = self.take_byte() & 3
        elif c == 0x66:  # GS f n
            st.hri_font = self.take_byte() & 1
        elif c == 0x6B:  # GS k
            self.barcode(start)
        elif c == 0x76:  # GS v 0 m xL xH yL yH d
            if self.take_byte() != 0x30:
                self.warn(f"skipped unknown command 1D 76 at byte {start}", start)
                return
            self.raster(start)
        elif c == 0x28:  # GS ( X pL pH ...
            sub = self.take_byte()
            length = self.take_u16()
            payload = self.take(length)
            if sub == 0x6B:
                self.symbol(payload, start)
            elif sub == 0x4C:
                self.graphics(payload, start)
        elif c == 0x38:  # GS 8 X p1 p2 p3 p4 ...
            sub = self.take_byte()
            p = self.take(4)
            length = p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24
            payload = self.take(length)
            if sub == 0x4C:
                self.graphics(payload, start)
        elif c == 0x2A:  # GS * x y d
            x, y = self.take(2)
            raw = self.take(x * y * 8)
            self.downloaded_image = self.column_bits(raw, x * 8, y, y * 8, start)
        elif c == 0x2F:  # GS / m
            m = self.take_byte()
            if self.downloaded_image is None:
                self.warn(f"GS / prints an undefined downloaded image at byte {start}", start)
            else:
                block = self.image_block(self.downloaded_image, 1 + (m & 1),
                                         1 + ((m >> 1) & 1), start)
                self.emit_graphic(block, start)
        elif c == 0x51:  # GS Q 0 m xL xH yL yH d (variable vertical size bit image)
            self.take(2)
            x = self.take_u16()
            y = self.take_u16()
            raw = self.take(x * ((y + 7) // 8))
            arr = self.column_bits(raw, x, (y + 7) // 8, y, start)
            self.emit_graphic(self.image_block(arr, 1, 1, start), start)
        elif c == 0x67:  # GS g 0 m nL nH / GS g 2 m nL nH
            self.take(4)
        elif c == 0x7A:  # GS z 0 t1 t2
            self.take(3)
        elif c in simple_args:
            self.take(simple_args[c])
        else:
            self.warn(f"skipped unknown command 1D {c:02X} at byte {start}", start)

    def barcode(self, start: int) -> None:
        m = self.take_byte()
        if m <= 6:
            end = self.data.find(b"\x00", self.i)
            if end < 0:
                raise _Truncated
            payload = self.data[self.i : end]
            self.i = end + 1
        elif 65 <= m <= 79:
            payload = self.take(self.take_byte())
        else:
            self.warn(f"GS k with unknown barcode type {m} at byte {start}", start)
            return
        st = self.st
        block = BarcodeBlock(
            kind=BARCODE_TYPES.get(m, f"TYPE{m}"),
            data=payload,
            height=st.barcode_height or 162,
            module_width=max(1, min(st.barcode_width or 3, 6)),
            hri=st.hri,
            hri_font=st.hri_font,
        )
        self.emit_graphic(block, start)

    def raster(self, start: int) -> None:
        m = self.take_byte()
        width_bytes = self.take_u16()
        height = self.take_u16()
        need = width_bytes * height
        available = min(need, self.n - self.i)
        raw = self.data[self.i : self.i + available]
        self.i += available
        if available < need:
            self.warn(
                f"truncated raster image (GS v 0) at byte {start}: {available} of {need} bytes",
                start,
            )
            height = -(-available // width_bytes) if width_bytes else 0
        if width_bytes == 0 or height == 0:
            return
        arr = self.raster_bits(raw, width_bytes, height, None, start)
        self.emit_graphic(self.image_block(arr, 1 + (m & 1), 1 + ((m >> 1) & 1), start), start)

    def symbol(self, payload: bytes, start: int) -> None:
        """GS ( k: 2-D symbols.  cn=49 is QR; others are shown as labelled blocks."""
        if len(payload) < 2:
            self.warn(f"GS ( k too short at byte {start}", start)
            return
        cn, fn = payload[0], payload[1]
        st = self.st
        if cn == 49 and fn == 67 and len(payload) >= 3:  # module size
            st.qr_size = max(1, min(payload[2], 16))
        elif cn == 49 and fn == 69 and len(payload) >= 3:  # error correction
            st.qr_ec = _EC_LEVELS.get(payload[2], st.qr_ec)
        elif fn == 80:  # store data
            st.symbol_data[cn] = payload[3:]
        elif fn == 81:  # print
            data = st.symbol_data.get(cn)
            if data is None:
                self.warn(f"GS ( k print without stored data at byte {start}", start)
            elif cn == 49:
                self.emit_graphic(QrBlock(data, st.qr_size, st.qr_ec), start)
            else:
                kind = SYMBOLS_2D.get(cn, f"2D SYMBOL {cn}")
                self.emit_graphic(BarcodeBlock(kind=kind, data=data, height=0), start)

    def graphics(self, payload: bytes, start: int) -> None:
        """GS ( L / GS 8 L graphics functions."""
        if len(payload) < 2:
            self.warn(f"GS ( L too short at byte {start}", start)
            return
        fn = payload[1]
        if fn in (112, 113) and len(payload) >= 10:  # store graphics in print buffer
            a, bx, by, _c = payload[2:6]
            x = payload[6] | payload[7] << 8
            y = payload[8] | payload[9] << 8
            if a not in (48, 0):
                self.warn(f"multi-tone graphics at byte {start} drawn as monochrome", start)
            expected = ((x + 7) // 8) * y if fn == 112 else x * ((y + 7) // 8)
            if len(payload) - 10 < expected:
                self.warn(f"graphics data at byte {start} shorter than its declared size", start)
            if fn == 112:
                arr = self.raster_bits(payload[10:], (x + 7) // 8, y, x, start)
            else:
                arr = self.column_bits(payload[10:], x, (y + 7) // 8, y, start)
            self.graphics_buffer = self.image_block(arr, max(1, min(bx, 2)), max(1, min(by, 2)),
                                                    start)
        elif fn in (50, 2):  # print graphics buffer
            if self.graphics_buffer is None:
                self.warn(f"GS ( L print with an empty graphics buffer at byte {start}", start)
            else:
                self.emit_graphic(self.graphics_buffer, start)
                self.graphics_buffer = None
        elif fn in (67, 68, 83, 84) and len(payload) >= 11:  # define NV/download graphics
            kc1, kc2 = payload[3], payload[4]
            x = payload[6] | payload[7] << 8
            y = payload[8] | payload[9] << 8
            data = payload[11:]
            if fn in (67, 83):
                arr = self.raster_bits(data, (x + 7) // 8, y, x, start)
            else:
                arr = self.column_bits(data, x, (y + 7) // 8, y, start)
            self.stored_graphics[(fn >= 80, kc1, kc2)] = self.image_block(arr, 1, 1, start)
        elif fn in (69, 85) and len(payload) >= 6:  # print NV/download graphics
            kc1, kc2, sx, sy = payload[2:6]
            stored = self.stored_graphics.get((fn == 85, kc1, kc2))
            if stored is None:
                label = f"[NV GRAPHICS {chr(kc1) if 32 <= kc1 < 127 else kc1}" + (
                    f"{chr(kc2) if 32 <= kc2 < 127 else kc2}]"
                )
                self.emit_graphic(Marker(label), start)
            else:
                arr = stored.to_array()
                block = self.image_block(arr, max(1, min(sx, 2)), max(1, min(sy, 2)), start)
                self.emit_graphic(block, start)

    # ------------------------------------------------------------------ FS
    def fs(self, start: int) -> None:
        c = self.take_byte()
        st = self.st
        if c == 0x26:  # FS &
            st.chinese = True
        elif c == 0x2E:  # FS .
            st.chinese = False
        elif c == 0x21:  # FS ! n
            n = self.take_byte()
            st.kanji_dw = bool(n & 0x04)
            st.kanji_dh = bool(n & 0x08)
            st.kanji_underline = 1 if n & 0x80 else 0
        elif c == 0x2D:  # FS - n
            n = self.take_byte()
            st.kanji_underline = {0: 0, 48: 0, 1: 1, 49: 1, 2: 2, 50: 2}.get(n, 0)
        elif c == 0x57:  # FS W n
            st.kanji_quad = bool(self.take_byte() & 1)
        elif c == 0x32:  # FS 2 c1 c2 d1..d72: user-defined 24x24 character
            self.take(2 + 72)
        elif c in (0x3F, 0x53):  # FS ? c1 c2 / FS S n1 n2
            self.take(2)
        elif c in (0x43, 0x72):  # FS C n / FS r n
            self.take(1)
        elif c == 0x70:  # FS p n m: print NV bit image
            n, _m = self.take(2)
            self.emit_graphic(Marker(f"[NV IMAGE {n}]"), start)
        elif c == 0x71:  # FS q n [xL xH yL yH d]...
            for _ in range(self.take_byte()):
                self.count_command(start)
                x = self.take_u16()
                y = self.take_u16()
                self.take(x * y * 8)
        elif c == 0x28:  # FS ( X pL pH ...
            self.take_byte()
            self.take(self.take_u16())
        elif c == 0x67:  # FS g 1 m a1..a4 nL nH d / FS g 2 m a1..a4 nL nH
            sub = self.take_byte()
            head = self.take(7)
            if sub == 0x31:
                self.take(head[5] | head[6] << 8)
        else:
            self.warn(f"skipped unknown command 1C {c:02X} at byte {start}", start)

    # ------------------------------------------------------------------ DLE
    def dle(self, start: int) -> None:
        if self.i >= self.n:
            return  # a lone trailing DLE byte
        c = self.data[self.i]
        if c in (EOT, ENQ):  # DLE EOT n / DLE ENQ n
            self.i += 1
            self.take(1)
        elif c == DC4:  # DLE DC4 fn ...
            self.i += 1
            fn = self.take_byte()
            self.take({7: 1, 8: 7}.get(fn, 2))
        # any other byte after DLE is processed normally


def parse(data: bytes, chinese_default: bool = True) -> list[Element]:
    """Decode an ESC/POS byte stream into elements.

    Never raises on bad input; raises :class:`StreamTooLarge` for a stream that asks for
    more work than the limits above allow (it is refused as a whole, not cut short).

    ``chinese_default`` is the Chinese (GB18030) mode in force at power-on and after
    ``ESC @``.  Most printers sold in mainland China power up in Chinese mode, and
    python-escpos 3.1's ``text()`` sends GB18030 bytes *without* ``FS &``, so the
    default is True.  Pass False for a Western printer (bytes >= 0x80 then always go
    through the ``ESC t`` code page until ``FS &`` is seen).

    In Chinese mode a byte 0x81-0xFE starts a GB18030 sequence: 2 bytes when the next
    byte is 0x40-0xFE, 4 bytes when it is 0x30-0x39.  An invalid sequence is reported
    and the byte is decoded with the current code page instead.
    """
    try:
        return _Parser(data, chinese_default).parse()
    except StreamTooLarge:
        raise
    except Exception as exc:  # pragma: no cover - last-resort guard
        return [Diagnostic(f"internal parser error: {exc!r}", 0)]


__all__ = [
    "CODE_PAGES",
    "MAX_STREAM_BYTES",
    "Align",
    "BarcodeBlock",
    "ClearLine",
    "Cut",
    "Diagnostic",
    "Element",
    "Feed",
    "Graphic",
    "GraphicItem",
    "ImageBlock",
    "Margins",
    "Marker",
    "QrBlock",
    "SetX",
    "StreamTooLarge",
    "Style",
    "Tab",
    "Text",
    "barcode_display_text",
    "parse",
]
