#!/usr/bin/env bash
# t/data/make-format2.sh MODULE: makes t/data/format2.dump and
# t/data/format2-bodies.json, the fixture of t/120-reads.t TEST 2, with
# MODULE, a build of the last release that writes store format 2 (commit
# af156e0): a store of 140 videos (100 with metadata, 40 without; 12 read,
# 3 failed, 4 deleted, 1 pushed and pending) through the emulators in
# t/emu, then the bodies of the result, detail and list routes that MODULE
# serves over it with douyin_audio_base_url https://files.example.com (a
# body of 2 KiB or more as its SHA-256 and length), and
# the store's databases as mdb_dump prints them (but "workers", which
# holds the pids of processes long gone).  Run once; the fixture is kept.

set -euo pipefail
cd "$(dirname "$0")/../.."

MODULE=$(readlink -f "${1:?usage: $0 MODULE}")
NGINX=${NGINX:-/usr/sbin/nginx}
OUT=$(mktemp -d)
FIRST=7400000000000000001
export ALIYUN_ACCESS_KEY=fixture-key

PIDS=()
cleanup() {
    [ -s "$OUT/nginx.pid" ] && kill -QUIT "$(cat "$OUT/nginx.pid")" 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 1
    rm -rf "$OUT"
}
trap cleanup EXIT

emulator() {
    python3 "t/emu/$2" --host 127.0.0.1 --port 0 --port-file "$OUT/$1.port" \
        --parent-pid $$ "${@:3}" > "$OUT/$1.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do [ -s "$OUT/$1.port" ] && break; sleep 0.1; done
}
emulator fsgo fsgo.py --root "$OUT/wav"
emulator ds dashscope.py --delay 0.2 --key "$ALIYUN_ACCESS_KEY"
FSGO=http://127.0.0.1:$(cat "$OUT/fsgo.port")
DS=http://127.0.0.1:$(cat "$OUT/ds.port")
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
U=http://127.0.0.1:$PORT

# conf BASE: the config, douyin_audio_base_url BASE (none: file-system-go)
conf() {
    cat > "$OUT/nginx.conf" <<EOF
$([ "$(id -u)" -eq 0 ] && echo "user root;")
worker_processes 1;
error_log $OUT/error.log notice;
pid $OUT/nginx.pid;
load_module $MODULE;
env ALIYUN_ACCESS_KEY;
thread_pool douyin threads=2;
events { worker_connections 256; }
http {
    access_log off;
    douyin_store $OUT/store map_size=64m;
    douyin_filesystem_url $FSGO;
    douyin_asr_url $DS;
    douyin_thread_pool douyin;
    douyin_asr_rate submit=off query=off;
    douyin_asr_batch 100;
    $1
    server {
        listen 127.0.0.1:$PORT;
        location = /api/process { douyin_process; }
        location ~ ^/api/videos/(?<aweme_id>[^/]+)/result\$ { douyin_result \$aweme_id; }
        location ~ ^/api/(?:videos|aweme)/(?<aweme_id>[^/]+)/read\$ { douyin_video_read \$aweme_id; }
        location ~ ^/api/(?:videos|aweme)/(?<aweme_id>[^/]+)/pending\$ { douyin_aweme_pending \$aweme_id; }
        location ~ ^/api/videos/(?<aweme_id>[^/]+)\$ { douyin_video \$aweme_id; }
        location ~ ^/api/aweme/(?<aweme_id>[^/]+)\$ { douyin_video_delete \$aweme_id; }
        location = /api/videos { douyin_videos; }
    }
}
EOF
}

mkdir -p "$OUT/store"
conf ""
"$NGINX" -p "$OUT/" -c "$OUT/nginx.conf"
sleep 1

curl -sf -X POST -d "{\"count\":100,\"seconds\":0.2,\"meta\":true,\"start\":\"$FIRST\"}" \
    "$FSGO/__emu/generate" > /dev/null
curl -sf -X POST -d "{\"count\":40,\"seconds\":0.2,\"start\":\"$((FIRST + 1000))\"}" \
    "$FSGO/__emu/generate" > /dev/null
for i in 5 50 1020; do
    curl -sf -X POST -d "{\"route\":\"file\",\"match\":\"$((FIRST + i)).wav\",\"code\":\"FILE_DOWNLOAD_FAILED\"}" \
        "$DS/__emu/fault" > /dev/null
done
curl -sf -X POST "$U/api/process" > "$OUT/process.json"
grep -q '"success":137,"failed":3' "$OUT/process.json" || { cat "$OUT/process.json"; exit 1; }
for i in 0 7 14 21 28 35 42 49 56 63 1001 1030; do
    curl -sf -X POST -d '{"is_read":true}' "$U/api/videos/$((FIRST + i))/read" > /dev/null
done
for i in 10 11 60 1010; do
    curl -sf -X DELETE "$U/api/aweme/$((FIRST + i))?keep_file=true" > /dev/null
done
curl -sf -X POST -H 'Content-Type: application/json' \
    -d "{\"audio_filename\":\"$((FIRST + 2000)).wav\",\"title\":\"pushed\",\"author\":\"collector\",\"video_publish_time\":\"2026-02-03T04:05:06Z\"}" \
    "$U/api/aweme/$((FIRST + 2000))/pending" > /dev/null

# the bodies, with the public base of the audio
conf "douyin_audio_base_url https://files.example.com;"
kill -HUP "$(cat "$OUT/nginx.pid")"
sleep 2

PATHS=()
for i in 0 1 5 10 99 1000 1039 2000; do
    PATHS+=("/api/videos/$((FIRST + i))/result" "/api/videos/$((FIRST + i))")
done
for q in "" "status=completed&" "status=completed&is_read=false&" \
         "status=read&" "status=failed&" "status=deleted&" "is_read=true&"; do
    for p in 1 2 4 7 8; do
        PATHS+=("/api/videos?${q}page=$p&page_size=20")
    done
    PATHS+=("/api/videos?${q}page=2&page_size=100" "/api/videos?${q}page_size=1000")
done
for p in "${PATHS[@]}"; do
    curl -sf -o "$OUT/body" "$U$p"
    python3 -c 'import hashlib, json, sys
b = open(sys.argv[2], "rb").read()
v = b.decode("utf-8") if len(b) < 2048 else {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)}
print(json.dumps([sys.argv[1], v]))' "$p" "$OUT/body"
done | python3 -c 'import json, sys
print(json.dumps(dict(json.loads(l) for l in sys.stdin), indent=1, sort_keys=True))' \
    > t/data/format2-bodies.json

kill -QUIT "$(cat "$OUT/nginx.pid")"
sleep 2
grep -q '^ format_version$' <(mdb_dump -p -s meta "$OUT/store") || exit 1
: > t/data/format2.dump
for db in by_status by_time feed meta processing videos; do
    mdb_dump -p -s "$db" "$OUT/store" | grep -v '^db_pagesize=' \
        >> t/data/format2.dump
done
echo "made t/data/format2.dump ($(wc -c < t/data/format2.dump) bytes) and" \
     "t/data/format2-bodies.json (${#PATHS[@]} bodies)"
