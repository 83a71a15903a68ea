#!/usr/bin/env bash
# bench/run.sh - the TcpTalk benchmark suite against the C reference server (bench/README.md).
#
#   bench/run.sh            full run: 3 rounds of 5 s per figure; about 3 minutes per variant, plus the builds
#                           when sources changed (9 minutes in all here with 2 variants, 12 with aot-light)
#   bench/run.sh --quick    smoke run: 1 round, 1 s windows, under a minute plus the builds; report in
#                           artifacts/bench/quick/
#
# Builds tcptalk twice (Release, JIT and NativeAOT), builds the shared harness (../shared/bench: tcpload,
# refserver, run.py) in a private copy, then runs every scenario as one run.py invocation that alternates
# tcptalk (A) and refserver (B) round by round, so each tcptalk figure has a reference figure from the same run.
# Writes raw JSON to the results folder and bench/RESULTS.md (artifacts/bench/quick/RESULTS.md with --quick)
# through bench/report.py. It prints figures; it never asserts speed.
#
# Environment knobs (all optional):
#   BENCH_HARNESS=DIR      the harness folder (default: <repo>/../shared/bench)
#   BENCH_FORCE_BUILD=1    publish both builds even when artifacts/bench/{jit,aot}/tcptalk look up to date
#   BENCH_VARIANTS="..."   which tcptalk builds/configurations to run: aot, jit, aot-light, jit-light (default
#                          "aot jit aot-light", to stay under 15 minutes; a *-light variant runs only when it
#                          differs from the default configuration)
#   TCPTALK_LIGHT_ARGS     the lightest serve configuration; see LIGHT HOOK below
set -euo pipefail

QUICK=0
for arg in "$@"; do
    case "$arg" in
        --quick) QUICK=1 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "bench/run.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
HARNESS_SRC=${BENCH_HARNESS:-$ROOT/../shared/bench}
ART=$ROOT/artifacts/bench
AOT_DIR=$ART/aot
JIT_DIR=$ART/jit
HARNESS=$ART/harness
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
if [ "$QUICK" = 1 ]; then
    OUT=$ART/quick/$STAMP
    REPORT=$ART/quick/RESULTS.md
else
    OUT=$ART/results/$STAMP
    REPORT=$ROOT/bench/RESULTS.md
fi
T_START=$(date +%s)

