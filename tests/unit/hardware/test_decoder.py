from __future__ import annotations

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


def test_combined_falls_back_to_zbar_on_the_enhanced_frame(
    payload: str, scene: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    combined = CombinedDecoder()
    monkeypatch.setattr(ZxingDecoder, "decode_gray", lambda self, gray, **kw: [])
    assert combined.decode(scene) == [payload]


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
