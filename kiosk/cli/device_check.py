"""`kiosk check-config --devices`: open every device the config names, and the backend, as the
kiosk will, and say for each whether it works.

A config file can be perfectly valid and the terminal still useless: the network printer's
address has nothing listening, the serial port belongs to root, the hall's certificate was
signed by another CA. Plain `check-config` cannot know (it opens nothing); this does, with a
timeout per device, so a technician hears it at the kiosk and not from the first resident.

Each check uses the kiosk's own code (the printer transports, the camera sources, the hall
client), so what it reports is what the kiosk will meet. Nothing is printed and no ticket is
taken: a printer is asked for its status only (DLE EOT), a camera for one frame, the hall for
its queue figures. Run it with the kiosk stopped: a printer or camera the kiosk holds is busy.
"""

from __future__ import annotations

import contextlib
import errno as errno_codes
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config.devices import resolved_camera
from kiosk.config.loader import resolve
from kiosk.config.schema import KioskConfig

DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class DeviceReport:
    device: str  # "printer", "camera", "scan engine", "backend"
    what: str  # the device as configured, e.g. "network 192.0.2.10:9100"
    ok: bool
    message: str

    def line(self) -> str:
        verdict = "OK" if self.ok else "PROBLEM"
        return f"  {self.device} ({self.what}): {verdict}: {self.message}"


Probe = Callable[[], tuple[bool, str]]


def check_devices(config: KioskConfig, config_file: Path,
                  timeout_s: float = DEFAULT_TIMEOUT_S) -> list[DeviceReport]:
    """Every configured device and the backend, each opened with `timeout_s`; in parallel,
    reported in this order."""
    config_dir = config_file.resolve().parent
    probes: list[tuple[str, str, Probe]] = [
        ("printer", _printer_what(config), lambda: _probe_printer(config, config_dir,
                                                                  timeout_s)),
        ("camera", _camera_what(config), lambda: _probe_camera(config, config_dir, timeout_s)),
    ]
    if config.scan_engine.port:
        probes.append(("scan engine", f"serial {config.scan_engine.port}",
                       lambda: _probe_scan_engine(config)))
    if config.id_card.kind == "serial":
        reader = config.id_card
        probes.append(("ID card reader", f"serial {reader.port}, {reader.baudrate} baud",
                       lambda: _probe_id_card(reader.port, reader.baudrate)))
    probes.append(("backend", _backend_what(config),
                   lambda: _probe_backend(config, config_dir, timeout_s)))
    with _quiet_logs():
        results = _run_all([p for _, _, p in probes], timeout_s)
    return [DeviceReport(device, what, ok, message)
            for (device, what, _), (ok, message) in zip(probes, results, strict=True)]


def _run_all(probes: list[Probe], timeout_s: float) -> list[tuple[bool, str]]:
    # Each probe bounds its own waits; the thread's deadline is for a driver that ignores
    # them (a hung USB camera in VideoCapture). Such a thread is abandoned: the command ends.
    results: list[tuple[bool, str] | None] = [None] * len(probes)

    def run(i: int, probe: Probe) -> None:
        try:
            results[i] = probe()
        except Exception as exc:  # a check must report, never end the command
            results[i] = (False, f"the check failed ({type(exc).__name__}: {exc})")

    threads = [threading.Thread(target=run, args=(i, p), daemon=True, name=f"check-{i}")
               for i, p in enumerate(probes)]
    for t in threads:
        t.start()
    # A connection is tried twice (the hall client retries a refused connect once).
    limit = 3 * timeout_s + 5
    deadline = time.monotonic() + limit
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [r if r is not None else
            (False, f"still no answer after {limit:g} s: the device or its driver hangs "
                    "(unplug and replug it, or power-cycle it)")
            for r in results]


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    # The kiosk's modules log what they meet (a refused certificate at ERROR); without a
    # handler Python would print those raw beside the report, which already says it better.
    logger = logging.getLogger("kiosk")
    if logger.handlers or logging.getLogger().handlers:
        yield
        return
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


