"""QR pictures for the emulated camera and the demo: the matrix, the image, the PNG with a
caption and the phone held up in a hall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from kiosk.hardware.camera.decoder import make_decoder
from kiosk.hardware.camera.qrimage import phone_scene, qr_array, qr_image, save_qr_png


def test_qr_matrix_has_a_four_module_quiet_zone() -> None:
    m = qr_array("YW1.R.test")
    assert m.dtype == bool and m.shape[0] == m.shape[1]
    assert not m[:4].any() and not m[-4:].any() and not m[:, :4].any() and not m[:, -4:].any()
    assert m[4, 4]  # the top-left finder pattern starts right after the border


def test_qr_image_is_white_with_whole_modules() -> None:
    img = qr_image("YW1.R.test", module_px=3)
    n = qr_array("YW1.R.test").shape[0]
    assert img.shape == (3 * n, 3 * n) and img.dtype == np.uint8
    assert img[0, 0] == 255 and set(np.unique(img)) == {0, 255}
    assert make_decoder("zxing").decode(img) == ["YW1.R.test"]


def test_save_qr_png_with_a_chinese_caption(tmp_path: Path) -> None:
    path = tmp_path / "code.png"
    save_qr_png("YW1.R.demo", path, module_px=6, caption="张三 R0001 随申码（演示）")
    with Image.open(path) as im:
        assert im.format == "PNG"
        arr = np.array(im.convert("L"))
    qr_height = qr_image("YW1.R.demo", 6).shape[0]
    assert arr.shape[0] > qr_height
    caption_band = arr[qr_height:]
    assert (caption_band < 128).any()  # the caption was drawn
    assert make_decoder("zxing").decode(arr) == ["YW1.R.demo"]


def test_save_qr_png_without_caption(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    save_qr_png("YW1.R.demo", path, module_px=4)
    with Image.open(path) as im:
        assert im.size == (qr_image("YW1.R.demo", 4).shape[1],) * 2


def test_phone_scene_is_a_bgr_frame_of_the_requested_size() -> None:
    frame = phone_scene("YW1.R.x", size=(640, 480), tilt_deg=10, scale=0.8,
                        rng=np.random.default_rng(0))
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    # Same seed, same scene: benchmarks can be repeated.
    a = phone_scene("YW1.R.x", rng=np.random.default_rng(4))
    b = phone_scene("YW1.R.x", rng=np.random.default_rng(4))
    assert np.array_equal(a, b)
