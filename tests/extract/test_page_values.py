"""A page's values are checked where a page becomes a Page, never trusted (issue 19).

Unit cases for each check of :mod:`archive.extract.values`, the real pages
unchanged by them, and hypothesis fuzzing over the values of Telegram
markup rendered as ``chanarchive/demo/site.py`` renders it (dates, counts,
URLs, post ids, channel names) and of mirror listings: the extracted page
and the archive written from it hold only checked values, and nothing
raises.
"""

from __future__ import annotations

import html
import json
import os
import re
from datetime import UTC
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive import store
from archive.errors import NotAPage
from archive.extract import extract_page
from archive.extract.telegram import is_telegram_markup, parse_telegram_page
from archive.extract.values import (
    MAX_COUNT,
    check_page,
    count,
    crawled_from,
    http_url,
    percent,
    post_time,
    telegram_post_url,
)
from archive.models import Capture, ChannelInfo, Page, Post, to_record
from archive.source import is_channel_name
from archive.times import to_datetime
from chanarchive.demo.site import SampleChannel, SamplePost, render_channel_page
from tests.hostile import channel_page, message, scheme_message
from tests.paths import REAL_TELEGRAM as REALDATA

EXAMPLES = int(os.environ.get("CHANARCHIVE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
WHEN = "2026-11-27T09:00:00+00:00"


# --------------------------------------------------------------------------- single values


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (12345, 12345), (MAX_COUNT - 1, MAX_COUNT - 1), (MAX_COUNT, None), (-5, None),
     (10**30, None), (True, None), (1.5, None), ("12", None), (None, None)],
)  # fmt: skip
def test_counts(value, expected):
    assert count(value) == expected


def test_percent_is_zero_to_hundred():
    assert [percent(v) for v in (0, 42, 100, 101, -1, None)] == [0, 42, 100, None, None, None]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-01T09:00:00+00:00", "2026-01-01T09:00:00+00:00"),
        ("2026-01-01T09:00:00Z", "2026-01-01T09:00:00Z"),
        ("2026-01-01T09:00:00", "2026-01-01T09:00:00+00:00"),  # no offset: UTC, said
        ("1970-01-01T00:00:00+00:00", "1970-01-01T00:00:00+00:00"),
        ("2100-12-31T23:59:59+00:00", "2100-12-31T23:59:59+00:00"),
        ("1969-12-31T23:59:59+00:00", None),
        ("1970-01-01T00:30:00+01:00", None),  # 1969 in UTC
        ("2101-01-01T00:00:00+00:00", None),
        ("0001-01-01", None),
        ("9999-12-31T23:59:59-23:59", None),
        ("99999-99-99T99:99", None),
        ("garbage", None),
        ("", None),
        (None, None),
        (20260101, None),
        ("2026-01-01T09:00:00+00:00" + " " * 100, None),
    ],
)
def test_post_times_between_1970_and_2100(value, expected):
    assert post_time(value) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://t.me/x/1",
        "http://127.0.0.1:8000/a?b=c#d",
        "https://例子.测试/路径",
        "HTTPS://Example.com/",
    ],
)
def test_http_urls_are_kept(url):
    assert http_url(url) == (url if not url.startswith("HTTPS") else "https://Example.com/")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(10)",
        " javascript:alert(10)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "tg://resolve?domain=x",
        "mailto:a@b.example",
        "ftp://example.com/x",
        "//example.com/x",
        "/relative/path",
        "https://",
        "https:///no-host",
        "https://user:pw@example.com/",
        "https://t.me@evil.example/x",
        "https://example.com/\nSet-Cookie: x",
        "https://example.com/\u202eevil",
        "http://[::1/",
        "http://example.com:99999/",
        "https://example.com/" + "a" * 9000,
        "",
        None,
        42,
    ],
)
def test_anything_but_http_urls_is_dropped(url):
    assert http_url(url) is None


def test_urls_on_a_host():
    assert http_url("https://Mirror.example./p/1", host="mirror.example")
    assert http_url("https://other.example/p/1", host="mirror.example") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://t.me/Durov/5", "https://t.me/Durov/5"),
        ("https://t.me/durov/5", "https://t.me/durov/5"),
        ("javascript:alert(10)", "https://t.me/durov/5"),
        ("https://t.me/victim/5", "https://t.me/durov/5"),
        ("https://t.me/durov/6", "https://t.me/durov/5"),
        ("https://evil.example/durov/5", "https://t.me/durov/5"),
        ("https://t.me/durov/5?single", "https://t.me/durov/5"),
        ("http://t.me/durov/5", "https://t.me/durov/5"),
        (None, "https://t.me/durov/5"),
    ],
)
def test_a_telegram_posts_url_is_its_own(url, expected):
    assert telegram_post_url(url, "durov", "5") == expected


def test_where_a_channel_was_crawled_from():
    assert crawled_from("telegram", "durov", "https://t.me/s/Durov?before=9") == (
        "https://t.me/s/durov"
    )
    assert crawled_from("telegram", "durov", "http://127.0.0.1:81/s/durov/") == (
        "http://127.0.0.1:81/s/durov"
    )
    assert crawled_from("telegram", "victim", "http://evil.example/hostile/claim?x=1") == (
        "http://evil.example/hostile/claim"
    )
    assert crawled_from("web", "m.example", "https://m.example/post/1?a=b") == "https://m.example/"
    assert crawled_from("telegram", "durov", "saved/page.html") is None


# --------------------------------------------------------------------------- pages


def tg_page(messages: list[str], *, username: str | None = "evil_chan", **kwargs) -> bytes:
    return channel_page(username, messages, **kwargs).encode()


def test_a_page_asked_for_one_channel_keeps_only_its_posts():
    body = tg_page(
        [message("attacker/1", "own"), message("victim/5", "POISON"), message("VICTIM/6", "P")],
        username="attacker",
    )
    for url, channel in (
        ("https://t.me/s/attacker", "attacker"),
        ("http://127.0.0.1:9/s/attacker", None),  # asked at /s/attacker: attacker's page
        ("http://127.0.0.1:9/s/Attacker?before=7", None),
    ):
        page = extract_page(body, url, channel=channel)
        assert page.channel.name == "attacker"
        assert [(p.channel, p.post_id) for p in page.posts] == [("attacker", "1")]
        assert sum("another channel" in e for e in page.errors) == 2


@pytest.mark.parametrize(
    ("username", "data_post"),
    [
        (None, "victim/5"),  # no header: the first message would have named the channel
        ("victim", "victim/5"),  # the header claims the victim
        ("victim", "VICTIM/5"),
        ("victim", " victim/5 "),
        ("victim", "victim/05"),
        ("victim", "victim/5/"),
        ("victim", "victim//5"),
        ("victim", "victim/ 5"),
        ("victim", "victim/٥"),
    ],
)
def test_a_page_at_s_attacker_never_yields_the_victims_posts(username, data_post):
    page = extract_page(
        tg_page([message(data_post, "POISON")], username=username), "http://h/s/attacker"
    )
    assert page.channel is not None and page.channel.name == "attacker"
    assert page.posts == [] and page.errors


def test_header_names_the_channel_of_a_page_asked_for_no_channel():
    page = extract_page(tg_page([message("evil_chan/1", "x")]), "http://h/hostile/claim")
    assert page.channel.name == "evil_chan" and [p.post_id for p in page.posts] == ["1"]


