"""Tests for archive.extract.telegram: the t.me/s preview parser.

Real pages are read from ``../shared/realdata/telegram/`` next to the repository (skipped when
absent); the small invented pages in ``tests/fixtures/telegram/`` cover what the real data lacks.
"""

from __future__ import annotations

import pytest

from archive.extract import extract_page
from archive.extract.telegram import is_telegram_markup, parse_telegram_page, parse_views
from archive.models import Page
from tests.paths import FIXTURES as FIXTURES_DIR
from tests.paths import real_telegram as real

FIXTURES = FIXTURES_DIR / "telegram"
CDN = "https://cdn4.telegram-cdn.org/file/"
AD_LINE = "🔍 发送关键词来寻找群组、频道或视频。启动SOSO机器人"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def one_post(name: str, url: str = "https://t.me/s/x"):
    page = parse_telegram_page(real(name), url)
    assert len(page.posts) == 1
    return page.posts[0]


def wrapped(fragment: bytes, data_post: str = "frag/7") -> str:
    """An inner media block put into a minimal message, as on a t.me/s page."""
    return (
        f'<div class="tgme_widget_message js-widget_message" data-post="{data_post}">'
        f'<div class="tgme_widget_message_bubble">{fragment.decode("utf-8")}</div></div>'
    )


# --------------------------------------------------------------------------- parse_views


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14.9K", 14_900),
        ("1.2M", 1_200_000),
        ("857", 857),
        ("", None),
        ("109K", 109_000),
        ("29.0K", 29_000),
        ("214.4K", 214_400),
        ("1.1k", 1_100),
        ("12 345", 12_345),
        ("1,234", 1_234),
        ("12.3K subscribers", 12_300),
        ("  3K ", 3_000),
        ("views", None),
    ],
)
def test_parse_views(text: str, expected: int | None) -> None:
    assert parse_views(text) == expected


# --------------------------------------------------------------------------- is_telegram_markup


def test_is_telegram_markup_real_and_fixtures() -> None:
    assert is_telegram_markup(real("channel_page_ru.html"))
    assert is_telegram_markup(real("channel_page_ru.html").decode("utf-8"))
    assert is_telegram_markup(fixture("zh_channel_local.html"))
    assert is_telegram_markup(fixture("empty_before.html"))  # only the no-messages marker
    assert is_telegram_markup(fixture("empty_start.html"))  # only the (empty) message list


@pytest.mark.parametrize(
    "body",
    [
        "",
        b"",
        b"\x00\xff\xfe garbage",
        "<html><body><p>Hello</p></body></html>",
        "<p>we parse tgme_widget_message markup</p>",  # the word, not a class
        '<div class="tgme_widget_message_wrap"></div>',  # a related class only
        "<p>t.me shows tgme_channel_history and tme_no_messages_found</p>",  # words only
        '<div class="tgme_channel_history_wrap"></div>',  # a related class only
    ],
)
def test_is_telegram_markup_negative(body: str | bytes) -> None:
    assert not is_telegram_markup(body)


# --------------------------------------------------------------------------- real channel page

PAGE_URL = "https://t.me/s/topwar_official?before=71009"
REAL_IDS = [
    "70989", "70990", "70992", "70995", "70996", "70997",
    "70998", "70999", "71000", "71006", "71007", "71008",
]  # fmt: skip


@pytest.fixture(scope="module")
def real_page() -> Page:
    return parse_telegram_page(real("channel_page_ru.html"), PAGE_URL, before=71009)


def by_id(page: Page) -> dict:
    return {post.post_id: post for post in page.posts}


def test_real_page_header(real_page: Page) -> None:
    page = real_page
    assert (page.kind, page.page_type, page.url) == ("telegram", "channel", PAGE_URL)
    assert page.title == "Военное обозрение – Telegram"
    assert page.before == 71009
    assert page.older == 70989
    assert page.throttled is False
    ch = page.channel
    assert ch is not None
    assert ch.name == "topwar_official"
    assert ch.kind == "telegram"
    assert ch.title == "Военное обозрение"
    assert ch.description == (
        "Официальный канал сайта topwar.ru\n\n"
        "Для обратной связи: @topwar_feedlback_bot\n\n"
        "По рекламе - писать @effective100"
    )
    assert ch.subscribers == 109_000
    assert ch.source_url == "https://t.me/s/topwar_official"
    assert ch.image.startswith(CDN + "rdlhZu1d4HGvG3QGKRi9Ttlknw") and ch.image.endswith(".jpg")