say() { printf '\n== [%4ds] %s\n' $(( $(date +%s) - T_START )) "$*" >&2; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ----------------------------------------------------------------------------------------------- build
# Publishing is skipped while the executable is newer than every source and build file: the JIT and the AOT
# publish pass different global properties to the shared library projects, so an unconditional publish of
# one recompiles them and makes the other relink (about a minute on a busy machine).
stale() {   # stale EXE -> true when EXE is missing or older than a file under src/ or a Directory.* file
    [ ! -x "$1" ] && return 0
    [ -n "$(find "$ROOT/src" "$ROOT"/Directory.*.props "$ROOT/global.json" \
              \( -name bin -o -name obj \) -prune -o -type f -newer "$1" -print -quit)" ]
}
if [ "${BENCH_FORCE_BUILD:-0}" = 1 ] || stale "$JIT_DIR/tcptalk"; then
    say "building tcptalk (Release, JIT) -> $JIT_DIR"
    dotnet publish "$ROOT/src/TcpTalk.Cli" -c Release -o "$JIT_DIR" --nologo -v:q && touch "$JIT_DIR/tcptalk"
fi
if [ "${BENCH_FORCE_BUILD:-0}" = 1 ] || stale "$AOT_DIR/tcptalk"; then
    say "building tcptalk (Release, NativeAOT, linux-x64) -> $AOT_DIR"
    # Needs gcc (or clang), binutils and libc6-dev; the ILCompiler packs come from NuGet (bench/README.md).
    dotnet publish "$ROOT/src/TcpTalk.Cli" -c Release -r linux-x64 -p:PublishAot=true -o "$AOT_DIR" --nologo -v:q && touch "$AOT_DIR/tcptalk"
fi
for exe in "$JIT_DIR/tcptalk" "$AOT_DIR/tcptalk"; do
    [ -x "$exe" ] || { echo "bench/run.sh: $exe is missing (build failed?)" >&2; exit 1; }
done

# --------------------------------------------------------------------------------------------- harness
if [ ! -f "$HARNESS_SRC/run.py" ] || [ ! -f "$HARNESS_SRC/tcpload.c" ]; then
    echo "bench/run.sh: the shared benchmark harness is not at $HARNESS_SRC (set BENCH_HARNESS=DIR);" \
         "tcptalk was built, no benchmark was run." >&2
    exit 0
fi
# shared/ is read-only and shared by everyone, so make runs in a private copy (cp -u keeps it up to date).
say "building the harness from $HARNESS_SRC in $HARNESS"
mkdir -p "$HARNESS"
cp -pu "$HARNESS_SRC"/*.c "$HARNESS_SRC"/Makefile "$HARNESS_SRC"/run.py "$HARNESS/"
make -s -C "$HARNESS"
mkdir -p "$OUT"
REF="$HARNESS/refserver --port {port}"
RUNPY=(python3 "$HARNESS/run.py")

# Hold mode keeps 15000 sockets in each of tcpload and the server.
HOLD_CONNS=15000
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((HOLD_CONNS + 256)) ]; then
    HOLD_CONNS=$(( $(ulimit -n) - 256 ))
    echo "bench/run.sh: open-file limit $(ulimit -n): hold mode uses $HOLD_CONNS connections" >&2
fi

# ------------------------------------------------------------------------------------------ variants
# LIGHT HOOK: the lightest serve configuration. Today the defaults (NUL framing, UTF-8, no journal yet) are
# already the lightest, so *-light runs are skipped. Once 'tcptalk serve --no-journal' exists it is picked up
# from --help automatically; TCPTALK_LIGHT_ARGS overrides (e.g. TCPTALK_LIGHT_ARGS="--no-journal").
# The default configuration stores every message in the journal; keep that file with this run's results.
DEFAULT_ARGS=${TCPTALK_DEFAULT_ARGS:---journal $OUT/journal.db}
if [ -z "${TCPTALK_LIGHT_ARGS+x}" ]; then
    TCPTALK_LIGHT_ARGS=""
    if "$AOT_DIR/tcptalk" serve --help 2>/dev/null | grep -- '--no-journal' >/dev/null; then
        TCPTALK_LIGHT_ARGS="--no-journal"
    fi
fi
VARIANTS=${BENCH_VARIANTS:-aot jit aot-light}

serve_cmd() {   # serve_cmd VARIANT [EXTRA ARGS] -> the server command template for run.py
    local v=$1 extra=${2:-} exe args=$DEFAULT_ARGS
    case "$v" in
        aot*) exe=$AOT_DIR/tcptalk ;;
        jit*) exe=$JIT_DIR/tcptalk ;;
    esac
    [[ $v == *-light ]] && args=$TCPTALK_LIGHT_ARGS
    echo "$exe serve --listen 127.0.0.1:{port}${args:+ $args}${extra:+ $extra}"
}
ACTIVE=()
for v in $VARIANTS; do
    if [[ $v == *-light ]] && [ "$(serve_cmd "$v")" = "$(serve_cmd "${v%-light}")" ]; then
        echo "bench/run.sh: skipping $v: the lightest configuration is the default one" \
             "(no --no-journal yet; set TCPTALK_LIGHT_ARGS)" >&2
        continue
    fi
    ACTIVE+=("$v")
done

# ------------------------------------------------------------------------------------------ settings
if [ "$QUICK" = 1 ]; then
    ROUNDS=1; DUR=1; HOLD_DUR=2; STARTUP_RUNS=3; SEND_RUNS=5
else
    ROUNDS=3; DUR=5; HOLD_DUR=6; STARTUP_RUNS=20; SEND_RUNS=40
fi
HOLD_SOURCES=127.0.0.1..127.0.0.8   # several source addresses: each has its own ephemeral port space

cat > "$OUT/meta.json" <<EOF
{"quick": $QUICK, "stamp": "$STAMP", "rounds": $ROUNDS, "duration_s": $DUR, "hold_duration_s": $HOLD_DUR,
 "hold_conns": $HOLD_CONNS, "hold_sources": "$HOLD_SOURCES", "variants": "${ACTIVE[*]}",
 "default_args": "$DEFAULT_ARGS", "light_args": "$TCPTALK_LIGHT_ARGS",
 "commit": "$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src || echo +dirty)",
 "harness": "$HARNESS_SRC", "loadavg_start": "$(loadavg)"}
EOF

# ------------------------------------------------------------------------------------------ scenarios
run_py() {   # run_py NAME VARIANT RUN.PY-ARGS...   (SERVE_EXTRA: extra serve arguments for this scenario)
    local name=$1 v=$2; shift 2
    say "$name, tcptalk $v vs refserver (load average $(loadavg))"
    "${RUNPY[@]}" --server "$(serve_cmd "$v" "${SERVE_EXTRA:-}")" --vs "$REF" --rounds "$ROUNDS" \
        --json "$OUT/$name-$v.json" "$@" || echo "bench/run.sh: $name-$v had failed rounds (see the JSON)" >&2
}

for v in "${ACTIVE[@]}"; do
    run_py session64 "$v" --mode session --conns 64 --duration "$DUR"
    run_py session1000 "$v" --mode session --conns 1000 --duration "$DUR"
    run_py stream4 "$v" --mode stream --conns 4 --msg-size 32 --duration "$DUR"
    # 15000 held connections are past serve's default --max-connections (10000): lift it for this scenario.
    SERVE_EXTRA="--max-connections 0" run_py hold "$v" --mode hold --conns "$HOLD_CONNS" --duration "$HOLD_DUR" --sources "$HOLD_SOURCES"
done

# Startup to first greeting and idle RSS (the base that hold mode's RSS per connection subtracts).
say "startup and idle RSS"
READY_ARGS=(refserver="$REF")
for v in "${ACTIVE[@]}"; do READY_ARGS+=("$v=$(serve_cmd "$v")"); done
python3 "$ROOT/bench/startup.py" ready --runs "$STARTUP_RUNS" --json "$OUT/ready.json" "${READY_ARGS[@]}"

# Whole 'tcptalk send' processes against refserver; tcpload --total 1 does the same session in C.
say "tcptalk send wall time"
python3 "$ROOT/bench/startup.py" send --runs "$SEND_RUNS" --json "$OUT/send.json" --server "$REF" \
    tcpload="$HARNESS/tcpload --port {port} --mode session --conns 1 --total 1 --msg-size 16" \
    aot="$AOT_DIR/tcptalk send 127.0.0.1:{port} hello" \
    jit="$JIT_DIR/tcptalk send 127.0.0.1:{port} hello"

T_END=$(date +%s)
python3 - "$OUT/meta.json" "$(loadavg)" $((T_END - T_START)) <<'EOF'
import json, sys
p = sys.argv[1]
m = json.load(open(p))
m["loadavg_end"], m["wall_s"] = sys.argv[2], int(sys.argv[3])
json.dump(m, open(p, "w"), indent=1)
EOF

say "report"
python3 "$ROOT/bench/report.py" "$OUT" --out "$REPORT"
if [ "$QUICK" = 0 ]; then
    # Keep the raw figures of the last full run beside RESULTS.md, so the report can be checked and regenerated.
    rm -rf "$ROOT/bench/results" && cp -r "$OUT" "$ROOT/bench/results"
fi
echo "bench/run.sh: $((T_END - T_START)) s; raw JSON in $OUT; report in $REPORT" >&2
