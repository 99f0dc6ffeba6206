"""The host protocol of resident ID card readers (二代证阅读器), in pure Python.

Readers built around the Ministry of Public Security's security module (SAM / SAM_V) speak
one frame format over their UART or USB-serial port (115200 8N1 by default). Nothing here
opens a port or starts a thread: the driver (reader.py) and the emulated reader
(emulated.py) both use these functions, so the emulator answers with the very bytes the
driver decodes. Sources, and the readers this was written against: docs/TECHNICIAN.md,
"Resident ID card reader".

Every frame, either way::

    AA AA AA 96 69 | LEN_H LEN_L | body ... | CHK

LEN (big-endian) counts the body and CHK; CHK is the XOR of every byte after the preamble
(LEN_H, LEN_L and the body). A command's body is CMD PARA [data]; a reply's body is
SW1 SW2 SW3 [data], SW3 being the status (SW1 and SW2 are 00 00 in every source).

The reply to "read base information" (30 01) carries TEXT_LEN (2 bytes BE, 256), PHOTO_LEN
(2 bytes BE, 1024), the text block and the photo. The text block is UCS-2 little-endian,
fixed width, padded with spaces: name 30 bytes, sex 2, ethnic group 4, birth date 16
(YYYYMMDD), address 70, ID number 36, issuing authority 30, validity start 16, validity end 16
(YYYYMMDD, or 长期 for a card valid for life), 36 reserved.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from kiosk.domain import idnumber
from kiosk.domain.id_card import IdCard

PREAMBLE = bytes((0xAA, 0xAA, 0xAA, 0x96, 0x69))
# The longest reply in the protocol is text + photo + fingerprints (2321 bytes in all); a
# length beyond this is line noise that happened to follow a preamble.
MAX_LENGTH = 4096


class Command(NamedTuple):
    cmd: int
    para: int


RESET_SAM = Command(0x10, 0xFF)
SAM_STATUS = Command(0x11, 0xFF)  # "is the security module working": 90 when it is
READ_SAM_ID = Command(0x12, 0xFF)
FIND_CARD = Command(0x20, 0x01)
SELECT_CARD = Command(0x20, 0x02)
READ_BASE = Command(0x30, 0x01)  # text and photo


class Status(IntEnum):
    """SW3 of a reply."""

    OK = 0x90
    NO_CONTENT = 0x91  # 证/卡中此项无内容
    CARD_FOUND = 0x9F  # 寻找证/卡成功
    HOST_CHECKSUM = 0x10  # the reader got our frame with a wrong checksum
    HOST_LENGTH = 0x11  # ... with a wrong length
    HOST_COMMAND = 0x21  # ... with a command it does not know
    NOT_ALLOWED = 0x23  # 越权操作
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_SAM_FAILED = 0x31  # 证/卡认证 SAM 失败
    SAM_AUTH_CARD_FAILED = 0x32  # SAM 认证证/卡失败
    INFO_CHECK_FAILED = 0x33  # 信息验证错误
    UNKNOWN_CARD_TYPE = 0x40
    READ_FAILED = 0x41  # 读证/卡操作失败
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66
    FIND_FAILED = 0x80  # 寻找证/卡失败: no card on the reader
    SELECT_FAILED = 0x81  # 选取证/卡失败


# Statuses that say the card (its placement, its chip) is the trouble: the resident lifts it
# and places it again. Anything else unexpected is the reader's or the line's trouble.
CARD_STATUSES = frozenset({
    Status.CARD_AUTH_SAM_FAILED, Status.SAM_AUTH_CARD_FAILED, Status.INFO_CHECK_FAILED,
    Status.UNKNOWN_CARD_TYPE, Status.READ_FAILED, Status.RANDOM_FAILED, Status.FIND_FAILED,
    Status.SELECT_FAILED, Status.NO_CONTENT,
})


class FrameError(ValueError):
    """Bytes that are not one well-formed frame."""


class TruncatedFrame(FrameError):
    pass


class ChecksumMismatch(FrameError):
    pass


class BadLength(FrameError):
    pass


class NoPreamble(FrameError):
    pass


class CardDataError(ValueError):
    """A reply that is a good frame but not the base information of a resident ID card."""


def checksum(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(body: bytes) -> bytes:
    if not body or len(body) + 1 > MAX_LENGTH:
        raise ValueError(f"a frame body holds 1 to {MAX_LENGTH - 1} bytes")
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes((checksum(length + body),))


def encode_command(command: Command, data: bytes = b"") -> bytes:
    return encode_frame(bytes((command.cmd, command.para)) + data)


def encode_reply(status: int, data: bytes = b"", sw1: int = 0, sw2: int = 0) -> bytes:
    return encode_frame(bytes((sw1, sw2, status)) + data)


def frame_body(frame: bytes) -> bytes:
    """The body of one complete frame, its preamble, length and checksum checked."""
    if not frame.startswith(PREAMBLE):
        raise NoPreamble("frame does not start with AA AA AA 96 69")
    if len(frame) < len(PREAMBLE) + 2:
        raise TruncatedFrame(f"{len(frame)} bytes: the length field is missing")
    length = int.from_bytes(frame[5:7], "big")
    if length < 2 or length > MAX_LENGTH:
        raise BadLength(f"length field {length} is outside 2..{MAX_LENGTH}")
    end = 7 + length
    if len(frame) < end:
        raise TruncatedFrame(f"{len(frame)} bytes of a {end}-byte frame")
    if len(frame) > end:
        raise BadLength(f"{len(frame) - end} bytes after the frame's end")
    body, chk = frame[7:end - 1], frame[end - 1]
    if checksum(frame[5:7] + body) != chk:
        raise ChecksumMismatch(f"checksum {chk:02X}, expected {checksum(frame[5:7] + body):02X}")
    return body


def decode_command(frame: bytes) -> tuple[Command, bytes]:
    body = frame_body(frame)
    if len(body) < 2:
        raise BadLength("a command holds CMD and PARA")
    return Command(body[0], body[1]), body[2:]


@dataclass(frozen=True)
class Reply:
    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def status(self) -> Status | None:
        """SW3 as a known status; None for a code no source lists."""
        try:
            return Status(self.sw3)
        except ValueError:
            return None

    def describe(self) -> str:
        name = self.status.name if self.status is not None else "unknown status"
        return f"SW {self.sw1:02X} {self.sw2:02X} {self.sw3:02X} ({name})"


def decode_reply(frame: bytes) -> Reply:
    body = frame_body(frame)
    if len(body) < 3:
        raise BadLength("a reply holds SW1 SW2 SW3")
    return Reply(body[0], body[1], body[2], body[3:])


class FrameReader:
    """Bytes in as they arrive, whole frames out. Bytes before a preamble (line noise, the
    tail of a frame we gave up on) are dropped and counted; a length no frame has makes the
    reader look for the next preamble. Checksums are left to `frame_body`."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames: list[bytes] = []
        while True:
            start = self._buffer.find(PREAMBLE)
            if start < 0:
                # Keep what may be the start of a preamble cut by the read.
                keep = next((k for k in range(len(PREAMBLE) - 1, 0, -1)
                             if self._buffer.endswith(PREAMBLE[:k])), 0)
                self._drop(len(self._buffer) - keep)
                return frames
            self._drop(start)
            if len(self._buffer) < 7:
                return frames
            length = int.from_bytes(self._buffer[5:7], "big")
            if length < 2 or length > MAX_LENGTH:
                self._drop(1)  # not a frame's header after all: look further
                continue
            if len(self._buffer) < 7 + length:
                return frames
            frames.append(bytes(self._buffer[:7 + length]))
            del self._buffer[:7 + length]

    @property
    def pending(self) -> int:
        """Bytes held for a frame not yet complete."""
        return len(self._buffer)

    def _drop(self, count: int) -> None:
        if count > 0:
            del self._buffer[:count]
            self.dropped += count


