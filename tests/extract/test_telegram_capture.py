"""Complete capture (issue 11): reactions, placeholders, album items, every kind of message.

Real fragments come from ``../shared/realdata/telegram/`` (skipped when absent);
``tests/fixtures/telegram/capture_kinds.html`` is an invented page in t.me/s markup
with one message of each kind. The last tests check that the fast one-pass lookups
find what the XPath queries they replaced find.
"""

from __future__ import annotations

import json
from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from archive.extract import html as dom
from archive.extract import telegram
from archive.extract.telegram import PAID_REACTION, parse_telegram_page
from archive.models import Page, page_from_dict, to_dict
from tests.paths import FIXTURES
from tests.paths import real_telegram as real

URL = "https://t.me/s/harbour_notes"


@pytest.fixture(scope="module")
def kinds() -> dict[str, object]:
    page = parse_telegram_page((FIXTURES / "telegram" / "capture_kinds.html").read_bytes(), URL)
    assert page.errors == []
    return {post.post_id: post for post in page.posts}


# --------------------------------------------------------------------------- reactions


def test_reactions_emoji_custom_and_paid(kinds) -> None:
    assert kinds["101"].reactions == {
        PAID_REACTION: 37,
        "👍": 1200,
        "custom:5368324170671202286": 5,
        "❤": 12,
    }
    assert kinds["101"].raw_text == "Ferry timetable changes tonight.\nCheck the pier board."
    assert kinds["101"].views == 3100


def test_no_reactions_block_is_none_not_empty(kinds) -> None:
    assert kinds["102"].reactions is None
    wrapped = (
        '<div class="tgme_widget_message" data-post="harbour_notes/1">'
        '<div class="tgme_widget_message_reactions"></div></div>'
    )
    assert parse_telegram_page(wrapped, "u").posts[0].reactions == {}


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ('<span class="tgme_reaction"><i class="emoji"><b>😁</b></i>1,2K</span>', {"😁": 1200}),
        (
            '<span class="tgme_reaction"><tg-emoji emoji-id="77"></tg-emoji>55.2K</span>',
            {"custom:77": 55200},
        ),
        (
            '<span class="tgme_reaction tgme_reaction_paid"><i class="icon"></i>7.03K</span>',
            {PAID_REACTION: 7030},
        ),
        (
            '<span class="tgme_reaction"><i class="emoji"><b>👌</b></i>'
            '<span class="tgme_reaction_count">2M</span></span>',
            {"👌": 2_000_000},
        ),
        ('<span class="tgme_reaction"><img alt="🎉" src="x.png">9</span>', {"🎉": 9}),
        ('<span class="tgme_reaction"><i class="emoji"><b>🤔</b></i></span>', {}),  # no count
    ],
)
def test_reaction_markup_variants(span: str, expected: dict[str, int]) -> None:
    page = parse_telegram_page(
        '<div class="tgme_widget_message" data-post="harbour_notes/1">'
        f'<div class="tgme_widget_message_reactions js-message_reactions">{span}</div></div>',
        "u",
    )
    assert page.posts[0].reactions == expected


def test_reactions_of_a_quoted_reply_are_not_the_posts() -> None:
    page = parse_telegram_page(
        '<div class="tgme_widget_message" data-post="harbour_notes/2">'
        '<a class="tgme_widget_message_reply" href="https://t.me/harbour_notes/1">'
        '<div class="tgme_widget_message_reactions"><span class="tgme_reaction">'
        '<i class="emoji"><b>👍</b></i>3</span></div></a></div>',
        "u",
    )
    assert page.posts[0].reactions is None


def test_real_pages_without_reactions_have_none() -> None:
    page = parse_telegram_page(real("channel_page_ru.html"), "https://t.me/s/topwar_official")
    assert page.posts and all(post.reactions is None for post in page.posts)


def test_reactions_survive_the_json_round_trip(kinds) -> None:
    page = Page(url=URL, kind="telegram", page_type="channel", posts=[kinds["101"]])
    # as a worker hands it to the ingester over Redis (distributed mode): JSON text
    again = page_from_dict(json.loads(json.dumps(to_dict(page), ensure_ascii=False)))
    assert again.posts[0].reactions == kinds["101"].reactions
    assert again == page


