"""Notifications after scheduled crawls: a real apprise ``json://`` URL to a webhook on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.query.changes import iter_changes
from archive.store import connect_readonly
from chanarchive.cli import cli
from scheduler.notify.messages import compose
from scheduler.notify.targets import masked
from tests.crawling import FAST, query, run_cli
from tests.sample_archive import build_sample_archive, file_state
from tests.scheduler.test_service import crawls, once, set_next_run

EDITED_TEXT = "Breaking: the bridge reopens tomorrow, 新桥明天通车"


class Webhook:
    """An HTTP endpoint on 127.0.0.1 that records every POST; the first ``fail`` answer 500."""

    def __init__(self, fail: int = 0) -> None:
        self.received: list[dict] = []
        self.fail = fail
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if hook.fail > 0:
                    hook.fail -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                hook.received.append({"path": self.path, "json": json.loads(body)})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook/chanarchive"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hooks: list[Webhook] = []

    def make(fail: int = 0) -> Webhook:
        hook = Webhook(fail)
        hooks.append(hook)
        return hook

    yield make
    for hook in hooks:
        hook.close()


def sources(db: Path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(db), "sources", *args], catch_exceptions=False)


def run_again(db: Path, source: str) -> None:
    """Make the source due now, as if its hour had passed, and run the scheduler once."""
    set_next_run(db, source, datetime.now(UTC) - timedelta(minutes=1))
    done = once(db)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_scheduled_crawl_sends_one_message_naming_the_edit_and_the_deletion(
    site, tmp_path, webhook
):
    db = tmp_path / "archive.db"
    hook = webhook()
    site.control("channel", name="watched", posts=6)
    source = f"{site.url}/s/watched"
    added = sources(db, "add", source, "--every", "1h", "--notify", hook.url, *FAST)
    assert added.exit_code == 0, added.output
    assert "changes go to: json://127.0.0.1:" in added.output

    first = once(db)
    assert first.returncode == 0, first.stderr
    assert len(hook.received) == 1
    assert hook.received[0]["path"] == "/hook/chanarchive"
    message = hook.received[0]["json"]
    assert message["title"] == f"chanarchive: {source}: 6 new"
    assert "New (6):" in message["message"] and "watched/6" in message["message"]

    site.control("edit", name="watched", id=3, text=EDITED_TEXT)
    site.control("delete", name="watched", id=5)
    run_again(db, source)
    assert len(hook.received) == 2, "one message for the run, not one per change"
    message = hook.received[1]["json"]
    assert message["title"] == f"chanarchive: {source}: 1 edited, 1 deleted"
    body = message["message"]
    assert "Edited (1):\n- watched/3" in body
    # The edit's new words, each CJK character a word of its own.
    added_line = next(line for line in body.splitlines() if line.startswith("  added: "))
    for word in ("Breaking", "bridge", "reopens", "新", "桥", "通", "车"):
        assert word in added_line
    assert "{+" in body and "[-" in body
    assert "Deleted (1):\n- watched/5" in body
    assert "New" not in body

    # Nothing changed: no message, and nothing sent twice.
    run_again(db, source)
    assert len(hook.received) == 2
    sent = query(db, "SELECT status, changes FROM notifications ORDER BY id")
    assert sent == [("sent", 6), ("sent", 2)]
    assert [row[1] for row in crawls(db, source)] == ["ok", "ok", "ok"]


@pytest.mark.slow
def test_a_failed_notification_is_logged_retried_next_run_and_never_fails_the_crawl(
    site, tmp_path, webhook
):
    db = tmp_path / "archive.db"
    hook = webhook(fail=1)  # the first message gets a 500
    site.control("channel", name="flaky", posts=3)
    source = f"{site.url}/s/flaky"
    assert sources(db, "add", source, "--every", "1h", "--notify", hook.url, *FAST).exit_code == 0

    first = once(db)
    assert first.returncode == 0, first.stderr
    assert crawls(db, source)[0][1] == "ok"
    assert hook.received == []
    assert "could not notify json://127.0.0.1:" in first.stderr
    assert "retried with the next run" in first.stderr
    listed = sources(db, "list")
    assert "notifications to json://127.0.0.1:" in listed.output and "failing" in listed.output
    health = json.loads(sources(db, "list", "--format", "json").output)[0]["notify"]
    assert health[0]["consecutive_failures"] == 1 and health[0]["last_error"]
    assert "hook/chanarchive" in health[0]["target"]

    site.control("edit", name="flaky", id=2, text=EDITED_TEXT)
    run_again(db, source)
    # One message with everything since the last one that went out: the first run's
    # new posts and this run's edit.
    assert len(hook.received) == 1
    assert hook.received[0]["json"]["title"] == f"chanarchive: {source}: 1 edited, 3 new"
    assert query(db, "SELECT status, changes FROM notifications ORDER BY id") == [
        ("failed", 3),
        ("sent", 4),
    ]
    assert query(db, "SELECT failures, last_error FROM notify_targets") == [(0, None)]
    assert "failing" not in sources(db, "list").output


def test_notify_urls_are_checked_replaced_kept_and_cleared(tmp_path):
    db = tmp_path / "archive.db"
    bad = sources(db, "add", "@durov", "--every", "1h", "--notify", "nonsense://x")
    assert bad.exit_code == 2
    assert "--notify 'nonsense://x' is not a notification URL" in bad.output
    assert not db.exists()  # nothing written

    first, second = "json://127.0.0.1:9/a", "ntfy://ntfy.example/topic"
    assert sources(db, "add", "@durov", "--every", "1h", "--notify", first).exit_code == 0
    watermark = query(db, "SELECT notified_until FROM notify_targets WHERE url = ?", [first])
    replaced = sources(db, "add", "@durov", "--every", "2h", "--notify", first, "--notify", second)
    assert replaced.exit_code == 0
    assert query(db, "SELECT url FROM notify_targets ORDER BY rowid") == [(first,), (second,)]
    # A kept target keeps its watermark.
    assert (
        query(db, "SELECT notified_until FROM notify_targets WHERE url = ?", [first]) == watermark
    )
    assert sources(db, "add", "@durov", "--every", "3h").exit_code == 0  # no --notify: kept
    assert len(query(db, "SELECT url FROM notify_targets")) == 2
    both = sources(db, "add", "@durov", "--every", "3h", "--notify", first, "--no-notify")
    assert both.exit_code == 2
    assert sources(db, "add", "@durov", "--every", "3h", "--no-notify").exit_code == 0
    assert query(db, "SELECT COUNT(*) FROM notify_targets") == [(0,)]
    sources(db, "add", "@durov", "--every", "3h", "--notify", first)
    sources(db, "remove", "@durov")
    assert query(db, "SELECT COUNT(*) FROM notify_targets") == [(0,)]


def test_credentials_in_notify_urls_stay_out_of_lists_and_queries(tmp_path):
    db = tmp_path / "archive.db"
    secret = "mailto://someone:hunter2secret@example.com"
    assert sources(db, "add", "@durov", "--every", "1h", "--notify", secret).exit_code == 0
    listed = sources(db, "list", "--format", "json").output
    assert "hunter2secret" not in listed and "mailto" in listed
    assert "hunter2secret" not in masked(secret)
    before = file_state(db)
    read = run_cli(db, "query", "SELECT url, shown FROM notify_targets", "--format", "json")
    assert read.returncode == 0, read.stderr
    [row] = json.loads(read.stdout)
    assert row["url"] is None  # untrusted SQL reads the column as NULL
    assert "hunter2secret" not in row["shown"]
    filtered = run_cli(db, "query", "SELECT COUNT(*) AS n FROM notify_targets WHERE url LIKE '%hunter2%'", "--format", "json")  # fmt: skip
    assert json.loads(filtered.stdout) == [{"n": 0}]
    assert file_state(db)["db"] == before["db"]
    # The scheduler's own connection reads it.
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT url FROM notify_targets").fetchone() == (secret,)
    conn.close()


def test_a_message_names_each_kind_and_counts_what_it_leaves_out(tmp_path):
    db = build_sample_archive(tmp_path / "archive.db")
    conn = connect_readonly(db)
    changes = list(iter_changes(conn))
    conn.close()
    title, body = compose("@news_cn", changes)
    # The source's @ too is kept from mentioning anyone (a zero-width space after it).
    assert title == "chanarchive: @\u200bnews_cn: 1 edited, 1 deleted, 8 new"
    sections = [line for line in body.splitlines() if line and not line.startswith((" ", "-"))]
    assert sections[:3] == ["Edited (1):", "Deleted (1):", "New (8):"]
    assert "  removed: 地铁 · 底" in body and "  added: 轻轨 · 明 · 春节" in body
    many = compose("@news_cn", [changes[-1]] * 25)[1]
    assert many.count("\n- ") == 10 and "… and 15 more" in many
