"""Where the tests find things: the repository, its own fixtures, and ``../shared`` beside it."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
#: Real pages and benchmarks kept next to the repository; tests that read them skip without it.
SHARED = ROOT.parent / "shared"
#: The real t.me pages and message fragments in ``../shared``.
REAL_TELEGRAM = SHARED / "realdata" / "telegram"


def real_telegram(name: str) -> bytes:
    """The bytes of a real Telegram page in ``../shared``; the test is skipped without it."""
    path = REAL_TELEGRAM / name
    if not path.is_file():
        pytest.skip(f"real data not available: {path}")
    return path.read_bytes()
