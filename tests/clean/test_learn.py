"""Learned boilerplate: a channel's repeated ad or signature leaves the clean text, never the raw."""

from __future__ import annotations

import subprocess
import sys

import pytest

from archive import store
from archive.clean.learn import learn
from archive.clean.options import default_options
from archive.models import KIND_TELEGRAM, Capture, ChannelInfo, Page, Post
from archive.store import open_archive

AD = "👉 免费加速器，点击 @fast_vpn_bot 领取"  # not a built-in rule: it has to be learned


@pytest.fixture
def db(tmp_path):
    database = open_archive(tmp_path / "archive.db")
    yield database
    database.close()


def page(ids, text=None):
    text = text or (
        lambda i: f"第{i}条：今天的城市新闻，地铁{i}号线加开班次。\n{AD if i % 2 else '#交通'}"
    )
    posts = [
        Post(channel="city_news", post_id=str(i), url=f"https://t.me/city_news/{i}",
             source_url="https://t.me/s/city_news", raw_text=text(i))
        for i in ids
    ]  # fmt: skip
    return Page(url="https://t.me/s/city_news", kind=KIND_TELEGRAM, page_type="channel",
                channel=ChannelInfo(name="city_news"), posts=posts)  # fmt: skip


def capture(n=0):
    return Capture(url="https://t.me/s/city_news", fetched_at=f"2026-11-26T10:00:0{n}+00:00",
                   status=200, body=f"<html>{n}</html>".encode())  # fmt: skip


def texts(db):
    return {
        pid: (text, raw)
        for pid, text, raw in db.execute(
            "SELECT p.post_id, p.text, v.raw_text FROM posts p JOIN post_versions v"
            " ON v.post = p.id AND v.version = p.current_version"
        )
    }


def test_a_repeated_channel_ad_is_learned_and_stripped_from_clean_text_only(db):
    store.ingest_page(db, None, capture(1), page(range(1, 4)))  # ad on posts 1 and 3: too few
    assert AD in texts(db)["1"][0]
    store.ingest_page(db, None, capture(2), page(range(4, 9)))  # ad on 5 and 7: learned now
    for pid, (text, raw) in texts(db).items():
        if int(pid) % 2:
            assert AD in raw and AD not in text, pid  # earlier posts re-cleaned too
            assert text.startswith(f"第{pid}条")
        else:
            assert text.endswith("#交通")  # hashtag lines are content, never learned
    row = db.execute(
        "SELECT posts, learned_at IS NOT NULL, rule FROM boilerplate WHERE line = ?", [AD]
    ).fetchone()
    assert row == (4, 1, "learned: recurring line")
    assert db.execute("SELECT COUNT(*) FROM boilerplate WHERE line = '#交通'").fetchone()[0] == 0
    # Versions follow the raw text only: re-crawling adds no version.
    result = store.ingest_page(db, None, capture(3), page(range(1, 9)))
    assert result.changed == 0 and result.unchanged == 8


def test_learning_counts_distinct_posts_not_captures(db):
    for n in range(4):
        store.ingest_page(db, None, capture(n), page([1, 2]))
    assert AD in texts(db)["1"][0]  # one post seen four times is still one post


def test_learning_never_strips_a_post_to_nothing(db):
    store.ingest_page(db, None, capture(1), page(range(1, 9)))
    store.ingest_page(
        db, None, capture(2), page([9, 10], text=lambda i: f"{AD}\n{AD}" if i == 9 else AD)
    )
    assert texts(db)["9"][0] == f"{AD}\n{AD}"


def test_learning_in_memory_follows_the_same_thresholds():
    options = default_options()
    posts = page(range(1, 9)).posts
    learned = learn(posts, KIND_TELEGRAM, options)["city_news"]
    assert learned.tail == {AD: 4} and not learned.head
    assert learn(posts[:4], KIND_TELEGRAM, options)["city_news"].tail == {}


@pytest.mark.slow
def test_demo_clean_texts_drop_the_channels_signature_and_bot_ad(tmp_path):
    db_path = tmp_path / "demo.db"
    done = subprocess.run(
        [sys.executable, "-m", "chanarchive", "--db", str(db_path), "demo"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    db = open_archive(db_path, create=False)
    rows = db.execute(
        "SELECT p.post_id, p.text, v.raw_text FROM posts p JOIN post_versions v"
        " ON v.post = p.id AND v.version = p.current_version"
    ).fetchall()
    db.close()
    signed = [r for r in rows if "📣 关注本频道：@chanarchive_demo" in r[2]]
    ads = [r for r in rows if "启动SOSO机器人" in r[2]]
    assert len(signed) >= 5 and len(ads) >= 5
    for pid, text, _ in signed + ads:
        assert "📣 关注本频道" not in text and "SOSO" not in text, pid
        assert text.strip(), pid
