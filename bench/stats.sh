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
LOG_NAME=bench
NGINX_ENV=
STORE_MAP=1g
DS=             # no DashScope here: no douyin_asr_url

# shellcheck source=bench/lib.sh
. bench/lib.sh

bench_init
command -v wrk >/dev/null || die "wrk is missing (Debian package wrk)"

# -- file-system-go: the emulator with FILES WAVs ----------------------------

emulator fsgo fsgo.py --root "$OUT/wav"
FSGO=http://127.0.0.1:$FSGO_PORT

log "stats: writing $FILES WAVs"
curl -sf --max-time 1800 -X POST -d "{\"count\":$FILES,\"seconds\":0.01}" \
    "$FSGO/__emu/generate" > /dev/null || die "generating the WAVs failed"

# -- nginx: /api/stats, and "return 200" of its bytes (same.conf) ------------

PORT=$(free_port)
echo "location = /same { return 200 'none yet'; }" > "$OUT/same.conf"
nginx_conf "$OUT" "douyin_listing_cache 1s;
default_type 'application/json; charset=utf-8';" <<EOF
location = /api/stats { douyin_stats; }
location = /metrics { douyin_metrics; }
include $OUT/same.conf;
EOF
nginx_up "$OUT"

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

# latency (bench/lib.sh) and wrk's socket errors when any: a request that
# waited past wrk's --timeout is not in the latencies, it is a socket error
figures() {
    latency "$1"
    awk '/Socket errors/ {sub(/^ */, ""); printf " (%s!)", $0}' "$1"
}

say ""
say "5. GET /api/stats over a file-system-go listing of $FILES WAVs, refreshed"
say "   over and over (douyin_listing_cache 1s; 2 workers), wrk $WRK_ARGS --timeout 30s --latency"
say "   $(printf '%-52s' "GET /api/stats ($BYTES bytes)") $(figures "$OUT/wrk-stats.txt")"
say "   $(printf '%-52s' "GET /same (return 200, the same bytes)") $(figures "$OUT/wrk-same.txt")"
say "   $(printf '%-52s' "ratio stats/return 200") $(ratio "$(rps "$OUT/wrk-stats.txt")" "$(rps "$OUT/wrk-same.txt")" 8)"
say "   listings asked of file-system-go during the stats run: $((Q1 - Q0)); one takes"
say "   ${LIST_S} s in the emulator alone (curl); listings running, sampled every"
say "   0.5 s during the run: ${RUNNING% }"
