#!/usr/bin/env bash
# bench/cpu-per-message.sh - server CPU per message as instructions (valgrind --tool=callgrind), immune to the load
# of a shared machine: each server configuration runs under callgrind while tcpload streams to it for a fixed
# window; instructions executed by the whole server process (counted from 2 s after it listens) / messages it received. Prints one line per
# configuration and the ratios to the first. Figures only.
#
#   bench/cpu-per-message.sh TCPTALK_EXE [SECONDS (10)] [CONNS (4)]
#   env HARNESS=DIR (the built shared harness: tcpload, refserver; default artifacts/bench/harness)
#       ONLY="journal no-journal" (which configurations; default all), KEEP=1 (keep the work folder)
set -euo pipefail
EXE=${1:?usage: bench/cpu-per-message.sh TCPTALK_EXE [SECONDS] [CONNS]}
SECS=${2:-10}
CONNS=${3:-4}
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
HARNESS=${HARNESS:-$ROOT/artifacts/bench/harness}
WORK=$(mktemp -d /tmp/tcptalk-cpu.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

measure() {   # measure NAME COMMAND... -> "NAME messages instructions"
    local name=$1; shift
    case " ${ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
    local PORT; PORT=$(free_port)
    local cmd=("${@//\{port\}/$PORT}")
    valgrind --tool=callgrind --callgrind-out-file="$WORK/$name.cg" "${cmd[@]}" >/dev/null 2>"$WORK/$name.err" &
    local pid=$!
    for _ in $(seq 1 1200); do   # valgrind starts slowly: wait up to 120 s for the port
        kill -0 "$pid" 2>/dev/null || { echo "bench/cpu-per-message.sh: $name exited:" >&2; grep -v '^==' "$WORK/$name.err" >&2; return 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.1
    done
    sleep 2
    callgrind_control --zero "$pid" >/dev/null 2>&1   # count from here: startup and the journal's open are not per message
    "$HARNESS/tcpload" --port "$PORT" --mode stream --conns "$CONNS" --duration "$SECS" --drain-s 120 >"$WORK/$name.json" 2>/dev/null
    kill -TERM "$pid"
    wait "$pid" || true
    [ -s "$WORK/$name.json" ] || { echo "bench/cpu-per-message.sh: $name: tcpload printed nothing; server stderr:" >&2; cat "$WORK/$name.err" >&2; }
    local messages ir
    messages=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' "$WORK/$name.json")
    ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$WORK/$name.cg")
    echo "$name $messages $ir"
}

echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg); stream $CONNS x 32 B for $SECS s under callgrind"
{
    measure refserver "$HARNESS/refserver" --port '{port}'
    measure no-journal "$EXE" serve --listen '127.0.0.1:{port}' --no-journal
    measure journal "$EXE" serve --listen '127.0.0.1:{port}' --journal "$WORK/journal.db"
    measure journal-ack "$EXE" serve --listen '127.0.0.1:{port}' --journal "$WORK/journal-ack.db" --ack
} | awk '{ per = $3 / $2; if (NR == 1) { ref = per } if ($1 == "no-journal") { nj = per }
           printf "%-12s %12d msgs %16d instr %9.1f instr/msg %6.2fx refserver%s\n", $1, $2, $3, per, per / ref,
                  (nj && $1 != "no-journal" ? sprintf(" %5.2fx no-journal", per / nj) : "") }'