# --------------------------------------------------------------------- base information

TEXT_BLOCK_BYTES = 256
PHOTO_BYTES = 1024
LONG_TERM = "长期"

# (field, bytes) in the order the text block holds them; 36 bytes after them are reserved.
TEXT_FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 30), ("sex", 2), ("ethnic", 4), ("birth", 16), ("address", 70),
    ("id_number", 36), ("authority", 30), ("valid_from", 16), ("valid_until", 16),
)


def split_base_info(data: bytes) -> tuple[bytes, bytes]:
    """(text block, photo) from the data of a READ_BASE reply."""
    if len(data) < 4:
        raise CardDataError("the reply has no text and photo lengths")
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if text_len != TEXT_BLOCK_BYTES:
        raise CardDataError(f"text block of {text_len} bytes, expected {TEXT_BLOCK_BYTES}")
    if len(data) != 4 + text_len + photo_len:
        raise CardDataError(
            f"{len(data) - 4} bytes of text and photo, the reply announced {text_len + photo_len}")
    return data[4:4 + text_len], data[4 + text_len:]


def _text(raw: bytes, what: str) -> str:
    try:
        text = raw.decode("utf-16-le")
    except UnicodeDecodeError:
        raise CardDataError(f"{what} is not UCS-2 text") from None
    return text.rstrip(" \x00")


