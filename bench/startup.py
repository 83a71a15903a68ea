#!/usr/bin/env python3
"""startup.py - startup time, idle RSS and client wall time of greeting servers (Python 3.11, stdlib only).

  ready: for each server command (with {port}), N times, alternating servers: start it pinned to
         --server-cpu, measure the time from just before the process is spawned until it accepts a connection
         and until that connection gets its greeting; then, after --settle seconds, its idle RSS (VmRSS, VmHWM
         summed over the process tree); then stop it with SIGINT and measure how long it takes to exit.
  send:  starts one --server (the C reference), then times whole client processes (e.g. 'tcptalk send
         127.0.0.1:{port} hello') over repeated runs: with hyperfine when it is on PATH, else a Python loop.

Prints a summary on stderr and writes JSON (--json). Medians throughout; the report puts them beside the
reference server's / reference client's figures from the same run.

  python3 bench/startup.py ready --runs 20 --json ready.json \\
      refserver='../shared/bench/refserver --port {port}' aot='artifacts/bench/aot/tcptalk serve --port {port}'
  python3 bench/startup.py send --runs 30 --json send.json --server '../shared/bench/refserver --port {port}' \\
      tcpload='../shared/bench/tcpload --port {port} --mode session --conns 1 --total 1' \\
      aot='artifacts/bench/aot/tcptalk send 127.0.0.1:{port} hello'
"""
import argparse
import json
import os
import random
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CONNECT_POLL_S = 0.001
READY_TIMEOUT_S = 30


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    for _ in range(200):
        port = random.randint(20000, 32000)
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
            with socket.socket() as s:
                s.bind(("0.0.0.0", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port found")


def tree_pids(root):
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    s = f.read()
            except OSError:
                continue
            ppid = int(s[s.rfind(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kib(root):
    """(VmRSS, VmHWM) summed over the process tree, KiB."""
    rss = hwm = 0
    for p in tree_pids(root):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except OSError:
            pass
    return rss, hwm


def wait_greeting(port, proc, terminator):
    """(seconds to accept, seconds to greeting) after the caller's t0, polling every millisecond."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            s.close()
            time.sleep(CONNECT_POLL_S)
            continue
        accepted = time.perf_counter()
        s.settimeout(5)
        got = b""
        with s:
            while terminator not in got:
                chunk = s.recv(256)
                if not chunk:
                    break
                got += chunk
        return accepted, time.perf_counter(), got
    raise RuntimeError("server not ready within %d s" % READY_TIMEOUT_S)


def stop(proc):
    """SIGINT, then SIGTERM and SIGKILL after 5 s each; returns seconds to exit after SIGINT."""
    t0 = time.perf_counter()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(5)
            break
        except subprocess.TimeoutExpired:
            continue
    return time.perf_counter() - t0


def argv(cmd):
    return shlex.split(cmd)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def stats_ms(xs):
    return {"n": len(xs), "median_ms": round(statistics.median(xs) * 1e3, 3),
            "min_ms": round(min(xs) * 1e3, 3), "p90_ms": round(pct(xs, 0.9) * 1e3, 3)}


def cmd_ready(a, servers):
    term = b"\n" if a.framing == "lf" else b"\0"
    per = {label: {"cmd": cmd, "accept": [], "greet": [], "stop": [], "idle_rss_kib": [], "idle_hwm_kib": []}
           for label, cmd in servers}
    for rnd in range(a.runs):
        order = servers if rnd % 2 == 0 else servers[::-1]
        for label, cmd in order:
            port = free_port()
            full = ["taskset", "-c", a.server_cpu] + argv(cmd.replace("{port}", str(port)))
            t0 = time.perf_counter()
            proc = subprocess.Popen(full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                accepted, greeted, got = wait_greeting(port, proc, term)
                r = per[label]
                r["accept"].append(accepted - t0)
                r["greet"].append(greeted - t0)
                if rnd < a.rss_runs:
                    time.sleep(a.settle)
                    rss, hwm = rss_kib(proc.pid)
                    r["idle_rss_kib"].append(rss)
                    r["idle_hwm_kib"].append(hwm)
            finally:
                per[label]["stop"].append(stop(proc))
    out = {}
    for label, r in per.items():
        out[label] = {"cmd": r["cmd"], "to_accept": stats_ms(r["accept"]), "to_greeting": stats_ms(r["greet"]),
                      "stop_after_sigint": stats_ms(r["stop"]),
                      "idle_rss_mib": round(statistics.median(r["idle_rss_kib"]) / 1024, 2),
                      "idle_hwm_mib": round(statistics.median(r["idle_hwm_kib"]) / 1024, 2),
                      "idle_rss_kib_runs": r["idle_rss_kib"]}
        log(f"{label:>12}: accept {out[label]['to_accept']['median_ms']:8.2f} ms  greeting "
            f"{out[label]['to_greeting']['median_ms']:8.2f} ms  stop {out[label]['stop_after_sigint']['median_ms']:8.2f} ms"
            f"  idle RSS {out[label]['idle_rss_mib']:6.2f} MiB (HWM {out[label]['idle_hwm_mib']:.2f})")
    return {"kind": "ready", "runs": a.runs, "settle_s": a.settle, "server_cpu": a.server_cpu, "servers": out}


def cmd_send(a, clients):
    port = free_port()
    srv = subprocess.Popen(["taskset", "-c", a.server_cpu] + argv(a.server.replace("{port}", str(port))),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                           start_new_session=True)
    out = {}
    try:
        wait_greeting(port, srv, b"\0")
        cmds = [(label, ["taskset", "-c", a.client_cpu] + argv(c.replace("{port}", str(port))))
                for label, c in clients]
        hyperfine = shutil.which("hyperfine") if not a.no_hyperfine else None
        if hyperfine:
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tf:
                export = tf.name
            hf = [hyperfine, "-N", "--warmup", str(a.warmup), "--runs", str(a.runs), "--export-json", export,
                  "--style", "basic"]
            for label, c in cmds:
                hf += ["-n", label, shlex.join(c)]
            subprocess.run(hf, check=True, stdout=sys.stderr)
            with open(export) as f:
                res = json.load(f)["results"]
            os.unlink(export)
            for (label, c), r in zip(cmds, res):
                xs = r["times"]
                out[label] = {"cmd": shlex.join(c), **stats_ms(xs), "mean_ms": round(r["mean"] * 1e3, 3),
                              "user_ms": round(r["user"] * 1e3, 3), "system_ms": round(r["system"] * 1e3, 3),
                              "failed": sum(1 for e in r.get("exit_codes", []) if e != 0)}
            tool = "hyperfine " + subprocess.run([hyperfine, "--version"], capture_output=True,
                                                 text=True).stdout.split()[-1]
        else:
            times = {label: [] for label, _ in cmds}
            failed = {label: 0 for label, _ in cmds}
            for i in range(a.warmup + a.runs):
                for label, c in (cmds if i % 2 == 0 else cmds[::-1]):
                    t0 = time.perf_counter()
                    rc = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
                    dt = time.perf_counter() - t0
                    if i >= a.warmup:
                        times[label].append(dt)
                        failed[label] += rc != 0
            for label, c in cmds:
                out[label] = {"cmd": shlex.join(c), **stats_ms(times[label]), "failed": failed[label]}
            tool = "python loop (hyperfine not installed)"
    finally:
        stop(srv)
    for label, r in out.items():
        log(f"{label:>12}: wall {r['median_ms']:8.2f} ms median (min {r['min_ms']:.2f}, p90 {r['p90_ms']:.2f}), "
            f"failed {r['failed']}")
    return {"kind": "send", "runs": a.runs, "tool": tool, "server": a.server, "clients": out}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["ready", "send"])
    ap.add_argument("commands", nargs="+", help="LABEL=COMMAND, the command with {port}")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rss-runs", type=int, default=3, help="ready: runs that also sample idle RSS")
    ap.add_argument("--warmup", type=int, default=3, help="send: untimed runs first")
    ap.add_argument("--settle", type=float, default=1.0, help="ready: seconds idle before RSS is read")
    ap.add_argument("--framing", choices=["nul", "lf"], default="nul")
    ap.add_argument("--server", help="send: the server the clients talk to, with {port}")
    ap.add_argument("--server-cpu", default="0")
    ap.add_argument("--client-cpu", default="1")
    ap.add_argument("--no-hyperfine", action="store_true")
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    pairs = []
    for c in a.commands:
        label, sep, cmd = c.partition("=")
        if not sep or "{port}" not in cmd:
            ap.error(f"want LABEL=COMMAND with {{port}}, not {c!r}")
        pairs.append((label, cmd))
    if a.what == "send" and not a.server:
        ap.error("send needs --server")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    res = cmd_ready(a, pairs) if a.what == "ready" else cmd_send(a, pairs)
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
