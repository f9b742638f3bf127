#!/usr/bin/env bash
# bench/stats.sh (make bench, from bench/run.sh): GET /api/stats while the
# file-system-go listing behind it (BENCH_STATS_FILES WAVs, 100000) is
# refreshed over and over (douyin_listing_cache 1s), next to nginx's own
# "return 200" of the same bytes in the same nginx: requests/s, latency
# p50 and p99, and the ratio.  Once a worker has a listing, no stats
# request waits for file-system-go (an old listing answers while one
# thread refreshes it), so p99 should stay in milliseconds while listings
# of a second or more run (the listings running are sampled from
# douyin_metrics meanwhile).  Prints to stdout, and appends to
# bench/out/results.txt when bench/run.sh made it.  Not a timed test:
# nothing fails on a slow figure.
#
# Knobs (environment): BENCH_STATS_FILES (100000), BENCH_WRK
# ("-t2 -c50 -d5s"), NGINX (/usr/sbin/nginx), BENCH_MODULE (the module to
# load: build/ngx_http_douyin_module.so).  About 2-5 minutes, most
# of it writing the WAVs and waiting for the workers' first listings.

set -euo pipefail
cd "$(dirname "$0")/.."

REPO=$PWD
OUT=$REPO/bench/out/stats
RESULTS=$REPO/bench/out/results.txt
NGINX=${NGINX:-/usr/sbin/nginx}
FILES=${BENCH_STATS_FILES:-100000}
WRK_ARGS=${BENCH_WRK:--t2 -c50 -d5s}
MODULE=${BENCH_MODULE:-$REPO/build/ngx_http_douyin_module.so}

log() { echo "bench: $*" >&2; }
say() {
    echo "$*"
    if [ -f "$RESULTS" ]; then echo "$*" >> "$RESULTS"; fi
}
die() { log "$*"; exit 1; }

[ -f "$MODULE" ] || die "$MODULE is missing: run make first"
command -v wrk >/dev/null || die "wrk is missing (Debian package wrk)"

rm -rf "$OUT"
mkdir -p "$OUT/logs"

# a private copy: a rebuild while the bench runs changes nothing under it
cp "$MODULE" "$OUT/ngx_http_douyin_module.so"

EMU=
MASTER=

alive() {
    [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"
}

# the worker pids of nginx $MASTER, sorted
workers() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$MASTER" ] || continue
        tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q 'worker process' \
            && echo "${p#/proc/}"
    done | sort -n | tr '\n' ' '
}

