#!/bin/sh
# nginx-version.sh            prints the nginx of this image: `nginx -v`
#                             and the Debian package version
# nginx-version.sh check FILE fails, loudly, unless they are FILE's
#
# The module is compiled against nginx-dev in the build stage and loaded
# by nginx in the runtime stage: both must be the same nginx, to the
# Debian revision.  The build stage records its nginx with the first form
# (and checks that nginx-dev is the same version as nginx there); the
# runtime stage compares with the second.  They differ when the two
# stages' apt-get update saw different bookworm updates (a cached build
# layer): rebuild with --no-cache (docker-compose build --no-cache).
set -eu

die() { echo "nginx-version: $*" >&2; exit 1; }

version() {
    nginx -v 2>&1
    dpkg-query -W -f='nginx ${Version}\n' nginx
}

case ${1:-} in
"")
    if dev=$(dpkg-query -W -f='${Version}' nginx-dev 2>/dev/null) &&
       [ -n "$dev" ]
    then
        bin=$(dpkg-query -W -f='${Version}' nginx)
        [ "$dev" = "$bin" ] ||
            die "nginx-dev $dev is not the version of nginx $bin"
    fi
    version
    ;;
check)
    [ -r "${2:-}" ] || die "check: no record file '${2:-}'"
    here=$(version)
    built=$(cat "$2")
    if [ "$here" != "$built" ]; then
        echo "nginx-version: the module was built for:" >&2
        echo "$built" >&2
        echo "nginx-version: but this image has:" >&2
        echo "$here" >&2
        die "nginx versions differ; rebuild without cache"
    fi
    echo "nginx-version: $here" | tr '\n' ' '
    echo
    ;;
*)
    die "usage: nginx-version.sh [check FILE]"
    ;;
esac
