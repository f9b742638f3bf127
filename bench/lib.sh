# shellcheck shell=bash
# bench/lib.sh: the helpers that bench/run.sh, bench/reads.sh,
# bench/faults.sh and bench/stats.sh share.  Each of them sources it from
# the repository's root (". bench/lib.sh") and still runs alone.  Sourcing
# runs nothing: it defines the functions below, sets PIDS=() and
# MASTERS=(), and traps EXIT to cleanup.  Paths such as t/emu are taken
# from the repository's root, the current directory of every bench script.
#
# The sourcing script sets these variables (read when a function runs):
#   LOG_NAME   the prefix of log's lines ("bench", "reads", ...)
#   RESULTS    the file say appends to, when that file exists
#   OUT        the script's output folder: emulator logs and port files,
#              the module's private copy, nginx folders
#   MODULE     the module (.so) that bench_init copies into OUT
#   NGINX      the nginx binary
#   and, for nginx_conf: PORT (nginx's port), FSGO (file-system-go's
#   URL), DS (DashScope's URL; empty: no douyin_asr_url), NGINX_ENV (names
#   of environment variables nginx keeps: one "env NAME;" each) and
#   STORE_MAP (the store's map_size, "1g").
#
# Output
#   log MSG...         prints "LOG_NAME: MSG" on stderr
#   say LINE...        prints LINE on stdout and appends it to RESULTS
#                      when RESULTS exists
#   die MSG...         log MSG, then exit 1
#   bench_init         dies when MODULE is missing; empties OUT and puts a
#                      copy of MODULE in it, so that a rebuild (cp over
#                      build/*.so) while the bench runs changes nothing
#                      under the running nginx
# Processes
#   alive PID          true when PID runs and is no zombie
#   children PID       the pids of PID's running children, one a line
#   any_alive PID...   true when one of the PIDs is alive
#   workers            the worker pids of nginx MASTER, sorted, each
#                      followed by a space ("" when none)
#   cleanup            the EXIT trap: kills the PIDS (emulators and other
#                      helpers) and stops every nginx in MASTERS with its
#                      workers (QUIT, then TERM, then KILL, each given up
#                      to 5 s), also when a bench fails half-way
#   free_port          prints a TCP port free on 127.0.0.1 just now
#   wait_file FILE N   waits up to N tenths of a second until FILE is not
#                      empty; false when it stays empty
#   json FILE EXPR     prints the python expression EXPR, j = FILE's JSON
# Emulators (t/emu)
#   emulator NAME SCRIPT ARG...
#                      starts python3 t/emu/SCRIPT ARG... on a free port
#                      (log in OUT/NAME.log), adds its pid to PIDS and
#                      sets NAME_PORT (upper case: fsgo gives FSGO_PORT);
#                      dies when it does not start within 10 s
#   new_videos JSON    wipes file-system-go's WAVs, resets DashScope's
#                      tasks and stats, then makes the WAVs JSON describes
#                      (fsgo.py's /__emu/generate: count, seconds, start,
#                      meta)
# nginx
#   nginx_conf DIR HTTP < SERVER
#                      writes DIR/nginx.conf (and makes DIR/logs): 2
#                      workers, error log and pid in DIR/logs, the module
#                      from OUT, "env NAME;" for each of NGINX_ENV,
#                      thread_pool douyin threads=2; in http: access_log
#                      off, douyin_store DIR/store map_size=STORE_MAP,
#                      douyin_filesystem_url FSGO, douyin_asr_url DS
#                      (unless DS is empty), douyin_thread_pool douyin,
#                      then the lines of HTTP; then a server listening on
#                      127.0.0.1:PORT with the lines read from stdin (the
#                      lines of HTTP and SERVER are indented here)
#   nginx_up DIR       starts nginx on DIR/nginx.conf, sets MASTER, adds
#                      it to MASTERS, waits up to 5 s for its 2 workers;
#                      dies when nginx fails or has no 2 workers
#   nginx_stop         QUIT to MASTER; waits up to 10 s for it to end
# wrk's output (FILE: what wrk printed, with --latency for the latencies)
#   rps FILE           requests/s, as wrk printed it
#   latency FILE [304] "R requests/s, latency p50 X p99 Y" and " (N
#                      non-2xx!)" when there were any; with 304, also ",
#                      B bytes per response" before it (and " (a body
#                      came: not 304!)" above 1 KiB): wrk counts no 3xx
#                      as an error, so a 304 is told from a 200 by the
#                      bytes read
#   ratio A B [WIDTH]  A / B with two decimals, right-aligned in WIDTH

