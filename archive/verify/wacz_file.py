"""The checks of a WACZ package: is every file the one its manifest names?

:func:`check_package` reads a ``.wacz`` (a ZIP file) and checks, in order:

1. the files a WACZ must have (``datapackage.json``, ``pages/pages.jsonl``,
   an index in ``indexes/``, a WARC in ``archive/``);
2. ``datapackage.json`` against ``datapackage-digest.json`` (its SHA-256);
3. every file the manifest lists: present, of its size, of its hash; and no
   file in the package that the manifest does not list;
4. the index: each gzip block of ``indexes/index.cdx.gz`` against the
   digest ``indexes/index.idx`` keeps for it, and each index line naming a
   WARC of the package and a place inside it;
5. every WARC record's block and payload digests (``WARC-Block-Digest``,
   ``WARC-Payload-Digest``), as ``warcio check`` does.

With ``sample=N``, step 5 reads N records picked at random from the index
(each found at the offset its line gives, and its URL compared with the
line's), and the WARC files are not hashed whole in step 3: quick on a
large package, and the summary says what was left out.

The package is read where it is, never unpacked to disk, in constant
memory (files are hashed and records read a piece at a time). A file
stored in the ZIP as it is (a WACZ stores its WARCs so) is read from its
own bytes in the package, not through the ZIP's CRC check: a damaged byte
then shows as the file's hash and the record it falls in, not as one
unreadable file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from .report import PROGRESS_EVERY, Problem, Progress, Report

MANIFEST = "datapackage.json"
MANIFEST_DIGEST = "datapackage-digest.json"
#: The most a manifest (or its digest file) may weigh before it is read: it lists files.
MAX_MANIFEST = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_WARC_SUFFIXES = (".warc", ".warc.gz")


def check_package(
    path: str | Path,
    report: Report,
    *,
    sample: int | None = None,
    progress: Progress | None = None,
) -> Iterator[Problem]:
    """The problems of the WACZ at ``path``, as they are found (counted in ``report``)."""
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield report.found(Problem(str(path), f"not a readable ZIP file, so no WACZ ({exc})"))
        return
    with package:
        members = {info.filename: info for info in package.infolist() if not info.is_dir()}
        if len(members) != len([i for i in package.infolist() if not i.is_dir()]):
            yield report.found(Problem(str(path), "holds two files under one name"))
        warcs = sorted(name for name in members if _is_warc(name))
        if sample is not None:
            report.sampled = f"at most {sample:,} WARC records, found through the index"
        yield from _required(members, warcs, report)
        manifest = yield from _manifest(package, members, report)
        if manifest is not None:
            skip = set(warcs) if sample is not None else set()
            yield from _resources(package, members, manifest, skip, report, progress)
        yield from _index(package, members, warcs, report, sample, progress)
        if sample is None:
            for name in warcs:
                yield from _records(package, name, report, progress)


class _Stored(io.RawIOBase):
    """The bytes of a file stored uncompressed in a ZIP, read from the package itself.

    Reading through :meth:`zipfile.ZipFile.open` fails the whole file on a
    bad CRC once its end is reached; read here, each record of a damaged
    WARC is still checked on its own digests, and the damage named by them.
    """

    def __init__(self, path: str, info: zipfile.ZipInfo) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        try:
            self._file.seek(info.header_offset)
            header = self._file.read(_LOCAL_HEADER.size)
            if len(header) != _LOCAL_HEADER.size or not header.startswith(b"PK\x03\x04"):
                raise zipfile.BadZipFile(f"no local file header for {info.filename!r}")
            name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        except BaseException:
            self._file.close()
            raise
        self._start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
        self._size = info.compress_size
        self._at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = max(0, base + offset)
        return self._at

    def readinto(self, buffer) -> int:
        wanted = min(len(buffer), self._size - self._at)
        if wanted <= 0:
            return 0
        self._file.seek(self._start + self._at)
        data = self._file.read(wanted)
        buffer[: len(data)] = data
        self._at += len(data)
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


#: A ZIP local file header: signature, versions, flags, method, time, date, CRC, sizes,
#: then the lengths of its name and extra field.
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")


def _open_member(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """A file of the package to read: a stored one from its own bytes (:class:`_Stored`)."""
    if info.compress_type == zipfile.ZIP_STORED and package.filename:
        return io.BufferedReader(_Stored(package.filename, info), _CHUNK)
    return package.open(info)


def _is_warc(name: str) -> bool:
    return name.startswith("archive/") and name.endswith(_WARC_SUFFIXES)


def _required(members: dict, warcs: list[str], report: Report) -> Iterator[Problem]:
    needed = [
        (MANIFEST in members, f"no {MANIFEST}"),
        ("pages/pages.jsonl" in members, "no pages/pages.jsonl"),
        (any(n.startswith("indexes/") for n in members), "no index in indexes/"),
        (bool(warcs), "no WARC file in archive/"),
    ]
    for present, what in needed:
        if not present:
            yield report.found(Problem("package", what))


def _read_small(package: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    if info.file_size > MAX_MANIFEST:
        return None
    with package.open(info) as stream:
        return stream.read(MAX_MANIFEST + 1)


def _manifest(package, members: dict, report: Report):
    """``datapackage.json`` read and checked against its digest file (None: unusable)."""
    info = members.get(MANIFEST)
    if info is None:
        return None
    try:
        data = _read_small(package, info)
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        yield report.found(Problem(MANIFEST, f"cannot be read ({exc})"))
        return None
    if data is None:
        yield report.found(Problem(MANIFEST, f"larger than {MAX_MANIFEST:,} bytes: not read"))
        return None
    report.did(MANIFEST)
    digest_info = members.get(MANIFEST_DIGEST)
    if digest_info is None:
        yield report.found(
            Problem(MANIFEST_DIGEST, "missing: the manifest itself cannot be checked")
        )
    else:
        problem = _digest_file_problem(_read_small(package, digest_info), data)
        if problem is not None:
            yield report.found(Problem(MANIFEST_DIGEST, problem))
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        yield report.found(Problem(MANIFEST, f"not JSON ({exc})"))
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("resources"), list):
        yield report.found(Problem(MANIFEST, "has no list of resources"))
        return None
    if manifest.get("profile") != "data-package":
        yield report.found(Problem(MANIFEST, 'its "profile" is not "data-package"'))
    if not isinstance(manifest.get("wacz_version"), str):
        yield report.found(Problem(MANIFEST, 'has no "wacz_version"'))
    return manifest


def _digest_file_problem(digest_data: bytes | None, manifest: bytes) -> str | None:
    try:
        digest = json.loads(digest_data or b"")
    except ValueError:
        digest = None
    if not isinstance(digest, dict):
        return "not a JSON object"
    if digest.get("path") != MANIFEST:
        return f'its "path" is {digest.get("path")!r}, not {MANIFEST!r}'
    expected = digest.get("hash")
    actual = _hash_bytes(expected, manifest)
    if actual is None:
        return f"its hash {expected!r} is not one this check knows (sha256:…, md5:…)"
    if actual != expected:
        return f"{MANIFEST} hashes to {actual}, not to {expected} (altered)"
    return None


def _hasher(named: Any):
    """A hashlib object for ``sha256:…`` or ``md5:…`` (None for anything else)."""
    if not isinstance(named, str) or ":" not in named:
        return None
    algorithm = named.split(":", 1)[0].lower()
    if algorithm not in ("sha256", "md5"):
        return None
    return hashlib.new(algorithm)


def _hash_bytes(named: Any, data: bytes) -> str | None:
    hasher = _hasher(named)
    if hasher is None:
        return None
    hasher.update(data)
    return f"{hasher.name}:{hasher.hexdigest()}"


def _resources(
    package, members: dict, manifest: dict, skip: set[str], report: Report, progress
) -> Iterator[Problem]:
    listed = set()
    resources = manifest["resources"]
    for done, resource in enumerate(resources, 1):
        if not isinstance(resource, dict) or not isinstance(resource.get("path"), str):
            yield report.found(Problem(MANIFEST, f"resource {done} has no path"))
            continue
        name = resource["path"]
        listed.add(name)
        info = members.get(name)
        if info is None:
            yield report.found(Problem(name, f"listed in {MANIFEST} but not in the package"))
            continue
        if name in skip:
            continue
        problem = _file_problem(package, info, resource)
        report.count("files hashed")
        if problem is not None:
            yield report.found(Problem(name, problem))
        if progress is not None:
            progress("files", done, len(resources))
    if skip:
        report.skipped.append("the WARC files hashed whole")
    for name in sorted(set(members) - listed - {MANIFEST, MANIFEST_DIGEST}):
        yield report.found(Problem(name, f"in the package but not listed in {MANIFEST}"))


def _file_problem(package, info: zipfile.ZipInfo, resource: dict) -> str | None:
    expected = resource.get("hash")
    hasher = _hasher(expected)
    if hasher is None:
        return f"its hash {expected!r} is not one this check knows (sha256:…, md5:…)"
    size = 0
    try:
        with _open_member(package, info) as stream:
            while chunk := stream.read(_CHUNK):
                hasher.update(chunk)
                size += len(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        return f"cannot be read ({exc})"
    actual = f"{hasher.name}:{hasher.hexdigest()}"
    if actual != expected:
        return f"hashes to {actual}, not to {expected} as {MANIFEST} says (altered)"
    if resource.get("bytes") is not None and resource.get("bytes") != size:
        return f"{size:,} bytes, where {MANIFEST} says {resource.get('bytes')}"
    return None


# ------------------------------------------------------------------ the index


def _index(package, members: dict, warcs: list[str], report: Report, sample, progress):
    sizes = {Path(name).name: members[name].file_size for name in warcs}
    by_name = {Path(name).name: name for name in warcs}
    if "indexes/index.idx" in members and "indexes/index.cdx.gz" in members:
        yield from _index_blocks(package, members, report)
    for name in sorted(members):
        if not name.startswith("indexes/") or not name.endswith((".cdx.gz", ".cdxj", ".cdx")):
            continue
        chosen: list[tuple[int, dict]] = []
        seen = 0
        rng = random.Random()
        try:
            for number, entry in _index_lines(package, members[name]):
                seen += 1
                problem = _entry_problem(entry, sizes)
                if problem is not None:
                    yield report.found(Problem(f"{name} line {number}", problem))
                    continue
                if sample is not None:  # a reservoir: each line has the same chance
                    if len(chosen) < sample:
                        chosen.append((number, entry))
                    elif (pick := rng.randrange(seen)) < sample:
                        chosen[pick] = (number, entry)
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile, UnicodeDecodeError) as exc:
            yield report.found(Problem(name, f"cannot be read ({exc})"))
        report.count("index lines", seen)
        for done, (number, entry) in enumerate(chosen, 1):
            problem = _sampled_record_problem(package, by_name[entry["filename"]], entry)
            report.count("WARC records")
            if problem is not None:
                yield report.found(Problem(f"{name} line {number} ({entry.get('url')})", problem))
            if progress is not None:
                progress("WARC records", done, len(chosen))


def _index_lines(package, info: zipfile.ZipInfo) -> Iterator[tuple[int, Any]]:
    """Each line of an index (gzip blocks or plain CDXJ): its number and its JSON part."""
    with _open_member(package, info) as raw:
        stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if info.filename.endswith(".gz") else raw
        for number, line in enumerate(stream, 1):
            text = line.decode("utf-8").strip()
            if not text or text.startswith("!"):
                continue
            parts = text.split(" ", 2)
            try:
                entry = json.loads(parts[2]) if len(parts) == 3 else None
            except ValueError:
                entry = None
            yield number, entry


def _entry_problem(entry: Any, sizes: dict[str, int]) -> str | None:
    if not isinstance(entry, dict):
        return "not a CDXJ line (urlkey, timestamp, JSON)"
    name = entry.get("filename")
    if name not in sizes:
        return f"names {name!r}, which is no WARC of the package"
    try:
        offset, length = int(entry.get("offset")), int(entry.get("length"))
    except (TypeError, ValueError):
        return "has no offset and length"
    if offset < 0 or length <= 0 or offset + length > sizes[name]:
        return f"points at bytes {offset}+{length}, outside {name} ({sizes[name]:,} bytes)"
    return None


def _index_blocks(package, members: dict, report: Report) -> Iterator[Problem]:
    """Each gzip block of ``index.cdx.gz`` against the digest ``index.idx`` keeps for it."""
    blocks = 0
    try:
        with (
            _open_member(package, members["indexes/index.idx"]) as idx,
            _open_member(package, members["indexes/index.cdx.gz"]) as cdx,
        ):
            for number, line in enumerate(idx, 1):
                text = line.decode("utf-8").strip()
                if not text or text.startswith("!"):
                    continue
                try:
                    block = json.loads(text.split(" ", 2)[2])
                    offset, length = int(block["offset"]), int(block["length"])
                except (ValueError, KeyError, IndexError, TypeError):
                    yield report.found(Problem(f"indexes/index.idx line {number}", "unreadable"))
                    continue
                cdx.seek(offset)
                data = cdx.read(length)
                blocks += 1
                expected = block.get("digest")
                if expected is not None and _hash_bytes(expected, data) != expected:
                    yield report.found(
                        Problem(
                            f"indexes/index.cdx.gz block at {offset}",
                            f"does not hash to {expected}, as indexes/index.idx says (altered)",
                        )
                    )
    except (OSError, zlib.error, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        yield report.found(Problem("indexes/index.idx", f"cannot be read ({exc})"))
    report.count("index blocks", blocks)


# ------------------------------------------------------------------ WARC records


def _record_problems(record) -> list[str]:
    """Read ``record`` to its end; its digests' problems (none when they pass or are absent)."""
    stream = record.content_stream()
    while stream.read(_CHUNK):
        pass
    if record.digest_checker.passed is False:
        return list(record.digest_checker.problems)
    return []


