#!/usr/bin/env python3
"""tcptalk bench on a terminal against tcptalk bench redirected, on one C refserver: what the live display costs.

    bench/bench-terminal.py                                   # the tcptalk built in src/TcpTalk.Cli/bin/Release, 6 rounds x 3 s
    bench/bench-terminal.py --tcptalk before=/tmp/old/tcptalk.dll --tcptalk after=src/TcpTalk.Cli/bin/Release/net10.0/tcptalk.dll

Each round runs every build once on a pseudo-terminal (script -qfec, which gives it a pty on stdin, stdout and
stderr) and once with its output redirected, in alternating order, session mode, 64 connections, --json. Per run:
sessions/s and the generator's CPU (user+sys of the process tree, start-up included) per completed session; the
summary is the median of the per-round ratios terminal / redirected. Needs script(1), cc and the shared harness
(../shared/bench, or BENCH_HARNESS=DIR); the refserver is built in artifacts/bench/harness, as bench-agree.py does.
"""
import argparse
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def refserver():
    src = Path(os.environ.get("BENCH_HARNESS", ROOT.parent / "shared" / "bench")) / "refserver.c"
    exe = ROOT / "artifacts" / "bench" / "harness" / "refserver"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        exe.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cc", "-O2", "-o", str(exe), str(src), "-lpthread"], check=True)
    return exe


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(dll, port, duration, tty):
    cmd = ["dotnet", dll, "bench", f"127.0.0.1:{port}", "--duration", duration, "--json"]
    if tty:
        cmd = ["script", "-qfec", " ".join(cmd), "/dev/null"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    result = json.loads(re.search(r'\{"mode".*\}', out).group(0))
    return result["sessions_per_s"], cpu / max(1, result["sessions"]) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tcptalk", action="append", metavar="LABEL=DLL", help="a build to measure (repeatable)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", default="3s")
    args = parser.parse_args()
    builds = dict(b.split("=", 1) for b in args.tcptalk or [f"tcptalk={ROOT / 'src/TcpTalk.Cli/bin/Release/net10.0/tcptalk.dll'}"])
    port = free_port()
    server = subprocess.Popen([str(refserver()), "--port", str(port), "--bind", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = {label: [] for label in builds}
    try:
        time.sleep(0.5)
        for r in range(args.rounds):
            for label, dll in builds.items():
                pair = {}
                for tty in ([True, False] if r % 2 == 0 else [False, True]):
                    pair[tty] = run(dll, port, args.duration, tty)
                runs[label].append(pair)
                (tr, tc), (rr, rc) = pair[True], pair[False]
                load = " ".join(open("/proc/loadavg").read().split()[:3])
                print(f"round {r + 1} {label}: terminal {tr:,.0f}/s {tc:.0f} µs CPU/session, redirected {rr:,.0f}/s {rc:.0f} µs, load {load}", flush=True)
    finally:
        server.terminate()
        server.wait(10)
    for label, pairs in runs.items():
        rate = [p[True][0] / p[False][0] for p in pairs]
        cpu = [p[True][1] / p[False][1] for p in pairs]
        print(f"{label}: terminal/redirected sessions/s {statistics.median(rate):.2f} ({min(rate):.2f}-{max(rate):.2f}), "
              f"CPU per session {statistics.median(cpu):.2f} ({min(cpu):.2f}-{max(cpu):.2f})")


if __name__ == "__main__":
    sys.exit(main())
