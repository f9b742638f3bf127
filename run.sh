#!/usr/bin/env bash
# run.sh: from nothing to transcripts of real speech, on loopback (README,
# "Five minutes"); `make run` is `./run.sh start`, `make stop` `./run.sh stop`.
#
#   ./run.sh start [--no-wait]
#       installs the missing Debian packages make run needs
#       (scripts/debian-packages-build and -run, through scripts/deps.sh),
#       builds the module, makes a speech corpus from scripts/corpus.tsv
#       (espeak-ng + sox), starts file-system-go (the emulator
#       t/emu/fsgo.py), the ASR (the real DashScope, or the emulator
#       t/emu/dashscope.py) and one nginx with the module that serves both
#       entry points of the old deployment: the service of conf/nginx.conf
#       (port 8093: /health, /api/...) and the gateway server of
#       conf/nginx-gateway.conf (port 8010: /api/douyin/...), on one store.
#       Then calls POST /api/douyin/process, prints the summary and every
#       transcript, waits for Ctrl-C and stops what it started.  It does
#       not wait with --no-wait, without a terminal, or when CI=true.
#       A port that is busy is refused, naming what holds it; it is tested
#       as nginx binds (SO_REUSEADDR), so a port the previous run closed
#       (TIME_WAIT) is not busy.
#   ./run.sh stop
#       stops what start started (the pids in $RUN_DIR/*.pid), nothing
#       else; without RUN_DIR, every run started from this repository
#       (run/ and each RUN_DIR, listed in .run-dirs).
#
# Environment:
#   RUN_DIR                scratch folder (default: run/ in the repository)
#   RUN_PORT               gateway port (default 8010)
#   RUN_SERVICE_PORT       service port (default 8093)
#   RUN_FSGO_PORT, RUN_ASR_PORT   emulator ports (default: free ones)
#   DOUYIN_FILESYSTEM_URL  a real file-system-go (then no emulator, no corpus)
#   ALIYUN_ACCESS_KEY and DOUYIN_AUDIO_BASE_URL   both set: the real DashScope,
#                          which downloads the WAVs from DOUYIN_AUDIO_BASE_URL
#   DOUYIN_ASR_URL         DashScope base URL (https://dashscope.aliyuncs.com)
#   DOUYIN_RSS_TOKEN       the RSS feed's token (default: one made once and
#                          kept in $RUN_DIR/rss-token)
#
# The store ($RUN_DIR/store) persists: a second start transcribes nothing
# again.  Needs bash, curl and python3 (standard library) only.
set -euo pipefail

REPO=$(cd "$(dirname "$0")" && pwd)
RUN=$(realpath -m "${RUN_DIR:-$REPO/run}")
RUNS=$REPO/.run-dirs              # every RUN_DIR started from here, for stop
NGINX=${NGINX:-/usr/sbin/nginx}
MODULE=$REPO/build/ngx_http_douyin_module.so
EMU_KEY=test-key                  # the DashScope emulator's default key

say() { printf 'run: %s\n' "$*" || true; }
die() { printf 'run: %s\n' "$*" >&2; exit 1; }

# what the command line of each process we start contains: a pid from a
# pid file is signalled only when it still is that process
pattern() {
    case $1 in
        nginx)     echo "-c $RUN/conf/nginx.conf" ;;
        fsgo)      echo "fsgo.py --root $RUN/wav" ;;
        dashscope) echo "dashscope.py --transcripts $RUN/transcripts" ;;
    esac
}

