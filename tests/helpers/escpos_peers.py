"""Printers at the other end of a real connection, for the tests that open a printer as a
terminal does: a raw TCP port (9100) on 127.0.0.1, and a serial port (the slave of a pty pair,
opened like /dev/ttyUSB0, the test playing the printer on the master side). Each records every
byte it received and answers the real-time status queries (DLE EOT 1, 2, 4) as a ready printer
does, or not at all (`answers=False`: a model without real-time status).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator

# Replies of a ready printer to DLE EOT 1, 2 and 4 (the fixed bits only).
READY = {1: 0x12, 2: 0x12, 4: 0x12}


def _answers(pending: bytes, replies: dict[int, int]) -> tuple[bytes, bytes]:
    """What a printer sends back for the DLE EOT queries in `pending`, and the bytes it keeps
    (the start of a query split across two reads)."""
    out = b""
    while (at := pending.find(b"\x10\x04")) >= 0 and len(pending) > at + 2:
        if pending[at + 2] in replies:
            out += bytes([replies[pending[at + 2]]])
        pending = pending[at + 3:]
    return out, pending[-2:]


class TcpPrinter:
    """A network printer on 127.0.0.1: accepts connections one after another (as a real one
    does) and records what each sent."""

    def __init__(self, *, answers: bool = True) -> None:
        self.replies = dict(READY) if answers else {}
        self.received = bytearray()
        self.connections = 0
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        pending = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                with self._lock:
                    self.received += chunk
                answer, pending = _answers(pending + chunk, self.replies)
                if answer:
                    conn.sendall(answer)

    def data(self) -> bytes:
        with self._lock:
            return bytes(self.received)

    def hang_up(self) -> None:
        """End every open connection, as a LAN printer does with an idle one."""
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self._server.close()
        self._thread.join(timeout=5)


def refused_port() -> int:
    """A port of 127.0.0.1 where nothing listens (bound a moment, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PtyPrinter:
    """A serial printer: `port` is the pty's slave (/dev/pts/N), opened as the kiosk opens a
    serial port; a thread answers on the master side."""

    def __init__(self, *, answers: bool = True) -> None:
        self.replies = dict(READY) if answers else {}
        self.received = bytearray()
        self._master, self._slave = os.openpty()
        self.port = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pending = b""
        while not self._stop.is_set():
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                return
            self.received += chunk
            answer, pending = _answers(pending + chunk, self.replies)
            if answer:
                os.write(self._master, answer)

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            os.close(self._slave)
        with contextlib.suppress(OSError):
            os.close(self._master)


@contextlib.contextmanager
def tcp_printer(*, answers: bool = True) -> Iterator[TcpPrinter]:
    printer = TcpPrinter(answers=answers)
    try:
        yield printer
    finally:
        printer.close()


@contextlib.contextmanager
def pty_printer(*, answers: bool = True) -> Iterator[PtyPrinter]:
    printer = PtyPrinter(answers=answers)
    try:
        yield printer
    finally:
        printer.close()
