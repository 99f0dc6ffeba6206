"""What the GUI and the scan worker share: the preview ring in shared memory and code
de-duplication."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from kiosk.services.scanning.protocol import Deduplicator, PreviewRing, preview_stride


def write_frame(ring: PreviewRing, frame: np.ndarray) -> tuple[int, int, int]:
    h, w = frame.shape[:2]
    stride = preview_stride(w, 3)
    slot, seq, offset = ring.begin()
    pixels = np.frombuffer(ring.buffer, dtype=np.uint8)
    pixels[offset:offset + stride * h].reshape(h, stride)[:, :w * 3] = frame.reshape(h, w * 3)
    del pixels
    ring.commit(slot, seq)
    return slot, seq, stride * h


@pytest.fixture
def ring() -> PreviewRing:
    r = PreviewRing.create(max_side=64, slots=3)
    yield r
    r.close()


def test_ring_frames_arrive_whole_through_a_second_mapping(ring: PreviewRing) -> None:
    reader = PreviewRing.attach(os.dup(ring.fd), ring.slots, ring.slot_bytes)
    try:
        frame = np.random.default_rng(1).integers(0, 255, (48, 62, 3), dtype=np.uint8)
        slot, seq, nbytes = write_frame(ring, frame)
        dest = bytearray(nbytes)
        assert reader.read_into(slot, seq, nbytes, memoryview(dest))
        stride = preview_stride(62, 3)
        got = np.frombuffer(bytes(dest), np.uint8).reshape(48, stride)[:, :62 * 3]
        assert np.array_equal(got.reshape(48, 62, 3), frame)
    finally:
        reader.close()
        os.close(reader.fd)  # attach() leaves the fd to its owner


def test_ring_refuses_a_frame_overwritten_or_being_written(ring: PreviewRing) -> None:
    frame = np.zeros((8, 8, 3), np.uint8)
    slot, seq, nbytes = write_frame(ring, frame)
    dest = memoryview(bytearray(nbytes))
    # The writer comes round to the same slot (two frames later): the old seq is gone.
    for _ in range(ring.slots):
        write_frame(ring, frame)
    assert not ring.read_into(slot, seq, nbytes, dest)
    # A slot being written (seq 0) is not read.
    slot2, seq2, _offset = ring.begin()
    assert not ring.read_into(slot2, seq2, nbytes, dest)
    assert not ring.read_into(99, seq2, nbytes, dest)  # a corrupt message


def test_dedup_once_per_presence_and_across_reset() -> None:
    d = Deduplicator(repeat_block_s=1.0)
    assert d.note(["A"], 10.0, True) == (["A"], 0)
    assert d.note(["A"], 10.5, True) == ([], 0)
    assert d.note(["A"], 11.4, True) == ([], 0)  # still in view (seen 0.9 s ago)
    assert d.note(["A"], 12.6, True) == (["A"], 0)  # out of sight > 1 s: a new presence
    # Seen while scanning is off: reported once scanning is on, if still in view.
    assert d.note(["B"], 13.0, False) == ([], 0)
    assert d.note(["B"], 13.2, True) == (["B"], 0)
    # Decided, but scanning went off before it reached the GUI: report it again later.
    assert d.note(["C"], 14.0, True) == (["C"], 0)
    d.unreport("C")
    assert d.note(["C"], 14.1, True) == (["C"], 0)
    d.reset(now=14.15)
    assert d.note(["C"], 14.2, True) == (["C"], 1)


def test_dedup_drops_a_frame_captured_before_the_reset() -> None:
    # The last resident's code, captured just before the next scan screen opened and decoded
    # after: not reported (it would answer for the next resident), while a frame captured
    # after the reset, of the same code still in view, is.
    d = Deduplicator(repeat_block_s=1.0)
    assert d.note(["OLD"], 20.0, True) == (["OLD"], 0)
    d.reset(now=20.5)
    assert d.note(["OLD"], 20.4, True) == ([], 1)
    assert d.note(["NEW"], 20.45, True) == ([], 1)
    assert d.note(["NEW"], 20.6, True) == (["NEW"], 1)
    # The default `now` is the frames' own clock.
    d.reset()
    assert d.note(["NEW"], time.monotonic() - 0.5, True) == ([], 2)
    assert d.note(["NEW"], time.monotonic() + 0.01, True) == (["NEW"], 2)
