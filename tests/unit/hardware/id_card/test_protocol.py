"""The reader's frames and the text block, byte for byte against the published examples
(docs/TECHNICIAN.md, "Resident ID card reader", lists the sources)."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.domain import idnumber
from kiosk.domain.id_card import IdCard
from kiosk.hardware.id_card import protocol as p

HEAD = "31010119400506102"
NUMBER = HEAD + idnumber.check_digit(HEAD)
CARD = IdCard(name="李秀英", sex="2", ethnic_code="01", birth_date=dt.date(1940, 5, 6),
              address="上海市黄浦区示范路1号", id_number=NUMBER, authority="上海市公安局黄浦分局",
              valid_from=dt.date(2006, 3, 1), valid_until=None)


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text)


# ------------------------------------------------------------------------------ frames

@pytest.mark.parametrize(("command", "published"), [
    (p.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
    (p.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
    (p.READ_BASE, "AA AA AA 96 69 00 03 30 01 32"),
    (p.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
    (p.READ_SAM_ID, "AA AA AA 96 69 00 03 12 FF EE"),
])
def test_commands_are_the_published_bytes(command, published):
    assert p.encode_command(command) == hexbytes(published)
    assert p.decode_command(hexbytes(published)) == (command, b"")


@pytest.mark.parametrize(("published", "status", "data"), [
    ("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", p.Status.CARD_FOUND, bytes(4)),
    ("AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C", p.Status.OK, bytes(8)),
    ("AA AA AA 96 69 00 04 00 00 80 84", p.Status.FIND_FAILED, b""),
    ("AA AA AA 96 69 00 04 00 00 81 85", p.Status.SELECT_FAILED, b""),
    ("AA AA AA 96 69 00 04 00 00 41 45", p.Status.READ_FAILED, b""),
    ("AA AA AA 96 69 00 04 00 00 90 94", p.Status.OK, b""),
])
def test_published_replies_decode(published, status, data):
    reply = p.decode_reply(hexbytes(published))
    assert (reply.sw1, reply.sw2, reply.status, reply.data) == (0, 0, status, data)
    assert p.encode_reply(status, data) == hexbytes(published)


def test_a_wrong_checksum_is_refused():
    frame = bytearray(hexbytes("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"))
    frame[-1] ^= 0x01
    with pytest.raises(p.ChecksumMismatch):
        p.decode_reply(bytes(frame))
    frame = bytearray(hexbytes("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"))
    frame[9] = 0x90  # a flipped status byte, the checksum left as it was
    with pytest.raises(p.ChecksumMismatch):
        p.decode_reply(bytes(frame))


@pytest.mark.parametrize("cut", [3, 6, 7, 10, 14])
def test_a_truncated_frame_is_refused(cut):
    frame = hexbytes("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
    with pytest.raises((p.TruncatedFrame, p.NoPreamble)):
        p.decode_reply(frame[:cut])


def test_bad_lengths_and_preambles_are_refused():
    with pytest.raises(p.BadLength):
        p.decode_reply(hexbytes("AA AA AA 96 69 00 01 00"))
    with pytest.raises(p.BadLength):
        p.decode_reply(hexbytes("AA AA AA 96 69 FF FF 00"))
    with pytest.raises(p.BadLength):  # a byte beyond the frame's end
        p.decode_reply(hexbytes("AA AA AA 96 69 00 04 00 00 90 94 00"))
    with pytest.raises(p.BadLength):  # a reply needs SW1 SW2 SW3
        p.decode_reply(p.encode_frame(b"\x00\x00"))
    with pytest.raises(p.NoPreamble):
        p.decode_reply(hexbytes("AA AA 96 69 00 04 00 00 90 94"))


def test_an_unknown_status_is_kept_not_guessed():
    reply = p.decode_reply(p.encode_reply(0x55))
    assert reply.status is None and reply.sw3 == 0x55
    assert "unknown status" in reply.describe()


def test_frame_reader_finds_frames_in_noise_and_pieces():
    find = hexbytes("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97")
    none = hexbytes("AA AA AA 96 69 00 04 00 00 80 84")
    stream = b"\x00\xAA\x13" + find + none
    reader = p.FrameReader()
    frames: list[bytes] = []
    for i in range(0, len(stream), 4):  # as a serial port delivers it: a few bytes at a time
        frames += reader.feed(stream[i:i + 4])
    assert frames == [find, none]
    assert reader.dropped == 3 and reader.pending == 0


def test_frame_reader_skips_a_header_with_an_impossible_length():
    good = hexbytes("AA AA AA 96 69 00 04 00 00 80 84")
    reader = p.FrameReader()
    assert reader.feed(hexbytes("AA AA AA 96 69 7F FF") + good) == [good]


def test_frame_reader_keeps_a_preamble_cut_by_a_read():
    reader = p.FrameReader()
    assert reader.feed(b"\x01\xAA\xAA") == []
    assert reader.feed(hexbytes("AA 96 69 00 04 00 00 80 84")) == [
        hexbytes("AA AA AA 96 69 00 04 00 00 80 84")]


# -------------------------------------------------------------------------- text block

def test_text_block_layout():
    block = p.encode_base_text(CARD)
    assert len(block) == 256
    # Field by field at the offsets the sources give (UCS-2 LE, space padded).
    assert block[0:6].decode("utf-16-le") == "李秀英"
    assert block[6:30] == " ".encode("utf-16-le") * 12
    assert block[30:32].decode("utf-16-le") == "2"
    assert block[32:36].decode("utf-16-le") == "01"
    assert block[36:52].decode("utf-16-le") == "19400506"
    assert block[122:158].decode("utf-16-le") == NUMBER
    assert block[188:204].decode("utf-16-le") == "20060301"
    assert block[204:220].decode("utf-16-le").strip() == "长期"
    assert p.parse_base_text(block) == CARD


def test_published_example_block_parses():
    # The name's bytes of the worked example in the sources (王美娜); everything else is
    # invented, so that no real person's number or address is repeated here.
    name = hexbytes("8B 73 8E 7F 1C 5A") + " ".encode("utf-16-le") * 12
    head = "31010419860911123"
    number = head + idnumber.check_digit(head)
    block = (name + "2".encode("utf-16-le") + "01".encode("utf-16-le")
             + "19860911".encode("utf-16-le") + "上海市徐汇区示范路".ljust(35).encode("utf-16-le")
             + number.encode("utf-16-le") + "上海市公安局徐汇分局".ljust(15).encode("utf-16-le")
             + "20110303".encode("utf-16-le") + "20210303".encode("utf-16-le"))
    block += " ".encode("utf-16-le") * ((256 - len(block)) // 2)
    card = p.parse_base_text(block)
    assert card.name == "王美娜" and card.sex == "2" and card.ethnic_code == "01"
    assert card.birth_date == dt.date(1986, 9, 11)
    assert card.valid_until == dt.date(2021, 3, 3)


def test_a_long_rare_name_and_x_check_digit():
    head = "31011319850101001"
    number = head + idnumber.check_digit(head)
    card = IdCard(name="𠮷祥云", sex="1", ethnic_code="01", birth_date=dt.date(1985, 1, 1),
                  address="", id_number=number, authority="x", valid_from=dt.date(2020, 1, 1),
                  valid_until=dt.date(2040, 1, 1))
    assert p.parse_base_text(p.encode_base_text(card)) == card


@pytest.mark.parametrize(("field", "value", "why"), [
    ("id_number", "310101194005061020", "not valid"),  # wrong check digit
    ("birth", "19400507", "differs"),
    ("valid_from", "2006AB01", "YYYYMMDD"),
    ("valid_until", "20060231", "real date"),
    ("name", "", "empty"),
])
def test_a_block_no_card_holds_is_refused(field, value, why):
    values = {"name": "李秀英", "sex": "2", "ethnic": "01", "birth": "19400506", "address": "",
              "id_number": NUMBER, "authority": "x", "valid_from": "20060301",
              "valid_until": "长期", field: value}
    block = b"".join(values[n].ljust(size // 2).encode("utf-16-le")
                     for n, size in p.TEXT_FIELDS)
    block += " ".encode("utf-16-le") * 18
    with pytest.raises(p.CardDataError, match=why):
        p.parse_base_text(block)


def test_text_that_is_not_ucs2_is_refused():
    block = bytearray(p.encode_base_text(CARD))
    block[0:2] = b"\x00\xD8"  # a lone high surrogate
    with pytest.raises(p.CardDataError, match="UCS-2"):
        p.parse_base_text(bytes(block))


def test_base_info_lengths_are_checked():
    text = p.encode_base_text(CARD)
    data = p.encode_base_info(text)
    assert data[:4] == hexbytes("01 00 04 00")
    assert p.split_base_info(data) == (text, bytes(1024))
    # The whole reply is the 1295 bytes the sources count.
    assert len(p.encode_reply(p.Status.OK, data)) == 1295
    with pytest.raises(p.CardDataError):
        p.split_base_info(data[:-1])
    with pytest.raises(p.CardDataError):
        p.split_base_info(hexbytes("00 FF 04 00") + data[4:])
    with pytest.raises(p.CardDataError):
        p.split_base_info(b"\x01")


def test_a_card_says_nothing_in_a_repr():
    assert "李" not in repr(CARD) and NUMBER not in repr(CARD) and "1940" not in str(CARD)
