"""Clean text: a post's captured text minus the boilerplate lines the rules name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from . import rules


@dataclass
class CleanResult:
    text: str
    removed: list[tuple[str, str]] = field(default_factory=list)  # (rule name, removed text)


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (name, re.compile(pattern, re.IGNORECASE))
        for name, patterns in rules.AD_LINES.items()
        for pattern in patterns
    ]


def clean_text(raw_text: str) -> CleanResult:
    """Drop lines matched by the built-in rules; keep everything else as captured."""
    kept: list[str] = []
    removed: list[tuple[str, str]] = []
    for line in raw_text.split("\n"):
        stripped = line.strip()
        hit = next((name for name, rx in _compiled() if stripped and rx.search(stripped)), None)
        if hit:
            removed.append((hit, stripped))
        else:
            kept.append(line)
    text = "\n".join(kept).strip()
    return CleanResult(re.sub(r"\n{3,}", "\n\n", text), removed)
