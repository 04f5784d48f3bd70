"""``chanarchive verify``: an archive and an exported WACZ, checked read-only.

Damage is made the way it happens: bytes changed in place, through SQLite
directly (a body, a media file, a row gone) or inside the ZIP file; verify
must name each thing damaged, exit 1, and leave the file as it found it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import sqlite3
import zipfile
import zlib
from pathlib import Path

import pytest

from archive.store import connect_readonly
from archive.verify import Problem, Report, check_archive
from tests.crawling import run_cli
from tests.sample_archive import build_sample_archive


def copy_of(archive: Path, folder: Path) -> Path:
    """A copy of ``archive`` (and its -wal, if any) to damage."""
    target = folder / "archive.db"
    shutil.copy2(archive, target)
    if Path(f"{archive}-wal").exists():
        shutil.copy2(f"{archive}-wal", f"{target}-wal")
    return target


def verify(*args: str, db: Path | None = None):
    return run_cli(db or Path("unused.db"), "verify", *args, timeout=300)


def flip_a_body_byte(db: Path) -> str:
    """Change one byte of one stored page body (kept valid zlib); its sha256."""
    conn = sqlite3.connect(db)
    sha, stored = conn.execute("SELECT sha256, body FROM bodies ORDER BY sha256 LIMIT 1").fetchone()
    data = bytearray(zlib.decompress(stored))
    data[len(data) // 2] ^= 0x20
    conn.execute("UPDATE bodies SET body = ? WHERE sha256 = ?", [zlib.compress(bytes(data)), sha])
    conn.commit()
    conn.close()
    return sha


def flip_a_media_byte(db: Path) -> str:
    """Change one byte of one stored media file; its sha256."""
    conn = sqlite3.connect(db)
    sha, compression, stored = conn.execute(
        "SELECT f.sha256, f.compression, b.body FROM media_files f"
        " JOIN media_bodies b ON b.sha256 = f.sha256 ORDER BY f.sha256 LIMIT 1"
    ).fetchone()
    data = bytearray(zlib.decompress(stored) if compression == "zlib" else stored)
    data[-3] ^= 0x01
    packed = zlib.compress(bytes(data)) if compression == "zlib" else bytes(data)
    conn.execute("UPDATE media_bodies SET body = ? WHERE sha256 = ?", [packed, sha])
    conn.commit()
    conn.close()
    return sha


# ------------------------------------------------------------------ an archive


@pytest.mark.slow
def test_an_untouched_archive_verifies_clean_and_stays_byte_for_byte(demo_archive, tmp_path):
    db = copy_of(demo_archive, tmp_path)
    before = db.read_bytes()
    done = verify(db=db)
    assert done.returncode == 0, done.stdout + done.stderr
    [summary] = done.stdout.splitlines()
    assert summary.startswith(f"{db}: no problems (checked SQLite's integrity_check, 5 page bodies")
    assert "14 media files" in summary and "1 deletion)" in summary
    assert db.read_bytes() == before
    sampled = verify("--sample", "2", db=db)
    assert sampled.returncode == 0, sampled.stdout
    assert "quick_check, 2 page bodies" in sampled.stdout and "random sample" in sampled.stdout
    assert db.read_bytes() == before


@pytest.mark.slow
def test_a_changed_body_and_a_changed_media_file_are_named(demo_archive, tmp_path):
    db = copy_of(demo_archive, tmp_path)
    body, media = flip_a_body_byte(db), flip_a_media_byte(db)
    before = db.read_bytes()
    done = verify(db=db)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and lines[-1].startswith(f"{db}: 2 problems")
    assert lines[0].startswith(f"page body {body} (http://127.0.0.1:")
    assert "its bytes hash to" in lines[0] and "damaged or altered" in lines[0]
    assert lines[1].startswith(f"media file {media} (image/png, http://127.0.0.1:")
    assert db.read_bytes() == before  # verify wrote nothing
    # A sample as large as the archive finds them too.
    sampled = verify("--sample", "100", db=db)
    assert sampled.returncode == 1 and body in sampled.stdout and media in sampled.stdout


def test_broken_links_and_unproven_deletions_are_named(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    conn = sqlite3.connect(db)
    # The sample's deletion was fed without the answer that proves it.
    (snapshot,) = conn.execute("SELECT snapshot FROM post_versions WHERE version = 2").fetchone()
    conn.execute("DELETE FROM snapshots WHERE id = ?", [snapshot])  # a version's capture gone
    conn.execute(
        "DELETE FROM bodies WHERE sha256 = (SELECT content_sha256 FROM snapshots"
        " WHERE url = 'https://mirror.example/hello-world')"
    )
    conn.commit()
    conn.close()
    done = verify(db=db)
    assert done.returncode == 1
    out = done.stdout
    assert f"post news_cn/3 version 2: names capture {snapshot}, which the archive" in out
    assert "capture 2 (https://mirror.example/hello-world, fetched 2026-11-26T10:00:00" in out
    assert "its body " in out and "is not in the archive" in out
    assert "post news_cn/5 deleted at 2026-11-27T10:00:00.000000+00:00: no evidence kept:" in out
    assert out.splitlines()[-1].startswith(f"{db}: 4 problems")


@pytest.mark.slow
def test_a_deletion_whose_evidence_no_longer_says_so_is_named(demo_archive, tmp_path):
    db = copy_of(demo_archive, tmp_path)
    conn = sqlite3.connect(db)
    snapshot, sha, stored = conn.execute(
        "SELECT s.id, s.content_sha256, b.body FROM snapshots s"
        " JOIN bodies b ON b.sha256 = s.content_sha256 WHERE s.page_type = 'embed'"
    ).fetchone()
    page = zlib.decompress(stored).replace(b"Post not found", b"Channel is private")
    new = hashlib.sha256(page).hexdigest()  # the body rewritten under its own new hash
    conn.execute(
        "INSERT INTO bodies (sha256, size, compression, body) VALUES (?, ?, 'zlib', ?)",
        [new, len(page), zlib.compress(page)],
    )
    conn.execute("UPDATE snapshots SET content_sha256 = ? WHERE id = ?", [new, snapshot])
    conn.commit()
    conn.close()
    done = verify(db=db)
    assert done.returncode == 1
    [problem] = [line for line in done.stdout.splitlines() if "deleted at" in line]
    assert problem.startswith("post chanarchive_demo/44 deleted at ")
    assert f"its evidence, capture {snapshot} (" in problem
    assert 'does not say "Post not found"' in problem


def test_progress_is_told_as_the_checks_go(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    seen: list[tuple[str, int, int]] = []
    conn = connect_readonly(db)
    try:
        report = Report("a")
        problems = list(check_archive(conn, report, progress=lambda *a: seen.append(a)))
    finally:
        conn.close()
    assert [str(p).split(":")[0] for p in problems] == ["post news_cn/5 deleted at 2026-11-27T10"]
    assert ("page bodies", 3, 3) in seen and ("deletions", 1, 1) in seen
    assert report.checked["page bodies"] == 3 and not report.ok


def test_a_missing_archive_or_package_is_bad_input(tmp_path):
    done = verify(db=tmp_path / "none.db")
    assert done.returncode == 2 and "no archive at" in done.stderr
    done = verify(str(tmp_path / "none.wacz"))
    assert done.returncode == 2 and "no file" in done.stderr


# ------------------------------------------------------------------ a WACZ package


@pytest.fixture
def package(tmp_path) -> Path:
    db = build_sample_archive(tmp_path / "archive.db")
    done = run_cli(db, "export", "--format", "wacz", "-o", str(tmp_path / "sample.wacz"))
    assert done.returncode == 0, done.stderr
    return tmp_path / "sample.wacz"


def rewrite(package: Path, change) -> None:
    """Write ``package`` again with ``change(name, data)`` applied to each member's bytes."""
    with zipfile.ZipFile(package) as old:
        members = [(info, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(package, "w") as new:
        for info, data in members:
            new.writestr(info, change(info.filename, data))


def test_an_untouched_package_verifies_clean(package):
    before = package.read_bytes()
    done = verify(str(package))
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == (
        f"{package}: no problems (checked datapackage.json, 4 files hashed, 1 index block,"
        " 4 index lines, 5 WARC records)"
    )
    sampled = verify("--sample", "2", str(package))
    assert sampled.returncode == 0 and "2 WARC records; a random sample" in sampled.stdout
    assert "not checked: the WARC files hashed whole" in sampled.stdout
    assert package.read_bytes() == before


def test_a_changed_warc_record_is_named_by_its_hash_and_its_digest(package):
    with zipfile.ZipFile(package) as wacz:
        index = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode().splitlines()
    [entry] = [json.loads(line.split(" ", 2)[2]) for line in index if "mirror.example" in line]
    start, length = int(entry["offset"]), int(entry["length"])

    def change(name: str, data: bytes) -> bytes:
        if name != "archive/data.warc.gz":
            return data
        record = gzip.decompress(data[start : start + length])
        record = record.replace("镜像".encode(), "鏡像".encode())  # one character, same size
        return data[:start] + gzip.compress(record) + data[start + length :]

    rewrite(package, change)
    done = verify(str(package))
    assert done.returncode == 1
    out = done.stdout
    assert "archive/data.warc.gz: hashes to sha256:" in out and "(altered)" in out
    [record] = [line for line in out.splitlines() if " record <urn:uuid:" in line]
    assert record.startswith("archive/data.warc.gz record <urn:uuid:")
    assert "(response https://mirror.example/hello-world): block digest failed" in record
    assert "payload digest failed" in record
    sampled = verify("--sample", "50", str(package))
    assert sampled.returncode == 1 and "payload digest failed" in sampled.stdout


def test_a_byte_damaged_in_the_package_file_names_the_warc_and_its_record(package):
    """One bit flipped in the .wacz file itself, as a disk or a copy does: the ZIP's own
    CRC no longer holds, yet verify names the WARC by its hash and the record it hit."""
    with zipfile.ZipFile(package) as wacz:
        info = wacz.getinfo("archive/data.warc.gz")
        index = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode().splitlines()
    entries = [json.loads(line.split(" ", 2)[2]) for line in index]
    [hit] = [e for e in entries if "mirror.example" in e["url"]]
    data = bytearray(package.read_bytes())
    start = data.index(b"PK\x03\x04", info.header_offset) + 30
    start += len(info.filename.encode()) + len(info.extra)  # the WARC's first byte
    data[start + int(hit["offset"]) + int(hit["length"]) // 2] ^= 0x04
    package.write_bytes(bytes(data))
    done = verify(str(package))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("archive/data.warc.gz: hashes to sha256:")
    assert lines[0].endswith("as datapackage.json says (altered)")
    assert lines[1].startswith(
        f"archive/data.warc.gz: cannot read the record at byte {int(hit['offset']):,}"
    )
    assert lines[-1].startswith(f"{package}: 2 problems")
    assert all(line.isprintable() for line in lines)  # one line each, the damage not quoted
    sampled = verify("--sample", str(len(entries)), str(package))
    assert sampled.returncode == 1
    [line] = [x for x in sampled.stdout.splitlines() if "mirror.example" in x]
    assert "no readable WARC record at the offset the index gives" in line


def test_an_archive_given_as_the_package_is_bad_input(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    before = db.read_bytes()
    done = verify(str(db))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"Error: {db} is an SQLite file, not a WACZ: to verify an archive, run"
        f" chanarchive --db {db} verify"
    )
    assert done.stdout == "" and db.read_bytes() == before


def test_a_problem_is_told_on_one_line_whatever_it_quotes():
    said = str(Problem("archive/data.warc.gz", "Invalid record: \x1f\x8b\r\nWARC/1.1\x00" * 50))
    assert "\n" not in said and said.isprintable() and len(said) <= 400
    assert said.startswith("archive/data.warc.gz: Invalid record: ? WARC/1.1?Invalid record")


def test_a_changed_manifest_or_an_unlisted_file_is_named(package):
    def change(name: str, data: bytes) -> bytes:
        if name == "datapackage.json":
            return data.replace(b'"title": "chanarchive', b'"title": "Chanarchive')
        return data

    rewrite(package, change)
    with zipfile.ZipFile(package, "a") as wacz:
        wacz.writestr("archive/extra.warc", b"")
    done = verify(str(package))
    assert done.returncode == 1
    out = done.stdout
    assert "datapackage-digest.json: datapackage.json hashes to sha256:" in out
    assert "archive/extra.warc: in the package but not listed in datapackage.json" in out
    package.write_bytes(b"not a zip")
    done = verify(str(package))
    assert done.returncode == 1 and "not a readable ZIP file" in done.stdout
