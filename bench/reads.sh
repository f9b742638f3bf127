#!/usr/bin/env bash
# bench/reads.sh (called by bench/run.sh; also alone): the read routes of
# the module against nginx serving the same bytes, in the same nginx and
# the same run, to stdout and bench/out/reads/results.txt.  Not a timed
# test: nothing fails on a slow figure; the targets are printed beside.
#
#   1. a store of READS_VIDEOS (1000) completed videos with metadata, made
#      through the emulators (t/emu); then wrk, module against a static
#      file of the very bytes the module sent (checked with cmp), served
#      by the same nginx:
#        GET /api/videos/{id}/result (also against "return 200" with the
#            same body)                                   target >= 0.9
#        GET /api/videos?page=1&page_size=20             target >= 0.5
#        GET /api/videos?page=1&page_size=100
#        GET /api/videos/{id} (detail), its subtitles (srt, vtt, txt), the
#        RSS feed (limit=50) and the feed's 304 (If-None-Match)
#   2. a store of READS_BIG (BENCH_BIG, 100000) completed videos: the deep
#      page (page (BIG - 1) / 20 of 20: 4999 at 100000), the same with
#      status=completed (two index cursors merged) and with
#      status=completed&is_read=false (one), and page 1: p50 and p99
#      latency against the target p50 < 2 ms, and each against a static
#      file of its bytes.
#
# READS_PERF=1 also profiles one worker with perf (Debian's linux-perf)
# while wrk runs on the result and on the page of 20, and prints the top
# lines of `perf report`.
#
# Each figure is the best of READS_ROUNDS (3) wrk runs, the module's and
# nginx's taken in turn, so that a load that comes and goes on a shared
# machine weighs on both alike.
#
# Knobs (environment): READS_VIDEOS (1000; 0 skips section 1), READS_BIG (BENCH_BIG, 100000;
# 0 skips section 2), READS_WRK ("-t2 -c32 -d3s"), READS_ROUNDS (3),
# READS_MODULE (build/ngx_http_douyin_module.so), NGINX (/usr/sbin/nginx).

set -euo pipefail
cd "$(dirname "$0")/.."

REPO=$PWD
OUT=$REPO/bench/out/reads
RESULTS=$OUT/results.txt
NGINX=${NGINX:-/usr/sbin/nginx}
VIDEOS=${READS_VIDEOS:-1000}
BIG=${READS_BIG:-${BENCH_BIG:-100000}}
WRK_ARGS=${READS_WRK:--t2 -c32 -d3s}
ROUNDS=${READS_ROUNDS:-3}
MODULE=${READS_MODULE:-$REPO/build/ngx_http_douyin_module.so}
FIRST_ID=7000000000000000001
BODY=           # the result's body, for "return 200" (when nginx can quote it)
LOG_NAME=reads
NGINX_ENV="ALIYUN_ACCESS_KEY DOUYIN_RSS_TOKEN"
STORE_MAP=2g

export ALIYUN_ACCESS_KEY=bench-key
export DOUYIN_RSS_TOKEN=bench-feed-token

# shellcheck source=bench/lib.sh
. bench/lib.sh

bench_init
command -v wrk >/dev/null || die "wrk is missing (Debian package wrk)"
: > "$RESULTS"

emulator fsgo fsgo.py --root "$OUT/wav"
emulator dashscope dashscope.py --delay 0.2 --key "$ALIYUN_ACCESS_KEY"
FSGO=http://127.0.0.1:$FSGO_PORT
DS=http://127.0.0.1:$DASHSCOPE_PORT

# nginx_start NAME: nginx (2 workers) with a fresh store in
# bench/out/reads/NAME and the read routes, a static folder NAME/static
# (/static/), and NAME/extra.conf included in the server; sets PORT, MASTER
nginx_start() {
    local dir=$OUT/$1
    PORT=$(free_port)
    mkdir -p "$dir/static"
    : > "$dir/extra.conf"
    nginx_conf "$dir" "douyin_public_url http://127.0.0.1:$PORT/api;
douyin_asr_rate submit=off query=off;
douyin_asr_batch 100;" <<EOF
location = /api/process { douyin_process; }
location ~ ^/api/videos/(?<aweme_id>[^/]+)/result\$ {
    douyin_result \$aweme_id;
}
location ~ ^/api/videos/(?<aweme_id>[^/]+)/subtitles\\.(?<format>[^/]*)\$ {
    douyin_subtitles \$aweme_id \$format;
}
location ~ ^/api/videos/(?<aweme_id>[^/]+)\$ {
    douyin_video \$aweme_id;
}
location = /api/videos { douyin_videos; }
location = /api/rss.xml { douyin_rss; }
location /static/ {
    alias $dir/static/;
    default_type application/json;
}
include $dir/extra.conf;
EOF
    nginx_up "$dir"
}

