"""Render an ESC/POS byte stream as readable text or as a paper-like PNG.

Used by ``kiosk receipt-render FILE.bin --text`` / ``-o ticket.png`` (kiosk.cli.dev) and
by tests that check what the kiosk actually sends to the thermal printer.  Any ESC/POS
stream is accepted, not only ours; nothing here raises on bad input (a stream that asks
for more work than any receipt is refused as a whole: see below).

The decoding itself lives in :mod:`kiosk.devtools.escpos_parse` (a pure
function, :func:`parse`, shared by both renderers; see there for why it is
hand-written).  This module does the layout, in printer dots, then either turns the
laid-out lines into text (12 dots = one text cell) or draws them.

Work is bounded per stream, so that no stream (they come from anywhere) can take the
machine's memory or minutes of its time: the parser's limits (lines, characters, image
pixels, graphics; see :mod:`kiosk.devtools.escpos_parse`) and, for the drawing, the
limits below. A stream beyond them raises :class:`StreamTooLarge` (the command says so and
exits with status 2); a drawing longer than ``MAX_PNG_HEIGHT`` is cut off, and QR codes
beyond the drawing's QR budget are drawn as labelled boxes.

``chinese_default`` (default True) is the printer's Chinese mode after power-on and
after ``ESC @``: Chinese printers start in GB18030 mode and python-escpos 3.1 sends
GB18030 text without ``FS &``.  Use False to emulate a Western printer.
"""

from __future__ import annotations

import functools
import glob
import os
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.devtools.escpos_parse import (
    DEFAULT_LINE_SPACING,
    FONT_A_WIDTH,
    Align,
    BarcodeBlock,
    ClearLine,
    Cut,
    Diagnostic,
    Element,
    Feed,
    Graphic,
    GraphicItem,
    ImageBlock,
    Margins,
    Marker,
    QrBlock,
    SetX,
    StreamTooLarge,
    Style,
    Tab,
    Text,
    parse,
)
from kiosk.domain.qr import qr_matrix

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "BarcodeBlock",
    "ImageBlock",
    "Marker",
    "QrBlock",
    "Rendered",
    "StreamTooLarge",
    "parse",
    "render_both",
    "render_png",
    "render_text",
]

MAX_PNG_HEIGHT = 30_000  # dots; longer output is cut off (a 3.7 m receipt)
# Drawing budgets per stream. Encoding a QR code is pure Python and grows with its data:
# codes beyond these are drawn as labelled boxes (their text is in --text).
MAX_DRAWN_QR_CODES = 24
MAX_DRAWN_QR_BYTES = 4096
# Each different character shape (character, font, scale, bold) is drawn by FreeType once.
MAX_GLYPH_SHAPES = 2000
# Pixels pasted onto the paper: glyphs and blocks, overlaps counted each time (ESC $ can put
# any number of characters on the same spot); about four times the longest paper.
MAX_DRAWN_PIXELS = 70_000_000
# Warnings listed; the rest are counted.
MAX_WARNINGS = 50
PAPER_COLOR = (252, 251, 246)
INK_COLOR = (28, 28, 34)
EDGE_COLOR = (222, 220, 212)
CUT_COLOR = (135, 135, 135)
SIDE_MARGIN = 32  # unprintable strip each side: 576 + 2*32 = 640 dots = 80 mm
TOP_MARGIN = 24
BOTTOM_MARGIN = 40
CUT_ROW_HEIGHT = 36

FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    # (path or glob, preferred face name); monospace CJK first: 12-dot ASCII, 24-dot Hanzi
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans Mono CJK SC"),
    ("/usr/share/fonts/**/NotoSansMonoCJK*-Regular.otf", ""),
    ("/usr/share/fonts/**/NotoSansCJK*-Regular.tt[cf]", "Noto Sans Mono CJK SC"),
    ("/usr/share/fonts/**/wqy-microhei.ttc", ""),
    ("/usr/share/fonts/**/wqy-zenhei.ttc", ""),
    ("/usr/share/fonts/**/DroidSansFallbackFull.ttf", ""),
    ("C:/Windows/Fonts/simhei.ttf", ""),
    ("C:/Windows/Fonts/msyh.ttc", ""),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", ""),
)
SYMBOL_FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)


