#!/usr/bin/env python3
"""hubserver.py - a fake Hugging Face hub on 127.0.0.1 for moescope's net
tests (Python 3 standard library only).

Serves the repos under --root (ROOT/ORG/NAME/files) the way the hub does:
  GET  /api/models/ORG/NAME/revision/REV   {"id", "sha", "siblings"}
  HEAD|GET /ORG/NAME/resolve/REV/PATH      small files: 200 with ETag (git
       SHA-1), X-Repo-Commit, Content-Length; LFS files (*.safetensors,
       *.gguf, *.model, or > 64 KiB): 302 to a signed CDN URL (on
       http://localhost:PORT, another host name than 127.0.0.1) with
       X-Linked-Etag (SHA-256), X-Linked-Size, X-Repo-Commit
  GET  /cdn/ORG/NAME/PATH?sig=N            the bytes, honouring Range;
       403 when the signature N is stale (an expired redirect)
A repo with a file ".gated" holding a token wants "Authorization: Bearer
TOKEN" (401 otherwise); an unknown repo or revision is 404.

Faults, set with GET /_ctl?key=value&...:
  drop=N         the next CDN response stops after N bytes and the
                 connection is closed (drop_count=K: the next K responses)
  corrupt=S      flip a byte of files whose path contains S
  expire=1       after the next CDN response, signatures change (the
                 Location the client holds has expired)
  rate=B         throttle CDN bodies to about B bytes/s
  reset=1        clear every fault
Every request is logged to --log as "METHOD PATH range=R auth=yes|no
-> STATUS". The port is written to --port-file once listening.
"""
import argparse
import hashlib
import http.server
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

state = {"gen": 1, "drop": None, "drop_count": 0, "corrupt": None,
         "expire": False, "rate": None}
lock = threading.Lock()
args = None


def commit_of(repo):
    return hashlib.sha1(("commit:" + repo).encode()).hexdigest()


def repo_files(d):
    out = []
    for base, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            if f.startswith("."):
                continue
            out.append(os.path.relpath(os.path.join(base, f), d))
    return sorted(out)


def is_lfs(path, size):
    return path.endswith((".safetensors", ".gguf", ".model")) or size > 65536


_sha = {}


def sha256_of(p):
    if p not in _sha:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        _sha[p] = h.hexdigest()
    return _sha[p]


