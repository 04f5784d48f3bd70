"""Notifications harm no one: plain text, every mention inert, and bounded in time.

A real apprise ``json://`` webhook on 127.0.0.1 receives what a scheduled
crawl tells; hypothesis writes the texts. A target that never finishes
answering (it drips a header a byte at a time, which no socket timeout
catches) costs one message its timeout, never the scheduler: ``scheduler
run --once`` ends, and ``scheduler run`` stops at once on SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.store.fts import register_functions
from scheduler.notify.delivery import notify_after_crawl, notify_source, send_bounded
from scheduler.notify.messages import ZERO_WIDTH_SPACE, plain
from tests.crawling import FAST, cli_argv, query
from tests.helpers import run
from tests.sample_archive import build_sample_archive
from tests.scheduler.test_notify import Webhook
from tests.scheduler.test_service import Scheduler

FUZZ = settings(
    max_examples=int(os.environ.get("CHANARCHIVE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: What chat services act on: Discord's and Slack's mentions, @everyone and @here, @name.
MENTION = re.compile(r"@(?!\u200b)|<(?=[@#!&])")
HOSTILE = (
    "@everyone @here <@123456789> <@!42> <@&987> <#555> <!channel> <!here> <!everyone>"
    " <!subteam^S1> @durov mail@example.com \x1b[31mred\x1b[0m"
)


@FUZZ
@given(st.text() | st.text(st.sampled_from("@<>!&#\u200beveryonehr \n\x1b\r")))
def test_plain_text_has_no_mention_and_no_control_codes(text):
    out = plain(text)
    assert not MENTION.search(out)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)
    assert plain(out) == out  # once is enough
    # What a reader sees is the text, less its control codes.
    visible = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text).replace(ZERO_WIDTH_SPACE, "")
    assert out.replace(ZERO_WIDTH_SPACE, "") == visible


_MENTIONY = st.text(st.sampled_from("@<>!&#everyonhr123 \n\t\x1b/:.")) | st.text()


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["new", "edited", "deleted", "undeleted"]),
            _MENTIONY,  # post id
            _MENTIONY,  # text before
            _MENTIONY,  # text after
            st.none() | _MENTIONY,  # title
            st.none() | _MENTIONY,  # url
        ),
        min_size=1,
        max_size=8,
    ),
    _MENTIONY,
)
def test_any_message_composed_mentions_nobody(events, source):
    from archive.query.changes import Change
    from archive.query.history import word_segments
    from scheduler.notify.messages import compose

    changes = [
        Change(
            kind=kind,
            at="2026-11-27T10:00:00+00:00",
            channel="chan",
            post_id=post_id,
            url=url,
            version=2,
            text=after,
            title=title,
            segments=tuple(word_segments(before, after)) if kind == "edited" else (),
        )
        for kind, post_id, before, after, title, url in events
    ]
    title, body = compose(source, changes)
    for text in (title, body):
        assert not MENTION.search(text)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
    # Every line a message has is one compose wrote: no quoted text starts a line of its own.
    for line in body.splitlines():
        assert not line or line.startswith(("- ", "  ", "… and ")) or line.endswith("):")


def _rewind(db: Path) -> None:
    """Tell the targets they have heard nothing yet: the sample's changes are all news."""
    conn = sqlite3.connect(db)
    conn.execute("UPDATE notify_targets SET notified_until = '2000-01-01T00:00:00+00:00'")
    conn.commit()
    conn.close()


def _hostile_sample(path: Path) -> Path:
    build_sample_archive(path)
    conn = sqlite3.connect(path)
    register_functions(conn)
    conn.execute(
        "UPDATE post_versions SET text = ? WHERE post = (SELECT id FROM posts WHERE post_id = '7')",
        [HOSTILE],
    )
    conn.commit()
    conn.close()
    return path


def test_a_message_to_a_real_webhook_pings_nobody(tmp_path):
    db = _hostile_sample(tmp_path / "archive.db")
    hook = Webhook()
    try:
        assert run(db, "sources", "add", "@news_cn", "--every", "1h", "--notify", hook.url).exit_code == 0  # fmt: skip
        _rewind(db)
        [delivery] = notify_after_crawl(str(db), "@news_cn")
        assert delivery.status == "sent", delivery
        [message] = hook.received
    finally:
        hook.close()
    title, body = message["json"]["title"], message["json"]["message"]
    assert message["json"]["type"] == "info"
    for text in (title, body):
        assert not MENTION.search(text), text
        assert "\x1b" not in text
    assert f"@{ZERO_WIDTH_SPACE}everyone @{ZERO_WIDTH_SPACE}here" in body
    assert f"<{ZERO_WIDTH_SPACE}@{ZERO_WIDTH_SPACE}123456789>" in body
    assert f"<{ZERO_WIDTH_SPACE}!channel>" in body
    assert title.startswith(f"chanarchive: @{ZERO_WIDTH_SPACE}news_cn: ")
    assert "https://t.me/news_cn/7" in body  # links stay as they were


