import pytest

from archive.errors import BadSource
from archive.source import SOURCE_TELEGRAM, SOURCE_URL, parse_source


@pytest.mark.parametrize(
    "text",
    ["@Durov_News", "t.me/durov_news", "t.me/s/durov_news", "https://t.me/s/durov_news",
     "https://t.me/durov_news", "http://telegram.me/durov_news", "https://t.me/durov_news/123"],
)  # fmt: skip
def test_telegram_forms(text):
    source = parse_source(text)
    assert source.kind == SOURCE_TELEGRAM
    assert source.name == "durov_news"
    assert source.key == "@durov_news"
    assert source.url == "https://t.me/s/durov_news"


@pytest.mark.parametrize(
    "text", ["http://127.0.0.1:8080/s/demo", "https://mirror.example/channel/x?page=2"]
)
def test_url_forms(text):
    source = parse_source(text)
    assert source.kind == SOURCE_URL
    assert source.url == text == source.key


@pytest.mark.parametrize(
    "text, message",
    [
        ("durov", "unknown source"),
        ("", "empty source"),
        ("@a", "not a Telegram channel name"),
        ("@bad-name", "not a Telegram channel name"),
        ("ftp://example.com/x", "unsupported scheme"),
        ("http:///nohost", "no host"),
        ("https://t.me/", "no channel name"),
        ("https://t.me/s/joinchat", "not a Telegram channel name"),
        ("https://t.me/addlist/AbCdEf", "not a Telegram channel name"),
        ("t.me/addemoji/SomeSet", "not a Telegram channel name"),
        ("https://t.me/boost/durov", "not a Telegram channel name"),
        ("https://t.me/contact/AbCdEf", "not a Telegram channel name"),
        ("@setlanguage", "not a Telegram channel name"),
        ("http://example.com:99999/", "bad port"),
    ],
)
def test_bad_sources(text, message):
    with pytest.raises(BadSource, match=message):
        parse_source(text)


@pytest.mark.parametrize(
    "text",
    ["HTTP://T.ME/S/DUROV_X", "https://t.me/S/Durov_X/", "HTTPS://Telegram.Me/DUROV_X/",
     "https://telegram.me/s/durov_x", "t.me/durov_x/123", "T.ME/Durov_X", "t.me/s/durov_x/",
     "https://t.me/s/durov_x?before=50", "https://t.me/durov_x?embed=1",
     "https://www.t.me/durov_x/5?single", "https://telegram.dog/durov_x", "https://t.me./s/durov_x",
     "https://t.me:443/s/durov_x", "http://t.me:80/durov_x", "  @DUROV_X  ",
     "https://www.telegram.me/s/DUROV_X?before=10#frag", "tg://resolve?domain=Durov_X"],
)  # fmt: skip
def test_every_spelling_of_a_telegram_channel_is_one_source(text):
    source = parse_source(text)
    assert (source.kind, source.key, source.url, source.name) == (
        SOURCE_TELEGRAM, "@durov_x", "https://t.me/s/durov_x", "durov_x",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "key"),
    [("HTTP://EXAMPLE.COM/Path?q=1", "http://example.com/Path?q=1"),
     ("http://Example.com:80/a", "http://example.com/a"),
     ("https://example.com:443/", "https://example.com/"),
     ("https://example.com:8443/", "https://example.com:8443/")],
)  # fmt: skip
def test_web_sources_have_one_spelling(text, key):
    assert parse_source(text).key == key


@pytest.mark.parametrize(
    ("text", "message"),
    [("tg://resolve?phone=123", "tg://resolve"), ("tg://join?invite=x", "tg://resolve"),
     ("https://t.me:8443/s/durov_x", "bad port"), ("https://t.me/c/123/4", "not a Telegram"),
     ("https://t.me/+AbCdEf", "not a Telegram"), ("https://t.me/s/", "no channel name")],
)  # fmt: skip
def test_odd_telegram_spellings_are_refused_with_a_reason(text, message):
    with pytest.raises(BadSource, match=message):
        parse_source(text)
