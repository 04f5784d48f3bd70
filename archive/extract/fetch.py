"""Fetching one page outside a crawl (``chanarchive extract URL``)."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime

from .. import USER_AGENT
from ..errors import FetchError
from ..models import Capture

MAX_BYTES = 32 * 1024 * 1024


def fetch(url: str, *, timeout: float = 30.0, max_bytes: int = MAX_BYTES) -> Capture:
    """GET ``url`` (no proxies); raises :class:`FetchError` with the reason on failure."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(f"{url}: larger than {max_bytes} bytes")
            return Capture(
                url=response.geturl(),
                requested_url=url,
                fetched_at=datetime.now(UTC).isoformat(timespec="microseconds"),
                status=response.status,
                body=body,
                headers=list(response.headers.items()),
            )
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: {reason}") from exc
