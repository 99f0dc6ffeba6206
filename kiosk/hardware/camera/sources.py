"""Frame sources: a real USB camera through OpenCV, and the emulated camera.

A source is read by one worker thread. `read()` blocks for at most about one frame interval
and returns a BGR uint8 frame, or None when there is no frame this time; it raises
`CameraUnavailable` when the camera is gone. Returned frames belong to the caller but must be
treated as read-only: a frozen source hands out the same array again.

Health is judged by freshness, not by `read()` succeeding: after an unplug OpenCV may keep
returning the last frame with success (opencv #5221, #6107, #14044). Real sensors never give
two identical frames, so a frame identical to the previous one for more than a second means
the camera is stuck (`FreshnessMonitor`).
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal, Protocol, runtime_checkable

import cv2
import numpy as np

from kiosk.hardware.camera import qrimage


class OpenCVCameraSettings(Protocol):
    """What `OpenCVSource` reads of its config: the `camera` section of the config
    (`kiosk.config.schema.OpenCVCameraConfig`) or its `camera_settings` copy. A protocol, so
    the camera worker process need not import pydantic and the schema to build a source."""

    @property
    def kind(self) -> Literal["opencv"]: ...
    @property
    def device(self) -> int | str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def mjpg(self) -> bool: ...


class EmulatedCameraSettings(Protocol):
    """What `EmulatedSource` reads of its config (`kiosk.config.schema.EmulatedCameraConfig`
    or its `camera_settings` copy)."""

    @property
    def kind(self) -> Literal["emulated"]: ...
    @property
    def source(self) -> Literal["generated", "images", "video", "blank"]: ...
    @property
    def path(self) -> str: ...
    @property
    def resident(self) -> str: ...
    @property
    def interval_s(self) -> float: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def fps(self) -> float: ...

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
STALE_AFTER_S = 1.0


class CameraUnavailable(Exception):
    """The camera cannot deliver frames. `hint` tells a technician what to check."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(f"{message}. {hint}" if hint else message)
        self.message = message
        self.hint = hint


@runtime_checkable
class FrameSource(Protocol):
    fps: float

    def open(self) -> None: ...

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


def _fingerprint(frame: np.ndarray) -> np.ndarray:
    # A sparse sample: sensor noise changes nearly every pixel, so comparing one pixel in 49
    # tells live from frozen frames at a fraction of the cost of a full comparison.
    return frame[::7, ::7].copy()


