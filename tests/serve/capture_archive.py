"""An archive of captures that try everything, for the tests of ``/-/capture/ID``.

Not a test module itself. :func:`capture_archive` writes, through the
store's own write path, captures of ``https://hostile.example/page`` that
run scripts (``<script>``, ``onerror``, ``onload``), refresh to elsewhere
(``<meta refresh>``, also inside ``<noscript>``), set a ``<base>``, load
stylesheets, pictures, frames, objects and forms from another host (every
way HTML and CSS can name one), and one picture the archive holds; a later
capture of the same URL; a capture that is JSON, not a page; and, written
straight with SQLite, a body that inflates far past what a page may show.
"""

from __future__ import annotations

import sqlite3
import struct
import zlib
from pathlib import Path

from archive import store
from archive.models import Capture, MediaFetch
from archive.store import open_archive

T1 = "2026-11-26T10:00:00.000000+00:00"
T2 = "2026-11-27T10:00:00.000000+00:00"
T3 = "2026-11-28T10:00:00.000000+00:00"
URL = "https://hostile.example/page"
#: Where everything the page names outside the archive lives (a documentation address).
ELSEWHERE = "http://203.0.113.9"
KEPT_PICTURE = "https://hostile.example/pictures/kept.png"


def png(width: int = 8, height: int = 8) -> bytes:
    """A small opaque PNG (a picture a browser decodes: its natural width is ``width``)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xd0\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


HOSTILE_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head>
<meta http-equiv="refresh" content="0; url={ELSEWHERE}/refreshed">
<base href="{ELSEWHERE}/">
<link rel="stylesheet" href="{ELSEWHERE}/style.css">
<link rel="preload" as="image" href="{ELSEWHERE}/preload.png">
<script>document.title = 'script ran'; fetch('{ELSEWHERE}/beacon');</script>
<style>@import url({ELSEWHERE}/imported.css);
body {{ background: url("{ELSEWHERE}/background.png") }}
.escaped {{ background: \\75 rl({ELSEWHERE}/escaped.png) }}
h1 {{ color: rgb(120, 20, 20) }}</style>
<title>A hostile page</title>
</head>
<body onload="document.title = 'onload ran'">
<h1 id="heading">Hostile page, version one</h1>
<p id="text">Plain text: &lt;script&gt;alert(1)&lt;/script&gt; stays text.</p>
<img id="external" src="{ELSEWHERE}/tracker.png" onerror="document.title = 'onerror ran'">
<img id="kept" src="/pictures/kept.png" alt="kept">
<img id="broken" src="x" onerror="document.title = 'onerror ran'">
<a id="link" href="{ELSEWHERE}/elsewhere" onclick="document.title = 'click ran'">a link</a>
<form action="{ELSEWHERE}/post"><input name="q" autofocus onfocus="document.title = 'focus ran'">
<button>go</button></form>
<iframe src="{ELSEWHERE}/frame"></iframe>
<object data="{ELSEWHERE}/object"></object><embed src="{ELSEWHERE}/embed">
<svg><image href="{ELSEWHERE}/svg.png"/><script>document.title = 'svg ran'</script></svg>
<noscript><meta http-equiv="refresh" content="0; url={ELSEWHERE}/noscript">
<img src="{ELSEWHERE}/noscript.png"></noscript>
<div id="styled" class="escaped" style="background-image: url('{ELSEWHERE}/style-attr.png')">styled</div>
<video src="{ELSEWHERE}/video.mp4" poster="{ELSEWHERE}/poster.png" autoplay></video>
<picture><source srcset="{ELSEWHERE}/source.webp"><img src="{ELSEWHERE}/picture.png"></picture>
<div class="tgme_widget_message" data-post="hostile/7">a post</div>
</body></html>
"""

SECOND_PAGE = HOSTILE_PAGE.replace("version one", "version two")


def capture_archive(path: Path) -> dict[str, int]:
    """Write the archive at ``path``; the ids of its captures by name."""
    db = open_archive(path)
    html = [("Content-Type", "text/html; charset=utf-8")]
    try:
        crawl = store.begin_crawl(db, URL)
        first = store.ingest_page(
            db, crawl, Capture(URL, T1, 200, HOSTILE_PAGE.encode(), html), None
        )
        data = store.ingest_page(
            db,
            crawl,
            Capture(
                "https://hostile.example/data.json",
                T1,
                200,
                b'{"a": "<script>alert(1)</script>"}',
                [("Content-Type", "application/json")],
            ),
            None,
        )
        store.ingest_media(
            db,
            KEPT_PICTURE,
            [],
            MediaFetch(KEPT_PICTURE, T1, True, png(), "image/png", 200),
        )
        store.finish_crawl(db, crawl)
        crawl = store.begin_crawl(db, URL)
        second = store.ingest_page(
            db, crawl, Capture(URL, T2, 404, SECOND_PAGE.encode(), html), None
        )
        store.finish_crawl(db, crawl)
    finally:
        db.close()
    # A body that inflates to 20 MB from a few kilobytes: never read whole.
    conn = sqlite3.connect(path)
    bomb = zlib.compress(b"<html>" + b" " * (20 * 1024 * 1024), 9)
    conn.execute(
        "INSERT INTO bodies (sha256, size, compression, body) VALUES (?, ?, 'zlib', ?)",
        ["b" * 64, 100, bomb],
    )
    big = conn.execute(
        "INSERT INTO snapshots (url, fetched_at, http_status, content_sha256, content_type)"
        " VALUES ('https://hostile.example/big', ?, 200, ?, 'text/html')",
        [T3, "b" * 64],
    ).lastrowid
    conn.commit()
    conn.close()
    return {
        "first": first.snapshot_id,
        "data": data.snapshot_id,
        "second": second.snapshot_id,
        "big": big,
    }
