"""Decoding pages: declared charsets honoured, CJK encodings detected, no mojibake."""

from __future__ import annotations

import codecs

import pytest

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
