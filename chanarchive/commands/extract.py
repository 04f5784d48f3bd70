"""``chanarchive extract``: the posts on a page, without an archive."""

from __future__ import annotations

import json
from pathlib import Path

import click

from archive.errors import BadInput, FetchError
from archive.extract import extract_page
from archive.fetch import fetch
from archive.records import record_from_post

from ..clitools import WorkFailed, output_format, translate_errors


def _load(target: str):
    """(body, url, content type) of a file or an http(s) URL."""
    if target.startswith(("http://", "https://")):
        capture = fetch(target)
        return capture.body, capture.url, capture.header("Content-Type")
    path = Path(target)
    if not path.is_file():
        raise BadInput(f"no such file: {target}")
    try:
        return path.read_bytes(), target, None
    except OSError as exc:
        raise BadInput(f"cannot read {target}: {exc.strerror}") from exc


def _text_block(record: dict) -> str:
    head = [f"{record['channel']}/{record['post_id']}"]
    for key in ("published_at", "url"):
        if record.get(key):
            head.append(record[key])
    if record.get("views") is not None:
        head.append(f"{record['views']} views")
    lines = ["  ".join(head)]
    if record.get("title"):
        lines.append(f"# {record['title']}")
    lines.append(record["text"] or "")
    return "\n".join(lines) + "\n"


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="FILE_OR_URL...")
@output_format("text", "json", "jsonl", default="text")
@translate_errors
def extract(targets, fmt):
    """Print the posts found on each page, with their clean text and fields.

    Nothing is archived. A Telegram preview page yields each of its messages;
    an article page yields one post, its main text. json prints one list of
    export records, jsonl one record a line.

    Example:

        chanarchive extract saved_channel_page.html

        chanarchive extract https://t.me/s/durov --format jsonl
    """
    # Read every file first, so a missing one fails before anything is printed.
    loaded = []
    failures = []
    for target in targets:
        try:
            loaded.append(_load(target))
        except FetchError as exc:
            failures.append(str(exc))
    records = []
    for body, url, content_type in loaded:
        page = extract_page(body, url, content_type=content_type)
        records.extend(record_from_post(post) for post in page.posts)
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
    else:
        click.echo("\n".join(_text_block(r) for r in records), nl=False)
    if failures:
        raise WorkFailed("; ".join(failures))
