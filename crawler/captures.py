"""A Scrapy response as the archive keeps it: a :class:`~archive.models.Capture`."""

from __future__ import annotations

from datetime import UTC, datetime

from archive.models import Capture


def capture_from_response(response) -> Capture:
    headers = [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, values in response.headers.items()
        for value in values
    ]
    return Capture(
        url=response.url,
        requested_url=response.request.url if response.request else None,
        fetched_at=datetime.now(UTC).isoformat(timespec="microseconds"),
        status=response.status,
        body=response.body,
        headers=headers,
        protocol=getattr(response, "protocol", None) or "HTTP/1.1",
    )
