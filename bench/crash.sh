#!/usr/bin/env bash
# bench/crash.sh - the long crash proof of the journal: SIGKILL 'tcptalk serve --journal X --ack' at random moments
# while clients send without pause, restart it on the same journal and port, and check the journal at the end.
#
#   bench/crash.sh                     200 kill/restart cycles (about 4 minutes on 2 shared cores, plus a NativeAOT publish)
#   bench/crash.sh --cycles 20         any bench/crash.py option: --cycles N --clients N --window N --seed N
#                                      --max-run SECONDS --startup-kills SHARE --dir DIR
#
# Prints: cycles, messages sent, acked, stored, acked-but-lost (must be 0), duplicates (must be 0),
# stored-but-unacked (allowed: killed between commit and ack), integrity_check, restart times. Exit status 0 when
# every acknowledged message is in the journal exactly once with its id and text, 1 otherwise.
# The short version of the same proof runs in the test suite: JournalCrashTests.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
OUT=$ROOT/artifacts/bench/crash
for arg in "$@"; do
    case "$arg" in
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    esac
done

# The NativeAOT build, as users install it (dotnet tool install on linux-x64) and as bench/run.sh measures it.
# Publishing is skipped while the build is newer than every source file.
EXE=$OUT/aot/tcptalk
if [ ! -x "$EXE" ] || [ -n "$(find "$ROOT/src" "$ROOT"/Directory.*.props \
        \( -name bin -o -name obj \) -prune -o -type f -newer "$EXE" -print -quit)" ]; then
    echo "bench/crash.sh: building tcptalk (Release, NativeAOT) -> $OUT/aot" >&2
    dotnet publish "$ROOT/src/TcpTalk.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$OUT/aot" -nologo -clp:ErrorsOnly >&2
    touch "$EXE"
fi

mkdir -p "$OUT"
RUN=$(mktemp -d "$OUT/run-XXXXXX")
echo "bench/crash.sh: journal and server logs in $RUN" >&2
exec python3 "$ROOT/bench/crash.py" --tcptalk "$EXE" --dir "$RUN" "$@"
