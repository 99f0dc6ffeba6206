"""QR decoding benchmark: `kiosk make-bench DIR` writes a set, `kiosk scan-bench DIR` runs it.

A benchmark set is a folder of camera frames (`name.png` or `name.jpg`) each with the exact
text its code holds beside it (`name.txt`). `scan_bench_command` runs a decoder over every
frame and reports how many it read exactly, how many it read wrongly (a text that differs
from the expected one: a misread the kiosk must never act on) and the time per frame; with
`compare` it runs pyzbar, zxing-cpp and OpenCV alone on the same frames in the same run, so
the ratios against the best of them hold on a noisy shared machine where absolute times
drift.

`make_bench_set` draws what a kiosk's USB camera sees when residents hold up their phones:
1280x720 frames of a lit phone screen showing one of our signed payloads, leaning and turned
in the hand, small (held far) to large (held close), out of focus or shaken, with sensor
noise, MJPG/JPEG artefacts, specular glare on the glass, moiré from the screen's pixel grid
and dark-mode (light-on-dark) codes. The mix is meant to be hard: ZBar alone reads roughly
half to three quarters of it.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.common import resources
from kiosk.common.exitcodes import EXIT_BAD_INPUT, EXIT_OK
from kiosk.domain import payloads
from kiosk.hardware.camera import qrimage
from kiosk.hardware.camera.decoder import DECODER_NAMES, Decoder, make_decoder

FRAME_SIZE = (1280, 720)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SINGLE_DECODERS = ("pyzbar", "zxing", "opencv")
DEMO_KEY = resources.demo_signing_key()
DEMO_KEY_ID = "demo"


# -- the benchmark set ----------------------------------------------------------------------


@dataclass(frozen=True)
class Shot:
    """How one frame is taken; drawn at random by `draw_shot`, recorded in the set's index."""

    dark: bool
    phone_frac: float  # phone height / frame height
    pitch: float
    yaw: float
    roll: float
    focal_frac: float  # focal length / frame width (a wide webcam lens is about 0.7)
    screen_gain: float  # how bright the screen comes out at the camera's exposure
    reflection: float  # hall light reflected by the glass: lifts the dark modules
    glare: float  # peak of a specular hotspot, 0 for none
    moire: float  # amplitude of the moiré bands, 0 for none
    defocus: float  # Gaussian sigma of the lens blur in pixels
    motion: int  # motion-blur length in pixels, 0 for none
    noise: float  # sensor noise sigma
    jpeg: int  # JPEG quality, 0 for a lossless PNG

    def describe(self) -> str:
        parts = [
            "dark" if self.dark else "light",
            f"size={self.phone_frac:.2f}",
            f"pitch={self.pitch:+.0f}",
            f"yaw={self.yaw:+.0f}",
            f"roll={self.roll:+.0f}",
            f"blur={self.defocus:.1f}",
        ]
        if self.motion:
            parts.append(f"motion={self.motion}")
        if self.glare:
            parts.append(f"glare={self.glare:.0f}")
        if self.moire:
            parts.append(f"moire={self.moire:.2f}")
        parts.append(f"noise={self.noise:.1f}")
        parts.append(f"jpeg={self.jpeg}" if self.jpeg else "png")
        return " ".join(parts)


def draw_shot(rng: np.random.Generator) -> Shot:
    """A random but plausible way a resident holds a phone up to the kiosk camera."""
    size_class = rng.random()
    if size_class < 0.25:  # held at arm's length or low in the frame: a small code
        phone_frac = rng.uniform(0.55, 0.7)
    elif size_class < 0.75:
        phone_frac = rng.uniform(0.7, 1.0)
    else:  # pushed right up to the lens
        phone_frac = rng.uniform(1.0, 1.35)
    turn = rng.random()
    if turn < 0.7:
        roll = rng.uniform(-15, 15)
    elif turn < 0.95:
        roll = rng.uniform(-50, 50)
    else:  # landscape or upside down
        roll = float(rng.choice([90, -90, 180])) + rng.uniform(-10, 10)
    return Shot(
        dark=bool(rng.random() < 0.25),
        phone_frac=float(phone_frac),
        pitch=float(np.clip(rng.normal(0, 12), -35, 35)),
        yaw=float(np.clip(rng.normal(0, 10), -30, 30)),
        roll=float(roll),
        focal_frac=float(rng.uniform(0.7, 1.6)),
        screen_gain=float(rng.uniform(0.6, 1.3)),
        reflection=float(rng.uniform(0, 60) if rng.random() < 0.4 else 0.0),
        glare=float(rng.uniform(60, 220) if rng.random() < 0.35 else 0.0),
        moire=float(rng.uniform(0.05, 0.2) if rng.random() < 0.3 else 0.0),
        defocus=float(rng.uniform(0.5, 1.2) if rng.random() < 0.75 else rng.uniform(1.2, 1.8)),
        motion=int(rng.integers(3, 8)) if rng.random() < 0.15 else 0,
        noise=float(rng.uniform(2, 5) if rng.random() < 0.8 else rng.uniform(5, 8)),
        jpeg=int(rng.integers(45, 93)) if rng.random() < 0.8 else 0,
    )


