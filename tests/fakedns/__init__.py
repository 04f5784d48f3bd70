"""Invented host names and a loopback fence for a CLI subprocess (see :mod:`.sitecustomize`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent


def environment(
    fence: Path, names: dict[str, list[list[str]]] | None = None, log: Path | None = None
) -> dict[str, str]:
    """The environment of a child whose host ``names`` answer as given (the n-th look-up its
    n-th answer; ``[]``: no address) and whose connections off loopback are refused and
    written to ``fence``; each look-up of a name of ``names`` is written to ``log``."""
    path = os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": path,
        "CHANARCHIVE_TEST_DNS": json.dumps(names or {}),
        "CHANARCHIVE_TEST_FENCE": str(fence),
    }
    if log is not None:
        env["CHANARCHIVE_TEST_DNS_LOG"] = str(log)
    return env
