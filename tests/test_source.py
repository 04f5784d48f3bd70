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
        ("http://example.com:99999/", "bad port"),
    ],
)
def test_bad_sources(text, message):
    with pytest.raises(BadSource, match=message):
        parse_source(text)
