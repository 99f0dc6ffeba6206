"""An emulated ID card reader: the reader's side of the protocol, byte for byte.

It stands where the serial port would: the driver writes command frames into it and reads
reply frames out of it, so the code a real reader runs through (framing, checksums, status
words, the text block) is what tests and demos run through too. Tests and the demo place
and remove cards, make a read fail, damage a reply, or pull the reader's plug.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from kiosk.domain import idnumber
from kiosk.domain.id_card import IdCard
from kiosk.hardware.id_card import protocol
from kiosk.hardware.id_card.protocol import Command, FrameError, Status
from kiosk.hardware.id_card.reader import IdCardReader

READ_SLICE_S = 0.05  # as the serial link: a read with nothing to give returns after this


@dataclass
class _Placed:
    card: IdCard
    unreadable: bool  # a damaged chip, or a card the security module refuses


class EmulatedIdCardDevice:
    """A reader with a card slot. The link side (`write`, `read`, ...) is the driver's; the
    controls (`place`, `remove`, ...) are the test's or the demo's; both from any thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._out = bytearray()
        self._frames = protocol.FrameReader()
        self._placed: _Placed | None = None
        self._failing_reads: list[Status] = []
        self._damaged_replies = 0
        self._unplugged = False
        self._connected = False
        self.commands: list[Command] = []  # every command received, in order

    # ------------------------------------------------------------------ controls
    def place(self, card: IdCard, *, unreadable: bool = False) -> None:
        with self._cond:
            self._placed = _Placed(card, unreadable)

    def remove(self) -> None:
        with self._cond:
            self._placed = None

    def fail_next_read(self, status: Status = Status.READ_FAILED, times: int = 1) -> None:
        """The next `times` reads answer `status` (a card moved while it was read)."""
        with self._cond:
            self._failing_reads += [status] * times

    def damage_next_reply(self) -> None:
        """The next reply's checksum is wrong (noise on the line)."""
        with self._cond:
            self._damaged_replies += 1

    def unplug(self) -> None:
        with self._cond:
            self._unplugged = True
            self._out.clear()

    def plug_in(self) -> None:
        with self._cond:
            self._unplugged = False

    @property
    def card_present(self) -> bool:
        return self._placed is not None

    # ------------------------------------------------------------------ the link
    def connect(self) -> EmulatedIdCardDevice:
        with self._cond:
            if self._unplugged:
                raise OSError("[Errno 2] could not open port: no such device (emulated)")
            self._connected = True
            self._out.clear()
            self._frames = protocol.FrameReader()
        return self

    def write(self, data: bytes, /) -> int:
        with self._cond:
            if not self._connected:
                raise OSError("port not open")
            if self._unplugged:
                return len(data)  # into the void: nothing answers
            for frame in self._frames.feed(bytes(data)):
                self._out += self._answer(frame)
            self._cond.notify_all()
        return len(data)

    def read(self, size: int = 1, /) -> bytes:
        with self._cond:
            if not self._connected:
                raise OSError("port not open")
            if not self._out:
                self._cond.wait(READ_SLICE_S)
            chunk = bytes(self._out[:size])
            del self._out[:size]
            return chunk

    def reset_input_buffer(self) -> None:
        with self._cond:
            self._out.clear()

    def close(self) -> None:
        with self._cond:
            self._connected = False
            self._out.clear()

    # ------------------------------------------------------------------ the reader
    def _answer(self, frame: bytes) -> bytes:
        try:
            command, _data = protocol.decode_command(frame)
        except protocol.ChecksumMismatch:
            return self._reply(Status.HOST_CHECKSUM)
        except FrameError:
            return self._reply(Status.HOST_LENGTH)
        self.commands.append(command)
        placed = self._placed
        if command in (protocol.SAM_STATUS, protocol.RESET_SAM):
            return self._reply(Status.OK)
        if command == protocol.READ_SAM_ID:
            return self._reply(Status.OK, bytes(16))
        if command == protocol.FIND_CARD:
            # The find reply carries 4 bytes, the select reply 8 (all zero in the sources).
            return (self._reply(Status.CARD_FOUND, bytes(4)) if placed
                    else self._reply(Status.FIND_FAILED))
        if command == protocol.SELECT_CARD:
            return (self._reply(Status.OK, bytes(8)) if placed
                    else self._reply(Status.SELECT_FAILED))
        if command == protocol.READ_BASE:
            if placed is None:
                return self._reply(Status.READ_FAILED)
            if self._failing_reads:
                return self._reply(self._failing_reads.pop(0))
            if placed.unreadable:
                return self._reply(Status.READ_FAILED)
            text = protocol.encode_base_text(placed.card)
            return self._reply(Status.OK, protocol.encode_base_info(text))
        return self._reply(Status.HOST_COMMAND)

    def _reply(self, status: Status, data: bytes = b"") -> bytes:
        frame = bytearray(protocol.encode_reply(status, data))
        if self._damaged_replies:
            self._damaged_replies -= 1
            frame[-1] ^= 0xFF
        return bytes(frame)


def emulated_reader(device: EmulatedIdCardDevice) -> IdCardReader:
    return IdCardReader(device.connect, "emulated ID card reader")


# ------------------------------------------------------------------------ demo cards

DEMO_ADDRESS = "上海市徐汇区示范路100弄1号"  # invented, like every demo resident
DEMO_AUTHORITY = "上海市公安局徐汇分局"


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def demo_card(name: str, id_number: str, today: dt.date, *, expired: bool = False,
              address: str = DEMO_ADDRESS) -> IdCard:
    """A card for a (fictional) resident as the law issues it: valid for 5, 10 or 20 years
    by age at issue, for life from 46 (居民身份证法 art. 5), issued two years ago. An
    `expired` card ran out a month ago."""
    born = idnumber.birth_date(id_number)

    def term(issued: dt.date) -> int | None:
        age = idnumber.age_on(id_number, issued)
        return 5 if age < 16 else 10 if age <= 25 else 20 if age <= 45 else None

    if expired:
        until = today - dt.timedelta(days=30)
        issued = max(born, _years_later(until, -10))
        valid_until: dt.date | None = until
    else:
        issued = max(born, _years_later(today, -2))
        years = term(issued)
        valid_until = None if years is None else _years_later(issued, years)
    # The 17th digit's parity is the sex, as on real cards.
    sex = "1" if int(id_number[16]) % 2 else "2"
    return IdCard(name=name, sex=sex, ethnic_code="01", birth_date=born, address=address,
                  id_number=id_number.upper(), authority=DEMO_AUTHORITY, valid_from=issued,
                  valid_until=valid_until)