# stops the nginx and the emulator started here, and nothing else
cleanup() {
    local _ w
    [ -z "$EMU" ] || kill "$EMU" 2>/dev/null || true
    [ -n "$MASTER" ] && alive "$MASTER" || return 0
    w=$(workers)
    kill -QUIT "$MASTER" 2>/dev/null || true
    for _ in $(seq 50); do
        alive "$MASTER" || return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -KILL "$MASTER" $w 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# -- file-system-go: the emulator with FILES WAVs ----------------------------

python3 t/emu/fsgo.py --host 127.0.0.1 --port 0 --port-file "$OUT/fsgo.port" \
    --parent-pid $$ --root "$OUT/wav" > "$OUT/fsgo.log" 2>&1 &
EMU=$!
for _ in $(seq 100); do
    [ -s "$OUT/fsgo.port" ] && break
    sleep 0.1
done
[ -s "$OUT/fsgo.port" ] || die "the fsgo emulator did not start: $(cat "$OUT/fsgo.log")"
FSGO=http://127.0.0.1:$(cat "$OUT/fsgo.port")

log "stats: writing $FILES WAVs"
curl -sf --max-time 1800 -X POST -d "{\"count\":$FILES,\"seconds\":0.01}" \
    "$FSGO/__emu/generate" > /dev/null || die "generating the WAVs failed"

# -- nginx: /api/stats, and "return 200" of its bytes (same.conf) ------------

PORT=$(free_port)
user=
[ "$(id -u)" -eq 0 ] && user="user root;"
echo "location = /same { return 200 'none yet'; }" > "$OUT/same.conf"
cat > "$OUT/nginx.conf" <<EOF
$user
worker_processes 2;
daemon on;
master_process on;
error_log $OUT/logs/error.log notice;
pid $OUT/logs/nginx.pid;
load_module $OUT/ngx_http_douyin_module.so;
thread_pool douyin threads=2;
events { worker_connections 1024; }
http {
    access_log off;
    douyin_store $OUT/store map_size=1g;
    douyin_filesystem_url $FSGO;
    douyin_thread_pool douyin;
    douyin_listing_cache 1s;
    default_type 'application/json; charset=utf-8';
    server {
        listen 127.0.0.1:$PORT;
        location = /api/stats { douyin_stats; }
        location = /metrics { douyin_metrics; }
        include $OUT/same.conf;
    }
}
EOF
"$NGINX" -p "$OUT/" -c "$OUT/nginx.conf" -e "$OUT/logs/error.log" \
    || die "nginx did not start: $(tail -5 "$OUT/logs/error.log")"
for _ in $(seq 50); do
    [ -s "$OUT/logs/nginx.pid" ] && break
    sleep 0.1
done
MASTER=$(cat "$OUT/logs/nginx.pid")

URL=http://127.0.0.1:$PORT
curl -sf --max-time 600 -o "$OUT/stats.json" "$URL/api/stats" \
    || die "GET /api/stats failed: $(tail -5 "$OUT/logs/error.log")"
grep -q "\"total\":$FILES," "$OUT/stats.json" \
    || die "the stats do not count $FILES files: $(cat "$OUT/stats.json")"
BYTES=$(wc -c < "$OUT/stats.json")

# the same bytes from nginx itself (the stats body has no ' and no $)
echo "location = /same { return 200 '$(cat "$OUT/stats.json")'; }" \
    > "$OUT/same.conf"
OLD=$(workers)
kill -HUP "$MASTER"
for _ in $(seq 100); do
    NEW=$(workers)
    [ "$(echo "$NEW" | wc -w)" -eq 2 ] && [ "$NEW" != "$OLD" ] \
        && ! echo "$NEW" | grep -qw "${OLD%% *}" && break
    sleep 0.1
done
cmp -s <(curl -sf "$URL/same") "$OUT/stats.json" \
    || die "/same does not give the stats' bytes"

# each new worker waits once, for its first listing (several seconds at
# 100k files): not measured.  Warm until a 2 s run on 16 connections (on
# both workers) has no request that took 1 s or more.
WARM=0
for _ in $(seq 60); do
    wrk -t2 -c16 -d2s --timeout 1s "$URL/api/stats" > "$OUT/wrk-warm.txt"
    if grep -q '^Requests/sec: *[1-9]' "$OUT/wrk-warm.txt" \
        && ! grep -q 'Socket errors' "$OUT/wrk-warm.txt"
    then
        WARM=1
        break
    fi
done
[ "$WARM" = 1 ] || die "the workers have no listing after 2 minutes: $(cat "$OUT/wrk-warm.txt")"

Q0=$(curl -sf "$FSGO/__emu/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"]["query"])')
# shellcheck disable=SC2086
wrk $WRK_ARGS --timeout 30s --latency "$URL/api/stats" > "$OUT/wrk-stats.txt" &
WRK=$!
# the thread ops running (only listings run here), sampled while wrk runs
RUNNING=
while alive "$WRK"; do
    RUNNING+="$(curl -sf "$URL/metrics" \
                | awk '$1 == "douyin_thread_ops_running" {print $2}') "
    sleep 0.5
done
wait "$WRK"
Q1=$(curl -sf "$FSGO/__emu/stats" | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"]["query"])')
# shellcheck disable=SC2086
wrk $WRK_ARGS --timeout 30s --latency "$URL/same" > "$OUT/wrk-same.txt"
curl -sf -o "$OUT/stats-after.json" "$URL/api/stats"

LIST_S=$(curl -s -o /dev/null -w '%{time_total}' -X POST -d '{}' \
             "$FSGO/api/videos/query")

# FILE: "N requests/s, latency p50 X p99 Y" (and non-2xx or socket errors
# when any: a request that waited past wrk's --timeout is not in the
# latencies, it is a socket error)
latency() {
    awk '/^Requests\/sec:/ {r = $2} /^ +50%/ {p50 = $2} /^ +99%/ {p99 = $2}
         /Non-2xx/ {e = $NF} /Socket errors/ {sub(/^ */, ""); se = $0}
         END {printf "%8.0f requests/s, latency p50 %s p99 %s", r, p50, p99
              if (e) printf " (%d non-2xx!)", e
              if (se) printf " (%s!)", se}' "$1"
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }

say ""
say "5. GET /api/stats over a file-system-go listing of $FILES WAVs, refreshed"
say "   over and over (douyin_listing_cache 1s; 2 workers), wrk $WRK_ARGS --timeout 30s --latency"
say "   $(printf '%-52s' "GET /api/stats ($BYTES bytes)") $(latency "$OUT/wrk-stats.txt")"
say "   $(printf '%-52s' "GET /same (return 200, the same bytes)") $(latency "$OUT/wrk-same.txt")"
say "   $(printf '%-52s' "ratio stats/return 200") $(python3 -c "print('%8.2f' % ($(rps "$OUT/wrk-stats.txt") / $(rps "$OUT/wrk-same.txt")))")"
say "   listings asked of file-system-go during the stats run: $((Q1 - Q0)); one takes"
say "   ${LIST_S} s in the emulator alone (curl); listings running, sampled every"
say "   0.5 s during the run: ${RUNNING% }"
