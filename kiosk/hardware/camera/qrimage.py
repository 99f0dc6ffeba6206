"""QR images: plain matrices, printable PNGs and synthetic camera scenes.

`phone_scene` draws what the kiosk camera sees when a resident holds up a phone: an
out-of-focus hall behind, a phone body with a lit screen showing the code, a slight
perspective, glare, camera blur and sensor noise. The emulated camera shows these scenes and
the decoder benchmark measures on them, so they must be hard enough to be honest (no
pixel-perfect codes) yet readable by every decoder at the default pose.
"""

from __future__ import annotations

import functools
import logging
import math
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.domain.qr import qr_matrix

log = logging.getLogger(__name__)

QR_BORDER = 4

# 随申码-like header colour (BGR) and phone colours.
_HEADER_BGR = (69, 162, 43)
_BODY_BGR = (38, 36, 34)
_LIGHT_SCREEN = 246
_DARK_SCREEN = 24


def qr_array(text: str) -> np.ndarray:
    """Modules of the QR code for `text` as a bool array, True = dark, including a 4-module
    quiet zone: kiosk.domain.qr's matrix, in the form the image code below works on."""
    return np.array(qr_matrix(text, ec_level="M", border=QR_BORDER), dtype=bool)


def qr_image(text: str, module_px: int = 10) -> np.ndarray:
    """Grayscale uint8 QR code on white, `module_px` pixels per module."""
    if module_px < 1:
        raise ValueError("module_px must be >= 1")
    modules = np.where(qr_array(text), 0, 255).astype(np.uint8)
    return np.repeat(np.repeat(modules, module_px, axis=0), module_px, axis=1)


