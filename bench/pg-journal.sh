#!/usr/bin/env bash
# The PostgreSQL journal's append rate beside a raw binary COPY of the same rows into the same database in the same
# run (goal: journal >= 0.5x raw COPY), without and with a synchronous standby. Medians of 3 short rounds; the
# machine's load average is printed with each run. Starts its own PostgreSQL (Debian's binaries, initdb'd into a temp
# folder as the postgres user, on free loopback ports) and removes it afterwards. Prints figures; asserts nothing.
#   bench/pg-journal.sh [--seconds S] [--rounds N] [--nodes N] [--appenders N] [--batch MESSAGES_PER_APPEND] [--size BYTES]
# Default: 64 appenders (connections) each appending 100 messages of 64 bytes at a time, as streaming clients do.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=${TMPDIR:-/tmp}/tcptalk-pg-bench
dotnet build bench/TcpTalk.Journal.Postgres.Bench -c Release -o "$out" -nologo -clp:ErrorsOnly >/dev/null
echo "== without a standby"
dotnet "$out/TcpTalk.Journal.Postgres.Bench.dll" "$@"
echo "== with a synchronous standby (synchronous_commit=on)"
dotnet "$out/TcpTalk.Journal.Postgres.Bench.dll" --standby "$@"
