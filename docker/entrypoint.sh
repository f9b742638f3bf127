#!/bin/sh
# douyin-entrypoint: sets the service URLs of the image's nginx configs
# from the environment (.env), then runs the command (nginx).
#
#   DOUYIN_FILESYSTEM_URL  -> douyin_filesystem_url  (file-system-go, internal)
#   DOUYIN_AUDIO_BASE_URL  -> douyin_audio_base_url  (file-system-go, public)
#   DOUYIN_ASR_URL         -> douyin_asr_url         (DashScope)
#   DOUYIN_FILESYSTEM_API  -> douyin_filesystem_api  (1.5 or 2)
#   DOUYIN_SSL_VERIFY      -> douyin_ssl_verify      (on or off)
#   DOUYIN_PUBLIC_URL      -> douyin_public_url      (the feed's links)
#
# A variable unset or empty leaves the config's value.  The directive's
# line is rewritten in every file of DOUYIN_NGINX_CONFS (default: the
# service's and the gateway's config), so a restart with new values
# takes them.  A value that is not a plain http(s) URL stops the start.
#
# One nginx per store: before nginx starts, a lock on a file of the store
# volume is taken, and nginx keeps it (file descriptor 9) while it runs.
# A second container on the same volume (the other variant, say) waits
# until the first one stops: two would take each other's videos over.
set -eu

confs=${DOUYIN_NGINX_CONFS:-/etc/nginx/nginx.conf /etc/nginx/nginx-gateway.conf}
lock=${DOUYIN_STORE_LOCK:-/var/lib/nginx/douyin/.nginx.lock}

die() { echo "douyin-entrypoint: $*" >&2; exit 1; }

# set_url DIRECTIVE VARIABLE: DIRECTIVE takes the value of VARIABLE
set_url() {
    eval "value=\${$2:-}"
    [ -n "$value" ] || return 0

    case $value in
        *[!]A-Za-z0-9._~:/@%+=[-]*) die "$2: '$value' has a character a URL here cannot have" ;;
        http://?*|https://?*) ;;
        *) die "$2: '$value' is not an http:// or https:// URL" ;;
    esac

    found=
    for conf in $confs; do
        [ -f "$conf" ] || continue
        grep -q "^[[:space:]]*$1[[:space:]]" "$conf" ||
            die "$conf has no $1 line to set from $2"
        sed -i "s|^\([[:space:]]*$1[[:space:]][[:space:]]*\)[^;]*;|\1$value;|" "$conf"
        found=yes
    done
    [ -n "$found" ] || die "none of the configs is there: $confs"
}

# set_word DIRECTIVE VARIABLE WORD...: DIRECTIVE takes the value of
# VARIABLE, one of the WORDs
set_word() {
    directive=$1
    variable=$2
    shift 2
    eval "value=\${$variable:-}"
    [ -n "$value" ] || return 0

    ok=
    for word in "$@"; do
        [ "$value" = "$word" ] && ok=yes
    done
    [ -n "$ok" ] || die "$variable: '$value' is not one of: $*"

    found=
    for conf in $confs; do
        [ -f "$conf" ] || continue
        grep -q "^[[:space:]]*${directive}[[:space:]]" "$conf" ||
            die "$conf has no $directive line to set from $variable"
        sed -i "s|^\([[:space:]]*${directive}[[:space:]][[:space:]]*\)[^;]*;|\1$value;|" "$conf"
        found=yes
    done
    [ -n "$found" ] || die "none of the configs is there: $confs"
}

set_url douyin_filesystem_url DOUYIN_FILESYSTEM_URL
set_url douyin_audio_base_url DOUYIN_AUDIO_BASE_URL
set_url douyin_asr_url DOUYIN_ASR_URL
set_word douyin_filesystem_api DOUYIN_FILESYSTEM_API 1.5 2
set_word douyin_ssl_verify DOUYIN_SSL_VERIFY on off
set_url douyin_public_url DOUYIN_PUBLIC_URL

if [ "${1:-}" = nginx ]; then
    exec 9>>"$lock"
    if ! flock -n 9; then
        echo "douyin-entrypoint: another nginx runs on this store ($lock);" \
             "waiting for it to stop" >&2
        flock 9
    fi
fi

exec "$@"
