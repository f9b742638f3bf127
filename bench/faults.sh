#!/usr/bin/env bash
# bench/faults.sh (called by bench/run.sh; BENCH_FAULTS=0 skips it): fault
# figures, printed to stdout and appended to bench/out/results.txt.  Not a
# timed test: nothing fails on a slow figure; a lost or twice-submitted
# video is printed as such.
#
#   a. BENCH_FAULT_VIDEOS (1000) videos through one POST /api/process,
#      with the DashScope emulator answering 30 % of the API calls
#      (submit, query, list) with 429 Throttling.RateQuota and 5 % with
#      500 InternalError, drawn at random, and the same run without
#      faults: wall time, videos completed and failed, the module's
#      retries (douyin_retries_total) and the faults the emulator
#      injected, and the ratio of the two wall times.  Rate limits off,
#      the default poll interval and backoff (1 s, doubling).
#   b. BENCH_KILL_VIDEOS (500) videos through POST /api/process/async
#      while a worker is killed (kill -9) every 2 s, until every video has
#      ended: videos completed, failed and lost (not ended when the run
#      stops), accepted submits per file URL (the most must be 1: nothing
#      submitted twice), kills, and the wall time.  Rate limits off, the
#      DashScope emulator taking BENCH_KILL_DELAY (10) s per task, so that
#      kills land both among the submits and among the polls.
#
# Two workers, thread_pool threads=2, a fresh store per run.  About 2
# minutes on a 2-core machine.

set -euo pipefail
cd "$(dirname "$0")/.."

REPO=$PWD
OUT=$REPO/bench/out/faults
RESULTS=$REPO/bench/out/results.txt
NGINX=${NGINX:-/usr/sbin/nginx}
VIDEOS_A=${BENCH_FAULT_VIDEOS:-1000}
VIDEOS_B=${BENCH_KILL_VIDEOS:-500}
KILL_DELAY=${BENCH_KILL_DELAY:-10}
MODULE=$REPO/build/ngx_http_douyin_module.so
FIRST_ID=7200000000000000001
LOG_NAME="bench faults"
NGINX_ENV=ALIYUN_ACCESS_KEY
STORE_MAP=1g

export ALIYUN_ACCESS_KEY=bench-key

# shellcheck source=bench/lib.sh
. bench/lib.sh

bench_init
touch "$RESULTS"

emulator fsgo fsgo.py --root "$OUT/wav"
emulator dashscope dashscope.py --delay 1 --key "$ALIYUN_ACCESS_KEY"
FSGO=http://127.0.0.1:$FSGO_PORT
DS=http://127.0.0.1:$DASHSCOPE_PORT

# nginx_start NAME: nginx (2 workers) with a fresh store in $OUT/NAME; sets
# PORT and MASTER
nginx_start() {
    PORT=$(free_port)
    nginx_conf "$OUT/$1" "douyin_asr_rate submit=off query=off;" <<'EOF'
location = /api/process { douyin_process; }
location = /api/process/async { douyin_process_async; }
location = /api/videos { douyin_videos; }
location = /metrics { douyin_metrics; }
EOF
    nginx_up "$OUT/$1"
}

# fresh emulators with N new videos of 0.2 s
videos() {
    new_videos "{\"count\":$1,\"seconds\":0.2,\"start\":\"$FIRST_ID\"}"
}

# the sum of a metric's samples in the module's /metrics
metric() {
    curl -sf "http://127.0.0.1:$PORT/metrics" \
        | awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2} END {print s + 0}'
}

# the number of videos of a status in the store (the list's total_count);
# 0 when the call fails (its worker was killed)
count() {
    curl -sf --max-time 10 "http://127.0.0.1:$PORT/api/videos?status=$1&page_size=1" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["total_count"])' \
            2>/dev/null || echo 0
}