def gitsha_of(p):
    data = open(p, "rb").read()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def log(self, status):
        with open(args.log, "a") as f:
            f.write("%s %s range=%s auth=%s -> %d\n" % (
                self.command, self.path, self.headers.get("Range", "-"),
                "yes" if self.headers.get("Authorization") else "no",
                status))

    def reply(self, status, body=b"", headers=None, ctype="application/json"):
        self.log(status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def repo_dir(self, org, name):
        d = os.path.join(args.root, org, name)
        return d if os.path.isdir(d) else None

    def auth_ok(self, d):
        g = os.path.join(d, ".gated")
        if not os.path.exists(g):
            return True
        tok = open(g).read().strip()
        return self.headers.get("Authorization") == "Bearer " + tok

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in u.path.split("/")[1:]]
        q = dict(urllib.parse.parse_qsl(u.query))
        if parts[:1] == ["_ctl"]:
            with lock:
                if "reset" in q:
                    state.update(drop=None, drop_count=0, corrupt=None,
                                 expire=False, rate=None)
                if "drop" in q:
                    state["drop"] = int(q["drop"])
                    state["drop_count"] = int(q.get("drop_count", 1))
                if "corrupt" in q:
                    state["corrupt"] = q["corrupt"]
                if "expire" in q:
                    state["expire"] = True
                if "rate" in q:
                    state["rate"] = int(q["rate"])
            return self.reply(200, b"{}")
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and \
                parts[4] == "revision":
            org, name, rev = parts[2], parts[3], "/".join(parts[5:])
            d = self.repo_dir(org, name)
            if d is None:
                return self.reply(404, b'{"error":"Repository not found"}')
            if not self.auth_ok(d):
                return self.reply(401, b'{"error":"Access to model is '
                                  b'restricted"}')
            repo = org + "/" + name
            if rev not in ("main", commit_of(repo)):
                return self.reply(404, b'{"error":"Revision not found"}')
            body = json.dumps({"id": repo, "sha": commit_of(repo),
                               "siblings": [{"rfilename": f} for f in
                                            repo_files(d)]}).encode()
            return self.reply(200, body)
        if len(parts) >= 5 and parts[2] == "resolve":
            org, name, rev = parts[0], parts[1], parts[3]
            path = "/".join(parts[4:])
            d = self.repo_dir(org, name)
            if d is None:
                return self.reply(404, b'{"error":"Repository not found"}')
            if not self.auth_ok(d):
                return self.reply(401, b'{"error":"restricted"}')
            repo = org + "/" + name
            p = os.path.join(d, path)
            if rev not in ("main", commit_of(repo)) or \
                    not os.path.isfile(p):
                return self.reply(404, b'{"error":"Entry not found"}')
            size = os.path.getsize(p)
            h = {"X-Repo-Commit": commit_of(repo)}
            if is_lfs(path, size):
                sha = sha256_of(p)
                h.update({"X-Linked-Etag": '"%s"' % sha,
                          "X-Linked-Size": str(size),
                          "ETag": '"%s"' % sha,
                          # another host name, as the hub's CDN is
                          "Location": "http://localhost:%d/cdn/%s/%s/%s"
                                      "?sig=%d" % (
                              self.server.server_address[1], org, name,
                              urllib.parse.quote(path), state["gen"])})
                return self.reply(302, b"", h)
            h["ETag"] = '"%s"' % gitsha_of(p)
            return self.reply(200, open(p, "rb").read(), h,
                              "application/octet-stream")
        if parts[:1] == ["cdn"] and len(parts) >= 4:
            return self.cdn(parts[1], parts[2], "/".join(parts[3:]), q)
        return self.reply(404, b'{"error":"no such route"}')

    def cdn(self, org, name, path, q):
        d = self.repo_dir(org, name)
        p = os.path.join(d or "/nonexistent", path)
        if d is None or not os.path.isfile(p):
            return self.reply(404, b"")
        if q.get("sig") != str(state["gen"]):
            return self.reply(403, b"<Error>Request has expired</Error>",
                              ctype="application/xml")
        size = os.path.getsize(p)
        with lock:
            corrupt = bool(state["corrupt"] and state["corrupt"] in path)
            drop = None
            if state["drop"] is not None and state["drop_count"] > 0:
                drop = state["drop"]
                state["drop_count"] -= 1
            if state["expire"]:
                state["expire"] = False
                state["gen"] += 1
            rate = state["rate"]
        start, status = 0, 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= size:
                return self.reply(416, b"", {"Content-Range":
                                            "bytes */%d" % size})
            status = 206
        self.log(status)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (
                start, size - 1, size))
        self.end_headers()
        if self.command == "HEAD":
            return
        left = size - start if drop is None else min(drop, size - start)
        pos, step = start, 1 << 20
        try:
            with open(p, "rb") as f:
                f.seek(start)
                while left > 0:
                    b = f.read(min(step, left))
                    if not b:
                        break
                    if corrupt and pos <= size // 2 < pos + len(b):
                        b = bytearray(b)
                        b[size // 2 - pos] ^= 0xFF
                        b = bytes(b)
                    self.wfile.write(b)
                    pos += len(b)
                    left -= len(b)
                    if rate:
                        time.sleep(len(b) / rate)
        except OSError:
            self.close_connection = True
            return
        if drop is not None:
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    global args
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # clients that stop reading (cancelled, failed on purpose)
            if not isinstance(sys.exc_info()[1], OSError):
                super().handle_error(request, client_address)

    srv = Server(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
