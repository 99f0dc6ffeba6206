"""QR decoders over camera frames.

Every decoder returns only printable ASCII texts: our payloads are ASCII, and anything else
is either someone else's code or a misread (ZBar guesses Shift-JIS or Big5 for UTF-8 bytes).
Dropping such results here keeps control characters (the "BadBarcode" attack) and mojibake
out of the rest of the kiosk.

A decoder instance is not thread-safe; give each thread its own (see `make_decoder`).
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import zxingcpp
from pyzbar import pyzbar
from pyzbar.pyzbar_error import PyZbarError

log = logging.getLogger(__name__)

DECODER_NAMES = ("pyzbar", "zxing", "opencv", "combined")


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
                formats=zxingcpp.BarcodeFormat.QRCode,
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


class CombinedDecoder:
    """zxing-cpp on the frame, then on its inverse (dark-mode phones), then ZBar on a
    contrast-enhanced copy for washed-out screens (glare, low backlight)."""

    name = "combined"

    # Most frames hold no code, so the last step sets the cost of an idle kiosk. ZBar on a
    # CLAHE-enhanced 1280x720 frame takes ~25 ms on one core (CLAHE lifts the noise into
    # edges ZBar follows); at 960 px wide it takes ~12 ms and read the same washed-out, dim
    # and blurred phone scenes.
    ZBAR_MAX_WIDTH = 960

    def __init__(self) -> None:
        self._zxing = ZxingDecoder(try_invert=False)
        self._zbar = PyzbarDecoder()
        self._clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))

    def decode(self, frame_bgr: np.ndarray) -> list[str]:
        if not _usable(frame_bgr):
            return []
        gray = to_gray(frame_bgr)
        found = self._zxing.decode_gray(gray)
        if found:
            return found
        found = self._zxing.decode_gray(cv2.bitwise_not(gray))
        if found:
            return found
        h, w = gray.shape[:2]
        try:
            if w > self.ZBAR_MAX_WIDTH:
                size = (self.ZBAR_MAX_WIDTH, max(1, round(h * self.ZBAR_MAX_WIDTH / w)))
                gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
            enhanced = self._clahe.apply(gray)
        except cv2.error as exc:
            log.debug("CLAHE failed: %s", exc)
            return []
        return self._zbar.decode_gray(enhanced)


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