@dataclass
class Rendered:
    """Result of :func:`render_text`."""

    text: str  # what a person reads, one line per printed line
    qr_codes: list[QrBlock] = field(default_factory=list)
    images: list[ImageBlock] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    cuts: int = 0
    barcodes: list[BarcodeBlock] = field(default_factory=list)


# --------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class _Glyph:
    x: int  # dots from the left edge of the printable width
    ch: str
    style: Style
    wide: bool
    w: int
    h: int


@dataclass(frozen=True)
class _TextRow:
    glyphs: tuple[_Glyph, ...]
    height: int
    dots: int  # paper feed after the line (at least ``height``)
    lines: float


@dataclass(frozen=True)
class _FeedRow:
    dots: int
    lines: float


@dataclass(frozen=True)
class _BlockRow:
    item: GraphicItem
    align: Align
    left: int
    avail: int


@dataclass(frozen=True)
class _CutRow:
    partial: bool


_Row = _TextRow | _FeedRow | _BlockRow | _CutRow


def _cell(font: int, wide: bool) -> tuple[int, int]:
    """Base glyph cell in dots: Font A 12x24 / 24x24, Font B (and C) 9x17 / 18x17."""
    if font == 0:
        return (24 if wide else 12), 24
    return (18 if wide else 9), 17


class _Layout:
    def __init__(self, paper: int) -> None:
        self.paper = max(FONT_A_WIDTH, paper)
        self.left = 0
        self.area = 0
        self.rows: list[_Row] = []
        self.warnings: list[str] = []
        self._reset_line()

    def _reset_line(self) -> None:
        self.x = 0
        self.glyphs: list[_Glyph] = []
        self.align: Align | None = None
        self.height = 0

    @property
    def avail(self) -> int:
        room = self.paper - self.left
        return max(FONT_A_WIDTH, min(self.area, room) if self.area > 0 else room)

    def _start(self, align: Align) -> None:
        if self.align is None:
            self.align = align

    def finish(self, dots: int, lines: float) -> None:
        if self.glyphs:
            width = max(self.x, max(g.x + g.w for g in self.glyphs))
            avail = self.avail
            shift = 0
            if width <= avail:
                if self.align == "center":
                    shift = (avail - width) // 2
                elif self.align == "right":
                    shift = avail - width
            glyphs = tuple(
                _Glyph(g.x + shift + self.left, g.ch, g.style, g.wide, g.w, g.h)
                for g in self.glyphs
            )
            self.rows.append(_TextRow(glyphs, self.height, max(dots, self.height), lines))
        else:
            self.rows.append(_FeedRow(dots, lines))
        self._reset_line()

    def add_text(self, el: Text) -> None:
        cw, chh = _cell(el.style.font, el.wide)
        w, h = cw * el.style.width, chh * el.style.height
        for ch in el.text:
            if self.x + w > self.avail and self.x > 0:
                self.finish(DEFAULT_LINE_SPACING, 1)  # the printer wraps the line
            self._start(el.align)
            self.glyphs.append(_Glyph(self.x, ch, el.style, el.wide, w, h))
            self.x += w
            self.height = max(self.height, h)

    def add(self, el: Element) -> None:
        if isinstance(el, Text):
            self.add_text(el)
        elif isinstance(el, Feed):
            self.finish(el.dots, el.lines)
        elif isinstance(el, Tab):
            stop = next((s * FONT_A_WIDTH for s in el.stops if s * FONT_A_WIDTH > self.x), None)
            if stop is not None and stop <= self.avail:
                self._start(el.align)
                self.x = stop
        elif isinstance(el, SetX):
            new_x = self.x + el.dots if el.relative else el.dots
            if 0 <= new_x <= self.avail:
                self._start(el.align)
                self.x = new_x
        elif isinstance(el, ClearLine):
            self._reset_line()
        elif isinstance(el, Margins):
            if el.left is not None:
                self.left = max(0, min(el.left, self.paper - FONT_A_WIDTH))
            if el.width is not None:
                self.area = el.width
        elif isinstance(el, Graphic):
            if self.glyphs:
                self.finish(DEFAULT_LINE_SPACING, 1)
            self.rows.append(_BlockRow(el.item, el.align, self.left, self.avail))
        elif isinstance(el, Cut):
            if self.glyphs:
                self.finish(DEFAULT_LINE_SPACING, 1)
            self.rows.append(_CutRow(el.partial))
        elif isinstance(el, Diagnostic):
            self.warnings.append(el.message)

    def end(self) -> None:
        if self.glyphs:
            self.warnings.append(
                "stream ends without LF: the last line is shown, "
                "but a printer would keep it in its buffer"
            )
            self.finish(DEFAULT_LINE_SPACING, 1)


