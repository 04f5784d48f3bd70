"""Hosts that fail below HTTP, on loopback, for a crawl run in a subprocess to meet.

Raw sockets served from threads of the test process (the crawl runs in a
child, so the test can count what reached them):

- :class:`HangingHost` accepts every connection and never answers (nor closes);
- :class:`DrippingHost` answers every request with a 200 whose body arrives a few
  bytes a second;
- :class:`RefusingPort` is a port bound and never listened on: every connection
  to it is refused.

A name that does not resolve is :mod:`tests.fakedns`' (answer it with ``[]``).
"""

from __future__ import annotations

import socket
import threading
import time


class _Host:
    """A listening socket on 127.0.0.1 (a free port) served by a thread per connection."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.stopped = threading.Event()
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self) -> None:
        self.stopped.set()
        self.sock.close()
        with self._lock:
            for conn in self._open:
                try:
                    conn.close()
                except OSError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _read_request(conn: socket.socket) -> str | None:
    """The path of the request on ``conn`` (None: it closed first)."""
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        request += chunk
    return request.split(b" ", 2)[1].decode("latin-1")


def _answer(conn: socket.socket, status: str, body: bytes, kind: str = "image/jpeg") -> None:
    conn.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n".encode()
        + body
    )


class HangingHost(_Host):
    """Accepts, reads what it is sent, and never answers; once :meth:`heal`-ed, answers
    ``/media/NAME`` with :func:`tests.media_site.media_bytes` (NAME) as the test server does."""

    healed = False

    def heal(self) -> None:
        self.healed = True

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(1.0)
        if self.healed:
            self._answer(conn)
            return
        while not self.stopped.is_set():
            try:
                if not conn.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def _answer(self, conn: socket.socket) -> None:
        from tests.media_site import media_bytes

        try:
            path = _read_request(conn)
            if path is None:
                return
            name = path.split("?")[0].rsplit("/", 1)[-1]
            if path.startswith("/media/"):
                _answer(conn, "200 OK", media_bytes(name))
            else:
                _answer(conn, "404 Not Found", b"no such file", "text/plain")
        except OSError:
            return
        finally:
            conn.close()


class DrippingHost(_Host):
    """Answers each request (but robots.txt: a 404 at once) with a 200 of ``size`` bytes sent
    ``rate`` bytes a second."""

    def __init__(self, size: int = 50_000, rate: float = 10.0) -> None:
        self.size, self.rate = size, rate
        super().__init__()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5.0)
            path = _read_request(conn)
            if path is None:
                return
            if path == "/robots.txt":
                _answer(conn, "404 Not Found", b"none", "text/plain")
                return
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n"
                + f"Content-Length: {self.size}\r\n\r\n".encode()
            )
            step = max(1, int(self.rate / 10))
            sent = 0
            while sent < self.size and not self.stopped.is_set():
                conn.sendall(b"x" * min(step, self.size - sent))
                sent += step
                time.sleep(step / self.rate)
        except OSError:
            return
        finally:
            conn.close()


class RefusingPort:
    """A port on 127.0.0.1 bound but never listened on: a connection to it is refused."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