class SlowWebhook:
    """Answers a POST by dripping a header a byte at a time until released: no socket
    timeout ever fires on it."""

    def __init__(self) -> None:
        self.posts = 0
        self.released = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hook.posts += 1
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                    while not hook.released.wait(0.5):
                        self.wfile.write(b"a")
                        self.wfile.flush()
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/slow"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow():
    hook = SlowWebhook()
    yield hook
    hook.close()


def test_a_slow_target_costs_one_timeout_and_gets_no_second_message_meanwhile(tmp_path, slow):
    db = build_sample_archive(tmp_path / "archive.db")
    assert run(db, "sources", "add", "@news_cn", "--every", "1h", "--notify", slow.url).exit_code == 0  # fmt: skip
    _rewind(db)
    from archive.store import open_archive

    archive = open_archive(db)
    try:
        started = time.monotonic()
        [delivery] = notify_source(archive, "@news_cn", timeout=1.5)
        assert time.monotonic() - started < 10
        assert delivery.status == "failed" and "no answer within 1.5s" in delivery.error
        [again] = notify_source(archive, "@news_cn", timeout=1.5)
        assert again.status == "failed" and "still on its way" in again.error
    finally:
        archive.close()
    assert slow.posts == 1
    assert query(db, "SELECT status FROM notifications") == [("failed",), ("failed",)]
    assert query(db, "SELECT notified_until FROM notify_targets") == [
        ("2000-01-01T00:00:00+00:00",)
    ]


def test_a_stop_ends_the_wait_at_once_and_records_nothing(slow):
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    from scheduler.notify.delivery import Stopped, apprise_sender

    with pytest.raises(Stopped):
        send_bounded(apprise_sender, slow.url + "?x=1", "t", "b", timeout=60, stop=stop)
    assert time.monotonic() - started < 5


def _scheduled(site, tmp_path: Path, hook_url: str) -> tuple[Path, str]:
    db = tmp_path / "archive.db"
    site.control("channel", name="watched", posts=3)
    source = f"{site.url}/s/watched"
    added = run(db, "sources", "add", source, "--every", "1h", "--notify", hook_url, *FAST)
    assert added.exit_code == 0, added.output
    return db, source


@pytest.mark.slow
def test_scheduler_once_ends_while_a_target_hangs(site, tmp_path, slow):
    import subprocess

    db, _ = _scheduled(site, tmp_path, slow.url)
    env = {**os.environ, "CHANARCHIVE_NOTIFY_TIMEOUT": "3"}
    started = time.monotonic()
    done = subprocess.run(
        cli_argv(db, "scheduler", "run", "--once"),
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 90
    assert slow.posts == 1
    assert "no answer within 3s" in done.stderr
    [(status, error)] = query(db, "SELECT status, error FROM notifications")
    assert status == "failed" and "no answer within 3s" in error
    assert [r[0] for r in query(db, "SELECT status FROM crawls")] == ["ok"]


@pytest.mark.slow
def test_sigterm_stops_the_scheduler_at_once_while_a_target_hangs(site, tmp_path, slow):
    db, _ = _scheduled(site, tmp_path, slow.url)
    scheduler = Scheduler(db)  # the default timeout: 30 s a message
    try:
        deadline = time.monotonic() + 90
        while slow.posts == 0:
            assert scheduler.proc.poll() is None, scheduler.text()
            assert time.monotonic() < deadline, scheduler.text()
            time.sleep(0.2)
        time.sleep(0.5)  # well inside the send
        started = time.monotonic()
        assert scheduler.stop(timeout=15) == 0, scheduler.text()
        assert time.monotonic() - started < 10, scheduler.text()
        assert "given up on" in scheduler.text()
    finally:
        scheduler.close()
    # Nothing recorded for the message given up on: its changes wait for the next run.
    assert query(db, "SELECT COUNT(*) FROM notifications") == [(0,)]
    assert (
        json.loads(run(db, "sources", "list", "--format", "json").stdout)[0]["notify"][0][
            "consecutive_failures"
        ]
        == 0
    )
