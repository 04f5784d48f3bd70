"""How much a page's text, read with one codec, reads like that codec's language.

:mod:`.encoding` weighs every reading of a legacy page's bytes with
:func:`plausibility` and takes the one that reads best, if it reads well and
clearly better than the others. Mojibake is made of characters a language
rarely writes, in orders it never writes them; real text mostly of its few
hundred most frequent ones (:mod:`.frequent`). Each non-ASCII character of a
reading weighs 1 when its language writes it every day, less when it is
rare, 0 when no text of that language holds it:

- Chinese: the frequent hanzi of its script, then GB2312's first level
  (simplified) or Big5's frequent one (traditional), then the rest;
- Japanese: kana where kana may stand (a small ya after an i-row kana …),
  the frequent kanji, JIS X 0208's first level, then the rest;
- Korean: the frequent hangul, the rest of KS X 1001's, little for hanja;
- Cyrillic and Latin (single-byte codecs, which read any bytes): whole
  words, written as words are (case, vowels, no five consonants in a row,
  the few one- and two-letter words), Russian letters by how often they
  are used, and the signs European text uses (quotes in pairs).

:func:`utf8_plausibility` weighs a UTF-8 text of a few two-byte characters,
which legacy bytes form by chance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import groupby

from .frequent import COMMON_HANGUL, COMMON_SIMPLIFIED, COMMON_TRADITIONAL

#: How many non-ASCII characters a reading is weighed on (the start of the page is enough) ...
_SAMPLE = 4000
#: ... found in at most this much of its text.
_SAMPLE_TEXT = 200_000

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


def _words(text: str) -> Iterator[str]:
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


def utf8_plausibility(text: str) -> float:
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
