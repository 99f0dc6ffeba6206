"""What goes on paper, independent of any printer.

The domain builds a `PrintDocument` (tickets, receipts, test pages); the printer layer turns
it into ESC/POS bytes for one printer's profile (paper width, character set, native QR or
not). Keeping the layout free of bytes lets the same document be drawn on screen, tested
without a printer, and printed on 58 mm and 80 mm paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Align(Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Text:
    """One paragraph; the printer layer wraps it to the paper width (in cells)."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    underline: bool = False
    width: int = 1  # character magnification, 1..8
    height: int = 1


@dataclass(frozen=True)
class KeyValue:
    """`label ..... value` on one line when it fits, else label then value right-aligned."""

    label: str
    value: str
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    """A separator line across the paper."""

    char: str = "-"


@dataclass(frozen=True)
class Qr:
    """A QR code, centred. `data` must be ASCII (see payloads: pyzbar misreads UTF-8)."""

    data: str
    module_size: int = 6  # dots per module
    ec_level: str = "M"  # L, M, Q, H


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    pass


Block = Text | KeyValue | Rule | Qr | Feed | Cut


@dataclass
class PrintDocument:
    """An ordered list of blocks; `kind` names the document in logs and statistics."""

    kind: str
    blocks: list[Block] = field(default_factory=list)
    language: str = "zh"

    def add(self, *blocks: Block) -> PrintDocument:
        self.blocks.extend(blocks)
        return self

    def plain_text(self) -> str:
        """The document's words, for logs of what was printed (already masked upstream)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Text):
                out.append(b.text)
            elif isinstance(b, KeyValue):
                out.append(f"{b.label} {b.value}")
            elif isinstance(b, Qr):
                out.append(f"[QR] {b.data}")
        return "\n".join(out)
