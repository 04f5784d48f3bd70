"""Decoding a fetched page's bytes to text, without mojibake.

Evidence, strongest first: a byte-order mark; bytes that are valid UTF-8
and not plain ASCII (legacy multi-byte text is almost never valid UTF-8 by
chance), or UTF-8 but for a few broken bytes (a page cut short); a charset
declared by HTTP or ``<meta>`` that decodes the bytes without error *and*
reads as its language; else every candidate reading is weighed
(:data:`CANDIDATES`: GB18030 — a superset of GBK and GB2312 —, Big5,
Shift-JIS, EUC-JP, EUC-KR, windows-1251, KOI8-R, windows-1252) and the one
that reads best is taken, if it reads well and clearly better than any
other. A reading is weighed by how ordinary its characters are in its
language (:func:`plausibility`): the frequent level of GB2312, Big5 and JIS
X 0208, the hangul of KS X 1001, Cyrillic and Latin words with the case and
vowels of words.

When no reading wins — a short text that reads as two languages, bytes no
candidate reads well — the page is **undecided** (:attr:`Decoded.problem`
says why): extraction refuses it rather than store mojibake. Labels are
read the way browsers read them: ``gb2312`` and ``gbk`` decode as GB18030,
``iso-8859-1`` as windows-1252, ``shift_jis`` as cp932.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from itertools import groupby

from .frequent import COMMON_HANGUL, COMMON_SIMPLIFIED, COMMON_TRADITIONAL

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
_WEAK = {
    "cp1252", "iso8859-1", "iso8859-15", "cp1251", "koi8-r", "koi8-u", "cp1250", "iso8859-2",
    "iso8859-5", "cp866",
}  # fmt: skip
#: The readings weighed when no declared charset fits, in order of preference on a tie.
CANDIDATES = ["gb18030", "big5hkscs", "cp932", "euc_jp", "cp949", "cp1251", "koi8-r", "cp1252"]
#: Readings that only rival: KOI8-R is taken only when a page declares it (an all-caps
#: windows-1251 text reads as lower-case KOI8-R), yet a good KOI8-R reading leaves the
#: others undecided.
RIVALS_ONLY = frozenset({"koi8-r"})
#: A declared charset is taken when its reading weighs at least this much.
DECLARED_FITS = 0.5
#: A reading is taken when it weighs at least this much ...
READS_WELL = 0.6
#: ... and this much more than any reading that gives another text (more when the winning
#: reading rests on one or two characters).
CLEAR_LEAD = 0.15
_LEAD_FOR_FEW = {1: 0.6, 2: 0.2, 3: 0.2}
#: How many non-ASCII characters a reading is weighed on (the start of the page is enough) ...
_SAMPLE = 4000
#: ... found in at most this much of its text.
_SAMPLE_TEXT = 200_000


@dataclass
class Decoded:
    """A page's text, the codec that decoded it, and why that one."""

    text: str
    encoding: str
    reason: str  # "bom", "utf-8", "declared", "detected", "fallback", "undecided"
    #: Undecided: why no reading of the bytes could be trusted (extraction refuses the page).
    problem: str | None = None


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


# --------------------------------------------------------------------------- weighing a reading

#: The language family each codec is weighed as (a codec not named here cannot be weighed).
FAMILIES = {
    "gb18030": "zh-hans",
    "gbk": "zh-hans",
    "gb2312": "zh-hans",
    "big5hkscs": "zh-hant",
    "big5": "zh-hant",
    "cp950": "zh-hant",
    "cp932": "ja",
    "shift_jis": "ja",
    "euc_jp": "ja",
    "cp949": "ko",
    "euc_kr": "ko",
    "cp1251": "cyrillic",
    "koi8-r": "cyrillic",
    "koi8-u": "cyrillic",
    "iso8859-5": "cyrillic",
    "cp866": "cyrillic",
    "cp1252": "latin",
    "iso8859-1": "latin",
    "iso8859-15": "latin",
    "cp1250": "latin",
    "iso8859-2": "latin",
}