def test_real_page_posts_dates_views(real_page: Page) -> None:
    assert [p.post_id for p in real_page.posts] == REAL_IDS
    expected = {
        "70989": ("2023-02-28T07:47:53+00:00", 37_200),
        "70990": ("2023-02-28T08:09:50+00:00", 34_500),
        "70992": ("2023-02-28T08:51:58+00:00", 33_800),
        "70995": ("2023-02-28T08:54:50+00:00", 33_600),
        "70996": ("2023-02-28T09:06:02+00:00", 32_900),
        "70997": ("2023-02-28T10:00:03+00:00", 30_300),
        "70998": ("2023-02-28T10:29:08+00:00", 29_000),
        "70999": ("2023-02-28T10:43:08+00:00", 28_700),
        "71000": ("2023-02-28T10:52:36+00:00", 28_700),
        "71006": ("2023-02-28T12:48:58+00:00", 17_200),
        "71007": ("2023-02-28T13:02:00+00:00", 16_800),
        "71008": ("2023-02-28T13:14:03+00:00", 14_900),
    }
    for post in real_page.posts:
        assert (post.published_at, post.views) == expected[post.post_id]
        assert post.channel == "topwar_official"
        assert post.url == f"https://t.me/topwar_official/{post.post_id}"
        assert post.source_url == PAGE_URL
        # the real page has no edits, replies, signatures or service messages
        assert post.edited is False and post.reply_to is None and post.author is None
        assert post.service is False and post.text is None and post.title is None


def test_real_page_forwarded(real_page: Page) -> None:
    forwarded = {p.post_id: p.forwarded_from for p in real_page.posts if p.forwarded_from}
    assert forwarded == {
        "70996": {"name": "Военкор Ярем", "url": "https://t.me/yaremshooter/1066"},
        "70998": {"name": "БелВПО", "url": "https://t.me/Belarus_VPO/34301"},
        "71006": {"name": "Старше Эдды", "url": "https://t.me/vysokygovorit/10899"},
        "71007": {"name": "Пул N3", "url": "https://t.me/dimsmirnov175/44655"},
        "71008": {"name": "ImpNavigator", "url": "https://t.me/ImpNavigator/4580"},
    }


def test_real_page_media(real_page: Page) -> None:
    posts = by_id(real_page)
    types = {pid: [m["type"] for m in p.media] for pid, p in posts.items() if p.media}
    assert types == {
        "70989": ["photo"],
        "70992": ["photo", "photo", "video"],
        "70998": ["photo"],
        "71000": ["photo"] * 6,
        "71006": ["video"],
        "71007": ["video"],
        "71008": ["video"],
    }
    all_media = [m for p in real_page.posts for m in p.media]
    assert sum(m["type"] == "photo" for m in all_media) == 10
    assert sum(m["type"] == "video" for m in all_media) == 4
    assert all(m["url"] for m in all_media)
    # no avatar, no emoji, no link-preview image among the media
    assert not any("rdlhZu1d4HGvG3QGKRi9" in m["url"] for m in all_media)
    assert not any("tQZ711MVkJHq5TBc0Cy8" in m["url"] for m in all_media)

    assert posts["70989"].media[0]["url"].startswith(CDN + "J1iJAZDcKYQpr7YXRxAEhL4-7Yk")
    album = posts["70992"].media
    assert album[0]["url"].startswith(CDN + "HL75Yw5xRImP5vG7ECqDQcTtpHc")
    assert album[1]["url"].startswith(CDN + "hyNfDoetn4JLNWgZi3-_iRzxfeN")
    assert album[2]["url"].startswith(CDN + "ee2e53dc9f.mp4?token=JuO07YFPvW0dzxRf")
    assert album[2]["thumb"].startswith(CDN + "jPQi1lwA1SCXn9N0UBU4UnFyUh2")
    assert album[2]["duration"] == "0:16"
    assert [m["href"] for m in posts["71000"].media] == [
        f"https://t.me/topwar_official/{n}?single" for n in range(71000, 71006)
    ]
    # "Media is too big": no <video>, the url is the player's link
    for pid, duration, thumb in (
        ("71006", "2:57", "rxllsyzi0upEESVL4mM8"),
        ("71007", "1:41", "MQ2zQ-x-67bhCHph0mr7"),
    ):
        (video,) = posts[pid].media
        assert video["url"] == f"https://t.me/topwar_official/{pid}"
        assert video["duration"] == duration
        assert video["thumb"].startswith(CDN + thumb)
    (video,) = posts["71008"].media
    assert video["url"].startswith(CDN + "a325394411.mp4?token=Hb8_B3_UgUv596y3")
    assert video["duration"] == "0:17"


