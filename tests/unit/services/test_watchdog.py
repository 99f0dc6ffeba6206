"""sd_notify over a real AF_UNIX datagram socket, and watchdog pings that stop with the UI."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.services.watchdog import SystemdNotifier, WatchdogPinger, watchdog_interval
from tests.helpers.waits import HANG_GUARD_MS, poll_until


class FakeSystemd:
    """The receiving end of $NOTIFY_SOCKET: stamps every datagram as it arrives."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(0.05)
        self.received: list[tuple[float, str]] = []
        self._stop = threading.Event()
        # A thread, not the test's own loop: the GUI thread is the one we block.
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received.append((time.monotonic(), data.decode()))

    def messages(self) -> list[str]:
        return [m for _, m in self.received]

    def wait_for(self, count: int) -> list[str]:
        poll_until(lambda: len(self.received) >= count)
        return self.messages()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


@pytest.fixture
def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSystemd]:
    path = tmp_path / "notify.sock"
    if len(str(path)) > 100:  # sun_path holds 108 bytes
        path = Path("/tmp") / f"kiosk-notify-{uuid.uuid4().hex[:8]}.sock"
    fake = FakeSystemd(str(path))
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    yield fake
    fake.close()
    path.unlink(missing_ok=True)


def test_ready_status_ping_arrive(systemd):
    n = SystemdNotifier()
    assert n.enabled
    assert n.ready("kiosk ready")
    assert n.status("printer: paper out\nstaff alerted")
    assert n.ping()
    assert n.stopping()
    assert systemd.wait_for(4) == [
        "READY=1\nSTATUS=kiosk ready",
        "STATUS=printer: paper out staff alerted",
        "WATCHDOG=1",
        "STOPPING=1",
    ]
    n.close()


def test_abstract_namespace_socket(monkeypatch):
    name = f"kiosk-test-{uuid.uuid4().hex}"
    fake = FakeSystemd(b"\0" + name.encode())
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    n = SystemdNotifier()
    try:
        assert n.ready()
        assert fake.wait_for(1) == ["READY=1"]
    finally:
        n.close()
        fake.close()


def test_no_op_without_notify_socket(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = SystemdNotifier()
    assert not n.enabled
    assert not n.ready() and not n.ping() and not n.status("x")


def test_a_vanished_socket_is_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone.sock"))
    n = SystemdNotifier()
    assert n.enabled and not n.ping()  # logged, not raised


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getppid())}, 30.0),  # cage
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "999999999"}, None),  # someone else's
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval(env, expected):
    assert watchdog_interval(env) == expected


def test_pinger_pings_at_half_the_interval_and_stops_when_the_loop_blocks(
    systemd, monkeypatch, qtbot
):
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # 0.2 s: pings every 0.1 s
    pinger = WatchdogPinger(SystemdNotifier())
    assert pinger.interval_s == 0.2
    # When each ping leaves, seen on the sending side: what reaches the fake systemd may
    # arrive late on a loaded machine, and only the sending time says which loop sent it.
    sent: list[float] = []
    notify = pinger.notifier.notify
    monkeypatch.setattr(pinger.notifier, "notify",
                        lambda *fields: sent.append(time.monotonic()) or notify(*fields))
    started = time.monotonic()
    pinger.start()
    assert pinger.active
    qtbot.waitUntil(lambda: len([m for m in systemd.messages() if m == "WATCHDOG=1"]) >= 4,
                    timeout=HANG_GUARD_MS)
    pings = [m for m in systemd.messages() if m == "WATCHDOG=1"]
    # Every 0.1 s at most: a timer is late on a busy machine, never early (Qt's coarse
    # timers may fire up to 5 % early, hence one ping of slack beyond the first).
    assert 4 <= len(pings) <= (time.monotonic() - started) / 0.1 + 2, pings

    # The GUI thread is busy (a deadlock, a stuck native call): no pings at all. The sleep
    # IS the stuck GUI thread, not a wait for something: nothing on the GUI thread can run
    # during it on any machine, so it cannot fail by chance. What it proves: no ping leaves
    # from elsewhere (a pinger on its own thread would keep systemd fooled) while the loop is
    # blocked for six ping intervals; a slower machine only stretches the block.
    blocked_from = time.monotonic()
    time.sleep(0.6)
    blocked_until = time.monotonic()
    during = [t for t in sent if blocked_from < t < blocked_until]
    assert during == []

    # And they come back with the event loop.
    before = len(systemd.received)
    qtbot.waitUntil(lambda: len(systemd.received) >= before + 2, timeout=HANG_GUARD_MS)
    pinger.stop()
    assert not pinger.active
    pinger.notifier.close()


def test_pinger_is_idle_without_a_watchdog(systemd, qtbot):
    pinger = WatchdogPinger(SystemdNotifier())
    pinger.start()
    assert not pinger.active  # no timer: nothing can be sent later
    # And nothing was sent by start(): a marker sent after it on the same socket arrives
    # after anything start() sent (datagrams to one socket queue in order), so once the
    # marker is in, a ping would be too.
    try:
        assert pinger.notifier.notify("X_TEST=marker")
        assert poll_until(lambda: "X_TEST=marker" in systemd.messages())
    finally:
        pinger.notifier.close()
    assert systemd.messages() == ["X_TEST=marker"]


def test_pinger_is_idle_without_systemd(monkeypatch, qtbot):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    pinger = WatchdogPinger(SystemdNotifier(), interval_s=0.2)
    pinger.start()
    assert not pinger.active
