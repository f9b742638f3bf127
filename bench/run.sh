#!/usr/bin/env bash
# bench/run.sh (make bench): prints benchmark figures of the module against
# the emulators in t/emu, to stdout and bench/out/results.txt.  Not a timed
# test: nothing fails on a slow figure.
#
#   1. N videos (1000) through one POST /api/process, with nginx + the
#      module (2 workers, thread_pool threads=2) and the DashScope emulator
#      answering each task after --delay 1 s, in three configurations, each
#      with a fresh store:
#        off       douyin_asr_rate submit=off query=off
#        batch100  douyin_asr_batch 100 (default rates)
#        default   the fun-asr rates (submit=10 query=20): also the achieved
#                  submit rate and the most submits in any 1 s window
#      and the workers' RSS: idle, after one run, and after each of 10 runs
#      of N new videos in one nginx ("off").
#   2. wrk on GET /api/videos/{id}/result of a completed video and on a
#      plain "return 200" location of the same nginx: requests/s and ratio.
#   3. a store of BENCH_BIG (100000) completed videos, made through the
#      emulators: the store's size on disk, and wrk (requests/s, p50 and
#      p99 latency) on GET /api/videos?page=1, a deep page, a filtered deep
#      page and GET /api/stats.
#   4. the RSS feed over that store: wrk on GET /api/rss.xml?limit=200 (a
#      200 with 200 items), and on the same URL with If-None-Match (the
#      304 of a feed reader's poll with nothing new) next to "return 200"
#      of the same nginx: requests/s, p50 and p99, and the ratio.
#
# Knobs (environment): BENCH_VIDEOS (1000), BENCH_RUNS (10), BENCH_DELAY (1),
# BENCH_BIG (100000),
# BENCH_WRK ("-t2 -c50 -d5s"), NGINX (/usr/sbin/nginx).  About 2.5 minutes,
# most of it the default-rate case (1000 submits at 10/s).

set -euo pipefail
cd "$(dirname "$0")/.."

REPO=$PWD
OUT=$REPO/bench/out
NGINX=${NGINX:-/usr/sbin/nginx}
VIDEOS=${BENCH_VIDEOS:-1000}
RUNS=${BENCH_RUNS:-10}
DELAY=${BENCH_DELAY:-1}
WRK_ARGS=${BENCH_WRK:--t2 -c50 -d5s}
MODULE=$REPO/build/ngx_http_douyin_module.so
FIRST_ID=7000000000000000001

export ALIYUN_ACCESS_KEY=bench-key
export DOUYIN_RSS_TOKEN=bench-feed-token

log() { echo "bench: $*" >&2; }
say() { echo "$*" | tee -a "$OUT/results.txt"; }
die() { log "$*"; exit 1; }

[ -f "$MODULE" ] || die "$MODULE is missing: run make first"

./scripts/deps.sh           # wrk, curl, python3, nginx when missing
command -v wrk >/dev/null || die "wrk is missing (Debian package wrk)"

rm -rf "$OUT"
mkdir -p "$OUT"
: > "$OUT/results.txt"

# a private copy of the module: a rebuild (cp over build/*.so) while the
# bench runs must not change the code under the running nginx
cp "$MODULE" "$OUT/ngx_http_douyin_module.so"

PIDS=()         # emulators
MASTERS=()      # nginx masters started (pids)