#: Punctuation every CJK text uses (ideographic and full-width forms, quotes, dashes).
_CJK_PUNCTUATION = frozenset(
    "“”‘’…—·、。〈〉《》「」『』【】〔〕〖〗〜・€°℃※●○■□★☆→←↑↓×÷©®™\u00a0«»‹›–"
) | frozenset(chr(c) for c in range(0xFF01, 0xFF5F))
#: Non-letters ordinary in European text, by family (others weigh little).
_SYMBOLS = {
    "cyrillic": frozenset("\u00a0–—…•·°©®№€"),
    "latin": frozenset("\u00a0–—…•·°©®™€£§¿¡’"),
}
#: Quotes that come in pairs: one alone is likely a byte of something else.
_PAIRED = ("«»", "“”")
_CYRILLIC_VOWELS = frozenset("аеёиоуыэюяіїєў")
#: How often Russian writes each letter, by class: the frequent ones weigh 1, these less.
_CYRILLIC_LESS = {
    **dict.fromkeys("яыьгзбчйх", 0.8),
    **dict.fromkeys("жшюцщэфъёіїєґў", 0.5),
}
#: Russian and Ukrainian letters: other Cyrillic letters (ђ, ѕ, ј …) are seldom what a page meant.
_CYRILLIC_USUAL = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў")
#: The one- and two-letter words of Russian and Ukrainian.
_CYRILLIC_SHORT = frozenset(
    "а в и к о с у я "
    "да не на но по за из от до об он мы вы ты то же ли бы их ей им ну ах ох уж во ко со та те ту "
    "эх ой ай её ею ни нь що як це ще чи ці ти ви ми її".split()
)
#: Accented letters that are words alone (French à, Italian è, Portuguese é).
_LATIN_ONE_LETTER = frozenset("àèéÀÈÉ")
#: Characters a GB18030 text holds besides Chinese (only GB18030 spells them).
_EMOJI = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF))


def _bytes_in(ch: str, codec: str) -> bytes | None:
    try:
        return ch.encode(codec)
    except UnicodeEncodeError:
        return None


def _ideograph(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def _kana(ch: str) -> bool:
    return 0x3041 <= ord(ch) <= 0x30FF


def _hangul(ch: str) -> bool:
    return 0xAC00 <= ord(ch) <= 0xD7A3


def _level(ch: str, codec: str, first: tuple[int, int]) -> float:
    """How common a character is by its codec's layout: 0.6 in the frequent first level
    (lead bytes ``first``), 0.3 elsewhere in the codec, 0.1 outside it."""
    raw = _bytes_in(ch, codec)
    if raw is None or len(raw) != 2:
        return 0.1
    return 0.6 if first[0] <= raw[0] <= first[1] else 0.3


def _cjk_weight(ch: str, family: str) -> float:
    """How ordinary one non-ASCII character is in a text of ``family``, 0 to 1."""
    if ch in _CJK_PUNCTUATION:
        return 1.0
    if family == "ko":
        if _hangul(ch):
            if ch in COMMON_HANGUL:
                return 1.0
            return 0.6 if _bytes_in(ch, "euc_kr") is not None else 0.1
        return 0.2 if _ideograph(ch) and _bytes_in(ch, "euc_kr") else 0.0
    if _ideograph(ch):
        if family == "zh-hans":
            return 1.0 if ch in COMMON_SIMPLIFIED else _level(ch, "gb2312", (0xB0, 0xD7))
        if family == "zh-hant":
            return 1.0 if ch in COMMON_TRADITIONAL else _level(ch, "big5", (0xA4, 0xC6))
        if ch in COMMON_SIMPLIFIED or ch in COMMON_TRADITIONAL:
            return 1.0
        return _level(ch, "shift_jis", (0x88, 0x98))
    if family == "ja" and 0xFF61 <= ord(ch) <= 0xFF9F:
        return 0.2  # half-width katakana
    if family == "zh-hans" and any(lo <= ord(ch) <= hi for lo, hi in _EMOJI):
        return 1.0
    return 0.0


#: Kana seldom written today, and the small kana that only follow certain others.
_RARE_KANA = frozenset("ゐゑヰヱぢづヂヅぁぃぅぇぉゎヮヵヶ")
_SMALL_Y = frozenset("ゃゅょャュョ")
#: The kana a small ya/yu/yo may follow (the i-row).
_I_ROW = frozenset("きしちにひみりぎじぢびぴキシチニヒミリギジヂビピ")


def _kana_weight(text: str, i: int) -> float:
    """How ordinary the kana at ``text[i]`` is where it stands."""
    ch = text[i]
    before = text[i - 1] if i else ""
    if ch in _SMALL_Y:
        return 1.0 if before in _I_ROW else 0.0
    if ch in "っッ":
        after = text[i + 1] if i + 1 < len(text) else ""
        return 1.0 if _kana(before) and _kana(after) else 0.3
    if ch in "んン" and not _kana(before) and not _ideograph(before):
        return 0.3  # nothing starts with n
    if ch == "ー":
        return 1.0 if "ァ" <= before <= "ヺ" else 0.3
    return 0.3 if ch in _RARE_KANA else 1.0


def _fits(chars: list[str], family: str) -> float:
    """How the scripts of ``chars`` fit the language: Japanese has kana, Korean hangul."""
    kana = sum(map(_kana, chars)) / len(chars)
    hangul = sum(map(_hangul, chars)) / len(chars)
    if family == "ja":
        return 1.0 if kana >= 0.05 else 0.75
    if family == "ko":
        return 1.0 if hangul >= 0.2 else 0.5
    return 1.0 if kana < 0.05 and hangul < 0.05 else 0.5


def _words(text: str):
    """The runs of letters of ``text`` (``str.isalpha``: no digits, no ``²`` or ``¼``)."""
    return ("".join(run) for alpha, run in groupby(text, str.isalpha) if alpha)


def _cased(word: str) -> bool:
    """Written as words are: lower case, Title case, or UPPER case."""
    return word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())


