"""Golden tests: mirror pages in three layouts give the post, only the post, all of it.

The pages are our own (``tests/fixtures/mirror``); ``expected.json`` holds each
page's exact clean text, the sentences of other posts and the boilerplate
that must not appear, and what the raw text keeps.
"""

from __future__ import annotations

import json
import shutil

import pytest

from archive.extract import extract_page, extract_pages
from archive.models import PAGE_LISTING, PAGE_POST
from tests.helpers import run
from tests.paths import FIXTURES as FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "mirror"
EXPECTED = {
    k: v
    for k, v in json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8")).items()
    if not k.startswith("_")
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_post_page_gives_only_the_post_and_all_of_it(name):
    expected = EXPECTED[name]
    page = extract_page((FIXTURES / name).read_bytes(), f"http://127.0.0.1:8000/s/{name}")
    assert page.page_type == PAGE_POST
    (post,) = page.posts
    assert post.text == expected["text"]
    assert post.title == expected["title"]
    assert post.published_at == expected["published_at"]
    if "post_id" in expected:
        assert post.post_id == expected["post_id"]
    for sentence in expected["others"] + expected["boilerplate"]:
        assert sentence not in post.text
    for line in expected["raw_keeps"]:
        assert line in post.raw_text.split("\n")
    for sentence in expected["others"]:
        assert sentence not in post.raw_text  # related posts are never part of a post


def test_gbk_page_without_or_with_a_wrong_charset_decodes_without_mojibake(make_site, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    shutil.copy(FIXTURES / "gbk_post.html", static / "post.html")
    site = make_site(static=static)
    expected = EXPECTED["gbk_post.html"]["text"]
    for query in ("", "?charset=utf-8", "?charset=iso-8859-1"):
        result = run(None, "extract", f"{site.url}/static/post.html{query}", "--format", "json")
        assert result.exit_code == 0, result.output
        (record,) = json.loads(result.output)
        assert record["text"] == expected
        assert record["title"] == EXPECTED["gbk_post.html"]["title"]


def test_listing_page_gives_one_excerpt_card_per_post_with_ids_from_the_urls():
    body = (FIXTURES / "site" / "channel" / "index.html").read_bytes()
    page = extract_page(body, "http://mirror.test/site/channel/")
    assert page.page_type == PAGE_LISTING
    assert [p.post_id for p in page.posts] == ["104", "103", "102", "101"]
    card = page.posts[-1]
    assert card.excerpt and card.url == "http://mirror.test/site/post/101.html"
    assert card.title == "青石桥夜市冬季营业时间调整"
    assert card.text == "【夜市】青石桥夜市本周五起冬季营业时间调整为17:00至23:00。"
    assert card.published_at == "2023-02-10T18:20:00+00:00"
    assert "下一页" not in card.raw_text and "©" not in card.raw_text
    assert "http://mirror.test/site/post/101.html" in page.links


def test_related_cards_are_links_to_follow_not_content():
    body = (FIXTURES / "site" / "post" / "101.html").read_bytes()
    page = extract_page(body, "http://mirror.test/site/post/101.html")
    (post,) = page.posts
    assert post.post_id == "101"
    assert "南湖隧道" not in post.raw_text
    assert {
        "http://mirror.test/site/post/102.html",
        "http://mirror.test/site/post/103.html",
    } <= set(page.links)
    assert any(rule.startswith("related-block (相关推荐)") for rule, _ in page.removed)


def test_article_page_yields_one_post_its_main_text():
    paragraphs = "".join(
        f"<p>Paragraph {i} of the article says something long enough to be real text.</p>"
        for i in range(8)
    )
    links = "".join(f'<li><a href="/post/{i}">Other story {i}</a></li>' for i in range(6))
    html = (
        "<html><head><title>An article - Site</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>An article</h1>{paragraphs}</article>"
        f"<aside><h2>Related posts</h2><ul>{links}</ul></aside></body></html>"
    )
    page = extract_page(html.encode(), "http://news.test/2026/article.html")
    assert page.page_type == PAGE_POST
    (post,) = page.posts
    assert post.text.count("Paragraph") == 8 and "Other story" not in post.text


def test_explain_names_the_rule_behind_each_removal():
    result = run(None, "extract", str(FIXTURES / "flat_post.html"), "--explain")
    assert result.exit_code == 0
    out = result.output
    assert "[explain]   related-block (相关推荐): 今晨江北大桥因雾封闭两小时" in out
    assert "[explain]   before-title: 频道列表" in out
    assert "[explain]   cover-label: 封面图片" in out
    assert "[explain]   bot-ad: 🔍 发送关键词来寻找群组、频道或视频。" in out
    assert out.index("# 地铁3号线南延段今日起空载试运行") < out.index("[explain]   cover-label")


def test_explain_with_json_keeps_stdout_records_only():
    result = run(None, "extract", str(FIXTURES / "en_post.html"), "--format", "json", "--explain")
    assert result.exit_code == 0
    (record,) = json.loads(result.stdout)
    assert record["text"] == EXPECTED["en_post.html"]["text"]
    assert "[explain]   join-ad: Join our channel" in result.stderr


def test_boilerplate_learned_across_the_pages_given_to_extract():
    pages = [
        (
            (
                f"<html><head><title>Post {i} - Mirror</title></head><body><div>Post {i}</div>"
                f"<div>Line one of post {i}, which is about the river festival.</div>"
                f"<div>Line two of post {i}, with the schedule for the weekend.</div>"
                "<div>Mirrored by Example Mirror for your convenience</div></body></html>"
            ).encode(),
            f"http://mirror.test/post/{i}",
            None,
        )
        for i in range(1, 5)
    ]
    posts = [post for page in extract_pages(pages) for post in page.posts]
    assert len(posts) == 4
    for post in posts:
        assert "Mirrored by Example Mirror" in post.raw_text
        assert "Mirrored by Example Mirror" not in post.text
        assert post.removed[-1][0] == "learned: recurring line (seen in 4 posts)"
