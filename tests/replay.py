"""pywb, the tests' replay tool: a WACZ added to a collection and served on 127.0.0.1.

Not a test module itself. pywb lives in a virtualenv of its own
(``.venv/replay``, made by ``make test`` from ``tests/replay-requirements.txt``):
it pins a redis client that chanarchive's cannot live beside.
:func:`replay` runs ``wb-manager init`` and ``wb-manager add --unpack-wacz``
in a folder, starts ``wayback`` on a free port of 127.0.0.1 and gives its
URL; :func:`original` fetches a capture in pywb's ``id_`` mode (the
capture's own bytes, nothing rewritten).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import OPENER
from tests.helpers import free_port
from tests.paths import ROOT

REPLAY_BIN = ROOT / ".venv" / "replay" / "bin"
COLLECTION = "chanarchive"


def replay_tool(name: str) -> Path:
    """A pywb command, which must be there (``make test`` installs it)."""
    tool = REPLAY_BIN / name
    assert tool.exists(), (
        f"{tool} is missing: `make test` (or `make .venv/replay/.installed`) installs pywb"
    )
    return tool


@contextlib.contextmanager
def replay(wacz: Path, folder: Path) -> Iterator[str]:
    """Serve ``wacz`` with pywb from ``folder``; yields the collection's base URL."""
    for args in (["init", COLLECTION], ["add", "--unpack-wacz", COLLECTION, str(wacz)]):
        done = subprocess.run(
            [str(replay_tool("wb-manager")), *args],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    log = open(folder / "wayback.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(replay_tool("wayback")), "-b", "127.0.0.1", "-p", str(port)],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/{COLLECTION}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with OPENER.open(f"http://127.0.0.1:{port}/", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert server.poll() is None, (folder / "wayback.log").read_text()
                assert time.monotonic() < deadline, "pywb did not start in 60 s"
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()


def original(base: str, timestamp: str, url: str) -> tuple[int, bytes]:
    """The capture of ``url`` nearest ``timestamp`` (14 digits) as pywb replays it unchanged."""
    try:
        with OPENER.open(f"{base}/{timestamp}id_/{url}", timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read()
