"""The network between a kiosk and its hall, as a TCP proxy a test can cut.

The kiosk is pointed at the proxy's port, which forwards every connection to the hall
while it is "up". `cut()` is a link that went away: nothing listens on the port any more
(a connection is refused) and every open connection is closed. `lose_replies()` is the worst
case: requests reach the hall, which acts on them, and its answers never come back (the
connection is closed when they do). `restore()` brings the link back on the same port.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Literal

Mode = Literal["up", "cut", "lose_replies"]


class CutLink:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "up"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.lost_replies = 0
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- the switches ----------------------------------------------------------------------
    def cut(self) -> None:
        """Nothing listens; every open connection closed."""
        with self._lock:
            self.mode = "cut"
            listener, self._listener = self._listener, None
            held = list(self._open)
            self._open.clear()
        if listener is not None:
            self._close(listener, shutdown=True)
        for s in held:
            self._close(s, shutdown=True)

    def lose_replies(self) -> None:
        """Requests go through; their answers are dropped and the connection closed."""
        with self._lock:
            self.mode = "lose_replies"
            held = list(self._open)
            self._open.clear()
        for s in held:  # kept-alive connections start afresh, through this mode
            self._close(s, shutdown=True)
        self._ensure_listening()

    def restore(self) -> None:
        with self._lock:
            self.mode = "up"
            held = list(self._open)
            self._open.clear()
        for s in held:
            self._close(s, shutdown=True)
        self._ensure_listening()

    def close(self) -> None:
        self.cut()

    # --- the plumbing ----------------------------------------------------------------------
    def _ensure_listening(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
        listener = self._listen(self.port)
        with self._lock:
            self._listener = listener

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        threading.Thread(target=self._accept, args=(listener,), daemon=True,
                         name="cut-link-accept").start()
        return listener

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was shut down: the link is cut
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    continue
                self._open.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, False),
                             daemon=True, name="cut-link-up").start()
            threading.Thread(target=self._pump, args=(upstream, client, True),
                             daemon=True, name="cut-link-down").start()

    def _pump(self, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if replies and self.mode == "lose_replies":
                    with self._lock:
                        self.lost_replies += 1
                    break  # the hall has answered; the kiosk never hears it
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            self._close(source, shutdown=True)
            self._close(sink, shutdown=True)

    @staticmethod
    def _close(s: socket.socket, *, shutdown: bool) -> None:
        if shutdown:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        s.close()
