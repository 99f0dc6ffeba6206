"""The driver against the emulated reader, and against it again behind a real serial port
(a pty pair): find, select, read, and each way a read goes wrong."""

from __future__ import annotations

import datetime as dt
import os
import select
import threading
from collections.abc import Iterator

import pytest

from kiosk.domain import idnumber
from kiosk.hardware.id_card import protocol
from kiosk.hardware.id_card.emulated import EmulatedIdCardDevice, demo_card, emulated_reader
from kiosk.hardware.id_card.reader import CardUnreadable, IdCardReader, ReaderUnavailable
from kiosk.hardware.id_card.serial_link import serial_reader

TODAY = dt.date(2026, 3, 1)
HEAD = "31010419900101123"
CARD = demo_card("张伟明", HEAD + idnumber.check_digit(HEAD), TODAY)


@pytest.fixture
def device() -> EmulatedIdCardDevice:
    return EmulatedIdCardDevice()


@pytest.fixture
def reader(device) -> Iterator[IdCardReader]:
    r = emulated_reader(device)
    r.command_timeout_s = r.read_timeout_s = 0.3
    r.open()
    yield r
    r.close()


def test_find_select_read(device, reader):
    assert reader.find_card() is False
    device.place(CARD)
    assert reader.find_card() is True
    assert reader.read_card() == CARD
    assert device.commands == [protocol.SAM_STATUS, protocol.FIND_CARD, protocol.FIND_CARD,
                               protocol.SELECT_CARD, protocol.READ_BASE]


def test_a_card_that_does_not_read(device, reader):
    device.place(CARD, unreadable=True)
    assert reader.find_card()
    with pytest.raises(CardUnreadable) as raised:
        reader.read_card()
    assert raised.value.status is protocol.Status.READ_FAILED


def test_a_card_lifted_between_find_and_select(device, reader):
    device.place(CARD)
    assert reader.find_card()
    device.remove()
    with pytest.raises(CardUnreadable) as raised:
        reader.read_card()
    assert raised.value.status is protocol.Status.SELECT_FAILED


def test_a_damaged_reply_is_a_bad_read_not_a_card(device, reader):
    device.place(CARD)
    device.damage_next_reply()
    with pytest.raises(CardUnreadable, match="damaged"):
        reader.read_card()
    assert reader.read_card() == CARD  # the next one is fine


def test_a_security_module_fault_is_the_technicians(device, reader):
    device.place(CARD)
    device.fail_next_read(protocol.Status.SAM_SELF_TEST_FAILED)
    with pytest.raises(ReaderUnavailable, match="SAM_SELF_TEST_FAILED"):
        reader.read_card()


def test_an_unplugged_reader(device, reader):
    device.unplug()
    with pytest.raises(ReaderUnavailable, match="no answer"):
        reader.find_card()
    reader.close()
    with pytest.raises(ReaderUnavailable, match="cannot open"):
        reader.open()
    device.plug_in()
    reader.open()
    assert reader.find_card() is False


def test_nothing_works_before_open(device):
    with pytest.raises(ReaderUnavailable, match="not open"):
        emulated_reader(device).find_card()


# ------------------------------------------------------------------ a real serial port

class PtyReader:
    """The emulated reader behind the master side of a pty pair: the driver opens the
    slave side with pyserial, as it would open /dev/ttyUSB0."""

    def __init__(self, device: EmulatedIdCardDevice, *, answering: bool = True) -> None:
        self.device = device
        self.answering = answering
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.device.connect()
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not self.answering:
                continue
            self.device.write(data)
            while out := self.device.read(4096):
                os.write(self.master, out)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty_device(device) -> Iterator[PtyReader]:
    served = PtyReader(device)
    yield served
    served.close()


def test_over_a_serial_port(pty_device, device):
    reader = serial_reader(pty_device.path, 115200)
    reader.open()
    try:
        assert reader.find_card() is False
        device.place(CARD)
        assert reader.find_card() is True
        assert reader.read_card() == CARD  # 1295 bytes through the tty
    finally:
        reader.close()
    assert "serial" in reader.describe and "115200" in reader.describe


def test_a_port_where_no_reader_answers(device):
    served = PtyReader(device, answering=False)
    try:
        reader = serial_reader(served.path, 115200)
        reader.command_timeout_s = 0.3
        with pytest.raises(ReaderUnavailable, match="no ID card reader answers"):
            reader.open()
        assert not reader.is_open
    finally:
        served.close()


def test_a_port_that_does_not_exist(tmp_path):
    reader = serial_reader(str(tmp_path / "ttyUSB9"), 115200)
    with pytest.raises(ReaderUnavailable, match="cannot open"):
        reader.open()
