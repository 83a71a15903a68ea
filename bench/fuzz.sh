#!/usr/bin/env bash
# bench/fuzz.sh - coverage-guided fuzzing of the parsers a peer or a user reaches (fuzz/TcpTalk.Fuzz), with AFL++
# and SharpFuzz.
#
#   bench/fuzz.sh --minutes 5                  every target (framer, text, reply, inputs, proxy, batchrow) for 5 minutes each
#   bench/fuzz.sh --minutes 10 --target framer --target reply
#
# Installs afl++ with apt when afl-fuzz is missing and SharpFuzz.CommandLine as a local dotnet tool
# (artifacts/fuzz/tools, not global); publishes the fuzz project, instruments TcpTalk.Protocol.dll and
# TcpTalk.Client.dll with sharpfuzz, runs afl-fuzz per target from its seeds (fuzz/corpus/<target>), one target at
# a time (the machine has 2 shared cores; first a crash check proves AFL sees a target's exception), and prints per target: executions, execs/s, corpus entries found,
# crashes and hangs. Crashing and hanging inputs are copied to artifacts/fuzz/results/<target>/ and replayed through
# an uninstrumented build to show the exception. A crash fixed in src gets its input saved under
# fuzz/regressions/<target>/, which the regular suite replays (tests/TcpTalk.Fuzz.Tests).
# Exit status: 0 when no target crashed, 1 otherwise, 2 on usage errors.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
ART=$ROOT/artifacts/fuzz
ALL_TARGETS=(framer text reply inputs proxy batchrow)
SHARPFUZZ_VERSION=2.3.0

MINUTES=
TARGETS=()
while [ $# -gt 0 ]; do
    case $1 in
        --minutes) MINUTES=${2:-}; shift 2 ;;
        --target) TARGETS+=("${2:-}"); shift 2 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if ! [[ "$MINUTES" =~ ^[0-9]+$ ]] || [ "$MINUTES" -lt 1 ]; then
    echo "fuzz.sh: give --minutes N (whole minutes per target, at least 1)" >&2
    exit 2
fi
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (${ALL_TARGETS[*]})" >&2; exit 2; }
done

if ! command -v afl-fuzz >/dev/null; then
    echo "fuzz.sh: installing afl++ (apt)" >&2
    SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get install -y afl++ >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y afl++ >/dev/null; }
fi

SHARPFUZZ=$ART/tools/sharpfuzz
if [ ! -x "$SHARPFUZZ" ]; then
    dotnet tool install SharpFuzz.CommandLine --version "$SHARPFUZZ_VERSION" --tool-path "$ART/tools" >/dev/null
fi

# A fresh publish every run: sharpfuzz rewrites the assemblies in place and refuses to instrument twice.
rm -rf "$ART/bin"
dotnet publish "$ROOT/fuzz/TcpTalk.Fuzz" -c Release -o "$ART/bin" -v quiet -nologo >/dev/null
for dll in TcpTalk.Protocol.dll TcpTalk.Client.dll TcpTalk.Journal.dll; do
    # The tool targets an older runtime than the SDK here; let it roll forward.
    DOTNET_ROLL_FORWARD=Major "$SHARPFUZZ" "$ART/bin/$dll" >/dev/null
done
# Replays (to show a crash's exception) use the ordinary build: no coverage map needed.
dotnet build "$ROOT/fuzz/TcpTalk.Fuzz" -c Release -v quiet -nologo >/dev/null
REPLAY=$ROOT/fuzz/TcpTalk.Fuzz/bin/Release/net10.0/TcpTalk.Fuzz.dll

export AFL_SKIP_BIN_CHECK=1                       # the target is 'dotnet', which afl-cc did not compile
export AFL_SKIP_CPUFREQ=1                         # VMs have no cpufreq governor to check
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1    # core_pattern pipes to a handler here
export AFL_NO_AFFINITY=1                          # the 2 cores are shared; do not pin
export AFL_NO_UI=1
export AFL_FORKSRV_INIT_TMOUT=60000               # the runtime's start-up and JIT on a loaded machine
export AFL_TRY_AFFINITY=0

DOTNET=$(command -v dotnet)

