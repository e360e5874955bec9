"""`rootstock serve RELEASE`: a small local web page to search a release and read its documents.

The standard library's threading HTTP server and jinja2 templates (autoescaped): nothing to
install, no script, no stylesheet or font from elsewhere, so the page works offline and sends no
reader's query anywhere. It listens on the loopback address unless told otherwise, since it
serves the corpus's text. Pages: `/` (search box and results with provenance), `/doc/ID` (the
trail `rootstock show` prints), `/report` (the release's report.html, when there is one), and
the same as JSON under `/api/search` and `/api/doc/ID`. Searches run one at a time (a lock):
spaCy's tokenizers are not meant to be shared between threads, and this is a one-reader tool.
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import logging
import posixpath
import socket
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import jinja2
from apache_beam.io.filesystems import FileSystems

from rootstock.errors import RootstockError
from rootstock.paths import absolute, is_url
from rootstock.pipeline.inspect import terms
from rootstock.pipeline.inspect.index import SearchIndex
from rootstock.pipeline.inspect.search import search
from rootstock.pipeline.inspect.show import Finder, explain

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PAGE_SIZE = 20
CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'"
REPORT = "report.html"


def find_report(release: str, explicit: str | None = None) -> str | None:
    """The report to link: EXPLICIT, else RELEASE/report.html, else report.html beside RELEASE."""
    candidates = [explicit] if explicit else []
    release = release.rstrip("/")
    candidates += [posixpath.join(release, REPORT), posixpath.join(posixpath.dirname(release), REPORT)]
    candidates.append(f"{release}.{REPORT}")
    for path in candidates:
        if path and FileSystems.exists(path):
            return path
    return None


class App:
    """Everything a request needs: the opened index, templates, the report's path."""

    def __init__(self, release: str, report: str | None = None):
        self.index = SearchIndex.open(release)
        self.release = self.index.release
        self.finder = Finder(self.release, self.index)
        self.report = find_report(self.release.path, report)
        self.lock = threading.Lock()
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["num"] = _num
        self.templates.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=1, default=str)

    def warm(self) -> None:
        """Load every language's splitter now, not in the first search (spaCy takes seconds)."""
        for lang in self.index.languages:
            with self.lock:
                try:
                    terms.words("warm up", lang)
                except Exception:  # a splitter that cannot load fails in the search that needs it
                    log.exception("could not load the word splitter of %s", lang)

    def context(self) -> dict[str, Any]:
        sidecar = self.index.sidecar
        return {
            "release": self.release.id,
            "documents": sidecar.get("documents") or {},
            "languages": self.index.languages,
            "sources": sorted((self.release.manifest.get("sources") or {}).keys()),
            "has_report": self.report is not None,
        }

    def search_page(self, params: dict[str, str]) -> tuple[int, str, bytes]:
        query = params.get("q", "").strip()
        page = max(1, _int(params.get("page"), 1))
        options = {
            "lang": params.get("lang") or None,
            "exact": params.get("exact") == "1",
            "rejected": params.get("rejected") == "1",
            "source": params.get("source") or None,
        }
        results, error = None, None
        if query:
            try:
                with self.lock:
                    results = search(self.index, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, **options)
            except RootstockError as err:
                error = "\n".join(err.lines())
        if params.get("format") == "json" or params.get("_api"):
            if error:
                return 400, "application/json", _json({"error": error})
            hits = [h.as_json() for h in results.hits] if results else []
            return (
                200,
                "application/json",
                _json({"query": query, "total": results.total if results else 0, "hits": hits}),
            )
        nav = {}
        if results is not None:
            base = {k: v for k, v in params.items() if k != "page" and v}
            if page > 1:
                nav["previous"] = "/?" + urllib.parse.urlencode({**base, "page": page - 1})
            if page * PAGE_SIZE < results.total:
                nav["next"] = "/?" + urllib.parse.urlencode({**base, "page": page + 1})
        html = self.templates.get_template("search.html").render(
            **self.context(), query=query, options=options, results=results, error=error, nav=nav
        )
        return (400 if error else 200), "text/html; charset=utf-8", html.encode("utf-8")

    def doc_page(self, ref: str, api: bool) -> tuple[int, str, bytes]:
        try:
            with self.lock:
                location, _ = self.finder.locate(ref)
                trail = explain(self.release, location, self.finder)
        except RootstockError as err:
            message = "\n".join(err.lines())
            if api:
                return 404, "application/json", _json({"error": message})
            html = self.templates.get_template("error.html").render(**self.context(), message=message)
            return 404, "text/html; charset=utf-8", html.encode("utf-8")
        if api:
            return 200, "application/json", _json(trail)
        html = self.templates.get_template("doc.html").render(**self.context(), trail=trail)
        return 200, "text/html; charset=utf-8", html.encode("utf-8")

    def report_page(self) -> tuple[int, str, bytes]:
        if self.report is None:
            return 404, "text/plain; charset=utf-8", b"no report.html for this release (rootstock report makes one)"
        with FileSystems.open(self.report) as handle:
            return 200, "text/html; charset=utf-8", handle.read()

    def handle(self, path: str) -> tuple[int, str, bytes]:
        url = urllib.parse.urlsplit(path)
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        route = url.path
        if route in ("/", "/search"):
            return self.search_page(params)
        if route == "/api/search":
            return self.search_page({**params, "_api": "1"})
        if route.startswith("/doc/"):
            return self.doc_page(urllib.parse.unquote(route[len("/doc/") :]), api=False)
        if route.startswith("/api/doc/"):
            return self.doc_page(urllib.parse.unquote(route[len("/api/doc/") :]), api=True)
        if route == "/report":
            return self.report_page()
        if route == "/static/style.css":
            return 200, "text/css; charset=utf-8", (HERE / "static" / "style.css").read_bytes()
        return 404, "text/plain; charset=utf-8", b"not found"


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")