# kills a worker of $MASTER (one of them at random) every 2 s, counting
# the kills in $OUT/kill/kills
killer() {
    local n=0 w
    while :; do
        sleep 2
        # shellcheck disable=SC2207
        w=($(workers))
        [ ${#w[@]} -gt 0 ] || continue
        kill -KILL "${w[$((RANDOM % ${#w[@]}))]}" 2>/dev/null && n=$((n + 1))
        echo "$n" > "$OUT/kill/kills"
    done
}

# -- a. random 429 and 500 --------------------------------------------------

# run_a NAME FAULTS: one timed POST /api/process of VIDEOS_A videos; sets
# WALL, OUTCOME, RETRIES, INJECTED
run_a() {
    local name=$1 faults=$2 dir=$OUT/$1
    nginx_start "$name"
    videos "$VIDEOS_A"
    [ -z "$faults" ] || curl -sf -X POST -d "$faults" "$DS/__emu/fault" > /dev/null
    WALL=$(curl -s -o "$dir/process.json" -w '%{time_total}' --max-time 1800 \
                -X POST "http://127.0.0.1:$PORT/api/process")
    curl -sf "$DS/__emu/stats" > "$dir/stats.json"
    OUTCOME=$(json "$dir/process.json" \
        '"%(success)s of %(total)s completed, %(failed)s failed" % j["data"]')
    RETRIES=$(metric douyin_retries_total)
    INJECTED=$(json "$dir/stats.json" \
        '"%d (%d x 429 of %d submits, %d queries, %d lists)" % (j["fault_hits"], j["throttled"], j["submits"], j["queries"], j["lists"])')
    nginx_stop
    log "$name: $OUTCOME in ${WALL}s, $RETRIES retries"
}

log "a. $VIDEOS_A videos without faults, then with 30 % 429 and 5 % 500"
run_a clean ""
WALL_CLEAN=$WALL OUTCOME_CLEAN=$OUTCOME RETRIES_CLEAN=$RETRIES

# the second fault sees the 70 % the first one let through: 0.05 / 0.7
FAULTS='{"faults":[
  {"route":"*","match":"/api/v1/","status":429,"code":"Throttling.RateQuota","rate":0.3},
  {"route":"*","match":"/api/v1/","status":500,"code":"InternalError","rate":0.0714}]}'
run_a faulty "$FAULTS"

say ""
say "5. faults: $VIDEOS_A videos, one POST /api/process, rate limits off, poll 1 s"
say "   without faults  $(printf '%7.2f s' "$WALL_CLEAN")  $OUTCOME_CLEAN, $RETRIES_CLEAN retries"
say "   30 % 429, 5 % 500 on submit, query and list"
say "                   $(printf '%7.2f s' "$WALL")  $OUTCOME, $RETRIES retries"
say "                   injected: $INJECTED"
say "   ratio faults/clean $(ratio "$WALL" "$WALL_CLEAN")"

# -- b. kill -9 of a worker every 2 s -----------------------------------------

log "b. $VIDEOS_B videos, a worker killed every 2 s"
nginx_start kill
videos "$VIDEOS_B"
curl -sf -X POST -d "{\"delay\":$KILL_DELAY}" "$DS/__emu/config" > /dev/null

START=$(date +%s.%N)
curl -sf -X POST "http://127.0.0.1:$PORT/api/process/async" > "$OUT/kill/async.json" \
    || die "POST /api/process/async failed"
killer &
KILLER=$!
PIDS+=("$KILLER")
DEADLINE=$(( $(date +%s) + 600 ))
while :; do
    sleep 1
    ENDED=$(( $(count completed) + $(count failed) ))
    [ "$ENDED" -ge "$VIDEOS_B" ] && break
    [ "$(date +%s)" -lt "$DEADLINE" ] || { log "not all ended after 600 s"; break; }
done
kill "$KILLER" 2>/dev/null || true
wait "$KILLER" 2>/dev/null || true
KILLS=$(cat "$OUT/kill/kills" 2>/dev/null || echo 0)
WALL_K=$(python3 -c "import time; print('%.1f' % (time.time() - $START))")
curl -sf "$DS/__emu/stats" > "$OUT/kill/stats.json"
COMPLETED=$(count completed)
FAILED=$(count failed)
LOST=$(( VIDEOS_B - COMPLETED - FAILED ))
SUBMITS=$(json "$OUT/kill/stats.json" \
    '"max %d, %d file(s) submitted more than once, %d accepted for %d files" % (max(j["submits_per_file"].values() or [0]), sum(1 for v in j["submits_per_file"].values() if v > 1), j["accepted"], len(j["submits_per_file"]))')
RESUMED=$(metric douyin_videos_resumed_total)
ADOPTED=$(grep -c 'found in its task list' "$OUT/kill/logs/error.log" || :)
nginx_stop

say ""
say "6. kill -9 of a worker every 2 s through $VIDEOS_B videos (POST /api/process/async,"
say "   rate limits off, $KILL_DELAY s per provider task), $KILLS kills, ${WALL_K} s"
say "   completed $COMPLETED, failed $FAILED, lost $LOST"
say "   accepted submits per file URL: $SUBMITS"
say "   videos resumed by another worker: $RESUMED (douyin_videos_resumed_total);"
say "   submits sent before a kill and found in the task list: $ADOPTED"
