"""The pages that decide a deletion (a post's embed) and a channel that cannot be read."""

from __future__ import annotations

import pytest

from archive.extract.embed import embed_url, is_embed_of, read_embed
from archive.extract.unreadable import preview_channel, unreadable_reason
from chanarchive.demo.site import (
    SampleChannel,
    SamplePost,
    render_channel_page,
    render_embed,
    render_tme_page,
)

# Telegram's embed of a deleted message, as t.me serves it (the error block).
NOT_FOUND = (
    b'<html><body class="widget_frame_base tgme_widget body_widget_post nodark">'
    b'<div class="tgme_widget_message_wrap js-widget_message_wrap">'
    b'<div class="tgme_widget_message_error">Post not found</div></div></body></html>'
)


def channel() -> SampleChannel:
    posts = [SamplePost(id=i, date="2026-11-01T08:00:00+00:00", text=f"第{i}条") for i in (1, 2)]
    return SampleChannel("news_cn", "城市新闻", "本地新闻", 1200, posts)


def test_embed_url_is_on_the_host_the_channel_is_crawled_from():
    assert embed_url("https://t.me/s/news_cn?before=40", "news_cn", 31) == (
        "https://t.me/news_cn/31?embed=1"
    )
    assert embed_url("http://127.0.0.1:8000/s/news_cn", "news_cn", "7") == (
        "http://127.0.0.1:8000/news_cn/7?embed=1"
    )


def test_the_error_block_confirms_and_the_message_keeps_the_post():
    assert read_embed(200, NOT_FOUND, "news_cn", 5) == ("deleted", "Post not found")
    alive = render_embed(channel(), 2).encode()
    assert read_embed(200, alive, "news_cn", 2).outcome == "alive"
    assert read_embed(200, alive, "NEWS_CN", "2").outcome == "alive"  # names are case-blind
    gone = channel()
    gone.delete(2)
    assert read_embed(200, render_embed(gone, 2).encode(), "news_cn", 2).outcome == "deleted"
    assert read_embed(200, render_embed(gone, 99).encode(), "news_cn", 99).outcome == "deleted"


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (503, b"<h1>503</h1>", "HTTP 503"),
        (404, b"<h1>Not Found</h1>", "HTTP 404"),  # a host without embeds decides nothing
        (302, b"", "HTTP 302"),
        (200, b"<html><p>hello</p></html>", "the embed shows neither the post nor an error"),
        (200, b"", "the embed is not a page"),
    ],
)
def test_anything_else_decides_nothing(status, body, reason):
    assert read_embed(status, body, "news_cn", 1) == ("failed", reason)


def test_the_embed_of_another_post_does_not_keep_this_one():
    other = render_embed(channel(), 1).encode()
    assert read_embed(200, other, "news_cn", 2).outcome == "failed"


def test_only_preview_pages_are_judged():
    assert preview_channel("https://t.me/s/Durov") == "durov"
    assert preview_channel("http://127.0.0.1:1/s/news_cn?before=20") == "news_cn"
    for url in ("https://t.me/durov", "https://example.com/s/a/b", "https://x.org/s/", "nope"):
        assert preview_channel(url) is None
        assert unreadable_reason(url, url, 404, b"") is None


def test_each_unreadable_answer_is_named():
    s = "https://t.me/s/news_cn"
    preview_off = render_tme_page("news_cn", channel()).encode()
    contact = render_tme_page("news_cn", None).encode()
    assert b"view and join" in preview_off and b"contact" in contact
    assert unreadable_reason(s, "https://t.me/news_cn", 200, preview_off) == (
        "web preview disabled: @news_cn (/s/news_cn redirects to /news_cn)"
    )
    assert unreadable_reason(s, "https://t.me/news_cn", 200, contact).startswith(
        "no such channel: @news_cn is no public channel"
    )
    assert unreadable_reason(s, s, 200, contact).startswith("no such channel")  # no redirect
    assert unreadable_reason(s, "https://t.me/", 200, b"<html>Telegram</html>") == (
        "no such channel: @news_cn (/s/news_cn redirects to the site's root)"
    )
    assert unreadable_reason(s, s, 404, b"") == "no such channel: @news_cn (HTTP 404)"
    assert unreadable_reason(s, s, 200, b"<html><h1>Back soon</h1></html>") == (
        "not a channel page: /s/news_cn answered without channel markup"
    )
    assert unreadable_reason(s, s, 503, b"") is None  # a failed fetch, not a verdict


def test_a_channel_page_is_readable_even_empty_or_throttled():
    s = "https://t.me/s/news_cn"
    full = render_channel_page(channel()).encode()
    throttled = render_channel_page(channel(), no_messages=True).encode()
    empty = render_channel_page(SampleChannel("news_cn", "城市新闻", "", 3, [])).encode()
    for body in (full, throttled, empty):
        assert unreadable_reason(s, s + "?before=9", 200, body) is None


def error_block(text: str) -> bytes:
    return NOT_FOUND.replace(b"Post not found", text.encode())


@pytest.mark.parametrize(
    "text", ["Post not found", "post not found", "  Post  not found. ", "POST NOT FOUND"]
)
def test_only_the_post_not_found_wording_confirms(text):
    assert read_embed(200, error_block(text), "news_cn", 5) == ("deleted", "Post not found")


@pytest.mark.parametrize(
    "text",
    ["Too many requests", "Channel not found", "Post not found, try again later",
     "Please wait", "", "Not found", "Post is not available in your country"],
)  # fmt: skip
def test_any_other_error_block_decides_nothing(text):
    answer = read_embed(200, error_block(text), "news_cn", 5)
    assert answer.outcome == "failed" and "not 'Post not found'" in answer.reason


def test_an_embed_showing_the_post_and_an_error_decides_nothing():
    both = render_embed(channel(), 2).replace(
        "</body>", '<div class="tgme_widget_message_error">Post not found</div></body>'
    )
    assert read_embed(200, both.encode(), "news_cn", 2).outcome == "failed"
    many = NOT_FOUND.replace(
        b"</div></div>",
        b'</div><div class="tgme_widget_message_error">Too many requests</div></div>',
    )
    assert read_embed(200, many, "news_cn", 5).outcome == "failed"


def test_an_answer_is_the_embed_of_its_post_only():
    assert is_embed_of("https://t.me/news_cn/5?embed=1", "news_cn", "5")
    assert is_embed_of("http://127.0.0.1:1/NEWS_CN/5/?embed=1", "news_cn", 5)
    assert not is_embed_of("https://t.me/news_cn/6?embed=1", "news_cn", "5")
    assert not is_embed_of("https://t.me/other/5?embed=1", "news_cn", "5")
    assert not is_embed_of("http://[::1/", "news_cn", "5")