class FreshnessMonitor:
    """Tracks when the last fresh frame (present and unlike the previous one) arrived.

    Not thread-safe: use it from the thread that reads the frames.
    """

    def __init__(
        self, stale_after_s: float = STALE_AFTER_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._sample: np.ndarray | None = None
        self.last_fresh_at = clock()

    def restart(self) -> None:
        """Start a new grace period (after opening), keeping the last frame for comparison."""
        self.last_fresh_at = self._clock()

    def observe(self, frame: np.ndarray | None, now: float | None = None) -> bool:
        """Record a read; True when `frame` is fresh."""
        if frame is None:
            return False
        now = self._clock() if now is None else now
        sample = _fingerprint(frame)
        prev = self._sample
        if prev is not None and prev.shape == sample.shape and np.array_equal(prev, sample):
            return False
        self._sample = sample
        self.last_fresh_at = now
        return True

    def is_stale(self, now: float | None = None) -> bool:
        now = self._clock() if now is None else now
        return now - self.last_fresh_at > self.stale_after_s


def _device_path(device: int | str) -> str | None:
    if isinstance(device, int):
        return f"/dev/video{device}" if sys.platform.startswith("linux") else None
    return device


def camera_hint(device: int | str) -> str:
    """What a technician should check when `device` does not open."""
    path = _device_path(device)
    if path is None:
        return "Check the USB cable and that no other application is using the camera."
    if not os.path.exists(path):
        return (
            f"{path} does not exist: check the USB cable and that the camera is listed by "
            "`ls -l /dev/v4l/by-id/` (use that stable path as camera.device)"
        )
    if not os.access(path, os.R_OK | os.W_OK):
        return (
            f"permission denied on {path}: add the kiosk user to the `video` group "
            "(`sudo usermod -aG video <user>`, then log in again)"
        )
    return (
        f"{path} exists but did not open: another program may be using it (check with "
        f"`fuser -v {path}`), or it is not a capture node (a camera often has two "
        "/dev/videoN; try the other one, or its /dev/v4l/by-id/...-video-index0 path)"
    )


class OpenCVSource:
    """A V4L2/UVC camera through cv2.VideoCapture."""

    def __init__(self, cfg: OpenCVCameraSettings, *, stale_after_s: float = STALE_AFTER_S) -> None:
        self.cfg = cfg
        self.fps = float(cfg.fps)
        self._device: int | str = (
            int(cfg.device) if isinstance(cfg.device, str) and cfg.device.isdigit() else cfg.device
        )
        self._cap: cv2.VideoCapture | None = None
        self._monitor = FreshnessMonitor(stale_after_s)
        self._negotiated = ""
        # None: never asked (the driver keeps its own setting); "auto"; or driver units.
        self._exposure_wanted: float | Literal["auto"] | None = None
        self._exposure_applied = True

    @property
    def last_fresh_frame_at(self) -> float:
        """time.monotonic() of the last frame that differed from the one before."""
        return self._monitor.last_fresh_at

    @property
    def stale(self) -> bool:
        return self._monitor.is_stale()

    def open(self) -> None:
        self.close()
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        try:
            cap = cv2.VideoCapture(self._device, api)
        except cv2.error as exc:
            raise CameraUnavailable(
                f"cannot open camera {self._device} ({exc})", camera_hint(self._device)
            ) from exc
        if not cap.isOpened():
            cap.release()
            raise CameraUnavailable(
                f"cannot open camera {self._device}", camera_hint(self._device)
            )
        if self.cfg.mjpg:
            # Before the size: V4L2 picks the sizes on offer from the current pixel format,
            # and raw YUYV tops out below 720p30 on USB 2.
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.cfg.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.cfg.height)
        cap.set(cv2.CAP_PROP_FPS, self.cfg.fps)
        # Bounds a read on a camera that stopped streaming; ignored by backends without it.
        cap.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, 1000)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        fourcc_s = "".join(chr((fourcc >> 8 * i) & 0xFF) for i in range(4)).strip("\0 ")
        self._negotiated = (
            f"{int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))}x{int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))}"
            f"@{cap.get(cv2.CAP_PROP_FPS):g} {fourcc_s or '?'}"
        )
        actual_fps = cap.get(cv2.CAP_PROP_FPS)
        if actual_fps and actual_fps > 0:
            self.fps = float(actual_fps)
        self._cap = cap
        self._exposure_applied = False
        self._monitor.restart()

    def _present(self) -> bool:
        path = _device_path(self._device)
        return path is None or os.path.exists(path)

    def read(self) -> np.ndarray | None:
        cap = self._cap
        if cap is None:
            raise CameraUnavailable("camera is not open")
        if not self._exposure_applied:
            self._apply_exposure(cap)
        started = time.monotonic()
        try:
            ok, frame = cap.read()
        except cv2.error as exc:
            log.debug("VideoCapture.read failed: %s", exc)
            ok, frame = False, None
        now = time.monotonic()
        if not ok or frame is None:
            if not self._present():
                raise CameraUnavailable(
                    f"camera {self._device} disconnected", camera_hint(self._device)
                )
            # A failing driver can return at once; without a pause the reader would spin.
            remaining = 1.0 / self.fps - (now - started)
            if remaining > 0:
                time.sleep(remaining)
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        fresh = self._monitor.observe(frame, now)
        if not fresh and self._monitor.is_stale(now) and not self._present():
            raise CameraUnavailable(
                f"camera {self._device} disconnected", camera_hint(self._device)
            )
        return frame

    def close(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()

    @property
    def exposure(self) -> str | None:
        """The exposure as the driver reports it (V4L2 units of 100 µs), with the mode."""
        cap = self._cap
        if cap is None:
            return None
        value = cap.get(cv2.CAP_PROP_EXPOSURE)
        # V4L2 through OpenCV: 3 = aperture priority (auto), 1 = manual; 0.75 / 0.25 on
        # older backends.
        auto = cap.get(cv2.CAP_PROP_AUTO_EXPOSURE) in (3.0, 0.75)
        return f"{value:g}{' (auto)' if auto else ''}"

    def set_exposure(self, value: float | None) -> None:
        """A fixed exposure (driver units), or None for automatic exposure; any thread.

        Applied by the reading thread before its next read (VideoCapture is not safe to use
        from two threads) and again after every reopen.
        """
        self._exposure_wanted = "auto" if value is None else float(value)
        self._exposure_applied = False

    def _apply_exposure(self, cap: cv2.VideoCapture) -> None:
        wanted = self._exposure_wanted
        self._exposure_applied = True
        if wanted is None:
            return
        if isinstance(wanted, float):
            cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, 1)
            cap.set(cv2.CAP_PROP_EXPOSURE, wanted)
        else:
            cap.set(cv2.CAP_PROP_AUTO_EXPOSURE, 3)

    def describe(self) -> str:
        requested = (
            f"{self.cfg.width}x{self.cfg.height}@{self.cfg.fps:g}"
            f"{' MJPG' if self.cfg.mjpg else ''}"
        )
        got = f", got {self._negotiated}" if self._negotiated else ""
        return f"OpenCV camera {self._device} (requested {requested}{got})"


