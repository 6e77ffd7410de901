"""A fake platform API on loopback: real HTTP, routes written from the platforms' docs.

Every request is recorded; a test can script the next answers of a route (an error, a
rate limit) or make the server act and then drop the connection, as when a platform
posts a message and the answer is lost on the way back.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # act, then close without answering


Handler = Callable[[Recorded, re.Match[str]], Reply]


class FakePlatform:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._scripted: list[tuple[str, re.Pattern[str], Reply]] = []
        self._lock = threading.Lock()
        self.base_url = ""

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def script(self, method: str, pattern: str, reply: Reply) -> None:
        """The next matching request gets ``reply`` (a drop_connection reply still acts)."""
        self._scripted.append((method, re.compile(f"^{pattern}$"), reply))

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        regex = re.compile(f"^{pattern}$")
        return [r for r in self.requests if r.method == method and regex.match(r.path)]

    def dispatch(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            for index, (method, regex, reply) in enumerate(self._scripted):
                if method == request.method and regex.match(request.path):
                    del self._scripted[index]
                    if not reply.drop_connection:
                        return reply
                    acted = self._handle(request)
                    return Reply(acted.status, acted.body, acted.headers, drop_connection=True)
            return self._handle(request)

    def _handle(self, request: Recorded) -> Reply:
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if method == request.method and match:
                return handler(request, match)
        return Reply(404, {"error": f"no route {request.method} {request.path}"})

    @contextmanager
    def serve(self) -> Iterator[FakePlatform]:
        platform = self

        class _Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                recorded = Recorded(
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = platform.dispatch(recorded)
                if reply.drop_connection:
                    self.close_connection = True
                    return
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
