"""QR decoders over camera frames.

Every decoder returns only printable ASCII texts: our payloads are ASCII, and anything else
is either someone else's code or a misread (ZBar guesses Shift-JIS or Big5 for UTF-8 bytes).
Dropping such results here keeps control characters (the "BadBarcode" attack) and mojibake
out of the rest of the kiosk.

A decoder instance is not thread-safe; give each thread its own (see `make_decoder`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar
from pyzbar.pyzbar_error import PyZbarError

log = logging.getLogger(__name__)

DECODER_NAMES = ("pyzbar", "zxing", "opencv", "combined")

_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@runtime_checkable
class Decoder(Protocol):
    name: str

    def decode(self, frame_bgr: np.ndarray) -> list[str]:
        """Texts of the QR codes in the frame (BGR or grayscale uint8), in order found."""
        ...


def to_gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 1:
        return frame[:, :, 0]
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


def accept_text(raw: bytes | str) -> str | None:
    """The text if it is non-empty printable ASCII, else None."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    else:
        text = raw
    if not text or not text.isascii() or not text.isprintable():
        return None
    return text


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def _usable(frame: np.ndarray) -> bool:
    return (
        isinstance(frame, np.ndarray)
        and frame.dtype == np.uint8
        and frame.ndim in (2, 3)
        and frame.shape[0] >= 21
        and frame.shape[1] >= 21
    )


class PyzbarDecoder:
    """ZBar through pyzbar. Tolerant of blur; the slowest on large frames."""

    name = "pyzbar"

    def decode(self, frame_bgr: np.ndarray) -> list[str]:
        if not _usable(frame_bgr):
            return []
        return self.decode_gray(to_gray(frame_bgr))

    def decode_gray(self, gray: np.ndarray) -> list[str]:
        try:
            results = pyzbar.decode(
                np.ascontiguousarray(gray), symbols=[pyzbar.ZBarSymbol.QRCODE]
            )
        except (PyZbarError, ValueError, TypeError, OSError) as exc:
            log.debug("pyzbar failed: %s", exc)
            return []
        return _unique([t for r in results if (t := accept_text(r.data)) is not None])


class ZxingDecoder:
    """zxing-cpp. Fast and robust; `try_invert` also finds light-on-dark codes."""

    name = "zxing"

    def __init__(self, *, try_invert: bool = True) -> None:
        self._try_invert = try_invert

    def decode(self, frame_bgr: np.ndarray) -> list[str]:
        if not _usable(frame_bgr):
            return []
        return self.decode_gray(to_gray(frame_bgr))

    def decode_gray(self, gray: np.ndarray, *, try_invert: bool | None = None) -> list[str]:
        invert = self._try_invert if try_invert is None else try_invert
        try:
            results = zxingcpp.read_barcodes(
                np.ascontiguousarray(gray),
                formats=_QR_ONLY,
                try_invert=invert,
            )
        except (RuntimeError, ValueError, TypeError) as exc:
            log.debug("zxing-cpp failed: %s", exc)
            return []
        # The raw bytes, not `.text`: the text is already transcoded by a charset guess.
        return _unique([t for r in results if r.valid and (t := accept_text(r.bytes))])


class OpenCVDecoder:
    """OpenCV's QR detector: no extra native library, the slowest of the three."""

    name = "opencv"

    def __init__(self) -> None:
        # The ArUco-based finder locates codes on camera frames far more reliably than the
        # classic QRCodeDetector (10/10 against 8/10 on our phone scenes) and in about half
        # the time; the classic one is the fallback for builds without it.
        factory = getattr(cv2, "QRCodeDetectorAruco", None) or cv2.QRCodeDetector
        self._detector = factory()

    def decode(self, frame_bgr: np.ndarray) -> list[str]:
        if not _usable(frame_bgr):
            return []
        gray = to_gray(frame_bgr)
        try:
            if hasattr(self._detector, "detectAndDecodeBytesMulti"):
                ok, infos, _, _ = self._detector.detectAndDecodeBytesMulti(gray)
            else:
                ok, infos, _, _ = self._detector.detectAndDecodeMulti(gray)
        except cv2.error as exc:
            log.debug("OpenCV QR detector failed: %s", exc)
            return []
        if not ok:
            return []
        return _unique([t for raw in infos if (t := accept_text(raw)) is not None])


Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, end exclusive


def unsharp(gray: np.ndarray, amount: float, sigma: float) -> np.ndarray:
    """`gray` with its detail above `sigma` pixels amplified by `amount` (unsharp mask)."""
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1.0 + amount, blurred, -amount, 0)


