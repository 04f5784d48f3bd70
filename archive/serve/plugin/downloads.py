"""Datasette's own CSV (the "CSV" links of every table and query), made safe for spreadsheets.

People open the CSV a table page offers in a spreadsheet, and the cells are
crawled text: this ASGI wrapper (the plugin's ``asgi_wrapper`` hook) passes
every cell of a CSV response through :func:`archive.export.cells.neutralise`,
the rule ``chanarchive export --format csv`` follows, so that no cell runs
as a formula. Datasette writes such a response one record per body message
(its ``csv.writer`` writes each row whole), which is what is rewritten here;
a message that is not whole CSV records is passed on as it came, and logged.
The exact values stay a click away, in the ``.json`` of the same page.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from ...export.cells import neutralise

logger = logging.getLogger(__name__)

App = Callable[[dict, Callable, Callable], Awaitable[None]]


def asks_for_csv(scope: dict[str, Any]) -> bool:
    """Whether an HTTP request asks Datasette for CSV (``….csv`` or ``?_format=csv``)."""
    if scope.get("type") != "http":
        return False
    path = scope.get("path") or ""
    if path.endswith(".csv"):
        return True
    query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
    return "csv" in query.get("_format", [])


def neutralised_records(chunk: bytes) -> bytes | None:
    """The CSV records in ``chunk`` with every cell neutralised, or None when it is not
    whole records."""
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text or not text.endswith(("\r\n", "\n")):
        return None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return None
    out = io.StringIO()
    writer = csv.writer(out)  # Datasette's dialect: excel, CRLF
    for record in records:
        writer.writerow([neutralise(cell) for cell in record])
    return out.getvalue().encode("utf-8")


def neutralise_csv(app: App) -> App:
    """``app``, its CSV responses' cells neutralised for spreadsheets."""

    async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
        if not asks_for_csv(scope):
            await app(scope, receive, send)
            return
        csv_body = False

        async def sending(message: dict) -> None:
            nonlocal csv_body
            if message.get("type") == "http.response.start":
                headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1")
                    for k, v in message.get("headers") or []
                }
                kind = headers.get("content-type", "")
                csv_body = kind.startswith(("text/csv", "text/plain"))
                if csv_body:  # the length changes with the marks
                    message = {
                        **message,
                        "headers": [
                            (k, v)
                            for k, v in message.get("headers") or []
                            if k.lower() != b"content-length"
                        ],
                    }
            elif message.get("type") == "http.response.body" and csv_body:
                body = message.get("body") or b""
                if body:
                    safe = neutralised_records(body)
                    if safe is None:
                        logger.warning("a CSV response part that is not whole records: passed on")
                    else:
                        message = {**message, "body": safe}
            await send(message)

        await app(scope, receive, sending)

    return wrapped