def test_only_http_urls_leave_a_telegram_page():
    extra = '<i class="tgme_page_photo_image"><img src="javascript:alert(7)"></i>'
    body = channel_page("evil_chan", [scheme_message("evil_chan/1")])
    body = body.replace(
        '<div class="tgme_channel_info_header">', '<div class="tgme_channel_info_header">' + extra
    )
    page = extract_page(body.encode(), "http://127.0.0.1:9/s/evil_chan?before=2")
    (post,) = page.posts
    assert post.url == "https://t.me/evil_chan/1"
    assert post.source_url == "http://127.0.0.1:9/s/evil_chan?before=2"
    assert post.links == ["https://ok.example/page"]
    assert post.reply_to is None
    assert post.forwarded_from == {"name": "src", "url": None}
    assert post.link_preview["url"] is None and post.link_preview["image"] is None
    assert [m["type"] for m in post.media] == ["photo", "video"]
    assert all(m["url"] is None and "href" not in m and "thumb" not in m for m in post.media)
    assert page.channel.image is None
    assert page.channel.source_url == "http://127.0.0.1:9/s/evil_chan"
    assert not any(u for u in urls_of(page) if not u.startswith(("http://", "https://")))


def test_dates_and_counts_out_of_range_are_dropped_and_the_posts_kept():
    views = ["1e309K", "-5", "NaN", "1" + "0" * 30, "inf", "−5", "5 views 6", "12 345", "1.2K"]
    dates = ["1969-12-31T23:59:59+00:00", "2101-01-01T00:00:00Z", "0001-01-01", "garbage",
             "2026-01-01T09:00:00", "9999-12-31T23:59:59-23:59", WHEN, WHEN, WHEN]  # fmt: skip
    messages = [
        message(f"evil_chan/{i}", f"post {i}", views=v, date=d)
        for i, (v, d) in enumerate(zip(views, dates, strict=True), start=1)
    ]
    page = extract_page(tg_page(messages, subscribers="1e309K"), "https://t.me/s/evil_chan")
    assert [p.views for p in page.posts] == [None] * 7 + [12345, 1200]
    assert [p.published_at for p in page.posts] == [None] * 4 + [
        "2026-01-01T09:00:00+00:00",
        None,
        WHEN,
        WHEN,
        WHEN,
    ]
    assert page.channel.subscribers is None and not page.errors


def test_reactions_with_no_sane_count_are_left_out():
    msg = message("evil_chan/1", "x").replace(
        '<div class="tgme_widget_message_footer',
        '<div class="tgme_widget_message_reactions">'
        '<span class="tgme_reaction"><i class="emoji"><b>👍</b></i>12</span>'
        '<span class="tgme_reaction"><i class="emoji"><b>🔥</b></i>-5</span>'
        '<span class="tgme_reaction"><i class="emoji"><b>❤</b></i>1e309K</span>'
        f'<span class="tgme_reaction"><i class="emoji"><b>{"😀" * 80}</b></i>3</span>'
        '<span class="tgme_reaction"><i class="emoji"><b>🎉</b></i>' + "9" * 40 + "</span>"
        '</div><div class="tgme_widget_message_footer',
    )
    (post,) = extract_page(tg_page([msg]), "https://t.me/s/evil_chan").posts
    assert post.reactions == {"👍": 12}


def test_paging_cursors_are_message_ids():
    more = '<a class="tme_messages_more" data-before="{}"></a>'
    for value, expected in (("70", 70), ("-5", None), ("0", None), (str(2**63), None)):
        body = tg_page([message("evil_chan/80", "x")], extra=more.format(value))
        assert extract_page(body, "https://t.me/s/evil_chan").older == expected


def test_web_posts_point_at_their_own_host():
    cards = "".join(
        f'<div class="card" data-post="{i}"><h3>Card {i}</h3><p>Some words of card {i} that make'
        f' it a card of the listing.</p><a href="{href}">read</a></div>'
        for i, href in enumerate(
            ["https://other.example/post/1", "javascript:alert(1)", "/post/3", "data:,x"], start=1
        )
    )
    body = f"<html><head><title>Mirror</title></head><body>{cards}</body></html>".encode()
    page = extract_page(body, "https://mirror.example/list")
    assert page.page_type == "listing" and len(page.posts) == 4
    urls = {p.post_id: p.url for p in page.posts}
    assert urls["3"] == "https://mirror.example/post/3"
    assert {urls["1"], urls["2"], urls["4"]} == {"https://mirror.example/list"}
    assert page.channel.source_url == "https://mirror.example/"


