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
RESULTS=$OUT/results.txt
NGINX=${NGINX:-/usr/sbin/nginx}
VIDEOS=${BENCH_VIDEOS:-1000}
RUNS=${BENCH_RUNS:-10}
DELAY=${BENCH_DELAY:-1}
WRK_ARGS=${BENCH_WRK:--t2 -c50 -d5s}
MODULE=$REPO/build/ngx_http_douyin_module.so
FIRST_ID=7000000000000000001
LOG_NAME=bench
NGINX_ENV="ALIYUN_ACCESS_KEY DOUYIN_RSS_TOKEN"
STORE_MAP=1g

export ALIYUN_ACCESS_KEY=bench-key
export DOUYIN_RSS_TOKEN=bench-feed-token

# shellcheck source=bench/lib.sh
. bench/lib.sh

bench_init
./scripts/deps.sh           # wrk, curl, python3, nginx when missing
command -v wrk >/dev/null || die "wrk is missing (Debian package wrk)"
: > "$RESULTS"

emulator fsgo fsgo.py --root "$OUT/wav"
emulator dashscope dashscope.py --delay "$DELAY" --key "$ALIYUN_ACCESS_KEY"
FSGO=http://127.0.0.1:$FSGO_PORT
DS=http://127.0.0.1:$DASHSCOPE_PORT

# nginx_start NAME DIRECTIVES: nginx with a fresh store in bench/out/NAME;
# sets PORT and MASTER
nginx_start() {
    PORT=$(free_port)
    nginx_conf "$OUT/$1" "douyin_public_url http://127.0.0.1:$PORT/api;
$2" <<'EOF'
location = /api/process { douyin_process; }
location ~ ^/api/videos/(?<aweme_id>[^/]+)/result$ {
    douyin_result $aweme_id;
}
location = /plain { return 200 '{"ok":true}'; }
location = /api/videos { douyin_videos; }
location = /api/stats { douyin_stats; }
location = /api/rss.xml { douyin_rss; }
EOF
    nginx_up "$OUT/$1"
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
    new_videos "{\"count\":$VIDEOS,\"seconds\":0.2,\"start\":\"$start\"}"
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
new_videos "{\"count\":$BIG,\"seconds\":0.01,\"meta\":true}"
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
    BIG_LINES+=("$(printf '%-52s' "GET $u") $(latency "$OUT/wrk-big.txt")")
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
say "   $(printf '%-44s' "ratio result/plain") $(ratio "$RPS_R" "$RPS_P" 10)"
say ""
say "3. a store of $BIG completed videos (one POST /api/process: ${WALL_BIG} s, $RESULT_BIG)"
say "   store on disk: $STORE_DU ($STORE_ENTRIES records)"
say "   wrk $WRK_ARGS --latency:"
for line in "${BIG_LINES[@]}"; do
    say "   $line"
done
say ""
RPS_F=$(rps "$OUT/wrk-feed-304.txt")
RPS_BP=$(rps "$OUT/wrk-big-plain.txt")
say "4. the RSS feed over the $BIG-video store (same nginx), wrk $WRK_ARGS --latency"
say "   $(printf '%-52s' "GET /api/rss.xml?limit=200 ($FEED_ITEMS items, $FEED_BYTES bytes)") $(latency "$OUT/wrk-feed.txt")"
say "   $(printf '%-52s' "the same, If-None-Match: its ETag (304)") $(latency "$OUT/wrk-feed-304.txt" 304)"
say "   $(printf '%-52s' "GET /plain (return 200)") $(latency "$OUT/wrk-big-plain.txt")"
say "   $(printf '%-52s' "ratio 304/plain") $(ratio "$RPS_F" "$RPS_BP" 8)"
say ""
./bench/stats.sh      # 5. GET /api/stats while a 100k-file listing refreshes
say "(bench/out/: results.txt, nginx configs and logs, emulator stats, wrk output)"
[ "${BENCH_FAULTS:-1}" = 0 ] || bench/faults.sh   # fault figures (bench/faults.sh)
bench/reads.sh         # the read routes against nginx serving the same bytes
