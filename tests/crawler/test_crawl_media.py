"""Media archived at first sight (``crawl --media``) and out again (export, WARC, Datasette).

The tests' server keeps a channel's photos on a second path (``/media/``,
``tests/media_site.py``), signs their URLs anew on every page render as
Telegram's CDN does, and can take them away or make them fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.models import parse_size
from archive.serve.app import make_datasette
from archive.store.media import pack_body, unpack_body
from tests.crawling import crawl, export, query, run_cli
from tests.media_site import media_bytes, media_requests, media_sha256
from tests.media_site import serve_media_channel as media_channel

WARCIO = Path(sys.executable).with_name("warcio")


def expected_photo(name: str, post_id: int, posts: int, shared: bool = False) -> str:
    if shared and post_id > posts - 2:
        return media_sha256(f"{name}-same~{post_id}.jpg")
    return media_sha256(f"{name}-{post_id}.jpg")


def test_photos_outlive_their_links_each_fetched_once(site, tmp_path):
    db = tmp_path / "a.db"
    url = media_channel(site, "pics", posts=6, shared=1, preview=1)
    first = crawl(db, url)
    assert first.returncode == 0, first.stderr
    assert "(ok)" in first.stdout
    fetched = media_requests(site)
    assert sorted(fetched) == sorted(
        [f"/media/pics-{i}.jpg" for i in range(1, 5)]
        + ["/media/pics-same~5.jpg", "/media/pics-same~6.jpg", "/media/pics-preview.jpg"]
    )
    # The media go away (and the page's signed URLs change): nothing is fetched again.
    site.control("media", state="gone")
    second = crawl(db, url)
    assert second.returncode == 0, second.stderr
    assert media_requests(site) == fetched
    records = export(db)
    assert len(records) == 6
    for record in records:
        [photo] = record["media"]
        want = expected_photo("pics", int(record["post_id"]), 6, shared=True)
        assert photo["type"] == "photo" and photo["sha256"] == want
        assert photo["content_type"] == "image/jpeg"
        assert photo["size"] == len(media_bytes(urlsplit(photo["url"]).path.split("/")[-1]))
    # Identical bytes under two URLs are kept once; the preview image is kept too.
    assert query(db, "SELECT COUNT(*) FROM media_files")[0][0] == 6
    assert query(db, "SELECT COUNT(*) FROM media_urls WHERE status = 'ok'")[0][0] == 7
    preview = media_sha256("pics-preview.jpg")
    assert query(db, "SELECT slot FROM post_media WHERE sha256 = ?", [preview]) == [("preview",)]
    # export --media-dir writes each file once, named by its sha256, with its bytes.
    folder = tmp_path / "media"
    done = run_cli(db, "export", "--format", "jsonl", "-o", str(tmp_path / "e.jsonl"),
                   "--media-dir", str(folder))  # fmt: skip
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted({expected_photo("pics", i, 6, True) + ".jpg" for i in range(1, 7)})
    for path in folder.iterdir():
        assert hashlib.sha256(path.read_bytes()).hexdigest() + ".jpg" == path.name
    # Beside a WARC (whose records are not post records) it writes the same files.
    other = tmp_path / "media-warc"
    done = run_cli(db, "export", "--format", "warc", "-o", str(tmp_path / "e.warc.gz"),
                   "--media-dir", str(other))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in other.iterdir()) == files


def test_media_none_fetches_none(site, tmp_path):
    db = tmp_path / "a.db"
    done = crawl(db, media_channel(site, "nopics", posts=3), "--media", "none")
    assert done.returncode == 0, done.stderr
    assert media_requests(site) == []
    assert query(db, "SELECT COUNT(*) FROM media_files")[0][0] == 0
    assert all("sha256" not in m for r in export(db) for m in r["media"])


def test_a_videos_thumbnail_is_archived_and_exported_and_all_adds_the_video(site, tmp_path):
    db = tmp_path / "a.db"
    url = media_channel(site, "clips", posts=2, video=1)
    assert crawl(db, url).returncode == 0  # --media photos: the thumbnail, not the video
    assert sorted(media_requests(site)) == [
        "/media/clips-1.jpg", "/media/clips-2.jpg", "/media/clips-thumb.jpg",
    ]  # fmt: skip
    [video] = [m for r in export(db) if r["post_id"] == "1" for m in r["media"][1:]]
    assert video["type"] == "video" and "sha256" not in video
    assert urlsplit(video["url"]).path == "/media/clips-video.mp4"
    thumb = video["thumb"]
    assert urlsplit(thumb["url"]).path == "/media/clips-thumb.jpg"
    assert thumb["sha256"] == media_sha256("clips-thumb.jpg")
    assert (thumb["size"], thumb["content_type"]) == (
        len(media_bytes("clips-thumb.jpg")),
        "image/jpeg",
    )
    # --media-dir writes the thumbnails the records name, beside the photos.
    folder = tmp_path / "media"
    done = run_cli(db, "export", "--format", "csv", "-o", str(tmp_path / "e.csv"),
                   "--media-dir", str(folder))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{thumb['sha256']}.jpg" in {p.name for p in folder.iterdir()}
    assert len(list(folder.iterdir())) == 3

    other = tmp_path / "b.db"
    site.reset_stats()
    assert crawl(other, url, "--media", "all").returncode == 0
    assert "/media/clips-video.mp4" in media_requests(site)
    [video] = [m for r in export(other) if r["post_id"] == "1" for m in r["media"][1:]]
    assert video["sha256"] == media_sha256("clips-video.mp4")
    assert video["content_type"] == "video/mp4"
    assert video["thumb"]["sha256"] == media_sha256("clips-thumb.jpg")


def test_an_oversize_file_is_recorded_with_its_reason_not_stored(site, tmp_path):
    db = tmp_path / "a.db"
    url = media_channel(site, "big", posts=3)
    site.control("media_size", file="big-2.jpg", bytes=300_000)
    done = crawl(db, url, "--media-max-size", "100K")
    assert done.returncode == 0, done.stderr
    assert "(ok)" in done.stdout  # a media file never makes the crawl partial
    [(status, reason)] = query(
        db, "SELECT status, reason FROM media_urls WHERE url LIKE '%big-2.jpg%'"
    )
    assert status == "failed" and "too large" in reason
    assert query(db, "SELECT COUNT(*) FROM media_files WHERE size > 100 * 1024")[0][0] == 0
    by_id = {r["post_id"]: r["media"][0] for r in export(db)}
    assert "sha256" not in by_id["2"] and by_id["1"]["sha256"] == media_sha256("big-1.jpg")


def test_a_failed_file_is_fetched_again_by_the_next_crawl(site, tmp_path):
    db = tmp_path / "a.db"
    url = media_channel(site, "flaky", posts=2)
    site.control("media_fail", file="flaky-1.jpg", code=500)
    assert crawl(db, url).returncode == 0
    [(status, reason, attempts)] = query(
        db, "SELECT status, reason, attempts FROM media_urls WHERE url LIKE '%flaky-1.jpg%'"
    )
    assert (status, reason, attempts) == ("failed", "HTTP 500", 1)
    assert query(db, "SELECT attempts, reason FROM post_media WHERE sha256 IS NULL") == [
        (1, "HTTP 500")
    ]
    site.control("media_fail", file="flaky-1.jpg", code=0)
    site.reset_stats()
    assert crawl(db, url).returncode == 0
    assert media_requests(site) == ["/media/flaky-1.jpg"]  # flaky-2 was archived already
    by_id = {r["post_id"]: r["media"][0] for r in export(db)}
    assert by_id["1"]["sha256"] == media_sha256("flaky-1.jpg")


def test_a_warc_export_holds_the_media_files_and_passes_warcio_check(site, tmp_path):
    db = tmp_path / "a.db"
    assert crawl(db, media_channel(site, "warcpics", posts=4, shared=1)).returncode == 0
    out = tmp_path / "all.warc.gz"
    done = run_cli(db, "export", "--format", "warc", "-o", str(out))
    assert done.returncode == 0, done.stderr
    check = subprocess.run([str(WARCIO), "check", "-v", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    media = {}
    with out.open("rb") as stream:
        for record in ArchiveIterator(stream):
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            if "/media/" in uri:
                body = record.content_stream().read()
                media[urlsplit(uri).path] = (record.rec_type, hashlib.sha256(body).hexdigest())
    assert media["/media/warcpics-1.jpg"] == ("response", media_sha256("warcpics-1.jpg"))
    assert media["/media/warcpics-2.jpg"][0] == "response"
    # the second URL of identical bytes refers to the first instead of repeating them
    kinds = sorted(media[f"/media/warcpics-same~{i}.jpg"][0] for i in (3, 4))
    assert kinds == ["response", "revisit"]


def test_datasette_shows_a_posts_pictures(site, tmp_path):
    db = tmp_path / "a.db"
    assert crawl(db, media_channel(site, "shown", posts=2)).returncode == 0
    sha = media_sha256("shown-1.jpg")
    ds = make_datasette(db)

    async def get(paths):
        await ds.invoke_startup()
        return [await ds.client.get(path) for path in paths]

    page, picture, unknown = asyncio.run(
        get(["/-/post/shown/1", f"/-/media/{sha}", "/-/media/" + "0" * 64])
    )
    assert page.status_code == 200 and f'<img src="/-/media/{sha}"' in page.text
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert picture.content == media_bytes("shown-1.jpg")
    assert unknown.status_code == 404


def test_bad_media_options_are_refused(site, tmp_path):
    db = tmp_path / "a.db"
    for args in (["--media", "some"], ["--media-max-size", "lots"], ["--media-max-size", "0"]):
        done = run_cli(db, "crawl", f"{site.url}/s/x", *args)
        assert done.returncode == 2, done.stderr
    assert not db.exists()
    (tmp_path / "afile").write_text("x")
    assert crawl(db, media_channel(site, "dir", posts=1)).returncode == 0
    done = run_cli(db, "export", "--format", "jsonl", "--media-dir", str(tmp_path / "afile"))
    assert done.returncode == 2 and "is a file" in done.stderr


@pytest.mark.parametrize(
    "text, size",
    [("1048576", 1048576), ("500K", 500 * 1024), ("20M", 20 * 1024**2), ("20MiB", 20 * 1024**2),
     ("1.5g", int(1.5 * 1024**3))],
)  # fmt: skip
def test_sizes_are_read_in_bytes_or_with_a_unit(text, size):
    assert parse_size(text) == size


def test_bodies_are_compressed_only_when_it_pays():
    photo = media_bytes("x.jpg")
    assert pack_body(photo, "image/jpeg") == (None, photo)
    assert pack_body(photo, "application/octet-stream") == (None, photo)  # random: no gain
    text = b"the same line again\n" * 500
    compression, stored = pack_body(text, "text/plain")
    assert compression == "zlib" and len(stored) < len(text) / 10
    assert unpack_body(compression, stored) == text
    assert unpack_body(None, io.BytesIO(photo).read()) == photo