def _date(text: str, what: str) -> dt.date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise CardDataError(f"{what} is not a YYYYMMDD date")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardDataError(f"{what} is not a real date") from None


def parse_base_text(block: bytes) -> IdCard:
    """The card in a 256-byte text block; CardDataError for anything a resident ID card
    cannot hold (its ID number's check digit and birth date are checked too)."""
    if len(block) != TEXT_BLOCK_BYTES:
        raise CardDataError(f"text block of {len(block)} bytes, expected {TEXT_BLOCK_BYTES}")
    values: dict[str, str] = {}
    at = 0
    for name, size in TEXT_FIELDS:
        values[name] = _text(block[at:at + size], name)
        at += size
    if not values["name"]:
        raise CardDataError("the name is empty")
    number = values["id_number"].upper()
    try:
        born = idnumber.birth_date(number)
    except idnumber.InvalidIdNumber as exc:
        raise CardDataError(f"the ID number is not valid ({exc})") from None
    birth = _date(values["birth"], "birth date")
    if birth != born:
        raise CardDataError("the birth date differs from the one in the ID number")
    until = values["valid_until"]
    return IdCard(
        name=values["name"],
        sex=values["sex"],
        ethnic_code=values["ethnic"],
        birth_date=birth,
        address=values["address"],
        id_number=number,
        authority=values["authority"],
        valid_from=_date(values["valid_from"], "validity start"),
        valid_until=None if until == LONG_TERM else _date(until, "validity end"),
    )


def encode_base_text(card: IdCard) -> bytes:
    """The text block a reader would send for `card` (the emulated reader's side)."""
    values = {
        "name": card.name, "sex": card.sex, "ethnic": card.ethnic_code,
        "birth": f"{card.birth_date:%Y%m%d}", "address": card.address,
        "id_number": card.id_number, "authority": card.authority,
        "valid_from": f"{card.valid_from:%Y%m%d}",
        "valid_until": LONG_TERM if card.valid_until is None else f"{card.valid_until:%Y%m%d}",
    }
    block = bytearray()
    for name, size in TEXT_FIELDS:
        raw = values[name].encode("utf-16-le")
        if len(raw) > size:
            raise ValueError(f"{name} does not fit in {size} bytes")
        block += raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)
    block += " ".encode("utf-16-le") * ((TEXT_BLOCK_BYTES - len(block)) // 2)
    return bytes(block)


def encode_base_info(text: bytes, photo: bytes = bytes(PHOTO_BYTES)) -> bytes:
    """The data of a READ_BASE reply: both lengths, the text block, the photo."""
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo
