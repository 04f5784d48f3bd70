"""Channels that cannot be read, through the real CLI: the reason, exit 1, nothing archived."""

from __future__ import annotations

import pytest

from tests.crawling import crawl, made_archive, query

pytestmark = pytest.mark.slow

CASES = [
    # (case set on the server or None, the reason's start)
    (
        "preview_disabled",
        "unreadable: web preview disabled: @{name} (/s/{name} redirects to /{name})",
    ),
    ("no_such", "unreadable: no such channel: @{name} is no public channel"),
    (None, "unreadable: no such channel: @{name} (HTTP 404)"),
    ("no_markup", "unreadable: not a channel page: /s/{name} answered without channel markup"),
]


@pytest.mark.parametrize(("case", "reason"), CASES, ids=["preview", "contact", "404", "markup"])
def test_a_channel_that_cannot_be_read_fails_with_its_reason(site, tmp_path, case, reason):
    db = made_archive(tmp_path / "archive.db")
    name = f"cannot_{case or 'found'}"
    if case == "preview_disabled":
        site.control("channel", name=name, posts=5)  # it exists: only its preview is off
    if case is not None:
        site.control("unreadable", name=name, case=case)
    done = crawl(db, f"{site.url}/s/{name}")
    assert done.returncode == 1, done.stdout
    expected = reason.format(name=name)
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: cannot read {site.url}/s/{name}: {expected[12:]}")
    assert len(done.stderr.strip().splitlines()) == 1  # one line: the reason
    assert done.stdout.strip().endswith("(failed)")
    ((status, got, pages),) = query(db, "SELECT status, reason, pages FROM crawls")
    assert (status, pages) == ("failed", 0) and got.startswith(expected)
    assert query(db, "SELECT COUNT(*) FROM posts") == [(0,)]
    assert query(db, "SELECT COUNT(*) FROM channels") == [(0,)]  # no web channel, no channel
    assert query(db, "SELECT kind FROM crawl_errors") == [("unreadable",)]


def test_a_readable_channel_beside_an_unreadable_one_is_archived(site, tmp_path):
    db = tmp_path / "archive.db"
    site.control("channel", name="readable", posts=5)
    site.control("unreadable", name="hidden_one", case="preview_disabled")
    done = crawl(db, f"{site.url}/s/readable", f"{site.url}/s/hidden_one")
    assert done.returncode == 1
    assert "web preview disabled: @hidden_one" in done.stderr.strip().splitlines()[-1]
    assert query(db, "SELECT source, status FROM crawls ORDER BY id") == [
        (f"{site.url}/s/readable", "ok"),
        (f"{site.url}/s/hidden_one", "failed"),
    ]
    assert query(db, "SELECT name, kind FROM channels") == [("readable", "telegram")]


def test_a_channel_throttled_for_too_long_fails_and_the_next_crawl_reads_it(site, tmp_path):
    db = made_archive(tmp_path / "archive.db")
    site.control("channel", name="stubborn", posts=25, page_size=20)
    site.control("throttle", name="stubborn", count=100)
    url = f"{site.url}/s/stubborn"
    done = crawl(db, url, "-s", "TELEGRAM_THROTTLE_RETRIES=1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("Error: every fetch failed:")
    ((status, reason),) = query(db, "SELECT status, reason FROM crawls")
    assert status == "failed" and reason.startswith("throttled: Telegram kept serving")
    assert query(db, "SELECT COUNT(*) FROM posts") == [(0,)]
    site.control("throttle", name="stubborn", count=0)
    assert crawl(db, url).stdout.strip().endswith("(ok)")
    assert query(db, "SELECT COUNT(*) FROM posts") == [(25,)]
