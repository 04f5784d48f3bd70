"""Fetching one page outside a crawl (``chanarchive extract URL``).

One deadline holds for the whole fetch (connecting, redirects, headers and
body): a server that drips a byte at a time cannot hold it longer. Redirects
are followed to http(s) URLs only; gzip and deflate bodies are decoded, and
the size cap holds for the decoded body too. No proxies are used.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import zlib
from urllib.parse import urljoin, urlsplit

from .. import USER_AGENT
from ..errors import BadInput, FetchError
from ..models import Capture
from ..times import utcnow

MAX_BYTES = 32 * 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 65536


def fetch(
    url: str,
    *,
    timeout: float = 30.0,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
) -> Capture:
    """GET ``url`` within ``timeout`` seconds in all.

    Raises :class:`BadInput` for a URL that cannot be fetched at all (no
    host, a bad port, another scheme) and :class:`FetchError` with the
    reason when the fetch fails.
    """
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(max_redirects + 1):
        status, headers, body = _get(current, deadline, timeout, max_bytes)
        location = _header(headers, "Location")
        if status in _REDIRECTS and location:
            target = urljoin(current, location.strip())
            if urlsplit(target).scheme.lower() not in ("http", "https"):
                raise FetchError(f"{url}: redirected to {target[:200]}, which is not http(s)")
            current = target
            continue
        if status >= 400:
            raise FetchError(f"{url}: HTTP {status}")
        return Capture(
            url=current,
            requested_url=url,
            fetched_at=utcnow(),
            status=status,
            body=_decoded(url, body, _header(headers, "Content-Encoding"), max_bytes),
            headers=headers,
        )
    raise FetchError(f"{url}: more than {max_redirects} redirects")


def _target(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path with query) of ``url``, or :class:`BadInput`."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise BadInput(f"not a URL: {url!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadInput(f"not an http(s) URL: {url!r}")
    if not host:
        raise BadInput(f"no host in {url!r}")
    if port == 0:
        raise BadInput(f"bad port in {url!r}")
    path = parts.path or "/"
    return scheme, host, port, f"{path}?{parts.query}" if parts.query else path


def _get(
    url: str, deadline: float, timeout: float, max_bytes: int
) -> tuple[int, list[tuple[str, str]], bytes]:
    scheme, host, port, path = _target(url)
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError(f"{url}: no complete answer within {timeout:g} s")
    if scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=left, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=left)
    expired = threading.Event()

    def stop() -> None:  # the deadline: wake any read that is still waiting
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(left, stop)
    timer.daemon = True
    timer.start()
    try:
        conn.request(
            "GET",
            path,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
        )
        response = conn.getresponse()
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = response.read1(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"{url}: larger than {max_bytes} bytes")
            chunks.append(chunk)
            if expired.is_set():
                break
        if expired.is_set():
            raise FetchError(f"{url}: no complete answer within {timeout:g} s")
        return response.status, list(response.getheaders()), b"".join(chunks)
    except FetchError:
        raise
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise FetchError(f"{url}: no complete answer within {timeout:g} s") from None
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise FetchError(f"{url}: {reason}") from None
    finally:
        timer.cancel()
        conn.close()


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def _decoded(url: str, body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """``body`` with its Content-Encoding (gzip, deflate) undone, the size cap kept."""
    encoding = (encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        decoders = [zlib.decompressobj(16 + zlib.MAX_WBITS)]
    elif encoding == "deflate":  # zlib-wrapped as the RFC says, or raw as some servers send
        decoders = [zlib.decompressobj(), zlib.decompressobj(-zlib.MAX_WBITS)]
    else:
        raise FetchError(f"{url}: unsupported Content-Encoding {encoding!r}")
    for decoder in decoders:
        try:
            out = decoder.decompress(body, max_bytes + 1)
        except zlib.error:
            continue
        if len(out) > max_bytes:
            raise FetchError(f"{url}: larger than {max_bytes} bytes once decompressed")
        return out
    raise FetchError(f"{url}: the {encoding} body could not be decoded")
