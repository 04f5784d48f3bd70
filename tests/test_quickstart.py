"""The README's first steps, run in order on a fresh copy of the repository, as a newcomer would.

The copy holds the files git tracks (nothing built, no archive); its
``.venv`` is this checkout's, never installed into from the copy (``make``
runs with the install step marked done; ``make test`` itself proves the
install from a clean clone). Each
command of the README's "Look around the demo" block runs after ``make
demo``, in the copy's folder, and must exit 0; ``serve`` must answer its home
page (on a free port, so that parallel test runs never meet) and stop
cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest

from tests.helpers import free_port
from tests.paths import ROOT

pytestmark = pytest.mark.slow


def readme_block(heading: str) -> list[str]:
    """The command lines of the first ``sh`` block under ``heading`` in the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def fresh_copy(tmp_path):
    copy = tmp_path / "chanarchive"
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)  # times kept: make sees the install as current
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def shell(copy, line: str, **kwargs):
    env = {k: v for k, v in os.environ.items() if k != "CHANARCHIVE_DB"}
    return subprocess.Popen(
        ["bash", "-c", f"set -e; . .venv/bin/activate; {line}"],
        cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )  # fmt: skip


def test_the_readme_first_steps_work_as_written(tmp_path):
    copy = fresh_copy(tmp_path)
    # `-o`: the copy's .venv is this checkout's; make must never install into it from the
    # copy (an editable install would point this checkout's venv at a folder soon gone).
    demo = subprocess.run(
        ["make", "-o", ".venv/.installed", "demo"],
        cwd=copy, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert (copy / "demo.db").exists()
    lines = readme_block("Look around the demo")
    assert lines[0] == ". .venv/bin/activate" and any(" serve" in line for line in lines)
    for line in lines:
        command = line.split("  #", 1)[0].strip()
        if command.endswith(" serve"):
            port = free_port()
            server = shell(copy, f"exec {command} --port {port}", start_new_session=True)
            try:
                home = wait_for_page(f"http://127.0.0.1:{port}/", server)
                assert "chanarchive_demo" in home
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
            continue
        done = shell(copy, command)
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, (command, out, err)
        assert "Traceback" not in err, (command, err)
    assert (copy / "demo.jsonl").stat().st_size > 0


def wait_for_page(url: str, server: subprocess.Popen, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"serve ended: {server.stderr.read()}")
        try:
            with opener.open(url, timeout=5) as page:
                return page.read().decode("utf-8")
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")