def test_a_post_of_another_channel_or_without_an_id_is_left_out_of_any_page():
    page = Page(
        url="https://m.example/list",
        kind="web",
        page_type="listing",
        channel=ChannelInfo(name="m.example", kind="web"),
        posts=[
            Post(channel="m.example", post_id="1", url="https://m.example/1", source_url="x"),
            Post(channel="victim", post_id="2", url="https://m.example/2", source_url="x"),
            Post(channel="m.example", post_id="a\nb", url="https://m.example/3", source_url="x"),
            Post(channel="m.example", post_id="", url="https://m.example/4", source_url="x"),
            Post(channel="m.example", post_id="x" * 201, url="https://m.example/5", source_url="x"),
        ],
    )
    check_page(page)
    assert [p.post_id for p in page.posts] == ["1"] and len(page.errors) == 4
    assert page.posts[0].source_url == "https://m.example/list"


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "Victim", "x", "", "con.txt/"])
def test_a_page_naming_no_usable_channel_keeps_no_post(name):
    page = Page(
        url="https://t.me/s/whatever",
        kind="telegram",
        page_type="channel",
        channel=ChannelInfo(name=name),
        posts=[Post(channel=name, post_id="1", url="u", source_url="u")],
    )
    check_page(page)
    assert page.channel is None and page.posts == [] and page.errors


# --------------------------------------------------------------------------- real pages


def real_pages() -> list[Path]:
    """The real channel pages and messages (the inner blocks alone are not channel pages)."""
    found = sorted(REALDATA.glob("*.html")) if REALDATA.is_dir() else []
    return [path for path in found if is_telegram_markup(path.read_bytes())]


@pytest.mark.skipif(not real_pages(), reason="../shared/realdata is absent")
@pytest.mark.parametrize("path", real_pages(), ids=lambda p: p.name)
def test_the_checks_change_nothing_on_real_pages(path):
    body = path.read_bytes()
    probe = parse_telegram_page(body, "https://t.me/x")
    name = probe.channel.name if probe.channel else "x"
    url = f"https://t.me/s/{name}?before=99999"
    parsed = parse_telegram_page(body, url)
    checked = extract_page(body, url)
    assert checked.errors == parsed.errors
    assert [_bare(p) for p in checked.posts] == [_bare(p) for p in parsed.posts]
    if parsed.channel is not None:
        assert to_record(checked.channel) == to_record(parsed.channel)


def _bare(post: Post) -> dict:
    record = to_record(post)
    del record["text"], record["removed"]  # cleaning, not checking
    return record


# --------------------------------------------------------------------------- fuzzing

_ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
_URLS = st.one_of(
    st.sampled_from(
        [
            "https://cdn.example/a.jpg",
            "javascript:alert(10)",
            "JAVASCRIPT:alert(1)",
            "data:image/png;base64,AAAA",
            "file:///etc/passwd",
            "tg://resolve?domain=x",
            "//evil.example/x",
            "https://user:pw@evil.example/x",
            "http://127.0.0.1:1/x",
            "https://t.me/victim/5",
            "/relative",
            "",
        ]
    ),
    st.builds(lambda s, rest: f"{s}:{rest}", st.sampled_from(["http", "https", "ftp", "x"]), _ANY),
    _ANY,
)
_DATES = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["1969-12-31T23:59:59+00:00", "2101-01-01T00:00:00Z", "0001-01-01", ""]),
    _ANY,
)
_COUNTS = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from(["1e309K", "-5", "NaN", "inf", "1.2K", "14.9K", "1,5M", "12 345", "9" * 60]),
    _ANY,
)
_NAMES = st.one_of(
    st.sampled_from(["fuzz_chan", "FUZZ_CHAN", "victim_news", "../x", "a/b", "s", ""]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{2,12}", fullmatch=True),
    _ANY,
)
_IDS = st.one_of(
    st.integers(-5, 2**70).map(str),
    st.sampled_from(["05", "٥", "1/2", " 7 ", "", "²"]),
    _ANY,
)


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


@st.composite
def telegram_markup(draw) -> tuple[str, str]:
    """A channel page rendered by the demo site, its values then replaced by fuzzed ones."""
    name = "fuzz_chan"
    post = SamplePost(
        id=4242,
        date="2031-03-03T03:03:03+00:00",
        text="fuzzed post https://ok.example/x",
        views=777,
        photos=[draw(_URLS)],
        video=(draw(_URLS), draw(_URLS)),
        forwarded_from={"name": "src", "url": draw(_URLS)},
        link_preview={"url": draw(_URLS), "site": "s", "title": "t", "image": draw(_URLS)},
        reactions={"👍": 5},
        reply_to=1,
    )
    first = SamplePost(id=1, date="2030-01-01T00:00:00+00:00", text="first", views=1)
    channel = SampleChannel(name, "Fuzz", "d", 31337, [first, post], photo=draw(_URLS))
    text = render_channel_page(channel)
    owner = draw(st.one_of(st.sampled_from([name, name.upper()]), _NAMES))
    number = draw(st.one_of(st.integers(1, 2**63).map(str), _IDS))
    esc = lambda v: html.escape(v, quote=True)  # noqa: E731 - a local shorthand
    text = _sub(text, 'data-post="fuzz_chan/4242"', f'data-post="{esc(owner)}/{esc(number)}"')
    text = _sub(text, 'href="https://t.me/fuzz_chan/4242"', f'href="{esc(draw(_URLS))}"')
    text = _sub(text, 'href="https://t.me/fuzz_chan/1"', f'href="{esc(draw(_URLS))}"')
    text = _sub(text, 'datetime="2031-03-03T03:03:03+00:00"', f'datetime="{esc(draw(_DATES))}"')
    text = _sub(
        text,
        '<span class="tgme_widget_message_views">777</span>',
        f'<span class="tgme_widget_message_views">{esc(draw(_COUNTS))}</span>',
    )
    text = _sub(text, "</b></i>5</span>", f"</b></i>{esc(draw(_COUNTS))}</span>")
    text = _sub(text, "31.3K</span>", f"{esc(draw(_COUNTS))}</span>")
    text = _sub(text, "@fuzz_chan</a>", f"@{esc(draw(_NAMES))}</a>")
    more = f'<a class="tme_messages_more" data-before="{esc(draw(_COUNTS))}"></a>'
    text = text.replace('<section class="tgme_channel_history js-message_history">', more, 1)
    asked = draw(st.one_of(st.just(name), st.sampled_from(["FUZZ_CHAN", "victim_news", "../x"])))
    return text, asked


def urls_of(page: Page) -> list[str]:
    """Every URL a page carries (posts, media, previews, the channel), None left out."""
    found = list(page.links)
    if page.channel is not None:
        found += [page.channel.source_url, page.channel.image]
    for post in page.posts:
        found += [post.url, post.reply_to, *post.links]
        found += [(post.forwarded_from or {}).get("url")]
        found += [(post.link_preview or {}).get(k) for k in ("url", "image")]
        for item in post.media:
            found += [item.get(k) for k in ("url", "href", "thumb")]
    return [u for u in found if u is not None]


def assert_checked(page: Page) -> None:
    """Every value of ``page`` passed its check."""
    if page.channel is not None:
        assert page.channel.subscribers is None or 0 <= page.channel.subscribers < MAX_COUNT
    for cursor in (page.before, page.older):
        assert cursor is None or 0 < cursor < 2**63
    for url in urls_of(page):
        assert http_url(url) == url, url
    for post in page.posts:
        assert page.channel is not None and post.channel == page.channel.name
        assert post.source_url == page.url
        if page.kind == "telegram":
            assert is_channel_name(post.channel) and post.channel == post.channel.lower()
            assert re.fullmatch(r"[1-9][0-9]{0,17}", post.post_id)
            assert post.url.lower() == f"https://t.me/{post.channel}/{post.post_id}"
        if post.published_at is not None:
            assert 1970 <= to_datetime(post.published_at).astimezone(UTC).year <= 2100
        assert post.views is None or 0 <= post.views < MAX_COUNT
        for value in (post.reactions or {}).values():
            assert 0 <= value < MAX_COUNT


@FUZZ
@given(page=telegram_markup(), asked=st.booleans())
def test_fuzzed_telegram_values_leave_checked(page, asked):
    text, channel = page
    url = f"http://127.0.0.1:9/s/{channel}"
    result = extract_page(text.encode(), url, channel=channel.lower() if asked else None)
    assert_checked(result)
    if is_channel_name(channel):  # asked for, by the crawl or by the URL: that channel's page
        assert result.channel is not None and result.channel.name == channel.lower()


@st.composite
def listing_markup(draw) -> str:
    cards = []
    for i in range(draw(st.integers(2, 5))):
        cards.append(
            f'<div class="card" data-post="{html.escape(draw(_IDS))}"><h3>Card {i}</h3>'
            f'<time datetime="{html.escape(draw(_DATES))}">{html.escape(draw(_ANY))}</time>'
            f"<p>Some words of card number {i}, enough of them to read as a post.</p>"
            f'<img src="{html.escape(draw(_URLS))}"><a href="{html.escape(draw(_URLS))}">more</a>'
            "</div>"
        )
    return f"<html><head><title>Mirror</title></head><body>{''.join(cards)}</body></html>"


@FUZZ
@given(body=listing_markup())
def test_fuzzed_web_values_leave_checked(body):
    try:
        page = extract_page(body.encode(), "https://mirror.example/list")
    except NotAPage:  # control characters: binary data
        return
    assert_checked(page)
    for post in page.posts:
        assert post.url == page.url or post.url.split("/")[2] == "mirror.example"


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory):
    db = store.open_archive(tmp_path_factory.mktemp("fuzz") / "archive.db")
    yield db
    db.close()


