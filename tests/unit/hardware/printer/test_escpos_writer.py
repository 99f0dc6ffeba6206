"""The ESC/POS encoder: exact bytes where they matter, and what a person reads on paper.

Paper is checked through `kiosk/devtools/escpos_render.py` (an independent decoder): text read
back, QR data read back, images counted. Bytes are checked directly for the Chinese-mode
switching, charset choices, sizes and raster fragmenting.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from pyzbar import pyzbar

from kiosk.config.schema import EmulatedPrinterConfig, UsbPrinterConfig
from kiosk.devtools.escpos_render import render_png, render_text
from kiosk.domain.printdoc import Align, Cut, Feed, KeyValue, PrintDocument, Qr, Rule, Text
from kiosk.domain.ticket import TicketView, ticket_document
from kiosk.hardware.printer.escpos_layout import PrinterProfile, wrap
from kiosk.hardware.printer.escpos_writer import GbEncoder, encode_document, in_printer_font
from kiosk.hardware.printer.raster import encode_raster_document

INIT = b"\x1b@"
FEED_OFF = b"\x1bc5\x01"
ON, OFF = b"\x1c&", b"\x1c."
GS_V0 = b"\x1dv0"
NATIVE_QR = b"\x1d(k"
CUT = b"\x1dVB\x00"

P80 = PrinterProfile(columns=48, paper_dots=576)
P58 = PrinterProfile(columns=32, paper_dots=384)
PAYLOAD = ("SHKQ1." + "Ab3dEf7hJk9mNp2qRs4tUv6wXy8z" * 6)[:150]  # ASCII, like a signed token


def plain(charset: str = "GB2312", **kw: object) -> PrinterProfile:
    """A profile whose output starts with ESC @ only, for exact-byte tests."""
    return PrinterProfile(font_charset=charset, disable_feed_button=False, **kw)  # type: ignore[arg-type]


def body(doc: PrintDocument, profile: PrinterProfile) -> bytes:
    data = encode_document(doc, profile)
    assert data.startswith(INIT)
    return data[len(INIT) :]


def text_doc(*blocks: object) -> PrintDocument:
    return PrintDocument(kind="t", blocks=list(blocks))  # type: ignore[arg-type]


def cells(s: str) -> int:
    return sum(1 if ord(c) < 0x80 else 2 for c in s)


def ticket(name: str = "张*明", *, center: str = "徐汇区示范街道社区事务受理服务中心",
           priority: str = "") -> PrintDocument:
    view = TicketView(
        center_name=center, number="A023", category_title="户籍办理", priority_reason=priority,
        ahead=5, estimated_wait_min=15, issued_at=dt.datetime(2024, 5, 6, 9, 30),
        masked_name=name, tracking_code=PAYLOAD,
    )
    return ticket_document(view)


def lines_of(data: bytes, columns: int) -> list[str]:
    rendered = render_text(data, columns=columns)
    assert rendered.warnings == []
    return rendered.text.split("\n")


# --------------------------------------------------------------------------- bytes


def test_document_starts_with_init_and_disables_the_feed_button() -> None:
    data = encode_document(text_doc(Text("A")), P80)
    assert data.startswith(INIT + FEED_OFF)
    assert FEED_OFF not in encode_document(text_doc(Text("A")), plain())


def test_chinese_mode_is_entered_before_gb_bytes_and_left_before_ascii() -> None:
    got = body(text_doc(Text("号码A1：")), plain())
    assert got == ON + "号码".encode("gb2312") + OFF + b"A1" + ON + b"\xa3\xba" + b"\n"


def test_punctuation_only_text_goes_in_chinese_mode() -> None:
    assert body(text_doc(Text("：")), plain()) == ON + b"\xa3\xba\n"


@pytest.mark.parametrize("charset", ["GB2312", "GBK", "GB18030"])
def test_single_byte_symbols_go_as_their_double_byte_gb2312_forms(charset: str) -> None:
    got = body(text_doc(Text("¥5·")), plain(charset))
    assert got == ON + b"\xa3\xa4" + OFF + b"5" + ON + b"\xa1\xa4" + b"\n"


def test_chinese_mode_is_not_resent_while_unchanged() -> None:
    got = body(text_doc(Text("上海"), Text("浦东")), plain())
    assert got.count(ON) == 1 and OFF not in got


@pytest.mark.parametrize(
    ("char", "charset", "expected"),
    [
        ("中", "GB2312", b"\xd6\xd0"),
        ("堃", "GB2312", None),  # GBK only
        ("堃", "GBK", "堃".encode("gbk")),
        ("䶮", "GBK", None),  # FE9F: not in printers' GBK fonts
        ("䶮", "GB18030", b"\xfe\x9f"),
        ("𠮷", "GBK", None),
        ("𠮷", "GB18030", b"\x95\x34\xb2\x35"),
        ("\ue000", "GB18030", None),  # private use -> user-defined area AAA1
        ("€", "GB2312", None),
    ],
)
def test_characters_are_encoded_strictly_for_the_declared_font(
    char: str, charset: str, expected: bytes | None
) -> None:
    assert GbEncoder(charset).encode_char(char) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "gbk", "gb18030"),
    [
        ("b0a1", True, True),  # 啊
        ("8140", True, True),  # 丂, GBK/3
        ("fe9f", False, True),  # 䶮: GB18030-2005 only
        ("aaa1", False, False),  # user-defined area 1
        ("f8a1", False, False),  # user-defined area 2
        ("a140", False, False),  # user-defined area 3
    ],
)
def test_gbk_user_defined_areas_are_not_in_the_font(code: str, gbk: bool, gb18030: bool) -> None:
    raw = bytes.fromhex(code)
    assert (in_printer_font(raw, "GBK"), in_printer_font(raw, "GB18030")) == (gbk, gb18030)


def test_four_byte_gb18030_goes_as_text_on_a_gb18030_printer() -> None:
    got = body(text_doc(Text("𠮷")), plain("GB18030"))
    assert got == ON + b"\x95\x34\xb2\x35\n"


@pytest.mark.parametrize(("charset", "rare"), [("GB2312", "堃"), ("GBK", "䶮"), ("GBK", "𠮷")])
def test_a_line_with_a_missing_character_becomes_an_image(charset: str, rare: str) -> None:
    got = body(text_doc(Text("姓名"), Text(f"吉{rare}"), Text("OK")), plain(charset))
    before, after = ON + "姓名".encode("gb2312") + b"\n", OFF + b"OK\n"
    assert got.startswith(before) and got.endswith(after)
    image = got[len(before) : -len(after)]  # the whole middle line, nothing else
    assert image.startswith(GS_V0) and image.endswith(b"\x1bJ\x06")  # + the line gap
    image = image[:-3]
    width_bytes, rows = image[4] | image[5] << 8, image[6] | image[7] << 8
    assert rows == 24 and len(image) == 8 + width_bytes * rows


def test_control_characters_in_text_cannot_become_commands() -> None:
    got = body(text_doc(Text("A\x1b@B\x1dV\x00C")), plain())
    assert got == OFF + b"A@BVC\n"


def test_styles_sizes_alignment_feed() -> None:
    got = body(
        text_doc(Text("X", Align.RIGHT, bold=True, underline=True, width=3, height=2), Feed(3)),
        plain(),
    )
    assert got.startswith(b"\x1ba\x02")
    for command in (b"\x1bE\x01", b"\x1b-\x01", b"\x1c-\x01", b"\x1d!\x21"):
        assert command in got
    assert got.endswith(b"X\n\x1bd\x03")


@pytest.mark.parametrize(
    ("cutter", "ending", "cuts"), [(True, b"\x1bd\x01" + CUT, 1), (False, b"\x1bd\x05", 0)]
)
def test_cut_only_with_a_cutter(cutter: bool, ending: bytes, cuts: int) -> None:
    data = encode_document(text_doc(Text("A"), Cut()), PrinterProfile(cutter=cutter))
    assert data.endswith(ending)
    assert render_text(data).cuts == cuts


def test_native_qr_is_centred_with_esc_a() -> None:
    data = body(text_doc(Qr(PAYLOAD, module_size=5, ec_level="Q")), plain())
    quiet = b"\x1bJ\x14"  # 4 modules of 5 dots above and below: the printer adds none
    assert data.startswith(b"\x1ba\x01" + quiet + NATIVE_QR) and data.endswith(quiet)
    assert b"\x1d(k\x03\x001C\x05" in data  # module size
    assert b"\x1d(k\x03\x001E\x32" in data  # error correction Q


def test_qr_data_must_be_ascii() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        encode_document(text_doc(Qr("二维码")), P80)


# --------------------------------------------------------------------------- sizes


@pytest.mark.parametrize("priority", ["", "age"])
@pytest.mark.parametrize("profile", [P80, P58], ids=["80mm", "58mm"])
def test_typical_ticket_is_well_under_800_bytes(profile: PrinterProfile, priority: str) -> None:
    data = encode_document(ticket(priority=priority), profile)
    assert len(data) < 700
    assert GS_V0 not in data and data.count(NATIVE_QR) == 5


@pytest.mark.parametrize("profile", [P80, P58], ids=["80mm", "58mm"])
def test_raster_ticket_is_tens_of_kilobytes_in_small_fragments(profile: PrinterProfile) -> None:
    data = encode_raster_document(ticket(), profile)
    assert 20_000 < len(data) < 120_000
    assert data.endswith(CUT)
    pos, fragments = len(INIT + FEED_OFF), 0
    while data.startswith(GS_V0, pos):
        width_bytes = data[pos + 4] | data[pos + 5] << 8
        rows = data[pos + 6] | data[pos + 7] << 8
        assert width_bytes * 8 <= profile.paper_dots and 0 < rows <= 256
        assert width_bytes * rows <= 65_535
        pos += 8 + width_bytes * rows
        fragments += 1
    assert fragments > 2 and data[pos:] == b"\x1bd\x01" + CUT


def test_raster_ticket_reads_back_with_its_qr() -> None:
    image = render_png(encode_raster_document(ticket(), P58), paper_dots=384)
    assert [c.data.decode() for c in pyzbar.decode(image.convert("L"))] == [PAYLOAD]


# --------------------------------------------------------------------------- paper


@pytest.mark.parametrize("profile", [P80, P58], ids=["80mm", "58mm"])
def test_ticket_reads_back_as_a_person_sees_it(profile: PrinterProfile) -> None:
    cols = profile.columns
    rendered = render_text(encode_document(ticket(), profile), columns=cols)
    assert rendered.warnings == [] and rendered.images == [] and rendered.cuts == 1
    assert [q.data for q in rendered.qr_codes] == [PAYLOAD.encode()]
    lines = rendered.text.split("\n")
    assert any(line.strip() == "A023" for line in lines)
    assert "-" * cols in lines
    kv = next(line for line in lines if line.startswith("取号时间"))
    assert kv.endswith("2024-05-06 09:30") and cells(kv) == cols
    title = next(line for line in lines if "排队取号凭条" in line)
    left = len(title) - len(title.lstrip())
    assert abs(left - (cols - cells(title.strip()) - left)) <= 1


def test_big_number_is_sent_at_four_times_size() -> None:
    data = encode_document(ticket(), P80)
    assert b"\x1d!\x33A023\n" in data


def test_centre_name_wraps_in_balanced_lines_on_58mm() -> None:
    lines = [ln.strip() for ln in lines_of(encode_document(ticket(), P58), 32)]
    name = "徐汇区示范街道社区事务受理服务中心"
    i = next(i for i, ln in enumerate(lines) if ln and name.startswith(ln))
    assert lines[i] + lines[i + 1] == name
    assert abs(len(lines[i]) - len(lines[i + 1])) <= 1


@pytest.mark.parametrize(("profile", "cols"), [(P58, 32), (P80, 48)], ids=["58mm", "80mm"])
def test_text_wraps_at_the_paper_width_in_cells(profile: PrinterProfile, cols: int) -> None:
    doc = text_doc(Text("一" * 30), Text("x" * 60))
    lines = [ln for ln in lines_of(encode_document(doc, profile), cols) if ln]
    assert [cells(ln) for ln in lines] == {
        32: [32, 28, 32, 28], 48: [48, 12, 48, 12]
    }[cols]


def test_ascii_words_are_not_split() -> None:
    assert wrap("Queue ticket for residents", 12) == ["Queue ticket", "for", "residents"]


def test_double_width_text_wraps_at_half_the_columns() -> None:
    data = encode_document(text_doc(Text("一" * 10, width=2)), P58)
    assert data.count("一".encode("gb2312") * 8 + b"\n") == 1  # 8 chars x 2 cells x 2 = 32


def test_key_value_falls_back_to_two_lines_when_it_does_not_fit() -> None:
    doc = text_doc(KeyValue("办理业务", "居民身份证首次申领及换领补领"))
    lines = [ln for ln in lines_of(encode_document(doc, P58), 32) if ln]
    assert lines == ["办理业务", "    居民身份证首次申领及换领补领"]  # right-aligned


def test_key_value_jumps_to_the_value_instead_of_sending_spaces() -> None:
    got = body(text_doc(KeyValue("前面", "5 人")), plain(columns=32))
    x = (32 - 4) * 12  # the value "5 人" is 4 cells wide
    assert got == ON + "前面".encode("gb2312") + b"\x1b$" + x.to_bytes(2, "little") + OFF + (
        b"5 " + ON + "人".encode("gb2312") + b"\n")
    assert lines_of(encode_document(text_doc(KeyValue("前面", "5 人")), P58), 32)[0] == (
        "前面" + " " * 24 + "5 人")


def test_rule_fills_the_line_with_wide_characters_too() -> None:
    lines = lines_of(encode_document(text_doc(Rule("─"), Rule("=")), P58), 32)
    assert lines[:2] == ["─" * 16, "=" * 32]


def test_rare_name_character_is_an_image_strip_and_never_a_question_mark() -> None:
    data = encode_document(ticket(name="张*𠮷"), P80)
    rendered = render_text(data, columns=48)
    assert rendered.warnings == [] and "?" not in rendered.text
    assert [(im.width, im.height) for im in rendered.images] == [(576, 24)]
    assert "取号人" not in rendered.text  # that line is the image ...
    assert "2024-05-06 09:30" in rendered.text  # ... the others stay text
    ink = rendered.images[0].to_array()
    assert ink[:, :72].any() and ink[:, -48:].any()  # label on the left, name on the right
    assert len(data) < 2_600  # one 576 x 24 strip, not a raster ticket


def test_magnified_rare_line_is_taller_and_fits_the_paper() -> None:
    data = encode_document(text_doc(Text("吉𠮷", Align.CENTER, width=2, height=2)), P58)
    (image,) = render_text(data, columns=32).images
    assert image.height == 48 and image.width <= 384
    ink_columns = np.flatnonzero(image.to_array().any(axis=0))
    middle = (ink_columns[0] + ink_columns[-1]) / 2
    assert abs(middle - 192) < 12  # centred as the text would be


def test_image_qr_when_the_printer_has_no_native_qr() -> None:
    profile = PrinterProfile(columns=32, paper_dots=384, native_qr=False)
    data = encode_document(ticket(), profile)
    assert NATIVE_QR not in data and data.count(GS_V0) >= 1
    image = render_png(data, paper_dots=384)
    assert [c.data.decode() for c in pyzbar.decode(image.convert("L"))] == [PAYLOAD]


# --------------------------------------------------------------------------- profile


def test_profile_from_config() -> None:
    p58 = PrinterProfile.from_config(
        EmulatedPrinterConfig(paper_width_mm=58, font_charset="GBK", native_qr=False)
    )
    assert (p58.columns, p58.paper_dots, p58.font_charset, p58.native_qr) == (32, 384, "GBK", False)
    tm88 = PrinterProfile.from_config(
        UsbPrinterConfig(vendor_id=0x04B8, product_id=0x0202, chars_per_line=42, cutter=False)
    )
    assert (tm88.columns, tm88.paper_dots, tm88.cutter, tm88.line_dots) == (42, 576, False, 504)


def test_profile_rejects_an_unknown_charset() -> None:
    with pytest.raises(ValueError, match="font_charset"):
        PrinterProfile(font_charset="BIG5")  # type: ignore[arg-type]
