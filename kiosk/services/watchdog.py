"""systemd supervision: tell systemd the kiosk is ready, and keep proving the UI is alive.

`SystemdNotifier` speaks the sd_notify protocol itself: one datagram of `KEY=value` lines
sent to the AF_UNIX socket named by $NOTIFY_SOCKET. That is a dozen lines of stdlib socket
code, so no dependency is taken (python-systemd needs libsystemd headers to build and the
sdnotify package is unmaintained), and the kiosk runs unchanged where systemd is absent: with
NOTIFY_SOCKET unset every call is a no-op.

`WatchdogPinger` sends WATCHDOG=1 from a QTimer on the GUI thread, at half the interval
systemd asked for. The pings therefore prove that the event loop runs, not merely that the
process exists: a UI frozen in a deadlock or a native call stops the pings, and systemd
kills and restarts the kiosk (WatchdogSec= in packaging/systemd/kiosk.service).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)


def _address(raw: str) -> str | bytes | None:
    if raw.startswith("@"):
        # An abstract-namespace socket: "@" stands for the leading NUL byte.
        return b"\0" + raw[1:].encode()
    if raw.startswith("/"):
        return raw
    # vsock: addresses (systemd 253+, for VMs) are not needed on a kiosk.
    log.warning("NOTIFY_SOCKET %r is not a unix socket path; not notifying systemd", raw)
    return None


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """The watchdog interval in seconds systemd set for us (WATCHDOG_USEC), or None."""
    env = os.environ if env is None else env
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = env.get("WATCHDOG_PID")
    # systemd names the main process. Under a kiosk compositor (cage) that is the compositor,
    # our parent, and the unit says NotifyAccess=all; the interval is meant for us then too.
    if pid and pid.isdigit() and int(pid) not in (os.getpid(), os.getppid()):
        return None
    return usec / 1_000_000


class SystemdNotifier:
    """sd_notify over $NOTIFY_SOCKET; every method returns whether a message was sent."""

    def __init__(self, address: str | None = None) -> None:
        raw = os.environ.get("NOTIFY_SOCKET", "") if address is None else address
        self._address = _address(raw) if raw else None
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, *fields: str) -> bool:
        """Send `KEY=value` fields in one datagram. Never raises: supervision is best effort,
        and a failed send is answered by systemd itself (a missed ping restarts us)."""
        if self._address is None:
            return False
        message = "\n".join(fields).encode("utf-8")
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message, self._address)
        except OSError as exc:
            log.warning("sd_notify failed: %s", exc)
            self.close()  # a fresh socket next time, in case this one is broken
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([_status_field(status)] if status else []))

    def ping(self) -> bool:
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.notify(_status_field(text))

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _status_field(text: str) -> str:
    # Fields are newline-separated: a newline in the text would start a field of its own.
    return "STATUS=" + " ".join(text.split())


class WatchdogPinger(QObject):
    """Pings the systemd watchdog from the GUI event loop at half its interval.

    `interval_s` is systemd's watchdog interval (default: from WATCHDOG_USEC). Without one
    (not under systemd, or WatchdogSec= unset) `start()` does nothing.
    """

    def __init__(
        self,
        notifier: SystemdNotifier,
        interval_s: float | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.notifier = notifier
        watchdog = watchdog_interval() if interval_s is None else interval_s
        self.interval_s = watchdog
        self._timer = QTimer(self)
        if watchdog:
            self._timer.setInterval(max(1, int(watchdog * 1000 / 2)))
        # Connected to a bound method, not a lambda holding self: no reference cycle that
        # keeps the pinger (and its timer) alive after its parent is gone.
        self._timer.timeout.connect(self.ping)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        if not self.interval_s or not self.notifier.enabled:
            return
        self.ping()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def ping(self) -> None:
        self.notifier.ping()
