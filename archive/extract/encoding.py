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
language (:func:`archive.extract.plausibility.plausibility`).

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

from .plausibility import plausibility, utf8_plausibility

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
#: How much of a reading's text is compared with another's.
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
        utf8 = utf8_plausibility(text)
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
