#!/usr/bin/env bash
# bench/ack.sh - acknowledged streaming against plain streaming, in the same run: refserver's plain stream rate
# (tcpload, 4 x 32 B) and `tcptalk bench --mode stream --ack` against `tcptalk serve --ack` (Full durability: an ack
# is sent after the commit's fsync), alternating over the rounds; then one more ack round with strace counting the
# server's fsync/fdatasync calls (strace slows the server, so that round gives fsyncs per second and per 1000 acks,
# not the rate). Medians; figures only.
# Both servers print every message into a file, where shared/bench/run.py puts it (/dev/shm when writable; the issue's
# refserver figure, "prints each message", is run.py's); refserver printing into /dev/null is shown beside it for the
# record (its writes then cost nothing, and it runs about 3x faster than any server that keeps what it prints).
#
#   bench/ack.sh TCPTALK_EXE [ROUNDS (3)] [SECONDS (5)]
#   env HARNESS=DIR (tcpload, refserver; default artifacts/bench/harness), JOURNAL_DIR (default a temp folder on disk)
set -euo pipefail
EXE=${1:?usage: bench/ack.sh TCPTALK_EXE [ROUNDS] [SECONDS]}
ROUNDS=${2:-3}
SECS=${3:-5}
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
HARNESS=${HARNESS:-$ROOT/artifacts/bench/harness}
WORK=$(mktemp -d "${JOURNAL_DIR:-/var/tmp}/tcptalk-ack.XXXXXX")
OUTDIR=$WORK; [ -w /dev/shm ] && OUTDIR=$(mktemp -d /dev/shm/tcptalk-ack.XXXXXX)
trap 'rm -rf "$WORK"; [ "$OUTDIR" = "$WORK" ] || rm -rf "$OUTDIR"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d" + sys.argv[2]))' "$@"; }

echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds x $SECS s, 4 connections, 32 B"
ref=() refnull=() acks=() p50=() p99=()
refserver_round() {   # refserver_round STDOUT -> refserver's plain stream msgs/s, printing into STDOUT
    local port pid
    port=$(free_port)
    taskset -c 0 "$HARNESS/refserver" --port "$port" >"$1" & pid=$!
    wait_port "$port"
    taskset -c 1 "$HARNESS/tcpload" --port "$port" --mode stream --conns 4 --msg-size 32 --duration "$SECS" >"$WORK/ref.json" 2>/dev/null
    kill -INT "$pid"; wait "$pid" || true
    field "$WORK/ref.json" '["messages_per_s"]'
}
for round in $(seq 1 "$ROUNDS"); do
    ref+=("$(refserver_round "$OUTDIR/ref.out")"); rm -f "$OUTDIR/ref.out"
    refnull+=("$(refserver_round /dev/null)")

    port=$(free_port)
    rm -f "$WORK"/j.db*
    taskset -c 0 "$EXE" serve --listen "127.0.0.1:$port" --journal "$WORK/j.db" --ack >"$OUTDIR/serve.out" 2>"$WORK/serve.err" & pid=$!
    wait_port "$port"
    taskset -c 1 "$EXE" bench "127.0.0.1:$port" --mode stream --ack --connections 4 --message-bytes 32 --duration "${SECS}s" --json >"$WORK/ack.json" 2>/dev/null
    kill -TERM "$pid"; wait "$pid" || true
    rm -f "$OUTDIR/serve.out"
    acks+=("$(field "$WORK/ack.json" '["acks_per_s"]')")
    p50+=("$(field "$WORK/ack.json" '["ack_latency_us"]["p50"]')")
    p99+=("$(field "$WORK/ack.json" '["ack_latency_us"]["p99"]')")
    echo "round $round: refserver stream ${ref[-1]} msgs/s (into /dev/null: ${refnull[-1]}); serve --ack ${acks[-1]} acks/s (p50 ${p50[-1]} us, p99 ${p99[-1]} us)"
done

# The fsync round: strace -c on every thread of the server, for the same window.
port=$(free_port)
rm -f "$WORK"/j.db*
taskset -c 0 "$EXE" serve --listen "127.0.0.1:$port" --journal "$WORK/j.db" --ack >/dev/null 2>"$WORK/serve.err" & pid=$!
wait_port "$port"
strace -f -c -e trace=fsync,fdatasync -o "$WORK/strace.txt" -p "$pid" 2>/dev/null & tracer=$!
sleep 0.5
taskset -c 1 "$EXE" bench "127.0.0.1:$port" --mode stream --ack --connections 4 --duration "${SECS}s" --json >"$WORK/traced.json" 2>/dev/null
kill -INT "$tracer"; wait "$tracer" || true
kill -TERM "$pid"; wait "$pid" || true
fsyncs=$(awk '$NF ~ /^f(data)?sync$/ { n += $4 } END { print n + 0 }' "$WORK/strace.txt")
traced_acks=$(field "$WORK/traced.json" '["acks"]')
traced_s=$(field "$WORK/traced.json" '["elapsed_s"]')

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
R=$(median "${ref[@]}"); A=$(median "${acks[@]}"); RN=$(median "${refnull[@]}")
awk -v r="$R" -v rn="$RN" -v a="$A" -v p50="$(median "${p50[@]}")" -v p99="$(median "${p99[@]}")" -v f="$fsyncs" -v n="$traced_acks" -v s="$traced_s" 'BEGIN {
    printf "median: refserver plain stream %.0f msgs/s; serve --ack %.0f acks/s = %.2fx refserver (goal >= 0.25x); ack latency p50 %.1f ms, p99 %.1f ms\n", r, a, a / r, p50 / 1000, p99 / 1000
    printf "        refserver printing into /dev/null: %.0f msgs/s (serve --ack = %.2fx of that)\n", rn, a / rn
    printf "fsync round (under strace): %d fsync/fdatasync calls in %.1f s = %.0f fsyncs/s for %d acks = %.2f fsyncs per 1000 acks\n", f, s, f / s, n, n ? 1000 * f / n : 0
}'
