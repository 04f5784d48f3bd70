"""JSON for what crosses Redis: requests in the shared queue (``SCHEDULER_SERIALIZER``), and
the one way anything is read back from there (:func:`read_json`).

scrapy-redis pickles requests by default: anyone who may write to Redis
could then run code in every worker. JSON carries what a request holds;
bytes (headers, body) become ``{"$b": base64}``. Keys are sorted so a
request always serializes to the same text.

Whatever comes out of Redis may have been written by anyone who can reach
it: :func:`read_json` bounds its size and turns every way it can fail to
parse (not JSON, nested too deep, not UTF-8, NaN, a bad ``$b``) into
:class:`~archive.errors.BadRecord`, for the door that checks its shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from archive.errors import BadRecord


def _plain(value: Any) -> Any:
    # json calls ``default`` for values only, never for dict keys (bytes header names).
    if isinstance(value, dict):
        return {
            (k.decode("latin-1") if isinstance(k, bytes) else k): _plain(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _bytes(obj: dict) -> Any:
    if len(obj) == 1 and "$b" in obj:
        text = obj["$b"]
        if not isinstance(text, str):
            raise ValueError("a $b value must be base64 text")
        try:
            return base64.b64decode(text, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"a $b value is not base64: {exc}") from None
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is no JSON number")


def dumps(obj: Any) -> str:
    return json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, object_hook=_bytes)


def read_json(raw: Any, what: str, *, limit: int, hook: Callable[[dict], Any] | None = None) -> Any:
    """The JSON value of ``raw`` (bytes or text from Redis), at most ``limit`` bytes long;
    :class:`BadRecord` naming ``what`` when it is none."""
    if not isinstance(raw, bytes | str):
        raise BadRecord(f"{what}: not text")
    if len(raw) > limit:
        raise BadRecord(f"{what}: {len(raw)} bytes, more than {limit}")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, object_hook=hook, parse_constant=_no_constant)
    except (ValueError, TypeError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadRecord(f"{what}: not JSON ({type(exc).__name__}: {exc})"[:300]) from None


def read_request_json(raw: Any, *, limit: int) -> Any:
    """A queued request's JSON (bytes as ``{"$b": base64}``), read as :func:`read_json` does."""
    return read_json(raw, "a queued request", limit=limit, hook=_bytes)
