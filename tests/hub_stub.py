"""A small local server speaking the part of the Hugging Face Hub HTTP API that pushing and pulling a dataset uses.

No package here provides one (hf-local-hub needs a Go binary it does not ship), so tests point
``HF_ENDPOINT`` at this server and drive the real ``huggingface_hub`` client against it; our code is
not patched. Served: validate a card's YAML, create a repo (``/api/repos/create``), create a branch, preupload (every file
"regular", i.e. inline, no LFS), commit (NDJSON: header, file, deletedFile), repo info by revision,
the file tree, paths-info, and ``resolve`` (HEAD and GET) for downloads. Writes need ``Authorization: Bearer
<token>``; a private repo's reads too. Repos, branches and commits live in memory.

    python tests/hub_stub.py --port 8765 --token hf_test      # serve until interrupted
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

_REPO = r"(?P<type>model|dataset|space)s/(?P<repo>[^/]+/[^/]+)"


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit id
    commits: dict[str, dict] = field(default_factory=dict)  # id -> {"files": {path: bytes}, "message", "parent"}

    def files(self, rev: str) -> tuple[str, dict[str, bytes]] | None:
        commit = self.branches.get(rev, rev if rev in self.commits else None)
        if commit is None:
            return None
        return commit, self.commits[commit]["files"]


class HubState:
    def __init__(self, token: str | None):
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.validated: list[dict] = []  # card metadata the client asked to validate

    def new_commit(self, repo: Repo, files: dict[str, bytes], message: str, parent: str | None) -> str:
        sha = hashlib.sha1(f"{repo.repo_id}{parent}{message}{time.time_ns()}".encode()).hexdigest()
        repo.commits[sha] = {"files": files, "message": message, "parent": parent}
        return sha


def tree(files: dict[str, bytes], prefix: str, recursive: bool) -> list[dict]:
    """The Hub's tree listing under ``prefix``: files and directories (children only unless recursive)."""
    entries, dirs = [], set()
    for path, body in sorted(files.items()):
        if prefix and not path.startswith(prefix + "/"):
            continue
        rest = path[len(prefix) + 1 :] if prefix else path
        parts = rest.split("/")
        for i in range(1, len(parts) if recursive else min(2, len(parts))):
            dirs.add("/".join(filter(None, [prefix, *parts[:i]])))
        if recursive or len(parts) == 1:
            entries.append({"type": "file", "path": path, "size": len(body), "oid": hashlib.sha1(body).hexdigest()})
    return [
        {"type": "directory", "path": d, "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0} for d in sorted(dirs)
    ] + entries


def make_handler(state: HubState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        # -- helpers --------------------------------------------------------------------------
        def _authorized(self) -> bool:
            if state.token is None:
                return True
            return self.headers.get("authorization", "") == f"Bearer {state.token}"

        def _send(
            self,
            status: int,
            body: bytes = b"",
            headers: dict[str, str] | None = None,
            content_type: str = "application/json",
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, obj) -> None:
            self._send(status, json.dumps(obj).encode())

        def _error(self, status: int, message: str) -> None:
            self._send(status, json.dumps({"error": message}).encode(), {"X-Error-Message": message})

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("content-length") or 0))

        def _repo(self, m) -> Repo | None:
            return state.repos.get((m["type"], m["repo"]))

        def _readable(self, repo: Repo | None) -> bool:
            return repo is not None and (not repo.private or self._authorized())

        def _validate_yaml(self, body: dict) -> None:
            """The card's YAML header must parse to a mapping whose `configs` name existing-looking data files."""
            import yaml

            content = body.get("content", "")
            try:
                meta = (
                    yaml.safe_load(content)
                    if not content.startswith("---")
                    else yaml.safe_load(content.split("---", 2)[1])
                )
            except yaml.YAMLError as exc:
                return self._error(400, f"invalid YAML: {exc}")
            if not isinstance(meta, dict):
                return self._error(400, "the metadata is not a mapping")
            for config in meta.get("configs", []):
                if not isinstance(config, dict) or "config_name" not in config or not config.get("data_files"):
                    return self._error(400, f"bad configs entry {config!r}")
            state.validated.append(meta)
            return self._json(200, {"errors": [], "warnings": []})

        # -- routes ---------------------------------------------------------------------------
        def do_POST(self) -> None:  # noqa: N802
            path = unquote(urlparse(self.path).path)
            state.requests.append(("POST", path))
            with state.lock:
                if not self._authorized():
                    return self._error(401, "Invalid credentials in Authorization header")
                if path == "/api/validate-yaml":
                    return self._validate_yaml(json.loads(self._body() or b"{}"))
                if path == "/api/repos/create":
                    data = json.loads(self._body() or b"{}")
                    repo_type = data.get("type") or "model"
                    repo_id = f"{data['organization']}/{data['name']}" if data.get("organization") else data["name"]
                    if "/" not in repo_id:
                        repo_id = f"user/{repo_id}"
                    url = f"http://{self.headers['host']}/{repo_type}s/{repo_id}"
                    if (repo_type, repo_id) in state.repos:  # the Hub answers 409 with the repo's url
                        return self._send(
                            409,
                            json.dumps({"error": "You already created this repo", "url": url}).encode(),
                            {"X-Error-Message": "You already created this repo"},
                        )
                    repo = Repo(repo_type, repo_id, bool(data.get("private")) or data.get("visibility") == "private")
                    repo.branches["main"] = state.new_commit(repo, {".gitattributes": b""}, "initial commit", None)
                    state.repos[(repo_type, repo_id)] = repo
                    return self._json(200, {"url": url, "name": repo_id, "id": repo_id})
                m = re.fullmatch(rf"/api/{_REPO}/branch/(?P<branch>.+)", path)
                if m:
                    repo = self._repo(m)
                    if repo is None:
                        return self._error(404, "Repository not found")
                    if m["branch"] in repo.branches:
                        return self._error(409, "Reference already exists")
                    body = json.loads(self._body() or b"{}")
                    start = body.get("startingPoint") or "main"
                    repo.branches[m["branch"]] = repo.branches.get(start, start)
                    return self._json(200, {})
                m = re.fullmatch(rf"/api/{_REPO}/preupload/(?P<rev>.+)", path)
                if m:
                    if self._repo(m) is None:
                        return self._error(404, "Repository not found")
                    files = json.loads(self._body())["files"]
                    return self._json(
                        200,
                        {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]},
                    )
                m = re.fullmatch(rf"/api/{_REPO}/paths-info/(?P<rev>.+)", path)
                if m:
                    repo = self._repo(m)
                    found = repo.files(m["rev"]) if repo is not None else None
                    if found is None:
                        return self._error(404, "Repository or revision not found")
                    raw = self._body().decode()
                    wanted = (
                        json.loads(raw)["paths"]
                        if raw.startswith("{")
                        else [unquote(v) for k, v in (kv.split("=", 1) for kv in raw.split("&") if kv) if k == "paths"]
                    )
                    everything = tree(found[1], "", True)
                    return self._json(200, [e for e in everything if e["path"] in set(wanted)])
                m = re.fullmatch(rf"/api/{_REPO}/commit/(?P<rev>.+)", path)
                if m:
                    repo = self._repo(m)
                    if repo is None or m["rev"] not in repo.branches:
                        return self._error(404, "Repository or revision not found")
                    parent = repo.branches[m["rev"]]
                    files = dict(repo.commits[parent]["files"])
                    message = ""
                    for line in self._body().splitlines():
                        item = json.loads(line)
                        value = item["value"]
                        if item["key"] == "header":
                            message = value.get("summary", "")
                        elif item["key"] == "file":
                            files[value["path"]] = base64.b64decode(value["content"])
                        elif item["key"] == "deletedFile":
                            files.pop(value["path"], None)
                        elif item["key"] == "deletedFolder":
                            files = {
                                p: b for p, b in files.items() if not p.startswith(value["path"].rstrip("/") + "/")
                            }
                        else:
                            return self._error(400, f"unsupported commit operation {item['key']}")
                    sha = state.new_commit(repo, files, message, parent)
                    repo.branches[m["rev"]] = sha
                    return self._json(
                        200,
                        {
                            "commitUrl": f"http://{self.headers['host']}/{repo.repo_type}s/{repo.repo_id}/commit/{sha}",
                            "commitOid": sha,
                            "pullRequestUrl": None,
                        },
                    )
            return self._error(404, f"no route POST {path}")

        def do_GET(self) -> None:  # noqa: N802
            path = unquote(urlparse(self.path).path)
            state.requests.append((self.command, path))
            with state.lock:
                m = re.fullmatch(rf"/api/{_REPO}(?:/revision/(?P<rev>.+))?", path)
                if m:
                    repo = self._repo(m)
                    found = repo.files(m["rev"] or "main") if self._readable(repo) else None
                    if found is None:
                        return self._error(404, "Repository or revision not found")
                    sha, files = found
                    return self._json(
                        200,
                        {
                            "id": repo.repo_id,
                            "sha": sha,
                            "private": repo.private,
                            "siblings": [{"rfilename": p} for p in sorted(files)],
                            "lastModified": "2026-01-01T00:00:00.000Z",
                            "tags": [],
                            "downloads": 0,
                        },
                    )
                m = re.fullmatch(rf"/api/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<sub>.*))?", path)
                if m:
                    repo = self._repo(m)
                    found = repo.files(m["rev"]) if self._readable(repo) else None
                    if found is None:
                        return self._error(404, "Repository or revision not found")
                    _, files = found
                    recursive = "recursive=true" in (urlparse(self.path).query or "").lower()
                    return self._json(200, tree(files, (m["sub"] or "").strip("/"), recursive))
                m = re.fullmatch(
                    r"/(?:(?P<type>dataset|space)s/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)", path
                )
                if m:
                    repo = state.repos.get((m["type"] or "model", m["repo"]))
                    found = repo.files(m["rev"]) if self._readable(repo) else None
                    if found is None or m["file"] not in found[1]:
                        return self._error(404, "Entry not found")
                    sha, files = found
                    body = files[m["file"]]
                    return self._send(
                        200,
                        body,
                        {
                            "X-Repo-Commit": sha,
                            "ETag": f'"{hashlib.sha1(body).hexdigest()}"',
                            "X-Linked-Size": str(len(body)),
                        },
                        content_type="application/octet-stream",
                    )
            return self._error(404, f"no route GET {path}")

        do_HEAD = do_GET  # noqa: N815

    return Handler


class HubStub:
    """Run the server in a thread: ``with HubStub(token="t") as hub: os.environ["HF_ENDPOINT"] = hub.url``."""

    def __init__(self, token: str | None = "hf_test_token", port: int = 0):
        self.state = HubState(token)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self.state))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "HubStub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--token", default="hf_test_token")
    args = ap.parse_args()
    stub = HubStub(args.token, args.port)
    print(f"serving the Hub API stub at {stub.url} (token {args.token})", flush=True)
    try:
        stub.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
