"""One short, stable reason for each way a fetch can fail, as kept in ``crawl_errors``."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors
from twisted.python.failure import Failure

from archive.models import ERROR_FETCH, ERROR_HTTP, ERROR_ROBOTS

_REASONS: list[tuple[tuple[type[BaseException], ...], str]] = [
    (
        (DownloadTimeoutError, twisted_errors.TimeoutError, twisted_errors.TCPTimedOutError),
        "timed out",
    ),
    ((CannotResolveHostError, twisted_errors.DNSLookupError), "DNS lookup failed"),
    ((DownloadConnectionRefusedError, twisted_errors.ConnectionRefusedError), "connection refused"),
    ((ResponseDataLossError,), "connection lost: response cut short"),
    ((twisted_errors.ConnectionLost, twisted_errors.ConnectionDone), "connection lost"),
]


def describe_failure(failure: Failure) -> tuple[str, str]:
    """(kind, message) for a failed request: kind is http, robots or fetch."""
    if failure.check(HttpError):
        return ERROR_HTTP, f"HTTP {failure.value.response.status}"
    detail = failure.getErrorMessage() or type(failure.value).__name__
    if failure.check(IgnoreRequest) and "robots.txt" in detail.lower():
        return ERROR_ROBOTS, "Forbidden by robots.txt"
    if failure.check(DownloadCancelledError) or "download max size" in detail:
        return ERROR_FETCH, f"too large: {detail}"
    for classes, reason in _REASONS:
        if failure.check(*classes):
            return ERROR_FETCH, f"{reason} ({detail})"
    if failure.check(DownloadFailedError):
        # Scrapy wraps the transport's failures; name the common one plainly.
        if "ConnectionDone" in detail or "ConnectionLost" in detail:
            return ERROR_FETCH, "connection lost: closed without a response"
        return ERROR_FETCH, f"download failed ({detail})"
    return ERROR_FETCH, detail
