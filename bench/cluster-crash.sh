#!/usr/bin/env bash
# bench/cluster-crash.sh - the cluster's crash proof: acknowledged load through HAProxy into three
# 'tcptalk serve --ack --journal postgres://...' nodes (deploy/cluster/run.sh, on ports of its own), a random node
# SIGKILLed every few seconds and started again, and once the PostgreSQL primary stopped at once and the synchronous
# standby promoted. Afterwards every acknowledged message must be in the database under its id.
#
#   bench/cluster-crash.sh                   60 s of load, a node kill every 4 s, the failover at 30 s
#   bench/cluster-crash.sh --seconds 120     any bench/cluster-crash.py option: --seconds S --kill-every S
#                                            --failover-at S --clients N --window N --seed N --port N --pg-port N --keep
#
# Prints per fault the longest time without acknowledgements, then: faults, sent, acked, stored, lost (must be 0),
# duplicates, stored-but-unacked (allowed), error lines, whether the ids are gapless. Exit status 0 when nothing
# acknowledged is lost. The short version runs in the test suite: ClusterCrashTests.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
OUT=$ROOT/artifacts/bench/cluster-crash
for arg in "$@"; do
    case "$arg" in
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    esac
done
if [ ! -f "$OUT/bin/tcptalk.dll" ] || [ -n "$(find "$ROOT/src" "$ROOT"/Directory.*.props \
        \( -name bin -o -name obj \) -prune -o -type f -newer "$OUT/bin/tcptalk.dll" -print -quit)" ]; then
    echo "bench/cluster-crash.sh: building tcptalk (Release) -> $OUT/bin" >&2
    dotnet publish "$ROOT/src/TcpTalk.Cli" -c Release -o "$OUT/bin" -nologo -clp:ErrorsOnly >&2
fi
mkdir -p "$OUT"
exec nice python3 "$ROOT/bench/cluster-crash.py" --tcptalk "dotnet $OUT/bin/tcptalk.dll" --state "$OUT/state" "$@"
