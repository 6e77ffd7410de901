"""The edge of the web app: checks every request passes and headers every response gets.

- Security headers on every response (the API, /docs, /health, the webhooks); the console
  pages set their own stricter policy in ``ui``. HSTS is sent when the request came over
  https (directly, or through a proxy uvicorn trusts with ``--proxy-headers``).
- A NUL character in a path, a query string or a JSON body of the API is refused with 400:
  PostgreSQL cannot store it and no name, id or search needs it. Webhooks are exempt: a
  platform's payload is authentic data, so it is cleaned instead (``channels.webhooks``).
- A body over a route's limit is refused with 413 before it is read in full.
- An integer path or query parameter beyond the 64-bit range the databases hold is refused
  with 422, and an out-of-range value that slips through elsewhere gives 400, not 500.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Union, get_args, get_origin
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, StatementError

from socialdesk.core.limits import MAX_DB_INT, out_of_range_integer, storable
from socialdesk.core.metrics import REQUEST_SECONDS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Like the webhooks: 1,000 events of about a kilobyte each.
BODY_LIMITS = {"/api/v1/events": 1_048_576}
NUL_EXEMPT_PREFIXES = ("/webhooks/",)

# Pages that need more (the console, the API docs page) set their own policy, which is kept.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"

# A JSON \u0000 escape that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def security_headers(https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", API_POLICY.encode()),
    ]
    if https:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


async def _refuse(send: Send, status: int, detail: str, https: bool) -> None:
    body = JSONResponse({"detail": detail}).body
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *security_headers(https),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EdgeMiddleware:
    """Pure ASGI (no per-request task or copy of the response): it wraps ``send`` only to
    add missing headers, and reads a body ahead only where it must be checked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        https = scope.get("scheme") == "https"
        exempt = path.startswith(NUL_EXEMPT_PREFIXES)
        if not exempt and (
            "\x00" in path or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))
        ):
            await _refuse(send, 400, "NUL characters are not allowed in a URL", https)
            return

        limit = BODY_LIMITS.get(path)
        is_json = _is_json(scope)
        if limit is not None or (is_json and not exempt and scope.get("method") != "GET"):
            body, too_large = await _read_body(receive, limit)
            if too_large:
                await _refuse(send, 413, f"body larger than {limit} bytes", https)
                return
            if is_json and not exempt and _JSON_NUL.search(body):
                await _refuse(
                    send,
                    400,
                    "text holds a NUL character (\\u0000), which cannot be stored; remove it",
                    https,
                )
                return
            receive = _replay(body)

        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [h for h in security_headers(https) if h[0] not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            # The route's template, not the path: ids would make a series per case.
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            REQUEST_SECONDS.labels(_method_label(scope), route, str(status)).observe(
                time.perf_counter() - started
            )


# Any token is a valid HTTP method, so a client could make a series per made-up method:
# label cardinality (and the registry's memory) must not be the client's to grow.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_label(scope: Scope) -> str:
    method = str(scope.get("method", ""))
    return method if method in _METHODS else "other"


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return False


async def _read_body(receive: Receive, limit: int | None) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:  # whatever Content-Length claimed
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


# -- integer ranges ---------------------------------------------------------------------------


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin = get_origin(annotation)
    if origin is Union or str(origin) == "<class 'types.UnionType'>":
        return any(_is_int(a) for a in get_args(annotation))
    return False


_int_params: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _integer_params(route: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of a route's integer path and query parameters (its dependencies' too)."""
    found = _int_params.get(id(route))
    if found is None:
        path: list[str] = []
        query: list[str] = []
        todo = [route.dependant]
        while todo:
            dependant = todo.pop()
            path += [p.alias for p in dependant.path_params if _is_int(p.field_info.annotation)]
            query += [p.alias for p in dependant.query_params if _is_int(p.field_info.annotation)]
            todo.extend(dependant.dependencies)
        found = _int_params[id(route)] = (tuple(path), tuple(query))
    return found


def check_integer_ranges(request: Request) -> None:
    """A dependency of every route: integer parameters must fit a 64-bit column."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    path_names, query_names = _integer_params(route)
    problems = [
        {"type": "less_than_equal", "loc": [where, name], "msg": f"at most {MAX_DB_INT}"}
        for where, names, values in (
            ("path", path_names, request.path_params),
            ("query", query_names, request.query_params),
        )
        for name in names
        if (value := values.get(name)) is not None and out_of_range_integer(str(value))
    ]
    if problems:
        raise RequestValidationError(problems)


# -- error answers ----------------------------------------------------------------------------


async def validation_error(_request: Request, exc: Exception) -> Response:
    """FastAPI's 422, with the rejected input made printable (a lone surrogate in it would
    otherwise fail to encode and turn the answer into a 500)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": storable(jsonable_encoder(exc.errors()))}, status_code=422)


async def out_of_range(_request: Request, exc: Exception) -> Response:
    if isinstance(exc, StatementError) and not (
        isinstance(exc, DataError) or isinstance(exc.orig, OverflowError | ValueError)
    ):
        raise exc  # not about a value: a fault of ours, answered 500 as such
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:300]
    return JSONResponse(
        {"detail": f"a value is out of the range that can be stored: {reason}"}, status_code=400
    )


def install_edge(app: FastAPI) -> None:
    app.add_middleware(EdgeMiddleware)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(OverflowError, out_of_range)
    # Raised while binding (a date before year 1 in UTC) or by the database (DataError).
    app.add_exception_handler(StatementError, out_of_range)