def _phone_face(
    text: str, height: int, dark: bool
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int]]:
    """A phone seen face-on: BGR image, alpha, and the code's (x0, y0, side) on it.

    Drawn here rather than taken from `qrimage.phone_scene` so that the benchmark places
    and damages the code itself (and knows where it is) instead of measuring decoders on the
    very scenes the emulated camera shows.
    """
    width = round(height * 0.48)
    face = np.zeros((height, width, 3), np.uint8)
    face[:] = (40, 38, 36)
    alpha = np.zeros((height, width), np.uint8)
    r = int(width * 0.12)
    cv2.rectangle(alpha, (r, 0), (width - 1 - r, height - 1), 255, -1)
    cv2.rectangle(alpha, (0, r), (width - 1, height - 1 - r), 255, -1)
    for cx, cy in ((r, r), (width - 1 - r, r), (r, height - 1 - r),
                   (width - 1 - r, height - 1 - r)):
        cv2.circle(alpha, (cx, cy), r, 255, -1, lineType=cv2.LINE_AA)
    bezel = max(2, int(width * 0.035))
    screen = 22 if dark else 248
    face[bezel:height - bezel, bezel:width - bezel] = screen
    sw = width - 2 * bezel
    sh = height - 2 * bezel
    header = int(sh * 0.11)
    face[bezel:bezel + header, bezel:width - bezel] = (69, 162, 43)
    matrix = qrimage.qr_array(text)
    n = matrix.shape[0]
    side = int(sw * 0.88)
    dark_v, light_v = (230, 22) if dark else (0, 255)
    modules = np.where(matrix, dark_v, light_v).astype(np.uint8)
    up = max(1, math.ceil(side / n)) * 4
    code = cv2.resize(np.repeat(np.repeat(modules, up, 0), up, 1), (side, side),
                      interpolation=cv2.INTER_AREA)
    x0 = bezel + (sw - side) // 2
    y0 = bezel + header + int(sh * 0.09)
    face[y0:y0 + side, x0:x0 + side] = code[:, :, None]
    ink = (190, 190, 190) if dark else (80, 80, 80)
    y = y0 + side + int(sh * 0.05)
    for frac in (0.55, 0.75):
        half = int(sw * frac / 2)
        cv2.rectangle(face, (width // 2 - half, y), (width // 2 + half, y + max(2, sh // 90)),
                      ink, -1)
        y += int(sh * 0.045)
    return face, alpha, (x0, y0, side)


def _rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    t, y, r = (math.radians(a) for a in (pitch, yaw, roll))
    rx = np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    rotation: np.ndarray = rz @ ry @ rx
    return rotation


def _project(points: np.ndarray, rot: np.ndarray, focal: float) -> np.ndarray:
    """Plane points (x, y) centred at 0, turned by `rot` and seen by a pinhole at `focal`."""
    pts = np.column_stack([points, np.zeros(len(points))]) @ rot.T
    z = pts[:, 2] + focal
    return np.stack([pts[:, 0] * focal / z, pts[:, 1] * focal / z], axis=1)


def render_shot(
    text: str, shot: Shot, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The BGR camera frame of `shot` with the code of `text` on the phone (before JPEG),
    and the code's bounding box (x0, y0, x1, y1)."""
    w, h = FRAME_SIZE
    frame = qrimage.hall_background(FRAME_SIZE, rng).astype(np.float32)
    phone_h = max(80, int(h * shot.phone_frac))
    face, alpha, (qx, qy, side) = _phone_face(text, phone_h, shot.dark)
    ph, pw = face.shape[:2]
    rot = _rotation(shot.pitch, shot.yaw, shot.roll)
    focal = shot.focal_frac * w
    corners = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float64)
    code = np.array([[qx, qy], [qx + side, qy], [qx + side, qy + side], [qx, qy + side]],
                    np.float64)
    centre = np.array([pw / 2, ph / 2])
    quad = _project(corners - centre, rot, focal)
    code_quad = _project(code - centre, rot, focal)
    # Anywhere the whole code (and a quiet margin) stays inside the frame; the phone body
    # may leave it, as a phone held close does.
    margin = 0.02 * h
    lo = -code_quad.min(axis=0) + margin
    hi = np.array([w, h], np.float64) - code_quad.max(axis=0) - margin
    offset = np.where(hi > lo, lo + rng.random(2) * np.maximum(hi - lo, 0), (lo + hi) / 2)
    dst = (quad + offset).astype(np.float32)
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    warped = cv2.warpPerspective(face, homography, FRAME_SIZE, flags=cv2.INTER_LINEAR)
    a = cv2.warpPerspective(alpha, homography, FRAME_SIZE, flags=cv2.INTER_LINEAR)
    a = a.astype(np.float32)[:, :, None] / 255.0

    # The lit screen against the camera's exposure for the hall, then the hall's light
    # reflected by the glass, which lifts the dark modules and flattens the contrast.
    phone = warped.astype(np.float32) * shot.screen_gain + shot.reflection
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if shot.moire:
        # The screen's pixel grid beating against the sensor's: slow bands of two close
        # frequencies, shifted per colour channel as the RGB subpixels are.
        theta = rng.uniform(0, math.pi)
        period = rng.uniform(6, 40)
        phase = (xx * math.cos(theta) + yy * math.sin(theta)) * (2 * math.pi / period)
        second = (xx * math.cos(theta + 0.3) + yy * math.sin(theta + 0.3)) * (
            2 * math.pi / (period * rng.uniform(1.3, 2.2)))
        bands = np.stack(
            [np.sin(phase + k * 2.1) * 0.7 + np.sin(second + k * 1.3) * 0.3 for k in range(3)],
            axis=2,
        )
        phone *= 1.0 + shot.moire * bands
    if shot.glare:
        # A ceiling light mirrored in the glass: a bright, partly saturated patch.
        cx, cy = dst[:, 0].mean(), dst[:, 1].mean()
        span = float(np.linalg.norm(dst[1] - dst[0]))
        gx = cx + rng.uniform(-0.4, 0.4) * span
        gy = cy + rng.uniform(-0.6, 0.4) * span
        sx, sy = span * rng.uniform(0.08, 0.3), span * rng.uniform(0.05, 0.2)
        ang = rng.uniform(0, math.pi)
        u = (xx - gx) * math.cos(ang) + (yy - gy) * math.sin(ang)
        v = -(xx - gx) * math.sin(ang) + (yy - gy) * math.cos(ang)
        phone += (shot.glare * np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2)))[:, :, None]
    frame = frame * (1 - a) + np.clip(phone, 0, 255) * a
    frame = np.clip(frame, 0, 255).astype(np.uint8)

    frame = cv2.GaussianBlur(frame, (0, 0), shot.defocus)
    if shot.motion:
        streak = np.zeros((shot.motion, shot.motion), np.float32)
        streak[shot.motion // 2, :] = 1.0
        turn = cv2.getRotationMatrix2D((shot.motion / 2 - 0.5, shot.motion / 2 - 0.5),
                                       rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(streak, turn, (shot.motion, shot.motion))
        frame = cv2.filter2D(frame, -1, kernel / max(kernel.sum(), 1e-6))
    noise = rng.standard_normal(frame.shape, dtype=np.float32) * shot.noise
    frame = np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    placed = code_quad + offset
    x0, y0 = np.floor(placed.min(axis=0)).astype(int)
    x1, y1 = np.ceil(placed.max(axis=0)).astype(int)
    return frame, (int(x0), int(y0), int(x1), int(y1))


def bench_payload(key: Ed25519PrivateKey, index: int, rng: np.random.Generator) -> str:
    """A signed payload like those residents show: mostly personal codes, some tickets,
    appointments and receipts, with reproducible times and nonces."""
    kinds = [payloads.Kind.RESIDENT] * 6 + [payloads.Kind.TICKET, payloads.Kind.APPOINTMENT,
                                            payloads.Kind.RECEIPT]
    # The same draw as `rng.choice(kinds)` (the bench's frames stay as they were), but the
    # member comes back as a Kind rather than through a numpy array.
    kind = kinds[int(rng.integers(len(kinds)))]
    prefix = {payloads.Kind.RESIDENT: "R", payloads.Kind.TICKET: "T",
              payloads.Kind.APPOINTMENT: "A", payloads.Kind.RECEIPT: "YW2026"}[kind]
    reference = f"{prefix}{int(rng.integers(1, 10**6)):06d}"
    nonce = "".join(rng.choice(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_"), 12))
    issued = 1_780_000_000 + index * 37
    return payloads.sign(key, DEMO_KEY_ID, kind, reference, issued_at=issued, nonce=nonce,
                         lifetime_s=60 if kind is payloads.Kind.RESIDENT else 86400)


def make_bench_set(folder: str | Path, n: int = 200, seed: int = 1) -> list[Path]:
    """Write `n` frames and their expected texts to `folder`; the same seed, the same set.

    Also writes `index.tsv` (name, the code's bounding box, how the shot was taken) so that
    a frame no decoder reads can be looked at.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    # A smaller or differently seeded set written over an old one must not leave old frames
    # beside new texts (scan-0001.jpg from before, scan-0001.png and .txt from now).
    for old in out.glob("scan-[0-9][0-9][0-9][0-9].*"):
        if old.suffix.lower() in (*IMAGE_SUFFIXES, ".txt"):
            old.unlink()
    (out / "index.tsv").unlink(missing_ok=True)  # written last: its presence means complete
    key = payloads.load_private_key(DEMO_KEY.read_bytes())
    rng = np.random.default_rng(seed)
    written: list[Path] = []
    index_lines = ["name\tcode box\tshot"]
    for i in range(n):
        text = bench_payload(key, i, rng)
        shot = draw_shot(rng)
        frame, box = render_shot(text, shot, rng)
        name = f"scan-{i:04d}"
        if shot.jpeg:
            path = out / f"{name}.jpg"
            ok = cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, shot.jpeg])
        else:
            path = out / f"{name}.png"
            ok = cv2.imwrite(str(path), frame, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        if not ok:
            raise OSError(f"cannot write {path}")
        (out / f"{name}.txt").write_text(text + "\n", encoding="ascii")
        index_lines.append(f"{path.name}\t{','.join(map(str, box))}\t{shot.describe()}")
        written.append(path)
    (out / "index.tsv").write_text("\n".join(index_lines) + "\n", encoding="utf-8")
    return written


def make_bench_command(folder: str, n: int = 200, seed: int = 1) -> int:
    """`kiosk make-bench DIR --count N --seed S`."""
    if n < 1:
        print("make-bench: --count must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    started = time.monotonic()
    try:
        written = make_bench_set(folder, n, seed)
    except OSError as e:
        print(f"make-bench: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"make-bench: wrote {len(written)} frames with their .txt to {folder} "
          f"(seed {seed}, {time.monotonic() - started:.1f} s)")
    return EXIT_OK


# -- running the benchmark -----------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    name: str
    path: Path
    expected: str

    def load(self) -> np.ndarray | None:
        """The frame as the camera gives it (BGR), None if the file cannot be read.

        Read one at a time: a 720p frame is 2.8 MB decoded, a few hundred of them would not
        fit beside the kiosk on a small terminal.
        """
        return cv2.imread(str(self.path), cv2.IMREAD_COLOR)


@dataclass
class Row:
    decoder: str
    images: int = 0
    decoded: int = 0
    wrong: int = 0
    times_ms: list[float] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # names of the images not read
    misread: list[str] = field(default_factory=list)  # "name: text" of the wrong reads
    steps: Counter[str] = field(default_factory=Counter)  # CombinedDecoder: which step read

    @property
    def rate(self) -> float:
        return self.decoded / self.images if self.images else 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else 0.0

    @property
    def p95_ms(self) -> float:
        return percentile(self.times_ms, 95)


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile: the value `pct` per cent of the samples do not exceed."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def load_bench_set(folder: str | Path) -> tuple[list[Sample], list[str]]:
    """The images with an expected text beside them, and what was skipped and why."""
    root = Path(folder)
    samples: list[Sample] = []
    skipped: list[str] = []
    for path in sorted(root.iterdir()):
        if not path.is_file() or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        txt = path.with_suffix(".txt")
        if not txt.is_file():
            skipped.append(f"{path.name}: no {txt.name}")
            continue
        try:
            # The text itself, without the line end an editor adds.
            expected = txt.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as e:
            skipped.append(f"{txt.name}: {e}")
            continue
        samples.append(Sample(path.name, path, expected))
    return samples, skipped


def run_bench(
    samples: Sequence[Sample],
    decoders: Sequence[Decoder],
    clock: Callable[[], float] = time.perf_counter,
    unreadable: list[str] | None = None,
) -> list[Row]:
    """Every decoder on every sample, interleaved per sample so that a busy spell of the
    machine slows all decoders alike instead of whichever happened to run then.

    Images that cannot be read are left out of every row and named in `unreadable`.
    """
    rows = [Row(d.name) for d in decoders]
    warmed = False
    for sample in samples:
        frame = sample.load()
        if frame is None:
            if unreadable is not None:
                unreadable.append(sample.name)
            continue
        if not warmed:  # first-call costs (library loading, detector set-up) are not a frame
            for d in decoders:
                d.decode(frame)
            warmed = True
        for d, row in zip(decoders, rows, strict=True):
            started = clock()
            texts = d.decode(frame)
            elapsed_ms = (clock() - started) * 1000.0
            row.images += 1
            row.times_ms.append(elapsed_ms)
            if sample.expected in texts:
                row.decoded += 1
                step = getattr(d, "last_step", "")
                if step:
                    row.steps[step] += 1
            else:
                row.failed.append(sample.name)
            wrong = [t for t in texts if t != sample.expected]
            if wrong:
                row.wrong += 1
                row.misread.append(f"{sample.name}: {wrong[0][:60]!r}")
    return rows


def best_single(rows: Sequence[Row]) -> Row | None:
    """The single decoder to beat: most read, then fewest wrong, then fastest."""
    singles = [r for r in rows if r.decoder in SINGLE_DECODERS]
    if not singles:
        return None
    return max(singles, key=lambda r: (r.decoded, -r.wrong, -r.p95_ms))


def format_table(rows: Sequence[Row], anchor: Row | None) -> str:
    head = (f"{'decoder':<10} {'images':>6} {'decoded':>8} {'rate':>7} {'wrong':>5} "
            f"{'median ms':>9} {'p95 ms':>7}")
    if anchor is not None:
        head += f"  {'decoded vs best':>15} {'p95 vs best':>11}"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = (f"{r.decoder:<10} {r.images:>6} {r.decoded:>8} {r.rate:>7.1%} {r.wrong:>5} "
                f"{r.median_ms:>9.1f} {r.p95_ms:>7.1f}")
        if anchor is not None:
            dec = r.decoded / anchor.decoded if anchor.decoded else float("inf")
            p95 = r.p95_ms / anchor.p95_ms if anchor.p95_ms else float("inf")
            line += f"  {dec:>14.3f}x {p95:>10.2f}x"
        lines.append(line)
    return "\n".join(lines)


def scan_bench_command(folder: str, compare: bool, decoder: str = "combined",
                       *, verbose: bool = False) -> int:
    """`kiosk scan-bench DIR [--compare] [--decoder NAME]`; 0 once the table is printed."""
    if decoder not in DECODER_NAMES:
        print(f"scan-bench: unknown decoder {decoder!r}; expected one of "
              f"{', '.join(DECODER_NAMES)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    root = Path(folder)
    if not root.is_dir():
        print(f"scan-bench: {folder} is not a folder (make one with: kiosk make-bench "
              f"{folder})", file=sys.stderr)
        return EXIT_BAD_INPUT
    samples, skipped = load_bench_set(root)
    for why in skipped:
        print(f"scan-bench: skipped {why}", file=sys.stderr)
    if not samples:
        print(f"scan-bench: no image with a .txt beside it in {folder}", file=sys.stderr)
        return EXIT_BAD_INPUT
    names = [decoder]
    if compare:
        names += [n for n in SINGLE_DECODERS if n != decoder]
    unreadable: list[str] = []
    # The kiosk decodes on one thread beside the capture thread and the GUI; one OpenCV
    # thread measures what that thread gets, not what a multi-core burst would. (zxing-cpp
    # and ZBar are single-threaded anyway.)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        rows = run_bench(samples, [make_decoder(n) for n in names], unreadable=unreadable)
    finally:
        cv2.setNumThreads(threads)
    for name in unreadable:
        print(f"scan-bench: skipped {name}: not a readable image", file=sys.stderr)
    if not rows[0].images:
        print(f"scan-bench: no readable image in {folder}", file=sys.stderr)
        return EXIT_BAD_INPUT
    anchor = best_single(rows) if compare else None
    print(f"scan-bench: {rows[0].images} images in {folder}; one thread "
          f"(cv2.setNumThreads(1)); times per image exclude reading the file")
    print(format_table(rows, anchor))
    if anchor is not None:
        print(f"best single decoder: {anchor.decoder} (the ratios are against it)")
    for r in rows:
        if r.steps:
            print(f"{r.decoder}: read by step: "
                  + ", ".join(f"{step} {count}" for step, count in r.steps.items()))
    for r in rows:
        if r.misread:
            print(f"{r.decoder}: wrong reads: " + "; ".join(r.misread[:10])
                  + (" ..." if len(r.misread) > 10 else ""))
        if verbose and r.failed:
            print(f"{r.decoder}: not read: " + " ".join(r.failed))
    return EXIT_OK
