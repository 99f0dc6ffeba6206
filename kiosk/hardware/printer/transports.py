"""Connections to a printer: open, write bytes, read the real-time status, close.

The real transports wrap python-escpos's `Usb`, `Serial`, `Network` and `File` classes (their
`_raw()` writes, their device object reads) with the fixes docs/notes/ESCPOS.md calls for:

* they open in `open()`, never lazily on the first property access (`Escpos.device` opens
  the connection when read while closed, so we only ever touch `_device`);
* USB writes time out after the configured time (python-escpos's default 0 blocks forever),
  network connects and writes after the configured time (its default is 60 s), serial
  writes get a write timeout (pyserial's default blocks forever under flow control);
* every pyusb / pyserial / socket / OS / python-escpos error becomes `PrinterUnavailable`
  with a hint for the technician (udev rule, usblp or CUPS holding the device, ...);
* status comes from DLE EOT 1, 2 and 4 with a short timeout; silence is UNKNOWN, never
  "paper OK" (python-escpos's `paper_status()` reports silence as paper OK). A printer
  configured with `realtime_status = false` is never asked: its status is "cannot be read",
  as a device file's is.

One owner: each transport serialises its own writes and status queries with a lock, because
a real-time command sent in the middle of another command's bytes corrupts both.
"""

from __future__ import annotations

import contextlib
import errno as errno_codes
import logging
import socket
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from kiosk.hardware.printer.errors import PrinterState, PrinterStatus, PrinterUnavailable

if TYPE_CHECKING:
    from kiosk.config.schema import (
        FilePrinterConfig,
        NetworkPrinterConfig,
        PrinterDevice,
        SerialPrinterConfig,
        UsbPrinterConfig,
    )

log = logging.getLogger(__name__)

DLE_EOT = b"\x10\x04"
STATUS_TIMEOUT_S = 0.5  # a printer answers real-time queries within a few milliseconds
CANNOT_READ_STATUS = "this connection cannot read status"
STATUS_NOT_ASKED = "realtime_status = false, not asked"


@runtime_checkable
class PrinterTransport(Protocol):
    def open(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def read_status(self) -> PrinterStatus: ...

    def close(self) -> None: ...

    def describe(self) -> str: ...


# --------------------------------------------------------------------------- status bytes


def _valid_reply(byte: int) -> bool:
    # ESC/POS fixes bits 0 and 7 to 0 and bits 1 and 4 to 1 in every DLE EOT reply; anything
    # else is an echo, a stale ASB byte or line noise.
    return byte & 0x93 == 0x12


def status_from_replies(r1: int | None, r2: int | None, r4: int | None) -> PrinterStatus:
    """Decode the replies to DLE EOT 1, 2 and 4 (None = no answer) into a status."""
    raw = bytes(b for b in (r1, r2, r4) if b is not None)
    for n, reply in ((1, r1), (2, r2), (4, r4)):
        if reply is not None and not _valid_reply(reply):
            return PrinterStatus(PrinterState.UNKNOWN, raw=raw,
                                 detail=f"unexpected reply 0x{reply:02X} to DLE EOT {n}")
    if r1 is None:
        return PrinterStatus(PrinterState.UNKNOWN, raw=raw, detail="no answer to DLE EOT 1")
    flags = _flags(r1, r2, r4)
    state = _state_from_flags(**flags)
    if state in (PrinterState.OK, PrinterState.PAPER_NEAR_END) and None in (r2, r4):
        missing = ", ".join(str(n) for n, r in ((2, r2), (4, r4)) if r is None)
        return PrinterStatus(PrinterState.UNKNOWN, raw=raw, **flags,
                             detail=f"no answer to DLE EOT {missing}")
    return PrinterStatus(state, raw=raw, **flags, detail=_describe_flags(state, flags))


def _flags(r1: int, r2: int | None, r4: int | None) -> dict[str, bool]:
    r2 = r2 or 0x12
    r4 = r4 or 0x12
    return {
        "offline": bool(r1 & 0x08),
        "cover_open": bool(r2 & 0x04),
        "paper_out": bool(r2 & 0x20 or r4 & 0x60),
        "paper_near_end": bool(r4 & 0x0C),
        "error": bool(r2 & 0x40),
    }


def _state_from_flags(
    *, offline: bool, cover_open: bool, paper_out: bool, paper_near_end: bool, error: bool
) -> PrinterState:
    # The cause outranks its effect: an open cover or no paper is what takes it offline.
    if cover_open:
        return PrinterState.COVER_OPEN
    if paper_out:
        return PrinterState.PAPER_OUT
    if error:
        return PrinterState.ERROR
    if offline:
        return PrinterState.OFFLINE
    return PrinterState.PAPER_NEAR_END if paper_near_end else PrinterState.OK


def _describe_flags(state: PrinterState, flags: dict[str, bool]) -> str:
    on = [name.replace("_", " ") for name, value in flags.items() if value]
    return ", ".join(on) if on else "ready" if state is PrinterState.OK else state.value


# --------------------------------------------------------------------------- errors


def _errors_in_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _errno(exc: BaseException) -> int | None:
    for err in _errors_in_chain(exc):
        code = getattr(err, "errno", None)
        if isinstance(code, int):
            return code
    return None


def _chain_has(exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...]
               ) -> bool:
    return any(isinstance(err, kind) for err in _errors_in_chain(exc))


