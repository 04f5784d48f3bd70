"""Extraction quality: chanarchive's clean text beside bare trafilatura, in one run.

Three measures, each scoring both systems on the same bytes:

1. ScrapingHub's article-extraction benchmark (``../shared/eval/scrapinghub_aeb``:
   181 real article pages with their ground-truth body): token precision,
   recall and F1 per page, averaged. Tokens are words, and each CJK
   character is a token of its own.
2. trafilatura's own evaluation pages (``../shared/eval/trafilatura``):
   snippets that must appear ("with") and boilerplate that must not
   ("without"), counted as true / false positives and negatives.
3. Our mirror fixtures (``tests/fixtures/mirror``: semantic, flat and
   undeclared-GBK layouts): per page, whether the text has all of the post,
   no sentence of another post, and no boilerplate.

Run ``python bench/extraction_quality.py`` (``make bench`` runs it); it writes
``docs/benchmarks/extraction_quality.md``. ``tests/test_extract_quality.py``
reuses the scoring functions to pin an F1 floor on a small subset.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import trafilatura  # noqa: E402

from archive.extract import extract_page  # noqa: E402
from bench._machine import describe_machine  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
SCRAPINGHUB = EVAL / "scrapinghub_aeb"
TRAFILATURA_SET = EVAL / "trafilatura"
FIXTURES = ROOT / "tests" / "fixtures" / "mirror"
RESULTS = ROOT / "docs" / "benchmarks" / "extraction_quality.md"

_TOKEN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"  # one CJK character
    r"|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+"  # a word
)

Extractor = Callable[[bytes, str], str]


# --------------------------------------------------------------------------- the two systems


def chanarchive_text(body: bytes, url: str) -> str:
    """chanarchive's clean text of a page: its posts' clean texts."""
    page = extract_page(body, url)
    return "\n\n".join(post.text for post in page.posts if post.text)


def trafilatura_text(body: bytes, url: str) -> str:
    """Bare trafilatura with its default settings, on the same bytes."""
    return trafilatura.extract(body, url=url) or ""


def trafilatura_without_comments(body: bytes, url: str) -> str:
    """trafilatura leaving comment sections out, as chanarchive does (they are not the post)."""
    return trafilatura.extract(body, url=url, include_comments=False) or ""


SYSTEMS: dict[str, Extractor] = {"chanarchive": chanarchive_text, "trafilatura": trafilatura_text}


# --------------------------------------------------------------------------- scoring


def tokens(text: str) -> Counter[str]:
    """Words (lower case) and CJK characters, counted."""
    return Counter(_TOKEN.findall((text or "").lower()))


def token_prf(predicted: str, truth: str) -> tuple[float, float, float]:
    """Token precision, recall and F1 of ``predicted`` against ``truth`` (bags of tokens)."""
    got, want = tokens(predicted), tokens(truth)
    common = sum((got & want).values())
    p = common / sum(got.values()) if got else 0.0
    r = common / sum(want.values()) if want else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


@dataclass
class Scores:
    """Per-page scores of one system on one data set."""

    rows: list[tuple[str, float, float, float]] = field(default_factory=list)
    seconds: float = 0.0

    def mean(self, index: int) -> float:
        return sum(row[index] for row in self.rows) / len(self.rows) if self.rows else 0.0

    @property
    def precision(self) -> float:
        return self.mean(1)

    @property
    def recall(self) -> float:
        return self.mean(2)

    @property
    def f1(self) -> float:
        return self.mean(3)


def scrapinghub_items(ids: Iterable[str] | None = None) -> list[tuple[str, str, bytes, str]]:
    """(id, url, html bytes, ground-truth body) of the ScrapingHub pages (all, or ``ids``)."""
    truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text(encoding="utf-8"))
    chosen = sorted(truth) if ids is None else list(ids)
    items = []
    for key in chosen:
        body = gzip.decompress((SCRAPINGHUB / "html" / f"{key}.html.gz").read_bytes())
        items.append((key, truth[key].get("url") or "", body, truth[key]["articleBody"]))
    return items


def score_scrapinghub(
    ids: Iterable[str] | None = None, systems: dict[str, Extractor] | None = None
) -> dict[str, Scores]:
    """Both systems on the ScrapingHub pages, page by page, in the same run."""
    systems = systems or SYSTEMS
    results = {name: Scores() for name in systems}
    for key, url, body, truth in scrapinghub_items(ids):
        for name, system in systems.items():
            start = time.perf_counter()
            text = system(body, url)
            results[name].seconds += time.perf_counter() - start
            results[name].rows.append((key, *token_prf(text, truth)))
    return results


@dataclass
class SnippetScores:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fn + self.fp + self.tn
        return (self.tp + self.tn) / total if total else 0.0


def score_trafilatura_set(systems: dict[str, Extractor] | None = None) -> dict[str, SnippetScores]:
    """Both systems on trafilatura's annotated pages: snippets in, boilerplate out."""
    systems = systems or SYSTEMS
    data = json.loads((TRAFILATURA_SET / "evaldata_subset_copied.json").read_text(encoding="utf-8"))
    results = {name: SnippetScores() for name in systems}
    for url, item in sorted(data.items()):
        path = TRAFILATURA_SET / "html" / item["file"]
        if not path.is_file():
            continue
        body = path.read_bytes()
        for name, system in systems.items():
            text = " ".join(system(body, url).split())
            score = results[name]
            for snippet in item.get("with", []):
                if " ".join(snippet.split()) in text:
                    score.tp += 1
                else:
                    score.fn += 1
            for snippet in item.get("without", []):
                if " ".join(snippet.split()) in text:
                    score.fp += 1
                else:
                    score.tn += 1
    return results


