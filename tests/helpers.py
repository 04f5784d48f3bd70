"""Small helpers the test modules share: the command line run in this process, a value read
from an archive, a command's last line, a file's digest, a free port.

(Running the command line in a subprocess, as a crawl needs, is in :mod:`tests.crawling`.)
"""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
from pathlib import Path

from click.testing import CliRunner, Result

from chanarchive.cli import cli
from tests.crawling import query


def run(db: Path | None, *args: str, stdin: str | None = None) -> Result:
    """``chanarchive [--db DB] ARGS`` in this process (``stdin`` as its input).

    An exception the command line does not turn into an error message
    propagates: the test fails with its traceback.
    """
    prefix = ["--db", str(db)] if db is not None else []
    return CliRunner().invoke(cli, [*prefix, *args], input=stdin, catch_exceptions=False)


def listed(db: Path, *args: str) -> dict[str, dict]:
    """``sources list --format json ARGS``: each source's record, by source."""
    result = run(db, "sources", "list", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return {r["source"]: r for r in json.loads(result.output)}


def add_source(db: Path, source: str, *args: str) -> None:
    """``sources add SOURCE ARGS``, which must succeed."""
    result = run(db, "sources", "add", source, *args)
    assert result.exit_code == 0, result.output


def count(db: Path, sql: str, params=()) -> int:
    """The one value ``sql`` selects from the archive at ``db`` (a ``COUNT(*)``)."""
    return query(db, sql, params)[0][0]


def summary(done: subprocess.CompletedProcess) -> str:
    """The last line a command printed (a crawl's summary); the command must have succeeded."""
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def digest(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
