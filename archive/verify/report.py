"""What a verification found: its problems, one line each, and what it checked.

A check yields each :class:`Problem` as it finds it (a damaged archive may
have many: they are told as they come, never gathered first) and counts
what it looked at in its :class:`Report`, whose :meth:`~Report.summary` is
the last line a person reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

#: Called as a check goes: (what is being checked, how many done, how many in all).
Progress = Callable[[str, int, int], None]

#: How many items go by between two progress calls.
PROGRESS_EVERY = 200

#: The longest line a problem is told in (a damaged file's bytes quoted in an error are cut).
MAX_LINE = 400
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Problem:
    """One thing found wrong: what it is about (``where``) and what is wrong with it."""

    where: str
    what: str

    def __str__(self) -> str:
        """One line, whatever the damage put in it (a broken record's bytes, a line break)."""
        line = _CONTROL.sub("?", " ".join(f"{self.where}: {self.what}".split()))
        return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


@dataclass
class Report:
    """What a verification looked at, in the order it did, and how many problems it found."""

    subject: str  # "archive.db", "export.wacz"
    checked: dict[str, int] = field(default_factory=dict)
    problems: int = 0
    #: Set when only a random sample was checked: what was sampled, said in the summary.
    sampled: str | None = None
    #: What this verification did not look at (said in the summary).
    skipped: list[str] = field(default_factory=list)

    def count(self, noun: str, n: int = 1) -> None:
        """``n`` more of ``noun`` (a plural: "page bodies") were checked."""
        self.checked[noun] = self.checked.get(noun, 0) + n

    def did(self, what: str) -> None:
        """A check that counts nothing ("SQLite's integrity check") was made."""
        self.checked[what] = -1

    def found(self, problem: Problem) -> Problem:
        """Count ``problem`` and hand it back (``yield report.found(Problem(...))``)."""
        self.problems += 1
        return problem

    @property
    def ok(self) -> bool:
        return self.problems == 0

    def summary(self) -> str:
        """One line: clean or how many problems, then what was checked."""
        checked = ", ".join(_counted(noun, n) for noun, n in self.checked.items()) or "nothing"
        verdict = (
            "no problems"
            if self.ok
            else f"{self.problems:,} problem{'s' if self.problems != 1 else ''}"
        )
        line = f"{self.subject}: {verdict} (checked {checked}"
        if self.sampled:
            line += f"; a random sample: {self.sampled}"
        if self.skipped:
            line += f"; not checked: {', '.join(self.skipped)}"
        return line + ")"


#: The singular of the nouns the checks count, for a count of one.
SINGULAR = {
    "page bodies": "page body",
    "captures": "capture",
    "media files": "media file",
    "post versions": "post version",
    "deletions": "deletion",
    "files hashed": "file hashed",
    "index blocks": "index block",
    "index lines": "index line",
    "WARC records": "WARC record",
}


def _counted(noun: str, n: int) -> str:
    if n < 0:
        return noun
    return f"{n:,} {SINGULAR.get(noun, noun) if n == 1 else noun}"
