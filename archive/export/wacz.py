"""The raw captures as a WACZ 1.1.1 package: what ReplayWeb.page and pywb open and replay.

A WACZ is a ZIP file (webrecorder's *Web Archive Collection Zipped*)
holding:

- ``archive/data.warc.gz``: the WARC export of the scope (:mod:`.warc`):
  every page capture (channel and post pages, the deletion checks'
  answers), the media files, a ``warcinfo`` record saying what made it
  and what it covers, and the provenance each capture kept;
- ``indexes/index.cdx.gz`` (and ``index.idx``): the CDXJ index of that
  WARC, sorted, in gzip blocks, so a reader finds one URL without reading
  the rest;
- ``pages/pages.jsonl``: each captured page of a channel (its Telegram
  pages, a web channel's listings and posts) with its title and capture
  time, the entry points a replay tool lists; ``pages/extraPages.jsonl``:
  the deletion checks' answers and the pages that answered 404 / 410 (the
  evidence of each deletion), when the scope has any;
- ``datapackage.json``: every file with its size and SHA-256, and
  ``datapackage-digest.json``: the SHA-256 of ``datapackage.json``.

The WARC and the page lists are written here, in constant memory (the
records one at a time, the page lists a line at a time); indexing them
and packing the ZIP is the ``wacz`` package's own ``wacz create`` (py-wacz,
webrecorder's reference implementation), run in this process: its indexer
sorts in bounded memory (spilling to temporary files) and copies the WARC
into the ZIP in chunks. The WARC and page lists are made in a temporary
folder beside the package, so the package's folder needs room for the
WARC twice while it is built.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sqlite3
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from .. import __version__
from ..models import PAGE_CHANNEL, PAGE_EMBED, PAGE_GONE, PAGE_LISTING, PAGE_POST
from .output import OutputFailed
from .scope import ExportScope
from .warc import WarcStats, WrittenCapture, write_warc

#: The version of the WACZ format written.
WACZ_VERSION = "1.1.1"
#: The WARC's name inside the package (``archive/…``).
WARC_NAME = "data.warc.gz"
#: Pages a person opens: a channel's pages (Telegram), a web channel's listings and posts.
PAGE_TYPES = (PAGE_CHANNEL, PAGE_LISTING, PAGE_POST)
#: Pages kept as evidence of a deletion: the embed that said "Post not found", a 404 / 410.
EVIDENCE_TYPES = (PAGE_EMBED, PAGE_GONE)

_PAGE_NAMESPACE = uuid.UUID("0f4c2d9e-6a1b-4e8f-b3c7-5d2a9e1f4b60")


class PackageFailed(OutputFailed):
    """The WACZ could not be put together (the packer refused what it was given)."""


@dataclass
class WaczStats:
    """What a WACZ export wrote."""

    warc: WarcStats = field(default_factory=WarcStats)
    pages: int = 0  # lines of pages/pages.jsonl (its header aside)
    extra_pages: int = 0  # lines of pages/extraPages.jsonl (the deletions' evidence)
    bytes: int = 0  # the package's size


class _PageLists:
    """``pages.jsonl`` and ``extraPages.jsonl``, written a line at a time as captures go by."""

    def __init__(self, folder: Path, titles: dict[int, str]) -> None:
        self.titles = titles
        self.pages_path = folder / "pages.jsonl"
        self.extra_path = folder / "extraPages.jsonl"
        self.pages = self._open(self.pages_path, "pages", "Channel pages")
        self.extra = self._open(self.extra_path, "extra-pages", "Deletion checks and gone pages")
        self.counts = {"pages": 0, "extra": 0}

    @staticmethod
    def _open(path: Path, list_id: str, title: str) -> IO[str]:
        out = open(path, "w", encoding="utf-8", newline="\n")
        header = {"format": "json-pages-1.0", "id": list_id, "title": title}
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        return out

    def __call__(self, capture: WrittenCapture) -> None:
        if capture.page_type in PAGE_TYPES:
            out, kind, title = self.pages, "pages", self._title(capture)
        elif capture.page_type in EVIDENCE_TYPES:
            out, kind, title = self.extra, "extra", self._evidence_title(capture)
        else:
            return
        name = f"{capture.snapshot_id}\n{capture.url}\n{capture.warc_date}"
        line = {
            "id": uuid.uuid5(_PAGE_NAMESPACE, name).hex,
            "url": capture.url,
            "ts": capture.warc_date,
            "title": title,
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.counts[kind] += 1

    def _title(self, capture: WrittenCapture) -> str:
        channel = self.titles.get(capture.channel_id or 0)
        return channel or capture.url

    def _evidence_title(self, capture: WrittenCapture) -> str:
        try:
            path = urlsplit(capture.url).path.strip("/")
        except ValueError:
            path = capture.url
        what = "deletion check" if capture.page_type == PAGE_EMBED else "gone page"
        status = f", HTTP {capture.http_status}" if capture.http_status is not None else ""
        return f"{path}: {what}{status}"

    def close(self) -> None:
        self.pages.close()
        self.extra.close()


def channel_titles(conn: sqlite3.Connection) -> dict[int, str]:
    """Each channel's id and how a page list names its pages: ``Title (@name)`` or ``@name``."""
    titles = {}
    for channel_id, name, title in conn.execute("SELECT id, name, title FROM channels"):
        label = f"@{name}" if isinstance(name, str) else f"channel {channel_id}"
        if isinstance(title, str) and title.strip():
            label = f"{' '.join(title.split())[:200]} ({label})"
        titles[channel_id] = label
    return titles


