"""Cleaning: a post's captured (raw) text in, its clean text (boilerplate removed) out.

Holds: the built-in rules as data (:mod:`.rules`), the one options object
with its defaults written once (:mod:`.options`, ``defaults.toml``), site
profiles (:mod:`.profiles`, ``profiles/*.toml``), and the learning of lines
that recur in many posts of one channel (:mod:`.learn`). This module applies
them to a text.

Two kinds of lines go: those a rule names (:data:`archive.clean.rules.LINE_RULES`
and a profile's own groups: bot ads, join calls, cover labels), anywhere in
the post; and lines learned as boilerplate for the post's channel or site
(:class:`Learned`), only where they were learned: among the last lines of a
post (signatures, channel ads), or the first lines (a site's header line).
Learning never strips a post to nothing. Every removal is reported with the
rule that made it, for ``--explain``.

May import: :mod:`archive.models`, :mod:`archive.errors`,
:mod:`archive.source` (a web channel's name). Never SQLite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .options import ExtractOptions, shared_defaults


@dataclass
class CleanResult:
    text: str
    removed: list[tuple[str, str]] = field(default_factory=list)  # (rule name, removed text)


@dataclass
class Learned:
    """Lines learned as boilerplate of one channel: line -> number of posts it was seen in."""

    tail: dict[str, int] = field(default_factory=dict)
    head: dict[str, int] = field(default_factory=dict)
    tail_lines: int = 3
    head_lines: int = 2

    def __bool__(self) -> bool:
        return bool(self.tail or self.head)


def rule_for(line: str, patterns: list[tuple[str, re.Pattern[str]]]) -> str | None:
    """The name of the first rule whose pattern matches the stripped ``line``, or None."""
    stripped = line.strip()
    if not stripped:
        return None
    return next((name for name, rx in patterns if rx.search(stripped)), None)


def learned_rule(count: int) -> str:
    return f"learned: recurring line (seen in {count} posts)"


def _tidy(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines).strip())


def strip_learned(
    lines: list[str], learned: Learned | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """``lines`` without the learned lines in their head / tail region (never all of them)."""
    if not learned:
        return lines, []
    content = [i for i, line in enumerate(lines) if line.strip()]
    drop: dict[int, str] = {}
    for i in content[-learned.tail_lines :] if learned.tail_lines else []:
        count = learned.tail.get(lines[i].strip())
        if count:
            drop[i] = learned_rule(count)
    for i in content[: learned.head_lines] if learned.head_lines else []:
        count = learned.head.get(lines[i].strip())
        if count and i not in drop:
            drop[i] = learned_rule(count)
    if not drop or len(drop) == len(content):
        return lines, []
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return kept, [(rule, lines[i].strip()) for i, rule in sorted(drop.items())]


def clean_text(
    raw_text: str, *, options: ExtractOptions | None = None, learned: Learned | None = None
) -> CleanResult:
    """Drop the lines the rules name, then the learned lines; keep everything else as captured."""
    patterns = (options or shared_defaults()).line_patterns
    kept: list[str] = []
    removed: list[tuple[str, str]] = []
    for line in raw_text.split("\n"):
        hit = rule_for(line, patterns)
        if hit:
            removed.append((hit, line.strip()))
        else:
            kept.append(line)
    kept, dropped = strip_learned(kept, learned)
    return CleanResult(_tidy(kept), removed + dropped)


def apply_learned(text: str, learned: Learned | None) -> CleanResult:
    """``text`` (already cleaned by the rules) without its learned boilerplate lines."""
    kept, dropped = strip_learned(text.split("\n"), learned)
    return CleanResult(_tidy(kept) if dropped else text, dropped)
