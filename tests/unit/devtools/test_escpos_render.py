"""The ESC/POS renderer (`kiosk receipt-render`): text, QR codes, images and cuts as on paper.

Streams are produced at test time, mostly by python-escpos itself (``Dummy`` printer),
so the tests check that what the kiosk sends is what a person would read on paper.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from escpos.printer import Dummy
from PIL import Image, ImageDraw
from pyzbar.pyzbar import decode as zbar_decode

from kiosk.cli.dev import main_render_command
from kiosk.devtools.escpos_render import (
    BOTTOM_MARGIN,
    CUT_COLOR,
    SIDE_MARGIN,
    TOP_MARGIN,
    ImageBlock,
    QrBlock,
    render_png,
    render_text,
)

ESC, GS, FS, LF = b"\x1b", b"\x1d", b"\x1c", b"\n"


def _ink(img: Image.Image) -> np.ndarray:
    """Boolean mask of printed (dark) pixels."""
    return np.asarray(img.convert("L")) < 110


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def _sample_ticket(image: bool = True) -> bytes:
    p = Dummy()
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text("徐汇区行政服务中心\n")
    p.set(align="center", normal_textsize=True, bold=False)
    p.text("取号 A023\n")
    p.set(align="left", underline=1)
    p.text("业务: 不动产登记\n")
    p.set(underline=0)
    p.qr("A023", native=True, size=3)
    if image:
        logo = Image.new("1", (16, 8), 1)
        ImageDraw.Draw(logo).rectangle((2, 2, 12, 6), fill=0)
        p.image(logo, impl="bitImageRaster")
    p.barcode("{BA023", "CODE128", function_type="B")
    p.cut()
    return p.output


# --------------------------------------------------------------------------- text


def test_python_escpos_chinese_text_without_fs_ampersand() -> None:
    p = Dummy()
    p.text("上海市 取号 A001\n")
    assert FS + b"&" not in p.output  # python-escpos 3.1 relies on power-on Chinese mode
    result = render_text(p.output)
    assert result.text == "上海市 取号 A001"
    assert result.warnings == []


def test_chinese_default_false_means_western_printer() -> None:
    p = Dummy()
    p.text("上海\n")
    assert "上海" not in render_text(p.output, chinese_default=False).text
    # ... but an explicit FS & still switches a Western-default printer to GB18030
    assert render_text(FS + b"&" + p.output, chinese_default=False).text == "上海"


def test_esc_at_returns_to_the_default_chinese_mode() -> None:
    gb = "中".encode("gb18030")
    data = FS + b"." + ESC + b"t\x10" + gb + LF + ESC + b"@" + gb + LF
    lines = render_text(data).text.split("\n")
    assert lines[0] != "中"  # FS . : decoded with the code page
    assert lines[1] == "中"  # ESC @ restores chinese_default=True


def test_fs_and_code_page_switching_by_hand() -> None:
    data = (
        ESC
        + b"@"
        + ESC
        + b"t\x10"
        + b"\x80 5"
        + LF  # CP1252: 0x80 is the euro sign
        + FS
        + b"&"
        + "办事指南".encode("gb18030")
        + FS
        + b"."
        + LF
        + b"\x80"
        + LF  # back in code-page mode
    )
    result = render_text(data, chinese_default=False)
    assert result.text.split("\n") == ["€ 5", "办事指南", "€"]
    assert result.warnings == []


@pytest.mark.parametrize(
    ("page", "byte", "expected"),
    [(0, 0x9C, "£"), (2, 0xD5, "ı"), (19, 0xD5, "€"), (16, 0x80, "€"), (17, 0x80, "А")],
)
def test_code_pages(page: int, byte: int, expected: str) -> None:
    data = ESC + b"t" + bytes([page, byte]) + LF
    assert render_text(data, chinese_default=False).text == expected


def test_four_byte_gb18030() -> None:
    data = ("𠮷野家 €".encode("gb18030")) + LF
    assert len("𠮷".encode("gb18030")) == 4
    result = render_text(data)
    assert result.text == "𠮷野家 €"
    assert result.warnings == []


def test_python_escpos_latin_text_and_invalid_gb18030_fallback() -> None:
    p = Dummy()
    p.text("Café €\n")  # python-escpos: ESC t 0 ... 0x82 ... ESC t 15 0xA4
    western = render_text(p.output, chinese_default=False)
    assert western.text == "Café €"
    assert western.warnings == []
    chinese = render_text(p.output)  # 0x82 0x20 is not GB18030: code page fallback + warning
    assert chinese.text == "Café €"
    assert any("invalid GB18030" in w and "at byte" in w for w in chinese.warnings)


@pytest.mark.parametrize(
    ("align", "expected_pad"),
    [(b"\x00", 0), (b"\x01", 13), (b"\x02", 27), (b"1", 13), (b"2", 27)],
)
def test_alignment_counts_cjk_as_two_cells(align: bytes, expected_pad: int) -> None:
    data = ESC + b"a" + align + "取号A".encode("gb18030") + LF  # 2 + 2 + 1 = 5 cells
    assert render_text(data, columns=32).text == " " * expected_pad + "取号A"


def test_alignment_with_double_width_cjk() -> None:
    data = ESC + b"a\x01" + GS + b"!\x10" + "取号".encode("gb18030") + LF  # 8 cells
    assert render_text(data, columns=32).text == " " * 12 + "取号"


def test_line_feeds() -> None:
    data = b"A" + ESC + b"d\x03" + b"B" + LF + LF + b"C\r\n" + b"D" + ESC + b"J\x3c" + b"E\n"
    assert render_text(data).text.split("\n") == ["A", "", "", "B", "", "C", "D", "", "E"]


def test_long_lines_wrap_at_the_paper_width() -> None:
    assert render_text(b"x" * 50 + LF, columns=48).text == "x" * 48 + "\n" + "xx"


def test_tabs_and_absolute_position() -> None:
    data = b"ab\tc" + LF + ESC + b"$\x3c\x00" + b"X" + LF  # ESC $ 60 dots = 5 cells
    assert render_text(data).text.split("\n") == ["ab      c", "     X"]


# --------------------------------------------------------------------------- QR, images


@pytest.mark.parametrize(("ec", "level"), [(0, "L"), (1, "M"), (2, "Q"), (3, "H")])
def test_native_qr_from_python_escpos_is_decodable(ec: int, level: str) -> None:
    payload = "https://zwdt.sh.gov.cn/q?t=A023&n=一网通办"
    p = Dummy()
    p.text("扫码查看排队进度\n")
    p.qr(payload, native=True, size=5, ec=ec)
    p.text("end\n")
    result = render_text(p.output)
    assert result.qr_codes == [QrBlock(payload.encode("utf-8"), 5, level)]
    assert f"[QR] {payload}" in result.text.split("\n")

    image = render_png(p.output)
    decoded = zbar_decode(image)
    assert [d.data.decode("utf-8") for d in decoded if d.type == "QRCODE"] == [payload]
    import qrcode

    qr = qrcode.QRCode(error_correction={"L": 1, "M": 0, "Q": 3, "H": 2}[level], border=0)
    qr.add_data(payload.encode("utf-8"))
    qr.make(fit=True)
    modules = len(qr.get_matrix())
    (symbol,) = [d for d in decoded if d.type == "QRCODE"]
    assert abs(symbol.rect.width - modules * 5) <= 2  # drawn at the stream's module size


def test_native_qr_decodes_with_zxing_too() -> None:
    p = Dummy()
    p.set(align="center")
    p.qr("A023|2024-05-01", native=True, size=8, ec=3)
    found = zxingcpp.read_barcodes(render_png(p.output))
    assert [r.text for r in found] == ["A023|2024-05-01"]


def _pattern() -> Image.Image:
    img = Image.new("1", (45, 21), 1)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 44, 20), outline=0)
    draw.rectangle((5, 4, 17, 15), fill=0)
    draw.line((20, 2, 40, 18), fill=0)
    return img


@pytest.mark.parametrize("impl", ["bitImageRaster", "graphics", "bitImageColumn"])
def test_images_from_python_escpos_land_in_the_png(impl: str) -> None:
    src = _pattern()
    want = np.asarray(src.convert("L")) < 128
    p = Dummy()
    p.image(src, impl=impl)
    result = render_text(p.output)
    (block,) = result.images
    assert isinstance(block, ImageBlock)
    got = block.to_array().astype(bool)
    assert np.array_equal(got[: want.shape[0], : want.shape[1]], want)
    assert not got[want.shape[0] :, :].any() and not got[:, want.shape[1] :].any()
    assert f"[IMAGE {block.width}x{block.height}]" in result.text

    ink = _ink(render_png(p.output))
    x0, y0, _, _ = _bbox(ink)
    assert (x0, y0) == (SIDE_MARGIN, TOP_MARGIN)  # left-aligned, first thing on the paper
    assert np.array_equal(ink[y0 : y0 + want.shape[0], x0 : x0 + want.shape[1]], want)


def test_raster_image_scaling_and_alignment() -> None:
    # GS v 0 m=3 (double width and height), centred, one byte wide, two rows
    data = ESC + b"a\x01" + GS + b"v0\x03\x01\x00\x02\x00" + b"\xf0\x0f"
    (block,) = render_text(data).images
    assert (block.width, block.height) == (16, 4)
    ink = _ink(render_png(data, paper_dots=384))
    x0, y0, x1, y1 = _bbox(ink)
    assert (x1 - x0 + 1, y1 - y0 + 1) == (16, 4)
    assert x0 == SIDE_MARGIN + (384 - 16) // 2


# --------------------------------------------------------------------------- PNG look


def test_png_is_paper_sized_and_draws_double_size_bold_underline() -> None:
    normal = render_png(b"HH" + LF)
    assert normal.width == 576 + 2 * SIDE_MARGIN
    assert render_png(b"HH" + LF, paper_dots=384).width == 384 + 2 * SIDE_MARGIN
    corner = normal.convert("RGB").getpixel((5, 5))
    assert min(corner) > 235 and corner != (255, 255, 255)  # off-white paper

    big = render_png(GS + b"!\x11" + b"HH" + LF)
    nx0, ny0, nx1, ny1 = _bbox(_ink(normal))
    bx0, by0, bx1, by1 = _bbox(_ink(big))
    assert 1.7 < (by1 - by0) / (ny1 - ny0) < 2.3
    assert 1.7 < (bx1 - bx0) / (nx1 - nx0) < 2.3

    bold = render_png(ESC + b"E\x01" + b"HH" + LF)
    assert _ink(bold).sum() > _ink(normal).sum() * 1.2

    underlined = _ink(render_png(ESC + b"-\x01" + b"HH" + LF))
    widest_run = max(int(row.sum()) for row in underlined)
    assert widest_run >= 24  # a continuous line under both 12-dot characters


def test_chinese_glyphs_are_24_dots_wide() -> None:
    ink = _ink(render_png(b"|" + "国国国国".encode("gb18030") + b"|" + LF))
    x0, _, x1, _ = _bbox(ink)
    assert 4 * 24 <= x1 - x0 <= 4 * 24 + 12 + 2


def test_render_png_of_a_whole_ticket() -> None:
    image = render_png(_sample_ticket())
    assert image.height > TOP_MARGIN + BOTTOM_MARGIN + 200
    assert [d.data for d in zbar_decode(image) if d.type == "QRCODE"] == [b"A023"]


# --------------------------------------------------------------------------- cut, barcode


def test_cut_from_python_escpos_and_other_cut_commands() -> None:
    p = Dummy()
    p.text("ticket\n")
    p.cut()
    result = render_text(p.output, columns=32)
    assert result.cuts == 1
    lines = result.text.split("\n")
    assert lines[0] == "ticket"
    assert lines[-1].startswith("-" * 10) and "✂" in lines[-1] and len(lines[-1]) == 32
    others = b"a\n" + ESC + b"i" + b"b\n" + ESC + b"m" + GS + b"V\x41\x10" + GS + b"VB\x00"
    assert render_text(others).cuts == 4

    rgb = np.asarray(render_png(p.output).convert("RGB")).astype(int)
    grey = (np.abs(rgb - np.array(CUT_COLOR)).sum(axis=2) < 30).sum(axis=1)
    assert grey.max() > 300  # a dashed line across the paper


def test_barcode_from_python_escpos() -> None:
    p = Dummy()
    p.barcode("{B012345", "CODE128", function_type="B")
    p.barcode("4006381333931", "EAN13")
    result = render_text(p.output)
    lines = result.text.split("\n")
    assert "[BARCODE CODE128 012345]" in lines[0]
    assert "[BARCODE EAN13 4006381333931]" in lines[1]
    found = {(r.format.name, r.text) for r in zxingcpp.read_barcodes(render_png(p.output))}
    assert ("Code128", "012345") in found
    assert ("EAN13", "4006381333931") in found


def test_other_2d_symbols_are_labelled() -> None:
    data = GS + b"(k\x0b\x00" + b"0P0" + b"PDF-DATA" + GS + b"(k\x03\x00" + b"0Q0" + LF
    assert render_text(data).text.split("\n")[0] == "[PDF417] PDF-DATA"


# --------------------------------------------------------------------------- robustness


def test_unknown_command_warns_and_rendering_continues(tmp_path: Path) -> None:
    data = b"AB" + ESC + b"\x99" + b"CD" + LF + GS + b"\xee" + "完".encode("gb18030") + LF
    result = render_text(data)
    assert result.text.split("\n") == ["ABCD", "完"]
    assert "skipped unknown command 1B 99 at byte 2" in result.warnings
    assert "skipped unknown command 1D EE at byte 7" in result.warnings


def test_esc_at_discards_an_unprinted_line_and_says_so() -> None:
    result = render_text(b"lost" + ESC + b"@" + b"kept" + LF + b"tail")
    assert result.text.split("\n") == ["kept", "tail"]
    assert any("ESC @ at byte 4 discards" in w for w in result.warnings)
    assert any("without LF" in w for w in result.warnings)


def test_every_prefix_of_a_real_stream_renders() -> None:
    data = _sample_ticket()
    for end in range(len(data) + 1):
        render_text(data[:end])
    for end in range(0, len(data) + 1, max(1, len(data) // 25)):
        render_png(data[:end])
    truncated = render_text(data[: data.index(b"1P0") + 3])  # inside the QR store command
    assert any("truncated" in w for w in truncated.warnings)


def test_random_bytes_never_raise() -> None:
    rng = random.Random(20240501)
    specials = [0x1B, 0x1D, 0x1C, 0x10, 0x0A, 0x28, 0x6B, 0x4C, 0x76, 0x30, 0x81, 0xFE]
    for i in range(400):
        length = rng.randrange(0, 300)
        if i % 2:
            data = bytes(rng.randrange(256) for _ in range(length))
        else:  # biased towards command bytes, to reach deeper into the parser
            data = bytes(
                rng.choice(specials) if rng.random() < 0.4 else rng.randrange(256)
                for _ in range(length)
            )
        result = render_text(data, columns=rng.choice([32, 42, 48]))
        assert isinstance(result.text, str)
        if i % 10 == 0:
            render_png(data, paper_dots=rng.choice([384, 576]))


def test_huge_declared_sizes_do_not_allocate_or_crash() -> None:
    data = GS + b"v0\x03\xff\xff\xff\xff" + b"\xff" * 64 + ESC + b"d\xff" * 40
    result = render_text(data)
    assert any("truncated raster image" in w for w in result.warnings)
    image = render_png(data)
    assert image.height <= 30_000 + TOP_MARGIN + BOTTOM_MARGIN


# --------------------------------------------------------------------------- CLI


def test_main_render_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "ticket.bin"
    src.write_bytes(_sample_ticket() + ESC + b"\x99")
    out = tmp_path / "ticket.png"
    code = main_render_command(
        str(src), text=True, out=str(out), columns=48, paper_dots=576, chinese_default=True
    )
    captured = capsys.readouterr()
    assert code == 0
    assert "取号 A023" in captured.out
    assert "[QR] A023" in captured.out
    assert "render: skipped unknown command 1B 99 at byte" in captured.err
    with Image.open(out) as png:
        assert png.width == 576 + 2 * SIDE_MARGIN


def test_main_render_command_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main_render_command(
        str(tmp_path / "missing.bin"),
        text=True,
        out=None,
        columns=48,
        paper_dots=576,
        chinese_default=True,
    )
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "cannot read" in captured.err
    assert "Traceback" not in captured.err
