#!/usr/bin/env python3
"""Emulator of Alibaba DashScope asynchronous file transcription (fun-asr,
paraformer), per shared/spec/asr-providers.md section 1.

    python3 t/emu/dashscope.py --port N [--key test-key] [--delay 1.0]
        [--max-files 100] [--submit-rps R] [--query-rps R]
        [--transcripts DIR] [--result-base URL] [--result-ttl 86400]
        [--task-ttl 86400] [--fetch-timeout 10] [--workers 8]
        [--port-file F] [--parent-pid P] [--host 127.0.0.1] [--verbose]

Real routes
  POST     /api/v1/services/audio/asr/transcription   submit
  GET|POST /api/v1/tasks/{task_id}                    query
  POST     /api/v1/tasks/{task_id}/cancel             cancel (PENDING only)
  GET      /api/v1/tasks?start_time=&end_time=&model_name=&status=&page_no=&page_size=
  GET      /results/{task_id}/{n}.json?Expires=..&Signature=x   (the "OSS" link)

Recognition options (parameters) are type-checked as section 1.2 says
(400 InvalidParameter); diarization_enabled gives each sentence a
speaker_id (round robin over speaker_count, default 2), channel_id one
transcript per track.  Results: the sentences of <transcripts>/<stem>.txt,
one per line, with DashScope-like words; or <transcripts>/<stem>.json, a
result document returned as it is (for odd shapes).  usage.duration is the
ceiling of the succeeded files' seconds.

A task is PENDING for delay/2, then RUNNING: the emulator really fetches
every file URL (urllib, no proxy) and checks for a RIFF/WAVE header; after
delay (and once every file was fetched) it becomes SUCCEEDED (>= 1 file ok)
or FAILED (none ok).

Silence.  By default every WAV of some length gets a made-up sentence
(the test WAVs are silent).  The config key "silence" makes a WAV whose
samples are all zero a file without speech, as the provider's voice
detection would: "result" answers it SUCCEEDED with a result that has its
"properties" (original_duration_in_milliseconds: the real length) and a
transcript without sentences; "code" answers it as a FAILED subtask with
code SUCCESS_WITH_NO_VALID_FRAGMENT that still links that result.  The
provider documents the code but not which of the two shapes carries it
(asr-providers.md 1.5), so a client must read both.

Control API (not part of the real service)
  GET  /__emu/stats     see README in t/Emu.pm (emu_stats)
  GET  /__emu/max_rate?kind=submit|query|list|result|cancel&window=1.0
  GET  /__emu/task?id=ID
  POST /__emu/fault     {"route":"submit|query|result|list|cancel|*|task|file", ...}
                        e.g. a submit that reaches the service and whose
                        answer is lost: {"route":"submit","process":true,
                        "close":true} (the connection is cut after the task
                        is made) or {"route":"submit","late_ms":3000} (the
                        task is made at once, the answer sent 3 s later)
  GET|POST /__emu/config
  POST /__emu/reset
"""

import datetime
import heapq
import json
import math
import os
import queue
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emucommon as C  # noqa: E402

BEIJING = datetime.timezone(datetime.timedelta(hours=8))
SUBMIT_PATH = "/api/v1/services/audio/asr/transcription"

DEFAULT_MESSAGES = {
    "InvalidApiKey": "Invalid API-key provided.",
    "AccessDenied": "current user api does not support synchronous calls",
    "InvalidParameter": "The request parameter is invalid.",
    "Throttling": "Requests throttling triggered.",
    "Throttling.RateQuota": "Requests rate limit exceeded, please try again later.",
    "Throttling.BurstRate": "Request rate increased too quickly, please try again later.",
    "Throttling.AllocationQuota": "Allocated quota exceeded, please increase your quota limit.",
    "InternalError": "An internal error has occured, please try again later or contact service support.",
    "InternalError.Timeout": "An internal timeout error has occured during execution, please try again later or contact service support.",
    "ModelUnavailable": "Model is unavailable, please try again later.",
    "ServiceUnavailable": "Service is unavailable, please try again later.",
    "UnsupportedOperation": "Failed to cancel the task, please confirm if the task status is PENDING.",
    "NotFound": "Not Found",
}
DEFAULT_CODE_BY_STATUS = {
    400: "InvalidParameter", 401: "InvalidApiKey", 403: "AccessDenied",
    404: "NotFound", 429: "Throttling.RateQuota", 500: "InternalError",
    502: "InternalError", 503: "ModelUnavailable", 504: "InternalError.Timeout",
}
FILE_MESSAGES = {
    "InvalidFile.DownloadFailed": "The audio file cannot be downloaded.",
    "FILE_DOWNLOAD_FAILED": "The audio file cannot be downloaded.",
    "FILE_404_NOT_FOUND": "The audio file is not found.",
    "FILE_403_FORBIDDEN": "Access to the audio file is forbidden.",
    "FILE_CHECK_FAILED": "The audio file format check failed.",
    "FILE_SERVER_ERROR": "The audio file server is unavailable.",
    "SUCCESS_WITH_NO_VALID_FRAGMENT": "The audio has no valid speech fragment.",
    "ASR_RESPONSE_HAVE_NO_WORDS": "The ASR response has no words.",
    "DECODE_ERROR": "The audio file cannot be decoded.",
}
MODEL_RX = re.compile(r"(fun-asr|paraformer)[A-Za-z0-9._-]*")
RATE_KINDS = ("submit", "query", "list", "cancel", "result")