def test_real_page_link_preview_and_links(real_page: Page) -> None:
    posts = by_id(real_page)
    previews = {pid for pid, p in posts.items() if p.link_preview}
    assert previews == {"70996"}
    preview = posts["70996"].link_preview
    assert preview["url"] == "http://t.me/infantmilitario/93419"
    assert preview["site"] == "Telegram"
    assert preview["title"] == "Милитарист"
    assert preview["description"] == (
        "Сообщают, что стелу с истребителем МиГ-17ПФ в центре Бахмута и передовые "
        "подразделения ЧВК «Вагнера» разделяют 180 метров"
    )
    assert preview["image"].startswith(CDN + "tQZ711MVkJHq5TBc0Cy8vm--IEY")
    assert posts["70996"].links == [
        "https://t.me/infantmilitario/93419",
        "https://t.me/yaremshooter",
    ]
    assert posts["70996"].raw_text.endswith("сниму их на фоне стелы с МиГ-17.\n\n@yaremshooter")
    assert "на расстояние 180 метров, пока" in posts["70996"].raw_text


def test_real_page_text(real_page: Page) -> None:
    posts = by_id(real_page)
    assert posts["70989"].raw_text == (
        "В Санкт-Петербурге в небо над городом подняли истребители из-за неизвестного объекта "
        "в воздухе, аэропорт Пулково не принимает самолеты, сообщает Baza.\n"
        "Судя по сервису Flightradar, гражданские самолеты не приближаются к Санкт-Петербургу."
    )
    assert "сообщает Baza.<br>Судя" in posts["70989"].html
    assert posts["70995"].raw_text == (
        'План "Ковер" отменен, небо над Санкт-Петербургом открывают, сообщает источник РЕН ТВ.'
    )
    # a bold heading ending in <br/><br/> inside <b>: a paragraph break
    assert posts["70998"].raw_text.startswith(
        "Новые ракетные корабли ВМФ РФ с Калибрами вышли на учения в Балтийское море\n\n"
        "Малые ракетные корабли проектов 22800"
    )
    assert posts["70998"].raw_text.count("\n\n") == 3
    # album captions sit in a nested copy of the text element
    assert posts["71000"].raw_text == (
        "Последствия ночного удара БПЛА-камикадзе ВСУ по нефтебазе в Туапсе сегодня ночью."
    )
    assert "tgme_widget_message_text" not in posts["71000"].html
    assert posts["71000"].html.startswith("Последствия ночного удара")
    assert posts["71007"].raw_text.count("\n") == 3 and "\n\n" not in posts["71007"].raw_text
    for post in real_page.posts:
        assert post.raw_text and post.raw_text == post.raw_text.strip()
        assert "  " not in post.raw_text


def test_real_page_any_host_and_bytes_or_str() -> None:
    body = real("channel_page_ru.html")
    local = "http://127.0.0.1:8765/s/topwar_official?before=71009"
    from_bytes = parse_telegram_page(body, local, before=71009)
    from_str = parse_telegram_page(body.decode("utf-8"), PAGE_URL, before=71009)
    assert [p.post_id for p in from_bytes.posts] == REAL_IDS
    assert all(p.source_url == local for p in from_bytes.posts)
    assert [p.url for p in from_bytes.posts] == [p.url for p in from_str.posts]
    assert [p.raw_text for p in from_bytes.posts] == [p.raw_text for p in from_str.posts]
    assert from_bytes.older == 70989 and from_bytes.channel == from_str.channel


