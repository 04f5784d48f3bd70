"""Shared fixtures: no proxies, and the tests' HTTP server (``tests/server.py``) as a subprocess."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
SERVER_SCRIPT = TESTS_DIR / "server.py"

PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
)

#: urllib without proxies, whatever the environment says.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="session", autouse=True)
def _no_proxies() -> Iterator[None]:
    """Tests talk to 127.0.0.1 only: no proxy variables for this process or its children."""
    with pytest.MonkeyPatch.context() as mp:
        for name in PROXY_VARIABLES:
            mp.delenv(name, raising=False)
        yield


class SiteProcess:
    """A running ``tests/server.py``: its base URL and helpers for its control routes."""

    def __init__(self, proc: subprocess.Popen, url: str, stderr: Any) -> None:
        self.proc = proc
        self.url = url
        self._stderr = stderr

    def get(
        self, path: str, *, timeout: float = 30, **params: Any
    ) -> tuple[int, dict[str, str], bytes]:
        """GET ``path`` (query ``params`` added): status, headers, body; HTTP errors returned."""
        url = self.url + path
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        try:
            with OPENER.open(url, timeout=timeout) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as err:
            with err:
                return err.code, dict(err.headers.items()), err.read()

    def control(self, path: str, **params: Any) -> Any:
        """GET ``/_control/<path>`` with ``params``: the parsed JSON (or the text)."""
        path = path.lstrip("/")
        if path.startswith("_control/"):
            path = path[len("_control/") :]
        status, headers, body = self.get("/_control/" + path, **params)
        text = body.decode("utf-8")
        data = json.loads(text) if "json" in headers.get("Content-Type", "") else text
        if status != 200:
            raise RuntimeError(f"control {path} {params} answered {status}: {text}")
        return data

    def stats(self) -> list[list[Any]]:
        """The request log: ``[method, path_with_query, status]`` per request."""
        status, _, body = self.get("/_stats")
        assert status == 200, body
        return json.loads(body)

    def reset_stats(self) -> None:
        self.control("reset_stats")

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr.close()


def start_site(static: str | os.PathLike | None = None, timeout: float = 20) -> SiteProcess:
    """Start ``tests/server.py`` and wait for the URL it prints."""
    args = [sys.executable, "-u", str(SERVER_SCRIPT)]
    if static is not None:
        args += ["--static", str(static)]
    stderr = tempfile.TemporaryFile()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=stderr, cwd=TESTS_DIR.parent)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([proc.stdout], [], [], max(left, 0))
        if not ready:
            break
        chunk = os.read(proc.stdout.fileno(), 1)
        if not chunk:
            break
        line += chunk
    site = SiteProcess(proc, line.decode().strip(), stderr)
    if not site.url.startswith("http://127.0.0.1:"):
        message = site.stderr_text()
        site.stop()
        raise RuntimeError(f"tests/server.py did not start: {line!r}\n{message}")
    return site


@pytest.fixture
def make_site() -> Iterator[Callable[..., SiteProcess]]:
    """Start test servers (``make_site(static=DIR)``); all are killed at teardown."""
    started: list[SiteProcess] = []

    def factory(static: str | os.PathLike | None = None) -> SiteProcess:
        site = start_site(static)
        started.append(site)
        return site

    yield factory
    for site in started:
        site.stop()


@pytest.fixture
def site(make_site: Callable[..., SiteProcess]) -> SiteProcess:
    """The tests' server (static folder ``tests/fixtures/``), one per test."""
    return make_site()


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory) -> Path:
    """An archive made by ``chanarchive demo`` (two crawls: an edit, a deletion, new posts).

    Shared by the tests of a session (one per xdist worker): read it, never write it.
    """
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "chanarchive", "--db", str(db), "demo"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Any]:
    """A real redis-server on 127.0.0.1 (a free port), one per test process."""
    from tests.redis_server import RedisServer

    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The URL of an empty Redis: everything an earlier test left is flushed."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url
