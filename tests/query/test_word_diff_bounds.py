"""A word diff is bounded in time: a hostile pair of texts takes the shortcut, never minutes."""

from __future__ import annotations

import time

from archive.query.history import ADDED, EQUAL, REMOVED, word_segments


def _joined(runs, *kinds):
    return "".join(text for kind, text in runs if kind in kinds)


def test_megabytes_of_one_repeated_character_diff_in_seconds():
    old, new = "长" * 1_000_000, "长" * 999_999 + "短"
    started = time.monotonic()
    runs = word_segments(old, new)
    assert time.monotonic() - started < 10
    assert runs == [(EQUAL, "长" * 999_999), (REMOVED, "长"), (ADDED, "短")]


def test_a_rewritten_hostile_text_is_removed_and_added_whole():
    old, new = "a " * 200_000 + "end", "b " * 200_000 + "end"
    started = time.monotonic()
    runs = word_segments(old, new)
    assert time.monotonic() - started < 10
    assert _joined(runs, EQUAL, REMOVED) == old and _joined(runs, EQUAL, ADDED) == new


def test_an_ordinary_edit_is_still_marked_word_by_word():
    runs = word_segments("地铁3号线南延段今日起试运行", "轻轨3号线南延段今日起试运行")
    assert runs[:2] == [(REMOVED, "地铁"), (ADDED, "轻轨")]
