#!/usr/bin/env bash
# bench/e2e-crash.sh - the end-to-end proof of 'tcptalk send --spool': a producer writes N numbered lines into it
# while, at random moments, 'tcptalk serve --ack' (SQLite journal) is SIGKILLed and restarted, the client itself is
# SIGKILLed and restarted on the same spool, and the network path (a proxy process between them) is killed and
# restarted. Afterwards every line the producer wrote is in the journal at least once (tcptalk messages --json).
#
#   bench/e2e-crash.sh                     20000 lines at 200 a second, 40 faults (about 2 minutes, plus a publish)
#   bench/e2e-crash.sh --lines 5000        any bench/e2e-crash.py option: --lines N --rate N --faults N --seed N
#                                          --min-gap S --max-gap S --max-down S --round-robin --dir DIR
#
# Each fault waits until lines flow end to end again after the last one, so that every fault hits a flowing stream;
# no faults once every line is through. Prints: lines, faults of each kind, stored, lost (must be 0), duplicates
# (allowed: at least once), longest outage (a fault to the next line through), load. Exit status 0 when nothing was lost and the client drained and exited 0, 1 otherwise.
# The short version runs in the test suite: SpoolEndToEndTests.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
OUT=$ROOT/artifacts/bench/e2e-crash
for arg in "$@"; do
    case "$arg" in
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    esac
done

# Publishing is skipped while the build is newer than every source file.
if [ ! -f "$OUT/bin/tcptalk.dll" ] || [ -n "$(find "$ROOT/src" "$ROOT"/Directory.*.props \
        \( -name bin -o -name obj \) -prune -o -type f -newer "$OUT/bin/tcptalk.dll" -print -quit)" ]; then
    echo "bench/e2e-crash.sh: building tcptalk (Release) -> $OUT/bin" >&2
    dotnet publish "$ROOT/src/TcpTalk.Cli" -c Release -o "$OUT/bin" -nologo -clp:ErrorsOnly >&2
fi

mkdir -p "$OUT"
RUN=$(mktemp -d "$OUT/run-XXXXXX")
echo "bench/e2e-crash.sh: spool, journal and logs in $RUN; load: $(uptime)" >&2
exec nice python3 "$ROOT/bench/e2e-crash.py" --tcptalk "dotnet $OUT/bin/tcptalk.dll" --dir "$RUN" "$@"
