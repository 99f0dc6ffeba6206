from __future__ import annotations

import cv2
import numpy as np
import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyzbar import pyzbar
from pyzbar.pyzbar_error import PyZbarError

from kiosk.domain.payloads import Kind, sign
from kiosk.hardware.camera import decoder as decoder_mod
from kiosk.hardware.camera.decoder import (
    DECODER_NAMES,
    CombinedDecoder,
    Decoder,
    OpenCVDecoder,
    PyzbarDecoder,
    ZxingDecoder,
    accept_text,
    make_decoder,
    textured_region,
    to_gray,
)
from kiosk.hardware.camera.qrimage import hall_background, phone_scene, qr_image


@pytest.fixture(scope="module")
def payload() -> str:
    return sign(Ed25519PrivateKey.generate(), "k1", Kind.RESIDENT, "R0001")


@pytest.fixture(scope="module")
def scene(payload: str) -> np.ndarray:
    return phone_scene(payload, rng=np.random.default_rng(7))


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_each_decoder_reads_the_signed_payload_from_a_phone_scene(
    name: str, payload: str, scene: np.ndarray
) -> None:
    dec = make_decoder(name)
    assert isinstance(dec, Decoder)
    assert dec.name == name
    assert dec.decode(scene) == [payload]


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_decoders_take_grayscale_frames_too(name: str, payload: str, scene: np.ndarray) -> None:
    gray = scene.mean(axis=2).astype(np.uint8)
    assert make_decoder(name).decode(gray) == [payload]


def test_combined_reads_a_dark_mode_phone(payload: str) -> None:
    dark = phone_scene(payload, dark=True, rng=np.random.default_rng(3))
    # The plain (non-inverting) pass cannot see it, so this exercises the inverted pass.
    assert ZxingDecoder(try_invert=False).decode(dark) == []
    assert CombinedDecoder().decode(dark) == [payload]


