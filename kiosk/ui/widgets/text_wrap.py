"""Line breaking for the screen's own wrapping (WrapButton): where Chinese, English and mixed
text may break, and the text with line breaks that fit a width.

Qt's word wrap breaks only at spaces and knows no 禁则; these rules break between CJK
characters too, and never put closing punctuation at a line's start (the shared sets are in
kiosk.common.linebreak, which the printer's layout uses as well).
"""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics

from kiosk.common.linebreak import NO_LINE_END, NO_LINE_START


def _breakable_after(ch: str) -> bool:
    """Whether a line may break after `ch` without a space: after a CJK character."""
    return ord(ch) >= 0x2E80 and ch not in NO_LINE_END


def break_units(paragraph: str) -> list[str]:
    """`paragraph` cut where a line may break: after spaces (kept with the word before),
    between CJK characters, never before closing punctuation."""
    units: list[str] = []
    current = ""
    for i, ch in enumerate(paragraph):
        current += ch
        nxt = paragraph[i + 1] if i + 1 < len(paragraph) else ""
        if not nxt or nxt in NO_LINE_START:
            continue
        if (ch == " " and nxt != " ") or (_breakable_after(ch) and nxt != " ") or (
                ord(nxt) >= 0x2E80 and ch not in NO_LINE_END and ch != " "):
            units.append(current)
            current = ""
    if current:
        units.append(current)
    return units


def wrap_text(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text` with line breaks so that every line fits `width` pixels where it can (a single
    word wider than `width` stays whole). Explicit line breaks are kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for unit in break_units(paragraph):
            candidate = line + unit
            if line and metrics.horizontalAdvance(candidate.rstrip(" ")) > width:
                lines.append(line.rstrip(" "))
                line = unit
            else:
                line = candidate
        lines.append(line.rstrip(" "))
    return "\n".join(lines)