def bj_time(wall):
    d = datetime.datetime.fromtimestamp(wall, BEIJING)
    return d.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (d.microsecond // 1000)


def rid():
    return str(uuid.uuid4())


# --------------------------------------------------------------------------
# transcript synthesis


CJK_RX = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
WORDCH_RX = re.compile(r"[0-9A-Za-z\u00c0-\u024f'_-]")


def tokenize(text):
    """Split a sentence into DashScope-like words: CJK one character per
    word, Latin runs keep a trailing space, punctuation (and the space after
    it) goes to the preceding word's "punctuation"."""
    words = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if CJK_RX.match(ch):
            words.append({"text": ch, "punctuation": ""})
            i += 1
        elif WORDCH_RX.match(ch):
            j = i
            while j < n and WORDCH_RX.match(text[j]):
                j += 1
            w = text[i:j]
            if j < n and text[j] == " ":
                w += " "
                j += 1
            words.append({"text": w, "punctuation": ""})
            i = j
        elif ch.isspace():
            i += 1
        else:
            j = i
            while j < n and not CJK_RX.match(text[j]) and not WORDCH_RX.match(text[j]):
                j += 1
            punct = text[i:j]
            if words:
                words[-1]["punctuation"] += punct
            i = j
    return words


def join_sentences(sents):
    out = ""
    for s in sents:
        if out and ord(out[-1]) < 128 and ord(s[0]) < 128 and not out[-1].isspace():
            out += " "
        out += s
    return out


TIMED_RX = re.compile(r"^@(\d+)-(\d+)\s+(.*)$", re.S)


def timed(line):
    """A transcript line "@<begin_ms>-<end_ms> text" gives its sentence
    those times; other lines are (text, None, None): spread evenly."""
    m = TIMED_RX.match(line)
    if m:
        return (m.group(3), int(m.group(1)), int(m.group(2)))
    return (line, None, None)


def build_transcript(channel, sentences, duration_ms, diarize, speakers):
    sentences = [s if isinstance(s, tuple) else (s, None, None) for s in sentences]
    n = len(sentences)
    sent_objs = []
    for i, (text, tb, te) in enumerate(sentences):
        b = duration_ms * i // n if tb is None else tb
        e = duration_ms * (i + 1) // n if te is None else te
        s = {"sentence_id": i + 1, "begin_time": b, "end_time": e, "text": text}
        if diarize:
            s["speaker_id"] = i % max(1, speakers)
        toks = tokenize(text)
        words = []
        for k, t in enumerate(toks):
            wb = b + (e - b) * k // len(toks)
            we = b + (e - b) * (k + 1) // len(toks)
            words.append({"begin_time": wb, "end_time": we, "text": t["text"],
                          "punctuation": t["punctuation"]})
        s["words"] = words
        sent_objs.append(s)
    return {"channel_id": channel,
            "content_duration_in_milliseconds": duration_ms if n else 0,
            "text": join_sentences([t for t, _, _ in sentences]) if n else "",
            "sentences": sent_objs}


def check_parameters(params):
    """The recognition options of section 1.2, typed as documented: the
    error message for the first one that is not, else None."""
    if "vocabulary_id" in params and not (
            isinstance(params["vocabulary_id"], str) and params["vocabulary_id"]):
        return 'Parameter "vocabulary_id" must be a non-empty string.'
    if "channel_id" in params:
        ch = params["channel_id"]
        if (not isinstance(ch, list) or not ch
                or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0
                           for c in ch)):
            return 'Parameter "channel_id" must be a list of track indexes.'
    if "special_word_filter" in params:
        f = params["special_word_filter"]
        try:
            ok = isinstance(f, str) and isinstance(json.loads(f), dict)
        except ValueError:
            ok = False
        if not ok:
            return 'Parameter "special_word_filter" must be a string holding a JSON object.'
    if "diarization_enabled" in params and not isinstance(params["diarization_enabled"], bool):
        return 'Parameter "diarization_enabled" must be a boolean.'
    if "speaker_count" in params:
        n = params["speaker_count"]
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 100:
            return 'Parameter "speaker_count" must be an integer from 2 to 100.'
    if "language_hints" in params:
        lh = params["language_hints"]
        if not isinstance(lh, list) or not all(isinstance(x, str) and x for x in lh):
            return 'Parameter "language_hints" must be a list of language codes.'
    return None


