"""HTTP for the sandbox: keep-alive connections, the fault pipeline, logging and stats.

Per request, in this order (docs/sandbox.md explains why):
count what was sent → drop → latency → ``--hostile html|500`` → Cloudflare's User-Agent check
(403) → rate limit (429) → auth (401) → random 5xx → route (which checks max batch 413,
validation 400, rejected IDs 400, unknown IDs) → ``--hostile escapes|echo-key`` decorate.
Auth comes before the random 5xx so a wrong key is reported the same way on every attempt.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from dexbulk.sandbox.api import Api
from dexbulk.sandbox.envelope import ApiFailure, Request, Response, blocked, failure, ok
from dexbulk.sandbox.faults import Faults
from dexbulk.sandbox.hostile import Hostile
from dexbulk.sandbox.stats import COUNTED_BODIES, OTHER, Stats

BAD_GATEWAY_HTML = "<html><head><title>{status}</title></head><body>{status}</body></html>\n"
_STATUS_TEXT = {502: "502 Bad Gateway", 503: "503 Service Unavailable"}
_BULK_PATHS = ("/v1/contacts", "/v1/contacts/")


class Core:
    """What every connection shares: the routes, the faults, the counters and the log."""

    def __init__(self, api: Api, faults: Faults, log: TextIO | None) -> None:
        self.api = api
        self.faults = faults
        self.hostile = Hostile(api.options.hostile)
        self.stats = Stats()
        self._log = log
        self._log_lock = threading.Lock()

    def log(self, line: str) -> None:
        """Write one line to the request log (never bodies, never the key)."""
        if self._log is None:
            return
        with self._log_lock:
            try:
                self._log.write(line + "\n")
                self._log.flush()
            except (OSError, ValueError):  # a closed log must not break the server
                pass


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threading server that knows its open connections, so ``stop`` can close idle ones."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], core: Core) -> None:
        self.core = core
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the socket, then serve it in its own thread."""
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the socket and close it."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End keep-alive connections that are waiting for a next request."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed by the client
                sock.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    """One client connection; serves requests on it until the client closes it."""

    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse one connection per worker
    server_version = "DexSandbox/1"
    timeout = 120  # an idle keep-alive connection is closed after two minutes
    # Headers and body leave in one buffered write (flushed by http.server after each request)
    # and without Nagle: two small writes would otherwise cost ~40 ms of delayed-ACK per request.
    wbufsize = -1
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def setup(self) -> None:
        """Prepare per-connection state."""
        super().setup()
        self._counted = False

    def do_GET(self) -> None:
        """Serve any method the same way; routes decide what exists."""
        self._serve()

    do_PUT = do_POST = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Silence http.server's own stderr log; :meth:`Core.log` writes ours."""

    def _serve(self) -> None:
        started = time.perf_counter()
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        if url.path.startswith("/_sandbox/"):
            self._send(self._sandbox_route(url.path))
            return
        core = self.server.core
        if not self._counted:
            self._counted = True
            core.stats.connection()
        request = Request(self.command, url.path, dict(parse_qsl(url.query)), body)
        self._count(request)
        response = self._answer(request)
        elapsed = (time.perf_counter() - started) * 1000
        if response is None:
            core.stats.dropped()
            core.log(f"{request.method} {request.path} dropped {elapsed:.1f} ms")
            self.close_connection = True
            return
        if core.hostile:
            response = core.hostile.decorate(response, self.headers.get("Authorization"))
        is_put = request.method == "PUT" and request.path in _BULK_PATHS
        core.stats.answered(response.status, is_put=is_put, updated=response.updated)
        note = f"{response.note} " if response.note else ""
        core.log(f"{request.method} {request.path} {response.status} {note}{elapsed:.1f} ms")
        self._send(response)

    def _count(self, request: Request) -> None:
        """Count the request under its route, and what its body carries, before any fault."""
        core = self.server.core
        route = core.api.label(request) or OTHER
        body = None
        if route in COUNTED_BODIES:
            with contextlib.suppress(ApiFailure):  # not JSON: the route will say so
                body = request.json()
        core.stats.received(route, body)

    def _answer(self, request: Request) -> Response | None:
        core = self.server.core
        if core.faults.should_drop():
            return None
        core.faults.delay()
        replacement = core.hostile.replacement()
        if replacement is not None:
            return replacement
        if not self.headers.get("User-Agent"):
            return blocked()
        retry_after = core.faults.retry_after()
        if retry_after is not None:
            return failure(429, "Too many requests", {"Retry-After": str(retry_after)})
        if request.path.startswith("/v1") and not self._authorized():
            return failure(401, "invalid API key")
        status = core.faults.failure_status()
        if status == 500:
            return failure(500, "Internal server error (simulated by the sandbox)")
        if status is not None:
            # Gateways in front of an API answer 502/503 in HTML, not in Dex's envelope.
            text = _STATUS_TEXT[status]
            return Response(status, BAD_GATEWAY_HTML.format(status=text), content_type="text/html")
        try:
            return core.api.handle(request)
        except Exception as error:  # a sandbox bug: answer 500 and say where, keep serving
            core.log("".join(traceback.format_exception(error)).rstrip())
            return failure(500, f"sandbox error: {type(error).__name__}: {error}")

    def _authorized(self) -> bool:
        scheme, _, key = (self.headers.get("Authorization") or "").partition(" ")
        expected = self.server.core.api.options.api_key
        return scheme.lower() == "bearer" and hmac.compare_digest(key.strip(), expected)

    def _sandbox_route(self, path: str) -> Response:
        if path.rstrip("/") == "/_sandbox/health":
            return ok({"status": "ok"})
        if path.rstrip("/") == "/_sandbox/stats":
            return Response(200, self.server.core.stats.snapshot())
        return failure(404, f"Cannot {self.command} {path}")

    def _read_body(self) -> bytes | None:
        """Read the whole body, so the next request on this connection starts in the right place."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(failure(400, "invalid Content-Length"))
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _send(self, response: Response) -> None:
        if isinstance(response.body, str):
            payload = response.body.encode()
        else:
            payload = json.dumps(response.body, ensure_ascii=False).encode()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)