def _unavailable(what: str, exc: BaseException, hint: str) -> PrinterUnavailable:
    error = PrinterUnavailable(f"{what}: {_one_line(exc)}", hint=hint)
    error.__cause__ = exc
    return error


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------- base


class _EscposTransport(ABC):
    """Common open/write/status logic around one python-escpos printer object."""

    def __init__(self, printer: Any, status_timeout_s: float = STATUS_TIMEOUT_S, *,
                 realtime_status: bool = True) -> None:
        self._printer = printer
        self._status_timeout_s = status_timeout_s
        self._realtime_status = realtime_status
        self._lock = threading.RLock()
        self._is_open = False

    # -- subclass hooks
    @abstractmethod
    def describe(self) -> str:
        """The connection in a technician's words, e.g. "USB 0416:5011"."""

    def _open_device(self) -> None:
        self._printer.open(raise_not_found=True)

    @abstractmethod
    def _hint(self, exc: BaseException) -> str:
        """What to check when opening or writing failed with `exc`."""

    def _read_byte(self, timeout_s: float) -> int | None:
        return None

    def _drain(self) -> None:
        return None

    def _discard_output(self) -> None:
        return None

    def _check_alive(self) -> None:
        """Raise OSError if the connection is known to be gone (for a printer whose status
        is not asked, the one moment before a job when that can still be found out)."""
        return None

    # -- protocol
    def open(self) -> None:
        with self._lock:
            self._close_quietly()
            try:
                self._open_device()
            except (OSError, ValueError, RuntimeError, _escpos_error()) as exc:
                self._close_quietly()
                raise _unavailable(f"cannot open {self.describe()}", exc,
                                   self._hint(exc)) from exc
            if not self._printer._device:
                # python-escpos reports "not found" with `assert`, which `python -O` removes.
                raise PrinterUnavailable(f"cannot open {self.describe()}: device not found",
                                         hint=self._hint(LookupError("not found")))
            self._is_open = True

    def write(self, data: bytes) -> None:
        with self._lock:
            self._require_open()
            try:
                self._printer._raw(data)
            except (OSError, ValueError, _escpos_error()) as exc:
                self._abort()
                raise _unavailable(f"cannot write to {self.describe()}", exc,
                                   self._hint(exc)) from exc

    def read_status(self) -> PrinterStatus:
        with self._lock:
            self._require_open()
            try:
                if not self._realtime_status:
                    self._check_alive()
                    return PrinterStatus.unreadable(STATUS_NOT_ASKED)
                r1 = self._query(1)
                if r1 is None:
                    return PrinterStatus.unknown(
                        f"no answer to DLE EOT 1 within {self._status_timeout_s:g} s")
                return status_from_replies(r1, self._query(2), self._query(4))
            except (OSError, ValueError, _escpos_error()) as exc:
                self._abort()
                raise _unavailable(f"cannot read status of {self.describe()}", exc,
                                   self._hint(exc)) from exc

    def close(self) -> None:
        with self._lock:
            self._close_quietly()

    # -- helpers
    def _query(self, n: int) -> int | None:
        self._drain()
        self._printer._raw(DLE_EOT + bytes([n]))
        return self._read_byte(self._status_timeout_s)

    def _require_open(self) -> None:
        if not self._is_open or not self._printer._device:
            raise PrinterUnavailable(f"{self.describe()} is not open",
                                     hint="The printer connection was closed; reopen it.")

    def _abort(self) -> None:
        # After a failed write the rest of the job must not trickle out later, and closing
        # must not wait for it.
        with contextlib.suppress(OSError, ValueError):
            self._discard_output()
        self._close_quietly()

    def _close_quietly(self) -> None:
        self._is_open = False
        # Closing a connection that already broke must not hide the first error.
        with contextlib.suppress(OSError, ValueError, _escpos_error()):
            self._printer.close()
        self._printer._device = False  # so nothing can reopen it lazily behind our back

    @property
    def _device(self) -> Any:
        return self._printer._device