running() { [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

ours() {   # ours NAME: prints the pid if $RUN/NAME.pid is our live process
    local pid
    pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$(pattern "$1")" || return 1
    echo "$pid"
}

stop_all() {   # stop_all [PID...]: what the pid files name (only these PIDs if given)
    local name pid i sig
    trap '' PIPE                  # a closed stdout must not stop the stopping
    for name in nginx dashscope fsgo; do
        if ! pid=$(ours "$name"); then
            [ $# -gt 0 ] || rm -f "$RUN/$name.pid" "$RUN/$name.port"
            continue
        fi
        [ $# -eq 0 ] || [[ " $* " == *" $pid "* ]] || continue
        # nginx: a graceful stop (QUIT) hands the work in flight over to
        # the next start; then TERM, then KILL
        for sig in $([ "$name" = nginx ] && echo QUIT) TERM KILL; do
            running "$pid" || break
            kill -"$sig" "$pid" 2>/dev/null || true
            for i in $(seq 50); do
                running "$pid" || break
                sleep 0.1
            done
        done
        rm -f "$RUN/$name.pid" "$RUN/$name.port"
        say "stopped $name (pid $pid, $RUN)"
    done
}

stop_every() {   # ./run.sh stop: RUN_DIR's run, or every run of this repository
    local dir dirs=()
    if [ -n "${RUN_DIR:-}" ]; then
        dirs=("$RUN")
    else
        dirs=("$REPO/run")
        [ -f "$RUNS" ] && mapfile -t -O 1 dirs <"$RUNS"
    fi
    for dir in "${dirs[@]}"; do
        [ -n "$dir" ] && [ -d "$dir" ] || continue
        RUN=$dir stop_all
    done
    if [ -z "${RUN_DIR:-}" ]; then
        rm -f "$RUNS"
    elif [ -f "$RUNS" ]; then
        grep -vxF -- "$RUN" "$RUNS" >"$RUNS.tmp" || :
        if [ -s "$RUNS.tmp" ]; then mv -f "$RUNS.tmp" "$RUNS"; else rm -f "$RUNS.tmp" "$RUNS"; fi
    fi
}

check_port() {   # check_port PORT VARIABLE WHAT: dies, saying why, unless nginx can listen there
    [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ] ||
        die "$2=$1 is not a port number (1 to 65535)"
    python3 - "$@" <<'PY' || exit 1
import os, socket, sys

port, var, what = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def bindable(p):
    # as nginx binds its listen sockets: with SO_REUSEADDR, so that a port
    # whose last connections are in TIME_WAIT is not busy
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p))
        return None
    except OSError as e:
        return e
    finally:
        s.close()

err = bindable(port)
if err is None:
    sys.exit(0)

# who listens there: the sockets in /proc/net/tcp{,6}, then the processes
# that hold them (only ours are visible to a user who is not root)
inodes, uids = set(), set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(f[9])
            uids.add(int(f[7]))

holders = {}
for pid in (p for p in os.listdir("/proc") if p.isdigit()):
    try:
        fds = os.listdir("/proc/%s/fd" % pid)
    except OSError:
        continue
    for fd in fds:
        try:
            link = os.readlink("/proc/%s/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link[8:-1] in inodes and link.startswith("socket:["):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as c:
                    cmd = c.read().replace(b"\0", b" ").decode(errors="replace").strip()
                with open("/proc/%s/stat" % pid) as st:
                    ppid = st.read().rsplit(")", 1)[1].split()[1]
            except OSError:
                break
            holders[pid] = (ppid, cmd)
            break

# name the parents (an nginx master, not each of its workers)
top = [p for p in holders if holders[p][0] not in holders] or list(holders)
if top:
    who = "; ".join("pid %s (%s)" % (p, holders[p][1][:120]) for p in sorted(top, key=int)[:3])
elif uids:
    import pwd
    names = []
    for u in sorted(uids):
        try:
            names.append("%s (uid %d)" % (pwd.getpwuid(u).pw_name, u))
        except KeyError:
            names.append("uid %d" % u)
    who = ("a process of user %s; as root, `ss -ltnp 'sport = :%d'` names it"
           % (", ".join(names), port))
else:
    who = "no process listens there, but it cannot be bound: %s" % err.strerror

other = next((p for p in range(port + 1, min(port + 200, 65536))
              if bindable(p) is None), None)
print("run: port %d (%s, %s) on 127.0.0.1 is busy: %s" % (port, what, var, who),
      file=sys.stderr)
print("run:   make run does not move to another port by itself; choose one, e.g. %s=%s make run"
      % (var, other if other else "<port>"), file=sys.stderr)
sys.exit(1)
PY
}

make_corpus() {   # the WAVs, their .meta.json sidecars and the sentences
    local id lang title author sentence made=0 n=0 tmp=$RUN/tmp
    mkdir -p "$RUN/wav" "$RUN/transcripts" "$tmp"
    while IFS=$'\t' read -r id lang title author sentence; do
        [[ $id =~ ^[0-9]{19}$ ]] || continue
        n=$((n + 1))
        printf '%s\n' "$sentence" >"$RUN/transcripts/$id.txt"
        [ -s "$RUN/wav/$id.wav" ] && continue
        espeak-ng -v "$lang" -w "$tmp/speech.wav" "$sentence"
        sox "$tmp/speech.wav" -r 16000 -c 1 -b 16 -e signed-integer "$tmp/$id.wav"
        python3 -c 'import json, sys; print(json.dumps(dict(zip(
            ("title", "author", "description", "upload_time"), sys.argv[1:])),
            ensure_ascii=False))' "$title" "$author" \
            "Read aloud by espeak-ng (voice $lang), from scripts/corpus.tsv." \
            "$(date +%Y-%m-%dT%H:%M:%S%:z)" >"$RUN/wav/$id.wav.meta.json"
        mv "$tmp/$id.wav" "$RUN/wav/$id.wav"
        made=$((made + 1))
    done <"$REPO/scripts/corpus.tsv"
    say "corpus: $n WAVs of real speech in $RUN/wav ($made made now with espeak-ng + sox, 16 kHz mono 16-bit)"
}

