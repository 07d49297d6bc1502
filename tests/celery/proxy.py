"""A loopback TCP proxy that plays a broker dying mid-batch.

It forwards to the real Redis until the client has sent ``limit`` LPUSH
commands; the read that carries one more is dropped, every connection is cut
and the listening socket closed, so reconnecting fails too.
"""

from __future__ import annotations

import contextlib
import socket
import threading

LPUSH = b"\r\nLPUSH\r\n"


class DyingProxy:
    def __init__(self, target: tuple[str, int], limit: int) -> None:
        self.target = target
        self.limit = limit
        self.forwarded = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._dead = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._dead.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=10)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, counting: bool) -> None:
        while not self._dead.is_set():
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                self.die()
                return
            if counting:
                with self._lock:
                    self.forwarded += data.count(LPUSH)
                    over = self.forwarded > self.limit
                if over:
                    self.die()
                    return
            try:
                sink.sendall(data)
            except OSError:
                return

    def die(self) -> None:
        """Cut every connection and stop listening."""
        self._dead.set()
        with self._lock:
            for sock in [self._listener, *self._sockets]:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


#: The start of an AMQP basic.publish method frame's payload: class 60, method 40.
BASIC_PUBLISH = b"\x00\x3c\x00\x28"


class FreezingProxy:
    """A loopback TCP proxy that plays a broker that stops answering, connections open,
    or one that restarts (``cut()``).

    It forwards both ways until the client sends ``freeze_on`` (by default
    the first AMQP ``basic.publish``); from that read on it forwards nothing,
    in either direction, on any connection, and holds new connections without
    forwarding them: what a frozen broker process looks like from outside.
    """

    def __init__(self, target: tuple[str, int], freeze_on: bytes = BASIC_PUBLISH) -> None:
        self.target = target
        self.freeze_on = freeze_on
        self.frozen = threading.Event()
        self.armed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self) -> None:
        """Freeze at the next ``freeze_on`` the client sends."""
        self.armed.set()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._sockets.append(client)
            if self.frozen.is_set():
                continue  # accepted by the kernel, never answered
            upstream = socket.create_connection(self.target, timeout=10)
            with self._lock:
                self._sockets.append(upstream)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        while not self._closed.is_set():
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if from_client and self.armed.is_set() and self.freeze_on in data:
                self.frozen.set()
            if self.frozen.is_set():
                continue  # read and dropped: nothing more reaches either side
            try:
                sink.sendall(data)
            except OSError:
                return

    def cut(self) -> None:
        """Cut the open connections (a broker restart); new ones are forwarded as before."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Cut every connection and stop listening."""
        self._closed.set()
        with self._lock:
            for sock in [self._listener, *self._sockets]:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