class _ServerV6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def make_server(release: str, host: str = "127.0.0.1", port: int = 0, report: str | None = None):
    """A ThreadingHTTPServer for RELEASE (not started); `server.app` is the App."""
    release = release if is_url(release) else absolute(release)
    app = App(release, report)

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "rootstock-serve"

        def do_GET(self):
            try:
                if allowed_hosts is not None and (self.headers.get("Host") or "").lower() not in allowed_hosts:
                    # A page elsewhere could point a name of its own at 127.0.0.1 (DNS rebinding)
                    # and read the corpus through the reader's browser: only our own names are served.
                    status, kind, body = 421, "text/plain; charset=utf-8", b"unexpected Host header"
                else:
                    status, kind, body = app.handle(self.path)
            except Exception:  # a bug: log it, answer 500, keep serving
                log.exception("GET %s", self.path)
                status, kind, body = 500, "text/plain; charset=utf-8", b"internal error (see the server's log)"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if not self.path.startswith("/report"):  # the report inlines its own scripts
                # Nothing on these pages runs or loads from elsewhere: the text is the corpus's, not ours.
                self.send_header("Content-Security-Policy", CSP)
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):
            log.info("%s %s", self.address_string(), format % args)

    server = (_ServerV6 if ":" in host else http.server.ThreadingHTTPServer)((host, port), Handler)
    server.daemon_threads = True
    server.app = app
    bound = server.server_address[1]
    names = {host, "localhost", "127.0.0.1", "[::1]", f"[{host}]"}
    allowed_hosts = {f"{name}:{bound}" for name in names} if _loopback(host) else None
    return server


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(release: str, host: str = "127.0.0.1", port: int = 8765, report: str | None = None) -> None:
    """Serve RELEASE until interrupted."""
    server = make_server(release, host, port, report)
    bound_host, bound_port = server.server_address[:2]
    if not _loopback(host):
        print(f"warning: listening on {host}: anyone who can reach it can read the corpus", flush=True)
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"serving {server.app.release.id} on http://{shown}:{bound_port}/  (Ctrl-C to stop)", flush=True)
    if server.app.report:
        print(f"report: {server.app.report}", flush=True)
    threading.Thread(target=server.app.warm, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