spawn() {   # spawn NAME PORT COMMAND...: an emulator, in its own session
    local name=$1 port=$2 i
    shift 2
    rm -f "$RUN/$name.port"
    env -u ALIYUN_ACCESS_KEY setsid "$@" --host 127.0.0.1 --port "$port" \
        --port-file "$RUN/$name.port" </dev/null >"$RUN/logs/$name.log" 2>&1 &
    echo $! >"$RUN/$name.pid"
    for i in $(seq 100); do
        [ -s "$RUN/$name.port" ] && { cat "$RUN/$name.port"; return; }
        running "$(cat "$RUN/$name.pid")" || break
        sleep 0.1
    done
    tail -n 20 "$RUN/logs/$name.log" >&2
    die "$name did not start (log: $RUN/logs/$name.log)"
}

show_result() {   # pretty-prints one GET .../result answer from stdin
    python3 -c '
import json, sys
d = json.load(sys.stdin).get("data") or {}
st = d.get("status")
dur = " %.1f s" % d["audio_duration"] if d.get("audio_duration") else ""
print("%s  %s%s" % (d.get("aweme_id"), st, dur))
for k in ("title", "author", "text") if st == "completed" else ("error", "message"):
    if d.get(k) is not None:
        print("    %-7s %s" % (k + ":", d[k] if d[k] != "" else "(no speech)"))
print()'
}