def _escpos_error() -> type[Exception]:
    from escpos.exceptions import Error

    error: type[Exception] = Error  # python-escpos ships no types; its Error is an Exception
    return error


# --------------------------------------------------------------------------- USB

_USB_BUSY_HINT = (
    "The USB device is busy: the kernel usblp driver or CUPS holds it. Remove the printer "
    "from CUPS, or rmmod usblp (blacklisted by the package's /lib/modprobe.d/kiosk-usblp.conf) "
    "and replug it; or use kind = \"file\" with /dev/usb/lp0 instead."
)


class UsbTransport(_EscposTransport):
    """A USB printer through pyusb (libusb-1.0)."""

    def __init__(self, cfg: UsbPrinterConfig, status_timeout_s: float = STATUS_TIMEOUT_S) -> None:
        from escpos.printer import Usb

        # timeout 0 would block forever on a stalled printer.
        printer = Usb(cfg.vendor_id, cfg.product_id, timeout=max(100, cfg.timeout_ms),
                      in_ep=cfg.in_ep, out_ep=cfg.out_ep)
        # python-escpos skips falsy ids (`if idVendor:`); id 0 must still filter.
        printer.usb_args.update(idVendor=cfg.vendor_id, idProduct=cfg.product_id)
        super().__init__(printer, status_timeout_s, realtime_status=cfg.realtime_status)
        self._cfg = cfg

    def describe(self) -> str:
        return f"USB {self._cfg.vendor_id:04x}:{self._cfg.product_id:04x}"

    def _open_device(self) -> None:
        import usb.util

        super()._open_device()
        device = self._printer._device
        if not device:
            return
        # python-escpos logs and ignores a failed set_configuration (e.g. access denied);
        # claiming the interface now makes that fail here rather than on the first ticket.
        if self._cfg.interface != 0:
            self._detach_kernel_driver(device, self._cfg.interface)
        usb.util.claim_interface(device, self._cfg.interface)

    @staticmethod
    def _detach_kernel_driver(device: Any, interface: int) -> None:
        import usb.core

        # claim_interface reports the real problem with a proper errno.
        with contextlib.suppress(NotImplementedError, usb.core.USBError):
            if device.is_kernel_driver_active(interface):
                device.detach_kernel_driver(interface)

    def _read_byte(self, timeout_s: float) -> int | None:
        import usb.core

        try:
            reply = self._device.read(self._cfg.in_ep, 16, int(timeout_s * 1000))
        except usb.core.USBTimeoutError:
            return None
        return int(reply[-1]) if len(reply) else None

    def _drain(self) -> None:
        import usb.core

        for _ in range(4):  # late replies to an earlier query would be taken for this one
            try:
                if not len(self._device.read(self._cfg.in_ep, 64, 5)):
                    return
            except usb.core.USBTimeoutError:
                return

    def _hint(self, exc: BaseException) -> str:
        return usb_hint(exc, self._cfg.vendor_id, self._cfg.product_id, self._cfg.timeout_ms)


def usb_hint(exc: BaseException, vendor_id: int, product_id: int, timeout_ms: int) -> str:
    import usb.core

    ids = f"{vendor_id:04x}:{product_id:04x}"
    code = _errno(exc)
    if _chain_has(exc, usb.core.NoBackendError):
        return "libusb-1.0 is missing: install it (apt install libusb-1.0-0)."
    if _chain_has(exc, usb.core.USBTimeoutError) or code == errno_codes.ETIMEDOUT:
        return (f"The printer did not take data within {timeout_ms} ms: check for no paper, "
                "an open cover or a jam (status light), then power-cycle it.")
    if code in (errno_codes.EACCES, errno_codes.EPERM):
        return (f"Access denied to USB {ids}: add a udev rule such as "
                f'SUBSYSTEM=="usb", ATTRS{{idVendor}}=="{vendor_id:04x}", '
                f'ATTRS{{idProduct}}=="{product_id:04x}", MODE="0660", GROUP="lp" '
                "in /etc/udev/rules.d/99-kiosk-printer.rules, put the kiosk user in that "
                "group, then reload udev and replug the printer.")
    if code == errno_codes.EBUSY:
        return _USB_BUSY_HINT
    if code in (errno_codes.ENODEV, errno_codes.ENOENT, errno_codes.EIO):
        return f"USB {ids} went away: check the cable and the printer's power."
    return (f"No USB device {ids}: check the cable and power (`lsusb` should list {ids}); "
            "many cheap printers share 0416:5011 or need their own endpoints, so check "
            "vendor_id, product_id, in_ep and out_ep in kiosk.toml.")