def _records(package, name: str, report: Report, progress) -> Iterator[Problem]:
    count = 0
    records = None
    try:
        with _open_member(package, package.getinfo(name)) as stream:
            records = ArchiveIterator(stream, check_digests=True)
            for record in records:
                problems = _record_problems(record)
                count += 1
                if problems:
                    rid = record.rec_headers.get_header("WARC-Record-ID")
                    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                    where = f"{name} record {rid} ({record.rec_type} {uri})".replace(" )", ")")
                    yield report.found(Problem(where, "; ".join(problems)))
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress("WARC records", count, 0)
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        # Where the record that could not be read begins: its first byte, as the index gives it.
        at = getattr(records, "offset", None)
        where = f" the record at byte {at:,}" if isinstance(at, int) else ""
        yield report.found(
            Problem(name, f"cannot read{where} (after {count:,} good records): {_said(exc)}")
        )
    report.count("WARC records", count)


def _said(exc: BaseException) -> str:
    """What a failed read says, without the damaged bytes warcio quotes after it."""
    return str(exc).split(", first line:", 1)[0]


def _sampled_record_problem(package, warc: str, entry: dict) -> str | None:
    """The record an index line points at: there, of its URL, its digests passing."""
    try:
        with _open_member(package, package.getinfo(warc)) as stream:
            stream.seek(int(entry["offset"]))
            record = next(iter(ArchiveIterator(stream, check_digests=True)), None)
            if record is None:
                return "no WARC record at the offset the index gives"
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if uri != entry.get("url"):
                return f"the record at the offset the index gives is of {uri!r}"
            problems = _record_problems(record)
    except (ArchiveLoadFailed, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        return f"no readable WARC record at the offset the index gives ({_said(exc)})"
    return "; ".join(problems) or None
