"""The sources commands on a full disk say so in one line, exit status 3, the archive as it was.

The disk is made full for one process with ``RLIMIT_FSIZE`` (no file it writes may grow
past 512 bytes; ``SIGXFSZ`` ignored, so the write fails with EFBIG and SQLite reports
a disk I/O error), as ``tests/crawler/test_write_refused.py`` does for crawls. With so
little room the archive's shared-memory file cannot even be made: the refusal comes when
the archive is opened for writing, as it does on a disk that is really full.
"""

from __future__ import annotations

import resource
import signal
import subprocess

import pytest

from tests.crawling import cli_argv, query, run_cli


def no_room() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))


@pytest.mark.parametrize(
    "args",
    [
        ("sources", "add", "@second_one", "--every", "1h"),
        ("sources", "pause", "@first_one"),
        ("sources", "remove", "@first_one"),
    ],
)
def test_a_command_on_a_full_disk_says_so_in_one_line(tmp_path, args):
    db = tmp_path / "archive.db"
    made = run_cli(db, "sources", "add", "@first_one", "--every", "6h")
    assert made.returncode == 0, made.stderr
    before = query(db, "SELECT key, paused FROM sources")
    done = subprocess.run(
        cli_argv(db, *args), capture_output=True, text=True, timeout=60, preexec_fn=no_room
    )
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: the archive cannot be written: disk I/O error"), line
    assert line.endswith(f"({db})")
    assert query(db, "SELECT key, paused FROM sources") == before  # nothing half written
    assert run_cli(db, *args).returncode == 0  # with room again, the same command works


def test_a_locked_or_damaged_file_is_not_called_a_full_disk(tmp_path):
    db = tmp_path / "archive.db"
    db.write_bytes(b"not an SQLite file at all, though its name says so" * 100)
    done = run_cli(db, "sources", "add", "@first_one", "--every", "6h")
    assert done.returncode != 3 and "cannot be written" not in done.stderr