def fixture_expectations() -> dict[str, dict]:
    data = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    return {name: value for name, value in data.items() if not name.startswith("_")}


def judge_fixture(text: str, expected: dict) -> dict[str, bool]:
    """Whether ``text`` has all the post, no other post's sentence, and no boilerplate."""
    squashed = re.sub(r"\s+", "", text)
    return {
        "all of the post": all(
            re.sub(r"\s+", "", line) in squashed for line in expected["text"].split("\n")
        ),
        "no other post": not any(re.sub(r"\s+", "", s) in squashed for s in expected["others"]),
        "no boilerplate": not any(
            re.sub(r"\s+", "", s) in squashed for s in expected["boilerplate"]
        ),
    }


def score_fixtures(systems: dict[str, Extractor] | None = None) -> dict[str, dict[str, dict]]:
    """Per fixture page and system: the three yes/no judgements."""
    systems = systems or SYSTEMS
    results: dict[str, dict[str, dict]] = {}
    for name, expected in fixture_expectations().items():
        body = (FIXTURES / name).read_bytes()
        url = f"http://127.0.0.1/static/mirror/{name}"
        results[name] = {
            system: judge_fixture(extract(body, url), expected)
            for system, extract in systems.items()
        }
    return results


# --------------------------------------------------------------------------- the report


def _yes(value: bool) -> str:
    return "yes" if value else "**no**"


def report(
    sh: dict[str, Scores] | None,
    tf: dict[str, SnippetScores] | None,
    fixtures: dict[str, dict[str, dict]],
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "## Extraction quality (`bench/extraction_quality.py`)",
        "",
        f"Measured {when} on {describe_machine(f'trafilatura {trafilatura.__version__}')}.",
        "chanarchive's clean text (`archive.extract.extract_page`, default options) and bare",
        "`trafilatura.extract` (default settings) read the same bytes, in the same run.",
        "",
    ]
    if sh:
        ours, bare = sh["chanarchive"], sh["trafilatura"]
        worse = sum(1 for a, b in zip(ours.rows, bare.rows, strict=True) if a[3] < b[3] - 0.05)
        better = sum(1 for a, b in zip(ours.rows, bare.rows, strict=True) if a[3] > b[3] + 0.05)
        out += [
            f"### ScrapingHub article-extraction benchmark ({len(ours.rows)} pages)",
            "",
            "Token precision / recall / F1 against the ground-truth article body, per page,",
            "averaged (words; each CJK character a token).",
            "",
            "| system | precision | recall | F1 | ms / page |",
            "|---|---|---|---|---|",
        ]
        for name, s in sh.items():
            out.append(
                f"| {name} | {s.precision:.3f} | {s.recall:.3f} | **{s.f1:.3f}** |"
                f" {1000 * s.seconds / max(len(s.rows), 1):.0f} |"
            )
        out += [
            "",
            f"F1 ratio chanarchive / trafilatura: {ours.f1 / bare.f1:.3f}. Pages where"
            f" chanarchive's F1 is more than 0.05 above trafilatura's: {better}; below: {worse}.",
            "",
        ]
    if tf:
        out += [
            f"### trafilatura's evaluation pages ({len(json.loads((TRAFILATURA_SET / 'evaldata_subset_copied.json').read_text(encoding='utf-8')))} pages)",
            "",
            "Snippets that must appear (true positive when found) and boilerplate that must not",
            "(false positive when found). Some wanted snippets sit in comment sections, which",
            "chanarchive leaves out (a comment is not the post); the third row shows trafilatura",
            "doing the same.",
            "",
            "| system | precision | recall | F1 | accuracy |",
            "|---|---|---|---|---|",
        ]
        for name, s in tf.items():
            out.append(
                f"| {name} | {s.precision:.3f} | {s.recall:.3f} | **{s.f1:.3f}** | {s.accuracy:.3f} |"
            )
        out.append("")
    expectations = fixture_expectations()
    out += [
        "### Mirror pages (`tests/fixtures/mirror`)",
        "",
        "Per page: the clean text holds every line of the post, no sentence of another post",
        "(related cards, sidebars), and no boilerplate (cover labels, ads, navigation, times).",
        "",
        "| page | layout | system | all of the post | no other post | no boilerplate |",
        "|---|---|---|---|---|---|",
    ]
    for name, systems in fixtures.items():
        for system, verdict in systems.items():
            out.append(
                f"| {name} | {expectations[name]['layout']} | {system} | "
                + " | ".join(_yes(v) for v in verdict.values())
                + " |"
            )
    out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="score only the first N ScrapingHub pages")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the report")
    args = parser.parse_args(argv)
    sh = tf = None
    if SCRAPINGHUB.is_dir():
        ids = None
        if args.limit:
            truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text(encoding="utf-8"))
            ids = sorted(truth)[: args.limit]
        sh = score_scrapinghub(ids)
    else:
        print(f"skipped ScrapingHub: {SCRAPINGHUB} is absent", file=sys.stderr)
    if TRAFILATURA_SET.is_dir():
        tf = score_trafilatura_set(
            {**SYSTEMS, "trafilatura, comments left out": trafilatura_without_comments}
        )
    else:
        print(f"skipped trafilatura's set: {TRAFILATURA_SET} is absent", file=sys.stderr)
    text = report(sh, tf, score_fixtures())
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    if sh and sh["chanarchive"].f1 < sh["trafilatura"].f1:
        print("chanarchive's F1 is below trafilatura's on ScrapingHub", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
