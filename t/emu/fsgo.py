#!/usr/bin/env python3
"""Emulator of file-system-go 1.5.0 (the Go/gorilla-mux WAV store), and of
the newer version the collector-fed service talks to (--api 2).

    python3 t/emu/fsgo.py --port N --root DIR [--api 1.5|2] [--port-file F]
                          [--parent-pid P] [--host 127.0.0.1] [--verbose]

Serves the folder DIR the way the real server does (see
shared/spec/file-system-go.md): same routes, same JSON (Go encoder style:
compact, trailing newline, HTML characters escaped), same status codes.

Real routes
  GET    /                               health
  POST   /api/videos/query               {"filters":{"prefix","suffix"}}
  GET    /api/metadata/{filename}        <filename>.meta.json (also <id>.meta.json)
  GET    /api/check/{filename}
  DELETE /api/videos/{filename}, /api/file/{filename}
  GET    /api/videos/{id}/download
  POST   /api/read/mark, GET /api/read/files, DELETE /api/read/remove
  GET    /audio/{filename}               static files, Range requests

The newer version (--api 2, or POST /__emu/config {"api":"2"}; see
shared/spec/file-system-go.md, "The newer file-system-go") lists with
  POST   /api/files/query                {"filters":{...}}: as above, without "id"
and deletes with
  DELETE /api/files/{filename}
and has neither the 1.5 listing, metadata, delete and read routes (they
answer gorilla/mux's 404 "404 page not found"); 1.5 has no /api/files/.

Control API (not part of the real server)
  GET  /__emu/stats      {"requests":{route:n},"audio_per_file":{name:n},
                          "marked":[...],"deleted":[...],
                          "unmarked":[...],"read_records":[filename...],
                          "queries":[body...],"faults":[...],
                          "fault_hits":n,"root":DIR}
                          (unmarked: the names DELETE /api/read/remove
                          was called with, in order; queries: the listing
                          request bodies, in order)
  POST /__emu/fault      {"route":"query|metadata|audio|download|mark|delete|
                          check|health|readfiles|*","status":500,"count":N,
                          "body":"raw","content_type":"...","delay_ms":M,
                          "match":"substring of path","close":true}
  POST /__emu/reset      clears faults, counters, marked/deleted lists;
                          {"wipe":true} also empties DIR
  POST /__emu/generate   {"count":N,"seconds":1.0,"start":"7000000000000000001",
                          "meta":false,"tone":0} writes N WAVs (16 kHz mono s16)
  POST /__emu/config     {"root":"DIR","api":"1.5"|"2"}
"""

import email.utils
import html
import mimetypes
import os
import posixpath
import re
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emucommon as C  # noqa: E402

VERSION = "1.5.0"
VERSION_2 = "2.0.0"

# routes of one API version only: (method, regex); the other version
# answers them with gorilla/mux's 404
ONLY_1_5 = [("POST", re.compile(r"/api/videos/query")),
            ("GET", re.compile(r"/api/metadata/[^/]+")),
            ("DELETE", re.compile(r"/api/videos/[^/]+")),
            ("DELETE", re.compile(r"/api/file/[^/]+")),
            (None, re.compile(r"/api/read/.*"))]
ONLY_2 = [(None, re.compile(r"/api/files/.*"))]
ROUTE_NAMES = ["health", "query", "metadata", "check", "delete", "download",
               "mark", "readfiles", "readremove", "audio"]


def go_ext(name):
    """filepath.Ext"""
    i = name.rfind(".")
    return name[i:] if i >= 0 else ""


def go_clean_path(p):
    """gorilla/mux cleanPath"""
    if p == "":
        return "/"
    if p[0] != "/":
        p = "/" + p
    np = posixpath.normpath(p)
    if np.startswith("//"):
        np = "/" + np.lstrip("/")
    if p[-1] == "/" and np != "/":
        np += "/"
    return np


def ci_get(d, key):
    """encoding/json matches field names case-insensitively."""
    if key in d:
        return True, d[key]
    lk = key.lower()
    for k, v in d.items():
        if k.lower() == lk:
            return True, v
    return False, None