start() {
    local no_wait=$1 fs_url audio_url asr_url key port fs_port asr_port base ids id nginx_pid
    local port=${RUN_PORT:-8010} svc_port=${RUN_SERVICE_PORT:-8093} svc
    if ours nginx >/dev/null || ours fsgo >/dev/null || ours dashscope >/dev/null; then
        say "a previous run in $RUN is still up: stopping it first"
        stop_all
    fi
    "$REPO/scripts/deps.sh" "$REPO/scripts/debian-packages-build" "$REPO/scripts/debian-packages-run"

    # the ports the README's commands use, or the ones asked for; never
    # another one silently (a command copied from the README would reach
    # whatever listens there).  After deps.sh, which installs python3;
    # before the build, which may take minutes.
    check_port "$port" RUN_PORT "the gateway"
    check_port "$svc_port" RUN_SERVICE_PORT "the service"
    [ "$port" != "$svc_port" ] || die "RUN_PORT and RUN_SERVICE_PORT are both $port"

    make -C "$REPO" --no-print-directory -s all
    mkdir -p "$RUN/conf" "$RUN/logs" "$RUN/modules"
    ln -sfn "$MODULE" "$RUN/modules/ngx_http_douyin_module.so"
    # ./run.sh stop (make stop) without RUN_DIR finds this run here
    [ "$RUN" = "$REPO/run" ] || grep -sqxF -- "$RUN" "$RUNS" || echo "$RUN" >>"$RUNS"

    keep=0 mine=0                 # on the way out, stop what this run started
    trap '[ "$keep" = 1 ] || stop_all $mine' EXIT
    trap 'echo; exit 130' INT TERM

    if [ -n "${DOUYIN_FILESYSTEM_URL:-}" ]; then
        fs_url=${DOUYIN_FILESYSTEM_URL%/}
        # the emulator would store made-up transcripts of real videos
        [ -n "${ALIYUN_ACCESS_KEY:-}" ] && [ -n "${DOUYIN_AUDIO_BASE_URL:-}" ] ||
            die "a real file-system-go (DOUYIN_FILESYSTEM_URL) needs the real DashScope too: set ALIYUN_ACCESS_KEY and DOUYIN_AUDIO_BASE_URL (the emulator would store made-up transcripts of your videos)"
        curl -sf -o /dev/null --max-time 10 -X POST -H 'Content-Type: application/json' \
            -d '{"filters":{"suffix":".wav"}}' "$fs_url/api/videos/query" ||
            die "file-system-go does not answer at $fs_url/api/videos/query (DOUYIN_FILESYSTEM_URL; from the host, a Docker service name does not resolve)"
        say "file-system-go: the real one at $fs_url (DOUYIN_FILESYSTEM_URL)"
        say "  every WAV it lists that is not transcribed yet is sent to DashScope now (billed)"
    else
        make_corpus
        fs_port=$(spawn fsgo "${RUN_FSGO_PORT:-0}" python3 "$REPO/t/emu/fsgo.py" --root "$RUN/wav")
        mine+=" $(cat "$RUN/fsgo.pid")"
        fs_url=http://127.0.0.1:$fs_port
        say "file-system-go: the EMULATOR t/emu/fsgo.py at $fs_url, serving $RUN/wav"
        say "  (the real Go server is not available here; set DOUYIN_FILESYSTEM_URL to use one)"
    fi

    if [ -n "${ALIYUN_ACCESS_KEY:-}" ] && [ -n "${DOUYIN_AUDIO_BASE_URL:-}" ]; then
        asr_url=${DOUYIN_ASR_URL:-https://dashscope.aliyuncs.com}
        audio_url=${DOUYIN_AUDIO_BASE_URL%/}
        key=$ALIYUN_ACCESS_KEY
        say "ASR: the REAL DashScope at $asr_url (key from ALIYUN_ACCESS_KEY);"
        say "  it downloads the WAVs from $audio_url (DOUYIN_AUDIO_BASE_URL)"
    else
        [ -z "${ALIYUN_ACCESS_KEY:-}" ] ||
            say "ALIYUN_ACCESS_KEY is set but DOUYIN_AUDIO_BASE_URL is not: DashScope cannot download WAVs from 127.0.0.1"
        asr_port=$(spawn dashscope "${RUN_ASR_PORT:-0}" python3 "$REPO/t/emu/dashscope.py" \
            --transcripts "$RUN/transcripts" --key "$EMU_KEY")
        mine+=" $(cat "$RUN/dashscope.pid")"
        asr_url=http://127.0.0.1:$asr_port
        audio_url=$fs_url
        key=$EMU_KEY
        say "ASR: the DashScope EMULATOR t/emu/dashscope.py at $asr_url; it answers with the"
        say "  sentence each WAV was read from (set ALIYUN_ACCESS_KEY and DOUYIN_AUDIO_BASE_URL for the real one)"
    fi

    # conf/ as it is, but for the paths and addresses of this scratch run:
    # conf/nginx.conf (the service), with the gateway's server block of
    # conf/nginx-gateway.conf added to its http block
    {
        echo "# made by run.sh from conf/nginx.conf and the server block of"
        echo "# conf/nginx-gateway.conf, for the paths and ports of this run"
        awk -v gw="$REPO/conf/nginx-gateway.conf" '
            /^}/ { last = NR }
            { line[NR] = $0 }
            END {
                for (i = 1; i <= NR; i++) {
                    if (i == last) {
                        print ""
                        print "    # the gateway (conf/nginx-gateway.conf)"
                        while ((getline l < gw) > 0) {
                            if (l ~ /^    server \{/) inside = 1
                            if (inside) print l
                            if (inside && l ~ /^    }/) inside = 0
                        }
                    }
                    print line[i]
                }
            }' "$REPO/conf/nginx.conf"
    } | sed -e "s|^load_module .*|load_module $RUN/modules/ngx_http_douyin_module.so;|" \
        -e "s|^error_log [^ ;]*|error_log $RUN/logs/error.log|" \
        -e "s|^pid .*|pid $RUN/nginx.pid;|" \
        -e "s|^\( *douyin_store \)[^ ;]*|\1$RUN/store|" \
        -e "s|^\( *douyin_filesystem_url \).*|\1$fs_url;|" \
        -e "s|^\( *douyin_audio_base_url \).*|\1$audio_url;|" \
        -e "s|^\( *douyin_asr_url \).*|\1$asr_url;|" \
        -e "s|^\( *douyin_public_url \).*|\1http://127.0.0.1:$port/api/douyin;|" \
        -e "s|^\( *listen \)8010;|\1127.0.0.1:$port;|" \
        -e "s|^\( *listen \)8093;|\1127.0.0.1:$svc_port;|" \
        >"$RUN/conf/nginx.conf"
    cp "$REPO/conf/douyin-gateway.conf" "$RUN/conf/"
    for want in "load_module $RUN/" "error_log $RUN/" "pid $RUN/" "douyin_store $RUN/" \
                "douyin_filesystem_url $fs_url;" "douyin_audio_base_url $audio_url;" \
                "douyin_asr_url $asr_url;" "listen 127.0.0.1:$port;" \
                "listen 127.0.0.1:$svc_port;" "include douyin-gateway.conf;" \
                "douyin_public_url http://127.0.0.1:$port/api/douyin;"; do
        grep -qF -- "$want" "$RUN/conf/nginx.conf" ||
            die "conf/nginx.conf or conf/nginx-gateway.conf has changed: could not set '$want'"
    done

    # the feed's token: DOUYIN_RSS_TOKEN (never printed), else one made
    # once for this run folder
    if [ -n "${DOUYIN_RSS_TOKEN:-}" ]; then
        rss_token=$DOUYIN_RSS_TOKEN
        rss_shown='$DOUYIN_RSS_TOKEN'
    else
        [ -s "$RUN/rss-token" ] ||
            od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$RUN/rss-token"
        rss_token=$(cat "$RUN/rss-token")
        rss_shown=$rss_token
    fi

    # the key and the token reach nginx only, through its environment
    ALIYUN_ACCESS_KEY=$key DOUYIN_RSS_TOKEN=$rss_token \
        "$NGINX" -p "$RUN/" -c "$RUN/conf/nginx.conf" ||
        die "nginx did not start (see above and $RUN/logs/error.log)"
    base=http://127.0.0.1:$port
    svc=http://127.0.0.1:$svc_port
    for i in $(seq 100); do
        curl -sf -o /dev/null "$base/api/douyin/health" && break
        sleep 0.1
    done
    nginx_pid=$(ours nginx || :)
    mine+=" $nginx_pid"
    curl -sf -o /dev/null "$base/api/douyin/health" ||
        die "nginx does not answer on $base/api/douyin/health (log: $RUN/logs/error.log)"
    curl -sf -o /dev/null "$svc/health" ||
        die "nginx does not answer on $svc/health (log: $RUN/logs/error.log)"
    say "nginx (pid $nginx_pid) with the module, one store, two entry points:"
    say "  the service at $svc: /health, /api/... (conf/nginx.conf; the old port 8093)"
    say "  the gateway at $base: /api/douyin/... (conf/douyin-gateway.conf; the old port 8010)"

    echo
    say "POST $base/api/douyin/process  (answers when every video has been transcribed)"
    summary=$(curl -sS --max-time 86400 -X POST "$base/api/douyin/process") ||
        die "POST /api/douyin/process failed (log: $RUN/logs/error.log)"
    python3 -m json.tool --no-ensure-ascii <<<"$summary" ||
        die "POST /api/douyin/process did not answer JSON: $summary"
    grep -q '"success": *true' <<<"$summary" ||
        die "POST /api/douyin/process failed (above; log: $RUN/logs/error.log)"
    echo
    say "the transcripts (GET $base/api/douyin/videos/{id}/result):"
    echo
    ids=$(curl -sS -X POST -H 'Content-Type: application/json' -d '{"filters":{"suffix":".wav"}}' \
        "$fs_url/api/videos/query" | python3 -c 'import json, re, sys
for v in json.load(sys.stdin).get("videos") or []:
    if re.fullmatch(r"\d{1,32}", v["id"]): print(v["id"])')
    for id in $(head -n 20 <<<"$ids"); do
        curl -sS "$base/api/douyin/videos/$id/result" | show_result
    done
    [ "$(wc -l <<<"$ids")" -le 20 ] || say "(and $(($(wc -l <<<"$ids") - 20)) more videos)"

    say "try next, the service (direct):"
    echo "  curl -s $svc/health"
    echo "  curl -s $svc/api/videos/${id:-ID}/result | python3 -m json.tool --no-ensure-ascii"
    echo "  curl -s '$svc/api/videos?status=completed&page_size=5'"
    echo "  curl -s $svc/api/stats"
    echo "  the API reference, in a browser: $svc/docs"
    say "the gateway (the same store):"
    echo "  curl -s $base/api/douyin/health"
    echo "  curl -s $base/api/douyin/videos/${id:-ID}/result | python3 -m json.tool --no-ensure-ascii"
    echo "  curl -s $base/api/douyin/videos/${id:-ID}/subtitles.srt"
    echo "  curl -s -X POST $base/api/douyin/process"
    echo "  curl -s -X POST $base/api/douyin/process/async"
    echo "  the API reference, in a browser: $base/api/douyin/docs"
    echo "  curl -s \"$base/api/douyin/rss.xml?token=$rss_shown\"   (the RSS feed, for a feed reader)"
    echo "  (logs in $RUN/logs; the nginx config is $RUN/conf/nginx.conf)"
    echo

    if [ "$no_wait" = 1 ] || [ ! -t 0 ] || [ ! -t 1 ] || [ "${CI:-}" = true ]; then
        keep=1
        say "left running; stop it with: make stop (every run of this repository)${RUN_DIR:+, or RUN_DIR=$RUN make stop (this one)}"
        return
    fi
    trap 'echo; exit 0' INT TERM   # the way to end it: not an error
    say "running; Ctrl-C stops everything (or make stop in another terminal)"
    while [ "$(ours nginx || :)" = "$nginx_pid" ]; do
        sleep 1 &
        wait $! || true
    done
    say "nginx has stopped"       # by ./run.sh stop, or a new start took over
}

case "${1:-} ${2:-}" in
    "start ")          start 0 ;;
    "start --no-wait") start 1 ;;
    "stop ")           stop_every; say "stopped" ;;
    *)                 die "usage: $0 start [--no-wait] | stop" ;;
esac
