"""The full-text indexes of the current clean text, and how the writer keeps them in sync.

Two FTS5 indexes over ``posts.title`` and ``posts.text``, both kept in sync
by triggers:

- ``posts_fts`` (trigram tokenizer, external content): any run of three or
  more characters, Latin or Chinese — what Datasette's search box uses;
- ``posts_fts_cjk`` (unicode61, contentless): every CJK character a word of
  its own, so a one- or two-character Chinese term (地铁) is an indexed
  phrase instead of a scan of every post; Latin words are words.

The second index is fed by :func:`cjk_spaced`, which the writer's
connections register as the SQL function ``chanarchive_cjk`` (its triggers
call it). Only chanarchive writes the archive; a tool that writes ``posts``
on its own connection must register the function first.
"""

from __future__ import annotations

import re
import sqlite3

#: The name of the contentless index where each CJK character is a word.
CJK_INDEX = "posts_fts_cjk"
#: The SQL function that spaces out CJK characters for :data:`CJK_INDEX`.
CJK_FUNCTION = "chanarchive_cjk"

#: Runs of CJK ideographs, kana, hangul syllables and compatibility ideographs.
_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f]+"
)


def _spaced_run(match: re.Match) -> str:
    return " " + " ".join(match.group()) + " "


def cjk_spaced(text: str | None) -> str | None:
    """``text`` with every CJK character set apart, as a word of its own.

    A run of CJK characters is spaced out at once (one call per run, not per
    character: the index's triggers call this for every post written).
    """
    if not text:
        return text
    return _CJK.sub(_spaced_run, text)


def register_functions(conn: sqlite3.Connection) -> None:
    """The SQL functions the archive's triggers call, on a writer's connection."""
    conn.create_function(CJK_FUNCTION, 1, cjk_spaced, deterministic=True)


def create_cjk_index(conn: sqlite3.Connection) -> None:
    """Create :data:`CJK_INDEX`, fill it from ``posts``, and its triggers (a migration step)."""
    spaced = CJK_FUNCTION
    conn.execute(
        f"CREATE VIRTUAL TABLE {CJK_INDEX} USING fts5("
        "title, text, content='', tokenize='unicode61 remove_diacritics 2')"
    )
    conn.execute(
        f"INSERT INTO {CJK_INDEX} (rowid, title, text)"
        f" SELECT id, {spaced}(title), {spaced}(text) FROM posts"
    )
    delete_old = (
        f"INSERT INTO {CJK_INDEX} ({CJK_INDEX}, rowid, title, text)"
        f" VALUES ('delete', old.id, {spaced}(old.title), {spaced}(old.text));"
    )
    insert_new = (
        f"INSERT INTO {CJK_INDEX} (rowid, title, text)"
        f" VALUES (new.id, {spaced}(new.title), {spaced}(new.text));"
    )
    conn.execute(f"CREATE TRIGGER posts_cjk_ai AFTER INSERT ON posts BEGIN {insert_new} END")
    conn.execute(f"CREATE TRIGGER posts_cjk_ad AFTER DELETE ON posts BEGIN {delete_old} END")
    conn.execute(
        "CREATE TRIGGER posts_cjk_au AFTER UPDATE OF title, text ON posts"
        f" BEGIN {delete_old} {insert_new} END"
    )