def test_real_page_truncated_does_not_raise() -> None:
    body = real("channel_page_ru.html")
    page = parse_telegram_page(body[: len(body) // 2], PAGE_URL)
    assert [p.post_id for p in page.posts] == REAL_IDS[: len(page.posts)]
    assert page.posts


# --------------------------------------------------------------------------- real fragments


def test_fragment_forwarded_photo() -> None:
    post = one_post("message_media_forwarded_from.html")
    assert (post.channel, post.post_id) == ("oper_goblin", "22358")
    assert post.url == "https://t.me/oper_goblin/22358"
    assert post.published_at == "2023-02-27T07:20:50+00:00"
    assert post.views == 214_400
    assert post.forwarded_from == {"name": "Пул N3", "url": "https://t.me/dimsmirnov175/44604"}
    assert post.raw_text == (
        "Британская разведка выяснила, почему Ким Чен Ын начал выводить дочку в свет"
    )
    assert "inline-block" not in post.html  # the trailing spacer is dropped
    assert [m["type"] for m in post.media] == ["photo"]
    assert post.media[0]["url"].startswith(CDN + "keYrQp0kfuA-v2y8PsdF0DmDlrXxR0ahAfv")


def test_fragment_link_preview() -> None:
    post = one_post("message_link_preview.html")
    url = "https://vnnews.ru/georgiy-zotov-okkupaciya-volosatym-kr/"
    assert post.post_id == "22360" and post.views == 226_200
    assert post.raw_text == url and post.links == [url]
    assert post.media == []
    lp = post.link_preview
    assert lp["url"] == url
    assert lp["site"] == "Ваши новости — интернет-газета"
    assert lp["title"] == "Георгий Зотов: ОККУПАЦИЯ ВОЛОСАТЫМ КРАБОМ"
    assert lp["description"] == (
        "Современная журналистика превратилась в комедию и тщетную охоту за лайками с "
        "перепостами в попытке обогнать популярные блоги. Выглядит сие довольно жалко…"
    )
    assert lp["image"].startswith(CDN + "Vk3eUCs_p7BYInzqm24xRwpgp1l")


def test_fragment_link_preview_text_only() -> None:
    post = one_post("message_link_preview_text_only.html")
    url = "http://publication.pravo.gov.ru/Document/View/0001202302270011?index=7&rangeSize=1"
    assert post.post_id == "22368" and post.views == 246_800
    assert post.published_at == "2023-02-27T15:08:05+00:00"
    assert post.links == [url]
    lp = post.link_preview
    assert lp["url"] == url and lp["image"] is None
    assert lp["site"] == "publication.pravo.gov.ru"
    assert lp["title"].startswith(
        "Распоряжение Президента Российской Федерации от 27.02.2023 № 59-рп"
    )
    assert lp["description"] == (
        'Распоряжение Президента Российской Федерации от 27.02.2023 № 59-рп\n"О поощрении"'
    )


def test_fragment_link_preview_video_edited() -> None:
    post = one_post("message_link_preview_video.html")
    assert (post.channel, post.post_id) == ("fighter_bomber", "11226")
    assert post.edited is True  # "edited" in the meta line
    assert post.views == 69_400
    assert post.raw_text == "Жениться вам, барин, пора! 😁\n\nhttps://t.me/shalnyak/5410"
    assert post.media == []  # the preview's video is not the post's media
    lp = post.link_preview
    assert (lp["url"], lp["site"], lp["title"]) == (
        "https://t.me/shalnyak/5410",
        "Telegram",
        "Shalnyak",
    )
    assert lp["description"] == (
        "Дядь @fighter_bomber глянь!!!\nУ меня такааая разработка🔥\n"
        "Для чего пока не знаю, но жути наводит пздц как🤓"
    )


def test_fragment_album_photo_and_video() -> None:
    post = one_post("message_media_photo_and_video.html")
    assert (post.channel, post.post_id, post.views) == ("anna_news", "46908", 59_500)
    assert [m["type"] for m in post.media] == ["video", "photo", "photo"]
    assert post.media[0]["url"].startswith(CDN + "3fc678ce81.mp4?token=FBehvrwaJkFwTxZP")
    assert post.media[0]["duration"] == "0:05"
    # photos whose style says url(&quot;...&quot;)
    assert post.media[1]["url"].startswith(CDN + "hreFvq_I28dSzoM2D")
    assert post.media[1]["url"].endswith("yjcXxcocCbofGPQbcG8UGyORgw.jpg")
    assert post.media[2]["url"].endswith("IGD5P4dWOyoMRUA2oJGVmY8NeA.jpg")
    assert [m["href"] for m in post.media] == [
        "https://t.me/anna_news/46908?single",
        "https://t.me/anna_news/46909?single",
        "https://t.me/anna_news/46910?single",
    ]
    assert post.raw_text == (
        "Ночью над Белгородом сбили 3 беспилотника\n\nОни упали на улицы города.\n\n"
        "Сообщается, что на себе БПЛА несли взрывчатку из пластида.\n\n"
        "#Белгород #Беспилотники\n\n@anna_news"
    )
    assert post.links == [
        "https://t.me/s/anna_news?q=%23%D0%91%D0%B5%D0%BB%D0%B3%D0%BE%D1%80%D0%BE%D0%B4",
        "https://t.me/s/anna_news?q=%23%D0%91%D0%B5%D1%81%D0%BF%D0%B8%D0%BB%D0%BE%D1%82"
        "%D0%BD%D0%B8%D0%BA%D0%B8",
        "https://t.me/anna_news",
    ]


def test_fragment_round_video() -> None:
    post = one_post("message_media_round_video.html")
    assert (post.channel, post.post_id, post.views) == ("bolshiepushki", "3495", 54_200)
    assert post.raw_text == "" and post.html == ""
    (media,) = post.media
    assert media["type"] == "round_video"
    assert media["url"].startswith(CDN + "abbcfd1c60.mp4?token=GcMS5X7D7HdbCnBm")
    assert media["duration"] == "0:44"


def test_fragment_document() -> None:
    post = one_post("message_media_file.html")
    assert post.published_at == "2022-08-03T19:31:10+00:00" and post.views == 171_900
    assert post.forwarded_from == {
        "name": "Кремлёвская прачка",
        "url": "https://t.me/kremlinprachka/20294",
    }
    assert post.media == [
        {
            "type": "document",
            "url": "https://t.me/oper_goblin/16936",
            "title": "Оппозиционные медиапроекты.pdf",
            "size": "2.1 MB",
        }
    ]
    assert post.raw_text.endswith("финансирование на фоне СВО»")


def test_fragment_poll() -> None:
    post = one_post("message_poll.html")
    assert (post.channel, post.post_id, post.views) == ("it_begin", "488", 1_100)
    (poll,) = post.media
    assert poll["type"] == "poll"
    assert poll["url"] == "https://t.me/it_begin/488"
    assert poll["question"] == "Как лучше?"
    assert poll["poll_type"] == "Anonymous Poll"
    assert poll["options"] == [
        {"text": "Несколько постов в день", "percent": 16},
        {"text": "Один пост в несколько дней", "percent": 83},
        {"text": "Свой вариант в комментарии", "percent": 3},
    ]
    assert poll["voters"] == 222
    assert post.raw_text == ""  # poll text is not the message text


def test_fragment_voice_hidden_forward() -> None:
    post = one_post("message_voice.html")
    assert post.published_at == "2018-04-24T15:28:46+00:00" and post.views == 746
    assert post.forwarded_from == {"name": "Спортивный Екб", "url": None}
    (voice,) = post.media
    assert voice["type"] == "voice"
    assert voice["url"].startswith(CDN + "e7ba63f364.ogg?token=Meja24JdK_9tWEBD")
    assert voice["duration"] == "27:40"
    assert post.raw_text == (
        "Обсудили:\n\n- Сталина не забыть\n- Плохие фильмы\n- Смешные переводы\n"
        "можно, матерные - нет\n\nСлушайте: @kakberadio\nПишите нам: @kakberadiobot"
    )
    assert post.links == ["https://t.me/kakberadio", "https://t.me/kakberadiobot"]


def test_fragment_sticker_with_signature() -> None:
    post = one_post("message_sticker.html")
    assert (post.channel, post.post_id, post.views) == ("channel", "5", 1)
    assert post.author == "🅰️User"
    assert post.media == [{"type": "sticker", "url": CDN + "sticker.tgs?token=H..G"}]


def test_fragment_author_signature() -> None:
    post = one_post("message_with_from_author.html")
    assert (post.post_id, post.raw_text, post.html) == ("4", "test", "test")
    assert post.author == "🅰️rkadiy Ivanov"
    assert post.published_at == "2023-02-28T16:38:34+00:00"
    assert post.edited is False


def test_fragment_text_post() -> None:
    post = one_post("message_text.html")
    assert (post.channel, post.post_id, post.views) == ("topwar_official", "70991", 33_400)
    assert post.published_at == "2023-02-28T08:48:01+00:00"
    paragraphs = post.raw_text.split("\n\n")
    assert paragraphs[0] == "Неопознанный летающий объект замечен в 160 – 200 км от Петербурга"
    assert len(paragraphs) == 3
    assert paragraphs[2].endswith("«Звуки как на параде».")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("media_photo.html", {"type": "photo", "href": "https://t.me/it_begin/346"}),
        ("media_video.html", {"type": "video", "duration": "0:34"}),
        ("media_video_gif.html", {"type": "gif", "href": "https://t.me/channel/6"}),
        (
            "media_video_too_big.html",
            {"type": "video", "url": "https://t.me/anna_news/46940", "duration": "1:09"},
        ),
        ("media_cicrle_video.html", {"type": "round_video", "duration": "0:57"}),
        ("poll.html", {"type": "poll", "question": "Как лучше?", "url": "https://t.me/frag/7"}),
    ],
)
def test_inner_media_blocks(name: str, expected: dict) -> None:
    page = parse_telegram_page(wrapped(real(name)), "https://t.me/s/frag")
    (post,) = page.posts
    (media,) = post.media
    assert media["url"]
    for key, value in expected.items():
        assert media[key] == value


