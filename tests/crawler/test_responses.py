"""A Scrapy response as the archive keeps it: the capture, the server's address, the request."""

from __future__ import annotations

from ipaddress import ip_address

from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.responses import capture_from_response, request_sent


def response(url: str, **request_headers: str) -> HtmlResponse:
    request = Request(url, headers=request_headers)
    return HtmlResponse(
        url,
        status=200,
        body=b"<html></html>",
        headers={"Content-Type": "text/html"},
        request=request,
        ip_address=ip_address("149.154.167.99"),
        protocol="HTTP/1.1",
    )


def test_the_capture_keeps_the_address_and_the_request_as_sent():
    captured = capture_from_response(
        response(
            "https://t.me/s/durov?before=10#frag",
            **{"User-Agent": "chanarchive/test", "Authorization": "Bearer secret"},
        )
    )
    assert captured.ip_address == "149.154.167.99"
    assert captured.request_line == "GET /s/durov?before=10 HTTP/1.1"
    assert captured.request_headers == [("Host", "t.me"), ("User-Agent", "chanarchive/test")]
    assert "secret" not in repr(captured)  # credentials are never kept


def test_the_host_header_is_the_one_the_client_sends():
    assert request_sent(Request("http://127.0.0.1:8080/s/x"))[1] == [("Host", "127.0.0.1:8080")]
    assert request_sent(Request("http://[::1]:80/"))[1] == [("Host", "[::1]")]
    line, headers = request_sent(Request("https://example.org/a", headers={"Host": "other"}))
    assert (line, headers) == ("GET /a HTTP/1.1", [("Host", "other")])
    assert request_sent(None) == (None, [])
