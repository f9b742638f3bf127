#!/usr/bin/env bash
# Installs the Debian packages listed in the files given (default
# scripts/debian-packages: everything the build, the tests, make run and
# make bench use; scripts/debian-packages-build: the build alone;
# scripts/debian-packages-run: what make run adds to the build) that are
# missing, saying so first.  Does nothing when all are there.  Needs root
# (or sudo) only when something is missing.
#
#   scripts/deps.sh [LIST...]
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r pkg; do
    [ -n "$pkg" ] || continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
        missing+=("$pkg")
done < <(grep -hv '^#' "${@:-scripts/debian-packages}")

[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing missing Debian packages: ${missing[*]}"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends "${missing[@]}"
