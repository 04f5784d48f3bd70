"""What a fetch gave, in the archive's terms: a response as a Capture, a failure as a reason.

:func:`capture_from_response` keeps a Scrapy response as the archive keeps
it (a :class:`~archive.models.Capture`, with the server's address and the
request as sent); :func:`describe_failure` gives one
short, stable reason for each way a fetch can fail, as kept in ``crawl_errors``;
:func:`host_failure` and :func:`dns_failure` say which failures are the host's
(it could not be reached, or did not answer in time), not the answer's.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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

from archive.models import ERROR_FETCH, ERROR_HTTP, ERROR_ROBOTS, Capture
from archive.times import utcnow

from .addresses import Refused
from .sidefetches import SideFetchCut

#: Request headers never kept with a capture: credentials (a proxy's or a site's).
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


def capture_from_response(response) -> Capture:
    """The response as fetched: URL, status, headers and body, and when; the server's
    address it came from, and the request as it was sent (:func:`request_sent`)."""
    headers = [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, values in response.headers.items()
        for value in values
    ]
    protocol = getattr(response, "protocol", None) or "HTTP/1.1"
    request_line, request_headers = request_sent(response.request)
    return Capture(
        url=response.url,
        requested_url=response.request.url if response.request else None,
        fetched_at=utcnow(),
        status=response.status,
        body=response.body,
        headers=headers,
        protocol=protocol,
        ip_address=ip_address_of(response),
        request_line=request_line,
        request_headers=request_headers,
    )


def ip_address_of(response) -> str | None:
    """The address of the server that sent ``response`` (None when Scrapy does not know it)."""
    address = getattr(response, "ip_address", None)
    return str(address) if address is not None else None


def request_sent(request) -> tuple[str | None, list[tuple[str, str]]]:
    """The request line and headers of ``request`` as Scrapy's HTTP/1.1 client sends them.

    The headers are the request's once every downloader middleware has run
    (user agent, compression, cookies, referer), with the ``Host`` header
    that Twisted's client adds when the request has none; credentials
    (``Authorization``, ``Proxy-Authorization``) are never kept. (None, [])
    without a request.
    """
    if request is None:
        return None, []
    try:
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return None, []
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    line = f"{request.method} {target} HTTP/1.1"
    headers = [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, values in request.headers.items()
        for value in values
        if key.decode("latin-1").lower() not in _SECRET_HEADERS
    ]
    if not any(name.lower() == "host" for name, _ in headers):
        if ":" in host:
            host = f"[{host}]"  # an IPv6 literal
        default = {"http": 80, "https": 443}.get(parts.scheme)
        headers.insert(0, ("Host", host if port in (None, default) else f"{host}:{port}"))
    return line, headers


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


#: Failures to reach a host or to get its answer in time: a name that does not resolve, a
#: connection refused or not made, no answer (or too slow a one), a connection lost.
HOST_FAILURES: tuple[type[BaseException], ...] = (
    CannotResolveHostError,
    twisted_errors.DNSLookupError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    twisted_errors.ConnectError,  # refused, timed out, no route ...
    DownloadFailedError,  # closed without a response, or not HTTP at all
    ResponseDataLossError,
    twisted_errors.ConnectionClosed,
)
DNS_FAILURES: tuple[type[BaseException], ...] = (
    CannotResolveHostError,
    twisted_errors.DNSLookupError,
)


def host_failure(exception: BaseException) -> bool:
    """Whether ``exception`` is the host failing below HTTP (see :data:`HOST_FAILURES`)."""
    return isinstance(exception, HOST_FAILURES)


def dns_failure(exception: BaseException) -> bool:
    """Whether ``exception`` is a host name that did not resolve."""
    return isinstance(exception, DNS_FAILURES)


def describe_failure(failure: Failure) -> tuple[str, str]:
    """(kind, message) for a failed request: kind is http, robots or fetch."""
    if failure.check(Refused, SideFetchCut):  # its message says it all
        return ERROR_FETCH, str(failure.value)
    if failure.check(HttpError):
        return ERROR_HTTP, f"HTTP {failure.value.response.status}"
    detail = failure.getErrorMessage() or type(failure.value).__name__
    if failure.check(IgnoreRequest) and "robots.txt" in detail.lower():
        return ERROR_ROBOTS, "Forbidden by robots.txt"
    if failure.check(DownloadCancelledError) or "download max size" in detail:
        return ERROR_FETCH, f"too large: {detail}"
    for classes, reason in _REASONS:
        if failure.check(*classes):
            # Twisted's own words often begin with the same reason: say it once.
            if detail.lower().startswith(reason.lower() + ":"):
                detail = detail[len(reason) + 1 :].strip()
            return ERROR_FETCH, f"{reason} ({detail})"
    if failure.check(DownloadFailedError):
        # Scrapy wraps the transport's failures; name the common one plainly.
        if "ConnectionDone" in detail or "ConnectionLost" in detail:
            return ERROR_FETCH, "connection lost: closed without a response"
        return ERROR_FETCH, f"download failed ({detail})"
    return ERROR_FETCH, detail
