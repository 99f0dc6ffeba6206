"""The ID card reader driver: find, select and read a card over any byte link.

Blocking and Qt-free; kiosk.services.id_card calls it from its own thread. The link is a
serial port (serial_link.py) or the emulated reader (emulated.py): the same frames go both
ways through both, encoded and decoded by protocol.py.

Errors say whose move it is:

- `CardUnreadable`: a card is there but did not read (placed askew, moved, a chip the
  security module refused): the resident lifts it and places it again.
- `ReaderUnavailable`: no answer, a port that is gone, or a security module that is out of
  order: a technician's problem; the kiosk goes on with the 随申码 alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from kiosk.domain.id_card import IdCard
from kiosk.hardware.id_card import protocol
from kiosk.hardware.id_card.protocol import Command, FrameError, Reply, Status

log = logging.getLogger(__name__)

# A find or select is answered within tens of milliseconds; reading the chip takes up to
# about a second (the sources wait 2 s).
COMMAND_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 3.0


class ByteLink(Protocol):
    """A serial port as the driver uses it; `read` returns b"" when nothing came in time."""

    def write(self, data: bytes, /) -> int | None: ...

    def read(self, size: int = 1, /) -> bytes: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class ReaderError(Exception):
    pass


class ReaderUnavailable(ReaderError):
    """The reader cannot be used now (technician's side)."""


class CardUnreadable(ReaderError):
    """A card is on the reader but its information did not come through (resident's side)."""

    def __init__(self, reason: str, status: Status | None = None) -> None:
        super().__init__(reason)
        self.status = status


class IdCardReader:
    """One reader on one link. `open` makes the link and asks the security module whether
    it works; every other call raises ReaderUnavailable before `open` succeeded."""

    def __init__(self, open_link: Callable[[], ByteLink], describe: str, *,
                 command_timeout_s: float = COMMAND_TIMEOUT_S,
                 read_timeout_s: float = READ_TIMEOUT_S) -> None:
        self._open_link = open_link
        self.describe = describe  # "serial /dev/ttyUSB0 115200 baud", for the technician
        self.command_timeout_s = command_timeout_s
        self.read_timeout_s = read_timeout_s
        self._link: ByteLink | None = None

    @property
    def is_open(self) -> bool:
        return self._link is not None

    def open(self) -> None:
        if self._link is not None:
            return
        try:
            self._link = self._open_link()
        except (OSError, ValueError) as exc:  # pyserial's SerialException is an OSError
            raise ReaderUnavailable(f"{self.describe}: cannot open ({exc})") from None
        try:
            reply = self._exchange(protocol.SAM_STATUS, self.command_timeout_s)
        except (ReaderError, FrameError) as exc:
            self.close()
            raise ReaderUnavailable(f"{self.describe}: no ID card reader answers ({exc})") \
                from None
        if reply.sw3 != Status.OK:
            self.close()
            raise ReaderUnavailable(f"{self.describe}: security module not ready,"
                                    f" {reply.describe()}")

    def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            try:
                link.close()
            except OSError:
                log.debug("ID card reader link did not close cleanly", exc_info=True)

    def find_card(self) -> bool:
        """Whether a card lies on the reader."""
        reply = self._command(protocol.FIND_CARD, self.command_timeout_s)
        if reply.sw3 == Status.CARD_FOUND:
            return True
        if reply.sw3 == Status.FIND_FAILED:
            return False
        raise self._unexpected(reply)

    def read_card(self) -> IdCard:
        """Select the card that was found and read its base information."""
        reply = self._command(protocol.SELECT_CARD, self.command_timeout_s)
        if reply.sw3 != Status.OK:
            raise self._unexpected(reply)
        reply = self._command(protocol.READ_BASE, self.read_timeout_s)
        if reply.sw3 != Status.OK:
            raise self._unexpected(reply)
        try:
            text, _photo = protocol.split_base_info(reply.data)
            return protocol.parse_base_text(text)
        except protocol.CardDataError as exc:
            raise CardUnreadable(f"base information refused: {exc}") from None

    # ------------------------------------------------------------------ the wire
    def _command(self, command: Command, timeout_s: float) -> Reply:
        try:
            return self._exchange(command, timeout_s)
        except FrameError as exc:
            # A damaged reply while a card is read (a card moved at the wrong moment, noise
            # on the line): the next placement reads again.
            raise CardUnreadable(f"damaged reply: {exc}") from None

    def _exchange(self, command: Command, timeout_s: float) -> Reply:
        link = self._link
        if link is None:
            raise ReaderUnavailable(f"{self.describe}: not open")
        try:
            link.reset_input_buffer()  # an answer that came too late to an earlier command
            link.write(protocol.encode_command(command))
            frames = protocol.FrameReader()
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                chunk = link.read(256)
                found = frames.feed(chunk) if chunk else []
                if found:
                    return protocol.decode_reply(found[0])
        except OSError as exc:
            self.close()
            raise ReaderUnavailable(f"{self.describe}: {exc}") from None
        got = f"{frames.pending} bytes of a frame" if frames.pending else "nothing"
        raise ReaderUnavailable(
            f"{self.describe}: no answer to {command.cmd:02X} {command.para:02X}"
            f" within {timeout_s:g} s ({got})")

    def _unexpected(self, reply: Reply) -> ReaderError:
        if reply.status in protocol.CARD_STATUSES:
            return CardUnreadable(reply.describe(), reply.status)
        return ReaderUnavailable(f"{self.describe}: {reply.describe()}")
