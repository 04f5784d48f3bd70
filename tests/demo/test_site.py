"""The fake Telegram preview (chanarchive.demo.site) and the tests' server (tests/server.py)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.robotparser
from importlib import resources
from urllib.parse import urlsplit

import lxml.html
import pytest

from chanarchive.demo.site import (
    DEMO_CHANNEL,
    DROP,
    Response,
    SampleChannel,
    SamplePost,
    SiteServer,
    demo_channel,
    format_count,
    render_channel_page,
)

AD_LINE = "🔍 发送关键词来寻找群组、频道或视频。启动SOSO机器人"
SIGNATURE = "📣 关注本频道：@chanarchive_demo"


def make_channel(n: int, name: str = "testchan") -> SampleChannel:
    posts = [
        SamplePost(id=i, date=f"2026-11-01T{i % 24:02d}:00:00+00:00", text=f"post {i}", views=i)
        for i in range(1, n + 1)
    ]
    return SampleChannel(name=name, title="Test", description="d", subscribers=5, posts=posts)


def parse(page: str | bytes) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(page)


def post_ids(doc: lxml.html.HtmlElement) -> list[int]:
    return [int(p.split("/")[1]) for p in doc.xpath("//div[@data-post]/@data-post")]


def older(doc: lxml.html.HtmlElement) -> tuple[str | None, str | None, str | None]:
    """(older link href, its data-before, link rel=prev href)."""
    more = doc.cssselect("a.tme_messages_more.js-messages_more")
    prev = doc.xpath("//link[@rel='prev']/@href")
    return (
        more[0].get("href") if more else None,
        more[0].get("data-before") if more else None,
        prev[0] if prev else None,
    )


def message(doc: lxml.html.HtmlElement, channel: str, post_id: int) -> lxml.html.HtmlElement:
    (node,) = doc.xpath(f"//div[@data-post='{channel}/{post_id}']")
    return node


def text_of(node: lxml.html.HtmlElement) -> str:
    """A message text as a reader sees it (``<br>`` as a line break)."""
    for br in node.xpath(".//br"):
        br.tail = "\n" + (br.tail or "")
    return node.text_content().strip()


# --------------------------------------------------------------------- rendering


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1K"),
        (1234, "1.2K"),
        (12_345, "12.3K"),
        (109_050, "109K"),
        (214_499, "214.4K"),
        (1_500_000, "1.5M"),
    ],
)
def test_format_count(n: int, shown: str) -> None:
    assert format_count(n) == shown


def test_newest_page_has_the_newest_posts_oldest_first() -> None:
    doc = parse(render_channel_page(make_channel(45)))
    assert post_ids(doc) == list(range(26, 46))
    assert older(doc) == ("/s/testchan?before=26", "26", "/s/testchan?before=26")
    node = message(doc, "testchan", 45)
    (date_link,) = node.cssselect("a.tgme_widget_message_date")
    assert date_link.get("href") == "https://t.me/testchan/45"
    assert date_link.xpath("./time/@datetime") == ["2026-11-01T21:00:00+00:00"]


def test_before_gives_the_newest_posts_below_it() -> None:
    channel = make_channel(45)
    doc = parse(render_channel_page(channel, before=26))
    assert post_ids(doc) == list(range(6, 26))
    assert older(doc)[1] == "6"
    last = parse(render_channel_page(channel, before=6))
    assert post_ids(last) == [1, 2, 3, 4, 5]
    assert older(last) == (None, None, None)
    assert post_ids(parse(render_channel_page(channel, before=1))) == []
    assert post_ids(parse(render_channel_page(channel, before=10, page_size=4))) == [6, 7, 8, 9]


def test_deleted_posts_are_not_rendered() -> None:
    channel = make_channel(45)
    channel.delete(40)
    channel.delete(26)
    doc = parse(render_channel_page(channel))
    ids = post_ids(doc)
    assert 40 not in ids and 26 not in ids
    assert ids == [24, 25] + list(range(27, 40)) + list(range(41, 46))
    assert older(doc)[1] == "24"


def test_walking_older_links_visits_every_post_once() -> None:
    channel = make_channel(57)
    channel.delete(13)
    seen: list[int] = []
    before = None
    for _ in range(10):
        doc = parse(render_channel_page(channel, before=before))
        seen = post_ids(doc) + seen
        href, data_before, _ = older(doc)
        if href is None:
            break
        before = int(data_before)
    assert seen == [i for i in range(1, 58) if i != 13]


def test_throttled_page_and_dropped_older_link() -> None:
    channel = make_channel(45)
    throttled = parse(render_channel_page(channel, no_messages=True))
    assert throttled.cssselect("div.tme_no_messages_found")
    assert post_ids(throttled) == []
    assert older(throttled) == (None, None, None)
    assert throttled.cssselect(".tgme_channel_info_header_title")  # still a channel page
    dropped = parse(render_channel_page(channel, drop_more_link=True))
    assert post_ids(dropped) == list(range(26, 46))
    assert older(dropped) == (None, None, None)
    assert not dropped.cssselect("div.tme_no_messages_found")


def test_text_is_escaped_and_keeps_line_breaks() -> None:
    tricky = "a <script>alert(\"x\")</script> & 'q'\nsecond line 第二行\n#标签 @someone https://example.com/a?b=1&c=2."
    channel = SampleChannel(
        "esc", "T <b>", "desc & more", 1, [SamplePost(1, "2026-11-01T00:00:00+00:00", tricky)]
    )
    page = render_channel_page(channel)
    doc = parse(page)
    assert not doc.xpath("//script[contains(., 'alert')]")
    (text,) = message(doc, "esc", 1).cssselect(".tgme_widget_message_text")
    assert len(text.xpath(".//br")) == 2
    assert text_of(text) == tricky
    hrefs = text.xpath(".//a/@href")
    assert "https://example.com/a?b=1&c=2" in hrefs
    assert "https://t.me/someone" in hrefs
    assert any(h.startswith("?q=%23") for h in hrefs)
    assert doc.cssselect(".tgme_channel_info_header_title")[0].text_content() == "T <b>"
    assert '<meta charset="utf-8">' in page


def test_demo_page_markup() -> None:
    channel = demo_channel(1)
    pages = [parse(render_channel_page(channel, before=b)) for b in (None, 26, 6)]
    assert [post_ids(d) for d in pages] == [
        list(range(26, 46)),
        list(range(6, 26)),
        [1, 2, 3, 4, 5],
    ]
    newest, middle, oldest = pages
    name = DEMO_CHANNEL
    # header
    assert newest.cssselect(".tgme_channel_info_header_title")[0].text_content() == "临江城市速递"
    assert newest.cssselect(".tgme_channel_info_header_username a")[0].text_content() == f"@{name}"
    counters = {
        c.cssselect(".counter_type")[0].text: c.cssselect(".counter_value")[0].text
        for c in newest.cssselect(".tgme_channel_info_counter")
    }
    assert counters["subscribers"] == "12.3K"
    assert "投稿与合作" in newest.cssselect(".tgme_channel_info_description")[0].text_content()
    # service message
    service = message(oldest, name, 1)
    assert "service_message" in service.get("class")
    assert service.cssselect(".tgme_widget_message_text")[0].text_content() == "Channel created"
    # views: short and plain forms
    assert message(middle, name, 15).cssselect(".tgme_widget_message_views")[0].text == "880"
    assert message(oldest, name, 3).cssselect(".tgme_widget_message_views")[0].text == "12.8K"
    # edited marker before the date link
    meta = message(middle, name, 20).cssselect(".tgme_widget_message_meta")[0]
    assert meta.text_content().strip().startswith("edited")
    assert (
        "edited"
        not in message(middle, name, 19).cssselect(".tgme_widget_message_meta")[0].text_content()
    )
    # forwards: one with a link, one hidden
    fwd = message(middle, name, 7).cssselect(".tgme_widget_message_forwarded_from_name")[0]
    assert fwd.tag == "a" and fwd.get("href") == "https://t.me/linjiang_metro/512"
    hidden = message(middle, name, 13).cssselect(".tgme_widget_message_forwarded_from_name")[0]
    assert hidden.tag == "span" and hidden.text_content() == "王师傅"
    # reply
    reply = message(middle, name, 19).cssselect("a.tgme_widget_message_reply")[0]
    assert reply.get("href") == f"https://t.me/{name}/18"
    # photos: single and album
    single = message(oldest, name, 3).cssselect("a.tgme_widget_message_photo_wrap")
    assert len(single) == 1 and "background-image:url('https://" in single[0].get("style")
    assert len(message(middle, name, 10).cssselect("a.tgme_widget_message_photo_wrap")) == 3
    # link preview
    preview = message(middle, name, 6).cssselect("a.tgme_widget_message_link_preview")[0]
    assert preview.get("href") == "https://example.com/linjiang/museum/booking"
    assert (
        preview.cssselect(".link_preview_title")[0].text_content() == "江城千年——临江历史文物特展"
    )
    # line breaks and the mirror-style trailing lines
    text9 = text_of(message(middle, name, 9).cssselect(".tgme_widget_message_text")[0])
    assert text9.splitlines()[-1] == AD_LINE
    text45 = text_of(message(newest, name, 45).cssselect(".tgme_widget_message_text")[0])
    assert text45.splitlines()[-1] == SIGNATURE


# ------------------------------------------------------------------------- demo


def test_demo_data_is_package_data_and_well_formed() -> None:
    raw = resources.files("chanarchive.demo").joinpath("data/channel.json").read_text("utf-8")
    data = json.loads(raw)
    assert data["name"] == DEMO_CHANNEL
    channel = demo_channel(1)
    posts = channel.visible_posts()
    assert 41 <= len(posts) <= 59  # three pages of 20
    assert posts[0].id == 1 and posts[0].service and posts[0].text == "Channel created"
    ids = [p.id for p in posts]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    dates = [p.date for p in posts]
    assert all(d.endswith("+00:00") for d in dates)
    regular = [p for p in posts if not p.service]
    assert sum(p.text.endswith("\n" + AD_LINE) for p in regular) >= 4
    assert sum(p.text.endswith("\n" + SIGNATURE) for p in regular) >= 3
    assert sum(1 for p in regular if p.forwarded_from and p.forwarded_from["url"]) >= 1
    assert sum(1 for p in regular if p.forwarded_from and not p.forwarded_from["url"]) >= 1
    assert any(p.reply_to for p in regular)
    assert any(p.link_preview for p in regular)
    assert any(len(p.photos) > 1 for p in regular)
    assert any("#" in p.text for p in regular)
    assert all(p.views > 0 for p in regular)
    assert len({p.views for p in regular}) > 30


def test_demo_stages_differ_exactly_as_described() -> None:
    one, two = demo_channel(1), demo_channel(2)
    assert demo_channel(1) == one and demo_channel(2) == two  # deterministic
    by_id_1 = {p.id: p for p in one.posts}
    by_id_2 = {p.id: p for p in two.posts}
    newest_page_1 = post_ids(parse(render_channel_page(one)))

    new_ids = sorted(set(by_id_2) - set(by_id_1))
    assert new_ids == [max(by_id_1) + 1, max(by_id_1) + 2, max(by_id_1) + 3]
    assert all(by_id_2[i].date > max(p.date for p in one.posts) for i in new_ids)

    deleted = [i for i in by_id_1 if by_id_2[i].deleted and not by_id_1[i].deleted]
    assert len(deleted) == 1 and deleted[0] in newest_page_1

    edited = [i for i in by_id_1 if by_id_2[i].text != by_id_1[i].text]
    assert len(edited) == 1 and edited[0] in newest_page_1
    assert by_id_2[edited[0]].edited and not by_id_1[edited[0]].edited

    for post_id, before in by_id_1.items():
        after = by_id_2[post_id]
        if not before.service:
            assert after.views > before.views
        if post_id not in edited:
            assert after.text == before.text and after.edited == before.edited

    doc2 = parse(render_channel_page(two))
    assert deleted[0] not in post_ids(doc2)
    assert post_ids(doc2)[-3:] == new_ids
    meta = message(doc2, DEMO_CHANNEL, edited[0]).cssselect(".tgme_widget_message_meta")[0]
    assert "edited" in meta.text_content()
    with pytest.raises(ValueError):
        demo_channel(3)


def test_channel_mutations() -> None:
    channel = make_channel(3)
    channel.edit(2, "new text")
    assert channel.get(2).edited and channel.get(2).text == "new text"
    channel.delete(3)
    post = channel.add("hello")
    assert post.id == 4 and post.date > channel.get(2).date
    channel.grow_views(1.5)
    assert [p.views for p in channel.posts] == [
        2,
        3,
        4,
        1,
    ]  # 1->2 (strictly grows), 2->3, 3->4, 0->1
    with pytest.raises(KeyError):
        channel.edit(99, "x")


# --------------------------------------------------------------- in-process server


def test_site_server_in_process() -> None:
    with SiteServer({DEMO_CHANNEL: demo_channel(1)}, page_size=20) as server:
        assert server.url.startswith("http://127.0.0.1:")
        server.route("/hello", lambda r: Response(body="hi", content_type="text/plain"))
        server.route("/gone", lambda r: DROP)
        conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
        conn.request("GET", f"/s/{DEMO_CHANNEL}?before=26")
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200 and resp.getheader("Content-Type") == "text/html; charset=utf-8"
        assert post_ids(parse(body)) == list(range(6, 26))
        conn.request("GET", "/s/nosuchchannel")  # same keep-alive connection
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 404
        conn.request("GET", "/hello")
        assert conn.getresponse().read() == b"hi"
        conn.close()
        conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
        conn.request("GET", "/gone")
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            conn.getresponse()
        conn.close()
        server.set_channel(demo_channel(2))
        server.throttle(DEMO_CHANNEL, 1)
        conn = http.client.HTTPConnection(urlsplit(server.url).netloc, timeout=10)
        conn.request("GET", f"/s/{DEMO_CHANNEL}")
        assert b"tme_no_messages_found" in conn.getresponse().read()
        conn.request("GET", f"/s/{DEMO_CHANNEL}")
        assert post_ids(parse(conn.getresponse().read()))[-1] == 48
        conn.close()
        assert server.requests == [
            ("GET", f"/s/{DEMO_CHANNEL}?before=26", 200),
            ("GET", "/s/nosuchchannel", 404),
            ("GET", "/hello", 200),
            ("GET", "/gone", 0),
            ("GET", f"/s/{DEMO_CHANNEL}", 200),
            ("GET", f"/s/{DEMO_CHANNEL}", 200),
        ]
    assert server.url  # stopped cleanly


# ------------------------------------------------------------ the tests' server


def test_control_channel_pagination_and_mutations(site) -> None:
    assert site.control("channel", name="alpha", posts=50)["posts"] == 50
    status, headers, body = site.get("/s/alpha")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    doc = parse(body)
    assert post_ids(doc) == list(range(31, 51))
    assert "测试消息第50条" in message(doc, "alpha", 50).text_content()
    assert post_ids(parse(site.get("/s/alpha", before=31)[2])) == list(range(11, 31))

    site.control("channel", name="beta", posts=12, page_size=5)
    assert post_ids(parse(site.get("/s/beta")[2])) == [8, 9, 10, 11, 12]
    assert post_ids(parse(site.get("/s/beta?before=3")[2])) == [1, 2]

    site.control("edit", name="beta", id=11, text="改过的文字 <b>edited</b>")
    site.control("delete", name="beta", id=12)
    assert site.control("add", name="beta", count=2)["ids"] == [13, 14]
    views_before = site.control("get", name="beta")["channel"]["posts"][0]["views"]
    site.control("views", name="beta", factor=2)
    assert site.control("get", name="beta")["channel"]["posts"][0]["views"] == views_before * 2
    doc = parse(site.get("/s/beta")[2])
    assert post_ids(doc) == [9, 10, 11, 13, 14]
    edited = message(doc, "beta", 11)
    assert (
        edited.cssselect(".tgme_widget_message_text")[0].text_content()
        == "改过的文字 <b>edited</b>"
    )
    assert "edited" in edited.cssselect(".tgme_widget_message_meta")[0].text_content()

    assert site.get("/s/nosuch")[0] == 404
    with pytest.raises(RuntimeError):
        site.control("edit", name="nosuch", id=1, text="x")
    with pytest.raises(RuntimeError):
        site.control("delete", name="beta", id=999)


def test_throttle_and_drop_more_routes(site) -> None:
    site.control("channel", name="gamma", posts=45)
    site.control("throttle", name="gamma", count=2)
    for _ in range(2):
        status, _, body = site.get("/s/gamma")
        doc = parse(body)
        assert status == 200 and doc.cssselect(".tme_no_messages_found") and post_ids(doc) == []
    assert post_ids(parse(site.get("/s/gamma")[2])) == list(range(26, 46))

    site.control("drop_more", name="gamma", count=1)
    doc = parse(site.get("/s/gamma", before=26)[2])
    assert post_ids(doc) == list(range(6, 26)) and older(doc) == (None, None, None)
    assert older(parse(site.get("/s/gamma", before=26)[2]))[1] == "6"


def test_stats_log_requests_but_not_control(site) -> None:
    site.control("channel", name="delta", posts=3)
    site.get("/s/delta")
    site.get("/s/delta?before=2")
    site.get("/status/404")
    assert site.stats() == [
        ["GET", "/s/delta", 200],
        ["GET", "/s/delta?before=2", 200],
        ["GET", "/status/404", 404],
    ]
    site.reset_stats()
    assert site.stats() == []


def test_retry_after_and_flaky_counters(site) -> None:
    for attempt in (1, 2):
        status, headers, _ = site.get("/retry-after/k1", n=2, after=3)
        assert status == 429 and headers["Retry-After"] == "3", attempt
    assert site.get("/retry-after/k1", n=2, after=3)[0] == 200
    assert site.get("/retry-after/k2", n=1)[0] == 429  # counters are per key
    status, _, _ = site.get("/flaky/f1", n=1, code=503)
    assert status == 503
    assert site.get("/flaky/f1", n=1, code=503)[0] == 200
    assert [row[2] for row in site.stats()] == [429, 429, 200, 429, 503, 200]


def test_fault_routes(site) -> None:
    status, _, body = site.get("/status/503")
    assert status == 503 and b"503" in body
    assert site.get("/status/200")[0] == 200

    start = time.monotonic()
    assert site.get("/delay", s=0.3)[0] == 200
    assert time.monotonic() - start >= 0.3

    with pytest.raises((urllib.error.URLError, http.client.RemoteDisconnected, ConnectionError)):
        site.get("/drop")

    status, _, body = site.get("/redirect", to="/status/200")
    assert status == 200  # urllib followed the 302
    conn = http.client.HTTPConnection(urlsplit(site.url).netloc, timeout=10)
    conn.request("GET", "/redirect?to=/s/x")
    resp = conn.getresponse()
    assert resp.status == 302 and resp.getheader("Location") == "/s/x"
    conn.close()

    one, two = site.get("/garbage")[2], site.get("/garbage")[2]
    assert one == two and len(one) == 4096 and one != site.get("/garbage", seed=7)[2]
    assert site.get("/garbage")[1]["Content-Type"].startswith("text/html")

    status, headers, body = site.get("/big", mb=2)
    assert status == 200 and len(body) == 2 * 1024 * 1024 == int(headers["Content-Length"])
    assert body.startswith(b"<!DOCTYPE html>") and body.endswith(b"</html>\n")

    first, second = site.get("/changing")[2], site.get("/changing")[2]
    assert first != second
    assert lxml.html.fromstring(first).xpath("//article")

    assert site.get("/nowhere")[0] == 404


def test_robots_txt(site) -> None:
    status, headers, body = site.get("/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(body.decode().splitlines())
    assert robots.can_fetch("chanarchive", site.url + "/s/anything")
    assert robots.can_fetch("chanarchive", site.url + "/static/page.html")
    assert not robots.can_fetch("chanarchive", site.url + "/private/secret.html")
    assert site.get("/private/secret.html")[0] == 200  # the server serves it; crawlers must not ask


def test_static_files_charset_and_escape(make_site, tmp_path) -> None:
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "page.html").write_bytes("<html><body>Привет</body></html>".encode("cp1251"))
    (static / "sub" / "data.json").write_text('{"a": 1}')
    (tmp_path / "secret.txt").write_text("top secret")
    site = make_site(static=static)

    status, headers, body = site.get("/static/page.html")
    assert status == 200 and headers["Content-Type"] == "text/html"
    assert body.decode("cp1251") == "<html><body>Привет</body></html>"
    assert site.get("/static/page.html", charset="windows-1251")[1]["Content-Type"] == (
        "text/html; charset=windows-1251"
    )
    assert site.get("/static/sub/data.json")[1]["Content-Type"] == "application/json"
    assert site.get("/static/missing.html")[0] == 404

    netloc = urlsplit(site.url).netloc
    for path in (
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/sub/../../secret.txt",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
    ):
        conn = http.client.HTTPConnection(netloc, timeout=10)
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert resp.status in (403, 404), path
        assert b"top secret" not in body and b"root:" not in body


def test_default_static_folder_is_tests_fixtures(site) -> None:
    status, _, _ = site.get("/static/../conftest.py")  # urllib keeps the dots; still refused
    assert status in (403, 404)


def test_embed_hide_and_unreadable_routes(site) -> None:
    site.control("channel", name="epsilon", posts=5)
    status, _, body = site.get("/epsilon/3", embed=1)
    assert status == 200 and parse(body).cssselect('[data-post="epsilon/3"]')
    site.control("delete", name="epsilon", id=3)
    site.control("hide", name="epsilon", id=4)
    assert post_ids(parse(site.get("/s/epsilon")[2])) == [1, 2, 5]
    error = parse(site.get("/epsilon/3", embed=1)[2]).cssselect(".tgme_widget_message_error")
    assert [e.text_content() for e in error] == ["Post not found"]
    assert parse(site.get("/epsilon/4", embed=1)[2]).cssselect('[data-post="epsilon/4"]')
    site.control("embed_status", name="epsilon", code=503)
    assert site.get("/epsilon/4", embed=1)[0] == 503
    assert site.get("/epsilon")[0] == 404  # a channel's t.me page only when its preview is off

    site.control("unreadable", name="epsilon", case="preview_disabled")
    status, _, body = site.get("/s/epsilon")  # urllib follows the redirect to /epsilon
    assert status == 200 and b"view and join" in body
    site.control("unreadable", name="zeta_none", case="no_such")
    assert b"you can contact" in site.get("/s/zeta_none")[2]
    site.control("unreadable", name="eta_plain", case="no_markup")
    assert b"tgme_" not in site.get("/s/eta_plain")[2]
    assert [p for _m, p, s in site.stats() if s == 302] == ["/s/epsilon", "/s/zeta_none"]