@FUZZ
@given(page=telegram_markup())
def test_the_archive_holds_only_checked_values(fuzz_db, page):
    text, channel = page
    url = f"http://127.0.0.1:9/s/{channel}"
    capture = Capture(url=url, fetched_at=WHEN, status=200, body=text.encode())
    parsed = extract_page(text.encode(), url)
    store.ingest_page(fuzz_db, None, capture, parsed)
    for row in fuzz_db.execute(
        "SELECT p.url, p.published_at, p.views, v.source_url, v.reply_to, v.forwarded_from,"
        " v.links, v.media, v.link_preview, ch.name, ch.source_url, ch.image, ch.subscribers"
        " FROM posts p JOIN post_versions v ON v.post = p.id JOIN channels ch ON ch.id = p.channel_id"
    ):
        (post_url, published, views, source_url, reply_to, forwarded, links, media, preview,
         name, channel_url, image, subscribers) = row  # fmt: skip
        assert post_url.lower().startswith(f"https://t.me/{name}/")
        assert published is None or 1970 <= to_datetime(published).astimezone(UTC).year <= 2100
        for number in (views, subscribers):
            assert number is None or 0 <= number < MAX_COUNT
        found = [source_url, reply_to, forwarded, channel_url, image, *json.loads(links)]
        found += [item.get(k) for item in json.loads(media) for k in ("url", "href", "thumb")]
        found += (
            [v for k, v in (json.loads(preview) or {}).items() if k in ("url", "image")]
            if preview
            else []
        )
        for value in found:
            assert value is None or http_url(value) == value, value
