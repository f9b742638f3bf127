"""Shared plumbing for the test emulators (t/emu/fsgo.py, t/emu/dashscope.py).

Python 3 standard library only.  Nothing here is specific to one service:
an HTTP/1.1 keep-alive request handler with a small router, request body
reading (Content-Length or chunked), JSON helpers, the fault registry used
by the /__emu/fault control endpoints, WAV helpers, and a server bootstrap
(--host/--port/--port-file/--parent-pid/--verbose).
"""

import argparse
import json
import math
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 64 * 1024 * 1024

HTTP_REASONS = {
    200: "OK", 204: "No Content", 206: "Partial Content", 301: "Moved Permanently",
    304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
    413: "Request Entity Too Large", 416: "Requested Range Not Satisfiable",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}


# --------------------------------------------------------------------------
# JSON


def go_json(obj):
    """Encode like Go's json.NewEncoder(w).Encode(v): compact, UTF-8,
    HTML-significant characters escaped, trailing newline."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    s = (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
         .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return (s + "\n").encode("utf-8")


def compact_json(obj):
    """Compact UTF-8 JSON without a trailing newline (DashScope style).
    Strings read with errors="surrogateescape" get their raw bytes back."""
    return json.dumps(obj, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8", "surrogateescape")


def go_decode_first_value(body):
    """Mimic json.NewDecoder(r.Body).Decode(&v): read the first JSON value of
    the body, ignore anything after it.  Raises ValueError when the body is
    empty or the first value is not valid JSON."""
    text = body.decode("utf-8", errors="strict") if isinstance(body, bytes) else body
    i = 0
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    if i >= len(text):
        raise ValueError("EOF")
    value, _ = json.JSONDecoder().raw_decode(text, i)
    return value


# --------------------------------------------------------------------------
# WAV


def make_wav(seconds=1.0, rate=16000, channels=1, bits=16, tone=0.0, amplitude=0.3):
    """A valid PCM WAV.  tone=0 gives silence, otherwise a sine of that Hz."""
    nframes = max(0, int(round(seconds * rate)))
    width = bits // 8
    if tone and bits == 16:
        amp = int(32767 * amplitude)
        w = 2 * math.pi * tone / rate
        frame_vals = [int(amp * math.sin(w * i)) for i in range(nframes)]
        if channels == 1:
            data = struct.pack("<%dh" % nframes, *frame_vals)
        else:
            data = b"".join(struct.pack("<h", v) * channels for v in frame_vals)
    else:
        silence = b"\x80" if bits == 8 else b"\x00"
        data = silence * (nframes * channels * width)
    byte_rate = rate * channels * width
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, byte_rate,
                                    channels * width, bits)
    header += b"data" + struct.pack("<I", len(data))
    return header + data


def wav_is_silent(data):
    """True when the samples of the WAV data (after its "data" chunk
    header) are all zero bytes: 8-bit PCM is never taken for silent."""
    i = data.find(b"data", 12)
    if i < 0 or len(data) < i + 8:
        return False
    return not data[i + 8:].strip(b"\0") and len(data) > i + 8


def parse_wav(data):
    """Parse a RIFF/WAVE header.  Returns a dict or None when not a WAV."""
    if len(data) < 12 or data[0:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    fmt = None
    data_len = None
    while pos + 8 <= len(data):
        cid = data[pos:pos + 4]
        clen = struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body_start = pos + 8
        if cid == b"fmt " and clen >= 16 and body_start + 16 <= len(data):
            tag, ch, rate, brate, align, bits = struct.unpack(
                "<HHIIHH", data[body_start:body_start + 16])
            if tag == 0xFFFE and clen >= 40 and body_start + 40 <= len(data):
                tag = struct.unpack("<H", data[body_start + 24:body_start + 26])[0]
            fmt = dict(tag=tag, channels=ch, rate=rate, byte_rate=brate,
                       align=align, bits=bits)
        elif cid == b"data":
            avail = len(data) - body_start
            data_len = min(clen, avail)
            break
        pos = body_start + clen + (clen & 1)
    if fmt is None or data_len is None or fmt["channels"] < 1 or fmt["rate"] < 1:
        return None
    byte_rate = fmt["byte_rate"] or fmt["rate"] * fmt["channels"] * max(1, fmt["bits"] // 8)
    duration_ms = int(data_len * 1000 // byte_rate) if byte_rate else 0
    tag, bits = fmt["tag"], fmt["bits"]
    if tag == 1:
        codec = {8: "pcm_u8", 16: "pcm_s16le", 24: "pcm_s24le", 32: "pcm_s32le"}.get(
            bits, "pcm_s%dle" % bits)
    elif tag == 3:
        codec = "pcm_f%dle" % bits
    elif tag == 6:
        codec = "pcm_alaw"
    elif tag == 7:
        codec = "pcm_mulaw"
    else:
        codec = "wav_0x%04x" % tag
    return dict(codec=codec, channels=fmt["channels"], rate=fmt["rate"],
                bits=bits, data_len=data_len, duration_ms=duration_ms)


# --------------------------------------------------------------------------
# Faults


class FaultRegistry:
    """Faults injected through POST /__emu/fault.

    A fault is a dict with at least "route"; optional "count" (None =
    unlimited), "match" (substring of the request path+query, or of the file
    URL for file-level routes), "rate" (0..1: the share of the matching
    requests it hits, drawn at random for each; a miss goes on to the next
    fault).  take(route, subject) returns the first matching fault with
    count left (decrementing it), or None."""

    def __init__(self):
        self.lock = threading.Lock()
        self.faults = []
        self.hits = 0

    def add(self, spec):
        f = dict(spec)
        if "route" not in f:
            f["route"] = "*"
        if f.get("count") is not None:
            f["count"] = int(f["count"])
        with self.lock:
            self.faults.append(f)
        return f

    def clear(self):
        with self.lock:
            self.faults = []
            self.hits = 0

    def take(self, route, subject="", http_route=True):
        with self.lock:
            for f in self.faults:
                r = f.get("route", "*")
                if not (r == route or (r == "*" and http_route)):
                    continue
                m = f.get("match")
                if m and m not in subject:
                    continue
                c = f.get("count")
                if c is not None and c <= 0:
                    continue
                rate = f.get("rate")
                if rate is not None and random.random() >= float(rate):
                    continue
                if c is not None:
                    f["count"] = c - 1
                self.hits += 1
                return dict(f)
        return None

    def snapshot(self):
        with self.lock:
            return [dict(f) for f in self.faults]


# --------------------------------------------------------------------------
# HTTP


class ClientGone(Exception):
    pass


class EmuHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler.  Subclasses define ROUTES: a list of
    (method or None, compiled regex, method name).  The handler method gets
    the regex match and returns nothing (it writes the response itself)."""

    protocol_version = "HTTP/1.1"
    timeout = 300           # idle keep-alive connections are closed after this
    server_version = "emu"
    sys_version = ""
    ROUTES = []
    # send a Server header?  (Go's net/http sends none)
    SEND_SERVER_HEADER = False

    # -- logging ----------------------------------------------------------
    def log_message(self, fmt, *args):
        if getattr(self.server, "verbose", False):
            sys.stderr.write("%s [%s] %s\n" % (self.server.emu_name,
                                               self.log_date_time_string(), fmt % args))

    def log_error(self, fmt, *args):
        self.log_message(fmt, *args)

    # -- response helpers --------------------------------------------------
    def send_response(self, code, message=None):
        self.log_request(code)
        self.send_response_only(code, message or HTTP_REASONS.get(code))
        if self.SEND_SERVER_HEADER:
            self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())

    def reply(self, status, body=b"", ctype="application/json", headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or []):
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self.wfile.flush()

    def reply_json(self, status, obj, headers=None):
        self.reply(status, compact_json(obj), "application/json", headers)

    def reply_go_json(self, status, obj, headers=None):
        self.reply(status, go_json(obj), "application/json", headers)

    def reply_go_error(self, status, text):
        # Go's http.Error
        self.reply(status, text + "\n", "text/plain; charset=utf-8",
                   [("X-Content-Type-Options", "nosniff")])

    def drop_connection(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- request helpers ---------------------------------------------------
    def read_body(self):
        if hasattr(self, "_body"):
            return self._body
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        body = b""
        if "chunked" in te:
            parts = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ClientGone()
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if not t or t in (b"\r\n", b"\n"):
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise ClientGone()
                parts.append(self.rfile.read(size))
                self.rfile.readline(3)
            body = b"".join(parts)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY:
                raise ClientGone()
            if n > 0:
                body = self.rfile.read(n)
                if len(body) < n:
                    raise ClientGone()
        self._body = body
        return body

    def query_params(self):
        return dict(urllib.parse.parse_qsl(self.url.query, keep_blank_values=True))

    # -- dispatch ------------------------------------------------------------
    def _dispatch(self):
        if hasattr(self, "_body"):
            del self._body
        self.url = urllib.parse.urlsplit(self.path)
        self.upath = urllib.parse.unquote(self.url.path)
        try:
            # always consume the body so keep-alive stays in sync
            self.read_body()
            path_matched = False
            for method, rx, name in self.ROUTES:
                m = rx.fullmatch(self.upath)
                if not m:
                    continue
                path_matched = True
                if method is not None and self.command not in method.split("|"):
                    continue
                label = self.ROUTE_LABELS.get(name)
                if label:
                    self.on_route(label)
                    if self.apply_fault(label, lambda: getattr(self, name)(m)):
                        return
                getattr(self, name)(m)
                return
            self.not_found(path_matched)
        except ClientGone:
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        except Exception as e:  # keep the server alive, answer 500
            if getattr(self.server, "verbose", False):
                import traceback
                traceback.print_exc()
            try:
                self.close_connection = True
                self.reply(500, "emulator error: %r\n" % (e,), "text/plain")
            except Exception:
                pass

    # -- faults --------------------------------------------------------------
    ROUTE_LABELS = {}

    def on_route(self, label):
        """Called for every request that reached a labelled route."""

    def fault_body(self, label, status, fault):
        """(content_type, body) of an injected error without a "body"."""
        return ("text/plain; charset=utf-8",
                ("%d %s\n" % (status, HTTP_REASONS.get(status, ""))).encode())

    def on_fault(self, label, status, fault):
        """Called when an injected fault answers a request."""

    def apply_fault(self, label, run_normally):
        """Apply the first matching injected fault.  Returns True when the
        request has been answered (or dropped) by the fault."""
        f = self.server.faults.take(label, self.path)
        if not f:
            return False
        d = f.get("delay_ms")
        if d:
            time.sleep(float(d) / 1000.0)
        late = f.get("late_ms")
        if late:
            # run the request now (e.g. create the task) and send its real
            # answer only after late_ms: a client with a shorter timeout
            # has given up by then, as with a slow network or server
            self._run_late(run_normally, float(late) / 1000.0)
            return True
        if f.get("close"):
            if f.get("process"):
                self._run_swallowed(run_normally)
            self.drop_connection()
            return True
        status = f.get("status")
        body = f.get("body")
        if status is None and body is None:
            return False            # delay only
        status = int(status) if status is not None else 200
        if f.get("process"):
            self._run_swallowed(run_normally)
        if body is None:
            ctype, body = self.fault_body(label, status, f)
        else:
            ctype = f.get("content_type", "application/json")
        self.on_fault(label, status, f)
        self.reply(status, body, ctype)
        return True

    def _run_late(self, fn, seconds):
        import io
        real = self.wfile
        self.wfile = io.BytesIO()
        try:
            fn()
        finally:
            answer = self.wfile.getvalue()
            self.wfile = real
        time.sleep(seconds)
        try:
            self.wfile.write(answer)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _run_swallowed(self, fn):
        import io
        real = self.wfile
        self.wfile = io.BytesIO()
        keep = self.close_connection
        try:
            fn()
        finally:
            self.wfile = real
            self.close_connection = keep

    def not_found(self, path_matched):
        if path_matched:
            self.reply(405, b"", None)
        else:
            self.reply_go_error(404, "404 page not found")

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _dispatch


class EmuServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def base_argparser(desc):
    p = argparse.ArgumentParser(description=desc)
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="listen port (0 = pick a free one)")
    p.add_argument("--port-file", help="write the bound port to this file once listening")
    p.add_argument("--parent-pid", type=int, default=0,
                   help="exit when this process no longer exists")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return p


def serve(handler_cls, args, name, setup=None):
    server = EmuServer((args.host, args.port), handler_cls)
    server.verbose = args.verbose
    server.emu_name = name
    if setup:
        setup(server)
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    if args.verbose:
        sys.stderr.write("%s listening on %s:%d\n" % (name, args.host, port))
    sys.stderr.flush()

    if args.parent_pid:
        def watch():
            while True:
                time.sleep(0.5)
                try:
                    os.kill(args.parent_pid, 0)
                except ProcessLookupError:
                    os._exit(0)
                except PermissionError:
                    pass
        threading.Thread(target=watch, daemon=True).start()

    import signal
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


def route(method, pattern, name):
    return (method, re.compile(pattern), name)


def upload_time(i):
    """The i-th of a series of upload times one minute apart, in the ISO 8601
    form file-system-go gives (2026-01-01T08:00:00+08:00 onwards)."""
    import datetime
    tz = datetime.timezone(datetime.timedelta(hours=8))
    t = datetime.datetime(2026, 1, 1, 8, 0, 0, tzinfo=tz)
    return (t + datetime.timedelta(minutes=i)).isoformat()
