#!/usr/bin/env bash
# One quiet step of the build: prints "LABEL ... ok (N s)" and keeps what
# COMMAND says in LOG (written anew).  When COMMAND fails, prints the end
# of LOG and where the whole of it is, and exits with COMMAND's status.
# V=1 shows the output as it comes (and still keeps it in LOG).
#
#   scripts/step.sh LOG LABEL COMMAND [ARG...]
set -uo pipefail

[ $# -ge 3 ] || { echo "usage: $0 LOG LABEL COMMAND [ARG...]" >&2; exit 2; }
log=$1 label=$2
shift 2

mkdir -p "$(dirname "$log")"
printf '%s ... ' "$label"
start=$SECONDS
if [ "${V:-0}" = 1 ]; then
    echo
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
else
    "$@" >"$log" 2>&1
    rc=$?
fi
took=$((SECONDS - start))

if [ "$rc" -eq 0 ]; then
    echo "ok ($took s)"
    exit 0
fi

echo "FAILED ($took s)"
echo "--- the last 40 lines of $log:"
tail -n 40 "$log"
echo "--- the whole output is in $log"
exit "$rc"
