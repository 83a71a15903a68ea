#!/usr/bin/env bash
# The PostgreSQL journal's append rate beside a raw binary COPY of the same rows into the same database in the same
# run (goal: journal >= 0.5x raw COPY), without and with a synchronous standby. Medians of 3 short rounds; the
# machine's load average is printed with each run. Starts its own PostgreSQL (Debian's binaries, initdb'd into a temp
# folder as the postgres user, on free loopback ports) and removes it afterwards. Prints figures; asserts nothing.
#   bench/pg-journal.sh [library|serve|all] [--seconds S] [--rounds N] [--nodes N] [--appenders N] [--batch N] [--size BYTES]
# library: journal instances in the bench process, 64 appenders each appending 100 messages of 64 bytes at a time,
#          as the reads of streaming clients do.
# serve:   whole nodes: `tcptalk serve --journal postgres://...` loaded by `tcptalk bench --mode stream` (64
#          connections, 64-byte messages), 1 node and 3 nodes into one database; the rate is rows committed over
#          the time from the load's start to the last commit.
# Default: all.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
what=all
case "${1:-}" in library|serve|all) what=$1; shift ;; esac
out=${TMPDIR:-/tmp}/tcptalk-pg-bench
dotnet build bench/TcpTalk.Journal.Postgres.Bench -c Release -o "$out" -nologo -clp:ErrorsOnly >/dev/null
if [ "$what" != library ]; then
    dotnet build src/TcpTalk.Cli -c Release -nologo -clp:ErrorsOnly >/dev/null
    cli=$PWD/src/TcpTalk.Cli/bin/Release/net10.0
fi
echo "uptime: $(uptime)"
if [ "$what" != serve ]; then
    echo "== library, without a standby"
    nice dotnet "$out/TcpTalk.Journal.Postgres.Bench.dll" "$@"
    echo "== library, with a synchronous standby (synchronous_commit=on)"
    nice dotnet "$out/TcpTalk.Journal.Postgres.Bench.dll" --standby "$@"
fi
if [ "$what" != library ]; then
    for nodes in 1 3; do
        echo "== $nodes serve node(s), tcptalk bench --mode stream, without a standby"
        nice dotnet "$out/TcpTalk.Journal.Postgres.Bench.dll" --serve "$cli/tcptalk.dll" --nodes "$nodes" "$@"
        echo "== $nodes serve node(s), tcptalk bench --mode stream, with a synchronous standby (synchronous_commit=on)"
        nice dotnet "$out/TcpTalk.Journal.Postgres.Bench.dll" --serve "$cli/tcptalk.dll" --nodes "$nodes" --standby "$@"
    done
fi
