"""CSV cells that a spreadsheet opens as text, never as a formula.

A spreadsheet (Excel, LibreOffice, Google Sheets) runs a cell that begins
with ``=``, ``+``, ``-`` or ``@`` as a formula — ``=HYPERLINK(…)`` leaks
what the sheet holds, ``=cmd|' /C calc'!A0`` starts a program — and some
take a cell beginning with a tab or a carriage return the same way. The
text of a crawled post is whatever its author wrote, so every CSV this
project writes goes through :func:`neutralise`, as OWASP's CSV injection
guidance advises: such a cell gets one apostrophe in front, which a
spreadsheet reads as "this cell is text" and does not show.

The rule (:func:`needs_mark`), for text cells only (numbers are written
as numbers):

- a cell beginning with a tab or a carriage return is marked;
- a cell whose first character that is neither white space nor an
  invisible format character (a zero-width space, a byte-order mark) is
  ``=``, ``+``, ``-`` or ``@`` — or their full-width forms ``＝ ＋ － ＠``,
  which East Asian input turns into them — is marked: some spreadsheets
  trim leading spaces on import, so ``  =1+1`` counts;
- but a cell that is a plain decimal number (``-5``, ``+1.5``, ``-2e3``:
  nothing before or after it) is not: a spreadsheet reads it as that
  number, and there is no formula in it;
- a cell beginning with an apostrophe is marked when what follows it would
  be marked (or is such a cell itself), so that a mark can always be told
  apart from an apostrophe of the text.

:func:`restore` takes the mark off again; it is the exact inverse of
:func:`neutralise` (``sources import`` reads back what ``sources export``
wrote). The exact text is also in the jsonl export, and ``--raw-csv``
writes CSV without marks, for programs.

A UTF-8 byte-order mark (:data:`BOM`) in front of a CSV file makes Excel
read it as UTF-8 (Chinese shows right); without it Excel guesses the
locale's code page. It is written only when asked (``--excel``): a BOM
surprises the programs that read CSV.
"""

from __future__ import annotations

import re
import unicodedata

#: What a formula may begin with, after any leading white space.
FORMULA_STARTS = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
#: Characters that make a spreadsheet take the cell as a formula even in the first place.
CONTROL_STARTS = ("\t", "\r")
#: The mark a spreadsheet reads as "text": one apostrophe in front.
MARK = "'"
#: The UTF-8 byte-order mark, as text (a file opened with ``encoding="utf-8"``).
BOM = "\ufeff"


def _skippable(char: str) -> bool:
    """White space, or an invisible format character (zero-width space, BOM, bidi marks)."""
    return char.isspace() or unicodedata.category(char) == "Cf"


#: A plain decimal number, which a spreadsheet reads as a number, never as a formula.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _formula_like(text: str) -> bool:
    if text.startswith(CONTROL_STARTS):
        return True
    if _NUMBER.fullmatch(text):
        return False
    for char in text:
        if not _skippable(char):
            return char in FORMULA_STARTS
    return False


def needs_mark(text: str) -> bool:
    """Whether :func:`neutralise` puts an apostrophe in front of ``text``."""
    while True:
        if _formula_like(text):
            return True
        if not text.startswith(MARK):
            return False
        text = text[1:]


def neutralise(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text (see the module's rule)."""
    return MARK + text if needs_mark(text) else text


def restore(cell: str) -> str:
    """The text :func:`neutralise` made ``cell`` from: its mark, if it has one, taken off."""
    if cell.startswith(MARK) and needs_mark(cell[1:]):
        return cell[1:]
    return cell
