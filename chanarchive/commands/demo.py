"""``chanarchive demo``: archive a bundled sample channel, change it, archive it again."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from archive.errors import ArchiveError
from archive.store import connect_readonly, open_archive

from ..clitools import BadUsage, WorkFailed, translate_errors

DEMO_CHANNEL = "chanarchive_demo"
DEMO_DB = "demo.db"


def _check_replaceable(path: Path) -> None:
    """Refuse (exit 2, file untouched) to replace anything but an earlier demo archive.

    Only a chanarchive archive that holds the demo channel and nothing else
    (no other channel, no scheduled source) may be replaced; it is read
    through a read-only connection, so a refused file is left byte for byte.
    """
    if not path.exists():
        return
    try:
        conn = connect_readonly(path)
    except ArchiveError as exc:
        raise BadUsage(f"{path} is not a demo archive ({exc}); give --db a new file") from exc
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM channels")}
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        sources = (
            conn.execute("SELECT COUNT(*) FROM sources").fetchone()[0] if "sources" in tables else 0
        )
    except sqlite3.Error as exc:
        raise BadUsage(f"{path} is not a demo archive ({exc}); give --db a new file") from exc
    finally:
        conn.close()
    if names - {DEMO_CHANNEL} or sources:
        raise BadUsage(f"{path} holds more than the demo; give --db a new file for the demo")


def _replace(built: Path, path: Path) -> None:
    """Put the finished demo archive in place of ``path`` (and its side files)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(built, path)


