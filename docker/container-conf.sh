#!/bin/sh
# container-conf.sh SRC DEST
#
# Makes the image's nginx configs from the repository's (SRC = conf/):
# nginx.conf (the service, 8093) and nginx-gateway.conf (the gateway,
# 8010) with two changes for a container, and douyin-gateway.conf as is.
#   - `user www-data;`: the master runs as root (it creates the store
#     folder and gives it to the workers' user, as on a host); the workers,
#     which do all the work, run as www-data.
#   - error_log goes to stderr, so `docker logs` has it.
# The pid file stays in /run (the master is root).  `daemon off;` comes
# from the image's command line.  Fails if a change cannot be made.
set -eu

src=$1
dest=$2

die() { echo "container-conf: $*" >&2; exit 1; }

mkdir -p "$dest"

for f in nginx.conf nginx-gateway.conf; do
    [ -r "$src/$f" ] || die "no $src/$f"
    {
        echo "# The image's $f: made from conf/$f by docker/container-conf.sh."
        grep -q '^[[:space:]]*user[[:space:]]' "$src/$f" || echo "user www-data;"
        sed 's|^\([[:space:]]*error_log[[:space:]][[:space:]]*\)[^[:space:];]*|\1stderr|' \
            "$src/$f"
    } > "$dest/$f"
    grep -q '^[[:space:]]*error_log[[:space:]][[:space:]]*stderr[[:space:];]' \
        "$dest/$f" || die "$f: no error_log to send to stderr"
done

cp "$src/douyin-gateway.conf" "$dest/douyin-gateway.conf"