# --------------------------------------------------------------------------- placeholders


def test_placeholder_is_an_unsupported_item_not_text(kinds) -> None:
    post = kinds["106"]
    assert post.raw_text == "" and post.html == ""
    assert post.media == [
        {
            "type": "unsupported",
            "url": "https://t.me/harbour_notes/106",
            "label": "Please open Telegram to view this post",
            "href": "https://t.me/harbour_notes/106?single",
        }
    ]
    # the same words written as the message's text are the placeholder too
    assert kinds["107"].raw_text == ""
    assert kinds["107"].media == [
        {
            "type": "unsupported",
            "url": "https://t.me/harbour_notes/107",
            "label": "Please open Telegram to view this post",
        }
    ]


def test_not_supported_fallback_beside_a_sticker_is_not_a_placeholder() -> None:
    page = parse_telegram_page(real("message_sticker.html"), "https://t.me/s/channel")
    assert [m["type"] for m in page.posts[0].media] == ["sticker"]


def test_video_not_supported_in_browser_stays_a_video() -> None:
    page = parse_telegram_page(real("channel_page_ru.html"), "https://t.me/s/topwar_official")
    types = {m["type"] for post in page.posts for m in post.media}
    assert "unsupported" not in types and "video" in types


# --------------------------------------------------------------------------- kinds of messages


def test_service_message_is_flagged(kinds) -> None:
    assert kinds["108"].service and kinds["108"].raw_text == "Channel photo updated"
    assert not any(kinds[i].service for i in ("101", "102", "106", "109"))


def test_voice_round_video_document_poll_link_preview(kinds) -> None:
    assert kinds["109"].media == [
        {
            "type": "voice",
            "url": "https://cdn.example.org/file/harbour-voice.ogg",
            "duration": "0:41",
        }
    ]
    assert kinds["110"].media == [
        {
            "type": "round_video",
            "url": "https://cdn.example.org/file/round.mp4",
            "thumb": "https://cdn.example.org/file/round-thumb.jpg",
            "duration": "0:09",
        }
    ]
    assert kinds["111"].media == [
        {
            "type": "document",
            "url": "https://t.me/harbour_notes/111",
            "title": "tide-tables-2025.pdf",
            "size": "340.5 KB",
        }
    ]
    assert kinds["111"].raw_text == "Tide tables for the year."
    poll = kinds["112"].media[0]
    assert (poll["type"], poll["question"], poll["voters"]) == (
        "poll",
        "Which ferry do you take?",
        1500,
    )
    assert poll["options"] == [
        {"text": "Morning", "percent": 64},
        {"text": "Evening", "percent": 36},
    ]
    assert kinds["112"].raw_text == ""
    assert kinds["113"].media == []
    assert kinds["113"].link_preview == {
        "url": "https://port.example.org/news/pier",
        "site": "Port News",
        "title": "The new pier opens",
        "description": "Ferries will dock at the new pier from Monday.",
        "image": "https://cdn.example.org/file/preview.jpg",
    }
    assert kinds["113"].raw_text == "Full story: port.example.org/news/pier"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("message_voice.html", "voice"),
        ("message_media_round_video.html", "round_video"),
        ("message_media_file.html", "document"),
        ("message_poll.html", "poll"),
    ],
)
def test_real_fragments_keep_their_kind(name: str, kind: str) -> None:
    page = parse_telegram_page(real(name), "https://t.me/s/x")
    assert [m["type"] for m in page.posts[0].media] == [kind]
    assert not page.posts[0].service


def test_real_link_preview_is_not_media() -> None:
    post = parse_telegram_page(real("message_link_preview.html"), "https://t.me/s/x").posts[0]
    assert post.link_preview is not None and post.link_preview["url"]
    assert post.raw_text and not post.service


# --------------------------------------------------------------------------- albums