# --------------------------------------------------------------------------- serial


class SerialTransport(_EscposTransport):
    """An RS-232 or USB-serial printer; `port` may also be a pyserial URL (rfc2217://...)."""

    def __init__(
        self, cfg: SerialPrinterConfig, status_timeout_s: float = STATUS_TIMEOUT_S
    ) -> None:
        from escpos.printer import Serial

        # dsrdtr=False: python-escpos defaults to DSR/DTR flow control, which many printers
        # do not wire; RTS/CTS comes from the config.
        printer = Serial(devfile=cfg.port, baudrate=cfg.baudrate, timeout=cfg.timeout_s,
                         dsrdtr=False)
        super().__init__(printer, status_timeout_s, realtime_status=cfg.realtime_status)
        self._cfg = cfg

    def describe(self) -> str:
        return f"serial {self._cfg.port} {self._cfg.baudrate} baud"

    def _open_device(self) -> None:
        if "://" in self._cfg.port:
            import serial

            self._printer.device = serial.serial_for_url(
                self._cfg.port, baudrate=self._cfg.baudrate, timeout=self._cfg.timeout_s)
        else:
            super()._open_device()
        device = self._printer._device
        if device:
            device.rtscts = self._cfg.rtscts
            # Without it a printer holding CTS low (no paper) blocks write() forever.
            device.write_timeout = self._cfg.timeout_s

    def _read_byte(self, timeout_s: float) -> int | None:
        device = self._device
        saved = device.timeout
        device.timeout = timeout_s
        try:
            reply = device.read(1)
        finally:
            device.timeout = saved
        return reply[0] if reply else None

    def _drain(self) -> None:
        self._device.reset_input_buffer()

    def _discard_output(self) -> None:
        if self._device:
            self._device.reset_output_buffer()

    def _hint(self, exc: BaseException) -> str:
        import serial

        port = self._cfg.port
        code = _errno(exc)
        if _chain_has(exc, serial.SerialTimeoutException):
            return ("The printer did not take data in time (flow control held): check for no "
                    "paper or an open cover, and that baudrate and rtscts match the printer.")
        if code in (errno_codes.EACCES, errno_codes.EPERM):
            return f"Access denied to {port}: add the kiosk user to the 'dialout' group."
        if code == errno_codes.EBUSY:
            return f"{port} is in use by another program (ModemManager, a terminal, getty)."
        if code in (errno_codes.ENOENT, errno_codes.ENODEV, errno_codes.ENXIO):
            return (f"No serial port {port}: check the adapter (dmesg) and prefer the stable "
                    "/dev/serial/by-id/... path.")
        return (f"Check the cable to {port} and that baudrate {self._cfg.baudrate} matches "
                "the printer's self-test page.")


# --------------------------------------------------------------------------- network