def letterbox(image: np.ndarray, size: tuple[int, int], fill: int = 40) -> np.ndarray:
    """`image` as a BGR uint8 frame of `size` (w, h), scaled to fit and centred."""
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    elif image.shape[2] == 1:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    w, h = size
    ih, iw = image.shape[:2]
    if (iw, ih) == (w, h):
        return np.ascontiguousarray(image)
    scale = min(w / iw, h / ih)
    nw, nh = max(1, round(iw * scale)), max(1, round(ih * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    out = np.full((h, w, 3), fill, np.uint8)
    y0, x0 = (h - nh) // 2, (w - nw) // 2
    out[y0:y0 + nh, x0:x0 + nw] = resized
    return out


_UNPLUGGED_HINT = "emulated camera unplugged (call plug() to restore it)"


class EmulatedSource:
    """The camera of demos and CI: generated scenes, image folders or a looping video.

    Control methods (`show_text`, `freeze`, `unplug`, ...) may be called from any thread
    while another thread reads; they only record what to show, and the reading thread renders
    it (once per text: frames are cached, only sensor noise is added per frame).
    """

    _TEXT_CACHE = 8

    def __init__(
        self,
        cfg: EmulatedCameraSettings,
        code_factory: Callable[[], str] | None = None,
        *,
        show_s: float = 3.0,
        image_s: float = 1.0,
        seed: int | None = None,
    ) -> None:
        self.cfg = cfg
        self.fps = float(cfg.fps)
        self._size = (cfg.width, cfg.height)
        self._period = 1.0 / self.fps
        self._show_s = show_s
        self._image_s = image_s
        self._demo_counter = itertools.count(1)
        self._code_factory = code_factory or self._placeholder_code
        self._rng = np.random.default_rng(seed)

        # Written by control methods, read by the reader; guarded by _lock.
        self._lock = threading.Lock()
        self._override: tuple[str, str | np.ndarray | None] | None = None
        self._override_version = 0
        self._freeze = False
        self._no_frames = False
        self._unplugged = False
        self._dead_session = False  # set by unplug(): a reopen is needed even after plug()
        self._exposure: float | None = None

        # For measurements (benchmarks/e2e_scan_to_print.py): when the first frame showing
        # the latest `show_*`/`blank`/`resume` was returned (time.monotonic), and a callback
        # told of it from the reading thread (the camera worker forwards it to the GUI).
        self.override_shown_at = 0.0
        self.on_shown: Callable[[float], None] | None = None
        self._shown_version = 0

        # Reader-thread state.
        self._opened = False
        self._background: np.ndarray | None = None
        self._noise: np.ndarray | None = None
        self._t0 = 0.0
        self._next_due = 0.0
        self._last_frame: np.ndarray | None = None
        self._frozen: np.ndarray | None = None
        self._text_frames: OrderedDict[str, np.ndarray] = OrderedDict()
        self._override_frame: tuple[int, np.ndarray] | None = None
        self._cycle = -1
        self._cycle_frame: np.ndarray | None = None
        self._images: list[Path] = []
        self._image_index = -1
        self._image_frame: np.ndarray | None = None
        self._video: cv2.VideoCapture | None = None

    def _placeholder_code(self) -> str:
        # Without a factory (no signing key at hand) show something that is visibly a demo;
        # the verifier refuses it as not ours.
        return f"KIOSK-DEMO-{self.cfg.resident}-{next(self._demo_counter)}"

    # -- control (any thread) --------------------------------------------------------------

    def show_text(self, text: str, *, dark: bool = False) -> None:
        """Hold up a phone showing the QR code of exactly `text` until `blank()`."""
        self._set_override(("dark" if dark else "text", text))

    def show_image(self, frame: np.ndarray) -> None:
        """Show `frame` (BGR or grayscale, any size: it is letterboxed) until `blank()`."""
        arr = np.asarray(frame)
        if arr.ndim not in (2, 3):
            raise ValueError(f"expected an image array, got shape {arr.shape}")
        self._set_override(("image", arr.copy()))

    def blank(self) -> None:
        """Take away whatever was shown: an empty hall until `show_*` or `resume()`."""
        self._set_override(("blank", None))

    def resume(self) -> None:
        """Back to the configured feed (cfg.source) after `show_*` or `blank()`."""
        self._set_override(None)

    def freeze(self) -> None:
        """Keep returning the last frame, as an unplugged OpenCV camera does, until `plug()`."""
        with self._lock:
            self._freeze = True

    def stop_frames(self) -> None:
        """`read()` returns None until `plug()`."""
        with self._lock:
            self._no_frames = True

    def unplug(self) -> None:
        """`read()` and `open()` raise CameraUnavailable until `plug()` (then reopen)."""
        with self._lock:
            self._unplugged = True
            self._dead_session = True

    def plug(self) -> None:
        """Undo `unplug()`, `freeze()` and `stop_frames()`."""
        with self._lock:
            self._unplugged = False
            self._freeze = False
            self._no_frames = False

    def set_exposure(self, value: float | None) -> None:
        """Recorded and reported like a real camera's (the scene is rendered as it is)."""
        with self._lock:
            self._exposure = None if value is None else float(value)

    @property
    def exposure(self) -> str | None:
        """As a real camera reports it: automatic until a fixed value is set."""
        value = self._exposure
        return "auto (emulated)" if value is None else f"{value:g} (emulated)"

    def _set_override(self, value: tuple[str, str | np.ndarray | None] | None) -> None:
        with self._lock:
            self._override = value
            self._override_version += 1

    # -- FrameSource (the reading thread) ---------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._opened

    def open(self) -> None:
        with self._lock:
            if self._unplugged:
                raise CameraUnavailable(_UNPLUGGED_HINT)
            self._dead_session = False
        if self._opened:
            return
        if self._background is None:
            self._background = qrimage.hall_background(self._size, self._rng)
            self._noise = qrimage.noise_field(qrimage.noise_tile(self._rng), self._size)
        source = self.cfg.source
        if source == "images":
            self._images = self._list_images()
            self._image_index = -1
        elif source == "video":
            self._video = self._open_video()
        self._t0 = self._next_due = time.monotonic()
        self._cycle = -1
        self._opened = True

    def close(self) -> None:
        self._opened = False
        video, self._video = self._video, None
        if video is not None:
            video.release()

    def describe(self) -> str:
        w, h = self._size
        where = f" {self.cfg.path}" if self.cfg.source in ("images", "video") else ""
        return f"emulated camera ({self.cfg.source}{where}, {w}x{h}@{self.fps:g})"

    def read(self) -> np.ndarray | None:
        with self._lock:
            unplugged = self._unplugged or self._dead_session
            no_frames, freeze = self._no_frames, self._freeze
            override, version = self._override, self._override_version
        if unplugged:
            raise CameraUnavailable(_UNPLUGGED_HINT)
        if not self._opened:
            raise CameraUnavailable("emulated camera is not open")
        self._pace()
        if no_frames:
            return None
        if not freeze:
            self._frozen = None
        elif self._frozen is not None:
            return self._frozen
        base = self._base_frame(override, version, time.monotonic())
        assert self._noise is not None
        frame = qrimage.add_sensor_noise(base, self._noise, self._rng)
        if version != self._shown_version and not freeze:
            self._shown_version = version
            self.override_shown_at = shown_at = time.monotonic()
            if self.on_shown is not None:
                self.on_shown(shown_at)
        if freeze:
            self._frozen = self._last_frame if self._last_frame is not None else frame
            return self._frozen
        self._last_frame = frame
        return frame

    def _pace(self) -> None:
        now = time.monotonic()
        delay = self._next_due - now
        if delay > 0:
            time.sleep(delay)
        elif delay < -self._period:
            # Fell behind (a slow render or a paused reader): do not burst to catch up.
            self._next_due = now
        self._next_due += self._period

    def _base_frame(
        self,
        override: tuple[str, str | np.ndarray | None] | None,
        version: int,
        now: float,
    ) -> np.ndarray:
        assert self._background is not None
        if override is not None:
            kind, value = override
            if kind in ("text", "dark") and isinstance(value, str):
                return self._text_frame(value, dark=kind == "dark")
            if kind == "image" and isinstance(value, np.ndarray):
                if self._override_frame is None or self._override_frame[0] != version:
                    self._override_frame = (version, letterbox(value, self._size))
                return self._override_frame[1]
            return self._background
        source = self.cfg.source
        if source == "generated":
            return self._generated_frame(now)
        if source == "images":
            return self._images_frame(now)
        if source == "video":
            return self._video_frame()
        return self._background

    def _text_frame(self, text: str, *, dark: bool = False) -> np.ndarray:
        key = f"{int(dark)}{text}"
        frame = self._text_frames.get(key)
        if frame is None:
            frame = qrimage.phone_scene(
                text, size=self._size, dark=dark, rng=self._rng, background=self._background
            )
            self._text_frames[key] = frame
            while len(self._text_frames) > self._TEXT_CACHE:
                self._text_frames.popitem(last=False)
        else:
            self._text_frames.move_to_end(key)
        return frame

    def _generated_frame(self, now: float) -> np.ndarray:
        assert self._background is not None
        cycle, phase = divmod(now - self._t0, self.cfg.interval_s + self._show_s)
        if phase < self.cfg.interval_s:
            return self._background
        if int(cycle) != self._cycle or self._cycle_frame is None:
            self._cycle = int(cycle)
            # A fresh code each time the phone comes up, as a resident's app would show;
            # sometimes in dark mode and leaning, as phones are really held.
            self._cycle_frame = qrimage.phone_scene(
                self._code_factory(),
                size=self._size,
                tilt_deg=float(self._rng.uniform(-12, 12)),
                dark=bool(self._rng.random() < 0.25),
                rng=self._rng,
                background=self._background,
            )
        return self._cycle_frame

    def _list_images(self) -> list[Path]:
        folder = Path(self.cfg.path)
        if not self.cfg.path or not folder.is_dir():
            raise CameraUnavailable(
                f"emulated camera: image folder {self.cfg.path!r} not found",
                "set camera.path to a folder of PNG/JPEG files",
            )
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise CameraUnavailable(
                f"emulated camera: no images in {folder}",
                f"put files ending in {', '.join(sorted(IMAGE_SUFFIXES))} there",
            )
        return files

    def _images_frame(self, now: float) -> np.ndarray:
        assert self._background is not None
        index = int((now - self._t0) / self._image_s) % len(self._images)
        if index != self._image_index:
            self._image_index = index
            image = cv2.imread(str(self._images[index]), cv2.IMREAD_COLOR)
            if image is None:
                log.warning("emulated camera: cannot read %s", self._images[index])
                self._image_frame = self._background
            else:
                self._image_frame = letterbox(image, self._size)
        assert self._image_frame is not None
        return self._image_frame

    def _open_video(self) -> cv2.VideoCapture:
        path = self.cfg.path
        video = cv2.VideoCapture(path) if path and Path(path).is_file() else None
        if video is None or not video.isOpened():
            if video is not None:
                video.release()
            raise CameraUnavailable(
                f"emulated camera: cannot open video {path!r}",
                "set camera.path to a video file OpenCV can read (e.g. MJPG .avi or .mp4)",
            )
        return video

    def _video_frame(self) -> np.ndarray:
        if self._video is None:
            self._video = self._open_video()
        ok, frame = self._video.read()
        if not ok:
            # End of file: loop. Some containers do not seek, so reopen if that fails.
            self._video.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._video.read()
            if not ok:
                self._video.release()
                self._video = self._open_video()
                ok, frame = self._video.read()
        if not ok or frame is None:
            raise CameraUnavailable(f"emulated camera: no frames in video {self.cfg.path!r}")
        return letterbox(frame, self._size)


def camera_settings(data: dict[str, Any]) -> Any:
    """A camera config section from its `model_dump()`, as plain attributes.

    The sources only read attributes of their config; the camera worker process builds its
    source from this rather than from the pydantic model, which it would have to import
    (with the whole schema) to unpickle.
    """
    return SimpleNamespace(**data)


def make_source(
    cfg: EmulatedCameraSettings | OpenCVCameraSettings,
    code_factory: Callable[[], str] | None = None,
) -> FrameSource:
    """The frame source for a `camera` config section (a model or `camera_settings`)."""
    kind = getattr(cfg, "kind", None)
    if cfg.kind == "emulated":
        return EmulatedSource(cfg, code_factory)
    if cfg.kind == "opencv":
        return OpenCVSource(cfg)
    raise TypeError(f"unsupported camera config {type(cfg).__name__} (kind {kind!r})")