def test_inner_media_urls() -> None:
    gif = parse_telegram_page(wrapped(real("media_video_gif.html")), "u").posts[0].media[0]
    assert gif["url"] == CDN + "77..0c.mp4?token=..."
    video = parse_telegram_page(wrapped(real("media_video.html")), "u").posts[0].media[0]
    assert video["url"].startswith(CDN + "6a6c95d988.mp4?token=TY0hBQwDmK946BVo")
    assert video["thumb"].startswith(CDN + "sXJ2Wl2lf_FSupkaxf9uNlo1YoEsQY5d")


@pytest.mark.parametrize("name", ["link_preview.html", "link_preview_video.html"])
def test_inner_link_preview_blocks(name: str) -> None:
    (post,) = parse_telegram_page(wrapped(real(name)), "https://t.me/s/frag").posts
    assert post.media == []
    assert post.link_preview["url"].startswith("https://")
    assert post.link_preview["title"] in ("Георгий Зотов: ОККУПАЦИЯ ВОЛОСАТЫМ КРАБОМ", "Shalnyak")
    assert post.link_preview["image"].startswith(CDN)


# --------------------------------------------------------------------------- own fixtures

LOCAL_URL = "http://127.0.0.1:8123/s/ShanHai_Notes"


@pytest.fixture(scope="module")
def zh_page() -> Page:
    return parse_telegram_page(fixture("zh_channel_local.html"), LOCAL_URL)


