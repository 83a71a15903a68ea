#!/usr/bin/env bash
# bench/unix-socket.sh - a unix socket against loopback TCP, same server, same load generator, same run:
# one 'tcptalk serve --no-journal' listening on both 127.0.0.1:PORT and unix:PATH, loaded in turns by
# 'tcptalk bench' (stream mode: messages/s; session mode: connect-greet-send-close sessions/s).
#
#   bench/unix-socket.sh                 5 rounds of each, 5 s per run
#   bench/unix-socket.sh ROUNDS SECONDS
#
# Prints every run, then the medians and the ratio unix/TCP for each mode, and the load (uptime) before and after.
# Session mode over TCP runs on bench's epoll driver, over a unix socket on its async path (the epoll driver builds
# IP socket addresses only), so the session ratio also measures the two client paths; stream mode uses the async
# path for both and compares the transports alone. Figures only: nothing is asserted.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
OUT=$ROOT/artifacts/bench/unix-socket
ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-5}
case "${1:-}" in -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

if [ ! -f "$OUT/bin/tcptalk.dll" ] || [ -n "$(find "$ROOT/src" "$ROOT"/Directory.*.props \
        \( -name bin -o -name obj \) -prune -o -type f -newer "$OUT/bin/tcptalk.dll" -print -quit)" ]; then
    echo "bench/unix-socket.sh: building tcptalk (Release) -> $OUT/bin" >&2
    dotnet publish "$ROOT/src/TcpTalk.Cli" -c Release -o "$OUT/bin" -nologo -clp:ErrorsOnly >&2
fi

RUN=$(mktemp -d)
SOCK=$RUN/talk.sock
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "load before: $(uptime)"
dotnet "$OUT/bin/tcptalk.dll" serve --no-journal --listen "127.0.0.1:$PORT" --listen "unix:$SOCK" >/dev/null 2>"$RUN/serve.log" &
SERVE=$!
trap 'kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null; rm -rf "$RUN"' EXIT
for _ in $(seq 100); do grep -q "Listening on unix:" "$RUN/serve.log" 2>/dev/null && break; sleep 0.1; done

figure() { # mode target field
    dotnet "$OUT/bin/tcptalk.dll" bench "$2" --mode "$1" --duration "${SECONDS_PER_RUN}s" --json \
        2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['$3'])"
}

declare -A runs
for mode in stream session; do
    field=$([ "$mode" = stream ] && echo messages_per_s || echo sessions_per_s)
    for round in $(seq "$ROUNDS"); do
        for target in tcp unix; do
            address=$([ "$target" = tcp ] && echo "127.0.0.1:$PORT" || echo "unix:$SOCK")
            value=$(figure "$mode" "$address" "$field")
            runs[$mode,$target]+="$value "
            echo "round $round $mode $target: $value $field"
        done
    done
done

echo "load after: $(uptime)"
for mode in stream session; do
    python3 - "$mode" "${runs[$mode,tcp]}" "${runs[$mode,unix]}" <<'PY'
import statistics, sys
mode, tcp, unix = sys.argv[1], [float(v) for v in sys.argv[2].split()], [float(v) for v in sys.argv[3].split()]
t, u = statistics.median(tcp), statistics.median(unix)
print(f"{mode}: median tcp {t:,.0f}/s, unix {u:,.0f}/s, unix/tcp {u / t:.2f} ({len(tcp)} rounds each)")
PY
done
