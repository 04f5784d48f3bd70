"""Which media files ``--media photos`` and ``--media all`` fetch, on real t.me markup."""

from __future__ import annotations

import pytest

from archive.extract.telegram import parse_telegram_page
from archive.models import Post
from crawler.plans.media import post_media_urls
from tests.extract.test_telegram import real, wrapped


def slots(post: Post, mode: str) -> list[str]:
    return [slot for slot, _url in post_media_urls(post, mode)]


def only_post(name: str, fragment: bool = False) -> Post:
    body = real(name)
    page = parse_telegram_page(wrapped(body) if fragment else body, "https://t.me/s/x")
    [post] = page.posts
    return post


@pytest.mark.parametrize(
    ("name", "fragment", "photos", "everything"),
    [
        ("media_photo.html", True, ["0"], ["0"]),
        ("media_video.html", True, ["0/thumb"], ["0", "0/thumb"]),
        ("media_video_gif.html", True, ["0/thumb"], ["0", "0/thumb"]),
        ("media_cicrle_video.html", True, ["0/thumb"], ["0", "0/thumb"]),
        # too big for the preview: its "file" is a t.me page, never fetched
        ("media_video_too_big.html", True, ["0/thumb"], ["0/thumb"]),
        ("link_preview.html", True, ["preview"], ["preview"]),
        ("message_media_photo_and_video.html", False, ["0/thumb", "1", "2"],
         ["0", "0/thumb", "1", "2"]),
        ("message_voice.html", False, [], ["0"]),
        ("message_sticker.html", False, [], ["0"]),
        ("message_media_file.html", False, [], []),  # a document links to t.me only
        ("message_poll.html", False, [], []),
        ("message_link_preview_text_only.html", False, [], []),
    ],
)  # fmt: skip
def test_media_modes_pick_their_files(name, fragment, photos, everything):
    post = only_post(name, fragment)
    assert slots(post, "photos") == photos
    assert slots(post, "all") == everything
    assert slots(post, "none") == []
    for _slot, url in post_media_urls(post, "all"):
        assert url.startswith("https://") and "//t.me/" not in url
