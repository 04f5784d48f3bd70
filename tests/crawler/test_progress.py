"""The crawl's progress line on a terminal: pages, posts, media files done of those planned."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from tests.crawling import FAST
from tests.media_site import serve_media_channel as media_channel


def crawl_on_terminal(db, *args) -> tuple[subprocess.CompletedProcess, str]:
    """``chanarchive crawl ARGS`` with its stderr on a pseudo-terminal; (result, what it drew)."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "chanarchive", "--db", str(db), "crawl", *args, *FAST],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
        )
        os.close(follower)
        follower = None
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    return done, drawn.decode("utf-8", "replace")


def test_the_progress_line_counts_media_files_and_those_not_archived(site, tmp_path):
    url = media_channel(site, "prog", posts=4)
    site.control("media_fail", file="prog-2.jpg", code=404)
    done, drawn = crawl_on_terminal(tmp_path / "a.db", url)
    assert done.returncode == 0, drawn
    lines = [part for part in drawn.split("\r") if "crawling:" in part]
    assert lines, drawn
    last = lines[-1]
    assert "1 pages" in last and "4 posts" in last
    assert "media 4/4 (1 not archived)" in last
    # The terminal line is cleared before the summary, which goes to stdout and says
    # what became of the media files.
    assert "crawled 1 pages" in done.stdout
    assert "media 3 archived / 1 not archived, 0 errors (ok)" in done.stdout


def test_no_media_part_when_a_crawl_plans_no_media(site, tmp_path):
    url = media_channel(site, "bare", posts=3)
    done, drawn = crawl_on_terminal(tmp_path / "a.db", url, "--media", "none")
    assert done.returncode == 0, drawn
    last = [part for part in drawn.split("\r") if "crawling:" in part][-1]
    assert "3 posts" in last and "media" not in last
    assert "media" not in done.stdout