def test_zh_channel_header(zh_page: Page) -> None:
    assert zh_page.title == "山海手记 – Telegram"
    assert zh_page.before is None
    assert zh_page.older == 201  # tme_messages_more wins over <link rel=prev> (199)
    assert zh_page.throttled is False
    ch = zh_page.channel
    assert ch.name == "shanhai_notes"
    assert ch.title == "山海手记"
    assert ch.description == "记录山野徒步与城市散步。\n投稿请私信 @shanhai_inbox_bot\n\n每周五更新"
    assert ch.subscribers == 12_300
    assert ch.source_url == "https://t.me/s/shanhai_notes"
    assert ch.image == "https://cdn.example.invalid/avatar/shanhai.jpg"


def test_zh_posts_served_locally(zh_page: Page) -> None:
    assert [p.post_id for p in zh_page.posts] == ["201", "202", "203", "204", "205"]
    for post in zh_page.posts:
        assert post.channel == "shanhai_notes"
        assert post.source_url == LOCAL_URL
        assert post.url == f"https://t.me/ShanHai_Notes/{post.post_id}"
    assert [p.views for p in zh_page.posts] == [2_400, 857, 1_100, 3_000, None]
    assert zh_page.posts[0].published_at == "2024-05-10T08:30:00+08:00"


def test_zh_multiline_emoji_hashtags_ad(zh_page: Page) -> None:
    post = zh_page.posts[0]
    assert post.raw_text == (
        "周末路线：青石岭环线\n"
        "全程约 12 公里，爬升 600 米。🌄\n\n"
        "出发前请查看天气预报，带足饮用水。\n"
        "#登山 #周末 再看一次天气\n\n" + AD_LINE
    )
    assert post.links == [
        "https://weather.example.invalid/qingshi",
        "https://t.me/s/shanhai_notes?q=%23%E7%99%BB%E5%B1%B1",
        "https://t.me/s/shanhai_notes?q=%23%E5%91%A8%E6%9C%AB",
        "https://t.me/soso_demo_bot?start=ref",
    ]
    assert post.html.startswith("<b>周末路线：青石岭环线</b><br>")
    assert post.html.endswith('<a href="https://t.me/soso_demo_bot?start=ref">启动SOSO机器人</a>')
    assert post.media == [] and post.edited is False and post.author is None


def test_zh_edited_with_signature(zh_page: Page) -> None:
    post = zh_page.posts[1]
    assert post.edited is True
    assert post.author == "小林"
    assert post.raw_text == "更正：集合时间改为早上七点半，地点不变。\n\n" + AD_LINE
    assert post.raw_text.splitlines()[-1] == AD_LINE


