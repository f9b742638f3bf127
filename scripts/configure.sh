#!/usr/bin/env bash
# Copies the nginx source tree SRC to DEST and configures it to build this
# repository as a dynamic module: with FLAGS, else the flags the packaged
# nginx was built with (SRC/conf_flags, which Debian's nginx-dev ships),
# plus --with-compat --with-threads, any further ARGs (one configure
# option each, e.g. --with-cc-opt='-fsanitize=address'), and
# --add-dynamic-module=<repository>.  The Makefile runs it (quietly, see
# scripts/step.sh).
#
#   scripts/configure.sh SRC DEST [FLAGS [ARG...]]
set -euo pipefail

src=$1 dest=$2 flags=${3:-}
shift $(($# < 3 ? $# : 3))
repo=$(cd "$(dirname "$0")/.." && pwd)

[ -x "$src/configure" ] || {
    echo "configure: $src has no configure script (NGX_SRC; Debian: apt-get install nginx-dev)" >&2
    exit 1
}
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -r "$src" "$dest"
cd "$dest"
if [ -z "$flags" ] && [ -f conf_flags ]; then
    # shellcheck disable=SC1091
    flags=$(. ./conf_flags && echo "${NGX_CONF_FLAGS[@]}")
fi
# word splitting of the flags is meant
# shellcheck disable=SC2086
./configure $flags --with-compat --with-threads "$@" --add-dynamic-module="$repo"
