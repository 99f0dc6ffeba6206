"""Camera sources: the emulated camera's modes, the OpenCV camera's set-up and failure
hints, and the freshness monitor that tells a frozen camera from a live one."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.config.schema import EmulatedCameraConfig, OpenCVCameraConfig
from kiosk.domain.payloads import Kind, sign
from kiosk.hardware.camera import qrimage, sources
from kiosk.hardware.camera.decoder import make_decoder
from kiosk.hardware.camera.qrimage import phone_scene, qr_image
from kiosk.hardware.camera.sources import (
    CameraUnavailable,
    EmulatedSource,
    FrameSource,
    FreshnessMonitor,
    OpenCVSource,
    camera_hint,
    make_source,
)
from tests.helpers.waits import HANG_GUARD_S

SIZE = (1280, 720)


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def code_factory(key: Ed25519PrivateKey) -> Callable[[], str]:
    refs = (f"R{n:04d}" for n in itertools.count(1))
    return lambda: sign(key, "k1", Kind.RESIDENT, next(refs))


def emulated(**kwargs: object) -> EmulatedCameraConfig:
    return EmulatedCameraConfig(**kwargs)  # type: ignore[arg-type]


def read_until(
    src: EmulatedSource, found: Callable[[list[str]], bool], timeout_s: float = HANG_GUARD_S
) -> list[list[str]]:
    """Decode frames until `found(history of distinct results)`; the distinct results."""
    dec = make_decoder("combined")
    seen: list[list[str]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frame = src.read()
        assert frame is not None
        result = dec.decode(frame)
        if result and (not seen or seen[-1] != result):
            seen.append(result)
            if found(seen):
                return seen
    raise AssertionError(f"gave up after {timeout_s} s; decoded {seen}")


def grab(src: EmulatedSource) -> np.ndarray:
    frame = src.read()
    assert frame is not None
    return frame


# -- FreshnessMonitor and OpenCVSource -----------------------------------------------------


def test_freshness_monitor_goes_stale_on_repeated_or_missing_frames() -> None:
    now = [100.0]
    mon = FreshnessMonitor(1.0, clock=lambda: now[0])
    frame = np.full((48, 64, 3), 7, np.uint8)
    assert mon.observe(frame)
    now[0] = 100.6
    assert not mon.observe(frame.copy())  # identical content is not fresh
    assert not mon.observe(None)
    assert not mon.is_stale()
    now[0] = 101.2
    assert mon.is_stale()
    other = frame.copy()
    other[0, 0] = 8
    assert mon.observe(other)
    assert not mon.is_stale() and mon.last_fresh_at == 101.2


class FakeCapture:
    """Stands in for cv2.VideoCapture: a camera whose behaviour the test sets."""

    instances: ClassVar[list[FakeCapture]] = []

    def __init__(self, device: object, api: int = 0) -> None:
        self.device, self.api = device, api
        self.opened = True
        self.mode = "live"
        self.props: dict[int, float] = {}
        self.frame = np.zeros((72, 128, 3), np.uint8)
        self.counter = 0
        FakeCapture.instances.append(self)

    def isOpened(self) -> bool:
        return self.opened

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return self.props.get(prop, 0.0)

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self.mode == "fail":
            return False, None
        if self.mode == "live":
            self.counter += 1
            self.frame = self.frame.copy()
            self.frame[0, 0, 0] = self.counter % 256
        return True, self.frame

    def release(self) -> None:
        self.opened = False


@pytest.fixture
def fake_cv(monkeypatch: pytest.MonkeyPatch) -> type[FakeCapture]:
    FakeCapture.instances = []
    monkeypatch.setattr(sources.cv2, "VideoCapture", FakeCapture)
    return FakeCapture


def test_opencv_source_configures_the_camera(fake_cv: type[FakeCapture]) -> None:
    src = OpenCVSource(OpenCVCameraConfig(device="0", width=640, height=480, fps=15, mjpg=True))
    src.open()
    cap = fake_cv.instances[-1]
    assert cap.device == 0  # "0" means index 0, not a file called 0
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert cap.api == cv2.CAP_V4L2
    assert cap.props[cv2.CAP_PROP_FOURCC] == cv2.VideoWriter.fourcc(*"MJPG")
    assert cap.props[cv2.CAP_PROP_FRAME_WIDTH] == 640
    assert cap.props[cv2.CAP_PROP_FRAME_HEIGHT] == 480
    assert cap.props[cv2.CAP_PROP_FPS] == 15
    frame = src.read()
    assert frame is not None and frame.shape == (72, 128, 3)
    assert "OpenCV camera 0" in src.describe()
    src.close()
    assert not cap.opened


def test_opencv_source_detects_a_frozen_camera(
    fake_cv: type[FakeCapture], tmp_path: Path
) -> None:
    node = tmp_path / "video0"
    node.touch()  # still present: stale, not disconnected
    src = OpenCVSource(OpenCVCameraConfig(device=str(node)), stale_after_s=0.3)
    src.open()
    assert src.read() is not None and not src.stale
    fresh_at = src.last_fresh_frame_at
    fake_cv.instances[-1].mode = "frozen"  # read() keeps succeeding with the same frame
    deadline = time.monotonic() + HANG_GUARD_S
    while not src.stale and time.monotonic() < deadline:
        assert src.read() is not None
    assert src.stale and src.last_fresh_frame_at >= fresh_at
    fake_cv.instances[-1].mode = "live"
    src.read()
    assert not src.stale
    # Stale and the device node gone: the camera was unplugged.
    fake_cv.instances[-1].mode = "frozen"
    node.unlink()
    deadline = time.monotonic() + HANG_GUARD_S
    with pytest.raises(CameraUnavailable, match="disconnected"):
        while time.monotonic() < deadline:
            src.read()


def test_opencv_source_reports_an_unplugged_device(
    fake_cv: type[FakeCapture], tmp_path: Path
) -> None:
    node = tmp_path / "video7"
    node.touch()
    src = OpenCVSource(OpenCVCameraConfig(device=str(node), fps=60))
    src.open()
    fake_cv.instances[-1].mode = "fail"
    assert src.read() is None  # a failed read while the node exists: no frame this time
    node.unlink()
    with pytest.raises(CameraUnavailable, match="disconnected"):
        src.read()


def test_opencv_source_open_failure_has_a_technician_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class ClosedCapture(FakeCapture):
        def isOpened(self) -> bool:
            return False

    monkeypatch.setattr(sources.cv2, "VideoCapture", ClosedCapture)
    src = OpenCVSource(OpenCVCameraConfig(device="/dev/v4l/by-id/usb-nope-video-index0"))
    with pytest.raises(CameraUnavailable) as info:
        src.open()
    assert "does not exist" in info.value.hint and "/dev/v4l/by-id" in info.value.hint


def test_opencv_source_with_the_real_backend_and_no_device() -> None:
    src = OpenCVSource(OpenCVCameraConfig(device="/dev/v4l/by-id/no-such-camera"))
    with pytest.raises(CameraUnavailable, match="cannot open"):
        src.open()


def test_camera_hints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    node = tmp_path / "video0"
    node.touch()
    assert "does not exist" in camera_hint(str(tmp_path / "missing"))
    monkeypatch.setattr(sources.os, "access", lambda path, mode: False)
    assert "`video` group" in camera_hint(str(node))
    monkeypatch.setattr(sources.os, "access", lambda path, mode: True)
    assert "fuser" in camera_hint(str(node))  # exists and accessible: probably busy


# -- EmulatedSource ------------------------------------------------------------------------


def test_generated_mode_shows_a_fresh_code_each_time(
    code_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    issued: list[str] = []

    def factory() -> str:
        issued.append(code_factory())
        return issued[-1]

    src = EmulatedSource(emulated(source="generated", interval_s=0.2), factory, show_s=0.4,
                         seed=11)
    src.open()
    seen = read_until(src, lambda s: len(s) >= 2)
    assert seen == [[issued[0]], [issued[1]]]
    assert issued[0] != issued[1]
    src.close()


def test_images_mode_cycles_the_folder_in_name_order(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "b.jpg"), phone_scene("IMAGE-B", rng=np.random.default_rng(1)))
    cv2.imwrite(str(tmp_path / "a.png"), np.pad(qr_image("IMAGE-A", 6), 60, constant_values=255))
    (tmp_path / "notes.txt").write_text("not an image")
    src = EmulatedSource(emulated(source="images", path=str(tmp_path)), image_s=0.25)
    src.open()
    seen = read_until(src, lambda s: len(s) >= 3)
    assert seen == [["IMAGE-A"], ["IMAGE-B"], ["IMAGE-A"]]


def test_images_mode_without_images_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailable, match="no images"):
        EmulatedSource(emulated(source="images", path=str(tmp_path))).open()
    with pytest.raises(CameraUnavailable, match="not found"):
        EmulatedSource(emulated(source="images", path=str(tmp_path / "nope"))).open()


def test_video_mode_plays_and_loops(tmp_path: Path) -> None:
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, SIZE)
    assert writer.isOpened()
    for text in ("VIDEO-A", "VIDEO-B"):
        scene = phone_scene(text, size=SIZE, rng=np.random.default_rng(2))
        for _ in range(3):
            writer.write(scene)
    writer.release()
    src = EmulatedSource(emulated(source="video", path=str(path), fps=120))
    src.open()
    dec = make_decoder("zxing")
    texts = []
    for _ in range(14):
        frame = src.read()
        assert frame is not None and frame.shape == (720, 1280, 3)
        texts.append(dec.decode(frame))
    assert texts == [["VIDEO-A"]] * 3 + [["VIDEO-B"]] * 3 + [["VIDEO-A"]] * 3 + [
        ["VIDEO-B"]
    ] * 3 + [["VIDEO-A"]] * 2
    src.close()


def test_video_mode_with_a_missing_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CameraUnavailable, match="cannot open video"):
        EmulatedSource(emulated(source="video", path=str(tmp_path / "none.avi"))).open()


def test_blank_mode_is_empty_but_alive() -> None:
    src = EmulatedSource(emulated(source="blank", width=640, height=360, fps=120))
    src.open()
    mon = FreshnessMonitor()
    dec = make_decoder("combined")
    for _ in range(5):
        frame = src.read()
        assert frame is not None and frame.shape == (360, 640, 3) and frame.dtype == np.uint8
        assert mon.observe(frame)  # sensor noise: every frame differs, as a live camera's do
        assert dec.decode(frame) == []


def test_frames_are_paced_to_the_configured_fps() -> None:
    src = EmulatedSource(emulated(source="blank", width=320, height=240, fps=20))
    src.open()
    src.read()
    started = time.monotonic()
    for _ in range(10):
        src.read()
    # Paced: ten frames at 20 fps cannot come sooner. No upper bound: on a loaded machine
    # a frame comes later, which says nothing about the pacing.
    assert time.monotonic() - started >= 0.4


def test_show_text_blank_and_resume(
    code_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[str] = []
    real_scene = qrimage.phone_scene

    def counting_scene(text: str, **kwargs: object) -> np.ndarray:
        renders.append(text)
        return real_scene(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(qrimage, "phone_scene", counting_scene)
    src = EmulatedSource(emulated(source="blank", fps=120), seed=3)
    src.open()
    dec = make_decoder("combined")
    a, b = code_factory(), code_factory()
    src.show_text(a)
    for _ in range(5):
        assert dec.decode(grab(src)) == [a]
    src.show_text(b, dark=True)
    assert dec.decode(grab(src)) == [b]
    src.show_text(a)
    assert dec.decode(grab(src)) == [a]
    assert renders == [a, b]  # rendered once per text, then cached
    src.blank()
    assert dec.decode(grab(src)) == []
    src.show_image(np.pad(qr_image("SHOWN-IMAGE", 5), 50, constant_values=255))
    assert dec.decode(grab(src)) == ["SHOWN-IMAGE"]
    src.resume()  # back to the configured feed: blank
    assert dec.decode(grab(src)) == []


def test_freeze_stop_frames_unplug_and_plug() -> None:
    src = EmulatedSource(emulated(source="blank", width=320, height=240, fps=120))
    src.open()
    src.read()
    src.freeze()
    first = src.read()
    assert first is not None
    for _ in range(3):
        again = src.read()
        assert again is not None and np.array_equal(again, first)
    src.close()
    src.open()
    assert np.array_equal(grab(src), first)  # reopening does not help
    src.plug()
    assert not np.array_equal(grab(src), first)

    src.stop_frames()
    assert src.read() is None
    src.plug()
    assert src.read() is not None

    src.unplug()
    with pytest.raises(CameraUnavailable):
        src.read()
    with pytest.raises(CameraUnavailable):
        src.open()
    src.plug()
    with pytest.raises(CameraUnavailable):
        src.read()  # the old session died with the unplug
    src.open()
    assert src.is_open and src.read() is not None


def test_make_source() -> None:
    emu = make_source(emulated(source="blank"))
    cv = make_source(OpenCVCameraConfig(device=3))
    assert isinstance(emu, EmulatedSource) and isinstance(emu, FrameSource)
    assert isinstance(cv, OpenCVSource) and isinstance(cv, FrameSource)
    assert "emulated camera (blank" in emu.describe()