def _cyrillic_word(word: str) -> float:
    if not all(0x400 <= ord(ch) <= 0x4FF for ch in word) or not _cased(word):
        return 0.0
    lower = word.lower()
    caps = 0.75 if word.isupper() and len(word) > 1 else 1.0
    if len(word) <= 2:
        return caps * (1.0 if lower in _CYRILLIC_SHORT else 0.5)
    if not any(ch in _CYRILLIC_VOWELS for ch in lower):
        return 0.0
    if re.search(r"[^аеёиоуыэюяіїєўьъй]{5}", lower) or re.search(r"[ьъ][ьъыйь]", lower):
        return 0.0  # five consonants in a row; a sign no Russian word spells
    if lower[0] in "ьъы":
        return 0.0
    if any(ch not in _CYRILLIC_USUAL for ch in lower):
        return 0.2
    return caps * sum(_CYRILLIC_LESS.get(ch, 1.0) for ch in lower) / len(lower)


def _latin_word(word: str) -> float:
    if not all(ord(ch) < 0x180 for ch in word) or not _cased(word):
        return 0.0
    if len(word) == 1:
        return 1.0 if word in _LATIN_ONE_LETTER else 0.0
    if not any(ch.isascii() for ch in word):
        return 0.0  # a word all of accented letters: mojibake
    wide = [ch for ch in word if not ch.isascii()]
    weight = sum(1.0 if ch.islower() else 0.9 for ch in wide) / len(wide)
    return weight * (0.75 if word.isupper() else 1.0)


def _word_weights(text: str, family: str) -> tuple[float, int]:
    """Single-byte families: (sum of weights, count) over the non-ASCII letters and symbols."""
    total = weight = 0.0
    judge = _cyrillic_word if family == "cyrillic" else _latin_word
    letters = lowercase = 0
    for word in _words(text):
        wide = sum(1 for ch in word if ord(ch) > 127)
        if not wide:
            continue
        total += wide
        weight += wide * judge(word)
        letters += len(word)
        lowercase += sum(ch.islower() for ch in word)
        if total >= _SAMPLE:
            break
    symbols = _SYMBOLS[family]
    paired = {ch: all(other in text for other in pair) for pair in _PAIRED for ch in pair}
    for ch in text:
        if ord(ch) > 127 and not ch.isalpha():
            total += 1
            if ch in paired:
                weight += 1.0 if paired[ch] else 0.2
            else:
                weight += 1.0 if ch in symbols else 0.1
    if family == "cyrillic" and letters >= 8 and lowercase < 0.4 * letters:
        weight /= 2  # running text is mostly lower case
    return weight, int(total)


#: Scripts a short UTF-8 text may well be in besides Latin and Cyrillic (Greek, Hebrew, Arabic).
_OTHER_SCRIPTS = ((0x370, 0x3FF), (0x590, 0x5FF), (0x600, 0x6FF))


def _utf8_score(text: str) -> float:
    """How a UTF-8 reading of two-byte characters only reads, 0 to 1: each word as Latin or
    Cyrillic text, Greek, Hebrew and Arabic as those scripts, Latin-1 signs (±, ¼, µ …) as
    signs; characters of rarer blocks (Armenian, IPA, combining marks …) weigh little."""
    total = weight = 0.0
    text = text[:_SAMPLE_TEXT]

    def other_script(ch: str) -> bool:
        return any(lo <= ord(ch) <= hi for lo, hi in _OTHER_SCRIPTS)

    for word in _words(text):
        wide = sum(1 for ch in word if ord(ch) > 127)
        if not wide:
            continue
        if all(0x400 <= ord(ch) <= 0x4FF for ch in word):
            judged = _cyrillic_word(word)
        elif all(ord(ch) < 0x180 for ch in word):
            judged = _latin_word(word)
        else:
            judged = 0.8 if all(other_script(ch) or ch.isascii() for ch in word) else 0.1
        total += wide
        weight += wide * judged
    for ch in text:
        if ord(ch) > 127 and not ch.isalpha():
            total += 1
            signs = 0xA0 <= ord(ch) <= 0xBF or ch in "×÷" or ch in _SYMBOLS["cyrillic"]
            weight += 0.9 if signs else 0.8 if other_script(ch) else 0.1
    return weight / total if total else 1.0


