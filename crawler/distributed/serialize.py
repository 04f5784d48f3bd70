"""JSON for requests in the shared queue (``SCHEDULER_SERIALIZER = "crawler.distributed.serialize"``).

scrapy-redis pickles requests by default: anyone who may write to Redis
could then run code in every worker. JSON carries what a request holds;
bytes (headers, body) become ``{"$b": base64}``. Keys are sorted so a
request always serializes to the same text.
"""

from __future__ import annotations

import base64
import json
from typing import Any


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
        return base64.b64decode(obj["$b"])
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, object_hook=_bytes)