def package_title(scope: ExportScope) -> str:
    """The package's title, as a replay tool shows it."""
    scope = scope.normalized()
    what = f"@{scope.channel}" if scope.channel else "every channel"
    return f"chanarchive: {what}"


def package_description(scope: ExportScope, stats: WarcStats) -> str:
    """The package's description (Markdown): what it holds, what made it, its scope."""
    scope = scope.normalized()
    limits = [
        f"{label} {value}"
        for label, value in (
            ("captured since", scope.since),
            ("before", scope.until),
            ("as of", scope.as_of),
        )
        if value
    ]
    return (
        f"Page captures exported by chanarchive {__version__} from a chanarchive archive:"
        f" {stats.responses + stats.revisits} page captures (channel and post pages, deletion"
        f" checks' answers) and {stats.media} media records"
        + (f", {'; '.join(limits)}" if limits else "")
        + ". The WARC's warcinfo record holds the export's scope."
    )


def write_wacz(
    conn: sqlite3.Connection,
    path: str | os.PathLike[str],
    scope: ExportScope | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> WaczStats:
    """Write the WACZ of ``scope`` (as for a WARC export) to the file ``path``.

    ``path`` is written as it goes (give a temporary name and rename it when
    this returns: :func:`~archive.export.output.atomic_path`). Raises
    :class:`PackageFailed` when the packer refuses what it was given, and
    :class:`OSError` when the disk does.
    """
    scope = (scope or ExportScope()).normalized()
    path = Path(path)
    stats = WaczStats()
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".chanarchive-wacz-") as work:
        folder = Path(work)
        warc = folder / WARC_NAME
        lists = _PageLists(folder, channel_titles(conn))
        try:
            with open(warc, "wb") as out:
                stats.warc = write_warc(
                    conn,
                    out,
                    scope,
                    filename=WARC_NAME,
                    software=f"chanarchive/{__version__} (warcio; packed by py-wacz)",
                    description="Page captures exported from a chanarchive archive as a WACZ",
                    progress=progress,
                    on_capture=lists,
                )
        finally:
            lists.close()
        stats.pages, stats.extra_pages = lists.counts["pages"], lists.counts["extra"]
        args = ["create", "-o", str(path), "--pages", str(lists.pages_path), "--copy-pages"]
        if stats.extra_pages:
            args += ["--extra-pages", str(lists.extra_path)]
        args += ["--title", package_title(scope)]
        args += ["--desc", package_description(scope, stats.warc), str(warc)]
        _pack(args)
    stats.bytes = path.stat().st_size
    return stats


def _pack(args: list[str]) -> None:
    """Run ``wacz ARGS`` (py-wacz) here; what it prints is kept, and said when it fails."""
    from wacz.main import main as wacz_main  # a slow import: only when a WACZ is made

    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            code = wacz_main(args)
    except SystemExit as exc:  # argparse refused the arguments
        code = exc.code if isinstance(exc.code, int) else 1
    except (ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise PackageFailed(f"cannot make the WACZ package: {exc}") from exc
    if code:
        lines = [line for line in said.getvalue().splitlines() if line.strip()]
        raise PackageFailed(
            "cannot make the WACZ package: " + (lines[-1] if lines else f"py-wacz exit {code}")
        )