# --------------------------------------------------------------------------
# state


class Task:
    __slots__ = ("id", "request_id", "model", "file_urls", "params", "body",
                 "headers", "gen", "submit_mono", "submit_wall", "delay",
                 "status", "scheduled_wall", "end_wall", "results", "docs",
                 "done", "fetch_done", "finish_due", "task_fault", "usage",
                 "code", "message", "expires", "file_faults")

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw.get(k))


class State:
    CONFIG_KEYS = ("key", "delay", "max_files", "submit_rps", "query_rps",
                   "result_ttl", "task_ttl", "fetch_timeout", "transcripts",
                   "result_base", "region", "silence")

    def __init__(self, args, port):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.faults = C.FaultRegistry()
        self.initial = {
            "key": args.key, "delay": args.delay, "max_files": args.max_files,
            "submit_rps": args.submit_rps, "query_rps": args.query_rps,
            "result_ttl": args.result_ttl, "task_ttl": args.task_ttl,
            "fetch_timeout": args.fetch_timeout,
            "transcripts": os.path.abspath(args.transcripts) if args.transcripts else None,
            "result_base": args.result_base or "http://%s:%d" % (
                "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host, port),
            "region": "cn-beijing",
            "silence": None,
        }
        self.gen = 0
        self.heap = []
        self.seq = 0
        self.jobs = queue.Queue()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.reset()
        threading.Thread(target=self.scheduler, daemon=True, name="sched").start()
        for i in range(args.workers):
            threading.Thread(target=self.worker, daemon=True, name="fetch%d" % i).start()

    def reset(self):
        with self.lock:
            self.gen += 1
            self.config = dict(self.initial)
            self.tasks = {}
            self.order = []
            self.heap = []
            self.times = {k: [] for k in RATE_KINDS}
            self.admitted = {"submit": [], "query": []}
            self.counts = {"submits": 0, "accepted": 0, "queries": 0, "lists": 0,
                           "cancels": 0, "results_fetched": 0, "throttled": 0,
                           "rejected": 0}
            self.submits_per_file = {}
            self.files_per_submit = []
            self.file_fetches = {}
            self.last_submit = None
            self.submit_bodies = []
            self.cond.notify_all()
        self.faults.clear()

    # -- scheduling ---------------------------------------------------------
    def schedule(self, due, task, event):
        with self.lock:
            self.seq += 1
            heapq.heappush(self.heap, (due, self.seq, task, event))
            self.cond.notify_all()

    def scheduler(self):
        while True:
            with self.lock:
                while True:
                    now = time.monotonic()
                    if self.heap and self.heap[0][0] <= now:
                        _, _, task, event = heapq.heappop(self.heap)
                        break
                    timeout = (self.heap[0][0] - now) if self.heap else 1.0
                    self.cond.wait(min(timeout, 1.0))
                if task.gen != self.gen:
                    continue
                if event == "run":
                    if task.status == "PENDING":
                        stuck = (task.task_fault or {}).get("stuck")
                        if stuck == "PENDING":
                            continue
                        task.status = "RUNNING"
                        task.scheduled_wall = time.time()
                        self.jobs.put(task)
                elif event == "finish":
                    task.finish_due = True
                    if task.fetch_done:
                        self.finalize(task)

    def worker(self):
        while True:
            task = self.jobs.get()
            try:
                self.process(task)
            except Exception:
                if os.environ.get("EMU_DEBUG"):
                    import traceback
                    traceback.print_exc()
                with self.lock:
                    for i, r in enumerate(task.results):
                        if r is None:
                            task.results[i] = {
                                "ok": False, "code": "InvalidFile.DownloadFailed",
                                "message": FILE_MESSAGES["InvalidFile.DownloadFailed"]}
                    task.fetch_done = True
                    if task.finish_due:
                        self.finalize(task)

    def process(self, task):
        for idx, url in enumerate(task.file_urls):
            with self.lock:
                if task.gen != self.gen or task.status != "RUNNING":
                    return
                fault = task.file_faults[idx]
            res = self.process_file(task, idx, url, fault)
            with self.lock:
                task.results[idx] = res
        with self.lock:
            task.fetch_done = True
            if task.finish_due:
                self.finalize(task)

    def process_file(self, task, idx, url, fault):
        cfg = self.config
        if fault:
            if fault.get("delay_ms"):
                time.sleep(float(fault["delay_ms"]) / 1000.0)
            if fault.get("code"):
                code = fault["code"]
                return {"ok": False, "code": code,
                        "message": fault.get("message") or FILE_MESSAGES.get(code, code)}
        with self.lock:
            self.file_fetches[url] = self.file_fetches.get(url, 0) + 1
        fail = lambda code: {"ok": False, "code": code, "message": FILE_MESSAGES[code]}
        parsed = urllib.parse.urlsplit(url)
        if (parsed.scheme not in ("http", "https") or not parsed.netloc
                or re.search(r"[^\x21-\x7e]", url)):
            return fail("InvalidFile.DownloadFailed")
        try:
            req = urllib.request.Request(url, headers={"User-Agent": "dashscope-emu/1.0"})
            with self.opener.open(req, timeout=float(cfg["fetch_timeout"])) as resp:
                data = resp.read()
        except urllib.error.HTTPError as e:
            try:
                e.close()
            except Exception:
                pass
            if e.code == 404:
                return fail("FILE_404_NOT_FOUND")
            if e.code == 403:
                return fail("FILE_403_FORBIDDEN")
            return fail("InvalidFile.DownloadFailed")
        except Exception:
            return fail("InvalidFile.DownloadFailed")
        info = C.parse_wav(data)
        if info is None:
            return fail("FILE_CHECK_FAILED")
        if info["duration_ms"] <= 0:
            return fail("SUCCESS_WITH_NO_VALID_FRAGMENT")
        if cfg.get("silence") in ("result", "code") and C.wav_is_silent(data):
            doc = {"file_url": url,
                   "properties": {"audio_format": info["codec"],
                                  "channels": list(range(info["channels"])),
                                  "original_sampling_rate": info["rate"],
                                  "original_duration_in_milliseconds": info["duration_ms"]},
                   "transcripts": [{"channel_id": 0,
                                    "content_duration_in_milliseconds": 0,
                                    "text": "", "sentences": []}]}
            if cfg["silence"] == "result":
                return {"ok": True, "doc": doc, "duration_ms": info["duration_ms"]}
            return dict(fail("SUCCESS_WITH_NO_VALID_FRAGMENT"), doc=doc)
        base = urllib.parse.unquote(parsed.path.rsplit("/", 1)[-1])
        stem = base[:base.rfind(".")] if "." in base else base
        sentences = None
        tdir = cfg.get("transcripts")
        if tdir and stem and "/" not in stem:
            try:
                # bytes that are not UTF-8 are kept (surrogateescape) and
                # sent back as they are: a provider's garbage, for tests;
                # only "\n" ends a line (control characters stay)
                with open(os.path.join(tdir, stem + ".txt"), encoding="utf-8",
                          errors="surrogateescape", newline="") as fh:
                    sentences = [timed(l.strip(" \r")) for l in fh.read().split("\n")
                                 if l.strip(" \r")]
            except OSError:
                sentences = None
        custom = None
        if tdir and stem and "/" not in stem:
            try:
                with open(os.path.join(tdir, stem + ".json"), encoding="utf-8") as fh:
                    custom = json.load(fh)
            except (OSError, ValueError):
                custom = None
        if isinstance(custom, dict):
            # a result document given as is (odd shapes on purpose)
            doc = dict(custom)
            doc["file_url"] = url
            doc.setdefault("properties", {
                "audio_format": info["codec"],
                "channels": list(range(info["channels"])),
                "original_sampling_rate": info["rate"],
                "original_duration_in_milliseconds": info["duration_ms"]})
            return {"ok": True, "doc": doc, "duration_ms": info["duration_ms"]}
        if sentences is None:
            sentences = ["transcript of %s" % base]
        params = task.params or {}
        channels = params.get("channel_id")
        if not isinstance(channels, list) or not channels:
            channels = [0]
        channels = [c for c in channels if isinstance(c, int) and 0 <= c < info["channels"]] or [0]
        diarize = bool(params.get("diarization_enabled"))
        speakers = params.get("speaker_count") if isinstance(params.get("speaker_count"), int) else 2
        doc = {"file_url": url,
               "properties": {"audio_format": info["codec"],
                              "channels": list(range(info["channels"])),
                              "original_sampling_rate": info["rate"],
                              "original_duration_in_milliseconds": info["duration_ms"]},
               "transcripts": [build_transcript(c, sentences, info["duration_ms"],
                                                diarize, speakers) for c in channels]}
        return {"ok": True, "doc": doc, "duration_ms": info["duration_ms"]}

    def finalize(self, task):
        """Called with the lock held, once fetching is done and the delay passed."""
        if task.done or task.gen != self.gen or task.status != "RUNNING":
            return
        tf = task.task_fault or {}
        if tf.get("stuck"):
            return
        now = time.time()
        task.end_wall = now
        task.expires = int(now) + int(self.config["result_ttl"])
        task.done = True
        if tf.get("code"):
            task.status = "FAILED"
            task.code = tf["code"]
            task.message = tf.get("message") or DEFAULT_MESSAGES.get(tf["code"], tf["code"])
            task.results = None
            return
        ok = [r for r in task.results if r and r["ok"]]
        task.docs = {}
        for n, r in enumerate(task.results):
            if r and r.get("doc") is not None:
                task.docs[n] = r["doc"]
        if ok:
            task.status = "SUCCEEDED"
            task.usage = int(math.ceil(sum(r["duration_ms"] for r in ok) / 1000.0))
        else:
            task.status = "FAILED"
            first = task.results[0]
            task.code = first["code"]
            task.message = first["message"]

    # -- shapes ---------------------------------------------------------------
    def metrics(self, task):
        succ = sum(1 for r in task.results if r and r["ok"]) if task.results else 0
        fail = sum(1 for r in task.results if r and not r["ok"]) if task.results else 0
        return {"TOTAL": len(task.file_urls), "SUCCEEDED": succ, "FAILED": fail}

    def result_url(self, task, n):
        return "%s/results/%s/%d.json?Expires=%d&Signature=x" % (
            self.config["result_base"].rstrip("/"), task.id, n, task.expires)

    def output(self, task):
        out = {"task_id": task.id, "task_status": task.status,
               "submit_time": bj_time(task.submit_wall)}
        st = task.status
        if st == "CANCELED":
            out["end_time"] = bj_time(task.end_wall)
            return out, None
        if st == "PENDING":
            return out, None
        out["scheduled_time"] = bj_time(task.scheduled_wall)
        if st == "RUNNING":
            out["task_metrics"] = self.metrics(task)
            return out, None
        out["end_time"] = bj_time(task.end_wall)
        if st == "FAILED":
            out["code"] = task.code
            out["message"] = task.message
        if task.results is not None:
            res = []
            for n, (url, r) in enumerate(zip(task.file_urls, task.results)):
                if r["ok"]:
                    res.append({"file_url": url, "transcription_url": self.result_url(task, n),
                                "subtask_status": "SUCCEEDED"})
                else:
                    sub = {"file_url": url, "code": r["code"], "message": r["message"],
                           "subtask_status": "FAILED"}
                    if r.get("doc") is not None:
                        # silence = "code": the result is linked all the same
                        sub["transcription_url"] = self.result_url(task, n)
                    res.append(sub)
            out["results"] = res
            out["task_metrics"] = self.metrics(task)
        usage = {"duration": task.usage} if st == "SUCCEEDED" else None
        return out, usage

    def visible(self, task_id):
        t = self.tasks.get(task_id)
        if t is None:
            return None
        if t.done and t.end_wall and time.time() > t.end_wall + float(self.config["task_ttl"]):
            return None
        return t


class Handler(C.EmuHandler):
    SEND_SERVER_HEADER = False
    ROUTES = [
        C.route("POST", re.escape(SUBMIT_PATH), "h_submit"),
        C.route("GET", r"/api/v1/tasks/?", "h_list"),
        C.route("GET|POST", r"/api/v1/tasks/([^/]+)", "h_query"),
        C.route("POST", r"/api/v1/tasks/([^/]+)/cancel", "h_cancel"),
        C.route("GET|HEAD", r"/results/([^/]+)/(\d+)\.json", "h_result"),
        C.route("GET", r"/__emu/stats", "c_stats"),
        C.route("GET", r"/__emu/max_rate", "c_max_rate"),
        C.route("GET", r"/__emu/task", "c_task"),
        C.route("POST", r"/__emu/fault", "c_fault"),
        C.route("GET|POST", r"/__emu/config", "c_config"),
        C.route("POST", r"/__emu/reset", "c_reset"),
    ]
    ROUTE_LABELS = {"h_submit": "submit", "h_list": "list", "h_query": "query",
                    "h_cancel": "cancel", "h_result": "result"}

    @property
    def st(self):
        return self.server.state

    def on_route(self, label):
        now = time.monotonic()
        with self.st.lock:
            self.st.times[label].append(now)
            key = {"submit": "submits", "query": "queries", "list": "lists",
                   "cancel": "cancels"}.get(label)
            if key:
                self.st.counts[key] += 1

    def on_fault(self, label, status, fault):
        if status == 429:
            with self.st.lock:
                self.st.counts["throttled"] += 1

    def fault_body(self, label, status, fault):
        if label == "result":
            code = fault.get("code") or {403: "AccessDenied", 404: "NoSuchKey"}.get(
                status, "InternalError")
            return "application/xml", self.oss_error(code, fault.get("message") or code)
        code = fault.get("code") or DEFAULT_CODE_BY_STATUS.get(status, "InternalError")
        msg = fault.get("message") or DEFAULT_MESSAGES.get(code) or DEFAULT_MESSAGES.get(
            DEFAULT_CODE_BY_STATUS.get(status, ""), "Injected error.")
        return "application/json", C.compact_json(
            {"request_id": rid(), "code": code, "message": msg})

    @staticmethod
    def oss_error(code, message):
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>%s</Code>\n'
                '  <Message>%s</Message>\n  <RequestId>%s</RequestId>\n'
                '  <HostId>dashscope-result-bj.oss-cn-beijing.aliyuncs.com</HostId>\n'
                '</Error>\n' % (code, message, uuid.uuid4().hex[:24].upper())).encode()

    def error(self, status, code, message=None):
        if self.upath == SUBMIT_PATH and status != 429:
            with self.st.lock:
                self.st.counts["rejected"] += 1
        self.reply_json(status, {"request_id": rid(), "code": code,
                                 "message": message or DEFAULT_MESSAGES.get(code, code)})

    def not_found(self, path_matched):
        if path_matched:
            return self.error(405, "MethodNotAllowed", "Method not allowed.")
        self.error(404, "NotFound", "Not Found")

    def check_key(self):
        auth = self.headers.get("Authorization") or ""
        m = re.fullmatch(r"\s*Bearer\s+(\S+)\s*", auth)
        if not m or m.group(1) != self.st.config["key"]:
            self.error(401, "InvalidApiKey")
            return False
        return True

    def throttle(self, kind):
        rps = self.st.config.get(kind + "_rps")
        if not rps:
            return False
        now = time.monotonic()
        with self.st.lock:
            adm = self.st.admitted[kind]
            while adm and adm[0] <= now - 1.0:
                adm.pop(0)
            if len(adm) >= float(rps):
                self.st.counts["throttled"] += 1
                limited = True
            else:
                adm.append(now)
                limited = False
        if limited:
            self.error(429, "Throttling.RateQuota")
        return limited

    # -- submit ----------------------------------------------------------------
    def h_submit(self, m):
        st = self.st
        if not self.check_key():
            return
        if self.throttle("submit"):
            return
        if (self.headers.get("X-DashScope-Async") or "").strip().lower() != "enable":
            return self.error(403, "AccessDenied")
        try:
            body = json.loads(self.read_body().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return self.error(400, "InvalidParameter", "The request body is not valid JSON.")
        if not isinstance(body, dict):
            return self.error(400, "InvalidParameter", "The request body is not a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return self.error(400, "InvalidParameter",
                              'Required parameter "model" missing from request.')
        if not MODEL_RX.fullmatch(model):
            return self.error(400, "InvalidParameter", "Model not exist.")
        inp = body.get("input")
        if not isinstance(inp, dict):
            return self.error(400, "InvalidParameter",
                              'Required parameter "input" missing from request.')
        urls = inp.get("file_urls")
        if not isinstance(urls, list) or not urls:
            return self.error(400, "InvalidParameter",
                              'Required parameter "input.file_urls" missing or empty.')
        if not all(isinstance(u, str) and u for u in urls):
            return self.error(400, "InvalidParameter",
                              'Parameter "input.file_urls" must be a list of URLs.')
        if len(urls) > int(st.config["max_files"]):
            return self.error(400, "InvalidParameter",
                              "Too many files: at most %d file_urls per request."
                              % int(st.config["max_files"]))
        params = body.get("parameters", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            return self.error(400, "InvalidParameter", 'Parameter "parameters" must be an object.')
        bad = check_parameters(params)
        if bad:
            return self.error(400, "InvalidParameter", bad)
        task_fault = st.faults.take("task", urls[0], http_route=False)
        file_faults = [st.faults.take("file", u, http_route=False) for u in urls]
        now_m, now_w = time.monotonic(), time.time()
        with st.lock:
            delay = float(st.config["delay"])
            t = Task(id=rid(), request_id=rid(), model=model, file_urls=list(urls),
                     params=params, body=body,
                     headers={k: v for k, v in self.headers.items()
                              if k.lower() != "authorization"},
                     gen=st.gen, submit_mono=now_m, submit_wall=now_w, delay=delay,
                     status="PENDING", results=[None] * len(urls), done=False,
                     fetch_done=False, finish_due=False, task_fault=task_fault,
                     file_faults=file_faults)
            st.tasks[t.id] = t
            st.order.append(t.id)
            st.counts["accepted"] += 1
            for u in urls:
                st.submits_per_file[u] = st.submits_per_file.get(u, 0) + 1
            st.files_per_submit.append(len(urls))
            st.last_submit = {"task_id": t.id, "headers": t.headers, "body": body}
            st.submit_bodies.append(body)
        st.schedule(now_m + delay / 2.0, t, "run")
        st.schedule(now_m + delay, t, "finish")
        self.reply_json(200, {"request_id": t.request_id,
                              "output": {"task_id": t.id, "task_status": "PENDING"}})

    # -- query ---------------------------------------------------------------
    def h_query(self, m):
        if not self.check_key():
            return
        if self.throttle("query"):
            return
        tid = m.group(1)
        with self.st.lock:
            t = self.st.visible(tid)
            if t is None:
                out = {"request_id": rid(),
                       "output": {"task_id": tid, "task_status": "UNKNOWN"}}
            else:
                output, usage = self.st.output(t)
                out = {"request_id": rid(), "output": output}
                if usage is not None:
                    out["usage"] = usage
        self.reply_json(200, out)

    def h_cancel(self, m):
        if not self.check_key():
            return
        tid = m.group(1)
        with self.st.lock:
            t = self.st.visible(tid)
            if t is None or t.status != "PENDING":
                return self.error(400, "UnsupportedOperation")
            t.status = "CANCELED"
            t.done = True
            t.end_wall = time.time()
        self.reply_json(200, {"request_id": rid()})

    def h_list(self, m):
        if not self.check_key():
            return
        q = self.query_params()

        def parse_ts(s):
            d = datetime.datetime.strptime(s, "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
            return d.timestamp()
        try:
            now = time.time()
            start = parse_ts(q["start_time"]) if q.get("start_time") else now - 86400
            end = parse_ts(q["end_time"]) if q.get("end_time") else now + 1
            page_no = int(q.get("page_no") or 1)
            page_size = int(q.get("page_size") or 10)
            if page_no < 1 or not (1 <= page_size <= 100):
                raise ValueError
            status = q.get("status") or ""
            if status and status not in ("PENDING", "RUNNING", "SUCCEEDED", "FAILED",
                                         "CANCELED"):
                raise ValueError
        except (ValueError, KeyError):
            return self.error(400, "InvalidParameter", "Invalid list parameter.")
        model = q.get("model_name") or ""
        with self.st.lock:
            sel = []
            for tid in reversed(self.st.order):
                t = self.st.visible(tid)
                if t is None:
                    continue
                if not (start <= t.submit_wall <= end + 0.999):
                    continue
                if model and t.model != model:
                    continue
                if status and t.status != status:
                    continue
                sel.append(t)
            total = len(sel)
            page = sel[(page_no - 1) * page_size: page_no * page_size]
            data = []
            for t in page:
                d = {"task_id": t.id, "status": t.status, "model_name": t.model,
                     "region": self.st.config["region"],
                     "gmt_create": int(t.submit_wall * 1000)}
                if t.scheduled_wall:
                    d["start_time"] = int(t.scheduled_wall * 1000)
                if t.end_wall:
                    d["end_time"] = int(t.end_wall * 1000)
                d.update({"request_id": t.request_id, "api_key_id": "10001",
                          "caller_uid": "1000000000000000",
                          "caller_parent_id": "1000000000000000",
                          "user_api_unique_key": "apikey-v1:10001"})
                data.append(d)
        self.reply_json(200, {"request_id": rid(), "total": total,
                              "total_page": (total + page_size - 1) // page_size,
                              "page_no": page_no, "page_size": page_size, "data": data})

    # -- result files ------------------------------------------------------------
    def h_result(self, m):
        tid, n = m.group(1), int(m.group(2))
        q = self.query_params()
        with self.st.lock:
            t = self.st.tasks.get(tid)
            doc = t.docs.get(n) if (t is not None and t.done and t.docs) else None
            expires = t.expires if t is not None else None
            if doc is not None:
                self.st.counts["results_fetched"] += 1
        if doc is None:
            return self.reply(404, self.oss_error("NoSuchKey", "The specified key does not exist."),
                              "application/xml")
        if q.get("Expires") != str(expires) or "Signature" not in q:
            return self.reply(403, self.oss_error(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided."),
                "application/xml")
        if time.time() > expires:
            return self.reply(403, self.oss_error("AccessDenied", "Request has expired."),
                              "application/xml")
        self.reply(200, C.compact_json(doc), "application/json")

    # -- control API --------------------------------------------------------------
    def json_body(self):
        b = self.read_body()
        if not b.strip():
            return {}
        v = json.loads(b.decode("utf-8"))
        if not isinstance(v, dict):
            raise ValueError("object expected")
        return v

    def c_stats(self, m):
        st = self.st
        with st.lock:
            out = dict(st.counts)
            out.update({
                "submits_per_file": dict(st.submits_per_file),
                "files_per_submit": list(st.files_per_submit),
                "submit_times": list(st.times["submit"]),
                "query_times": list(st.times["query"]),
                "list_times": list(st.times["list"]),
                "file_fetches": dict(st.file_fetches),
                "tasks": {tid: st.tasks[tid].status for tid in st.order},
                "last_submit": st.last_submit,
                "submit_bodies": list(st.submit_bodies),
                "faults": st.faults.snapshot(),
                "fault_hits": st.faults.hits,
                "now": time.monotonic(),
            })
        self.reply_json(200, out)

    def c_max_rate(self, m):
        q = self.query_params()
        kind = q.get("kind", "submit")
        try:
            window = float(q.get("window", 1.0))
        except ValueError:
            window = 1.0
        if kind not in RATE_KINDS:
            return self.reply_json(400, {"ok": False, "error": "unknown kind"})
        with self.st.lock:
            ts = sorted(self.st.times[kind])
        best, j = 0, 0
        for i in range(len(ts)):
            while ts[i] - ts[j] >= window:
                j += 1
            best = max(best, i - j + 1)
        self.reply_json(200, {"kind": kind, "window": window, "max": best, "count": len(ts)})

    def c_task(self, m):
        tid = self.query_params().get("id", "")
        with self.st.lock:
            t = self.st.tasks.get(tid)
            if t is None:
                return self.reply_json(404, {"ok": False, "error": "no such task"})
            output, usage = self.st.output(t)
            out = {"task_id": t.id, "status": t.status, "model": t.model,
                   "file_urls": t.file_urls, "parameters": t.params,
                   "headers": t.headers, "delay": t.delay, "output": output,
                   "usage": usage, "task_fault": t.task_fault,
                   "file_faults": t.file_faults}
        self.reply_json(200, out)

    def c_fault(self, m):
        try:
            spec = self.json_body()
        except ValueError:
            return self.reply_json(400, {"ok": False, "error": "bad fault spec"})
        specs = spec.get("faults") if "faults" in spec else [spec]
        added = [self.st.faults.add(s) for s in specs]
        self.reply_json(200, {"ok": True, "faults": added})

    def c_config(self, m):
        st = self.st
        if self.command == "POST":
            try:
                spec = self.json_body()
            except ValueError:
                return self.reply_json(400, {"ok": False, "error": "bad config"})
            bad = [k for k in spec if k not in State.CONFIG_KEYS]
            if bad:
                return self.reply_json(400, {"ok": False, "error": "unknown keys",
                                             "keys": bad})
            with st.lock:
                for k, v in spec.items():
                    if k == "transcripts" and v:
                        v = os.path.abspath(v)
                    st.config[k] = v
        with st.lock:
            cfg = dict(st.config)
        self.reply_json(200, dict(cfg, ok=True))

    def c_reset(self, m):
        self.st.reset()
        self.reply_json(200, {"ok": True})


def main(argv=None):
    p = C.base_argparser("DashScope file-transcription emulator")
    p.add_argument("--key", default="test-key", help="accepted API key (default test-key)")
    p.add_argument("--delay", type=float, default=1.0,
                   help="seconds from submit to a terminal state (half PENDING, half RUNNING)")
    p.add_argument("--max-files", type=int, default=100, help="max file_urls per submit")
    p.add_argument("--submit-rps", type=float, default=0, help="submit rate limit (0 = off)")
    p.add_argument("--query-rps", type=float, default=0, help="query rate limit (0 = off)")
    p.add_argument("--transcripts", help="folder of <name>.txt transcripts, one sentence a line")
    p.add_argument("--result-base", help="base URL of transcription_url links "
                   "(default http://HOST:PORT of this emulator)")
    p.add_argument("--result-ttl", type=int, default=86400,
                   help="seconds a transcription_url stays valid after end_time")
    p.add_argument("--task-ttl", type=float, default=86400,
                   help="seconds a finished task stays queryable (then UNKNOWN)")
    p.add_argument("--fetch-timeout", type=float, default=10.0,
                   help="timeout of each audio download")
    p.add_argument("--workers", type=int, default=8, help="audio download threads")
    args = p.parse_args(argv)

    def setup(server):
        server.state = State(args, server.server_address[1])
        server.faults = server.state.faults
    return C.serve(Handler, args, "dashscope", setup)


if __name__ == "__main__":
    sys.exit(main())
