"""``export --format wacz``: packages the real clients accept, replay byte for byte, and scope.

The clients are the real ones: ``wacz validate`` (py-wacz), ``warcio check``
on the WARC inside, and pywb (``wb-manager add --unpack-wacz``, then its
``id_`` replay on 127.0.0.1), which must give back every captured page and
media file exactly as the archive keeps it.
"""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_timestamp

from archive.export.media import file_bytes
from archive.store import connect_readonly
from archive.store.bodies import read_body
from archive.times import parse_time, warc_date
from tests.crawling import crawl, run_cli
from tests.helpers import run
from tests.media_site import serve_media_channel
from tests.replay import original, replay
from tests.sample_archive import T2, build_sample_archive, file_state

BIN = Path(sys.executable).parent
WACZ = BIN / "wacz"
WARCIO = BIN / "warcio"


def export_wacz(db: Path, out: Path, *args: str) -> Path:
    done = run_cli(db, "export", "--format", "wacz", "-o", str(out), *args)
    assert done.returncode == 0, done.stderr
    return out


def validate(path: Path) -> None:
    done = subprocess.run([str(WACZ), "validate", "-f", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and "is valid" in done.stdout, done.stdout + done.stderr


def inner_warc(package: Path, folder: Path) -> Path:
    """The WARC inside ``package``, unpacked into ``folder``; it passes ``warcio check``."""
    with zipfile.ZipFile(package) as wacz:
        [name] = [n for n in wacz.namelist() if n.startswith("archive/")]
        assert wacz.getinfo(name).compress_type == zipfile.ZIP_STORED  # WACZ: stored as is
        warc = folder / Path(name).name
        warc.write_bytes(wacz.read(name))
    check = subprocess.run([str(WARCIO), "check", "-v", str(warc)], capture_output=True, text=True)
    assert check.returncode == 0 and "digest pass" in check.stdout, check.stdout + check.stderr
    return warc


def records(warc: Path) -> list:
    with open(warc, "rb") as stream:
        return [
            (r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(stream)
        ]


def page_list(package: Path, name: str = "pages/pages.jsonl") -> list[dict]:
    with zipfile.ZipFile(package) as wacz:
        lines = wacz.read(name).decode("utf-8").splitlines()
    header, *pages = (json.loads(line) for line in lines)
    assert header["format"] == "json-pages-1.0"
    return pages


def captures(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT id, url, fetched_at, page_type, content_sha256, request_line, ip_address"
            " FROM snapshots ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def replays_every_capture(db: Path, package: Path, folder: Path) -> int:
    """pywb replays every page capture and media file of ``db`` byte for byte (``id_``)."""
    conn = connect_readonly(db)
    checked = 0
    try:
        pages = conn.execute("SELECT url, fetched_at, content_sha256 FROM snapshots").fetchall()
        media = conn.execute(
            "SELECT u.url, COALESCE(u.last_tried, f.first_seen), f.sha256 FROM media_urls u"
            " JOIN media_files f ON f.sha256 = u.sha256 WHERE u.status = 'ok'"
        ).fetchall()
        # Two captures of one URL in one second are one timestamp to a replay tool.
        stamps: dict[tuple[str, str], set[bytes]] = {}
        for url, at, sha in pages:
            stamps.setdefault((url, iso_date_to_timestamp(warc_date(at))), set()).add(
                read_body(conn, sha)
            )
        for url, at, sha in media:
            stamps.setdefault((url, iso_date_to_timestamp(warc_date(at))), set()).add(
                file_bytes(conn, sha)
            )
    finally:
        conn.close()
    with replay(package, folder) as base:
        for (url, stamp), bodies in stamps.items():
            status, body = original(base, stamp, url)
            assert status == 200, (url, stamp, status, body[:300])
            assert body in bodies, f"{url} at {stamp}: pywb gave {len(body)} other bytes"
            checked += 1
    return checked


@pytest.mark.slow
def test_the_demo_archive_as_a_wacz_validates_and_replays_byte_for_byte(demo_archive, tmp_path):
    before = file_state(demo_archive)
    package = export_wacz(demo_archive, tmp_path / "demo.wacz")
    assert file_state(demo_archive)["db"] == before["db"]  # an export reads only
    validate(package)
    with zipfile.ZipFile(package) as wacz:
        names = set(wacz.namelist())
        manifest = json.loads(wacz.read("datapackage.json"))
        digest = json.loads(wacz.read("datapackage-digest.json"))
    assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl"} <= names
    assert {"indexes/index.cdx.gz", "archive/data.warc.gz"} <= names
    assert manifest["wacz_version"] == "1.1.1"
    assert {r["path"] for r in manifest["resources"]} == names - {
        "datapackage.json",
        "datapackage-digest.json",
    }
    assert all(r["hash"].startswith("sha256:") for r in manifest["resources"])
    assert digest["path"] == "datapackage.json"
    # Each channel page with its title and capture time; the deletion's evidence apart.
    rows = captures(demo_archive)
    pages = page_list(package)
    channel_pages = [r for r in rows if r[3] == "channel"]
    assert [(p["url"], p["ts"]) for p in pages] == [(r[1], warc_date(r[2])) for r in channel_pages]
    assert all(p["title"] == "临江城市速递 (@chanarchive_demo)" for p in pages)
    [evidence] = page_list(package, "pages/extraPages.jsonl")
    assert evidence["url"].endswith("/chanarchive_demo/44?embed=1")
    assert "deletion check" in evidence["title"]
    # The WARC: every capture, its request and the server's address; the media files.
    warc = inner_warc(package, tmp_path)
    found = records(warc)
    info = found[0]
    assert info[0] == "warcinfo"
    fields = info[3].decode()
    assert "software: chanarchive/" in fields and "chanarchive-scope: {}" in fields
    responses = [
        r for r in found if r[0] == "response" and "/media/" not in r[1]["WARC-Target-URI"]
    ]
    assert len(responses) == len(rows)
    requests = [r for r in found if r[0] == "request"]
    assert len(requests) == len(rows)
    by_id = {r[1]["WARC-Record-ID"]: r for r in responses}
    for request in requests:
        response = by_id[request[1]["WARC-Concurrent-To"]]
        assert request[1]["WARC-Target-URI"] == response[1]["WARC-Target-URI"]
        assert request[2].protocol == "GET"
        assert request[2].get_header("User-Agent").startswith("chanarchive/")
        assert request[2].get_header("Host").startswith("127.0.0.1:")
    assert {r[1]["WARC-IP-Address"] for r in responses} == {"127.0.0.1"}
    media = [r for r in found if "/media/" in (r[1]["WARC-Target-URI"] or "")]
    assert media and all(r[1]["WARC-IP-Address"] == "127.0.0.1" for r in media)
    assert replays_every_capture(demo_archive, package, tmp_path) == len(rows) + len(media)


@pytest.mark.slow
def test_a_crawled_channel_with_media_as_a_wacz(site, tmp_path):
    db = tmp_path / "archive.db"
    url = serve_media_channel(site, "pics", posts=6, shared=1, preview=1, video=1)
    for _ in range(2):  # the second crawl's page is new (signed URLs), its media known
        done = crawl(db, url, "--media", "all")
        assert done.returncode == 0, done.stderr
    package = export_wacz(db, tmp_path / "pics.wacz", "--channel", "pics")
    validate(package)
    warc = inner_warc(package, tmp_path)
    found = records(warc)
    kinds = [(r[0], r[1]["WARC-Target-URI"]) for r in found]
    media = [k for k in kinds if "/media/" in (k[1] or "")]
    conn = sqlite3.connect(db)
    files, urls = conn.execute(
        "SELECT (SELECT COUNT(*) FROM media_files),"
        " (SELECT COUNT(*) FROM media_urls WHERE status = 'ok')"
    ).fetchone()
    conn.close()
    assert [k[0] for k in media].count("response") == files >= 7  # photos, preview, video, thumb
    assert [k[0] for k in media].count("revisit") == urls - files >= 1  # shared bytes
    assert len(page_list(package)) == 2
    checked = replays_every_capture(db, package, tmp_path)
    assert checked == 2 + urls
    done = run_cli(db, "verify", str(package))
    assert done.returncode == 0 and "no problems" in done.stdout, done.stdout + done.stderr


def test_scope_and_old_captures_without_provenance(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    everything = export_wacz(db, tmp_path / "all.wacz")
    validate(everything)
    warc = inner_warc(everything, tmp_path)
    found = records(warc)
    # Captures made before chanarchive kept them have no request and no address: left out.
    assert [r[0] for r in found] == ["warcinfo", "response", "response", "response", "revisit"]
    assert not any(r[1]["WARC-IP-Address"] for r in found)
    pages = page_list(everything)
    assert [p["url"] for p in pages] == [
        "https://t.me/s/news_cn",
        "https://mirror.example/hello-world",
        "https://t.me/s/news_cn",
        "https://t.me/s/news_cn",
    ]
    assert pages[1]["title"] == "Mirror Blog (@mirror_blog)"
    # --channel and --as-of narrow the package; the warcinfo record says how.
    narrow = export_wacz(db, tmp_path / "news.wacz", "--channel", "news_cn", "--as-of", T2)
    validate(narrow)
    found = records(inner_warc(narrow, tmp_path))
    assert [r[0] for r in found] == ["warcinfo", "response", "response"]
    info = found[0][3].decode()
    assert '"channel": "news_cn"' in info and f'"as_of": "{parse_time(T2)}"' in info
    with zipfile.ZipFile(narrow) as wacz:
        assert json.loads(wacz.read("datapackage.json"))["title"] == "chanarchive: @news_cn"
        assert "pages/extraPages.jsonl" not in wacz.namelist()


def test_o_rules_hold_for_a_wacz(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    before = file_state(db)
    for target, said in (
        (db, "the archive's own file"),
        (Path(f"{db}-wal"), "-wal"),
        (tmp_path / "export.zip", "ends in .wacz"),
    ):
        result = run(db, "export", "--format", "wacz", "-o", str(target))
        assert result.exit_code == 2 and said in result.output, result.output
    assert file_state(db)["db"] == before["db"]
    assert not (tmp_path / "export.zip").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
    # To stdout: the same package, as bytes.
    result = run(db, "export", "--format", "wacz")
    assert result.exit_code == 0
    with zipfile.ZipFile(io.BytesIO(result.stdout_bytes)) as wacz:
        assert "archive/data.warc.gz" in wacz.namelist()


def test_hostile_provenance_is_left_out_not_written(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE snapshots SET request_line = 'GET /x HTTP/1.1', request_headers = 'no'")
    conn.execute(
        "UPDATE snapshots SET ip_address = '10.0.0.1\r\nWARC-Evil: 1',"
        " request_line = 'GET / HTTP/1.1\r\nX: y', request_headers = '[[1, 2]]' WHERE id = 1"
    )
    conn.execute(
        "UPDATE snapshots SET ip_address = '2001:DB8::1', request_line = 'GET /s/news_cn HTTP/1.1',"
        ' request_headers = \'[["Host", "t.me"], ["X-Bad", "a\\r\\nInjected: 1"],'
        ' ["Accept", "text/html"]]\' WHERE id = 3'
    )
    conn.commit()
    conn.close()
    package = export_wacz(db, tmp_path / "h.wacz")
    validate(package)
    found = records(inner_warc(package, tmp_path))
    addresses = [r[1]["WARC-IP-Address"] for r in found if r[1]["WARC-IP-Address"]]
    assert addresses == ["2001:db8::1"] * 2  # the response and its request
    requests = [r for r in found if r[0] == "request"]
    assert len(requests) == 3  # snapshot 1's line was no request line
    headers = [r[2].headers for r in requests if r[1]["WARC-IP-Address"]]
    assert headers == [[("Host", "t.me"), ("Accept", "text/html")]]
