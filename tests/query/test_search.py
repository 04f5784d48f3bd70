"""``chanarchive search``: current clean texts, best first, highlighted; Chinese substrings work."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive import store
from archive.errors import BadInput
from archive.models import Capture, ChannelInfo, Page, Post
from archive.query.search import make_snippet, match_condition, search_posts, split_terms
from archive.store import connect_readonly, open_archive
from chanarchive.cli import cli
from tests.sample_archive import build_sample_archive


@pytest.fixture
def sample(tmp_path):
    return build_sample_archive(tmp_path / "archive.db")


@pytest.fixture
def conn(sample):
    connection = connect_readonly(sample)
    yield connection
    connection.close()


def _archive_of(path, texts: dict[str, str]):
    db = open_archive(path)
    posts = [
        Post(channel="ranked", post_id=pid, url=f"https://t.me/ranked/{pid}",
             source_url="https://t.me/s/ranked", raw_text=text, text=text,
             published_at=f"2026-11-{10 + int(pid):02d}T08:00:00+00:00")
        for pid, text in texts.items()
    ]  # fmt: skip
    page = Page(url="https://t.me/s/ranked", kind="telegram", page_type="channel",
                channel=ChannelInfo(name="ranked"), posts=posts)  # fmt: skip
    capture = Capture(url=page.url, fetched_at="2026-11-26T10:00:00.000000+00:00", status=200,
                      body=b"x")  # fmt: skip
    store.ingest_page(db, None, capture, page)
    db.close()
    return connect_readonly(path)


def test_chinese_phrase_is_found_with_a_highlighted_snippet(conn):
    hits = search_posts(conn, "南湖隧道")
    assert [h.ref for h in hits] == ["news_cn/7"]
    assert hits[0].snippet.startswith("[南湖隧道]今晨已恢复双向通行")
    assert hits[0].url == "https://t.me/news_cn/7"


def test_two_character_term_falls_back_to_substring_and_searches_current_text_only(conn):
    # 地铁 is in post 6, and was in post 3 before its edit to 轻轨: only post 6 matches now.
    hits = search_posts(conn, "地铁")
    assert [h.ref for h in hits] == ["news_cn/6"]
    assert "[地铁]二号线" in hits[0].snippet
    assert [h.ref for h in search_posts(conn, "轻轨")] == ["news_cn/3"]


def test_every_term_must_occur_and_channel_filters(conn):
    assert [h.ref for h in search_posts(conn, "南湖 体育中心")] == ["news_cn/2"]
    assert {h.ref for h in search_posts(conn, "交通")} == {"mirror_blog/hello-world"}
    assert search_posts(conn, "交通", channel="news_cn") == []
    assert [h.ref for h in search_posts(conn, "镜像站", channel="@Mirror_Blog")] == [
        "mirror_blog/hello-world"
    ]


def test_deleted_posts_are_found_and_marked(conn):
    hits = search_posts(conn, "黑色钱包")
    assert [h.ref for h in hits] == ["news_cn/5"] and hits[0].deleted_at is not None


def test_latin_text_is_case_insensitive(conn):
    assert [h.ref for h in search_posts(conn, "WEATHER")] == ["news_cn/6"]
    assert [h.ref for h in search_posts(conn, "18°c")] == ["news_cn/6"]


@pytest.mark.parametrize(
    "text", ['"', "AND OR NOT", "*", "a:b", "(", "NEAR(x y)", "-地铁", "%", "_"]
)
def test_fts_syntax_is_searched_for_not_interpreted(conn, text):
    assert search_posts(conn, text) == []


def test_short_terms_rank_by_density(tmp_path):
    conn = _archive_of(
        tmp_path / "ranked.db",
        {
            "1": "今天天气不错，" + "市民出行方便。" * 10 + "地铁正常。",
            "2": "地铁地铁地铁：地铁三号线开通。",
            "3": "地铁票价调整。" + "其他新闻。" * 5,
        },
    )
    assert [h.post_id for h in search_posts(conn, "地铁")] == ["2", "3", "1"]
    conn.close()


def test_long_terms_rank_by_bm25(tmp_path):
    conn = _archive_of(
        tmp_path / "ranked.db",
        {
            "1": "南湖隧道今天开放。" + "其他新闻，与此无关。" * 20,
            "2": "南湖隧道，南湖隧道，南湖隧道：三次提到。",
        },
    )
    hits = search_posts(conn, "南湖隧道", limit=1)
    assert [h.post_id for h in hits] == ["2"]
    conn.close()


def test_snippet_is_cut_around_the_first_match_and_never_splits_it():
    text = "前文" * 100 + "地铁三号线" + "后文" * 100
    snippet = make_snippet(text, ["地铁三号线"], width=30)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "[地铁三号线]" in snippet
    assert make_snippet("a\nb  c", ["b"]) == "a [b] c"
    assert split_terms('南湖 "滨江 公园"  x') == ["南湖", "滨江 公园", "x"]


def test_empty_query_and_bad_limit_are_refused(conn):
    with pytest.raises(BadInput):
        search_posts(conn, "   ")
    with pytest.raises(BadInput):
        search_posts(conn, "x", limit=0)


def test_search_command(sample):
    run = CliRunner().invoke
    text = run(cli, ["--db", str(sample), "search", "南湖"])
    assert text.exit_code == 0
    lines = text.output.splitlines()
    assert {lines[0].split()[0], lines[2].split()[0]} == {"news_cn/7", "news_cn/2"}
    assert "[南湖]" in lines[1]
    as_json = run(cli, ["--db", str(sample), "search", "南湖", "--limit", "1", "--format", "json"])
    [hit] = json.loads(as_json.output)
    assert set(hit) >= {"channel", "post_id", "url", "snippet", "published_at", "deleted_at"}
    empty = run(cli, ["--db", str(sample), "search", ""])
    assert empty.exit_code == 2


@pytest.mark.parametrize(
    "query",
    [
        "地铁",
        "铁",
        "轻轨",
        "南湖隧道",
        "Weather",
        "sunny 地铁",
        '"二号线每四分钟"',
        "。",
        "18",
        "nothing",
    ],
)
def test_the_condition_holds_for_exactly_the_posts_search_ranks(sample, query):
    """What Datasette's search box runs (match_condition) finds what search_posts ranks."""
    conn = connect_readonly(sample)
    try:
        condition, params = match_condition(conn, query, name="q")
        found = {row[0] for row in conn.execute(f"SELECT id FROM posts WHERE {condition}", params)}
        ranked = search_posts(conn, query, limit=1000)
        expected = {
            conn.execute(
                "SELECT p.id FROM posts p JOIN channels ch ON ch.id = p.channel_id"
                " WHERE ch.name = ? AND p.post_id = ?",
                [hit.channel, hit.post_id],
            ).fetchone()[0]
            for hit in ranked
        }
        assert found == expected
        with pytest.raises(BadInput):
            match_condition(conn, "   ")
    finally:
        conn.close()
