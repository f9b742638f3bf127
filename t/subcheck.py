#!/usr/bin/python3
"""Checks an SRT or WebVTT file the module served, with real parsers
(Debian's python3-srt and python3-webvtt), for t/Subtitles.pm.

    /usr/bin/python3 t/subcheck.py srt|vtt FILE EXPECT.json

EXPECT: {"text": the transcript (every word, in order; whitespace is not
compared), "max_chars": N (cue text longest, labels aside), "max_ms": the
longest cue (7000), "speakers": true (every cue starts with its speaker's
label) | false (no cue has one), "audio_end": seconds or null (no cue
ends after it), "long_ok": true when a single word may exceed the limits}

Prints one JSON object: {"cues": N, "labels": [...], "errors": [...],
"texts": [...]}.  Exit status 0 even when errors are found (the test
reports them); 2 when the arguments are wrong.
"""

import html
import io
import json
import re
import sys

import srt
import webvtt

SRT_LABEL = re.compile(r"^说话人(\d+)：")
VTT_LABEL = re.compile(r"^<v Speaker (\d+)>")


def cues_of(fmt, body):
    """[(start_s, end_s, raw_text)] as the parser reads them."""
    if fmt == "srt":
        subs = list(srt.parse(body, ignore_errors=False))
        idx = [s.index for s in subs]
        if idx != list(range(1, len(subs) + 1)):
            raise ValueError("SRT cues are not numbered 1..%d: %r" % (len(subs), idx[:10]))
        return [(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in subs]
    if not body.startswith("WEBVTT\n"):
        raise ValueError("no WEBVTT header")
    vtt = webvtt.read_buffer(io.StringIO(body))
    return [(c.start_in_seconds, c.end_in_seconds, c.raw_text) for c in vtt.captions]


def main(argv):
    if len(argv) != 4 or argv[1] not in ("srt", "vtt"):
        print(__doc__, file=sys.stderr)
        return 2
    fmt = argv[1]
    with open(argv[2], encoding="utf-8") as fh:
        body = fh.read()
    with open(argv[3], encoding="utf-8") as fh:
        expect = json.load(fh)

    out = {"cues": 0, "labels": [], "errors": [], "texts": []}
    err = out["errors"].append
    try:
        cues = cues_of(fmt, body)
    except Exception as e:  # the parser refused the file: that is the finding
        err("%s parser: %s" % (fmt, e))
        print(json.dumps(out, ensure_ascii=False))
        return 0

    out["cues"] = len(cues)
    label_rx = SRT_LABEL if fmt == "srt" else VTT_LABEL
    max_chars = expect.get("max_chars", 32)
    max_ms = expect.get("max_ms", 7000)
    audio_end = expect.get("audio_end")
    prev_end = None
    joined = []

    for n, (start, end, raw) in enumerate(cues, 1):
        if "\n" in raw:
            err("cue %d has more than one line" % n)
        if not start < end:
            err("cue %d: start %.3f is not before end %.3f" % (n, start, end))
        if prev_end is not None and start < prev_end - 1e-9:
            err("cue %d starts at %.3f, before the previous one ends (%.3f)"
                % (n, start, prev_end))
        if audio_end is not None and end > audio_end + 1e-9:
            err("cue %d ends at %.3f, after the audio (%.3f)" % (n, end, audio_end))
        prev_end = end

        m = label_rx.match(raw)
        text = raw[m.end():] if m else raw
        if fmt == "vtt":
            if re.search(r"<", text):
                err("cue %d has a tag in its text: %r" % (n, text))
            text = html.unescape(text)
        if expect.get("speakers"):
            if not m:
                err("cue %d has no speaker label: %r" % (n, raw))
            else:
                out["labels"].append(int(m.group(1)))
        elif m:
            err("cue %d has a speaker label without diarization" % n)

        out["texts"].append(text)
        if text != text.strip() or not text:
            err("cue %d: empty or untrimmed text %r" % (n, text))
        single = " " not in text.strip() and len(text) > 1 and expect.get("long_ok")
        if len(text) > max_chars and not single:
            err("cue %d has %d characters (> %d): %r" % (n, len(text), max_chars, text))
        if (end - start) * 1000 > max_ms + 1 and not expect.get("long_ok"):
            err("cue %d lasts %.3f s" % (n, end - start))
        joined.append(text)

    got = re.sub(r"\s+", "", "".join(joined))
    want = re.sub(r"\s+", "", expect["text"])
    if got != want:
        i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]),
                 min(len(got), len(want)))
        err("the cues' words differ from the transcript at character %d: "
            "got %r, want %r" % (i, got[max(0, i - 10):i + 20], want[max(0, i - 10):i + 20]))

    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
