"""Decoding pages: declared charsets honoured, CJK encodings detected, no mojibake."""

from __future__ import annotations

import codecs

import pytest

from archive.errors import NotAPage
from archive.extract import extract_page
from archive.extract.encoding import declared_charsets, decode_html, normalize_label

ZH = "【美食】冬季限定：老城区几家糖水铺开始供应桂圆红枣炖蛋，暖胃又暖心。"
TW = "【美食】冬季限定：老城區幾家糖水鋪開始供應桂圓紅棗燉蛋，暖胃又暖心。"
JA = "夜市は今週金曜日から東門の新しい場所で開かれます。屋台の番号は変わりません。"
KO = "야시장은 이번 주 금요일부터 동문 옆 새 장소에서 열립니다."


def page(text: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize(
    ("text", "codec"),
    [(ZH, "gbk"), (ZH, "gb18030"), (TW, "big5"), (JA, "shift_jis"), (JA, "euc_jp"), (KO, "euc_kr")],
)
@pytest.mark.parametrize(
    "content_type", [None, "text/html", "text/html; charset=utf-8", "text/html; charset=ISO-8859-1"]
)
def test_undeclared_or_wrongly_declared_cjk_is_detected(text, codec, content_type):
    decoded = decode_html(page(text).encode(codec), content_type)
    assert text in decoded.text
    assert decoded.reason == "detected"


def test_a_declared_charset_that_fits_is_used():
    body = page(TW, '<meta charset="big5">').encode("big5")
    decoded = decode_html(body)
    assert TW in decoded.text and decoded.reason == "declared" and decoded.encoding == "big5hkscs"
    assert decode_html(page(ZH).encode("gbk"), "text/html; charset=GB2312").reason == "declared"


def test_valid_utf8_wins_over_a_wrong_legacy_declaration():
    body = page(ZH, '<meta http-equiv="Content-Type" content="text/html; charset=gbk">').encode()
    decoded = decode_html(body, "text/html; charset=gbk")
    assert ZH in decoded.text and decoded.encoding == "utf-8"


def test_latin1_pages_and_byte_order_marks():
    latin = page("Café crème brûlée, naïve façade").encode("cp1252")
    assert "Café crème" in decode_html(latin, "text/html; charset=iso-8859-1").text
    assert "Café crème" in decode_html(latin).text
    bom = codecs.BOM_UTF8 + page(ZH).encode()
    decoded = decode_html(bom)
    assert decoded.reason == "bom" and decoded.text.startswith("<html>")


def test_labels_read_as_browsers_read_them():
    assert normalize_label("GB2312") == "gb18030"
    assert normalize_label("x-sjis") == "cp932"
    assert normalize_label("ISO-8859-1") == "cp1252"
    assert normalize_label("no-such-charset") is None
    body = b'<meta charset="gbk">'
    assert declared_charsets(body, "text/html; charset=utf-8") == ["utf-8", "gb18030"]


def test_utf8_cut_short_stays_utf8_and_legacy_bytes_are_not_taken_for_it():
    body = page(ZH).encode("utf-8")
    cut = body[: body.index("。".encode()) + 1]  # ends inside the last character
    decoded = decode_html(cut, "text/html; charset=gbk")
    assert decoded.encoding == "utf-8" and ZH[:-1] in decoded.text
    legacy = page(ZH).encode("gbk")
    assert decode_html(legacy).encoding == "gb18030"


# --------------------------------------------------------------------------- wrong or no charset

#: Short and long texts in the legacy encodings mirror pages use.
LEGACY = [
    ("中文内容，编码测试", ["gbk", "gb18030"]),
    ("你好", ["gbk", "gb18030"]),
    ("谢谢", ["gbk", "gb18030"]),
    ("测试", ["gbk", "gb18030"]),
    ("今天天气很好，我们去公园散步吧。", ["gbk", "gb18030"]),
    (ZH, ["gbk", "gb18030"]),
    ("地铁二号线每四分钟一班。📢", ["gb18030"]),
    ("中文內容，編碼測試", ["big5"]),
    ("臺灣", ["big5"]),
    (TW, ["big5"]),
    ("こんにちは", ["shift_jis"]),
    ("日本語のテキスト", ["shift_jis", "euc_jp"]),
    (JA, ["shift_jis", "euc_jp"]),
    ("Тест", ["cp1251"]),
    ("Привет, мир", ["cp1251"]),
    ("Новости дня: курс рубля вырос", ["cp1251"]),
    ("СРОЧНО: новости", ["cp1251"]),
    (KO, ["euc_kr"]),
    ("Café crème brûlée, naïve façade", ["cp1252"]),
]
DECLARED = [
    (None, ""),
    ("text/html", ""),
    ("text/html; charset=utf-8", ""),
    (None, '<meta charset="utf-8">'),
    ("text/html; charset=ISO-8859-1", ""),
    (None, '<meta http-equiv="Content-Type" content="text/html; charset=latin-1">'),
]


@pytest.mark.parametrize(("text", "codecs_"), LEGACY, ids=[t[:6] for t, _ in LEGACY])
@pytest.mark.parametrize(("content_type", "head"), DECLARED)
def test_wrongly_declared_legacy_text_is_read_right_or_refused_never_mojibake(
    text, codecs_, content_type, head
):
    for codec in codecs_:
        decoded = decode_html(page(text, head).encode(codec), content_type)
        if decoded.reason == "undecided":
            assert decoded.problem and "cannot be told" in decoded.problem
            continue
        assert text in decoded.text, (codec, decoded.encoding, decoded.text)


@pytest.mark.parametrize(
    "text",
    ["中文内容，编码测试", "今天天气很好，我们去公园散步吧。", ZH, TW, JA, KO,
     "Новости дня: курс рубля вырос", "Café crème brûlée, naïve façade"],
)  # fmt: skip
def test_ordinary_texts_are_read_not_refused(text):
    codec = {ZH: "gbk", TW: "big5", JA: "shift_jis", KO: "euc_kr"}.get(text)
    codec = codec or ("cp1251" if "курс" in text else "cp1252" if "Café" in text else "gbk")
    for content_type, head in DECLARED:
        decoded = decode_html(page(text, head).encode(codec), content_type)
        assert decoded.reason in ("declared", "detected") and text in decoded.text


def test_the_issue_example_is_stored_right():
    """``中文内容，编码测试`` on a GBK page said to be UTF-8 became ``櫓匡코휭…`` (cp949)."""
    body = page("中文内容，编码测试", '<meta charset="utf-8">').encode("gbk")
    decoded = decode_html(body, "text/html; charset=utf-8")
    assert "中文内容，编码测试" in decoded.text and decoded.encoding == "gb18030"


def test_legacy_bytes_that_happen_to_be_utf8_are_not_taken_for_it():
    """ "谢谢" in GBK is the valid UTF-8 "лл", "预约" is "ԤԼ": refused, never stored as that."""
    for text in ("谢谢", "预约"):
        body = page(text).encode("gbk")
        body.decode("utf-8")  # valid UTF-8 indeed
        decoded = decode_html(body)
        assert decoded.reason == "undecided" or text in decoded.text


@pytest.mark.parametrize(
    "text", ["да", "Café", "±5%", "¼ cup", "naïve", "שלום", "Γειά", "µs", "Ёлка", "³"]
)
def test_short_utf8_stays_utf8(text):
    decoded = decode_html(page(text).encode())
    assert decoded.encoding == "utf-8" and decoded.reason == "utf-8" and text in decoded.text


def test_a_page_whose_encoding_cannot_be_told_is_refused_with_the_reason():
    body = page("#展").encode("gbk")  # one character: GB18030, windows-1251 and UTF-8 alike
    with pytest.raises(NotAPage, match="encoding cannot be told"):
        extract_page(body, "http://127.0.0.1:1/post/1")
