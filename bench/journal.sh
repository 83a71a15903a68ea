#!/usr/bin/env bash
# Journal throughput: raw SQLite inserts of the journal's rows (one thread, one prepared INSERT, one transaction per
# N rows) against SqliteMessageJournal.AppendAsync from many concurrent appenders, on this machine. Prints both
# rates and the ratio (target: journal >= 0.8 x raw). Figures only, no assertion.
# Options: --rows N (200000) --message-bytes N (64) --rows-per-commit N (1000) --appenders N (64)
#          --messages-per-batch N (1) --full (synchronous=FULL for both)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/TcpTalk.Journal.Bench -c Release -v quiet -nologo >/dev/null
exec dotnet bench/TcpTalk.Journal.Bench/bin/Release/net10.0/TcpTalk.Journal.Bench.dll "$@"
