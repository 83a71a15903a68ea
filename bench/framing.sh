#!/usr/bin/env bash
# bench/framing.sh - stream-mode throughput of every --framing beside NUL framing, in one run.
#
#   bench/framing.sh [ROUNDS] [SECONDS]     default: 3 rounds of 3 s per framing
#
# For each round, for each framing (nul line octet u16be u32be, interleaved so every framing sees the same load):
# starts `tcptalk serve --framing F --no-journal` (stdout to /dev/null), runs `tcptalk bench --mode stream
# --connections 4 --message-bytes 32 --framing F --duration S --json` against it, stops the server by its PID.
# Prints the median messages/s of each framing, its ratio to nul, and the load average before and after.
# TCPTALK: the command to run (default: dotnet src/TcpTalk.Cli/bin/Release/net10.0/tcptalk.dll; build it first).
# It prints figures; it never asserts speed.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
ROUNDS=${1:-3}
SECONDS_PER=${2:-3}
read -r -a TCPTALK <<< "${TCPTALK:-dotnet $ROOT/src/TcpTalk.Cli/bin/Release/net10.0/tcptalk.dll}"
FRAMINGS=(nul line octet u16be u32be)
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)  ($(nproc) cores)" >&2
for round in $(seq 1 "$ROUNDS"); do
    for f in "${FRAMINGS[@]}"; do
        "${TCPTALK[@]}" serve --listen 127.0.0.1:0 --no-journal --framing "$f" > /dev/null 2> "$WORK/serve.err" &
        SERVER=$!
        port=""
        for _ in $(seq 1 200); do   # at most 20 s for the server to bind
            port=$(sed -n 's/.*Listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$WORK/serve.err" | head -1)
            [ -n "$port" ] && break
            sleep 0.1
        done
        [ -n "$port" ] || { echo "serve --framing $f did not start: $(cat "$WORK/serve.err")" >&2; exit 1; }
        "${TCPTALK[@]}" bench "127.0.0.1:$port" --mode stream --connections 4 --message-bytes 32 --framing "$f" \
            --duration "${SECONDS_PER}s" --json > "$WORK/$f.$round.json"
        kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
        echo "round $round $f: $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["messages_per_s"]))' "$WORK/$f.$round.json") msg/s" >&2
    done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 - "$WORK" "$ROUNDS" "${FRAMINGS[@]}" <<'PY'
import json, statistics, sys
work, rounds, framings = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
median = {f: statistics.median(json.load(open(f"{work}/{f}.{r}.json"))["messages_per_s"] for r in range(1, rounds + 1)) for f in framings}
print("| framing | median msg/s (stream, 4 connections, 32-byte messages) | ratio to nul |")
print("|---|---|---|")
for f in framings:
    print(f"| {f} | {median[f]:,.0f} | {median[f] / median['nul']:.2f}x |")
PY
