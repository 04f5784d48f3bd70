"""Where the tests find things: the repository, its own fixtures, and ``../shared`` beside it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
FIXTURES = TESTS / "fixtures"
#: Real pages and benchmarks kept next to the repository; tests that read them skip without it.
SHARED = ROOT.parent / "shared"
