"""The sample channels' pictures: real PNG images, made from their names, of a chosen size.

Each name gives its own picture (a two-colour gradient with a band across
it, the colours drawn from the name), so the demo's post pages show real
pictures that a browser decodes and draws. A picture can be made to any
size at least as large as the image itself: the rest is one ancillary chunk
of seeded random bytes (as incompressible as a real photo, so the archive's
storage behaves as with real pictures), which every PNG reader skips.
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib

#: The pictures' size in pixels.
WIDTH, HEIGHT = 160, 100
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: A private, ancillary, safe-to-copy chunk type: readers skip it.
_PADDING = b"caPd"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _pixels(seed: bytes) -> bytes:
    """The picture's scanlines (filter byte 0, then RGB), a gradient and a band."""
    start = seed[0:3]
    end = seed[3:6]
    band = seed[6:9]
    rows = []
    for y in range(HEIGHT):
        row = bytearray(b"\x00")
        for x in range(WIDTH):
            if abs((x - 2 * y) - (WIDTH - 2 * HEIGHT) // 2) < 12:
                row += band
                continue
            t = (x + y) / (WIDTH + HEIGHT)
            row += bytes(int(a + (b - a) * t) for a, b in zip(start, end, strict=True))
        rows.append(bytes(row))
    return b"".join(rows)


def picture(name: str, size: int | None = None) -> bytes:
    """The PNG picture of ``name``: 20-60 KB unless ``size`` says (never below the image's
    own bytes)."""
    seed = hashlib.sha256(name.encode("utf-8")).digest()
    rng = random.Random(int.from_bytes(seed[:8], "big"))
    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)  # 8-bit RGB
    image = _SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(_pixels(seed), 9))
    end = _chunk(b"IEND", b"")
    total = size if size is not None else rng.randint(20_000, 60_000)
    room = total - len(image) - len(end) - 12  # a chunk's length, type and CRC
    if room < 0:
        return image + end
    return image + _chunk(_PADDING, rng.randbytes(room)) + end
