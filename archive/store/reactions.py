"""Reactions under a post: the latest on ``posts.reactions``, the series in ``post_reactions``.

Reactions are counts, like views: they never make a new version. A row is
added to ``post_reactions`` only when the reactions differ from the post's
latest (the first observation included); a page without a reactions block
(``Post.reactions`` None) records nothing.
"""

from __future__ import annotations

import json

import sqlite_utils

__all__ = ["reactions_json", "record_reactions"]


def reactions_json(reactions: dict[str, int]) -> str:
    """The stored form: JSON with sorted keys, so equal reactions compare equal as text."""
    return json.dumps(reactions, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def record_reactions(
    db: sqlite_utils.Database, post_pk: int, now: str, reactions: dict[str, int] | None
) -> bool:
    """Keep ``reactions`` as the post's latest and in the series when they changed; True if so."""
    if reactions is None:
        return False
    value = reactions_json(reactions)
    changed = db.execute(
        "UPDATE posts SET reactions = ? WHERE id = ? AND reactions IS NOT ?",
        [value, post_pk, value],
    ).rowcount
    if not changed:
        return False
    db.execute(
        "INSERT INTO post_reactions (post, observed_at, reactions) VALUES (?, ?, ?)",
        [post_pk, now, value],
    )
    return True
