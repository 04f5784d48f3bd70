"""Which archive a Redis's crawls end up in: the ingester says, the submitters check.

A distributed crawl's pages go into the archive its ingester writes, not into
the ``--db`` of whoever queued it. The ingester publishes its archive (host
and absolute path) when it starts; ``crawl --redis`` and ``scheduler run
--redis`` read it (:func:`archive_mismatch`) so that a crawl queued for
another archive than the one named is refused rather than lost track of.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any

import redis

from archive.errors import BadInput

from .frontier import Frontier
from .serialize import read_json


@dataclass(frozen=True)
class IngesterArchive:
    """The archive an ingester writes: on which machine, at which path."""

    host: str
    path: str

    def __str__(self) -> str:
        return self.path if self.host == socket.gethostname() else f"{self.host}:{self.path}"


def publish_archive(frontier: Frontier, db_path: str) -> IngesterArchive:
    """Say which archive this ingester writes (until :func:`withdraw_archive`)."""
    said = IngesterArchive(socket.gethostname(), os.path.realpath(db_path))
    frontier.server.set(frontier.ingester_archive, json.dumps(said.__dict__))
    return said


def withdraw_archive(frontier: Frontier, said: IngesterArchive) -> None:
    try:
        if ingester_archive(frontier) == said:
            frontier.server.delete(frontier.ingester_archive)
    except redis.RedisError:
        pass


def ingester_archive(frontier: Frontier) -> IngesterArchive | None:
    """The archive the ingester of this Redis said it writes; None when none said (or it
    cannot be read)."""
    raw = frontier.server.get(frontier.ingester_archive)
    if raw is None:
        return None
    try:
        data: Any = read_json(raw, "the ingester's archive", limit=8192)
    except BadInput:
        return None
    if not isinstance(data, dict):
        return None
    host, path = data.get("host"), data.get("path")
    if not isinstance(host, str) or not isinstance(path, str):
        return None
    return IngesterArchive(host, path)


def archive_mismatch(frontier: Frontier, db_path: str) -> str | None:
    """Why a crawl queued on this Redis would not go into ``db_path``, or None.

    Only an archive on this machine can be compared; one elsewhere is not
    refused (its path means nothing here).
    """
    said = ingester_archive(frontier)
    if said is None or said.host != socket.gethostname():
        return None
    if os.path.realpath(db_path) == said.path:
        return None
    return (
        f"the ingester on this Redis writes {said.path}, not {db_path}: name that archive"
        f" (--db {said.path}), or run an ingester for {db_path} on another Redis or database"
        " number (redis://host/1)"
    )