def test_zh_reply_quote_is_not_the_text(zh_page: Page) -> None:
    post = zh_page.posts[2]
    assert post.reply_to == "https://t.me/ShanHai_Notes/201"
    assert post.raw_text == "有读者问能否带狗同行：可以，但请全程牵绳。"
    assert post.html == "有读者问能否带狗同行：可以，但请全程牵绳。"
    assert post.media == []  # the reply thumbnail is not media
    assert post.author is None


def test_zh_hidden_forward_and_custom_emoji(zh_page: Page) -> None:
    post = zh_page.posts[3]
    assert post.forwarded_from == {"name": "匿名旅人", "url": None}
    assert post.raw_text == "湖边营地🏔，夜里很冷⛺"
    assert post.media == [
        {
            "type": "photo",
            "url": "https://cdn.example.invalid/photo/lake.jpg",
            "href": "https://t.me/ShanHai_Notes/204",
        }
    ]


def test_zh_service_message(zh_page: Page) -> None:
    post = zh_page.posts[4]
    assert post.service is True
    assert post.raw_text == "频道名称已更改为 «山海手记»"
    assert all(not p.service for p in zh_page.posts[:4])


def test_empty_page_is_throttled() -> None:
    page = parse_telegram_page(
        fixture("empty_before.html"), "http://127.0.0.1:9/s/lantern_notes?before=5", before=5
    )
    assert page.throttled is True
    assert page.posts == []
    assert page.older is None and page.before == 5
    assert page.channel.name == "lantern_notes"
    assert page.channel.title == "Lantern Street Notes"
    assert page.channel.subscribers == 1
    assert page.channel.description is None


def test_no_header_falls_back_to_og_meta() -> None:
    page = parse_telegram_page(fixture("en_no_header.html"), "https://t.me/s/quiet_harbor")
    assert page.older == 88  # from <link rel=prev>, no tme_messages_more on the page
    ch = page.channel
    assert (ch.name, ch.title, ch.subscribers) == ("quiet_harbor", "Quiet Harbor Log", None)
    assert (
        ch.description == "Tide tables and boat gossip.\n\nNot affiliated with the harbor office."
    )
    assert ch.image == "https://cdn.example.invalid/og/harbor.png"
    service, storm, sticker = page.posts

    assert service.service is True
    assert service.raw_text == "Channel photo updated"
    assert service.media == []  # the new channel photo is not post media

    assert storm.raw_text == (
        "Storm warning\nSmall craft should stay in port until Sunday.\n\n"
        "Details: coastal forecast and #harbor\n\n\nStay dry."
    )
    assert storm.edited is False  # "edited" only inside the signature
    assert storm.author == "edited by Sam"
    assert storm.views == 1_200_000
    assert storm.published_at == "2024-01-03T07:15:00-05:00"
    assert storm.links == [
        "https://weather.example.invalid/coast",
        "https://t.me/s/quiet_harbor?q=%23harbor",
    ]
    assert storm.link_preview == {
        "url": "https://weather.example.invalid/coast",
        "site": "Coast Weather",
        "title": "Coastal forecast",
        "description": "Gale force winds expected.\nWaves up to 4 m.",
        "image": None,
    }

    assert sticker.media == [
        {"type": "sticker", "url": "https://cdn.example.invalid/sticker/gull.webp"},
        {
            "type": "audio",
            "url": "https://t.me/quiet_harbor/90",
            "title": "Sea Shanty No. 5",
            "size": "The Deckhands",
        },
    ]


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "body",
    [
        "",
        b"",
        "   ",
        b"\x00\xff\xfe\x80garbage",
        "just some text",
        "<<<>>> </div></div>",
        "<html><body><p>Hello</p></body></html>",
        '<?xml version="1.0" encoding="utf-8"?><html><body>x</body></html>',
        '<div class="tgme_widget_message" data-post="noslash"></div>',
        '<div class="tgme_widget_message" data-post="chan/"></div>',
    ],
)
def test_garbage_gives_empty_page(body: str | bytes) -> None:
    page = parse_telegram_page(body, "https://example.invalid/whatever")
    assert page.posts == []
    assert (page.kind, page.page_type, page.url) == (
        "telegram",
        "channel",
        "https://example.invalid/whatever",
    )
    assert page.throttled is False and page.older is None


def test_minimal_message_has_defaults() -> None:
    page = parse_telegram_page(
        '<div class="tgme_widget_message" data-post="Bare_Chan/12"></div>', "http://127.0.0.1:1/s/x"
    )
    (post,) = page.posts
    assert (post.channel, post.post_id, post.url) == (
        "bare_chan",
        "12",
        "https://t.me/Bare_Chan/12",
    )
    assert post.published_at is None and post.views is None and post.raw_text == ""
    assert post.media == [] and post.links == [] and post.link_preview is None
    assert page.channel.name == "bare_chan"