def plausibility(text: str, codec: str) -> float | None:
    """How much ``text`` (decoded with ``codec``) reads like that codec's language, 0 to 1.

    The mean weight of its non-ASCII characters: 1 for what its language
    writes every day (frequent ideographs, kana, hangul, punctuation; words
    with the case and vowels of words), less for rare characters, 0 for what
    no text of that language holds. None when ``codec`` has no model.
    """
    family = FAMILIES.get(codec)
    if family is None:
        return None
    text = text[:_SAMPLE_TEXT]
    if family in ("cyrillic", "latin"):
        weight, total = _word_weights(text, family)
        return weight / total if total else 0.0
    chars: list[str] = []
    weights: list[float] = []
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            chars.append(ch)
            weights.append(
                _kana_weight(text, i) if family == "ja" and _kana(ch) else _cjk_weight(ch, family)
            )
            if len(chars) >= _SAMPLE:
                break
    if not chars:
        return 0.0
    return sum(weights) / len(chars) * _fits(chars, family)


@dataclass
class _Reading:
    codec: str
    text: str
    score: float


def _readings(body: bytes, codecs_: list[str]) -> list[_Reading]:
    readings = []
    for codec in codecs_:
        text = _strict(body, codec)
        if text is not None:
            readings.append(_Reading(codec, text, plausibility(text, codec) or 0.0))
    return readings


def _wide_part(text: str) -> str:
    return "".join(ch for ch in text[:_SAMPLE_TEXT] if ord(ch) > 127)


def weigh(body: bytes, declared: list[str] | None = None) -> tuple[_Reading | None, str]:
    """The reading of ``body`` to take (None: none) and what was weighed, said for people."""
    declared = declared or []
    order = list(dict.fromkeys([*declared, *CANDIDATES]))
    readings = _readings(body, order)
    if not readings:
        return None, "no candidate charset reads the bytes"
    said = ", ".join(f"{r.codec} {r.score:.2f}" for r in sorted(readings, key=lambda r: -r.score))
    eligible = [r for r in readings if r.codec not in RIVALS_ONLY or r.codec in declared]
    if not eligible:
        return None, f"no reading of the bytes reads as text ({said})"
    best = max(eligible, key=lambda r: (r.score, -order.index(r.codec)))
    wide = _wide_part(best.text)
    rivals = [r for r in readings if _wide_part(r.text) != wide]
    runner = max(rivals, key=lambda r: r.score) if rivals else None
    if best.score < READS_WELL:
        return None, f"no reading of the bytes reads as text ({said})"
    lead = _LEAD_FOR_FEW.get(len(wide), CLEAR_LEAD)
    if runner is not None and best.score - runner.score < lead - 1e-9:
        return None, f"the bytes read as {best.codec} or {runner.codec} alike ({said})"
    return best, said


def _few_short_sequences(text: str) -> bool:
    """Whether a UTF-8 text holds only a few non-ASCII characters, all of two bytes: weak
    evidence, as legacy bytes form such sequences by chance."""
    wide = [ch for ch in text if ord(ch) > 127]
    return len(wide) < 8 and all(ord(ch) < 0x800 for ch in wide)


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
        if not _few_short_sequences(text):
            return Decoded(text, "utf-8", "utf-8")
        # A few two-byte characters may be legacy bytes that happen to be UTF-8 ("谢谢" in
        # GBK is "лл"). Valid UTF-8 is never read otherwise, but it is not trusted either
        # when it reads badly or another reading reads clearly better.
        declared = [e for e in declared_charsets(body, content_type) if e != "utf-8"]
        utf8 = _utf8_score(text)
        rival = max(_readings(body, [*declared, *CANDIDATES]), key=lambda r: r.score, default=None)
        if rival is None or rival.score < READS_WELL or rival.score - utf8 < CLEAR_LEAD:
            return Decoded(text, "utf-8", "utf-8")
        _, said = weigh(body, declared)
        return Decoded(
            text, "utf-8", "undecided",
            problem=f"the page's encoding cannot be told: utf-8 {utf8:.2f}, {said}",
        )  # fmt: skip
    text = _nearly_utf8(body)
    if text is not None:
        return Decoded(text, "utf-8", "utf-8")
    declared = [e for e in declared_charsets(body, content_type) if e != "utf-8"]
    for encoding in declared:
        if encoding in _WEAK:
            continue
        text = _strict(body, encoding)
        if text is None:
            continue
        score = plausibility(text, encoding)
        if score is None or score >= DECLARED_FITS:  # a codec we cannot weigh is believed
            return Decoded(text, encoding, "declared")
    reading, said = weigh(body, declared)
    if reading is not None:
        reason = "declared" if reading.codec in declared else "detected"
        return Decoded(reading.text, reading.codec, reason)
    return Decoded(
        body.decode("utf-8", errors="replace"),
        "utf-8",
        "undecided",
        problem=f"the page's encoding cannot be told: {said}",
    )