def test_album_items_carry_their_own_ids(kinds) -> None:
    post = kinds["102"]
    assert [(m["type"], m["post_id"]) for m in post.media] == [
        ("photo", "102"),
        ("photo", "103"),
        ("video", "104"),
    ]
    assert post.raw_text == "Three views of the new pier."
    assert set(kinds) == {"101", "102", "106", "107", "108", "109", "110", "111", "112", "113"}


def test_real_album_items_carry_their_own_ids() -> None:
    post = parse_telegram_page(real("message_media_photo_and_video.html"), "u").posts[0]
    assert [m["post_id"] for m in post.media] == ["46908", "46909", "46910"]
    page = parse_telegram_page(real("channel_page_ru.html"), "https://t.me/s/topwar_official")
    album = next(p for p in page.posts if p.post_id == "70992")
    assert [m["post_id"] for m in album.media] == ["70992", "70993", "70994"]
    assert not {"70993", "70994"} & {p.post_id for p in page.posts}


def test_a_single_item_keeps_its_id_implicit() -> None:
    post = parse_telegram_page(real("message_media_forwarded_from.html"), "u").posts[0]
    assert post.media and all("post_id" not in m for m in post.media)


# --------------------------------------------------------------------------- fast lookups


_CLASSES = [
    "tgme_widget_message_text",
    "tgme_widget_message_views",
    "tgme_widget_message_date",
    "tgme_widget_message_reply",
    "tgme_widget_message_link_preview",
    "tgme_widget_message_poll",
    "tgme_widget_message_user",
    "tgme_widget_message_footer",
    "tgme_widget_message_reactions",
    "tgme_widget_message_service",
    "tgme_widget_message_service_date",
    "other",
]


@st.composite
def trees(draw, depth: int = 0) -> str:
    children = []
    for _ in range(draw(st.integers(0, 3 if depth < 4 else 0))):
        classes = draw(st.lists(st.sampled_from(_CLASSES), max_size=3))
        sep = draw(st.sampled_from([" ", "  ", "\t", "\n "]))
        tag = draw(st.sampled_from(["div", "a", "span"]))
        inner = draw(trees(depth + 1))
        children.append(f'<{tag} class="{sep.join(classes)}">x{inner}</{tag}>')
    return "".join(children)


def _reference_own(msg, cls: str):
    """The XPath lookup the one-pass index replaced."""
    for el in msg.xpath(f".//*[{dom.class_xpath(cls)}]"):
        if not dom.inside(el, msg, telegram._NOT_OWN):
            return el
    return None


@settings(max_examples=150, deadline=None)
@given(trees())
def test_one_pass_index_finds_what_xpath_finds(body: str) -> None:
    msg = etree.fromstring(f'<div class="tgme_widget_message">{body}</div>', etree.HTMLParser())
    msg = msg.find(".//div")
    index = telegram._Index(msg)
    for cls in telegram._INDEXED:
        assert index.all(cls) == msg.xpath(f".//*[{dom.class_xpath(cls)}]")
        assert index.own(cls) is _reference_own(msg, cls)
    service = msg.xpath(
        ".//*[contains(@class, 'tgme_widget_message_service')"
        " and not(contains(@class, 'service_date')) and not(contains(@class, 'service_photo'))]"
    )
    assert index.service is (service[0] if service else None)


_URL_PART = st.text(alphabet="abz09-._~%/?#;:[]@!$&'()*+,= \t", max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["http://", "https://", "https:///", "//", "/", ""]), _URL_PART, _URL_PART)
def test_absolute_url_shortcut_matches_urljoin(scheme: str, host: str, rest: str) -> None:
    href = (scheme + host + rest).strip()
    base = "https://t.me/s/harbour_notes"
    try:
        expected = "https:" + href if href.startswith("//") else urljoin(base, href)
    except ValueError:
        expected = href
    assert telegram._abs(href, base) == (expected if href else None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\n\r\u00a0\u2009ab中&<>", max_size=20))
def test_leaf_text_shortcut_matches_the_full_walk(text: str) -> None:
    leaf = etree.Element("div")
    leaf.text = text
    wrapper = etree.Element("div")
    etree.SubElement(wrapper, "span").text = text  # a child: the full walk renders it
    assert dom.inner_text(leaf) == dom.inner_text(wrapper)
