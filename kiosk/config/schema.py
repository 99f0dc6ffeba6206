"""The kiosk's configuration, declared once.

Every key a technician may write in `kiosk.toml` is declared here with its type, default
and meaning (the `description`). Validation and the reference in docs come from these
declarations, so a key cannot be documented one way and checked another.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    # Unknown keys are errors: a typo such as `baud_rate` must not be silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CenterConfig(_Section):
    name: str = Field(
        "徐汇区示范街道社区事务受理服务中心", description="Center name, printed on tickets."
    )
    name_en: str = Field(
        "Xuhui Demo Street Community Affairs Center", description="Center name in English."
    )
    kiosk_id: str = Field(
        "KIOSK-01",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="This terminal's identifier (letters, digits, - and _), sent with every call.",
    )
    hotline: str = Field(
        "12345",
        description=(
            "Telephone number residents are told to call when the kiosk cannot help them"
            " (help screens, failed tickets); it cannot be empty."
        ),
    )

    @field_validator("hotline")
    @classmethod
    def _hotline(cls, v: str) -> str:
        # An empty number would leave "或拨打 热线" on a resident's screen with nothing to dial.
        if not v.strip():
            raise ValueError("expected the telephone number residents may call, e.g. \"12345\"")
        return v.strip()


class ScreenConfig(_Section):
    orientation: Literal["landscape", "portrait"] = Field(
        "landscape", description="Panel orientation: landscape (1920x1080) or portrait (1080x1920)."
    )
    width: int = Field(0, ge=0, description="Panel width in px; 0 = from orientation.")
    height: int = Field(0, ge=0, description="Panel height in px; 0 = from orientation.")
    fullscreen: bool = Field(True, description="Kiosk mode: full screen and frameless.")
    hide_cursor: bool = Field(True, description="Hide the mouse cursor (touch panels).")
    dpi: float = Field(
        102.0,
        ge=50,
        le=400,
        description=(
            "The panel's pixels per inch (a 21.5-inch 1920x1080 panel: 102), to convert the"
            " MIIT 适老化 figures in dp (touch targets >= 60 dp, text >= 18 dp) to pixels:"
            " px = dp x dpi / 160."
        ),
    )

    def size(self) -> tuple[int, int]:
        if self.width and self.height:
            return self.width, self.height
        return (1920, 1080) if self.orientation == "landscape" else (1080, 1920)


class SessionConfig(_Section):
    idle_timeout_s: int = Field(
        60,
        ge=10,
        le=3600,
        description=(
            "Seconds without a touch before the kiosk returns Home and clears the session;"
            " the visible countdown is the last `idle_countdown_s` of them."
        ),
    )
    idle_countdown_s: int = Field(
        20, ge=5, le=120, description="Length of the visible countdown before returning Home."
    )
    ticket_screen_s: int = Field(
        30, ge=5, le=600, description="Seconds the ticket stays on screen before going Home."
    )
    elder_idle_timeout_s: int = Field(
        120,
        ge=10,
        le=3600,
        description=(
            "长辈模式 (elder mode): `idle_timeout_s` while a resident has chosen elder mode;"
            " older residents read and decide more slowly."
        ),
    )
    elder_idle_countdown_s: int = Field(
        30, ge=5, le=120, description="长辈模式: the visible countdown before returning Home."
    )
    elder_ticket_screen_s: int = Field(
        60, ge=5, le=600, description="长辈模式: seconds the ticket stays on screen."
    )

    @model_validator(mode="after")
    def _countdowns(self) -> SessionConfig:
        # Here, not on the whole config: a check of the whole config runs only once every
        # other key is right, and a technician is promised every mistake at once.
        problems = []
        if self.idle_countdown_s >= self.idle_timeout_s:
            problems.append("idle_countdown_s must be shorter than idle_timeout_s")
        if self.elder_idle_countdown_s >= self.elder_idle_timeout_s:
            problems.append("elder_idle_countdown_s must be shorter than elder_idle_timeout_s")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class QueueConfig(_Section):
    anonymous_tickets_per_minute: int = Field(
        6,
        ge=1,
        le=60,
        description=(
            "Tickets this kiosk issues without a phone (没有手机, no identity) in any one"
            " minute; past it the resident is asked kindly to wait (and told how long) or to"
            " ask staff, so one person cannot take a pile of numbers."
        ),
    )


class SpeechConfig(_Section):
    """Spoken prompts (长辈模式) and the sound cue on a successful scan."""

    when: Literal["elder", "always", "never"] = Field(
        "elder",
        description=(
            "When screens and scan results are read aloud: in elder mode only, always, or"
            " never."
        ),
    )
    engine: str = Field(
        "speechd",
        description=(
            "Qt text-to-speech engine: `speechd` (speech-dispatcher with espeak-ng, which"
            " speaks Mandarin), \"\" for Qt's default, `mock` (tests), `none` (off). Without"
            " the engine the kiosk runs silently and logs it once."
        ),
    )
    rate: float = Field(
        -0.2, ge=-1.0, le=1.0, description="Speaking rate, -1 (slowest) to 1; 0 = normal."
    )
    volume: float = Field(1.0, ge=0.0, le=1.0, description="Speech volume, 0 to 1.")
    scan_cue: bool = Field(
        True, description="Play a short sound when a code is accepted (both modes)."
    )
    cue_volume: float = Field(0.8, ge=0.0, le=1.0, description="Volume of the sound cue.")
    start_timeout_s: float = Field(
        15.0,
        gt=0,
        le=120,
        description=(
            "The speech process must report ready within this many seconds, or speech is"
            " switched off until restart (a hung speech-dispatcher never freezes the screen)."
        ),
    )


class EmulatedCameraConfig(_Section):
    kind: Literal["emulated"] = "emulated"
    source: Literal["generated", "images", "video", "blank"] = Field(
        "generated",
        description=(
            "What the emulated camera shows: `generated` frames holding a fresh code for"
            " `resident` every `interval_s`; `images` plays the files in `path` (a folder);"
            " `video` plays the video file `path`; `blank` shows an empty scene."
        ),
    )
    path: str = Field(
        "",
        description=(
            "Folder of images or a video file, for images/video; relative to the config"
            " file's folder, wherever the kiosk is started from."
        ),
    )
    resident: str = Field("R0001", description="Demo resident shown by `generated` frames.")
    interval_s: float = Field(
        6.0, gt=0, description="Generated: seconds of empty scene before the code appears."
    )
    width: int = Field(1280, ge=160, le=3840, description="Frame width in px.")
    height: int = Field(720, ge=120, le=2160, description="Frame height in px.")
    fps: float = Field(30.0, gt=0, le=120, description="Frames per second.")


class OpenCVCameraConfig(_Section):
    kind: Literal["opencv"] = "opencv"
    device: int | str = Field(
        0,
        description=(
            "Camera index (0) or a device path; prefer the stable /dev/v4l/by-id/... path."
        ),
    )
    width: int = Field(1280, ge=160, le=3840, description="Requested frame width in px.")
    height: int = Field(720, ge=120, le=2160, description="Requested frame height in px.")
    fps: float = Field(30.0, gt=0, le=120, description="Requested frames per second.")
    mjpg: bool = Field(True, description="Ask the camera for MJPG (needed for 720p30 on USB 2).")


CameraDevice = Annotated[EmulatedCameraConfig | OpenCVCameraConfig, Field(discriminator="kind")]


class ScannerConfig(_Section):
    decoder: Literal["pyzbar", "zxing", "opencv", "combined"] = Field(
        "combined",
        description=(
            "QR decoder: pyzbar (ZBar), zxing (zxing-cpp), opencv (QRCodeDetector) or"
            " combined (zxing-cpp first, then ZBar on an enhanced crop)."
        ),
    )
    repeat_block_s: float = Field(
        5.0, ge=0, le=60, description="The same code is accepted again only after this long."
    )
    isolation: Literal["process", "thread"] = Field(
        "process",
        description=(
            "Where capture and decoding run: `process` = a worker process the kiosk restarts"
            " if it crashes or hangs (a native crash in OpenCV or ZBar cannot take the"
            " screen down); `thread` = threads of the kiosk's own process (diagnosis only)."
        ),
    )


class ScanEngineConfig(_Section):
    port: str = Field(
        "",
        description=(
            "Serial port of a dedicated 2D scan engine (e.g. /dev/ttyACM0), read in serial"
            " mode; empty = none. Never configure an engine as a keyboard."
        ),
    )
    baudrate: int = Field(9600, description="The engine's baud rate.")


class NoIdCardConfig(_Section):
    kind: Literal["none"] = Field(
        "none",
        description=(
            "Resident ID card reader (二代证阅读器), a second way to be identified besides the"
            " 随申码: `none`, `emulated` (tests and demos) or `serial` (a reader speaking the"
            " SAM host protocol, frames AA AA AA 96 69, on a serial or USB-serial port; see"
            " docs/TECHNICIAN.md). With a hall (`backend.kind = \"http\"`), the hall must be"
            " told the kiosk has a reader (`kiosk hall add-device --id-card-reader`, or"
            " `kiosk hall set-id-card-reader NAME on`; docs/HALL.md 2.3)."
        ),
    )


class EmulatedIdCardConfig(_Section):
    kind: Literal["emulated"] = Field(
        "emulated",
        description=(
            "An emulated reader answering the same frames as a real one; empty until a test"
            " or the scripted demo places a card (kiosk.hardware.id_card.emulated)."
        ),
    )


class SerialIdCardConfig(_Section):
    kind: Literal["serial"] = "serial"
    port: str = Field(
        ...,
        min_length=1,
        description=(
            "Serial device of the reader; prefer the stable /dev/serial/by-id/... path of a"
            " USB-serial reader (or a pyserial URL such as rfc2217://host:port)."
        ),
    )
    baudrate: int = Field(
        115200, description="Baud rate the reader is set to (its factory setting: 115200)."
    )

    @field_validator("baudrate")
    @classmethod
    def _baud(cls, v: int) -> int:
        allowed = {9600, 19200, 38400, 57600, 115200}  # what the security module offers
        if v not in allowed:
            raise ValueError(f"expected one of {sorted(allowed)}")
        return v


IdCardDevice = Annotated[
    NoIdCardConfig | EmulatedIdCardConfig | SerialIdCardConfig, Field(discriminator="kind")
]


class _PrinterCommon(_Section):
    paper_width_mm: Literal[58, 80] = Field(80, description="Paper width: 58 or 80 mm.")
    chars_per_line: int = Field(
        0,
        ge=0,
        le=64,
        description="ASCII characters per line in font A; 0 = 32 for 58 mm, 48 for 80 mm.",
    )
    font_charset: Literal["GB2312", "GBK", "GB18030"] = Field(
        "GB2312",
        description=(
            "Chinese characters the printer's font holds; others print as small images."
        ),
    )
    native_qr: bool = Field(
        True, description="Printer draws QR codes itself (GS ( k); false = send an image."
    )
    cutter: bool = Field(True, description="Printer has an auto-cutter.")
    profile: str = Field("default", description="python-escpos capability profile name.")
    disable_feed_button: bool = Field(
        True, description="Disable the panel FEED button so it cannot waste paper."
    )

    def columns(self) -> int:
        if self.chars_per_line:
            return self.chars_per_line
        return 32 if self.paper_width_mm == 58 else 48

    def paper_dots(self) -> int:
        return 384 if self.paper_width_mm == 58 else 576


_REALTIME_STATUS = (
    "The printer answers real-time status queries (DLE EOT), so the kiosk asks before each"
    " ticket and knows of no paper, an open cover or an offline printer. Set false for a"
    " model that never answers (`kiosk check-config --devices` says so): tickets are still"
    " sent one at a time, but the kiosk cannot know when the paper runs out, and its"
    " maintenance screen says the status is unknown."
)


class EmulatedPrinterConfig(_PrinterCommon):
    kind: Literal["emulated"] = "emulated"
    output_dir: str = Field(
        "printed", description="Folder (under the data dir if relative) for received jobs."
    )


class UsbPrinterConfig(_PrinterCommon):
    kind: Literal["usb"] = "usb"
    vendor_id: int = Field(..., ge=0, le=0xFFFF, description="USB vendor id, e.g. 0x0416.")
    product_id: int = Field(..., ge=0, le=0xFFFF, description="USB product id, e.g. 0x5011.")
    interface: int = Field(0, ge=0, description="USB interface number.")
    in_ep: int = Field(0x81, ge=0, le=0xFF, description="Bulk IN endpoint.")
    out_ep: int = Field(0x03, ge=0, le=0xFF, description="Bulk OUT endpoint.")
    timeout_ms: int = Field(
        3000, ge=100, le=60000, description="Write timeout; 0 would block forever."
    )
    realtime_status: bool = Field(True, description=_REALTIME_STATUS)


class SerialPrinterConfig(_PrinterCommon):
    kind: Literal["serial"] = "serial"
    port: str = Field(..., description="Serial device, e.g. /dev/ttyUSB0 or /dev/ttyS0.")
    baudrate: int = Field(9600, description="Baud rate, e.g. 9600, 19200, 115200.")
    timeout_s: float = Field(3.0, gt=0, le=60, description="Read/write timeout in seconds.")
    rtscts: bool = Field(False, description="Hardware flow control.")
    realtime_status: bool = Field(True, description=_REALTIME_STATUS)

    @field_validator("baudrate")
    @classmethod
    def _baud(cls, v: int) -> int:
        allowed = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400}
        if v not in allowed:
            raise ValueError(f"expected one of {sorted(allowed)}")
        return v


class NetworkPrinterConfig(_PrinterCommon):
    kind: Literal["network"] = "network"
    host: str = Field(..., min_length=1, description="Printer's IP address or host name.")
    port: int = Field(9100, ge=1, le=65535, description="TCP port (raw printing: 9100).")
    timeout_s: float = Field(5.0, gt=0, le=60, description="Connect/write timeout in seconds.")
    realtime_status: bool = Field(True, description=_REALTIME_STATUS)


class FilePrinterConfig(_PrinterCommon):
    kind: Literal["file"] = "file"
    path: str = Field(..., description="Device file, e.g. /dev/usb/lp0.")


PrinterDevice = Annotated[
    EmulatedPrinterConfig
    | UsbPrinterConfig
    | SerialPrinterConfig
    | NetworkPrinterConfig
    | FilePrinterConfig,
    Field(discriminator="kind"),
]


class EmbeddedBackendConfig(_Section):
    kind: Literal["embedded"] = Field(
        "embedded", description="Backend: embedded (local SQLite with demo data)."
    )
    database: str = Field(
        "kiosk.sqlite3", description="SQLite file, under the data dir if relative."
    )
    seed_demo_data: bool = Field(
        True, description="Create fictional residents on first start (demo and test only)."
    )


# Hosts for which plain http:// is tolerated: a hall server on this very machine (a
# developer's or a test's `kiosk hall serve`), where nothing crosses a network cable.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback_host(host: str) -> bool:
    import ipaddress

    if host.lower().rstrip(".") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Keys a technician might reach for to switch certificate checks off. They get their own
# message (not just "unknown key") so nobody keeps hunting for the right spelling: there is
# none. Verification stays on; a private CA goes into `ca_bundle`.
_VERIFY_OFF_HINTS = ("verify", "insecure", "skip", "check_hostname", "ssl", "tls")


TOKEN_PREFIX = "dev_"  # device tokens of the hall (kiosk.hall.auth: "dev_" + 43 characters)
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _read_token_file(path: Path) -> str:
    """The stripped text of a token file; ValueError saying why it cannot be read, never
    quoting its content (it is a credential)."""
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        raise ValueError(f"token file {path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder, not the token file") from None
    except PermissionError:
        raise ValueError(f"token file {path} is not readable by this user") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"token file {path} cannot be read ({type(exc).__name__})") from None


def read_device_token(path: Path) -> str:
    """The device token in `path`; ValueError saying what is wrong with the file, never
    quoting its content (it may be a credential)."""
    token = _read_token_file(path)
    if not token:
        raise ValueError(f"token file {path} is empty")
    if (not token.startswith(TOKEN_PREFIX) or len(token) > 200
            or not set(token[len(TOKEN_PREFIX):]) <= _TOKEN_CHARS):
        raise ValueError(
            f"token file {path} does not hold a device token (expected one line `dev_…`, as"
            " `kiosk hall add-device` prints it)"
        )
    return token


class HttpBackendConfig(_Section):
    kind: Literal["http"] = Field(
        "http",
        description=(
            "Backend: http (the hall server over HTTPS, `kiosk hall serve`)."
            " Certificate verification is always on and cannot be configured off."
        ),
    )
    url: str = Field(
        ...,
        description=(
            "Base URL of the hall backend, e.g. `https://backend.hall.example:8443/`."
            " https:// is required; http:// only for a backend on this machine"
            " (127.0.0.1, ::1, localhost), for testing, and logs a warning at every start."
        ),
    )
    token_file: str = Field(
        ...,
        description=(
            "File holding this kiosk's device token, as `kiosk hall add-device` printed it"
            " (one line, `dev_…`), relative to the config file; keep it mode 0600. The token"
            " itself never goes into kiosk.toml: config files are copied and shown around."
        ),
    )
    ca_bundle: str = Field(
        "",
        description=(
            "PEM file of the CA that signed the backend's certificate (a private hall CA),"
            " relative to the config file; only that CA is then trusted. Empty = the public"
            " CAs (certifi)."
        ),
    )
    client_cert: str = Field(
        "",
        description=(
            "PEM client certificate for mutual TLS, relative to the config file; empty ="
            " none. Needs `client_key`."
        ),
    )
    client_key: str = Field(
        "", description="PEM private key of `client_cert` (unencrypted; keep it mode 0600)."
    )
    connect_timeout_s: float = Field(
        3.0, gt=0, le=30, description="Seconds to wait for a connection to the backend."
    )
    read_timeout_s: float = Field(
        10.0,
        gt=0,
        le=120,
        description=(
            "Seconds to wait for the backend's answer; a call that takes longer fails (and"
            " an application waits in the outbox)."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _no_verify_switch(cls, data: object) -> object:
        if isinstance(data, dict):
            for key in data:
                lowered = str(key).lower()
                if key != "ca_bundle" and any(h in lowered for h in _VERIFY_OFF_HINTS):
                    raise ValueError(
                        f"`{key}`: certificate verification of a remote backend cannot be"
                        " turned off; for a private CA set backend.ca_bundle to its PEM file"
                    )
        return data

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(v.strip())
            host = parts.hostname or ""
            _ = parts.port  # raises ValueError for a port that is not a number
        except ValueError as exc:
            raise ValueError(f"not a valid URL ({exc})") from None
        if parts.scheme not in ("https", "http") or not host:
            raise ValueError(
                "expected https://host[:port][/path] (https:// required for a remote backend)"
            )
        if parts.scheme == "http" and not is_loopback_host(host):
            raise ValueError(
                "https:// required for a remote backend; certificate verification cannot be"
                " turned off (http:// is accepted only for 127.0.0.1/localhost testing)"
            )
        if parts.username is not None or parts.password is not None:
            raise ValueError("no user or password in the URL (it would end up in logs)")
        if parts.query or parts.fragment:
            raise ValueError("expected a base URL without ?query or #fragment")
        return v.strip()

    @model_validator(mode="before")
    @classmethod
    def _token_not_inline(cls, data: object) -> object:
        # Checked on the whole section, not the field: a field's error message quotes the
        # value, and this value would be the credential itself.
        if isinstance(data, dict):
            value = data.get("token_file")
            if isinstance(value, str) and value.strip().startswith(TOKEN_PREFIX):
                raise ValueError(
                    "`token_file` holds a token, not a file name: write the token into a"
                    " file (mode 0600) and name that file here"
                )
        return data

    @field_validator("token_file")
    @classmethod
    def _token_file(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("expected the path of the file holding the device token")
        return v.strip()

    @model_validator(mode="after")
    def _client_pair(self) -> HttpBackendConfig:
        if bool(self.client_cert) != bool(self.client_key):
            raise ValueError("client_cert and client_key go together: set both or neither")
        return self


BackendDevice = Annotated[
    EmbeddedBackendConfig | HttpBackendConfig, Field(discriminator="kind")
]

class QrConfig(_Section):
    public_keys: dict[str, str] = Field(
        default_factory=dict,
        description="Trusted signing keys: key id -> base64 raw Ed25519 public key.",
    )
    max_age_s: int = Field(
        90, ge=10, le=3600, description="A personal code older than this is refused."
    )
    clock_skew_s: int = Field(
        10, ge=0, le=300, description="Tolerance for a phone clock that runs ahead."
    )
    demo_signing_key: str = Field(
        "",
        description=(
            "PEM file of a DEMO private key (relative to the config file) used by the emulated"
            " camera and `kiosk make-code` to make codes for fictional residents. Leave empty"
            " on a production terminal."
        ),
    )
    demo_key_id: str = Field("demo", description="Key id of the demo signing key.")

    @field_validator("public_keys")
    @classmethod
    def _keys(cls, v: dict[str, str]) -> dict[str, str]:
        import base64
        import binascii

        for kid, key in v.items():
            try:
                raw = base64.b64decode(key, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"key {kid!r}: expected base64 text") from None
            if len(raw) != 32:
                raise ValueError(f"key {kid!r}: expected a 32-byte Ed25519 key, got {len(raw)}")
        return v


class MaintenanceConfig(_Section):
    pin_hash: str = Field(
        "",
        description=(
            "Salted Argon2id hash of the maintenance PIN, as written by `kiosk hash-pin`"
            " (never the PIN itself; an older scrypt hash still works, and is logged as one"
            " to replace); empty = the maintenance screen cannot be opened."
        ),
    )
    lock_after: int = Field(
        5, ge=1, le=20, description="Wrong PINs in a row that lock the maintenance screen."
    )
    lock_minutes: int = Field(
        15, ge=1, le=1440,
        description="Minutes the maintenance screen stays locked; a restart does not reset it.",
    )

    @field_validator("pin_hash")
    @classmethod
    def _pin_hash(cls, v: str) -> str:
        from kiosk.domain.pin import parse_hash

        if v:
            parse_hash(v)  # ValueError names the expected form
        return v


class PathsConfig(_Section):
    data_dir: str = Field(
        "../var",
        description=(
            "Writable folder for the database, logs and printed jobs (relative to the config"
            " file's folder)."
        ),
    )
    catalog: str = Field(
        "catalog.yaml", description="Service categories file, relative to the config file."
    )
    bundles: str = Field(
        "bundles",
        description="Folder of 一件事 bundle files (*.yaml), relative to the config file.",
    )


# The smallest bearer token the metrics endpoint takes: shorter ones are guessable.
METRICS_TOKEN_MIN = 16


def read_metrics_token(path: Path) -> str:
    """The metrics bearer token in `path`; ValueError saying what is wrong with the file,
    never quoting its content (it is a credential)."""
    token = _read_token_file(path)
    if (len(token) < METRICS_TOKEN_MIN or len(token) > 4096
            or not all("!" <= c <= "~" for c in token)):
        raise ValueError(
            f"token file {path} does not hold a token (expected one line of at least"
            f" {METRICS_TOKEN_MIN} printable ASCII characters without spaces, e.g. the output"
            " of `openssl rand -hex 32`)"
        )
    return token


class MetricsConfig(_Section):
    """Prometheus metrics of this terminal, scraped by the district (packaging/prometheus/)."""

    enabled: bool = Field(
        False,
        description=(
            "Serve this terminal's health (printer, camera, outbox, backend latency, tickets,"
            " clock) as Prometheus metrics at `http://<listen>:<port>/metrics`; off by default."
        ),
    )
    listen: str = Field(
        "127.0.0.1",
        description=(
            "Address the metrics endpoint listens on: 127.0.0.1 (this machine only) or ::1,"
            " or 0.0.0.0 / :: / one of the terminal's addresses for the district's Prometheus"
            " (then `token_file` is required)."
        ),
    )
    port: int = Field(9464, ge=1, le=65535, description="TCP port of the metrics endpoint.")
    token_file: str = Field(
        "",
        description=(
            "File holding the bearer token a scrape must send (`Authorization: Bearer"
            " <token>`; Prometheus: `authorization: credentials_file:`), relative to the"
            " config file: one line of at least 16 characters, e.g. `openssl rand -hex 32`,"
            " mode 0600. A scrape without it, or with another, is answered 401 and counted."
            " Empty = no token, allowed only with a loopback `listen`."
        ),
    )

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        import ipaddress

        try:
            return str(ipaddress.ip_address(v.strip()))
        except ValueError:
            raise ValueError(
                "expected an IP address to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::"
            ) from None

    @model_validator(mode="after")
    def _token_off_loopback(self) -> MetricsConfig:
        # Off this machine a scrape must prove who it is: the figures say when a terminal
        # is unattended and its printer empty.
        if self.enabled and not self.token_file and not is_loopback_host(self.listen):
            raise ValueError(
                f"token_file: expected a token file when listen = \"{self.listen}\" (not"
                " a loopback address): a scrape from the network must send a bearer token"
            )
        return self


class KioskConfig(_Section):
    center: CenterConfig = Field(default_factory=CenterConfig)
    screen: ScreenConfig = Field(default_factory=ScreenConfig)
    session: SessionConfig = Field(default_factory=SessionConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    speech: SpeechConfig = Field(default_factory=SpeechConfig)
    camera: CameraDevice = Field(default_factory=EmulatedCameraConfig)
    scanner: ScannerConfig = Field(default_factory=ScannerConfig)
    scan_engine: ScanEngineConfig = Field(default_factory=ScanEngineConfig)
    id_card: IdCardDevice = Field(default_factory=NoIdCardConfig)
    printer: PrinterDevice = Field(default_factory=EmulatedPrinterConfig)
    backend: BackendDevice = Field(default_factory=EmbeddedBackendConfig)
    qr: QrConfig = Field(default_factory=QrConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    maintenance: MaintenanceConfig = Field(default_factory=MaintenanceConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
