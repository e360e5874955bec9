"""A loopback HTTP file server that honours Range requests and fails some of them on purpose.

Serves the files of one directory on http://127.0.0.1:<free port>/, answering `Range: bytes=a-b`
(also `a-` and `-n`) with 206 and Content-Range, a range starting past the end with 416, and a
request without Range with 200 and the whole file. `fail()` injects failures for a path (and
optionally one byte range): a 503, a connection closed mid-body (the client sees fewer bytes
than Content-Length said), a shorter body whose headers agree with it, or the whole file sent
for a range request. Every request is recorded, so a test can assert that only ranges were
asked for and how many retries there were. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

Mode = Literal["503", "cut", "short", "ignore_range"]
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # relative to the served directory, without a leading "/"
    range: tuple[int, int] | None  # inclusive, as asked (a-/-n resolved against the file's size), else None
    status: int
    range_header: str | None  # the Range header as sent, None for a request of the whole file


@dataclass
class Failure:
    path: str
    range: tuple[int, int] | None  # None: any request for the path
    mode: Mode
    times: int | None  # None: always
    served: int = 0  # how many requests this failure answered


class RangeServer:
    """`with RangeServer(directory) as server:` files of DIRECTORY at `server.url + name`."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.requests: list[Request] = []
        self.failures: list[Failure] = []
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> RangeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- what tests use --------------------------------------------------------------------

    def fail(
        self, path: str, byte_range: tuple[int, int] | None = None, *, mode: Mode = "503", times: int | None = None
    ) -> Failure:
        """The next TIMES requests for PATH (and BYTE_RANGE, inclusive, if given) fail in MODE;
        TIMES None: all of them."""
        failure = Failure(path.lstrip("/"), byte_range, mode, times)
        with self.lock:
            self.failures.append(failure)
        return failure

    def requests_for(self, path: str, byte_range: tuple[int, int] | None = None) -> list[Request]:
        path = path.lstrip("/")
        return [r for r in self.requests if r.path == path and (byte_range is None or r.range == byte_range)]

    # -- serving ---------------------------------------------------------------------------

    def _failure(self, path: str, byte_range: tuple[int, int] | None) -> Failure | None:
        with self.lock:
            for failure in self.failures:
                if failure.path != path or (failure.range is not None and failure.range != byte_range):
                    continue
                if failure.times is not None and failure.served >= failure.times:
                    continue
                failure.served += 1
                return failure
        return None

    def _record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)


class _Handler(BaseHTTPRequestHandler):
    server_state: RangeServer

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        state = self.server_state
        path = unquote(urlsplit(self.path).path).lstrip("/")
        file = (state.root / path).resolve()
        header = self.headers.get("Range")
        if not path or state.root.resolve() not in file.parents or not file.is_file():
            state._record(Request(self.command, path, None, 404, header))
            self._reply(404, {}, b"not found")
            return
        size = file.stat().st_size
        byte_range = None
        if header is not None:
            match = _RANGE.match(header.strip())
            if match is None or match.groups() == ("", ""):
                state._record(Request(self.command, path, None, 400, header))
                self._reply(400, {}, f"bad Range header {header!r}".encode())
                return
            first, last = match.groups()
            if first == "":  # the last N bytes
                start, end = max(0, size - int(last)), size - 1
            else:
                start, end = int(first), min(size - 1, int(last)) if last else size - 1
            byte_range = (start, end)
            if start >= size or end < start:
                state._record(Request(self.command, path, byte_range, 416, header))
                self._reply(416, {"Content-Range": f"bytes */{size}"}, b"")
                return
        failure = state._failure(path, byte_range)
        mode = failure.mode if failure else None
        if mode == "503":
            state._record(Request(self.command, path, byte_range, 503, header))
            self._reply(503, {"Retry-After": "0"}, b"Slow Down")
            return
        with open(file, "rb") as handle:
            if byte_range is None or mode == "ignore_range":
                data = handle.read()
                status, headers = 200, {}
            else:
                handle.seek(byte_range[0])
                data = handle.read(byte_range[1] - byte_range[0] + 1)
                status, headers = 206, {"Content-Range": f"bytes {byte_range[0]}-{byte_range[1]}/{size}"}
        state._record(Request(self.command, path, byte_range, status, header))
        if mode == "short":  # fewer bytes, and headers that say so: only a length check notices
            data = data[: len(data) // 2]
            if status == 206:
                headers["Content-Range"] = f"bytes {byte_range[0]}-{byte_range[0] + len(data) - 1}/{size}"
        if mode == "cut":  # the promised length, half the body, then the connection closes
            self._reply(status, headers, data[: len(data) // 2] if body else b"", length=len(data))
            self.close_connection = True
            return
        self._reply(status, headers, data if body else b"", length=len(data))

    def _reply(self, status: int, headers: dict[str, str], data: bytes, length: int | None = None) -> None:
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(data) if length is None else length)}.items():
            self.send_header(name, value)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: nothing to answer
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass
