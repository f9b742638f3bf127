#!/usr/bin/env bash
# test-asan.sh: the test suite with the module built by `make asan`
# (AddressSanitizer + UBSan) loaded into the stock nginx; `make test-asan`
# builds it and runs this.
#
#   scripts/test-asan.sh [TEST_FILE_OR_FOLDER...]  (default: every .t
#                                   file under t/ but the excluded ones below)
#
# nginx is started through scripts/asan-nginx (TEST_NGINX_BINARY), which
# preloads the sanitizer runtime into nginx alone and sends every report to
# $ASAN_BUILD/logs (emptied first).  After prove, scripts/asan-report.py
# reads those logs, prints a summary and fails when a report (a memory
# error, a leak at exit, undefined behaviour) passes through the module.
# The exit status is prove's when it failed, otherwise the report's.
#
# Environment: ASAN_BUILD (default build-asan), SAN_NGINX (default
# /usr/sbin/nginx), TEST_JOBS (as make test: -j2 runs two files at a
# time), and the usual TEST_NGINX_* of the suite.  Ports as make test: a
# free one for each file, or TEST_NGINX_PORT with t/servroot_<port>.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

ASAN_BUILD=${ASAN_BUILD:-build-asan}
export ASAN_BUILD
export SAN_NGINX=${SAN_NGINX:-/usr/sbin/nginx}
module=$PWD/$ASAN_BUILD/ngx_http_douyin_module.so
for f in "$module" "$ASAN_BUILD/asan-preload.so"; do
    [ -f "$f" ] || { echo "test-asan: no $f (make asan)" >&2; exit 2; }
done

# Test files that do not run here, and why (nothing else is left out):
#   t/plain/050-run.t     runs run.sh, which builds and loads the plain
#                   module (build/) into a plain nginx: it would test
#                   nothing of the sanitizer build (make test runs it).
#   t/plain/055-install.t installs and checks the plain module (make
#                   install): the same.
#   t/plain/060-deploy.t  checks the deployment files against the module "built
#                   for the tests": its shared libraries must come from
#                   the image's runtime packages, which the sanitizer build
#                   (libasan, libubsan) is not meant for; it loads the
#                   module only for `nginx -t`, which t/015 also does.
excluded=(t/plain/050-run.t t/plain/055-install.t t/plain/060-deploy.t)

if [ $# -gt 0 ]; then
    files=("$@")
else
    files=()
    while IFS= read -r f; do
        [[ " ${excluded[*]} " == *" $f "* ]] || files+=("$f")
    done < <(find t -name '*.t' | sort)
    echo "test-asan: not run under the sanitizers: ${excluded[*]}" \
         "(see scripts/test-asan.sh)"
fi

logs=$ASAN_BUILD/logs
rm -rf "$logs"
mkdir -p "$logs"
chmod 1777 "$logs"      # t/000 also runs nginx as another user, like /tmp
export SAN_LOG_DIR=$PWD/$logs

# the fallback Test::Nginx in t/lib only when the real one is missing
# (as make test does)
perl -MTest::Nginx::Socket -e1 2>/dev/null ||
    export PERL5LIB=t/lib${PERL5LIB:+:$PERL5LIB}
export TEST_NGINX_BINARY=$PWD/scripts/asan-nginx
export TEST_NGINX_LOAD_MODULES=$module

port=${TEST_NGINX_SERVER_PORT:-${TEST_NGINX_PORT:-}}
if [ -z "$port" ]; then
    export TEST_NGINX_RANDOMIZE=1
else
    export TEST_NGINX_SERVROOT=${TEST_NGINX_SERVROOT:-$PWD/t/servroot_$port}
fi

# An instrumented nginx is slower, most of all when it stops: every process
# runs LeakSanitizer and symbolises its reports.  The harness sends KILL
# when nginx has not stopped within TEST_NGINX_TIMEOUT (3 s by default),
# and a KILLed process reports no leak: give it 10 s.
export TEST_NGINX_TIMEOUT=${TEST_NGINX_TIMEOUT:-10}

# read by the few checks that cannot hold under the sanitizers (t/030's
# window of provider submits), which say why
export TEST_DOUYIN_SANITIZERS=address,undefined

start=$(date +%s)
# shellcheck disable=SC2086   # TEST_JOBS: empty, or an option of prove
prove -I. -r ${TEST_JOBS:-} "${files[@]}"
rc=$?
python3 scripts/asan-report.py "$logs"
report=$?
echo "test-asan: $(( $(date +%s) - start )) s"
[ "$rc" -ne 0 ] && exit "$rc"
exit "$report"