def test_combined_falls_back_to_zbar_on_the_code_region(
    payload: str, scene: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without zxing-cpp, the textured region still locates the code and ZBar reads it there.
    monkeypatch.setattr(zxingcpp, "read_barcodes", lambda *args, **kwargs: [])
    combined = CombinedDecoder()
    assert combined.decode(scene) == [payload]
    assert combined.last_step == "region-zbar"


# A fixed key, time and nonce: the code, and so whether a step is needed, is the same each run.
FIXED = sign(Ed25519PrivateKey.from_private_bytes(bytes(range(32))), "k1", Kind.RESIDENT,
             "R0001", issued_at=1_780_000_000, nonce="AbCdEfGhIjKl")


@pytest.mark.parametrize(
    ("scale", "blur", "step"),
    [
        (1.0, 2.5, "sharpened"),  # out of focus: the modules run together
        (0.6, 1.5, "region"),  # held far away and soft: too few pixels per module
    ],
)
def test_combined_reads_frames_zxing_alone_cannot(scale: float, blur: float, step: str) -> None:
    scene = cv2.GaussianBlur(phone_scene(FIXED, scale=scale, rng=np.random.default_rng(0)),
                             (0, 0), blur)
    assert ZxingDecoder().decode(scene) == [], "zxing-cpp alone reads it: pick a harder frame"
    combined = CombinedDecoder(budget_ms=1000)
    assert combined.decode(scene) == [FIXED]
    assert combined.last_step == step


def test_combined_gives_up_when_the_frame_budget_is_spent() -> None:
    # The decode thread must keep up with the camera: a frame that needs the later steps is
    # dropped once the budget is spent (the next frame shows the code again).
    scene = cv2.GaussianBlur(phone_scene(FIXED, rng=np.random.default_rng(0)), (0, 0), 2.5)
    ticks = iter(range(1000))
    combined = CombinedDecoder(budget_ms=500, clock=lambda: float(next(ticks)))
    assert combined.decode(scene) == []
    assert combined.last_step == ""


def test_combined_stops_at_a_code_that_is_read_but_not_ours(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = phone_scene("上海市徐汇区 随申码 R0001", rng=np.random.default_rng(5))

    def no_more_steps(*args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("a code was read: there is nothing more to look for")

    monkeypatch.setattr(decoder_mod, "unsharp", no_more_steps)
    assert CombinedDecoder().decode(scene) == []


def test_textured_region_holds_the_code(payload: str, scene: np.ndarray) -> None:
    (result,) = zxingcpp.read_barcodes(scene)
    p = result.position
    corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
    box = textured_region(to_gray(scene))
    assert box is not None
    x0, y0, x1, y1 = box
    assert all(x0 <= c.x <= x1 and y0 <= c.y <= y1 for c in corners)
    # A close look, not the whole frame.
    assert (x1 - x0) * (y1 - y0) < 0.5 * scene.shape[0] * scene.shape[1]
    assert textured_region(np.full((720, 1280), 128, np.uint8)) is None


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_a_non_ascii_code_is_dropped(name: str) -> None:
    text = "上海市徐汇区 随申码 R0001"
    scene = phone_scene(text, rng=np.random.default_rng(5))
    # The code itself is readable; only the filter drops it.
    assert [r.text for r in zxingcpp.read_barcodes(scene)] == [text]
    assert make_decoder(name).decode(scene) == []


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_a_code_with_control_characters_is_dropped(name: str) -> None:
    # Control characters can drive a keyboard-wedge host ("BadBarcode"); never pass them on.
    text = "YW1.R.\x1b[2J\x07"
    image = np.pad(qr_image(text, module_px=8), 40, constant_values=255)
    assert [r.bytes for r in zxingcpp.read_barcodes(image)] == [text.encode()]
    assert make_decoder(name).decode(image) == []


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_frames_without_codes_or_unusable_give_nothing(name: str) -> None:
    dec = make_decoder(name)
    assert dec.decode(hall_background(rng=np.random.default_rng(1))) == []
    assert dec.decode(np.zeros((5, 5, 3), np.uint8)) == []
    assert dec.decode(np.zeros((0, 0, 3), np.uint8)) == []
    assert dec.decode(np.zeros((100, 100, 3), np.float32)) == []


def test_library_errors_become_no_result(
    scene: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    def zxing_boom(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("zxing exploded")

    def zbar_boom(*args: object, **kwargs: object) -> list[object]:
        raise PyZbarError("zbar exploded")

    monkeypatch.setattr(zxingcpp, "read_barcodes", zxing_boom)
    monkeypatch.setattr(pyzbar, "decode", zbar_boom)
    assert ZxingDecoder().decode(scene) == []
    assert PyzbarDecoder().decode(scene) == []
    assert CombinedDecoder().decode(scene) == []


def test_opencv_errors_become_no_result(scene: np.ndarray) -> None:
    class Broken:
        def detectAndDecodeBytesMulti(self, img: np.ndarray) -> object:
            raise decoder_mod.cv2.error("broken")

    dec = OpenCVDecoder()
    dec._detector = Broken()
    assert dec.decode(scene) == []


def test_two_codes_in_one_frame_are_both_reported() -> None:
    left = np.pad(qr_image("CODE-ONE", module_px=6), 30, constant_values=255)
    right = np.pad(qr_image("CODE-TWO", module_px=6), 30, constant_values=255)
    frame = np.hstack([left, right])
    assert sorted(make_decoder("zxing").decode(frame)) == ["CODE-ONE", "CODE-TWO"]


def test_accept_text() -> None:
    assert accept_text(b"YW1.R.abc") == "YW1.R.abc"
    assert accept_text("YW1 ok") == "YW1 ok"
    assert accept_text("中文".encode()) is None
    assert accept_text("中文") is None
    assert accept_text(b"a\tb") is None
    assert accept_text(b"") is None


def test_make_decoder_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="combined"):
        make_decoder("quagga")