# First prove that AFL sees a target's exceptions as crashes (else "0 crashes" would mean nothing): the dry run
# over a seed that makes the crash-check target throw must stop with "results in a crash".
CHECK=$ART/crash-check
rm -rf "$CHECK"; mkdir -p "$CHECK/in"; printf crash > "$CHECK/in/crash"
timeout -s INT --kill-after=30 300 afl-fuzz -i "$CHECK/in" -o "$CHECK/out" -V 10 -t 10000 -m none \
    -- "$DOTNET" "$ART/bin/TcpTalk.Fuzz.dll" crash-check > "$CHECK/afl.log" 2>&1 || true
if grep -q "results in a crash" "$CHECK/afl.log"; then
    echo "fuzz.sh: crash check passed: afl-fuzz reports a target's exception as a crash" >&2
else
    echo "fuzz.sh: crash check FAILED: afl-fuzz did not see the crash-check target's exception; the end of $CHECK/afl.log:" >&2
    tail -20 "$CHECK/afl.log" >&2
    exit 1
fi

stat() { sed -n "s/^$1 *: *//p" "$2" | head -1; }
CRASHED=0
SUMMARY=$ART/summary.txt
{
    echo "fuzz.sh $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src fuzz || echo ' plus uncommitted changes'), $MINUTES min per target, afl++ $(afl-fuzz -h 2>&1 | sed -n 's/.*afl-fuzz++\([0-9a-z.]*\).*/\1/p' | head -1), SharpFuzz $SHARPFUZZ_VERSION"
    printf '%-8s %12s %9s %8s %8s %7s %6s\n' target executions execs/s corpus found crashes hangs
} > "$SUMMARY"
for t in "${TARGETS[@]}"; do
    OUT=$ART/findings/$t
    rm -rf "$OUT"; mkdir -p "$ART/findings"
    echo "fuzz.sh: fuzzing '$t' for $MINUTES min" >&2
    # -V stops afl-fuzz after the time; timeout is the backstop should it not.
    timeout -s INT --kill-after=30 $((MINUTES * 60 + 120)) \
        afl-fuzz -i "$ROOT/fuzz/corpus/$t" -o "$OUT" -V $((MINUTES * 60)) -t 5000 -m none \
        -- "$DOTNET" "$ART/bin/TcpTalk.Fuzz.dll" "$t" > "$ART/afl-$t.log" 2>&1 || true
    STATS=$OUT/default/fuzzer_stats
    if [ ! -f "$STATS" ]; then
        echo "fuzz.sh: afl-fuzz did not start for '$t'; the end of $ART/afl-$t.log:" >&2
        tail -20 "$ART/afl-$t.log" >&2
        CRASHED=1
        continue
    fi
    crashes=$(stat saved_crashes "$STATS"); crashes=${crashes:-$(stat unique_crashes "$STATS")}
    hangs=$(stat saved_hangs "$STATS"); hangs=${hangs:-$(stat unique_hangs "$STATS")}
    corpus=$(stat corpus_count "$STATS"); corpus=${corpus:-$(stat paths_total "$STATS")}
    found=$(stat corpus_found "$STATS"); found=${found:-$(stat paths_found "$STATS")}
    printf '%-8s %12s %9s %8s %8s %7s %6s\n' "$t" "$(stat execs_done "$STATS")" "$(stat execs_per_sec "$STATS")" \
        "$corpus" "$found" "$crashes" "$hangs" >> "$SUMMARY"
    RESULTS=$ART/results/$t
    rm -rf "$RESULTS"
    for kind in crashes hangs; do
        for f in "$OUT/default/$kind"/id:*; do
            [ -f "$f" ] || continue
            mkdir -p "$RESULTS/$kind"
            cp "$f" "$RESULTS/$kind/"
            [ "$kind" = crashes ] && CRASHED=1
        done
    done
done

cat "$SUMMARY"
for t in "${TARGETS[@]}"; do
    for f in "$ART/results/$t"/crashes/* "$ART/results/$t"/hangs/*; do
        [ -f "$f" ] || continue
        echo
        echo "== $t: $f"
        od -A d -t x1z "$f" | head -8
        timeout 60 dotnet "$REPLAY" "$t" "$f" | head -12 || true
    done
done
echo "fuzz.sh: summary in $SUMMARY, findings in $ART/findings, crashing inputs in $ART/results" >&2
exit $CRASHED
