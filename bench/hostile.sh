#!/usr/bin/env bash
# bench/hostile.sh - hostile peers at the scale of the hardening issue, against the NativeAOT build.
#
#   bench/hostile.sh                       every case (about 6 minutes; half-open alone waits out the 170 s of
#                                          default keepalive)
#   bench/hostile.sh --quick               smaller counts, shorter windows, half-open with a 2 s keepalive (about 2 minutes);
#                                          the slowloris p99 ratio is printed, not checked (too few samples)
#   bench/hostile.sh --case slowloris      one case (repeatable): oversized slowloris flood reset never-reads
#                                          half-open tls denied proxy fd
#   bench/hostile.sh --json FILE           also write the figures as JSON
#
# Prints one line of figures per case, measured in the same run (e.g. the normal client's p99 alone and beside
# 1000 slowloris connections, and their ratio). It asserts nothing about speed; a case whose invariant did not
# hold (a record stored, a limit not held, a peer not closed) prints CHECK FAILED and the exit status is 1.
# Needs python3, ss and ip (iproute2); half-open needs root (network namespaces); taskset pins the server to core 0.
# The short versions of every case are tests in the suite: see the "Hostile peers" table in docs/RELIABILITY.md.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
for arg in "$@"; do
    case "$arg" in
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    esac
done

AOT=$ROOT/artifacts/aot/tcptalk
JIT=$ROOT/artifacts/bench/hostile/jit/tcptalk.dll
newer() { [ -n "$(find "$ROOT/src" "$ROOT"/Directory.*.props \( -name bin -o -name obj \) -prune -o -type f -newer "$1" -print -quit)" ]; }
if [ ! -x "$AOT" ] || newer "$AOT"; then
    echo "bench/hostile.sh: publishing the NativeAOT build -> $AOT" >&2
    dotnet publish "$ROOT/src/TcpTalk.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$ROOT/artifacts/aot" -nologo -clp:ErrorsOnly >&2
fi
if [ ! -f "$JIT" ] || newer "$JIT"; then
    echo "bench/hostile.sh: publishing the JIT build -> $(dirname "$JIT")" >&2
    dotnet publish "$ROOT/src/TcpTalk.Cli" -c Release -o "$(dirname "$JIT")" -nologo -clp:ErrorsOnly >&2
fi
exec python3 "$ROOT/bench/hostile.py" --tcptalk "$AOT" --jit "dotnet $JIT" "$@"