# is pid $1 running (and not a zombie nobody reaped)?
alive() {
    [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"
}

# the pids of the running processes whose parent is $1 (from /proc)
children() {
    local p
    for p in /proc/[0-9]*; do
        [ "$(awk '{print $4}' "$p/stat" 2>/dev/null)" = "$1" ] \
            && alive "${p#/proc/}" && echo "${p#/proc/}"
    done
    return 0
}

any_alive() {
    local m
    for m in "$@"; do
        alive "$m" && return 0
    done
    return 1
}

# stops every nginx started here (QUIT, then TERM, then KILL of the master
# and its workers) and the emulators, also when the bench fails half-way
cleanup() {
    local m sig _ all=()
    for m in "${PIDS[@]}"; do
        kill "$m" 2>/dev/null || true
    done
    [ ${#MASTERS[@]} -gt 0 ] || return 0
    for m in "${MASTERS[@]}"; do
        alive "$m" || continue
        all+=("$m")
        # shellcheck disable=SC2207
        all+=($(children "$m"))
    done
    for sig in QUIT TERM KILL; do
        any_alive "${all[@]}" || break
        if [ "$sig" = KILL ]; then
            kill -KILL "${all[@]}" 2>/dev/null || true
        else
            kill -"$sig" "${MASTERS[@]}" 2>/dev/null || true
        fi
        for _ in $(seq 50); do
            any_alive "${all[@]}" || break
            sleep 0.1
        done
    done
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# json FILE EXPR: evaluates the python expression EXPR with j = the JSON
json() {
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# emulator NAME SCRIPT ARGS...: starts it on a free port, sets NAME_PORT
emulator() {
    local name=$1 script=$2
    shift 2
    python3 "t/emu/$script" --host 127.0.0.1 --port 0 \
        --port-file "$OUT/$name.port" --parent-pid $$ "$@" \
        > "$OUT/$name.log" 2>&1 &
    PIDS+=($!)
    local _
    for _ in $(seq 100); do
        [ -s "$OUT/$name.port" ] && break
        sleep 0.1
    done
    [ -s "$OUT/$name.port" ] || die "$name emulator did not start: $(cat "$OUT/$name.log")"
    eval "${name^^}_PORT=$(cat "$OUT/$name.port")"
}

emulator fsgo fsgo.py --root "$OUT/wav"
emulator dashscope dashscope.py --delay "$DELAY" --key "$ALIYUN_ACCESS_KEY"
FSGO=http://127.0.0.1:$FSGO_PORT
DS=http://127.0.0.1:$DASHSCOPE_PORT

# nginx_start NAME DIRECTIVES: nginx with a fresh store in bench/out/NAME;
# sets PORT and MASTER
nginx_start() {
    local name=$1 extra=$2 dir=$OUT/$1 user=
    PORT=$(free_port)
    mkdir -p "$dir/logs"
    [ "$(id -u)" -eq 0 ] && user="user root;"
    cat > "$dir/nginx.conf" <<EOF
$user
worker_processes 2;
daemon on;
master_process on;
error_log $dir/logs/error.log notice;
pid $dir/logs/nginx.pid;
load_module $OUT/ngx_http_douyin_module.so;
env ALIYUN_ACCESS_KEY;
env DOUYIN_RSS_TOKEN;
thread_pool douyin threads=2;
events { worker_connections 1024; }
http {
    access_log off;
    douyin_store $dir/store map_size=1g;
    douyin_filesystem_url $FSGO;
    douyin_asr_url $DS;
    douyin_thread_pool douyin;
    douyin_public_url http://127.0.0.1:$PORT/api;
    $extra
    server {
        listen 127.0.0.1:$PORT;
        location = /api/process { douyin_process; }
        location ~ ^/api/videos/(?<aweme_id>[^/]+)/result\$ {
            douyin_result \$aweme_id;
        }
        location = /plain { return 200 '{"ok":true}'; }
        location = /api/videos { douyin_videos; }
        location = /api/stats { douyin_stats; }
        location = /api/rss.xml { douyin_rss; }
    }
}
EOF
    "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
        || die "nginx did not start: $(tail -5 "$dir/logs/error.log")"
    local _
    for _ in $(seq 50); do
        [ -s "$dir/logs/nginx.pid" ] && break
        sleep 0.1
    done
    MASTER=$(cat "$dir/logs/nginx.pid")
    MASTERS+=("$MASTER")
    for _ in $(seq 50); do
        [ "$(workers | wc -w)" -eq 2 ] && return 0
        sleep 0.1
    done
    die "nginx $MASTER has no 2 workers"
}

nginx_stop() {
    kill -QUIT "$MASTER"
    local _
    for _ in $(seq 100); do
        alive "$MASTER" || return 0
        sleep 0.1
    done
    log "nginx $MASTER did not stop"
}

# the worker pids of the running nginx (children of $MASTER)
workers() {
    local p
    for p in $(children "$MASTER"); do
        tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q 'worker process' \
            && echo "$p"
    done | sort -n | tr '\n' ' '
}

# rss: "PID VmRSS RssAnon RssFile" (kB) of every worker, one per line
rss() {
    local w
    for w in $(workers); do
        awk -v pid="$w" '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2}
                         /^RssFile:/ {f = $2}
                         END {print pid, r, a, f}' "/proc/$w/status"
    done
}

rss_line() {
    rss | awk '{printf "%s worker %s: %s kB (anon %s, file %s)", sep, $1, $2, $3, $4; sep = ";"}'
}

# run NAME START: N new videos (ids from START), one timed POST /api/process;
# sets WALL (seconds) and leaves the emulator stats in $OUT/NAME/stats-START.json
run() {
    local name=$1 start=$2 dir=$OUT/$1
    curl -sf -X POST -d '{"wipe":true}' "$FSGO/__emu/reset" > /dev/null
    curl -sf -X POST -d '{}' "$DS/__emu/reset" > /dev/null
    curl -sf -X POST -d "{\"count\":$VIDEOS,\"seconds\":0.2,\"start\":\"$start\"}" \
        "$FSGO/__emu/generate" > /dev/null
    WALL=$(curl -s -o "$dir/process-$start.json" -w '%{time_total}' \
                --max-time 1800 -X POST "http://127.0.0.1:$PORT/api/process")
    curl -sf "$DS/__emu/stats" > "$dir/stats-$start.json"
    curl -sf "$DS/__emu/max_rate?kind=submit&window=1.0" > "$dir/maxrate-$start.json"
    local outcome
    outcome=$(json "$dir/process-$start.json" \
        '"%(processed)s processed, %(success)s completed, %(failed)s failed" % j["data"]')
    STATS=$(json "$dir/stats-$start.json" \
        '"%d submits, %d accepted" % (j["submits"], j["accepted"])')
    log "$name: $outcome in ${WALL}s ($STATS)"
    RESULT="$outcome"
}

# submit figures of the last run: "achieved R/s (n submits over Ts), max M in 1 s"
submit_rate() {
    local name=$1 start=$2 dir=$OUT/$1
    python3 - "$dir/stats-$start.json" "$dir/maxrate-$start.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
t = sorted(s["submit_times"])
span = t[-1] - t[0] if len(t) > 1 else 0
rate = len(t) / span if span > 0 else float("nan")
print("achieved %.2f submits/s (%d submits over %.1f s, first to last), "
      "max %d in any 1 s window" % (rate, len(t), span, m["max"]))
EOF
}

say "ngx_http_douyin_module benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "  $("$NGINX" -v 2>&1), $(nproc) CPU(s), 2 workers, thread_pool threads=2"
say "  DashScope emulator --delay $DELAY s, $VIDEOS videos of 0.2 s per run"
say ""

# -- 1. off: rate limits off; RSS idle, after 1 run, and over RUNS runs ------

log "configuration off: rate limits off, $RUNS runs of $VIDEOS videos"
nginx_start off "douyin_asr_rate submit=off query=off;"
RSS_IDLE=$(rss_line)
SERIES=()
WALLS=()
for k in $(seq 0 $((RUNS - 1))); do
    run off $((FIRST_ID + k * VIDEOS))
    WALLS+=("$WALL")
    [ "$k" -eq 0 ] && { RSS_ONE=$(rss_line); RESULT_OFF=$RESULT;
                        WALL_OFF=$WALL; STATS_OFF=$STATS; }
    SERIES+=("$(printf '%3d  %7.2f s  ' $((k + 1)) "$WALL")$(rss | awk '{printf "  %6d (%5d / %5d)", $2, $3, $4}')")
done
nginx_stop

# -- 2. batch100 ----------------------------------------------------------------

log "configuration batch100: douyin_asr_batch 100"
nginx_start batch100 "douyin_asr_batch 100;"
run batch100 $FIRST_ID
RESULT_B=$RESULT WALL_B=$WALL STATS_B=$STATS
nginx_stop

# -- 3. default rates, then wrk in the same nginx -------------------------------

log "configuration default: submit=10 query=20 (about $((VIDEOS / 10)) s)"
nginx_start default ""
run default $FIRST_ID
RESULT_D=$RESULT WALL_D=$WALL STATS_D=$STATS
RATE_D=$(submit_rate default $FIRST_ID)

ID=$FIRST_ID
curl -sf "http://127.0.0.1:$PORT/api/videos/$ID/result" | grep -q '"status":"completed"' \
    || die "video $ID is not completed"
log "wrk $WRK_ARGS on /api/videos/$ID/result and /plain"
# shellcheck disable=SC2086
wrk $WRK_ARGS "http://127.0.0.1:$PORT/api/videos/$ID/result" > "$OUT/wrk-result.txt"
# shellcheck disable=SC2086
wrk $WRK_ARGS "http://127.0.0.1:$PORT/plain" > "$OUT/wrk-plain.txt"
nginx_stop

# -- 4. a store of BIG completed videos: list, deep page, stats ---------------

BIG=${BENCH_BIG:-100000}
log "configuration big: $BIG videos (batch 100, rates off), then list and stats"
nginx_start big "douyin_asr_rate submit=off query=off; douyin_asr_batch 100;"
curl -sf -X POST -d '{"wipe":true}' "$FSGO/__emu/reset" > /dev/null
curl -sf -X POST -d '{}' "$DS/__emu/reset" > /dev/null
curl -sf -X POST -d "{\"count\":$BIG,\"seconds\":0.01,\"meta\":true}" \
    "$FSGO/__emu/generate" > /dev/null
WALL_BIG=$(curl -s -o "$OUT/big/process.json" -w '%{time_total}' \
                --max-time 3600 -X POST "http://127.0.0.1:$PORT/api/process")
RESULT_BIG=$(json "$OUT/big/process.json" \
    '"%(processed)s processed, %(success)s completed, %(failed)s failed" % j["data"]')
log "big: $RESULT_BIG in ${WALL_BIG}s"

DEEP=$(( (BIG - 1) / 20 ))
BIG_URLS=("/api/videos?page=1" "/api/videos?page=$DEEP" "/api/stats"
          "/api/videos?status=completed&is_read=false&page=$DEEP")
curl -sf "http://127.0.0.1:$PORT/api/stats" > /dev/null    # the listing, cached
BIG_LINES=()
for u in "${BIG_URLS[@]}"; do
    # shellcheck disable=SC2086
    wrk $WRK_ARGS --latency "http://127.0.0.1:$PORT$u" > "$OUT/wrk-big.txt"
    BIG_LINES+=("$(printf '%-52s' "GET $u") $(awk '/^Requests\/sec:/ {r = $2}
        /^ +50%/ {p50 = $2} /^ +99%/ {p99 = $2} /Non-2xx/ {e = $NF}
        END {printf "%8.0f requests/s, latency p50 %s p99 %s%s", r, p50, p99,
             e ? " (" e " non-2xx!)" : ""}' "$OUT/wrk-big.txt")")
done
# the feed: 200 items over the big store, then a poll with nothing new
# (If-None-Match: its ETag, a 304) next to nginx's own "return 200"
FEED="/api/rss.xml?token=$DOUYIN_RSS_TOKEN&limit=200"
curl -sf -D "$OUT/feed-headers.txt" -o "$OUT/feed.xml" "http://127.0.0.1:$PORT$FEED" \
    || die "GET /api/rss.xml failed"
ETAG=$(awk 'tolower($1) == "etag:" {print $2}' "$OUT/feed-headers.txt" | tr -d '\r')
FEED_ITEMS=$(grep -c '<item>' "$OUT/feed.xml" || :)
FEED_BYTES=$(wc -c < "$OUT/feed.xml")
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" \
      "http://127.0.0.1:$PORT$FEED")" = 304 ] || die "the feed's ETag gets no 304"
# shellcheck disable=SC2086
wrk $WRK_ARGS --latency "http://127.0.0.1:$PORT$FEED" > "$OUT/wrk-feed.txt"
# shellcheck disable=SC2086
wrk $WRK_ARGS --latency -H "If-None-Match: $ETAG" "http://127.0.0.1:$PORT$FEED" \
    > "$OUT/wrk-feed-304.txt"
# shellcheck disable=SC2086
wrk $WRK_ARGS --latency "http://127.0.0.1:$PORT/plain" > "$OUT/wrk-big-plain.txt"

STORE_DU=$(du -sh "$OUT/big/store" | awk '{print $1}')
STORE_ENTRIES=$(mdb_stat -s videos "$OUT/big/store" | awk '/Entries/ {print $2}')
nginx_stop

# wrk_figure FILE: "N requests/s" plus the non-2xx count when there is one
wrk_figure() {
    awk '/^Requests\/sec:/ {r = $2} /Non-2xx/ {e = $NF}
         END {printf "%10.0f requests/s%s", r, e ? " (" e " non-2xx!)" : ""}' "$1"
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }
RPS_R=$(rps "$OUT/wrk-result.txt")
RPS_P=$(rps "$OUT/wrk-plain.txt")

# -- figures --------------------------------------------------------------------

say "1. one POST /api/process of $VIDEOS new videos (wall time)"
say "   off       $(printf '%7.2f s' "$WALL_OFF")  $RESULT_OFF; $STATS_OFF"
say "             (all $RUNS runs: $(printf '%.1f ' "${WALLS[@]}")s)"
say "   batch100  $(printf '%7.2f s' "$WALL_B")  $RESULT_B; $STATS_B"
say "   default   $(printf '%7.2f s' "$WALL_D")  $RESULT_D; $STATS_D"
say "             $RATE_D (ceiling 10/s; slots are spaced 1.05 x 1/rate)"
say ""
say "   worker RSS (configuration off)"
say "     idle:          $RSS_IDLE"
say "     after 1 run:   $RSS_ONE"
say "     after each of $RUNS runs of $VIDEOS new videos, kB per worker: VmRSS (RssAnon / RssFile)"
say "     (RssFile includes the pages of the LMDB map that were touched: the store"
say "     holds $VIDEOS more records after each run; RssAnon is the heap)"
for line in "${SERIES[@]}"; do
    say "     $line"
done
say ""
say "2. wrk $WRK_ARGS, same nginx (configuration default)"
say "   $(printf '%-44s' "GET /api/videos/$ID/result") $(wrk_figure "$OUT/wrk-result.txt")"
say "   $(printf '%-44s' "GET /plain (return 200)") $(wrk_figure "$OUT/wrk-plain.txt")"
say "   $(printf '%-44s' "ratio result/plain") $(python3 -c "print('%10.2f' % ($RPS_R / $RPS_P))")"
say ""
say "3. a store of $BIG completed videos (one POST /api/process: ${WALL_BIG} s, $RESULT_BIG)"
say "   store on disk: $STORE_DU ($STORE_ENTRIES records)"
say "   wrk $WRK_ARGS --latency:"
for line in "${BIG_LINES[@]}"; do
    say "   $line"
done
say ""
# latency FILE [304]: "N requests/s, latency p50 X p99 Y"; with 304, the
# bytes read per response, which show that no body came (wrk counts no 3xx
# as an error, so a 304 cannot be told from a 200 by its counters)
latency() {
    awk -v want="${2:-200}" '/^Requests\/sec:/ {r = $2} /^ +50%/ {p50 = $2}
        /^ +99%/ {p99 = $2} /Non-2xx/ {e = $NF}
        / requests in / {n = $1; u = $(NF - 1); b = u + 0; sub(/^[0-9.]+/, "", u)
                         if (u == "KB") b *= 1024
                         if (u == "MB") b *= 1048576
                         if (u == "GB") b *= 1073741824}
        END {printf "%8.0f requests/s, latency p50 %s p99 %s", r, p50, p99
             if (want == 304) printf ", %d bytes per response", b / n
             if (want == 304 && b / n > 1024) printf " (a body came: not 304!)"
             if (e) printf " (%d non-2xx!)", e}' "$1"
}
RPS_F=$(rps "$OUT/wrk-feed-304.txt")
RPS_BP=$(rps "$OUT/wrk-big-plain.txt")
say "4. the RSS feed over the $BIG-video store (same nginx), wrk $WRK_ARGS --latency"
say "   $(printf '%-52s' "GET /api/rss.xml?limit=200 ($FEED_ITEMS items, $FEED_BYTES bytes)") $(latency "$OUT/wrk-feed.txt")"
say "   $(printf '%-52s' "the same, If-None-Match: its ETag (304)") $(latency "$OUT/wrk-feed-304.txt" 304)"
say "   $(printf '%-52s' "GET /plain (return 200)") $(latency "$OUT/wrk-big-plain.txt")"
say "   $(printf '%-52s' "ratio 304/plain") $(python3 -c "print('%8.2f' % ($RPS_F / $RPS_BP))")"
say ""
./bench/stats.sh      # 5. GET /api/stats while a 100k-file listing refreshes
say "(bench/out/: results.txt, nginx configs and logs, emulator stats, wrk output)"
[ "${BENCH_FAULTS:-1}" = 0 ] || bench/faults.sh   # fault figures (bench/faults.sh)
bench/reads.sh         # the read routes against nginx serving the same bytes
