"""How a WARC export names a body: its payload digest, made from the SHA-256 the archive keeps.

Both the page records (:mod:`.warc`) and the media records (:mod:`.media`)
carry it, so a revisit's digest is the one its original record gave.
"""

from __future__ import annotations

import base64


def payload_digest(content_sha256: str) -> str:
    """The WARC digest of a body whose SHA-256 (hex) the archive stores."""
    return "sha256:" + base64.b32encode(bytes.fromhex(content_sha256)).decode("ascii")
