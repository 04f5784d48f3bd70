"""``chanarchive extract``: the posts on a page, without an archive."""

from __future__ import annotations

import json
from pathlib import Path

import click

from archive.clean.profiles import load_options
from archive.errors import BadInput, FetchError
from archive.export.records import record_from_post
from archive.extract import extract_pages
from archive.extract.fetch import fetch
from archive.models import KIND_TELEGRAM, Page

from ..clitools import WorkFailed, output_format, translate_errors


def _load(target: str, timeout: float):
    """(body, url, content type) of a file or an http(s) URL."""
    if target.lower().startswith(("http://", "https://")):
        capture = fetch(target, timeout=timeout)
        return capture.body, capture.url, capture.header("Content-Type")
    path = Path(target)
    if path.is_dir():
        raise BadInput(f"{target} is a folder: give the page files in it")
    if not path.exists():
        raise BadInput(f"no such file: {target}")
    if not path.is_file():
        raise BadInput(f"{target} is not a regular file")
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


def _no_posts(page: Page) -> str:
    """Why a page gave no post, as far as its parse says."""
    if page.kind == KIND_TELEGRAM:
        if page.throttled:
            return "no posts found: Telegram answered its empty page (tme_no_messages_found)"
        return "no posts found: a Telegram page without messages"
    return (
        f"no posts found: no main text or post cards on this {page.page_type} page"
        " (--explain shows what was cut; a site profile may find its posts: --profile)"
    )


def _explain_page(page: Page) -> list[str]:
    """What extraction cut from the page as a whole (navigation, related blocks …)."""
    if not page.removed:
        return []
    lines = [f"[explain] page {page.url} ({page.page_type}): cut from the page"]
    lines += [f"[explain]   {rule}: {text}" for rule, text in page.removed]
    return lines


def _explain_post(post) -> list[str]:
    """What cleaning removed from one post's text, rule by rule."""
    head = f"[explain] {post.channel}/{post.post_id}:"
    if not post.removed:
        return [f"{head} nothing removed from the post's text"]
    return [f"{head} removed from the post's text"] + [
        f"[explain]   {rule}: {text}" for rule, text in post.removed
    ]


@click.command()
@click.argument("targets", nargs=-1, required=True, metavar="FILE_OR_URL...")
@output_format("text", "json", "jsonl", default="text")
@click.option(
    "--profile", metavar="NAME", help="Extract with a site profile (a name or a .toml file)."
)
@click.option(
    "--explain",
    is_flag=True,
    help="Show which rule removed what, per page and per post (on stderr with json/jsonl).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=3600),
    default=30.0,
    show_default=True,
    help="Seconds a URL may take in all (connecting, redirects and the whole body).",
)
@translate_errors
def extract(targets, fmt, profile, explain, timeout):
    """Print the posts found on each page, with their clean text and fields.

    Nothing is archived. A page where no post is found is said so on stderr
    (exit status 1 when no page gave any). A Telegram preview page yields each of its messages;
    a mirror site's listing yields its post cards, a post page its post; an
    article page yields one post, its main text. json prints one list of
    export records, jsonl one record a line. Lines that recur at the end of
    many posts of one channel across the pages given are stripped as learned
    boilerplate, as the archive does.

    Example:

        chanarchive extract saved_channel_page.html

        chanarchive extract https://t.me/s/durov --format jsonl

        chanarchive extract mirror_post.html --explain --profile my-mirror
    """
    options = load_options(profile)  # an unknown profile fails before anything is read
    # Read every file first, so a missing one fails before anything is printed.
    loaded = []
    failures = []
    for target in targets:
        try:
            loaded.append(_load(target, timeout))
        except FetchError as exc:
            failures.append(str(exc))
    pages = extract_pages(loaded, options, failures)
    for page in pages:
        for problem in page.errors:
            click.echo(f"warning: {page.url}: {problem}", err=True)
        if not page.posts:
            click.echo(f"{page.url}: {_no_posts(page)}", err=True)
            if explain:
                for line in _explain_page(page) or [f"[explain] page {page.url}: nothing cut"]:
                    click.echo(line, err=True)
    records = [record_from_post(post) for page in pages for post in page.posts]
    if fmt == "json":
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
    else:
        blocks = []
        for page in pages:
            notes = _explain_page(page) if explain else []
            for post in page.posts:
                block = _text_block(record_from_post(post))
                if explain:
                    block += "\n".join(_explain_post(post)) + "\n"
                blocks.append(block)
            if notes:
                blocks.insert(len(blocks) - len(page.posts), "\n".join(notes) + "\n")
        click.echo("\n".join(blocks), nl=False)
    if explain and fmt != "text":  # records stay clean on stdout; the explanation goes aside
        for page in pages:
            for line in _explain_page(page) + [x for p in page.posts for x in _explain_post(p)]:
                click.echo(line, err=True)
    if failures:
        if pages:  # what could be read is printed; the rest is said on stderr
            for failure in failures:
                click.echo(f"warning: {failure}", err=True)
        else:
            raise WorkFailed("; ".join(failures))
    if pages and not records:
        raise WorkFailed(
            "no posts found on "
            + ("the page" if len(pages) == 1 else f"any of the {len(pages)} pages")
        )
