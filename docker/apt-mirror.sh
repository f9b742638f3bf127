#!/bin/sh
# apt-mirror.sh [MIRROR [FILE]]
#
# Points apt at a Debian mirror, for image builds where the default one is
# slow (mainland China: mirrors.aliyun.com, mirrors.tuna.tsinghua.edu.cn).
# MIRROR is a host name (http:// is used: apt checks the archive's
# signatures, and a slim image has no CA certificates yet) or a URL
# http(s)://host[:port][/path].  Every "URIs:" line of FILE (default: the
# deb822 sources of Debian 12 images) gets MIRROR as its scheme and host;
# the path (/debian, /debian-security) stays.  No MIRROR: nothing changes.
set -eu

mirror=${1:-}
file=${2:-/etc/apt/sources.list.d/debian.sources}

[ -n "$mirror" ] || exit 0

die() { echo "apt-mirror: $*" >&2; exit 1; }

case $mirror in
    *[!A-Za-z0-9.:/_-]*) die "'$mirror' is not a host name or URL" ;;
    http://?*|https://?*) base=${mirror%/} ;;
    *://*) die "'$mirror': only http:// and https:// mirrors" ;;
    *) base=http://${mirror%/} ;;
esac

grep -q '^URIs:' "$file" || die "$file has no URIs: line"
sed -i "s|^URIs:[[:space:]]*[a-z]*://[^/[:space:]]*|URIs: $base|" "$file"
echo "apt-mirror: $(grep '^URIs:' "$file" | tr '\n' ' ')"