class NetworkTransport(_EscposTransport):
    """A LAN printer on a raw TCP port (9100)."""

    def __init__(
        self, cfg: NetworkPrinterConfig, status_timeout_s: float = STATUS_TIMEOUT_S
    ) -> None:
        from escpos.printer import Network

        printer = Network(host=cfg.host, port=cfg.port, timeout=cfg.timeout_s)
        super().__init__(printer, status_timeout_s, realtime_status=cfg.realtime_status)
        self._cfg = cfg

    def describe(self) -> str:
        return f"network {self._cfg.host}:{self._cfg.port}"

    def _open_device(self) -> None:
        # python-escpos's Network.open drops its socket without closing it when the connect
        # fails, leaking a file descriptor per retry; this connects the same way (IPv4, the
        # configured timeout, the same error) and closes the socket on failure.
        from escpos.exceptions import DeviceNotFoundError

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(self._cfg.timeout_s)
            sock.connect((self._cfg.host, self._cfg.port))
        except OSError as exc:
            sock.close()
            raise DeviceNotFoundError(
                f"Could not open socket for {self._cfg.host}:\n{exc}") from exc
        self._printer._device = sock

    def _read_byte(self, timeout_s: float) -> int | None:
        sock: socket.socket = self._device
        sock.settimeout(timeout_s)
        try:
            reply = sock.recv(1)
        except TimeoutError:
            return None
        finally:
            sock.settimeout(self._cfg.timeout_s)
        if not reply:
            raise ConnectionResetError(errno_codes.ECONNRESET, "printer closed the connection")
        return reply[0]

    def _drain(self) -> None:
        sock: socket.socket = self._device
        sock.setblocking(False)
        try:
            while sock.recv(64):
                pass
        except BlockingIOError:
            pass
        finally:
            sock.settimeout(self._cfg.timeout_s)

    def _check_alive(self) -> None:
        # LAN printers drop idle connections. Unasked for status, the kiosk would otherwise
        # write the next ticket into a closed socket; seen now, nothing is lost: the printer
        # facade reconnects before the job.
        sock: socket.socket = self._device
        sock.setblocking(False)
        try:
            while True:
                if not sock.recv(64):  # bytes the printer sent by itself are of no use
                    raise ConnectionResetError(errno_codes.ECONNRESET,
                                               "printer closed the connection")
        except BlockingIOError:
            pass
        finally:
            sock.settimeout(self._cfg.timeout_s)

    def _hint(self, exc: BaseException) -> str:
        where = f"{self._cfg.host}:{self._cfg.port}"
        if _chain_has(exc, socket.gaierror):
            return f"Cannot resolve '{self._cfg.host}': use the printer's IP address."
        if _chain_has(exc, ConnectionRefusedError):
            return (f"Connection refused by {where}: check the printer's IP address (its "
                    "self-test page shows it) and that raw printing on this port is on.")
        if _chain_has(exc, TimeoutError):
            return (f"No answer from {where} within {self._cfg.timeout_s:g} s: check the "
                    "network cable, the printer's power and its IP address.")
        return (f"The connection to {where} broke: check the network cable and the printer's "
                "power; the job may have to be printed again.")


# --------------------------------------------------------------------------- file


class FileTransport(_EscposTransport):
    """A device file (/dev/usb/lp0 through the kernel usblp driver); write only."""

    def __init__(self, cfg: FilePrinterConfig) -> None:
        from escpos.printer import File

        super().__init__(File(devfile=cfg.path, auto_flush=True))
        self._cfg = cfg

    def describe(self) -> str:
        return f"file {self._cfg.path}"

    def read_status(self) -> PrinterStatus:
        with self._lock:
            self._require_open()
        return PrinterStatus.unreadable(CANNOT_READ_STATUS)

    def _hint(self, exc: BaseException) -> str:
        path = self._cfg.path
        code = _errno(exc)
        if code in (errno_codes.EACCES, errno_codes.EPERM):
            return f"Access denied to {path}: add the kiosk user to the 'lp' group."
        if code in (errno_codes.ENOENT, errno_codes.ENODEV, errno_codes.ENXIO):
            return (f"{path} does not exist: the printer is unplugged or the usblp driver is "
                    "not loaded (modprobe usblp).")
        if code == errno_codes.EBUSY:
            return f"{path} is busy: CUPS may hold the printer; remove it from CUPS."
        return f"Check the printer behind {path} (power, cable, paper)."


# --------------------------------------------------------------------------- factory


def make_transport(cfg: PrinterDevice, data_dir: Path) -> PrinterTransport:
    """The transport for the configured printer; nothing is opened yet."""
    factories: dict[str, Callable[[Any], PrinterTransport]] = {
        "usb": UsbTransport,
        "serial": SerialTransport,
        "network": NetworkTransport,
        "file": FileTransport,
        "emulated": lambda c: _emulated(c, data_dir),
    }
    try:
        factory = factories[cfg.kind]
    except KeyError:
        raise ValueError(f"unknown printer kind {cfg.kind!r}") from None
    transport = factory(cfg)
    if getattr(cfg, "realtime_status", True) is False:
        log.warning("printer %s: realtime_status = false, so the kiosk cannot know when the "
                    "paper runs out or the cover is open; check the roll at every visit",
                    transport.describe())
    return transport


def _emulated(cfg: Any, data_dir: Path) -> PrinterTransport:
    from kiosk.hardware.printer.emulated import EmulatedPrinter

    output = Path(cfg.output_dir) if cfg.output_dir else None
    if output is not None and not output.is_absolute():
        output = data_dir / output
    return EmulatedPrinter(output_dir=output)
