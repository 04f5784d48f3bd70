"""A web post's identity comes from its page or its URL, never from the order of cards."""

from __future__ import annotations

import pytest

from archive.clean.options import default_options
from archive.extract import extract_page, gone_page, web_post_id
from archive.extract.web import url_post_id
from archive.models import PAGE_GONE, PAGE_LISTING


@pytest.mark.parametrize(
    ("url", "post_id"),
    [
        ("http://m.test/post/123", "123"),
        ("http://m.test/p/77.html", "77"),
        ("http://m.test/view?id=42&lang=zh", "42"),
        ("http://m.test/linjiang_news/512", "linjiang_news/512"),
        ("http://m.test/archives/9/", "9"),
        ("http://m.test/2023/02/18/", None),
        ("http://m.test/channel/linjiang_news", None),
        ("http://m.test/tag/12", None),
        ("http://m.test/page/2", None),
        ("http://m.test/2019/", None),
    ],
)
def test_stable_ids_in_urls(url, post_id):
    assert url_post_id(url, default_options()) == post_id


def test_a_url_without_an_id_gets_a_stable_hash():
    assert web_post_id("http://m.test/a-story.html#top") == web_post_id(
        "http://m.test/a-story.html"
    )
    assert len(web_post_id("http://m.test/a-story.html")) == 16


def card(post_id: str, text: str) -> str:
    return (
        f'<div class="msg" data-post="{post_id}"><div class="text">{text}</div>'
        f'<a href="/{post_id}">{post_id}</a></div>'
    )


def test_data_post_cards_keep_their_ids_whatever_their_order():
    one = card("riverside_daily/7", "The ferry runs every twenty minutes this weekend.")
    two = card("riverside_daily/9", "The museum opens late on Friday for the festival.")
    pages = [
        extract_page(f"<html><body>{a}{b}</body></html>".encode(), "http://m.test/riverside_daily")
        for a, b in [(one, two), (two, one)]
    ]
    assert all(page.page_type == PAGE_LISTING for page in pages)
    ids = [{p.post_id: p.text for p in page.posts} for page in pages]
    assert ids[0] == ids[1]
    assert ids[0]["riverside_daily/9"] == "The museum opens late on Friday for the festival."


def test_canonical_link_names_the_post():
    html = (
        '<html><head><link rel="canonical" href="http://m.test/post/88"><title>A - M</title>'
        "</head><body><h1>A</h1><p>The only paragraph of the post, long enough to be one.</p>"
        "</body></html>"
    )
    (post,) = extract_page(html.encode(), "http://m.test/view.php?slug=a").posts
    assert post.post_id == "88"


def test_gone_page_names_the_post_to_mark_deleted():
    page = gone_page("http://m.test/post/5")
    assert page.page_type == PAGE_GONE and page.posts[0].post_id == "5"
    assert page.channel.name == "m.test"
    assert gone_page("http://m.test/x", post_id="abc").posts[0].post_id == "abc"