@functools.lru_cache(maxsize=1)
def _cjk_font() -> tuple[str, int] | None:
    """(file, face index) of a Noto Sans CJK SC face, preferring Regular; None if absent."""
    if shutil.which("fc-list") is None:
        return None
    try:
        out = subprocess.run(
            ["fc-list", "-f", "%{file}\t%{index}\t%{family}\t%{style}\n"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    best: tuple[int, str, int] | None = None
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 4 or "Noto Sans CJK" not in parts[2]:
            continue
        file, index, family, style = parts[0], parts[1], parts[2], parts[3]
        # Simplified Chinese glyph shapes are the right ones for Shanghai; Regular reads best
        # under a caption.
        rank = (0 if "SC" in family else 2) + (0 if "Regular" in style else 1)
        idx = int(index) if index.isdigit() else 0
        if best is None or rank < best[0]:
            best = (rank, file, idx)
    return None if best is None else (best[1], best[2])


def _caption_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = _cjk_font()
    if found is not None:
        try:
            return ImageFont.truetype(found[0], size, index=found[1])
        except OSError:
            log.warning("cannot load CJK font %s; captions fall back to PIL's font", found[0])
    return ImageFont.load_default(size=size)


def save_qr_png(
    text: str, path: str | Path, module_px: int = 10, caption: str | None = None
) -> None:
    """Write a PNG of the code a person can show to a real camera, with an optional caption."""
    qr = Image.fromarray(qr_image(text, module_px), mode="L")
    if not caption:
        qr.save(str(path), format="PNG")
        return
    font = _caption_font(max(16, module_px * 3))
    probe = ImageDraw.Draw(qr)
    left, top, right, bottom = probe.textbbox((0, 0), caption, font=font)
    # Whole pixels for the canvas; PIL reports a box in fractions only for scaled fonts.
    text_w, text_h = math.ceil(right - left), math.ceil(bottom - top)
    pad = max(8, module_px)
    width = max(qr.width, text_w + 2 * pad)
    canvas = Image.new("L", (width, qr.height + text_h + 2 * pad), 255)
    canvas.paste(qr, ((width - qr.width) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text(((width - text_w) // 2 - left, qr.height + pad - top), caption, fill=0, font=font)
    canvas.save(str(path), format="PNG")


def hall_background(
    size: tuple[int, int] = (1280, 720), rng: np.random.Generator | None = None
) -> np.ndarray:
    """An out-of-focus service hall: ceiling lights, counters, blue signage, a floor."""
    rng = rng if rng is not None else np.random.default_rng()
    out_w, out_h = size
    # Drawn at a quarter of the size and scaled up: it is blurred anyway, and a full-size
    # blur this wide would cost most of a frame's time.
    w, h = max(out_w // 4, 8), max(out_h // 4, 8)
    ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    top = np.array([200, 196, 190], np.float32)
    bottom = np.array([112, 118, 124], np.float32)
    img = np.ascontiguousarray(
        np.broadcast_to(top + (bottom - top) * ramp, (h, w, 3)).astype(np.uint8)
    )
    for _ in range(5):  # ceiling light panels
        cx = int(rng.uniform(0.05, 0.95) * w)
        cw = int(rng.uniform(0.08, 0.16) * w)
        cv2.rectangle(img, (cx - cw // 2, int(0.04 * h)), (cx + cw // 2, int(0.09 * h)),
                      (250, 250, 250), -1)
    counter_top = int(rng.uniform(0.52, 0.6) * h)
    for _ in range(4):  # service counters and their signs
        x0 = int(rng.uniform(0.0, 0.85) * w)
        x1 = x0 + int(rng.uniform(0.12, 0.3) * w)
        cv2.rectangle(img, (x0, counter_top), (x1, int(0.78 * h)), (150, 160, 170), -1)
        sign = (170, 110, 40) if rng.random() < 0.7 else (60, 60, 190)
        cv2.rectangle(img, (x0, int(0.2 * h)), (x1, int(0.28 * h)), sign, -1)
    cv2.rectangle(img, (0, int(0.78 * h)), (w, h), (96, 102, 108), -1)
    # The camera focuses at arm's length, so the hall behind is soft.
    soft = cv2.GaussianBlur(img, (0, 0), max(w, h) / 90.0)
    return cv2.resize(soft, (out_w, out_h), interpolation=cv2.INTER_LINEAR)


def _rounded_rect(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, r: int,
                  color: int | tuple[int, ...]) -> None:
    r = max(0, min(r, (x1 - x0) // 2, (y1 - y0) // 2))
    cv2.rectangle(img, (x0 + r, y0), (x1 - r, y1), color, -1)
    cv2.rectangle(img, (x0, y0 + r), (x1, y1 - r), color, -1)
    for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
        cv2.circle(img, (cx, cy), r, color, -1, lineType=cv2.LINE_AA)


def _phone_canvas(text: str, height: int, dark: bool) -> tuple[np.ndarray, np.ndarray]:
    """The phone seen face-on: BGR image and its 0..255 alpha mask."""
    width = round(height * 0.49)
    body = np.zeros((height, width, 3), np.uint8)
    mask = np.zeros((height, width), np.uint8)
    radius = int(width * 0.12)
    _rounded_rect(mask, 0, 0, width - 1, height - 1, radius, 255)
    _rounded_rect(body, 0, 0, width - 1, height - 1, radius, _BODY_BGR)

    bezel = max(2, int(width * 0.035))
    sx0, sy0, sx1, sy1 = bezel, bezel, width - 1 - bezel, height - 1 - bezel
    screen_bg = _DARK_SCREEN if dark else _LIGHT_SCREEN
    _rounded_rect(body, sx0, sy0, sx1, sy1, int(radius * 0.8), (screen_bg,) * 3)
    sw, sh = sx1 - sx0, sy1 - sy0

    # App header band with placeholder "title" bars, as in the 随申码 page.
    header_h = int(sh * 0.12)
    cv2.rectangle(body, (sx0, sy0 + int(radius * 0.5)), (sx1, sy0 + header_h), _HEADER_BGR, -1)
    bar_y = sy0 + header_h // 2
    cv2.rectangle(body, (sx0 + int(sw * 0.3), bar_y - 4), (sx1 - int(sw * 0.3), bar_y + 4),
                  (235, 245, 235), -1)
    # Name and hint lines under the code.
    ink = (200, 200, 200) if dark else (70, 70, 70)

    matrix = qr_array(text)
    n = matrix.shape[0]
    qr_side = int(sw * 0.86)
    module_px = max(1, math.ceil(qr_side / n))
    # Dark mode shows light modules on a dark screen: the inverted code phones really show.
    qr = np.where(matrix, 230, _DARK_SCREEN) if dark else np.where(matrix, 0, 255)
    qr = np.repeat(np.repeat(qr.astype(np.uint8), module_px, 0), module_px, 1)
    qr = cv2.resize(qr, (qr_side, qr_side), interpolation=cv2.INTER_AREA)
    qx0 = sx0 + (sw - qr_side) // 2
    qy0 = sy0 + header_h + int(sh * 0.1)
    body[qy0:qy0 + qr_side, qx0:qx0 + qr_side] = qr[:, :, None]
    line_y = qy0 + qr_side + int(sh * 0.06)
    for frac in (0.5, 0.7):
        half = int(sw * frac / 2)
        cv2.rectangle(body, (sx0 + sw // 2 - half, line_y), (sx0 + sw // 2 + half, line_y + 6),
                      ink, -1)
        line_y += int(sh * 0.05)
    return body, mask


def _project_quad(w: float, h: float, tilt_deg: float, yaw_deg: float, roll_deg: float,
                  focal: float) -> np.ndarray:
    """Corners of a w x h plane rotated in 3D and seen by a pinhole camera, centred at 0."""
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0],
                        [-w / 2, h / 2, 0]], np.float64)
    t, y, r = (math.radians(a) for a in (tilt_deg, yaw_deg, roll_deg))
    rx = np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    pts = corners @ (rz @ ry @ rx).T
    z = pts[:, 2] + focal
    return np.stack([pts[:, 0] * focal / z, pts[:, 1] * focal / z], axis=1)


def phone_scene(
    text: str,
    *,
    size: tuple[int, int] = (1280, 720),
    tilt_deg: float = 0,
    scale: float = 1.0,
    dark: bool = False,
    rng: np.random.Generator | None = None,
    background: np.ndarray | None = None,
) -> np.ndarray:
    """A BGR camera frame of a phone held up with the QR code of `text` on its lit screen.

    `tilt_deg` leans the phone back (perspective), `scale` 1.0 is a phone held close enough to
    fill most of the frame height, `dark` shows a dark-mode (inverted) code. `rng` sets the
    random pose jitter, placement and noise; `background` replaces the generated hall.
    """
    rng = rng if rng is not None else np.random.default_rng()
    w, h = size
    if background is not None and background.shape[:2] == (h, w):
        frame = background.copy()
    else:
        frame = hall_background(size, rng)

    phone_h = max(60, int(0.92 * h * scale))
    body, mask = _phone_canvas(text, phone_h, dark)
    ph, pw = body.shape[:2]
    # Hands wobble a few degrees and the phone faces the camera only roughly.
    quad = _project_quad(pw, ph, tilt_deg + rng.uniform(-3, 3), rng.uniform(-4, 4),
                         rng.uniform(-4, 4), focal=1.6 * max(w, h))
    span = quad.max(axis=0) - quad.min(axis=0)
    slack = np.maximum(np.array([w, h], np.float64) - span, 0) / 2
    centre = np.array([w / 2, h / 2]) + rng.uniform(-0.5, 0.5, 2) * slack
    dst = quad + centre
    src = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float32)

    # Warp only into the quad's bounding box: a full-frame warp costs several times more.
    x0, y0 = np.floor(dst.min(axis=0)).astype(int)
    x1, y1 = np.ceil(dst.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 > x0 and y1 > y0:
        homography = cv2.getPerspectiveTransform(src, (dst - [x0, y0]).astype(np.float32))
        box = (x1 - x0, y1 - y0)
        warped = cv2.warpPerspective(body, homography, box, flags=cv2.INTER_LINEAR)
        alpha = cv2.warpPerspective(mask, homography, box, flags=cv2.INTER_LINEAR)
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        a = alpha.astype(np.float32)[:, :, None] / 255.0
        # Screen glare: a soft bright band across the phone lowers the code's contrast a bit.
        yy, xx = np.mgrid[0:box[1], 0:box[0]].astype(np.float32)
        band = np.exp(-(((xx - yy * 0.6) - box[0] * rng.uniform(0.2, 0.6)) / (box[0] * 0.18))
                      ** 2)
        glare = (band * rng.uniform(10, 28))[:, :, None]
        mixed = roi * (1 - a) + (warped.astype(np.float32) + glare * a) * a
        frame[y0:y1, x0:x1] = np.clip(mixed, 0, 255).astype(np.uint8)

    frame = cv2.GaussianBlur(frame, (0, 0), 0.8)
    return add_sensor_noise(frame, noise_tile(rng), rng)


_NOISE_OFFSET = 8


def noise_tile(
    rng: np.random.Generator, shape: tuple[int, int] = (256, 320), sigma: float = 3.0
) -> np.ndarray:
    """Gaussian sensor noise as uint8 centred on 8, to be repeated over frames.

    Drawing 2.7 M normal samples per 720p frame costs ~30 ms; a tile repeated over the frame
    looks the same to a person and to a decoder and costs a tenth of that.
    """
    noise = rng.standard_normal((*shape, 3), dtype=np.float32) * sigma + _NOISE_OFFSET
    tile: np.ndarray = np.clip(noise, 0, 2 * _NOISE_OFFSET).astype(np.uint8)
    return tile


def noise_field(tile: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`tile` repeated to cover a `size` frame at any offset within one tile."""
    w, h = size
    th, tw = tile.shape[:2]
    return np.tile(tile, (-(-h // th) + 1, -(-w // tw) + 1, 1))


def add_sensor_noise(
    frame: np.ndarray, noise: np.ndarray, rng: np.random.Generator | None = None
) -> np.ndarray:
    """A new frame: `frame` plus noise (a `noise_tile` or `noise_field`) at a random offset.

    Pre-build a `noise_field` when adding noise to every frame: slicing it costs ~0.5 ms per
    720p frame, tiling a tile anew several times more.
    """
    h, w = frame.shape[:2]
    if noise.shape[0] < h or noise.shape[1] < w:
        noise = noise_field(noise, (w, h))
    spare_y, spare_x = noise.shape[0] - h, noise.shape[1] - w
    if rng is None:
        dy = dx = 0
    else:
        dy, dx = int(rng.integers(spare_y + 1)), int(rng.integers(spare_x + 1))
    view = noise[dy:dy + h, dx:dx + w]
    if frame.ndim == 2:
        view = view[:, :, 0]
    # A scalar would only reach the first channel in OpenCV arithmetic, hence the 4-tuple.
    off = float(_NOISE_OFFSET)
    # OpenCV takes a Scalar (a tuple) as src2, but its stubs declare arrays only.
    noisy: np.ndarray = cv2.subtract(  # type: ignore[call-overload]
        cv2.add(frame, view), (off, off, off, 0.0))
    return noisy
