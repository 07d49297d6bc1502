"""A loopback TCP proxy that delays every byte by a fixed round-trip time.

On loopback a Redis round trip costs tens of microseconds, less than the
client's own work per job, so batching barely shows. Real deployments talk to
Redis over a network; this proxy adds ``rtt_ms`` (half each way, without
limiting bandwidth) so the benchmarks can show both. Shared by bench/dramatiq.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time


class LatencyProxy:
    """Listen on 127.0.0.1:<port>; forward to ``upstream`` with ``rtt_ms`` added."""

    def __init__(self, upstream: tuple[str, int], rtt_ms: float) -> None:
        self.upstream = upstream
        self.delay = rtt_ms / 2000
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.closed = threading.Event()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            backend = socket.create_connection(self.upstream)
            for sock in (client, backend):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sockets += [client, backend]
            self._pipe(client, backend)
            self._pipe(backend, client)

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def read() -> None:
            while True:
                try:
                    data = source.recv(1 << 16)
                except OSError:
                    data = b""
                chunks.put((time.perf_counter() + self.delay, data))
                if not data:
                    return

        def write() -> None:
            while True:
                due, data = chunks.get()
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                if not data:
                    with contextlib.suppress(OSError):
                        target.shutdown(socket.SHUT_WR)
                    return
                try:
                    target.sendall(data)
                except OSError:
                    return

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()

    def close(self) -> None:
        """Stop accepting and drop every proxied connection."""
        self.closed.set()
        self.server.close()
        for sock in self.sockets:
            sock.close()