# store N: N completed videos with metadata through one POST /api/process
store() {
    local n=$1 name=$2 t
    new_videos "{\"count\":$n,\"seconds\":0.2,\"meta\":true,\"start\":\"$FIRST_ID\"}"
    t=$(curl -s -o "$OUT/$name/process.json" -w '%{time_total}' \
             --max-time 7200 -X POST "http://127.0.0.1:$PORT/api/process")
    log "$name: $(cat "$OUT/$name/process.json") in ${t}s"
    grep -q "\"success\":$n," "$OUT/$name/process.json" \
        || die "$name: not every video completed"
}

# wrk_run URL FILE [HEADER]: wrk --latency, its output in FILE
wrk_run() {
    local url=$1 file=$2
    shift 2
    # shellcheck disable=SC2086
    wrk $WRK_ARGS --latency "$@" "http://127.0.0.1:$PORT$url" > "$file"
}

# figure FILE: "R requests/s, p50 X p99 Y" (and non-2xx when any)
figure() {
    awk '/^Requests\/sec:/ {r = $2} /^ +50%/ {p50 = $2} /^ +99%/ {p99 = $2}
         /Non-2xx/ {e = $NF}
         END {printf "%8.0f req/s  p50 %-8s p99 %-8s%s", r, p50, p99,
              e ? " (" e " non-2xx!)" : ""}' "$1"
}

# p50 in ms of a wrk --latency output
p50ms() {
    awk '/^ +50%/ {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
         if (u == "us") v /= 1000; if (u == "s") v *= 1000; printf "%.3f", v}' "$1"
}

# snapshot URL NAME [CURL ARGS]: the module's body of URL as static/NAME;
# checks that nginx serves the very same bytes at /static/NAME
snapshot() {
    local url=$1 name=$2 dir=$OUT/$3
    curl -sf -o "$dir/static/$name" "http://127.0.0.1:$PORT$url" \
        || die "GET $url failed"
    curl -sf -o "$dir/static/$name.check" "http://127.0.0.1:$PORT/static/$name"
    cmp -s "$dir/static/$name" "$dir/static/$name.check" \
        || die "/static/$name is not the bytes of $url"
    rm -f "$dir/static/$name.check"
}

# best FILE URL [HEADER]: READS_ROUNDS runs of wrk on URL, interleaved by
# the caller with those of the other URL of the pair; FILE gets the run
# with the most requests/s (a shared machine's load comes and goes)
best() {
    local file=$1 url=$2
    shift 2
    wrk_run "$url" "$file.try" "$@"
    if [ ! -s "$file" ] || awk -v a="$(rps "$file.try")" -v b="$(rps "$file")" \
            'BEGIN {exit !(a > b)}'; then
        mv "$file.try" "$file"
    fi
    rm -f "$file.try"
}

# pair LABEL URL NAME DIR [TARGET]: wrk on the module's URL and on the
# static file of its bytes, in turn, READS_ROUNDS times; prints the best
# run of each and the ratio of their requests/s
pair() {
    local label=$1 url=$2 name=$3 dir=$4 target=${5:-} _
    snapshot "$url" "$name" "$dir"
    rm -f "$OUT/$dir/wrk-$name.txt" "$OUT/$dir/wrk-$name-static.txt" \
          "$OUT/$dir/wrk-return.txt"
    for _ in $(seq "$ROUNDS"); do
        best "$OUT/$dir/wrk-$name.txt" "$url"
        best "$OUT/$dir/wrk-$name-static.txt" "/static/$name"
        if [ "$name" = result.json ] && [ -n "$BODY" ]; then
            best "$OUT/$dir/wrk-return.txt" /return
        fi
    done
    say "   $(printf '%-34s %7s B' "$label" "$(wc -c < "$OUT/$dir/static/$name")")  module $(figure "$OUT/$dir/wrk-$name.txt")"
    say "   $(printf '%-34s %9s' '' '')  static $(figure "$OUT/$dir/wrk-$name-static.txt")"
    say "   $(printf '%-34s %9s' '' '')  ratio  $(ratio "$(rps "$OUT/$dir/wrk-$name.txt")" "$(rps "$OUT/$dir/wrk-$name-static.txt")")${target:+   (target $target)}"
}

# profile URL NAME: perf on one worker while wrk runs on URL
profile() {
    local url=$1 name=$2 w load
    [ "${READS_PERF:-0}" = 1 ] && command -v perf > /dev/null || return 0
    w=$(children "$MASTER" | awk 'NR == 1')
    # shellcheck disable=SC2086
    wrk $WRK_ARGS "http://127.0.0.1:$PORT$url" > /dev/null &
    load=$!
    sleep 0.5
    perf record -q -g -p "$w" -o "$OUT/perf-$name.data" -- sleep 2 \
        > /dev/null 2>&1 || true
    wait "$load"
    say "   perf, one worker under wrk on $url (self %, top 12):"
    perf report -q --no-children --stdio -i "$OUT/perf-$name.data" \
        --sort symbol -g none 2>/dev/null | grep -v '^$' | sed -n 1,12p \
        | sed 's/^/     /' | tee -a "$OUT/results.txt" || true
}

