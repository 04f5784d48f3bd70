"""Decoding a fetched page's bytes to text, without mojibake.

Evidence, strongest first: a byte-order mark; bytes that are valid UTF-8
and not plain ASCII (legacy multi-byte text is almost never valid UTF-8 by
chance), or UTF-8 but for a few broken bytes (a page cut short); a charset declared by HTTP or ``<meta>`` that decodes the bytes
without error; detection among the CJK encodings (GB18030 — a superset of
GBK and GB2312 —, Big5, Shift-JIS, EUC-JP, EUC-KR) when nothing declared
fits; a declared single-byte charset (ISO-8859-1, windows-1252), which
decodes any bytes and so proves nothing, only last. Labels are read the way
browsers read them: ``gb2312`` and ``gbk`` decode as GB18030, ``iso-8859-1``
as windows-1252, ``shift_jis`` as cp932.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE
)
_HTTP_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

#: Labels browsers treat as another (usually a superset) encoding.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}
#: Single-byte encodings: they decode (nearly) any bytes, so decoding proves nothing.
_WEAK = {"cp1252", "latin_1", "iso8859-15", "cp1251", "koi8-r", "cp1250"}
#: What detection may choose from when the declared charset does not fit.
DETECTABLE = ["gb18030", "big5hkscs", "cp932", "euc_jp", "cp949"]


@dataclass
class Decoded:
    """A page's text, the codec that decoded it, and why that one."""

    text: str
    encoding: str
    reason: str  # "bom", "utf-8", "declared", "detected", "fallback"


def normalize_label(label: str) -> str | None:
    """The Python codec for a charset label (browser aliases applied), or None if unknown."""
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None = None) -> list[str]:
    """The codecs named by the HTTP Content-Type, then by ``<meta>``, in that order."""
    found = []
    if content_type:
        match = _HTTP_CHARSET.search(content_type)
        if match:
            found.append(match.group(1))
    match = _META_CHARSET.search(body[:8192])
    if match:
        found.append(match.group(1).decode("ascii", "replace"))
    codecs_found = []
    for label in found:
        name = normalize_label(label)
        if name and name not in codecs_found:
            codecs_found.append(name)
    return codecs_found


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


#: The basic character set of each detectable codec: text in that language stays inside it.
_BASIC = {
    "gb18030": "gb2312",
    "big5hkscs": "big5",
    "cp932": "shift_jis",
    "euc_jp": "euc_jp",
    "cp949": "euc_kr",
}


def _script(ch: str) -> str:
    code = ord(ch)
    if 0x3040 <= code <= 0x30FF:
        return "kana"
    if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0xFF61 <= code <= 0xFF9F or 0xE000 <= code <= 0xF8FF:
        return "odd"  # half-width katakana, private use: rare in real text
    return "other"


def plausibility(text: str, codec: str) -> float:
    """How much ``text`` (decoded with ``codec``) reads like that codec's language, 0 to 1.

    The share of its non-ASCII characters inside the codec's basic character
    set, halved when the scripts do not fit the language (Japanese without
    kana, Korean without hangul, Chinese full of either).
    """
    chars = [ch for ch in text[:20000] if ord(ch) > 127]
    if not chars:
        return 0.0
    basic = _BASIC.get(codec)
    scripts = {"kana": 0, "hangul": 0, "odd": 0, "other": 0}
    inside = 0
    for ch in chars:
        kind = _script(ch)
        scripts[kind] += 1
        if kind == "odd" or basic is None:
            continue
        try:
            # Two bytes at most: Python's euc_kr spells rare hangul as 8-byte
            # sequences, euc_jp rare kanji (JIS X 0212) as three.
            inside += len(ch.encode(basic)) <= 2
        except UnicodeEncodeError:
            pass
    share = inside / len(chars)
    kana, hangul = scripts["kana"] / len(chars), scripts["hangul"] / len(chars)
    if codec in ("cp932", "euc_jp"):
        fits = kana >= 0.05
    elif codec == "cp949":
        fits = hangul >= 0.2
    else:
        fits = kana < 0.05 and hangul < 0.05
    return share if fits else share / 2


def detect(body: bytes) -> str | None:
    """The CJK codec that reads ``body`` best (strictly, and as a language), or None.

    charset-normalizer ranks the candidates; :func:`plausibility` has the last
    word, because on short texts the ranking alone confuses Shift-JIS with
    Korean and GBK with Big5.
    """
    from charset_normalizer import from_bytes

    ranked = []
    for match in from_bytes(body, cp_isolation=DETECTABLE, threshold=0.3):
        name = normalize_label(match.encoding)
        if name and name not in ranked:
            ranked.append(name)
    ranked += [c for c in DETECTABLE if c not in ranked]
    scored = []
    for rank, codec in enumerate(ranked):
        text = _strict(body, codec)
        if text is not None:
            scored.append((plausibility(text, codec), -rank, codec))
    if not scored:
        return None
    score, _, codec = max(scored)
    return codec if score >= 0.5 else None


def _nearly_utf8(body: bytes) -> str | None:
    """UTF-8 text with a few broken bytes (a page cut short, a stray byte), repaired; else None.

    Legacy multi-byte text is not UTF-8 in most of its sequences; a real
    UTF-8 page with a defect is, in all but a handful.
    """
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd") - body.count("\ufffd".encode())
    wide = sum(1 for ch in text if ord(ch) > 127) - broken
    if broken <= 3 and wide >= 8 * broken:
        return text
    return None


def decode_html(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a page; see the module docstring for the order of evidence."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            text = _strict(body, encoding)
            if text is not None:
                return Decoded(text, encoding.removesuffix("-sig"), "bom")
    if body.isascii():
        return Decoded(body.decode("ascii"), "utf-8", "utf-8")
    text = _strict(body, "utf-8")
    if text is not None:
        return Decoded(text, "utf-8", "utf-8")
    text = _nearly_utf8(body)
    if text is not None:
        return Decoded(text, "utf-8", "utf-8")
    declared = [e for e in declared_charsets(body, content_type) if e != "utf-8"]
    for encoding in declared:
        if encoding not in _WEAK:
            text = _strict(body, encoding)
            if text is not None:
                return Decoded(text, encoding, "declared")
    detected = detect(body)
    if detected is not None:
        return Decoded(body.decode(detected), detected, "detected")
    for encoding in declared:
        text = _strict(body, encoding)
        if text is not None:
            return Decoded(text, encoding, "declared")
    fallback = _strict(body, "cp1252")
    if fallback is not None and not declared:
        return Decoded(fallback, "cp1252", "fallback")
    return Decoded(body.decode("utf-8", errors="replace"), "utf-8", "fallback")
