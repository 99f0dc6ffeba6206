"""The reader's thread: one read per placement, only when a screen wants an identity, and
a card left from the last session is not the next one's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from kiosk.domain import idnumber
from kiosk.hardware.id_card import protocol
from kiosk.hardware.id_card.emulated import EmulatedIdCardDevice, demo_card, emulated_reader
from kiosk.services.id_card import RUNNING, UNAVAILABLE, IdCardService
from tests.helpers.waits import HANG_GUARD_MS

HEAD = "31010419900101123"
CARD = demo_card("张伟明", HEAD + idnumber.check_digit(HEAD), dt.date(2026, 3, 1))


class Harness:
    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.device = EmulatedIdCardDevice()
        self.wanted = True
        reader = emulated_reader(self.device)
        reader.command_timeout_s = 0.3
        self.service = IdCardService(reader, lambda: self.wanted, poll_s=0.01, reopen_s=0.05)
        self.read: list[object] = []
        self.unreadable = 0
        self.states: list[str] = []
        self.service.cardRead.connect(self.read.append)
        self.service.cardUnreadable.connect(self._unreadable)
        self.service.stateChanged.connect(self.states.append)

    def _unreadable(self) -> None:
        self.unreadable += 1

    def polls(self, count: int = 5) -> None:
        """Until the service has asked for a card `count` more times, and said what it
        had to say about them."""
        start = len(self.device.commands)
        self.qtbot.waitUntil(
            lambda: sum(c == protocol.FIND_CARD for c in self.device.commands[start:]) >= count,
            timeout=HANG_GUARD_MS)
        self.qtbot.wait(0)

    def wait(self, predicate) -> None:
        self.qtbot.waitUntil(predicate, timeout=HANG_GUARD_MS)


@pytest.fixture
def h(qtbot) -> Iterator[Harness]:
    harness = Harness(qtbot)
    harness.service.start()
    harness.wait(lambda: harness.states == [RUNNING])
    yield harness
    harness.service.stop()


def test_one_read_per_placement(h):
    h.device.place(CARD)
    h.wait(lambda: h.read == [CARD])
    h.polls()
    assert h.read == [CARD]  # still lying there: not read again
    h.device.remove()
    h.polls()
    h.device.place(CARD)
    h.wait(lambda: len(h.read) == 2)


def test_read_only_when_wanted(h):
    h.wanted = False
    h.device.place(CARD)
    h.polls()
    assert h.read == []
    h.wanted = True
    h.wait(lambda: h.read == [CARD])


def test_a_card_left_at_a_sessions_end_is_not_read(h):
    h.wanted = False
    h.device.place(CARD)
    h.polls()
    h.service.session_ended()
    h.wanted = True
    h.polls()
    assert h.read == []
    h.device.remove()
    h.polls()
    h.device.place(CARD)
    h.wait(lambda: h.read == [CARD])


def test_unreadable_card_said_once(h):
    h.device.place(CARD, unreadable=True)
    h.wait(lambda: h.unreadable == 1)
    h.polls()
    assert h.unreadable == 1 and h.read == []


def test_a_failed_read_is_tried_again(h):
    h.device.fail_next_read()
    h.device.place(CARD)
    h.wait(lambda: h.read == [CARD])
    assert h.unreadable == 0


def test_reader_unplugged_and_back(h):
    h.device.unplug()
    h.wait(lambda: h.states[-1:] == [UNAVAILABLE])
    assert h.service.state == UNAVAILABLE and "emulated" in h.service.last_error
    h.device.plug_in()
    h.wait(lambda: h.states[-1:] == [RUNNING])
    h.device.place(CARD)
    h.wait(lambda: h.read == [CARD])


def test_a_garbled_answer_to_find_is_no_card_and_no_complaint(h):
    h.device.damage_next_reply()  # the next answer: "no card", with a wrong checksum
    h.polls()
    assert h.unreadable == 0 and h.read == []
    assert h.service.state == RUNNING