RFC3339_RX = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def go_time_roundtrip(s):
    """time.Time UnmarshalJSON + MarshalJSON (RFC3339Nano).  Raises
    ValueError when Go would fail to parse it."""
    m = RFC3339_RX.fullmatch(s)
    if not m:
        raise ValueError("bad time")
    y, mo, d, h, mi, se, frac, zone = m.groups()
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31 and int(h) < 24
            and int(mi) < 60 and int(se) < 60):
        raise ValueError("bad time")
    out = "%s-%s-%sT%s:%s:%s" % (y, mo, d, h, mi, se)
    if frac:
        digits = frac[1:10].rstrip("0")
        if digits:
            out += "." + digits
    if zone in ("Z", "+00:00", "-00:00"):
        out += "Z"
    else:
        out += zone
    return out


def local_rfc3339(t=None):
    t = time.time() if t is None else t
    lt = time.localtime(t)
    off = lt.tm_gmtoff
    s = time.strftime("%Y-%m-%dT%H:%M:%S", lt)
    if off == 0:
        return s + "Z"
    sign = "+" if off > 0 else "-"
    off = abs(off)
    return s + "%s%02d:%02d" % (sign, off // 3600, (off % 3600) // 60)


class State:
    def __init__(self, root, api="1.5"):
        self.root = os.path.abspath(root)
        self.api = self.start_api = api
        self.lock = threading.Lock()
        self.faults = C.FaultRegistry()
        self.reset()

    def reset(self):
        with self.lock:
            self.requests = {n: 0 for n in ROUTE_NAMES}
            self.audio_per_file = {}
            self.marked = []                  # filenames in mark order
            self.unmarked = []                # read/remove calls, in order
            self.queries = []                 # listing bodies, in order
            self.read_records = {}            # filename -> record
            self.deleted = []
            self.api = self.start_api
        self.faults.clear()


class Handler(C.EmuHandler):
    ROUTES = [
        C.route("GET", r"/", "h_health"),
        C.route("POST", r"/api/videos/query", "h_query"),
        C.route("POST", r"/api/files/query", "h_query"),
        C.route("DELETE", r"/api/files/([^/]+)", "h_delete"),
        C.route("GET", r"/api/metadata/([^/]+)", "h_metadata"),
        C.route("GET", r"/api/check/([^/]+)", "h_check"),
        C.route("DELETE", r"/api/file/([^/]+)", "h_delete"),
        C.route("DELETE", r"/api/videos/([^/]+)", "h_delete"),
        C.route("GET", r"/api/videos/([^/]+)/download", "h_download"),
        C.route("POST", r"/api/read/mark", "h_mark"),
        C.route("GET", r"/api/read/files", "h_readfiles"),
        C.route("DELETE", r"/api/read/remove", "h_readremove"),
        C.route(None, r"/audio/(.*)", "h_audio"),
        # control API
        C.route("GET", r"/__emu/stats", "c_stats"),
        C.route("POST", r"/__emu/fault", "c_fault"),
        C.route("POST", r"/__emu/reset", "c_reset"),
        C.route("POST", r"/__emu/generate", "c_generate"),
        C.route("GET|POST", r"/__emu/config", "c_config"),
    ]
    ROUTE_LABELS = {
        "h_health": "health", "h_query": "query", "h_metadata": "metadata",
        "h_check": "check", "h_delete": "delete", "h_download": "download",
        "h_mark": "mark", "h_readfiles": "readfiles", "h_readremove": "readremove",
        "h_audio": "audio",
    }

    @property
    def st(self):
        return self.server.state

    # gorilla/mux redirects unclean paths before routing
    def _dispatch(self):
        # a keep-alive connection: the body cached is the last request's
        if hasattr(self, "_body"):
            del self._body
        raw = urllib.parse.urlsplit(self.path)
        p = urllib.parse.unquote(raw.path)
        if not p.startswith("/__emu/"):
            cp = go_clean_path(p)
            if cp != p:
                try:
                    self.read_body()
                except C.ClientGone:
                    self.close_connection = True
                    return
                loc = urllib.parse.quote(cp) + ("?" + raw.query if raw.query else "")
                self.reply(301, b"", None, [("Location", loc)])
                return
            other = ONLY_2 if self.st.api == "1.5" else ONLY_1_5
            for method, rx in other:
                if rx.fullmatch(p) and (method is None or method == self.command):
                    try:
                        self.read_body()
                    except C.ClientGone:
                        self.close_connection = True
                        return
                    return self.reply_go_error(404, "404 page not found")
        super()._dispatch()

    # the base class binds its own _dispatch: bind this one
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = \
        do_OPTIONS = _dispatch

    def on_route(self, label):
        with self.st.lock:
            self.st.requests[label] = self.st.requests.get(label, 0) + 1

    def fault_body(self, label, status, fault):
        if label in ("audio", "download"):
            if label == "audio" and status == 404:
                text = "404 page not found"
            else:
                text = "%d %s" % (status, C.HTTP_REASONS.get(status, ""))
            return "text/plain; charset=utf-8", (text + "\n").encode()
        defaults = {
            ("query", 500): "Failed to read directory",
            ("query", 400): "Invalid request body",
            ("metadata", 404): "Metadata not found",
            ("metadata", 500): "Failed to load metadata",
            ("metadata", 400): "Invalid filename",
            ("delete", 404): "File not found",
            ("delete", 500): "Failed to delete file",
            ("delete", 400): "Invalid filename",
            ("mark", 400): "Invalid request body",
        }
        err = fault.get("error") or defaults.get(
            (label, status), C.HTTP_REASONS.get(status, "Error"))
        return "application/json", C.go_json({"success": False, "error": err})

    def path_in_root(self, name):
        return os.path.join(self.st.root, name)

    # -- real routes ----------------------------------------------------------
    def h_health(self, m):
        self.reply_go_json(200, {
            "service": "Audio File Server (Go)", "status": "running",
            "version": VERSION if self.st.api == "1.5" else VERSION_2, "upload_endpoint": "/upload",
            "audio_dir": self.st.root})

    def h_query(self, m):
        def bad():
            self.reply_go_json(400, {"success": False, "error": "Invalid request body"})
        body = self.read_body()
        with self.st.lock:
            self.st.queries.append(body.decode("utf-8", errors="replace"))
        try:
            req = C.go_decode_first_value(body.decode("utf-8", errors="replace"))
        except ValueError:
            return bad()
        prefix = suffix = ""
        if req is not None:
            if not isinstance(req, dict):
                return bad()
            has, filters = ci_get(req, "filters")
            if has and filters is not None:
                if not isinstance(filters, dict):
                    return bad()
                for key in ("prefix", "suffix"):
                    has, v = ci_get(filters, key)
                    if has and v is not None and not isinstance(v, str):
                        return bad()
                    if has and v is not None:
                        if key == "prefix":
                            prefix = v
                        else:
                            suffix = v
        try:
            entries = sorted(os.scandir(self.st.root), key=lambda e: e.name)
        except OSError:
            return self.reply_go_json(500, {"success": False,
                                            "error": "Failed to read directory"})
        videos = []
        for e in entries:
            name = e.name
            try:
                if e.is_dir(follow_symlinks=False):
                    continue
            except OSError:
                continue
            if name.endswith(".meta.json"):
                continue
            # strings.HasPrefix / HasSuffix: case-sensitive, as the real
            # server's filter: {"suffix":".wav"} does not list "X.WAV"
            if prefix and not name.startswith(prefix):
                continue
            if suffix and not name.endswith(suffix):
                continue
            try:
                size = e.stat(follow_symlinks=False).st_size
            except OSError:
                continue
            ext = go_ext(name)
            vid = name[:len(name) - len(ext)] if ext else name
            v = {"filename": name, "size": size, "url": "/audio/%s" % name}
            if self.st.api == "1.5":
                v = dict(id=vid, **v)
            videos.append(v)
        out = {"success": True}
        if videos:
            out["videos"] = videos
        self.reply_go_json(200, out)

    def h_metadata(self, m):
        filename = m.group(1)
        if ".." in filename:
            return self.reply_go_json(400, {"success": False, "error": "Invalid filename"})
        cands = [filename + ".meta.json"]
        ext = go_ext(filename)
        if ext:
            cands.append(filename[:-len(ext)] + ".meta.json")
        data = None
        for c in cands:
            try:
                with open(self.path_in_root(c), "rb") as fh:
                    data = fh.read()
                break
            except FileNotFoundError:
                continue
            except OSError:
                return self.reply_go_json(500, {"success": False,
                                                "error": "Failed to load metadata"})
        if data is None:
            return self.reply_go_json(404, {"success": False, "error": "Metadata not found"})
        try:
            meta = self.decode_metadata(data, filename)
        except ValueError:
            return self.reply_go_json(500, {"success": False,
                                            "error": "Failed to load metadata"})
        self.reply_go_json(200, {"success": True, "metadata": meta})

    @staticmethod
    def decode_metadata(data, filename):
        import json
        obj = json.loads(data.decode("utf-8", errors="replace"))
        if obj is None:
            obj = {}
        if not isinstance(obj, dict):
            raise ValueError("not an object")
        out = {}
        for key in ("filename", "title", "author", "description"):
            has, v = ci_get(obj, key)
            if has and v is not None and not isinstance(v, str):
                raise ValueError("bad type")
            out[key] = v if (has and v is not None) else ""
        has, _ = ci_get(obj, "filename")
        if not has:
            # emulator convenience: sidecars written without "filename"
            # report the name they were asked for
            out["filename"] = filename
        has, ut = ci_get(obj, "upload_time")
        if has and ut is not None:
            if not isinstance(ut, str):
                raise ValueError("bad time")
            out["upload_time"] = go_time_roundtrip(ut)
        else:
            out["upload_time"] = "0001-01-01T00:00:00Z"
        return out

    def h_check(self, m):
        filename = m.group(1)
        if ".." in filename:
            return self.reply_go_json(400, {"success": False, "error": "Invalid filename"})
        try:
            stt = os.stat(self.path_in_root(filename))
        except FileNotFoundError:
            return self.reply_go_json(200, {"exists": False, "filename": filename})
        except OSError:
            return self.reply_go_json(500, {"success": False, "error": "File check failed"})
        self.reply_go_json(200, {"exists": True, "filename": filename,
                                 "size": stt.st_size,
                                 "upload_time": local_rfc3339(stt.st_mtime)})

    def h_delete(self, m):
        filename = m.group(1)
        if ".." in filename:
            return self.reply_go_json(400, {"success": False, "error": "Invalid filename"})
        fpath = self.path_in_root(filename)
        if not os.path.lexists(fpath):
            return self.reply_go_json(404, {"success": False, "error": "File not found"})
        try:
            if os.path.isdir(fpath) and not os.path.islink(fpath):
                os.rmdir(fpath)
            else:
                os.remove(fpath)
        except OSError:
            return self.reply_go_json(500, {"success": False, "error": "Failed to delete file"})
        metas = [filename + ".meta.json"]
        ext = go_ext(filename)
        if ext:
            metas.append(filename[:-len(ext)] + ".meta.json")
        for mp in metas:
            try:
                os.remove(self.path_in_root(mp))
            except OSError:
                pass
        with self.st.lock:
            self.st.deleted.append(filename)
        self.reply_go_json(200, {"success": True, "message": "File deleted successfully"})

    def h_download(self, m):
        vid = m.group(1)
        if ".." in vid or "/" in vid or "\\" in vid:
            return self.reply_go_error(400, "Invalid video ID")
        fpath = None
        for ext in (".mp4", ".MP4", ".wav", ".WAV"):
            p = self.path_in_root(vid + ext)
            if os.path.exists(p):
                fpath = p
                break
        if fpath is None:
            return self.reply_go_error(404, "Video not found")
        ctype = "audio/wav" if fpath.endswith((".wav", ".WAV")) else "video/mp4"
        base = os.path.basename(fpath)
        self.serve_file(fpath, ctype, [
            ("Content-Disposition", 'attachment; filename="%s"' % base)])

    def h_mark(self, m):
        body = self.read_body()
        try:
            req = C.go_decode_first_value(body.decode("utf-8", errors="replace"))
            if req is None:
                req = {}
            if not isinstance(req, dict):
                raise ValueError
            has, fn = ci_get(req, "filename")
            if has and fn is not None and not isinstance(fn, str):
                raise ValueError
        except ValueError:
            return self.reply_go_json(400, {"success": False, "error": "Invalid request body"})
        if not fn:
            return self.reply_go_json(400, {"success": False, "error": "Filename is required"})
        with self.st.lock:
            self.st.marked.append(fn)
            self.st.read_records[fn] = {"filename": fn, "read_at": local_rfc3339()}
        self.reply_go_json(200, {"success": True, "message": "已标记为已读"})

    def h_readfiles(self, m):
        fn = self.query_params().get("filename", "")
        with self.st.lock:
            if fn:
                recs = [self.st.read_records[fn]] if fn in self.st.read_records else []
            else:
                recs = list(self.st.read_records.values())
        out = {"success": True}
        if recs:
            out["records"] = recs
        self.reply_go_json(200, out)

    def h_readremove(self, m):
        body = self.read_body()
        try:
            req = C.go_decode_first_value(body.decode("utf-8", errors="replace")) or {}
            if not isinstance(req, dict):
                raise ValueError
            has, fn = ci_get(req, "filename")
            if has and fn is not None and not isinstance(fn, str):
                raise ValueError
        except ValueError:
            return self.reply_go_json(400, {"success": False, "error": "Invalid request body"})
        if not fn:
            return self.reply_go_json(400, {"success": False, "error": "Filename is required"})
        with self.st.lock:
            self.st.unmarked.append(fn)
            found = self.st.read_records.pop(fn, None) is not None
        if found:
            self.reply_go_json(200, {"success": True, "message": "记录已移除"})
        else:
            self.reply_go_json(200, {"success": False, "error": "Record not found"})

    def h_audio(self, m):
        rel = m.group(1)
        # http.FileServer: clean the path, keep it under the root
        clean = posixpath.normpath("/" + rel)
        fpath = os.path.join(self.st.root, clean.lstrip("/"))
        name = clean.rsplit("/", 1)[-1]
        with self.st.lock:
            self.st.audio_per_file[name] = self.st.audio_per_file.get(name, 0) + 1
        if os.path.isdir(fpath):
            if not self.upath.endswith("/"):
                return self.reply(301, b"", None,
                                  [("Location", "./" + urllib.parse.quote(name) + "/")])
            return self.dir_list(fpath)
        if rel.endswith("/") and os.path.isfile(fpath):
            return self.reply(301, b"", None, [("Location", "../" + urllib.parse.quote(name))])
        if not os.path.isfile(fpath):
            return self.reply_go_error(404, "404 page not found")
        ext = go_ext(name).lower()
        ctype = {".wav": "audio/x-wav", ".json": "application/json",
                 ".txt": "text/plain; charset=utf-8", ".mp4": "video/mp4",
                 ".mp3": "audio/mpeg"}.get(ext)
        if ctype is None:
            ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.serve_file(fpath, ctype, [])

    def dir_list(self, dpath):
        try:
            names = sorted(os.listdir(dpath))
        except OSError:
            return self.reply_go_error(500, "Error reading directory")
        out = ["<pre>\n"]
        for n in names:
            disp = n + ("/" if os.path.isdir(os.path.join(dpath, n)) else "")
            out.append('<a href="%s">%s</a>\n' % (urllib.parse.quote(disp), html.escape(disp)))
        out.append("</pre>\n")
        self.reply(200, "".join(out), "text/html; charset=utf-8")

    # -- net/http ServeContent ---------------------------------------------------
    def serve_file(self, fpath, ctype, extra_headers):
        try:
            with open(fpath, "rb") as fh:
                data = fh.read()
            mtime = os.stat(fpath).st_mtime
        except OSError:
            return self.reply_go_error(404, "404 page not found")
        size = len(data)
        lastmod = email.utils.formatdate(int(mtime), usegmt=True)
        ims = self.headers.get("If-Modified-Since")
        if ims and self.command in ("GET", "HEAD") and not self.headers.get("Range"):
            try:
                t = email.utils.parsedate_to_datetime(ims).timestamp()
                if int(mtime) <= t:
                    self.send_response(304)
                    self.send_header("Last-Modified", lastmod)
                    self.end_headers()
                    return
            except (TypeError, ValueError, IndexError):
                pass
        headers = [("Accept-Ranges", "bytes"), ("Last-Modified", lastmod)] + extra_headers
        rng = self.headers.get("Range")
        if rng is not None and self.headers.get("If-Range"):
            ir = self.headers.get("If-Range")
            if ir != lastmod:
                rng = None
        if rng is None or rng == "":
            return self.reply(200, data, ctype, headers)
        ranges = self.parse_ranges(rng, size)
        if ranges is None:
            return self.reply(416, "invalid range\n", "text/plain; charset=utf-8",
                              [("Content-Range", "bytes */%d" % size),
                               ("X-Content-Type-Options", "nosniff")])
        if ranges == "nooverlap":
            return self.reply(416, "invalid range: failed to overlap\n",
                              "text/plain; charset=utf-8",
                              [("Content-Range", "bytes */%d" % size),
                               ("X-Content-Type-Options", "nosniff")])
        if sum(l for _, l in ranges) > size:
            return self.reply(200, data, ctype, headers)
        if len(ranges) == 1:
            s, l = ranges[0]
            return self.reply(206, data[s:s + l], ctype,
                              headers + [("Content-Range", "bytes %d-%d/%d" % (s, s + l - 1, size))])
        boundary = "%030x" % int.from_bytes(os.urandom(15), "big")
        parts = []
        for s, l in ranges:
            parts.append(("--%s\r\nContent-Range: bytes %d-%d/%d\r\nContent-Type: %s\r\n\r\n"
                          % (boundary, s, s + l - 1, size, ctype)).encode() + data[s:s + l] + b"\r\n")
        parts.append(("--%s--\r\n" % boundary).encode())
        self.reply(206, b"".join(parts), "multipart/byteranges; boundary=" + boundary, headers)

    @staticmethod
    def parse_ranges(s, size):
        """net/http parseRange; None = invalid, "nooverlap" = 416 overlap."""
        if not s.startswith("bytes="):
            return None
        out = []
        no_overlap = False
        for ra in s[len("bytes="):].split(","):
            ra = ra.strip(" \t")
            if ra == "":
                continue
            if "-" not in ra:
                return None
            start, end = ra.split("-", 1)
            start, end = start.strip(" \t"), end.strip(" \t")
            if start == "":
                if end == "" or not end.isdigit():
                    return None
                n = int(end)
                if n == 0:
                    no_overlap = True
                    continue
                n = min(n, size)
                out.append((size - n, n))
            else:
                if not start.isdigit():
                    return None
                i = int(start)
                if i >= size:
                    no_overlap = True
                    continue
                if end == "":
                    out.append((i, size - i))
                else:
                    if not end.isdigit():
                        return None
                    j = int(end)
                    if i > j:
                        return None
                    j = min(j, size - 1)
                    out.append((i, j - i + 1))
        if no_overlap and not out:
            return "nooverlap"
        if not out:
            return None
        return out

    # -- control API --------------------------------------------------------------
    def json_body(self):
        import json
        b = self.read_body()
        if not b.strip():
            return {}
        return json.loads(b.decode("utf-8"))

    def c_stats(self, m):
        with self.st.lock:
            out = {"requests": dict(self.st.requests),
                   "audio_per_file": dict(self.st.audio_per_file),
                   "marked": list(self.st.marked),
                   "deleted": list(self.st.deleted),
                   "unmarked": list(self.st.unmarked),
                   "read_records": sorted(self.st.read_records),
                   "queries": list(self.st.queries),
                   "faults": self.st.faults.snapshot(),
                   "fault_hits": self.st.faults.hits,
                   "root": self.st.root, "api": self.st.api}
        self.reply_json(200, out)

    def c_fault(self, m):
        try:
            spec = self.json_body()
            if not isinstance(spec, dict):
                raise ValueError
        except ValueError:
            return self.reply_json(400, {"ok": False, "error": "bad fault spec"})
        specs = spec.get("faults") if "faults" in spec else [spec]
        added = [self.st.faults.add(s) for s in specs]
        self.reply_json(200, {"ok": True, "faults": added})

    def c_reset(self, m):
        try:
            spec = self.json_body()
        except ValueError:
            spec = {}
        self.st.reset()
        removed = 0
        if isinstance(spec, dict) and spec.get("wipe"):
            for n in os.listdir(self.st.root):
                p = os.path.join(self.st.root, n)
                if os.path.isfile(p) or os.path.islink(p):
                    os.remove(p)
                    removed += 1
        self.reply_json(200, {"ok": True, "removed": removed})

    def c_generate(self, m):
        import json
        try:
            spec = self.json_body()
            count = int(spec.get("count", 1))
            seconds = float(spec.get("seconds", 1.0))
            start = int(spec.get("start", 7000000000000000001))
            tone = float(spec.get("tone", 0))
            meta = bool(spec.get("meta", False))
        except (ValueError, TypeError, AttributeError):
            return self.reply_json(400, {"ok": False, "error": "bad generate spec"})
        wav = C.make_wav(seconds=seconds, tone=tone)
        ids = []
        os.makedirs(self.st.root, exist_ok=True)
        for i in range(count):
            vid = str(start + i)
            name = vid + ".wav"
            tmp = os.path.join(self.st.root, "." + name + ".tmp")
            with open(tmp, "wb") as fh:
                fh.write(wav)
            os.replace(tmp, os.path.join(self.st.root, name))
            if meta:
                with open(os.path.join(self.st.root, name + ".meta.json"), "w",
                          encoding="utf-8") as fh:
                    # one minute apart, so that lists have an order to keep
                    t = C.upload_time(i)
                    json.dump({"filename": name, "title": "title " + vid,
                               "author": "author " + vid, "description": "",
                               "upload_time": t},
                              fh, ensure_ascii=False)
            ids.append(vid)
        self.reply_json(200, {"ok": True, "count": count, "ids": ids,
                              "bytes_each": len(wav)})

    def c_config(self, m):
        if self.command == "POST":
            try:
                spec = self.json_body()
            except ValueError:
                return self.reply_json(400, {"ok": False, "error": "bad config"})
            if "root" in spec:
                self.st.root = os.path.abspath(spec["root"])
            if "api" in spec:
                if spec["api"] not in ("1.5", "2"):
                    return self.reply_json(400, {"ok": False,
                                                 "error": "api is 1.5 or 2"})
                self.st.api = spec["api"]
        self.reply_json(200, {"ok": True, "root": self.st.root,
                              "api": self.st.api})


def main(argv=None):
    p = C.base_argparser("file-system-go emulator")
    p.add_argument("--root", required=True, help="folder of WAV files and sidecars")
    p.add_argument("--api", choices=("1.5", "2"), default="1.5",
                   help="the API version to serve (default 1.5)")
    args = p.parse_args(argv)
    os.makedirs(args.root, exist_ok=True)   # the real server MkdirAll's it too

    def setup(server):
        server.state = State(args.root, args.api)
        server.faults = server.state.faults
    return C.serve(Handler, args, "fsgo", setup)


if __name__ == "__main__":
    sys.exit(main())