def _layout(elements: Iterable[Element], paper: int) -> _Layout:
    layout = _Layout(paper)
    for el in elements:
        layout.add(el)
    layout.end()
    return layout


# --------------------------------------------------------------------------- text
def _cells(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def _decode_payload(data: bytes) -> str:
    for enc in ("utf-8", "gb18030"):
        try:
            return _printable(data.decode(enc))
        except UnicodeDecodeError:
            continue
    return _printable(data.decode("latin-1"))


def block_label(item: GraphicItem) -> str:
    """The one-line text shown for a QR code, image, barcode or marker."""
    if isinstance(item, QrBlock):
        return f"[QR] {_decode_payload(item.data)}"
    if isinstance(item, ImageBlock):
        return f"[IMAGE {item.width}x{item.height}]"
    if isinstance(item, BarcodeBlock):
        if item.height == 0:  # 2-D symbol
            return f"[{item.kind}] {_decode_payload(item.data)}"
        return f"[BARCODE {item.kind} {_printable(item.display)}]"
    return item.label


def _cut_line(columns: int) -> str:
    left = max(0, (columns - 3) // 2)
    return "-" * left + " ✂ " + "-" * max(0, columns - 3 - left)


def _text_row(row: _TextRow) -> str:
    out: list[str] = []
    pos = 0.0
    for g in sorted(row.glyphs, key=lambda g: g.x):
        target = g.x / FONT_A_WIDTH
        gap = int(target - pos + 1e-6)  # floor: centring rounds down, like the printer
        if gap > 0:
            out.append(" " * gap)
            pos += gap
        out.append(g.ch)
        pos = max(pos, target) + g.w / FONT_A_WIDTH
    return "".join(out).rstrip()


def _capped(warnings: list[str]) -> list[str]:
    """The first MAX_WARNINGS warnings, and how many more there were."""
    if len(warnings) <= MAX_WARNINGS:
        return warnings
    return [*warnings[:MAX_WARNINGS], f"... and {len(warnings) - MAX_WARNINGS} more warnings"]


def _text_from_elements(elements: list[Element], columns: int) -> Rendered:
    columns = max(1, columns)
    layout = _layout(elements, columns * FONT_A_WIDTH)
    result = Rendered(text="", warnings=_capped(layout.warnings))
    lines: list[str] = []
    for row in layout.rows:
        if isinstance(row, _TextRow):
            lines.append(_text_row(row))
            lines.extend([""] * max(0, int(row.lines + 0.5) - 1))
        elif isinstance(row, _FeedRow):
            lines.extend([""] * int(row.lines + 0.5))
        elif isinstance(row, _BlockRow):
            label = block_label(row.item)
            avail, left = row.avail // FONT_A_WIDTH, row.left // FONT_A_WIDTH
            spare = max(0, avail - _cells(label))
            pad = {"center": spare // 2, "right": spare}.get(row.align, 0)
            lines.append(" " * (left + pad) + label)
            if isinstance(row.item, QrBlock):
                result.qr_codes.append(row.item)
            elif isinstance(row.item, ImageBlock):
                result.images.append(row.item)
            elif isinstance(row.item, BarcodeBlock):
                result.barcodes.append(row.item)
        else:
            lines.append(_cut_line(columns))
            result.cuts += 1
    result.text = "\n".join(lines)
    return result


def render_text(data: bytes, *, columns: int = 48, chinese_default: bool = True) -> Rendered:
    """What a person reads on the paper, ``columns`` Font-A characters wide.

    Alignment is applied with spaces (a GB18030 character is 2 cells, a double-width
    character twice its cells).  QR codes appear as ``[QR] <data>``, images as
    ``[IMAGE WxH]``, barcodes as ``[BARCODE CODE128 <data>]``, cuts as a dashed line
    with a pair of scissors.  Unknown/truncated commands are listed in ``warnings``.
    Raises :class:`StreamTooLarge` for a stream beyond the parser's limits.

    ``chinese_default``: GB18030 (Chinese) mode at power-on and after ``ESC @``.  True
    emulates a mainland-China printer (python-escpos 3.1 sends GB18030 without ``FS &``);
    False a Western one, where only ``FS &`` enables GB18030.
    """
    return _text_from_elements(parse(data, chinese_default), columns)


# --------------------------------------------------------------------------- fonts
def _find_font_file() -> tuple[str, int] | None:
    for pattern, face in FONT_CANDIDATES:
        paths = glob.glob(pattern, recursive=True) if "*" in pattern else [pattern]
        for path in sorted(paths):
            if not os.path.isfile(path):
                continue
            if not face:
                return path, 0
            for index in range(16):
                try:
                    font = ImageFont.truetype(path, 12, index=index)
                except OSError:
                    break
                if font.getname()[0] == face:
                    return path, index
            return path, 0
    return None


@functools.lru_cache(maxsize=1)
def _font_file() -> tuple[str, int] | None:
    return _find_font_file()


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = _font_file()
    if found is not None:
        try:
            return ImageFont.truetype(found[0], size, index=found[1])
        except OSError:
            pass
    return ImageFont.load_default(size)


@functools.lru_cache(maxsize=4)
def _symbol_font(size: int) -> ImageFont.FreeTypeFont | None:
    for path in SYMBOL_FONT_CANDIDATES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return None


@functools.lru_cache(maxsize=8192)
def _glyph(ch: str, font: int, wide: bool, wm: int, hm: int, bold: bool) -> Image.Image:
    """An 'L' mask (255 = ink) of one character cell, scaled as the printer scales it."""
    cw, chh = _cell(font, wide)
    w, h = cw * hm, chh * hm  # draw at the vertical scale, then stretch horizontally
    img = Image.new("L", (w, h), 0)
    if ch.strip():
        draw = ImageDraw.Draw(img)
        fnt = _font(max(6, round(chh * hm * 0.86)))
        baseline = round(h * 0.80)
        try:
            draw.text((w / 2, baseline), ch, fill=255, font=fnt, anchor="ms")
            if bold:
                offset = 1 + (hm >= 2)  # "emphasized": the same dots struck shifted right
                draw.text((w / 2 + offset, baseline), ch, fill=255, font=fnt, anchor="ms")
        except (ValueError, OSError):  # anchor unsupported by a bitmap fallback font
            draw.text((0, 0), ch, fill=255, font=fnt)
    if wm != hm:
        img = img.resize((cw * wm, h), Image.Resampling.BICUBIC)
    return img


@functools.lru_cache(maxsize=1024)
def _inverted_glyph(ch: str, font: int, wide: bool, wm: int, hm: int, bold: bool) -> Image.Image:
    """The cell of GS B (white on black): made once per shape, not at every character."""
    cell = _glyph(ch, font, wide, wm, hm, bold)
    block = Image.new("L", cell.size, 255)
    block.paste(0, (0, 0), cell)
    return block


def _draw_glyph(mask: Image.Image, x: int, top: int, g: _Glyph) -> None:
    st = g.style
    shape = (g.ch, st.font, g.wide, min(st.width, 8), min(st.height, 8), st.bold)
    if st.invert:
        mask.paste(_inverted_glyph(*shape), (x, top))
    else:
        cell = _glyph(*shape)
        mask.paste(cell, (x, top), cell)
    if st.underline:  # a filled box: cheaper than an ImageDraw per character
        mask.paste(0 if st.invert else 255,
                   (x, top + g.h - st.underline, x + g.w, top + g.h))


def _string_mask(text: str, font: int = 0) -> Image.Image:
    """A one-line 'L' mask of ``text`` in printer font A (or B)."""
    style = Style(font=font)
    glyphs: list[_Glyph] = []
    x = 0
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in "WF"
        cw, chh = _cell(font, wide)
        glyphs.append(_Glyph(x, ch, style, wide, cw, chh))
        x += cw
    height = _cell(font, False)[1]
    mask = Image.new("L", (max(1, x), height), 0)
    for g in glyphs:
        _draw_glyph(mask, g.x, 0, g)
    return mask


# --------------------------------------------------------------------------- blocks
def _qr_mask(item: QrBlock) -> np.ndarray:
    # Any stream is rendered, not only ours: a level the stream does not name is drawn as L.
    ec = item.ec_level if item.ec_level in ("L", "M", "Q", "H") else "L"
    matrix = np.array(qr_matrix(item.data, ec_level=ec, border=0), dtype=np.uint8)
    size = max(1, min(item.module_size, 16))
    return np.kron(matrix, np.ones((size, size), dtype=np.uint8))


_PYBARCODE_NAMES = {
    "CODE128": "code128",
    "CODE128 AUTO": "code128",
    "GS1-128": "code128",
    "EAN13": "ean13",
    "EAN8": "ean8",
    "UPC-A": "upca",
    "CODE39": "code39",
    "ITF": "itf",
    "CODABAR": "codabar",
}


def _barcode_bars(item: BarcodeBlock) -> str | None:
    """The module pattern ('1' = bar) via python-barcode, or None if unsupported."""
    name = _PYBARCODE_NAMES.get(item.kind)
    if name is None:
        return None
    text = item.display
    try:
        from barcode import get_barcode_class

        cls = get_barcode_class(name)
        if name == "code39":
            code = cls(text.strip("*"), writer=None, add_checksum=False)
        elif name in ("ean13", "ean8", "upca"):
            digits = {"ean13": 12, "ean8": 7, "upca": 11}[name]
            code = cls(text[:digits], writer=None)
        else:
            code = cls(text, writer=None)
        bars = code.build()[0]
    except Exception:  # python-barcode missing or data invalid for the symbology
        return None
    return bars if set(bars) <= {"0", "1"} and bars else None


def _placeholder(label: str, width: int, height: int) -> Image.Image:
    img = Image.new("L", (max(width, 8), max(height, 8)), 0)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, img.width - 1, img.height - 1), outline=255, width=2)
    for x in range(-img.height, img.width, 12):  # light hatching
        draw.line((x, img.height, x + img.height, 0), fill=70, width=1)
    text = _string_mask(label)
    if text.width > img.width - 8:
        text = text.crop((0, 0, img.width - 8, text.height))
    pos = ((img.width - text.width) // 2, (img.height - text.height) // 2)
    img.paste(0, (pos[0] - 4, pos[1] - 2, pos[0] + text.width + 4, pos[1] + text.height + 2))
    img.paste(255, pos, text)
    return img


def _barcode_image(item: BarcodeBlock, avail: int) -> Image.Image:
    if item.height == 0:  # a 2-D symbol other than QR
        return _placeholder(f"[{item.kind}]", min(avail, 200), 120)
    bars = _barcode_bars(item)
    height = max(1, item.height)
    if bars is None:
        body = _placeholder(f"BARCODE {item.kind}", min(avail, 300), min(height, 120))
    else:
        module = max(1, item.module_width)
        while module > 1 and len(bars) * module > avail:
            module -= 1
        row = np.repeat(np.frombuffer(bars.encode(), dtype=np.uint8) == ord("1"), module)
        body = Image.fromarray((np.tile(row, (height, 1)) * 255).astype(np.uint8), "L")
    if not item.hri:
        return body
    hri = _string_mask(item.display, item.hri_font)
    parts = ([hri] if item.hri & 1 else []) + [body] + ([hri] if item.hri & 2 else [])
    width = max(p.width for p in parts)
    gap = 4
    out = Image.new("L", (width, sum(p.height for p in parts) + gap * (len(parts) - 1)), 0)
    y = 0
    for p in parts:
        out.paste(p, ((width - p.width) // 2, y))
        y += p.height + gap
    return out


def _block_image(item: GraphicItem, avail: int, warnings: list[str]) -> Image.Image:
    if isinstance(item, ImageBlock):
        if item.width == 0 or item.height == 0:
            return Image.new("L", (1, 1), 0)
        arr = item.to_array()[:, : max(1, avail)]
        return Image.fromarray((arr * 255).astype(np.uint8), "L")
    if isinstance(item, QrBlock):
        try:
            arr = _qr_mask(item)
        except Exception as exc:  # data too long for any QR version, etc.
            warnings.append(f"QR code could not be drawn: {exc}")
            return _placeholder("[QR]", min(avail, 200), 200)
        if arr.shape[1] > avail:
            warnings.append(f"QR code is {arr.shape[1]} dots wide, wider than the paper")
        return Image.fromarray(arr * 255, "L")
    if isinstance(item, BarcodeBlock):
        return _barcode_image(item, avail)
    return _placeholder(item.label, min(avail, max(120, _cells(item.label) * 12 + 24)), 48)


# --------------------------------------------------------------------------- PNG
class _DrawBudget:
    """What drawing one stream has cost so far, against the MAX_DRAWN_* and glyph limits."""

    def __init__(self) -> None:
        self.pixels = 0
        self.shapes: set[tuple[str, int, bool, int, int, bool]] = set()
        self.qr_codes = 0
        self.qr_bytes = 0
        self.qr_warned = False

    def spend(self, pixels: int) -> None:
        self.pixels += pixels
        if self.pixels > MAX_DRAWN_PIXELS:
            raise StreamTooLarge("pixels to draw", MAX_DRAWN_PIXELS)

    def text(self, row: _TextRow) -> None:
        for g in row.glyphs:
            st = g.style
            self.shapes.add((g.ch, st.font, g.wide, min(st.width, 8), min(st.height, 8),
                             st.bold))
            self.spend(g.w * g.h)
        if len(self.shapes) > MAX_GLYPH_SHAPES:
            raise StreamTooLarge("different character shapes to draw", MAX_GLYPH_SHAPES)

    def block_image(self, row: _BlockRow, warnings: list[str]) -> Image.Image:
        """The block's image, no wider than the paper (only that much is ever pasted)."""
        item = row.item
        if isinstance(item, QrBlock):
            self.qr_codes += 1
            self.qr_bytes += len(item.data)
            if self.qr_codes > MAX_DRAWN_QR_CODES or self.qr_bytes > MAX_DRAWN_QR_BYTES:
                if not self.qr_warned:
                    self.qr_warned = True
                    warnings.append(
                        f"more than {MAX_DRAWN_QR_CODES} QR codes or {MAX_DRAWN_QR_BYTES} "
                        "bytes of QR data: the rest are drawn as boxes (--text shows them)")
                return _placeholder("[QR]", min(row.avail, 200), 200)
        image = _block_image(item, row.avail, warnings)
        if image.width > row.avail:
            image = image.crop((0, 0, row.avail, image.height))
        return image


def _png_from_elements(elements: list[Element], paper_dots: int) -> tuple[Image.Image, list[str]]:
    paper_dots = max(48, min(paper_dots, 4096))
    layout = _layout(elements, paper_dots)
    warnings: list[str] = []
    # measure
    placed: list[tuple[_Row, int, Image.Image | None]] = []
    y = 0
    budget = _DrawBudget()
    for row in layout.rows:
        block_img: Image.Image | None = None
        if isinstance(row, _TextRow | _FeedRow):
            advance = row.dots
        elif isinstance(row, _BlockRow):
            block_img = budget.block_image(row, warnings)
            advance = block_img.height
        else:
            advance = CUT_ROW_HEIGHT
        if y + advance > MAX_PNG_HEIGHT:
            warnings.append(f"output longer than {MAX_PNG_HEIGHT} dots; the rest is not drawn")
            break
        if isinstance(row, _TextRow):
            budget.text(row)
        elif block_img is not None:
            budget.spend(block_img.width * block_img.height)
        placed.append((row, y, block_img))
        y += advance
    width = paper_dots + 2 * SIDE_MARGIN
    height = TOP_MARGIN + y + BOTTOM_MARGIN
    mask = Image.new("L", (width, height), 0)
    cut_ys: list[tuple[int, bool]] = []
    for row, row_y, block_img in placed:
        top = TOP_MARGIN + row_y
        if isinstance(row, _TextRow):
            for g in row.glyphs:
                _draw_glyph(mask, SIDE_MARGIN + g.x, top + row.height - g.h, g)
        elif isinstance(row, _BlockRow) and block_img is not None:
            spare = max(0, row.avail - block_img.width)
            pad = {"center": spare // 2, "right": spare}.get(row.align, 0)
            visible = block_img.crop((0, 0, min(block_img.width, row.avail), block_img.height))
            mask.paste(visible, (SIDE_MARGIN + row.left + pad, top))
        elif isinstance(row, _CutRow):
            cut_ys.append((top + CUT_ROW_HEIGHT // 2, row.partial))
    paper = Image.new("RGB", (width, height), PAPER_COLOR)
    paper.paste(INK_COLOR, (0, 0), mask)
    draw = ImageDraw.Draw(paper)
    draw.rectangle((0, 0, width - 1, height - 1), outline=EDGE_COLOR)
    scissors = _symbol_font(22)
    for cut_y, partial in cut_ys:
        dash, gap = (10, 6) if not partial else (4, 6)
        for x in range(30, width, dash + gap):
            draw.line((x, cut_y, min(x + dash, width - 1), cut_y), fill=CUT_COLOR, width=2)
        if scissors is not None:
            draw.text((4, cut_y), "✂", fill=CUT_COLOR, font=scissors, anchor="lm")
    return paper, warnings


def render_png(data: bytes, *, paper_dots: int = 576, chinese_default: bool = True) -> Image.Image:
    """Draw the stream as a receipt: ``paper_dots`` printable (576 = 80 mm, 384 = 58 mm).

    Font A glyphs are 12x24 dots (24x24 for Chinese), scaled by double width/height;
    bold, underline, inverse and alignment are honoured; QR codes are real and decodable
    at the stream's module size and error-correction level; images are drawn 1:1.
    ``chinese_default`` as for :func:`render_text`.  Output longer than
    ``MAX_PNG_HEIGHT`` dots is cut off.  Raises :class:`StreamTooLarge` for a stream
    beyond the parser's limits or the drawing's.
    """
    return _png_from_elements(parse(data, chinese_default), paper_dots)[0]


def render_both(
    data: bytes, *, columns: int, paper_dots: int | None, chinese_default: bool = True
) -> tuple[Rendered, Image.Image | None]:
    """The text and, unless ``paper_dots`` is None, the drawing of one stream, parsed once.

    The drawing's warnings that the text did not already give are added to the text's
    ``warnings``, so a caller reports each problem once.  Raises :class:`StreamTooLarge`
    as :func:`render_png` does, before anything is returned.
    """
    elements = parse(data, chinese_default)
    rendered = _text_from_elements(elements, columns)
    if paper_dots is None:
        return rendered, None
    image, png_warnings = _png_from_elements(elements, paper_dots)
    rendered.warnings.extend(w for w in _capped(png_warnings) if w not in rendered.warnings)
    return rendered, image