say "ngx_http_douyin_module read routes, $(date -u '+%Y-%m-%d %H:%M UTC')"
say "  $("$NGINX" -v 2>&1), $(nproc) CPU(s), 2 workers, wrk $WRK_ARGS, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "  module: against nginx serving the same bytes from a static file (same nginx, same run);"
say "  each the best of $ROUNDS wrk runs, module and static in turn"
say ""

# -- 1. READS_VIDEOS videos -----------------------------------------------------

if [ "$VIDEOS" -gt 0 ]; then
mkdir -p "$OUT/small"
nginx_start small
store "$VIDEOS" small
ID=$FIRST_ID
RESULT=$(curl -sf "http://127.0.0.1:$PORT/api/videos/$ID/result")

# "return 200" of the result's very body, when nginx can quote it as it is
case "$RESULT" in
    *"'"*|*\\*|*'$'*) ;;
    *) BODY=$RESULT
       echo "location = /return { default_type application/json; return 200 '$BODY'; }" \
           > "$OUT/small/extra.conf"
       kill -HUP "$MASTER"
       sleep 2
       curl -sf "http://127.0.0.1:$PORT/return" | cmp -s - <(printf '%s' "$BODY") \
           || die "/return is not the result's body" ;;
esac

say "1. a store of $VIDEOS completed videos"
pair "GET /api/videos/{id}/result" "/api/videos/$ID/result" result.json small ">= 0.9"
if [ -n "$BODY" ]; then
    say "   $(printf '%-34s %9s' '' '')  return $(figure "$OUT/small/wrk-return.txt")"
    say "   $(printf '%-34s %9s' '' '')  ratio  $(ratio "$(rps "$OUT/small/wrk-result.json.txt")" "$(rps "$OUT/small/wrk-return.txt")") (module / return 200)"
fi
pair "GET /api/videos?page=1&page_size=20" "/api/videos?page=1&page_size=20" list20.json small ">= 0.5"
pair "GET /api/videos?page=1&page_size=100" "/api/videos?page=1&page_size=100" list100.json small
pair "GET /api/videos/{id} (detail)" "/api/videos/$ID" detail.json small
pair "GET .../subtitles.srt" "/api/videos/$ID/subtitles.srt" sub.srt small
pair "GET .../subtitles.vtt" "/api/videos/$ID/subtitles.vtt" sub.vtt small
pair "GET .../subtitles.txt" "/api/videos/$ID/subtitles.txt" sub.txt small
FEED="/api/rss.xml?token=$DOUYIN_RSS_TOKEN&limit=50"
pair "GET /api/rss.xml (50 items)" "$FEED" feed.xml small
ETAG=$(curl -sfI "http://127.0.0.1:$PORT$FEED" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $ETAG" \
      "http://127.0.0.1:$PORT$FEED")" = 304 ] || die "the feed's ETag gets no 304"
wrk_run "$FEED" "$OUT/small/wrk-304.txt" -H "If-None-Match: $ETAG"
say "   $(printf '%-34s %9s' 'the feed, If-None-Match (304)' '')  module $(figure "$OUT/small/wrk-304.txt")"
profile "/api/videos/$ID/result" result
profile "/api/videos?page=1&page_size=20" list20
nginx_stop
say ""
fi

# -- 2. READS_BIG videos: deep pages ---------------------------------------------

if [ "$BIG" -gt 0 ]; then
    DEEP=$(( (BIG - 1) / 20 ))
    log "a store of $BIG videos (a while)"
    mkdir -p "$OUT/big"
    nginx_start big
    store "$BIG" big
    say "2. a store of $BIG completed videos: pages of 20 (target: a deep page's p50 < 2 ms)"
    n=0
    for u in "/api/videos?page=1" "/api/videos?page=$DEEP" \
             "/api/videos?status=completed&page=$DEEP" \
             "/api/videos?status=completed&is_read=false&page=$DEEP"; do
        n=$((n + 1))
        pair "GET $u" "$u" "page$n.json" big
        case "$u" in
            *page=1) ;;
            *) say "   $(printf '%-34s %9s' '' '')  p50 $(p50ms "$OUT/big/wrk-page$n.json.txt") ms: $(awk -v v="$(p50ms "$OUT/big/wrk-page$n.json.txt")" 'BEGIN {print (v < 2) ? "target met" : "target NOT met"}')" ;;
        esac
    done
    nginx_stop
    say ""
fi

say "(bench/out/reads/: results.txt, nginx configs and logs, the bodies in */static, wrk output)"
