#!/usr/bin/env bash
# Journal designs on the same messages in the same run: row per message (schema 1), A: SQLite batch rows,
# B: segment log, and the shipped journal through AppendAsync; stream (1000 x 32 B per read, 4 connections) and
# session (1 message per read, 64 new connections). Medians of 3 rounds of 1.5 s. Figures only, no assertion.
# Options: --message-bytes N (32) --stream-batch N (1000) --rounds N (3) --seconds S (1.5) --full (fsync per group)
#          --workload stream|session (both)
#   or:    --readers [--messages N (10000000)]: builds an N-message journal, times --since, --contains, --follow
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/TcpTalk.Journal.Bench -c Release -v quiet -nologo >/dev/null
exec dotnet bench/TcpTalk.Journal.Bench/bin/Release/net10.0/TcpTalk.Journal.Bench.dll "$@"