def textured_region(gray: np.ndarray) -> Box | None:
    """Where the frame is busiest with fine detail: the likeliest place of a code.

    The hall behind a resident is out of focus, so a code's modules are the densest fine
    texture in the frame. Detail is measured at half size (a small code has about 3 px per
    module: at quarter size the modules would already be averaged away), pooled over
    40x40 px windows in steps of 8 px, and the box grown from the busiest window over every
    window at least 30% as busy (glare flattens part of a code; the box must still hold all
    of it). On 900 benchmark frames, with CombinedDecoder's margin, the box holds the whole
    code in 884 and at least 98% of it in 896.
    """
    h, w = gray.shape[:2]
    if h < 64 or w < 64:
        return None
    half = cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    detail = cv2.absdiff(half, cv2.blur(half, (3, 3)))
    cells = cv2.resize(detail, (w // 8, h // 8), interpolation=cv2.INTER_AREA)
    energy = cv2.blur(cells.astype(np.float32), (5, 5))
    _, peak, _, (px, py) = cv2.minMaxLoc(energy)
    if peak < 2.0:  # a flat frame: nothing to look at
        return None
    mask = (energy >= 0.3 * peak).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x, y, bw, bh, _ = stats[labels[py, px]]
    return (int(x * 8), int(y * 8), int(min(w, (x + bw) * 8)), int(min(h, (y + bh) * 8)))


def _quad_box(position: zxingcpp.Position) -> Box:
    corners = (position.top_left, position.top_right, position.bottom_right,
               position.bottom_left)
    xs = [int(c.x) for c in corners]
    ys = [int(c.y) for c in corners]
    return (min(xs), min(ys), max(xs) + 1, max(ys) + 1)


def _overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / max(smaller, 1)


class CombinedDecoder:
    """The kiosk's pipeline: zxing-cpp on the frame, on a sharpened frame, then a close look
    at the code's region (upscaled and sharpened, and ZBar there), within a time budget.

    Every step is there because it read frames the steps before it could not, measured with
    `kiosk scan-bench --compare` (see docs/PERFORMANCE.md):

    1. zxing-cpp as is (both polarities, its own downscaling): most frames end here, at
       the speed of zxing-cpp alone. A code it finds but cannot decode leaves its position.
    2. zxing-cpp on an unsharp-masked frame: camera defocus and motion blur melt the
       modules together; sharpening pulls them apart (the largest gain: about 6% of the
       benchmark frames).
    3. A close look at the most textured region (a code's modules are the finest texture
       in front of an out-of-focus hall), then at codes zxing-cpp located: upscaled 2x and
       3x so that a small code has enough pixels per module for the sampling grid, and
       sharpened, for zxing-cpp; then ZBar on the region in both polarities, which follows
       blurred edges its own way (about 3% and 0.4% of the frames).

    Results are never merged across steps: each step's texts come from one successful
    Reed-Solomon decode, so a step adds reads, not guesses. A frame a step reads but whose
    texts are all refused (non-ASCII, control characters) ends the search: the code was
    read, it just is not one of ours.
    """

    name = "combined"

    # A frame at 30 fps lasts 33 ms and the decode thread shares the core with capture and
    # the GUI; steps that would start after this many ms are skipped (a code held up is
    # seen again in the next frame anyway). Counted in the decode thread's CPU time, not
    # wall time: the same frame gets the same steps however busy the machine is, so the
    # benchmark is repeatable, and on the kiosk's own core the two are the same.
    BUDGET_MS = 22.0
    SHARPEN_AMOUNT = 2.5
    SHARPEN_SIGMA = 1.5
    REGION_MARGIN = 0.1
    REGION_MAX_SIDE = 800  # pixels after upscaling: bounds the cost of a large region
    # (upscale, sharpening amount) for the close look: 2x suits most small codes; 3x with
    # stronger sharpening reads a few small, blurred ones 2x does not.
    REGION_PASSES = ((2.0, 1.5), (3.0, 2.5))
    MAX_REGIONS = 2

    def __init__(
        self, *, budget_ms: float | None = None, clock: Callable[[], float] = time.thread_time
    ) -> None:
        self._budget_s = (self.BUDGET_MS if budget_ms is None else budget_ms) / 1000.0
        self._clock = clock
        self._zbar = PyzbarDecoder()
        # Which step read the last frame ("" if none): for the benchmark's breakdown.
        self.last_step = ""

    def decode(self, frame_bgr: np.ndarray) -> list[str]:
        self.last_step = ""
        if not _usable(frame_bgr):
            return []
        deadline = self._clock() + self._budget_s
        gray = np.ascontiguousarray(to_gray(frame_bgr))
        located: list[Box] = []

        found = self._zxing(gray, located=located)
        if found is not None:
            return self._done("zxing", found)
        if self._clock() > deadline:
            return []
        try:
            sharp = unsharp(gray, self.SHARPEN_AMOUNT, self.SHARPEN_SIGMA)
        except cv2.error as exc:
            log.debug("sharpening failed: %s", exc)
            return []
        found = self._zxing(sharp, located=located)
        if found is not None:
            return self._done("sharpened", found)

        for i, box in enumerate(self._regions(gray, located)):
            if self._clock() > deadline:
                return []
            # ZBar only where the code most likely is: it is the slowest look, and on the
            # benchmark sets it never read a code in a second region.
            found = self._region(gray, box, deadline, zbar=i == 0)
            if found is not None:
                return found
        return []

    def _done(self, step: str, found: list[str]) -> list[str]:
        self.last_step = step
        return found

    def _zxing(
        self, gray: np.ndarray, *, located: list[Box] | None = None, downscale: bool = True
    ) -> list[str] | None:
        """Texts zxing-cpp read (maybe none acceptable), or None if it read no code at all."""
        try:
            results = zxingcpp.read_barcodes(
                gray,
                formats=_QR_ONLY,
                try_invert=True,
                try_downscale=downscale,
                return_errors=located is not None,
            )
        except (RuntimeError, ValueError, TypeError) as exc:
            log.debug("zxing-cpp failed: %s", exc)
            return None
        texts: list[str] = []
        read = False
        for r in results:
            if r.valid:
                read = True
                if (t := accept_text(r.bytes)) is not None:
                    texts.append(t)
            elif located is not None:
                located.append(_quad_box(r.position))
        return _unique(texts) if read else None

    def _regions(self, gray: np.ndarray, located: list[Box]) -> list[Box]:
        """Up to MAX_REGIONS boxes (with a margin) to look at closely.

        The textured region first: it nearly always holds the whole code, while what
        zxing-cpp locates without decoding is as often one finder pattern as the whole code.
        Its boxes come next, for a background busier than a hall's.
        """
        h, w = gray.shape[:2]
        try:
            textured = textured_region(gray)
        except cv2.error as exc:
            log.debug("texture search failed: %s", exc)
            textured = None
        candidates = ([textured] if textured is not None else []) + located
        boxes: list[Box] = []
        for x0, y0, x1, y1 in candidates:
            side = max(x1 - x0, y1 - y0)
            if side < 24:  # a finder-pattern fragment, not a code
                continue
            m = int(side * self.REGION_MARGIN)
            box = (max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m))
            if all(_overlap(box, b) < 0.6 for b in boxes):
                boxes.append(box)
            if len(boxes) == self.MAX_REGIONS:
                break
        return boxes

    def _region(
        self, gray: np.ndarray, box: Box, deadline: float, *, zbar: bool
    ) -> list[str] | None:
        x0, y0, x1, y1 = box
        crop = gray[y0:y1, x0:x1]
        side = max(crop.shape[:2])
        done_scales: list[float] = []
        for wanted, amount in self.REGION_PASSES:
            scale = max(1.0, min(wanted, self.REGION_MAX_SIDE / max(side, 1)))
            if any(abs(scale - s) < 0.25 for s in done_scales):
                continue  # a large region: capped to the scale already tried
            if done_scales and self._clock() > deadline:
                return None
            done_scales.append(scale)
            try:
                big = crop if scale < 1.1 else cv2.resize(
                    crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
                sharp = unsharp(big, amount, self.SHARPEN_SIGMA * scale)
            except cv2.error as exc:
                log.debug("region preparation failed: %s", exc)
                return None
            # Upscaled, the code is large enough; zxing-cpp's own downscaling would undo it.
            found = self._zxing(np.ascontiguousarray(sharp), downscale=False)
            if found is not None:
                return self._done("region", found)
        if not zbar:
            return None
        for candidate in (crop, cv2.bitwise_not(crop)):
            if self._clock() > deadline:
                return None
            found = self._zbar.decode_gray(np.ascontiguousarray(candidate))
            if found:
                return self._done("region-zbar", found)
        return None


def make_decoder(name: str) -> Decoder:
    """A new decoder by its configuration name (see `ScannerConfig.decoder`)."""
    factories: dict[str, type[Decoder]] = {
        "pyzbar": PyzbarDecoder,
        "zxing": ZxingDecoder,
        "opencv": OpenCVDecoder,
        "combined": CombinedDecoder,
    }
    try:
        return factories[name]()
    except KeyError:
        raise ValueError(
            f"unknown decoder {name!r}; expected one of {', '.join(DECODER_NAMES)}"
        ) from None