def _crawl(db: Path, url: str) -> str:
    """One crawl in its own process (a Twisted reactor cannot be restarted)."""
    command = [
        sys.executable, "-m", "chanarchive", "--db", str(db),
        "crawl", url, "-s", "DOWNLOAD_DELAY=0",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise WorkFailed(f"the demo crawl failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout.strip().splitlines()[-1]


def _short(text: str, width: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the file, so that the file alone is the whole archive."""
    db = open_archive(path, create=False)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def report(db_path: Path) -> str:
    """What the archive shows after the two crawls, as the demo prints it."""
    db = open_archive(db_path, create=False)
    q = db.execute
    channel = q(
        "SELECT id, title, subscribers FROM channels WHERE name = ?", [DEMO_CHANNEL]
    ).fetchone()
    if channel is None:
        raise WorkFailed("the demo channel did not reach the archive")
    cid, title, subscribers = channel
    crawls = q("SELECT id FROM crawls WHERE channel_id = ? ORDER BY id", [cid]).fetchall()
    last = crawls[-1][0]
    lines = [f"\nThe archive now holds @{DEMO_CHANNEL} ({title}, {subscribers} subscribers):"]
    total, versions, deleted = q(
        "SELECT COUNT(*), (SELECT COUNT(*) FROM post_versions v JOIN posts p ON p.id = v.post"
        " WHERE p.channel_id = ?), SUM(deleted_at IS NOT NULL) FROM posts WHERE channel_id = ?",
        [cid, cid],
    ).fetchone()
    lines.append(f"  {total} posts, {versions} versions, {deleted} deleted, {len(crawls)} crawls")

    new = q(
        "SELECT post_id, text FROM posts WHERE channel_id = ? AND first_seen >="
        " (SELECT started_at FROM crawls WHERE id = ?) ORDER BY post_num",
        [cid, last],
    ).fetchall()
    lines.append(f"\nNew since the first crawl ({len(new)}):")
    lines += [f"  #{pid}  {_short(text)}" for pid, text in new]

    lines.append("\nEdited (version 1 → version 2):")
    for pid, post_pk in q(
        "SELECT post_id, id FROM posts WHERE channel_id = ? AND current_version > 1", [cid]
    ):
        texts = [
            t
            for (t,) in q(
                "SELECT text FROM post_versions WHERE post = ? ORDER BY version", [post_pk]
            )
        ]
        lines.append(f"  #{pid}  v1: {_short(texts[0])}")
        lines.append(f"  {' ' * len(str(pid))}   v{len(texts)}: {_short(texts[-1])}")

    lines.append("\nDeleted (kept, with the time it was found gone):")
    for pid, when, text in q(
        "SELECT post_id, deleted_at, text FROM posts WHERE channel_id = ? AND deleted_at IS NOT NULL",
        [cid],
    ):
        lines.append(f"  #{pid}  deleted_at {when[:19]}  {_short(text, 40)}")

    grown = q(
        "SELECT p.post_id, MIN(v.views), MAX(v.views) FROM post_views v JOIN posts p ON p.id = v.post"
        " WHERE p.channel_id = ? GROUP BY v.post HAVING COUNT(*) > 1 ORDER BY MAX(v.views) DESC LIMIT 3",
        [cid],
    ).fetchall()
    if grown:
        lines.append("\nViews over time (most viewed):")
        lines += [f"  #{pid}  {lo} → {hi}" for pid, lo, hi in grown]

    stripped = q(
        "SELECT p.post_id FROM posts p JOIN post_versions v ON v.post = p.id"
        " AND v.version = p.current_version WHERE p.channel_id = ? AND v.raw_text != v.text",
        [cid],
    ).fetchall()
    lines.append(
        f"\nBoilerplate (bot ads, repeated signatures) stripped from the clean text of "
        f"{len(stripped)} posts; the raw text keeps it."
    )
    db.close()
    lines += [
        "\nLook further:",
        f'  chanarchive --db {db_path} query "SELECT post_id, version, captured_at, text'
        ' FROM post_history WHERE post IN (SELECT id FROM current_posts WHERE version > 1)"',
        f"  chanarchive --db {db_path} history {DEMO_CHANNEL}/43",
        f"  chanarchive --db {db_path} changes      # new, edited, deleted: newest first",
        f"  chanarchive --db {db_path} search 频道",
        f"  chanarchive --db {db_path} export --format jsonl --all-versions",
        f"  chanarchive --db {db_path} serve        # the archive in a browser (or: datasette {db_path})",
    ]
    return "\n".join(lines)


@click.command()
@click.pass_context
@translate_errors
def demo(ctx):
    """Archive a bundled sample channel, let it change, archive it again.

    Serves the sample channel on 127.0.0.1 (no network needed), crawls it,
    edits one post, deletes another, adds new ones and grows the view counts,
    crawls again, and prints what the archive now shows. The archive is
    demo.db unless --db or $CHANARCHIVE_DB names another (new) file.

    Example:

        chanarchive demo

        chanarchive --db /tmp/demo.db demo
    """
    from chanarchive.demo.site import SiteServer, demo_channel

    root = ctx.find_root()
    explicit = root.get_parameter_source("db") not in (None, click.core.ParameterSource.DEFAULT)
    db_path = Path(root.obj["db"] if explicit else DEMO_DB)
    _check_replaceable(db_path)
    if not db_path.parent.is_dir():
        raise BadUsage(f"cannot create {db_path}: folder {db_path.parent} does not exist")

    # Built beside the target and moved into place only once it is complete.
    with tempfile.TemporaryDirectory(prefix=".demo-", dir=db_path.parent) as work:
        built = Path(work) / db_path.name
        with SiteServer({DEMO_CHANNEL: demo_channel(1)}) as server:
            url = f"{server.url}/s/{DEMO_CHANNEL}"
            click.echo(f"Serving the sample channel at {url}")
            click.echo(f"First crawl (the whole history) into {db_path} …")
            click.echo("  " + _crawl(built, url))
            server.channels[DEMO_CHANNEL] = demo_channel(2)
            click.echo("The channel changed: a post edited, one deleted, new posts, more views.")
            click.echo("Second crawl (incremental: only what is new) …")
            click.echo("  " + _crawl(built, url))
        _checkpoint(built)
        _replace(built, db_path)
    click.echo(report(db_path))