# --------------------------------------------------------------------------- printer


def _printer_what(config: KioskConfig) -> str:
    p = config.printer
    if p.kind == "network":
        return f"network {p.host}:{p.port}"
    if p.kind == "serial":
        return f"serial {p.port}, {p.baudrate} baud"
    if p.kind == "usb":
        return f"USB {p.vendor_id:04x}:{p.product_id:04x}"
    if p.kind == "file":
        return f"device file {p.path}"
    return "emulated"


def _probe_printer(config: KioskConfig, config_dir: Path, timeout_s: float) -> tuple[bool, str]:
    from kiosk.hardware.printer.errors import PrinterState, PrinterUnavailable
    from kiosk.hardware.printer.transports import make_transport

    cfg = config.printer
    if cfg.kind == "emulated":
        return True, "no device: jobs are kept as files under the data folder"
    if cfg.kind == "file":
        return _probe_device_file(Path(cfg.path))
    if cfg.kind == "network":
        try:
            socket.getaddrinfo(cfg.host, cfg.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return False, (f"host {cfg.host!r} does not resolve (no such name in DNS or "
                           "/etc/hosts): set printer.host to the printer's IP address (its "
                           "self-test page shows it)")
        cfg = cfg.model_copy(update={"timeout_s": min(cfg.timeout_s, timeout_s)})
    elif cfg.kind == "serial":
        if "://" not in cfg.port and not Path(cfg.port).exists():
            return False, (f"serial port {cfg.port} does not exist: check the cable or adapter "
                           "(dmesg) and prefer the stable /dev/serial/by-id/... path")
        cfg = cfg.model_copy(update={"timeout_s": min(cfg.timeout_s, timeout_s)})
    transport = make_transport(cfg, resolve(config_dir, config.paths.data_dir))
    try:
        transport.open()
        status = transport.read_status()
    except PrinterUnavailable as exc:
        return False, _printer_unavailable(cfg, exc, timeout_s)
    finally:
        with contextlib.suppress(Exception):
            transport.close()
    if not status.readable:
        return True, ("connected; its status is not asked (realtime_status = false), so the "
                      "kiosk cannot know when the paper runs out: check the roll at every visit")
    if status.silent:
        return False, ("connected, but the printer does not answer status queries (DLE EOT): "
                       "the kiosk sends it no ticket while it is silent. Check that it is an "
                       "ESC/POS printer, switched on and online; if this model never answers "
                       "them, set realtime_status = false under [printer]")
    if status.state is PrinterState.OK:
        return True, "connected; the printer reports it is ready"
    if status.state is PrinterState.PAPER_NEAR_END:
        return True, "connected; the printer reports the paper roll is nearly used up"
    what = {PrinterState.PAPER_OUT: "it is out of paper (load a roll, close the cover)",
            PrinterState.COVER_OPEN: "its cover is open (close it firmly)",
            PrinterState.OFFLINE: "it is offline (check paper and cover, press FEED)",
            PrinterState.ERROR: "an error (clear a paper jam at the cutter, power-cycle it)",
            }.get(status.state, str(status))
    return False, f"connected, but the printer reports {what}"


def _printer_unavailable(cfg: Any, exc: Any, timeout_s: float) -> str:
    causes = list(_chain(exc))
    if cfg.kind == "network":
        where = f"{cfg.host}:{cfg.port}"
        if any(isinstance(e, ConnectionRefusedError) for e in causes):
            return (f"nothing listens on {where} (connection refused): check the printer's IP "
                    "address (its self-test page shows it), the port (raw printing: 9100), and "
                    "that no other computer holds the printer's only connection")
        if any(isinstance(e, TimeoutError) for e in causes):
            return (f"no answer from {where} within {min(cfg.timeout_s, timeout_s):g} s: "
                    "check the network cable, the printer's power and its IP address")
        if any(isinstance(e, OSError) and e.errno in (errno_codes.ENETUNREACH,
                                                      errno_codes.EHOSTUNREACH)
               for e in causes):
            return (f"{where} cannot be reached from this kiosk (no route): check the network "
                    "cable and that the printer is on the kiosk's network")
    elif any(isinstance(e, OSError) and e.errno in (errno_codes.EACCES, errno_codes.EPERM)
             for e in causes) and cfg.kind == "serial":
        return (f"permission denied on {cfg.port}: add the kiosk user to the 'dialout' group "
                "(then log in again)")
    return f"{exc.args[0]}. {exc.hint}"


def _probe_device_file(path: Path) -> tuple[bool, str]:
    import os

    if not path.exists():
        return False, (f"{path} does not exist: the printer is unplugged or the usblp driver "
                       "is not loaded (modprobe usblp)")
    try:
        # Opened as the kiosk will, for writing, but without truncating: a device file is
        # not a file, and a path mistyped onto a real file must not be emptied by a check.
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as exc:
        if exc.errno in (errno_codes.EACCES, errno_codes.EPERM):
            return False, f"permission denied on {path}: add the kiosk user to the 'lp' group"
        if exc.errno == errno_codes.EBUSY:
            return False, f"{path} is busy: CUPS may hold the printer; remove it from CUPS"
        return False, f"{path} does not open for writing ({exc.strerror})"
    os.close(fd)
    return True, (f"{path} opens for writing; a device file cannot read the printer's status, "
                  "so no paper shows only when a ticket fails to print")


# --------------------------------------------------------------------------- camera


def _camera_what(config: KioskConfig) -> str:
    c = config.camera
    if c.kind == "opencv":
        return f"OpenCV {c.device}"
    return f"emulated, {c.source}" + (f" {c.path}" if c.source in ("images", "video") else "")


def _probe_camera(config: KioskConfig, config_dir: Path, timeout_s: float) -> tuple[bool, str]:
    import cv2

    from kiosk.hardware.camera.sources import CameraUnavailable, make_source

    # OpenCV's own warnings ("can't open camera by index") would interleave with the report,
    # which says the same with what to do.
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    source = make_source(resolved_camera(config, config_dir))
    try:
        source.open()
        deadline = time.monotonic() + timeout_s
        frame = source.read()
        while frame is None and time.monotonic() < deadline:
            frame = source.read()
    except CameraUnavailable as exc:
        return False, str(exc)
    finally:
        with contextlib.suppress(Exception):
            source.close()
    if frame is None:
        return False, (f"opened, but gave no picture within {timeout_s:g} s: check the USB "
                       "cable (a USB 2 port may be too slow without mjpg = true)")
    height, width = frame.shape[:2]
    return True, f"{source.describe()}: a {width}x{height} picture"


# --------------------------------------------------------------------------- scan engine


def _probe_scan_engine(config: KioskConfig) -> tuple[bool, str]:
    import serial

    port = config.scan_engine.port
    if "://" not in port and not Path(port).exists():
        return False, (f"serial port {port} does not exist: check the engine's cable (dmesg) "
                       "and that it is set to serial (CDC/ACM) mode, not keyboard")
    try:
        link = serial.serial_for_url(port, baudrate=config.scan_engine.baudrate, timeout=0.2)
    except (serial.SerialException, OSError, ValueError) as exc:
        code = next((e.errno for e in _chain(exc) if isinstance(e, OSError)
                     and isinstance(e.errno, int)), None)
        if code in (errno_codes.EACCES, errno_codes.EPERM):
            return False, f"permission denied on {port}: add the kiosk user to the 'dialout' group"
        if code == errno_codes.EBUSY:
            return False, f"{port} is in use by another program (ModemManager, a terminal)"
        return False, f"{port} does not open ({exc})"
    link.close()
    return True, "the port opens"


# --------------------------------------------------------------------------- ID card reader


def _probe_id_card(port: str, baudrate: int) -> tuple[bool, str]:
    from kiosk.hardware.id_card.reader import ReaderError
    from kiosk.hardware.id_card.serial_link import serial_reader

    if "://" not in port and not Path(port).exists():
        return False, (f"serial port {port} does not exist: check the reader's cable (dmesg) "
                       "and prefer the stable /dev/serial/by-id/... path")
    reader = serial_reader(port, baudrate)
    try:
        reader.open()  # asks the reader's security module whether it works
    except ReaderError as exc:
        return False, str(exc)
    finally:
        reader.close()
    return True, "the reader answers and its security module is ready"


# --------------------------------------------------------------------------- backend


def _backend_what(config: KioskConfig) -> str:
    b = config.backend
    return b.url if b.kind == "http" else f"embedded, {b.database}"


_NOT_ACCEPTED = re.compile(r"the certificate was not accepted \((?P<reason>.*)\)\s*$")


def _probe_backend(config: KioskConfig, config_dir: Path, timeout_s: float) -> tuple[bool, str]:
    b = config.backend
    if b.kind != "http":
        data_dir = resolve(config_dir, config.paths.data_dir)
        database = resolve(data_dir, b.database).resolve()
        return True, f"the kiosk's own queue (SQLite {database}); nothing to reach"
    from urllib.parse import urlsplit

    from kiosk.backend.interface import BackendError
    from kiosk.delivery.faults import BackendNotReached
    from kiosk.delivery.http_client import BackendCertificateError, BackendReplyError
    from kiosk.delivery.http_factory import make_http

    limited = b.model_copy(update={"connect_timeout_s": min(b.connect_timeout_s, timeout_s),
                                   "read_timeout_s": min(b.read_timeout_s, timeout_s)})
    parts = urlsplit(b.url)
    host = parts.hostname or ""
    where = f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    try:
        backend = make_http(limited, config_dir, None)
    except ValueError as exc:
        return False, str(exc)
    try:
        figures = backend.queue_figures()
    except BackendCertificateError as exc:
        return False, _certificate_problem(str(exc), host, b.ca_bundle, config_dir)
    except BackendNotReached as exc:
        text = str(exc)
        if "connection refused" in text:
            return False, (f"nothing listens on {where} (connection refused): check the port "
                           "in backend.url, and that the hall server (or the nginx in front of "
                           "it) runs there")
        if "host name not found" in text:
            return False, (f"host {host!r} does not resolve (no such name in DNS or "
                           "/etc/hosts): check backend.url")
        return False, _problem_of(exc)
    except BackendReplyError as exc:
        return False, (f"something answers at {b.url}, but not the hall server's API: "
                       f"{_problem_of(exc)}")
    except (BackendError, ValueError) as exc:
        return False, _problem_of(exc)
    finally:
        backend.close()
    return True, (f"the hall answers and accepts this kiosk's token ({len(figures)} service "
                  "categories)")


def _problem_of(exc: BaseException) -> str:
    # The client's messages begin "backend GET /v1/queue at https://…: "; the report
    # already names the backend.
    text = str(exc)
    head, sep, rest = text.partition(": ")
    return rest if sep and head.startswith("backend ") else text


def _certificate_problem(text: str, host: str, ca_bundle: str, config_dir: Path) -> str:
    found = _NOT_ACCEPTED.search(text)
    if found is None:
        return _problem_of(RuntimeError(text))
    reason = found.group("reason")
    lowered = reason.lower()
    if "mismatch" in lowered:
        return (f"certificate verify failed: the hall's certificate does not name {host} "
                f"({reason}); reissue it for that name, or put the name it has into "
                "backend.url")
    if "expired" in lowered or "not yet valid" in lowered:
        return (f"certificate verify failed: the hall's certificate is out of its dates "
                f"({reason}); renew it on the hall (and check this kiosk's clock)")
    if ca_bundle:
        return (f"certificate verify failed: the hall's certificate is not signed by the CA "
                f"in backend.ca_bundle ({resolve(config_dir, ca_bundle)}) ({reason}); that "
                "file is the wrong CA, or the hall's certificate was made with another one")
    return (f"certificate verify failed: the hall's certificate is not signed by a public CA "
            f"({reason}); for a hall's private CA set backend.ca_bundle to its .pem file")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__]
        todo += [a for a in e.args if isinstance(a, BaseException)]