def test_bytes_follow_meta_charset() -> None:
    html = (
        '<html><head><meta charset="windows-1251"><title>Канал</title></head><body>'
        '<div class="tgme_widget_message" data-post="cp_news/1"><div class="tgme_widget_message_text">'
        "Привет, мир</div></div></body></html>"
    )
    page = parse_telegram_page(html.encode("cp1251"), "https://t.me/s/cp_news")
    assert page.title == "Канал"
    # the codec, named as for every page (archive.extract.html.decode)
    assert page.encoding == "cp1251"
    assert page.posts[0].raw_text == "Привет, мир"
    # undeclared bytes are UTF-8, broken sequences replaced instead of failing
    broken = html.replace("windows-1251", "utf-8").encode("utf-8") + b"\xff"
    assert parse_telegram_page(broken, "u").posts[0].raw_text == "Привет, мир"


def test_malformed_urls_do_not_lose_the_post() -> None:
    html = (
        '<link rel="prev" href="http://[bad/s/x?before=3">'
        '<div class="tgme_widget_message" data-post="odd/3">'
        '<div class="tgme_widget_message_text">see <a href="http://[bad/">this</a></div>'
        '<a class="tgme_widget_message_photo_wrap" style="background-image:url(\'\')"></a>'
        '<span class="tgme_widget_message_views">n/a</span></div>'
    )
    page = parse_telegram_page(html, "http://[bad/s/odd")
    (post,) = page.posts
    assert post.raw_text == "see this"
    assert post.links == ["http://[bad/"]
    assert post.views is None
    assert post.media == [{"type": "photo", "url": None}]
    assert page.older is None and page.channel.name == "odd"


def test_og_fallback_only_without_header() -> None:
    head = '<meta property="og:title" content="Tiny"><meta property="og:description" content="{}">'
    msg = '<div class="tgme_widget_message" data-post="tiny/1"></div>'
    generic = "You can view and join @tiny right away."
    page = parse_telegram_page(f"<html><head>{head.format(generic)}</head>{msg}</html>", "u")
    assert (page.channel.title, page.channel.description) == ("Tiny", None)
    with_header = (
        f"<html><head>{head.format('Meta text')}</head><body>"
        '<div class="tgme_channel_info"><div class="tgme_channel_info_header_title">Tiny Ch</div>'
        f"</div>{msg}</body></html>"
    )
    page = parse_telegram_page(with_header, "u")
    assert (page.channel.title, page.channel.description) == ("Tiny Ch", None)


def test_wrong_declared_charset_decodes_as_web_pages_do() -> None:
    """UTF-8 bytes under ``<meta charset="gbk">``: one decoding for every page, no mojibake."""
    html = (
        '<html><head><meta charset="gbk"><title>城市速递</title></head><body>'
        '<div class="tgme_widget_message" data-post="city_news/7">'
        '<div class="tgme_widget_message_text">地铁三号线今日起试运行。</div></div></body></html>'
    ).encode()
    for page in (
        parse_telegram_page(html, "https://t.me/s/city_news"),
        extract_page(html, "https://t.me/s/city_news", content_type="text/html; charset=gbk"),
    ):
        assert page.kind == "telegram"
        assert page.encoding == "utf-8"
        assert page.title == "城市速递"
        assert page.posts[0].raw_text == "地铁三号线今日起试运行。"


def test_the_empty_page_below_the_first_post_is_the_channels_not_throttled() -> None:
    """What t.me answers ``?before=<first id>``: the channel header and an empty message list,
    without Telegram's throttling marker. It is the channel's page, never a web post page."""
    url = "http://127.0.0.1:9/s/lantern_notes?before=5"
    page = extract_page(fixture("empty_start.html"), url, before=5)
    assert page.kind == "telegram" and page.page_type == "channel"
    assert page.channel is not None and page.channel.name == "lantern_notes"
    assert page.throttled is False and page.posts == [] and page.older is None
    assert page.covered_range() == (1, 4)  # nothing is older than 5


def test_a_post_quoting_the_throttling_marker_is_not_throttling() -> None:
    text = fixture("zh_channel_local.html").decode("utf-8")
    quoted = text.replace("</body>", "<p>tme_no_messages_found</p></body>", 1)
    assert "tme_no_messages_found" in quoted
    assert parse_telegram_page(quoted, "https://t.me/s/x").throttled is False