PIDS=()         # emulators and other helpers started
MASTERS=()      # nginx masters started

log() { echo "$LOG_NAME: $*" >&2; }
say() {
    echo "$*"
    if [ -f "$RESULTS" ]; then echo "$*" >> "$RESULTS"; fi
}
die() { log "$*"; exit 1; }

bench_init() {
    [ -f "$MODULE" ] || die "$MODULE is missing: run make first"
    rm -rf "$OUT"
    mkdir -p "$OUT"
    cp "$MODULE" "$OUT/ngx_http_douyin_module.so"
}

alive() {
    [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"
}

children() {
    ps --ppid "$1" -o pid=,stat= | awk '$2 !~ /^Z/ {print $1}' || :
}

any_alive() {
    local m
    for m in "$@"; do
        alive "$m" && return 0
    done
    return 1
}

workers() {
    ps --ppid "$MASTER" -o pid=,args= | awk '/worker process/ {print $1}' \
        | sort -n | tr '\n' ' ' || :
}

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
    return 0
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_file() {
    local _
    for _ in $(seq "$2"); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    [ -s "$1" ]
}

json() {
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

emulator() {
    local name=$1 script=$2
    shift 2
    python3 "t/emu/$script" --host 127.0.0.1 --port 0 \
        --port-file "$OUT/$name.port" --parent-pid $$ "$@" \
        > "$OUT/$name.log" 2>&1 &
    PIDS+=($!)
    wait_file "$OUT/$name.port" 100 \
        || die "$name emulator did not start: $(cat "$OUT/$name.log")"
    eval "${name^^}_PORT=$(cat "$OUT/$name.port")"
}

new_videos() {
    curl -sf -X POST -d '{"wipe":true}' "$FSGO/__emu/reset" > /dev/null
    curl -sf -X POST -d '{}' "$DS/__emu/reset" > /dev/null
    curl -sf -X POST -d "$1" "$FSGO/__emu/generate" > /dev/null
}

nginx_conf() {
    local dir=$1 http=$2 v user=
    mkdir -p "$dir/logs"
    [ "$(id -u)" -eq 0 ] && user="user root;"
    {
        cat <<EOF
$user
worker_processes 2;
daemon on;
master_process on;
error_log $dir/logs/error.log notice;
pid $dir/logs/nginx.pid;
load_module $OUT/ngx_http_douyin_module.so;
EOF
        for v in $NGINX_ENV; do
            echo "env $v;"
        done
        cat <<EOF
thread_pool douyin threads=2;
events { worker_connections 1024; }
http {
    access_log off;
    douyin_store $dir/store map_size=$STORE_MAP;
    douyin_filesystem_url $FSGO;
EOF
        [ -z "$DS" ] || echo "    douyin_asr_url $DS;"
        echo "    douyin_thread_pool douyin;"
        printf '%s\n' "$http" | sed 's/^/    /'
        echo "    server {"
        echo "        listen 127.0.0.1:$PORT;"
        sed 's/^/        /'
        echo "    }"
        echo "}"
    } > "$dir/nginx.conf"
}

nginx_up() {
    local dir=$1 _
    "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
        || die "nginx did not start: $(tail -5 "$dir/logs/error.log")"
    wait_file "$dir/logs/nginx.pid" 50 || :
    MASTER=$(cat "$dir/logs/nginx.pid")
    MASTERS+=("$MASTER")
    for _ in $(seq 50); do
        [ "$(workers | wc -w)" -eq 2 ] && return 0
        sleep 0.1
    done
    die "nginx $MASTER has no 2 workers"
}

nginx_stop() {
    local _
    kill -QUIT "$MASTER"
    for _ in $(seq 100); do
        alive "$MASTER" || return 0
        sleep 0.1
    done
    log "nginx $MASTER did not stop"
}

rps() { awk '/^Requests\/sec:/ {print $2}' "$1"; }

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

ratio() { python3 -c "print('%${3:-}.2f' % ($1 / $2))"; }
