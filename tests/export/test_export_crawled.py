"""Export an archive made by real crawls: --as-of reproduces the past, WARC passes warcio check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from chanarchive.demo.site import SiteServer, demo_channel
from tests.crawling import crawl, export, query, run_cli
from tests.sample_archive import file_state

WARCIO = Path(sys.executable).with_name("warcio")


@pytest.mark.slow
def test_crawled_archive_exports_its_past_and_its_captures(tmp_path):
    db = tmp_path / "archive.db"
    with SiteServer({"chanarchive_demo": demo_channel(1)}) as server:
        url = f"{server.url}/s/chanarchive_demo"
        assert crawl(db, url).returncode == 0
        first = export(db)
        (between,) = query(db, "SELECT MAX(finished_at) FROM crawls")[0]
        server.set_channel(demo_channel(2))
        assert crawl(db, url).returncode == 0
        assert crawl(db, url).returncode == 0  # nothing changed: the same page again
    assert len(first) == 45

    before = file_state(db)
    now = export(db)
    assert len(now) == 48 and any(r["deleted_at"] for r in now)
    assert any(r["version"] == 2 for r in now)
    assert export(db, "--as-of", between) == first

    warc = tmp_path / "captures.warc.gz"
    done = run_cli(db, "export", "--format", "warc", "-o", str(warc))
    assert done.returncode == 0, done.stderr
    check = subprocess.run([str(WARCIO), "check", str(warc)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with open(warc, "rb") as stream:
        records = [
            (record.rec_type, record.rec_headers.get_header("WARC-Target-URI") or "")
            for record in ArchiveIterator(stream)
        ]
    types = [kind for kind, uri in records if "/media/" not in uri]  # the pages' captures
    snapshots = query(db, "SELECT COUNT(*), COUNT(DISTINCT content_sha256) FROM snapshots")[0]
    assert types.count("response") == snapshots[1]
    assert types.count("revisit") == snapshots[0] - snapshots[1] >= 1
    # then the demo's pictures, archived at first sight: one response per file
    media = [kind for kind, uri in records if "/media/" in uri]
    files = query(db, "SELECT COUNT(*) FROM media_files")[0][0]
    assert media.count("response") == files >= 1
    assert file_state(db)["db"] == before["db"]
