#!/usr/bin/env python3
"""bench-agree.py - does `tcptalk bench` measure what shared/bench/tcpload measures?

For each server (tcptalk serve, NativeAOT, no journal; and the C refserver) and each mode (session, stream, hold),
runs tcpload, `tcptalk bench` and tcpload again against the same server program with the same connections,
duration and message size, each on a freshly started server pinned to core 0 while the load generator is pinned to
core 1 (as run.py does). Prints both figures, their ratio per round (to the mean of the two tcpload runs) and the
median ratio, whether they agree within 10%, and tcpload's ratio to itself: the noise of the machine in the same
run, without which a 10% verdict on a shared machine means little. It prints figures; it never fails on them (exit 0 unless something could not run).

    bench/bench-agree.py                 # 5 rounds x 2 s per figure, about 4 minutes plus the build
    bench/bench-agree.py --quick         # 1 round x 1 s
    bench/bench-agree.py --modes session --rounds 5 --json out.json

Needs the shared harness (../shared/bench, or BENCH_HARNESS=DIR), gcc, make and taskset; without the harness it says
where it looked and exits 0. The NativeAOT tcptalk is artifacts/bench/aot/tcptalk (built by bench/run.sh, or here
when missing or older than the sources).
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ART = ROOT / "artifacts" / "bench"
AOT = ART / "aot" / "tcptalk"
HARNESS = ART / "harness"
# What each mode is judged on: (tcpload/tcptalk JSON key, label). Latency p50 is shown beside it, not judged: with
# hundreds of microseconds per session, a few microseconds of generator overhead are a large share.
PRIMARY = {"session": ("sessions_per_s", "sessions/s"), "stream": ("messages_per_s", "messages/s"),
           "hold": ("greeted", "greeted")}
SETTINGS = {"session": {"conns": 64, "msg": 32}, "stream": {"conns": 4, "msg": 32}, "hold": {"conns": 2000, "msg": 32}}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def stale(exe):
    if not exe.exists():
        return True
    mtime = exe.stat().st_mtime
    for top in [ROOT / "src"]:
        for dirpath, dirnames, files in os.walk(top):
            dirnames[:] = [d for d in dirnames if d not in ("bin", "obj")]
            if any((Path(dirpath) / f).stat().st_mtime > mtime for f in files):
                return True
    return any(p.stat().st_mtime > mtime for p in ROOT.glob("Directory.*.props"))


def build(harness_src):
    if os.environ.get("BENCH_FORCE_BUILD") == "1" or stale(AOT):
        log(f"building tcptalk (Release, NativeAOT) -> {AOT.parent}")
        subprocess.run(["dotnet", "publish", str(ROOT / "src/TcpTalk.Cli"), "-c", "Release", "-r", "linux-x64",
                        "-p:PublishAot=true", "-o", str(AOT.parent), "--nologo", "-v:q"], check=True)
        AOT.touch()
    # shared/ is read-only: build the harness in a private copy, as bench/run.sh does.
    HARNESS.mkdir(parents=True, exist_ok=True)
    for f in list(harness_src.glob("*.c")) + [harness_src / "Makefile"]:
        dst = HARNESS / f.name
        if not dst.exists() or dst.stat().st_mtime < f.stat().st_mtime:
            shutil.copy2(f, dst)
    subprocess.run(["make", "-s", "-C", str(HARNESS)], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, deadline_s=30):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(256):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def start_server(kind, port, out):
    journal = out.name + ".db"
    cmd = {"tcptalk": [str(AOT), "serve", "--listen", f"127.0.0.1:{port}", "--no-journal"],
           # The default configuration, every message stored: a server slower than either generator.
           "tcptalk-journal": [str(AOT), "serve", "--listen", f"127.0.0.1:{port}", "--journal", journal],
           "refserver": [str(HARNESS / "refserver"), "--port", str(port)]}[kind]
    proc = subprocess.Popen(["taskset", "-c", "0"] + cmd, stdout=out, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    if not wait_ready(port, proc):
        stop_server(proc)
        raise RuntimeError(f"{kind} did not start on port {port}")
    return proc


def stop_server(proc):
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


def load(tool, mode, port, a):
    s = SETTINGS[mode]
    dur = a.hold_duration if mode == "hold" else a.duration
    if tool == "tcpload":
        cmd = [str(HARNESS / "tcpload"), "--host", "127.0.0.1", "--port", str(port), "--mode", mode,
               "--conns", str(s["conns"]), "--duration", str(dur), "--msg-size", str(s["msg"]),
               "--expect-prefix", "Welcome "]
    else:
        cmd = [str(AOT), "bench", f"127.0.0.1:{port}", "--mode", mode, "--connections", str(s["conns"]),
               "--duration", f"{dur}s", "--message-bytes", str(s["msg"]), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(["taskset", "-c", "1"] + cmd, capture_output=True, text=True, timeout=dur + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0 or not p.stdout.strip():
        raise RuntimeError(f"{tool} failed ({p.returncode}): {p.stderr.strip()[-300:]}")
    result = json.loads(p.stdout.strip().splitlines()[-1])
    # The generator's own CPU time per operation (user + system, the whole process): how much of the load core the
    # tool itself needs, which caps what it can measure when the server is faster than the generator.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ops = {"session": result["sessions"], "stream": result["messages"], "hold": result["greeted"]}[mode]
    result["cpu_us_per_op"] = cpu * 1e6 / ops if ops else None
    return result


def one(server, mode, tool, a, out_dir):
    port = free_port()
    with tempfile.NamedTemporaryFile(dir=out_dir, prefix=f"agree-{server}-", suffix=".out") as out:
        proc = start_server(server, port, out)
        try:
            time.sleep(0.3)
            return load(tool, mode, port, a)
        finally:
            stop_server(proc)
            for suffix in (".db", ".db-wal", ".db-shm"):
                try:
                    os.unlink(out.name + suffix)
                except OSError:
                    pass


def med(xs):
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 round, 1 s windows")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=2)
    ap.add_argument("--hold-duration", type=float, default=2)
    ap.add_argument("--modes", default="session,stream,hold")
    ap.add_argument("--servers", default="tcptalk,refserver",
                    help="comma-separated: tcptalk (--no-journal), tcptalk-journal (default configuration), refserver")
    ap.add_argument("--json", help="write every measurement to this file")
    a = ap.parse_args()
    if a.quick:
        a.rounds, a.duration, a.hold_duration = 1, 1, 2
    harness_src = Path(os.environ.get("BENCH_HARNESS", ROOT.parent / "shared" / "bench"))
    if not (harness_src / "tcpload.c").exists():
        log(f"bench-agree: the shared harness is not at {harness_src} (set BENCH_HARNESS=DIR); nothing measured.")
        return 0
    build(harness_src)
    out_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    signal.signal(signal.SIGINT, signal.default_int_handler)
    results = []
    print(f"tcptalk bench vs tcpload, same server, {a.rounds} round(s), {a.duration:g} s windows "
          f"(hold {a.hold_duration:g} s), server on core 0, load on core 1; load average "
          f"{open('/proc/loadavg').read().split()[0]}")
    for mode in a.modes.split(","):
        key, label = PRIMARY[mode]
        for server in a.servers.split(","):
            rows = []
            for rnd in range(a.rounds):
                # tcpload, tcptalk bench, tcpload again (A B A): the reference is the mean of the two tcpload runs,
                # which cancels a steady drift of the machine, and their ratio to each other is this machine's noise
                # right now, the yardstick for "within 10%".
                got = []
                for tool in ("tcpload", "tcptalk", "tcpload"):
                    try:
                        got.append(one(server, mode, tool, a, out_dir))
                    except (RuntimeError, subprocess.TimeoutExpired) as e:
                        log(f"  {mode} {server} round {rnd} {tool}: {e}")
                        break
                if len(got) < 3:
                    continue
                first, ours, second = got
                ref = (first[key] + second[key]) / 2
                row = {"mode": mode, "server": server, "round": rnd, "tcpload": ref, "tcptalk": ours[key],
                       "tcpload_runs": [first[key], second[key]],
                       "ratio": ours[key] / ref if ref else None,
                       "noise": second[key] / first[key] if first[key] else None,
                       "p50_tcpload": (first["latency_us"]["p50"] + second["latency_us"]["p50"]) / 2,
                       "p50_tcptalk": ours["latency_us"]["p50"],
                       "errors_tcpload": first["errors"]["total"] + second["errors"]["total"],
                       "errors_tcptalk": ours["errors"]["total"],
                       "cpu_us_per_op_tcpload": ((first["cpu_us_per_op"] or 0) + (second["cpu_us_per_op"] or 0)) / 2,
                       "cpu_us_per_op_tcptalk": ours["cpu_us_per_op"] or 0}
                rows.append(row)
                results.append(row)
                log(f"  {mode} {server} round {rnd}: tcpload {first[key]:,.1f} / {second[key]:,.1f}  "
                    f"tcptalk bench {ours[key]:,.1f}  ratio {row['ratio'] or 0:.3f}  tcpload/tcpload {row['noise'] or 0:.3f}")
            ratios = [r["ratio"] for r in rows if r["ratio"]]
            noise = [r["noise"] for r in rows if r["noise"]]
            if not ratios:
                print(f"{mode:8} {server:10} {label:11}: no figures")
                continue
            m = med(ratios)
            spread = med([abs(x - 1) for x in noise]) if noise else 0
            verdict = "agree within 10%" if 0.9 <= m <= 1.1 else "DO NOT agree within 10%"
            if spread > 0.05:
                verdict += f" (but tcpload differs from itself by {spread:.0%} here: too noisy to tell)"
            print(f"{mode:8} {server:10} {label:11}: tcpload {med([r['tcpload'] for r in rows]):>12,.1f}  "
                  f"tcptalk bench {med([r['tcptalk'] for r in rows]):>12,.1f}  ratio per round "
                  f"{' '.join(f'{x:.3f}' for x in ratios)}  median {m:.3f}: {verdict}; "
                  f"tcpload/tcpload per round {' '.join(f'{x:.3f}' for x in noise)}; "
                  f"p50 us {med([r['p50_tcpload'] for r in rows]):,.0f} vs {med([r['p50_tcptalk'] for r in rows]):,.0f}; "
                  f"errors {sum(r['errors_tcpload'] for r in rows)} vs {sum(r['errors_tcptalk'] for r in rows)}; "
                  f"generator CPU us/op {med([r['cpu_us_per_op_tcpload'] for r in rows]):.3f} vs "
                  f"{med([r['cpu_us_per_op_tcptalk'] for r in rows]):.3f}")
    print(f"load average at the end {open('/proc/loadavg').read().split()[0]}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
