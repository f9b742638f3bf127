#!/usr/bin/env python3
"""asan-report.py: reads the sanitizer logs of a scripts/test-asan.sh run
(the files asan.<pid>, AddressSanitizer and LeakSanitizer, and ubsan.<pid>,
UBSan, that scripts/asan-nginx asks for), prints a summary, and fails when a report passes through the module.

    scripts/asan-report.py LOGDIR

A report is one AddressSanitizer error (all of its stacks: access,
allocation, free), one leak of a LeakSanitizer report ("Direct leak of N
byte(s) in M object(s) allocated from:" and its stack), or one UBSan
"runtime error" (its source position and stack).  It is the module's when
one of its lines names the module: a function ngx_http_douyin_*, a source
file under ngx_http_douyin_module/, or the shared object
ngx_http_douyin_module.so.  The others are nginx's own (Debian's nginx is
not instrumented; what it leaves allocated at exit is its business) and are
only counted.  Every instrumented process writes its exit statistics
(ASAN_OPTIONS atexit=1): a run where none did (or wrote a report) proves
nothing and fails too.

Exit status: 0 clean, 1 a report passes through the module, 2 no
instrumented process was seen (or LOGDIR is missing).
"""

import os
import re
import sys

MODULE = re.compile(r'\bngx_http_douyin_\w*|ngx_http_douyin_module(?:/|\.so)')
FRAME = re.compile(r'^\s*#\d+ ')
ERROR = re.compile(r'^==\d+==ERROR: (AddressSanitizer|LeakSanitizer): (.*)')
LEAK = re.compile(r'^(Direct|Indirect) leak of (\d+) byte\(s\) in (\d+) '
                  r'object\(s\) allocated from:')
UB = re.compile(r'^(.*?): runtime error: (.*)')
SUPP = re.compile(r'^\s*(\d+)\s+(\d+)\s+(\S+)\s*$')


class Report:
    def __init__(self, kind, what, path, nbytes=0, objects=0):
        self.kind = kind        # 'asan', 'leak' or 'ubsan'
        self.what = what        # first line, shortened
        self.path = path
        self.nbytes = nbytes
        self.objects = objects
        self.lines = []

    def module(self):
        return any(MODULE.search(l) for l in self.lines)


def parse(path):
    """Returns (reports, instrumented, suppressed) of one log file."""
    reports, suppressed = [], []
    instrumented = False
    cur = None
    in_asan = in_supp = False

    with open(path, errors='replace') as f:
        lines = f.read().splitlines()

    for line in lines:
        if line.startswith('AddressSanitizer exit stats:'):
            instrumented = True
            cur = None
            continue
        if line.startswith('Suppressions used:'):
            in_supp, cur = True, None
            continue
        if in_supp:
            m = SUPP.match(line)
            if m:
                suppressed.append((int(m.group(1)), int(m.group(2)),
                                   m.group(3)))
                continue
            if line.strip().startswith('count') or not line.strip():
                continue
            in_supp = False

        m = ERROR.match(line)
        if m:
            in_asan = False
            if m.group(1) == 'AddressSanitizer':
                cur = Report('asan', m.group(2), path)
                cur.lines.append(line)
                reports.append(cur)
                in_asan = True
            else:
                cur = None      # the leaks follow, one report each
            continue
        m = LEAK.match(line)
        if m and not in_asan:
            cur = Report('leak', line.rstrip(':'), path, int(m.group(2)),
                         int(m.group(3)))
            cur.lines.append(line)
            reports.append(cur)
            continue
        m = UB.match(line)
        if m and not FRAME.match(line):
            cur = Report('ubsan', m.group(2), path)
            cur.lines.append(line)
            reports.append(cur)
            continue
        if line.startswith('SUMMARY: '):
            if cur is not None and cur.kind != 'ubsan':
                cur.lines.append(line)
            cur, in_asan = None, False
            continue
        if cur is not None:
            cur.lines.append(line)

    return reports, instrumented, suppressed


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print('usage: asan-report.py LOGDIR (an existing folder)',
              file=sys.stderr)
        return 2
    logdir = sys.argv[1]

    reports, suppressed = [], {}
    instrumented = set()
    for name in sorted(os.listdir(logdir)):
        m = re.match(r'^(asan|ubsan)\.(\d+)$', name)
        if not m:
            continue
        r, inst, supp = parse(os.path.join(logdir, name))
        reports += r
        if inst or r:
            instrumented.add(m.group(2))
        for count, nbytes, template in supp:
            c, b = suppressed.get(template, (0, 0))
            suppressed[template] = (c + count, b + nbytes)

    ours = [r for r in reports if r.module()]
    theirs = [r for r in reports if not r.module()]

    print('asan: %d instrumented nginx processes wrote their exit statistics '
          'or a report (logs: %s)' % (len(instrumented), logdir))
    for kind, label in (('asan', 'AddressSanitizer errors'),
                        ('leak', 'LeakSanitizer leaks'),
                        ('ubsan', 'UBSan runtime errors')):
        mine = [r for r in ours if r.kind == kind]
        other = [r for r in theirs if r.kind == kind]
        extra = ''
        if kind == 'leak':
            extra = ' (nginx\'s: %d bytes in %d objects)' % (
                sum(r.nbytes for r in other), sum(r.objects for r in other))
        print('asan: %-24s through the module: %d; nginx\'s own: %d%s'
              % (label, len(mine), len(other), extra))
    for template in sorted(suppressed):
        count, nbytes = suppressed[template]
        print('asan: suppressed (scripts/asan.supp) %s: %d leaks, %d bytes'
              % (template, count, nbytes))
    nonleak = [r for r in theirs if r.kind != 'leak']
    for r in nonleak:
        print('asan: note, outside the module: %s: %s'
              % (os.path.basename(r.path), r.what))

    if ours:
        print('\nasan: FAIL: %d report(s) pass through the module:' % len(ours))
        for r in ours:
            print('\n--- %s: %s' % (os.path.basename(r.path), r.what))
            for line in r.lines:
                print(line)
        return 1
    if not instrumented:
        print('asan: FAIL: no nginx process ran with the sanitizer runtime '
              '(no exit statistics in %s)' % logdir)
        return 2
    print('asan: OK: no report passes through the module')
    return 0


if __name__ == '__main__':
    sys.exit(main())
