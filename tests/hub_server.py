"""A loopback stand-in for the Hugging Face Hub, so `rootstock push` is tested offline.

It implements only what huggingface_hub 2.4.0 calls for create_repo, create_branch, repo_info,
list_repo_tree, preupload_lfs_files and create_commit, with plain LFS transfers (the client must
run with Xet disabled: HF_HUB_DISABLE_XET). LFS objects are stored by sha256 and checked on
arrival; commits are applied to an in-memory tree per branch, so a test can compare what
arrived with the release byte for byte. `fail_upload` makes an object's upload fail, to
simulate an interruption part-way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from huggingface_hub.utils.sha import git_hash

REPO = r"(?P<repo>[^/]+/[^/]+)"
REV = r"(?P<rev>[^/]+)"
LFS_MIN_BYTES = 10 * 1024 * 1024


@dataclass
class Blob:
    content: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def oid(self) -> str:
        """The id the Hub reports in preupload: sha256 for LFS files, the git blob sha1 otherwise."""
        return self.sha256 if self.lfs else git_hash(self.content)


@dataclass
class Repo:
    private: bool
    branches: dict[str, str] = field(default_factory=dict)  # branch -> head commit
    trees: dict[str, dict[str, Blob]] = field(default_factory=dict)  # commit -> {path: blob}
    lfs: dict[str, bytes] = field(default_factory=dict)  # sha256 -> uploaded object (committed or not)
    commits: list[dict[str, Any]] = field(default_factory=list)


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.extra = status, code, extra


class FakeHub:
    """The server's state and endpoint logic; `HubServer` puts it on a loopback port."""

    def __init__(self, url: str, token: str | None = None):
        self.url, self.token = url, token
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.uploads: list[str] = []  # sha256 of every object that arrived
        self.failures: dict[str, list] = {}  # sha256 -> [status, message, times left]
        self.lock = threading.Lock()
        self.routes = [
            ("POST", r"/api/repos/create", self.create_repo),
            ("POST", r"/api/validate-yaml", lambda body, **_: {"errors": [], "warnings": []}),
            ("POST", rf"/api/datasets/{REPO}/branch/{REV}", self.create_branch),
            ("GET", rf"/api/datasets/{REPO}/revision/{REV}", self.revision),
            ("GET", rf"/api/datasets/{REPO}/tree/{REV}(?:/(?P<prefix>.*))?", self.tree),
            ("POST", rf"/api/datasets/{REPO}/preupload/{REV}", self.preupload),
            ("POST", rf"/api/datasets/{REPO}/commit/{REV}", self.commit),
            ("POST", rf"/datasets/{REPO}\.git/info/lfs/objects/batch", self.lfs_batch),
            ("PUT", rf"/lfs/{REPO}/(?P<oid>[0-9a-f]{{64}})", self.lfs_put),
            ("POST", rf"/lfs/{REPO}/verify", self.lfs_verify),
        ]

    # -- what tests look at ------------------------------------------------------------------

    def fail_upload(self, sha256: str, status: int = 403, message: str = "Request has expired", times: int = 1) -> None:
        """The next `times` uploads of this object get `status` (403 = an expired presigned URL: not retried)."""
        self.failures[sha256] = [status, message, times]

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        repo = self.repos[repo_id]
        return {path: blob.content for path, blob in repo.trees[repo.branches[revision]].items()}

    def lfs_paths(self, repo_id: str, revision: str = "main") -> set[str]:
        repo = self.repos[repo_id]
        return {path for path, blob in repo.trees[repo.branches[revision]].items() if blob.lfs}

    # -- endpoints ---------------------------------------------------------------------------

    def _repo(self, repo: str) -> Repo:
        if repo not in self.repos:
            raise HubError(404, f"Repository datasets/{repo} not found", "RepoNotFound")
        return self.repos[repo]

    def _head(self, repo: Repo, rev: str) -> str:
        if rev not in repo.branches:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return repo.branches[rev]

    def _new_commit(self, repo: Repo, tree: dict[str, Blob], parent: str | None, summary: str) -> str:
        digest = hashlib.sha1(f"{parent}\n{summary}\n{len(repo.commits)}".encode())
        for path in sorted(tree):
            digest.update(f"{path}\0{tree[path].sha256}\n".encode())
        oid = digest.hexdigest()
        repo.trees[oid] = tree
        return oid

    def create_repo(self, body: dict, **_) -> dict:
        if body.get("type") != "dataset":
            raise HubError(400, "this fake hub only holds dataset repos")
        repo_id = f"{body['organization']}/{body['name']}"
        if repo_id in self.repos:
            raise HubError(409, "You already created this dataset repo", url=f"{self.url}/datasets/{repo_id}")
        repo = self.repos[repo_id] = Repo(private=body.get("visibility") == "private")
        repo.branches["main"] = self._new_commit(repo, {}, None, "initial commit")
        return {"url": f"{self.url}/datasets/{repo_id}"}

    def create_branch(self, body: dict, repo: str, rev: str, **_) -> dict:
        hub_repo = self._repo(repo)
        if rev in hub_repo.branches:
            raise HubError(409, f"Reference refs/heads/{rev} already exists")
        hub_repo.branches[rev] = self._head(hub_repo, body.get("startingPoint") or "main")
        return {}

    def revision(self, body: bytes, repo: str, rev: str, **_) -> dict:
        hub_repo = self._repo(repo)
        return {"id": repo, "sha": self._head(hub_repo, rev), "private": hub_repo.private}

    def tree(self, body: bytes, repo: str, rev: str, prefix: str | None = None, query: dict | None = None, **_) -> list:
        hub_repo = self._repo(repo)
        tree = hub_repo.trees[self._head(hub_repo, rev)]
        recursive = (query or {}).get("recursive", ["False"])[0].lower() == "true"
        base = f"{prefix.rstrip('/')}/" if prefix else ""
        entries = []
        for path, blob in sorted(tree.items()):  # files only: the client skips folders anyway
            rest = path[len(base) :]
            if path.startswith(base) and (recursive or "/" not in rest):
                entry = {"type": "file", "path": path, "size": len(blob.content), "oid": git_hash(blob.content)}
                if blob.lfs:
                    entry["lfs"] = {"oid": blob.sha256, "size": len(blob.content), "pointerSize": 134}
                entries.append(entry)
        return entries

    def preupload(self, body: dict, repo: str, rev: str, **_) -> dict:
        hub_repo = self._repo(repo)
        tree = hub_repo.trees[self._head(hub_repo, rev)]
        files = []
        for f in body["files"]:
            sample = base64.b64decode(f["sample"])
            lfs = f["path"].endswith(".parquet") or f["size"] >= LFS_MIN_BYTES or b"\0" in sample
            there = tree.get(f["path"])
            files.append(
                {
                    "path": f["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": there.oid if there else None,
                }
            )
        return {"files": files}

    def lfs_batch(self, body: dict, repo: str, **_) -> dict:
        hub_repo = self._repo(repo)
        objects = []
        for obj in body["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in hub_repo.lfs:
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/lfs/{repo}/{obj['oid']}"},
                    "verify": {"href": f"{self.url}/lfs/{repo}/verify"},
                }
            objects.append(entry)
        return {"transfer": "basic", "objects": objects}

    def lfs_put(self, body: bytes, repo: str, oid: str, **_) -> dict:
        failure = self.failures.get(oid)
        if failure and failure[2] > 0:
            failure[2] -= 1
            raise HubError(failure[0], failure[1])
        if hashlib.sha256(body).hexdigest() != oid:
            raise HubError(400, f"uploaded bytes do not hash to {oid}")
        self._repo(repo).lfs[oid] = body
        self.uploads.append(oid)
        return {}

    def lfs_verify(self, body: dict, repo: str, **_) -> dict:
        stored = self._repo(repo).lfs.get(body["oid"])
        if stored is None or len(stored) != body["size"]:
            raise HubError(404, f"object {body['oid']} not uploaded")
        return {}

    def commit(self, body: bytes, repo: str, rev: str, **_) -> dict:
        hub_repo = self._repo(repo)
        parent = self._head(hub_repo, rev)
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = lines[0]["value"]
        if header.get("parentCommit") not in (None, parent):
            raise HubError(412, f"A commit has happened since {header['parentCommit']}; parent is now {parent}")
        tree, added, deleted = dict(hub_repo.trees[parent]), [], []
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                tree[value["path"]] = Blob(base64.b64decode(value["content"]), lfs=False)
            elif key == "lfsFile":
                content = hub_repo.lfs.get(value["oid"])
                if content is None:
                    raise HubError(422, f"LFS object {value['oid']} of {value['path']} was never uploaded")
                tree[value["path"]] = Blob(content, lfs=True)
            elif key == "deletedFile":
                if tree.pop(value["path"], None) is None:
                    raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif key == "deletedFolder":
                folder = value["path"].rstrip("/") + "/"
                for path in [p for p in tree if p.startswith(folder)]:
                    del tree[path]
            else:
                raise HubError(400, f"unknown commit operation {key}")
            (deleted if key.startswith("deleted") else added).append(value["path"])
        oid = self._new_commit(hub_repo, tree, parent, header["summary"])
        hub_repo.branches[rev] = oid
        hub_repo.commits.append(
            {
                "oid": oid,
                "revision": rev,
                "summary": header["summary"],
                "description": header.get("description", ""),
                "added": added,
                "deleted": deleted,
            }
        )
        return {"commitUrl": f"{self.url}/datasets/{repo}/commit/{oid}", "commitOid": oid, "pullRequestUrl": None}

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(target)
        self.requests.append((method, url.path))
        for route_method, pattern, endpoint in self.routes:
            match = re.fullmatch(pattern, url.path)
            if route_method != method or match is None:
                continue
            try:
                if (
                    self.token
                    and not url.path.startswith("/lfs/")
                    and headers.get("Authorization") != f"Bearer {self.token}"
                ):
                    raise HubError(401, "Invalid credentials in Authorization header")
                args = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                content_type = headers.get("Content-Type", "")
                if "json" in content_type and "ndjson" not in content_type:
                    payload: Any = json.loads(body or b"{}")
                elif "form-urlencoded" in content_type:
                    payload = parse_qs(body.decode())
                else:
                    payload = body
                with self.lock:
                    return 200, {}, endpoint(payload, query=parse_qs(url.query), **args)
            except HubError as err:
                return err.status, {"X-Error-Code": err.code} if err.code else {}, {"error": str(err), **err.extra}
            except Exception:  # a bug in this fake: fail fast (5xx would be retried with backoff)
                return 418, {}, {"error": f"fake hub crashed:\n{traceback.format_exc()}"}
        return (
            404,
            {},
            {
                "error": f"fake hub: no endpoint for {method} {url.path} "
                "(only plain LFS is implemented: run the client with HF_HUB_DISABLE_XET=1)"
            },
        )


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        body = self._body()  # always read it all, so a refused upload is a clean HTTP error
        status, headers, payload = self.hub.handle(self.command, self.path, self.headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json", "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HubServer:
    """`with HubServer() as hub:` a FakeHub on http://127.0.0.1:<free port>."""

    def __init__(self, token: str | None = None):
        handler = type("Handler", (_Handler,), {})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.hub = handler.hub = FakeHub(self.url, token)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self.hub

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
