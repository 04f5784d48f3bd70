"""Deletions confirmed, end to end: a post that leaves the listing is looked at through its embed.

The real CLI crawls the loopback server, whose ``/NAME/ID?embed=1`` answers
as Telegram's does: the message, or "Post not found" for a deleted one.
"""

from __future__ import annotations

import hashlib

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.export.warc import payload_digest
from archive.store.bodies import unpack
from tests.crawling import crawl, export, query, run_cli
from tests.helpers import summary

pytestmark = pytest.mark.slow


def embeds(site, name: str) -> list[tuple[str, int]]:
    """The embed requests the site served: (path with query, status)."""
    return [(p, s) for _m, p, s in site.stats() if p.startswith(f"/{name}/")]


def checks(db) -> list[tuple]:
    return query(
        db,
        "SELECT p.post_id, d.outcome, d.http_status, d.reason FROM deletion_checks d"
        " JOIN posts p ON p.id = d.post ORDER BY d.id",
    )


def post_state(db, post_id: str) -> tuple:
    return query(
        db,
        "SELECT deleted_at IS NOT NULL, missing_since IS NOT NULL FROM posts WHERE post_id = ?",
        [post_id],
    )[0]


def test_a_deleted_post_is_confirmed_and_a_hidden_one_kept_alive(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="watched", posts=30, page_size=20)
    url = f"{site.url}/s/watched"
    assert summary(crawl(db, url)).startswith("crawled 2 pages, posts 30 new")
    assert embeds(site, "watched") == []  # nothing left the listing: no look at all

    site.control("delete", name="watched", id=25)  # gone: its embed says "Post not found"
    site.control("hide", name="watched", id=27)  # only left out of the listing
    site.control("delete", name="watched", id=30)  # the newest post: above the page's top now
    site.reset_stats()
    done = crawl(db, url)
    assert summary(done) == (
        "crawled 1 pages, posts 0 new / 0 changed / 20 unchanged / 2 deleted, 0 errors (ok)"
    )
    assert sorted(embeds(site, "watched")) == [
        ("/watched/25?embed=1", 200),
        ("/watched/27?embed=1", 200),
        ("/watched/30?embed=1", 200),
    ]
    assert sorted(checks(db)) == [
        ("25", "deleted", 200, "Post not found"),
        ("27", "alive", 200, "the embed shows the post"),
        ("30", "deleted", 200, "Post not found"),
    ]
    assert post_state(db, "25") == (1, 0)  # confirmed
    assert post_state(db, "27") == (0, 1)  # alive, missing from the listing
    records = {r["post_id"]: r for r in export(db)}
    assert records["25"]["deleted_at"] is not None
    assert records["27"]["deleted_at"] is None
    assert [r["post_id"] for r in export(db, "--no-deleted")].count("25") == 0
    assert query(db, "SELECT status, posts_deleted FROM crawls ORDER BY id") == [
        ("ok", 0),
        ("ok", 2),
    ]
    changes = crawl_changes(db)
    assert "deleted" in changes and "watched/25" in changes and "watched/27" not in changes

    # Each look's answer is kept as a capture (not a page of the crawl: "1 pages" above),
    # and the WARC export holds it: the page that said "Post not found" is the evidence.
    evidence = query(
        db,
        "SELECT p.post_id, s.page_type, s.http_status, b.compression, b.body FROM deletion_checks d"
        " JOIN posts p ON p.id = d.post JOIN snapshots s ON s.id = d.snapshot"
        " JOIN bodies b ON b.sha256 = s.content_sha256 ORDER BY p.post_num",
    )
    assert [row[:3] for row in evidence] == [("25", "embed", 200), ("27", "embed", 200),
                                             ("30", "embed", 200)]  # fmt: skip
    bodies = {row[0]: unpack(row[3], row[4]) for row in evidence}
    assert b"tgme_widget_message_error" in bodies["25"] and b"Post not found" in bodies["25"]
    assert b"tgme_widget_message_error" not in bodies["27"]
    warc = tmp_path / "archive.warc.gz"
    assert run_cli(db, "export", "--format", "warc", "-o", str(warc)).returncode == 0
    with warc.open("rb") as stream:  # a response, or a revisit of an identical answer
        answers = {
            r.rec_headers.get_header("WARC-Target-URI"): r.rec_headers.get_header(
                "WARC-Payload-Digest"
            )
            for r in ArchiveIterator(stream)
            if r.rec_type in ("response", "revisit")  # not the request sent for it
        }
    for post_id in ("25", "27", "30"):
        digest = payload_digest(hashlib.sha256(bodies[post_id]).hexdigest())
        assert answers[f"{site.url}/watched/{post_id}?embed=1"] == digest


def crawl_changes(db) -> str:
    done = run_cli(db, "changes", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    return "\n".join(line for line in done.stdout.splitlines() if '"deleted"' in line)


def test_checks_beyond_the_budget_wait_for_the_next_crawl(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="budget", posts=20, page_size=20)
    url = f"{site.url}/s/budget"
    assert crawl(db, url).returncode == 0
    for post_id in (11, 12, 13, 14, 15):
        site.control("delete", name="budget", id=post_id)
    site.reset_stats()
    first = crawl(db, url, "--deletion-checks", "2")
    assert "2 deleted" in summary(first)
    assert len(embeds(site, "budget")) == 2
    assert query(db, "SELECT COUNT(*) FROM posts WHERE missing_since IS NOT NULL") == [(3,)]

    site.reset_stats()
    second = crawl(db, url, "--deletion-checks", "2")
    assert "2 deleted" in summary(second)
    site.reset_stats()
    third = crawl(db, url)
    assert "1 deleted" in summary(third)
    assert len(embeds(site, "budget")) == 1  # only the one left undecided
    assert query(
        db, "SELECT post_id FROM posts WHERE deleted_at IS NOT NULL ORDER BY post_num"
    ) == [(str(i),) for i in (11, 12, 13, 14, 15)]
    assert query(db, "SELECT COUNT(*) FROM deletion_checks WHERE outcome = 'deleted'") == [(5,)]
    assert query(db, "SELECT COUNT(DISTINCT crawl_id) FROM deletion_checks") == [(3,)]

    # With no budget, a post that leaves the listing stays missing, never deleted.
    site.control("delete", name="budget", id=16)
    site.reset_stats()
    assert "0 deleted" in summary(crawl(db, url, "--deletion-checks", "0"))
    assert embeds(site, "budget") == []
    assert post_state(db, "16") == (0, 1)


def test_a_failed_check_leaves_the_post_undecided_for_the_next_crawl(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="shaky", posts=20, page_size=20)
    url = f"{site.url}/s/shaky"
    assert crawl(db, url).returncode == 0
    site.control("delete", name="shaky", id=18)
    site.control("embed_status", name="shaky", code=503)
    site.reset_stats()
    done = crawl(db, url, "-s", "RETRY_TIMES=1")
    assert "0 deleted, 0 errors (ok)" in summary(done)
    assert embeds(site, "shaky") == [("/shaky/18?embed=1", 503)] * 2  # retried once
    assert checks(db) == [("18", "failed", 503, "HTTP 503")]
    assert query(db, "SELECT s.page_type, s.http_status FROM deletion_checks d"
                 " JOIN snapshots s ON s.id = d.snapshot") == [("embed", 503)]  # fmt: skip
    assert post_state(db, "18") == (0, 1)  # undecided: missing, not deleted
    assert {r["post_id"]: r["deleted_at"] for r in export(db)}["18"] is None

    site.control("embed_status", name="shaky", code=0)
    assert "1 deleted" in summary(crawl(db, url))
    assert checks(db)[-1] == ("18", "deleted", 200, "Post not found")
    assert post_state(db, "18") == (1, 0)
