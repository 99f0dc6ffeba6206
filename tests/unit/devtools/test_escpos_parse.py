"""The ESC/POS parser: styles and sizes decoded into text runs, and commands a kiosk never
sends consumed with their arguments, without a diagnostic."""

from __future__ import annotations

import pytest
from escpos.printer import Dummy

from kiosk.devtools.escpos_parse import Diagnostic, Text, parse
from kiosk.devtools.escpos_render import render_text

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"


def test_styles_are_decoded() -> None:
    p = Dummy()
    p.set(bold=True, underline=1, double_width=True, double_height=True, align="center")
    p.text("BIG\n")
    (run,) = [e for e in parse(p.output) if isinstance(e, Text)]
    assert (run.text, run.align) == ("BIG", "center")
    assert (run.style.bold, run.style.underline, run.style.width, run.style.height) == (
        True,
        1,
        2,
        2,
    )
    # double width: 3 characters take 6 cells, centred on 48 columns
    assert render_text(p.output).text == " " * 21 + "BIG"


def test_gs_and_fs_character_size() -> None:
    wide = "号".encode("gb18030")
    data = GS + b"!\x11" + wide + LF + GS + b"!\x00" + FS + b"!\x0c" + wide + b"A" + LF
    runs = [e for e in parse(data) if isinstance(e, Text)]
    assert [(r.style.width, r.style.height) for r in runs] == [(2, 2), (2, 2), (1, 1)]


HARMLESS = [
    b"\x10\x04\x01",  # DLE EOT n
    b"\x10\x05\x02",  # DLE ENQ n
    b"\x10\x14\x01\x00\x01",  # DLE DC4 1 m t
    ESC + b"c5\x00",
    ESC + b"p\x00\x32\x32",
    GS + b"a\x0f",
    ESC + b"2",
    ESC + b"3\x41",
    ESC + b"M\x00",
    GS + b"B\x00",
    ESC + b"{\x00",
    GS + b"L\x00\x00",
    GS + b"W\x41\x01",
    ESC + b"$\x00\x00",
    ESC + b"\\\x00\x00",
    ESC + b" \x02",
    FS + b"2\xfe\xa1" + bytes(range(0x41, 0x41 + 72)),
    FS + b"S\x01\x02",
    FS + b"C\x01",
    ESC + b"=\x01",
    ESC + b"R\x0f",
    ESC + b"G\x00",
    ESC + b"D\x08\x10\x00",
    GS + b"H\x02",
    GS + b"f\x00",
    GS + b"h\x50",
    GS + b"w\x02",
    GS + b"|\x04",
    GS + b"b\x01",
    GS + b"P\xcb\xcb",
    GS + b"(A\x02\x00\x41\x41",
    GS + b"(k\x04\x001A2\x00",  # QR model
    ESC + b"(A\x04\x00\x30\x41\x41\x41",
    ESC + b"B\x02\x02",
    ESC + b"7\x07\x41\x02",
    FS + b"!\x00",
    FS + b"-\x00",
    FS + b"W\x00",
]


@pytest.mark.parametrize("command", HARMLESS, ids=lambda c: c[:2].hex(" "))
def test_harmless_commands_are_consumed_with_their_arguments(command: bytes) -> None:
    elements = parse(b"O" + command + b"K" + LF)
    assert [e for e in elements if isinstance(e, Diagnostic)] == []
    assert "".join(e.text for e in elements if isinstance(e, Text)) == "OK"
