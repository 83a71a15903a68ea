#!/usr/bin/env python3
"""Cluster crash bench (bench/cluster-crash.sh runs it; python3 stdlib only).

Starts deploy/cluster/run.sh (PostgreSQL primary + synchronous standby, three 'tcptalk serve --ack' nodes with the
PostgreSQL journal, HAProxy in front) on ports of its own. Clients send uniquely numbered messages through HAProxy
without pause (NUL framing, a window of unacknowledged messages each), reading the 'ack <id>' frames and recording
which message got which journal id; an ack belongs to the oldest message of its connection still waiting. A client
whose connection breaks, or that gets an 'error:' frame, reconnects and goes on with new messages: nothing is resent.
Meanwhile the driver SIGKILLs a random node every few seconds (and starts it again), and once stops the PostgreSQL
primary at once (pg_ctl -m immediate) and promotes the standby (pg_ctl promote). At the end the table is read with
psql on the new primary:

  lost        an acknowledged message missing, or stored under another id     (must be 0)
  duplicates  a message stored more than once                                  (counted; at-least-once)
  unacked     stored, but the client never saw its ack (killed in between)     (allowed)
  pause       per fault: the longest time without any acknowledgement from the fault until the next one

Exit status 0 when every acknowledged message is stored, 1 when one is lost, 2 on a set-up error.
"""

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time


def parse_args():
    p = argparse.ArgumentParser(description="SIGKILL cluster nodes and fail PostgreSQL over under acked load.")
    p.add_argument("--tcptalk", required=True, help="command that runs tcptalk, e.g. 'dotnet path/tcptalk.dll'")
    p.add_argument("--seconds", type=float, default=60, help="how long the load runs (default 60)")
    p.add_argument("--kill-every", type=float, default=4, help="seconds between node kills (default 4)")
    p.add_argument("--failover-at", type=float, default=None, help="seconds into the run of the failover (default: half)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    p.add_argument("--window", type=int, default=16, help="unacknowledged messages a client keeps in flight (default 16)")
    p.add_argument("--seed", type=int, default=1, help="seed of the kill schedule (default 1)")
    p.add_argument("--port", type=int, default=22345, help="HAProxy's port; nodes on the next three (default 22345)")
    p.add_argument("--pg-port", type=int, default=25432, help="PostgreSQL primary's port, standby the next (default 25432)")
    p.add_argument("--state", required=True, help="state folder for the cluster (removed first)")
    p.add_argument("--keep", action="store_true", help="leave the cluster running at the end")
    return p.parse_args()


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}        # text -> id
        self.sent = 0
        self.errors = 0
        self.problems = []
        self.ack_times = []    # monotonic time of every ack, in order
        self.client_ack_times = {}  # client number -> its ack times


def client(number, port, window, ledger, stop):
    sequence = 0
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.05)
            continue
        s.settimeout(0.5)
        waiting = []
        buffer = b""
        greeted = False
        try:
            while not stop.is_set():
                out = []
                while len(waiting) < window:
                    sequence += 1
                    text = f"c{number}-m{sequence}"
                    waiting.append(text)
                    out.append(text.encode() + b"\0")
                if out:
                    with ledger.lock:
                        ledger.sent += len(out)
                    s.sendall(b"".join(out))
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                buffer += chunk
                *frames, buffer = buffer.split(b"\0")
                closing = False
                for frame in frames:
                    f = frame.decode("utf-8", "replace")
                    if not greeted:
                        greeted = True
                    elif f.startswith("ack "):
                        if not waiting:
                            with ledger.lock:
                                ledger.problems.append(f"'{f}' with nothing waiting")
                            continue
                        text = waiting.pop(0)
                        now = time.monotonic()
                        with ledger.lock:
                            if text in ledger.acked:
                                ledger.problems.append(f"{text} acknowledged twice")
                            ledger.acked[text] = int(f[4:])
                            ledger.ack_times.append(now)
                            ledger.client_ack_times.setdefault(number, []).append(now)
                    elif f.startswith("error: "):
                        with ledger.lock:
                            ledger.errors += 1
                        closing = True
                    else:
                        with ledger.lock:
                            ledger.problems.append(f"unexpected frame '{f[:80]}'")
                if closing:
                    break
        except OSError:
            pass
        finally:
            s.close()
        time.sleep(0.02)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def pid_of(state, node):
    with open(os.path.join(state, f"node{node}.pid")) as f:
        return int(f.read().strip())


def main():
    a = parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    run_sh = os.path.join(here, "..", "deploy", "cluster", "run.sh")
    env = dict(os.environ, TCPTALK=a.tcptalk)
    base = [run_sh, "--state", a.state, "--port", str(a.port), "--pg-port", str(a.pg_port)]
    subprocess.run(base + ["--clean"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run(base, env=env, stdout=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        print("cluster-crash: the cluster did not start; see " + a.state, file=sys.stderr)
        return 2
    failover_at = a.seconds / 2 if a.failover_at is None else a.failover_at
    rnd = random.Random(a.seed)
    ledger = Ledger()
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(i, a.port, a.window, ledger, stop), daemon=True)
               for i in range(1, a.clients + 1)]
    for t in threads:
        t.start()
    start = time.monotonic()
    faults = []            # (time, description)
    failed_over = False
    try:
        next_kill = start + a.kill_every
        while time.monotonic() - start < a.seconds:
            now = time.monotonic()
            if not failed_over and now - start >= failover_at:
                faults.append((time.monotonic(), "primary stopped, standby promoted"))
                run(base + ["--failover"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                failed_over = True
            elif now >= next_kill:
                node = rnd.randint(1, 3)
                faults.append((time.monotonic(), f"node{node} SIGKILLed"))
                try:
                    os.kill(pid_of(a.state, node), 9)
                except ProcessLookupError:
                    faults[-1] = (faults[-1][0], f"node{node} found dead, started")
                time.sleep(rnd.uniform(0.2, 1.0))
                run(base + ["--start-node", str(node)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                next_kill = time.monotonic() + a.kill_every
            time.sleep(0.05)
        time.sleep(1.0)    # let the last acks arrive
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
    end = time.monotonic()

    pg_port = a.pg_port + 1 if failed_over else a.pg_port
    psql = ["psql", "-X", "-At", "-h", a.state, "-p", str(pg_port), "-U", "postgres", "-d", "tcptalk", "-F", "\t", "-c",
            "SELECT id, convert_from(raw, 'UTF8') FROM tcptalk.messages ORDER BY id"]
    if os.getuid() == 0:
        psql = ["runuser", "-u", "postgres", "--"] + psql
    rows = subprocess.run(psql, check=True, capture_output=True, text=True).stdout.splitlines()
    stored = {}
    by_text = {}
    for line in rows:
        id_, text = line.split("\t", 1)
        stored[int(id_)] = text
        by_text.setdefault(text, []).append(int(id_))
    with ledger.lock:
        acked = dict(ledger.acked)
        times = list(ledger.ack_times)
        per_client = [list(v) for v in ledger.client_ack_times.values()]
    lost = [f"{t} (ack {i})" for t, i in acked.items() if stored.get(i) != t]
    duplicates = sum(len(ids) - 1 for ids in by_text.values() if len(ids) > 1)
    unacked = sum(1 for t in by_text if t not in acked)
    ids = sorted(stored)
    gapless = ids == list(range(1, len(ids) + 1))

    bounds = [f[0] for f in faults[1:]] + [end]
    print(f"cluster-crash: {a.seconds:.0f} s, {a.clients} clients x window {a.window}, seed {a.seed}; load {open('/proc/loadavg').read().strip()}")
    def longest_pause(ack_times, t, until):
        marks = [t] + [x for x in ack_times if t <= x < until] + [until]
        return max(b - a_ for a_, b in zip(marks, marks[1:]))

    pauses = []
    for (t, what), until in zip(faults, bounds):
        overall = longest_pause(times, t, until)
        worst = max(longest_pause(c, t, until) for c in per_client) if per_client else 0.0
        pauses.append((what, overall, worst))
        print(f"  fault at {t - start:5.1f} s: {what:36s} no ack at all for {overall:5.2f} s; longest wait of one client {worst:5.2f} s")
    print(f"faults {len(faults)} (node kills {sum(1 for f in faults if 'node' in f[1])}, failovers {1 if failed_over else 0}), "
          f"sent {ledger.sent}, acked {len(acked)}, stored {len(stored)}, lost {len(lost)}, duplicates {duplicates}, "
          f"stored-but-unacked {unacked}, error lines {ledger.errors}, ids gapless {'yes' if gapless else 'NO'}, "
          f"acks/s {len(acked) / (end - start):.0f}")
    kills = [p for p in pauses if "node" in p[0]]
    fail = [p for p in pauses if "primary" in p[0]]
    if kills:
        print(f"node kill: no ack at all for median {sorted(k[1] for k in kills)[len(kills) // 2]:.2f} s, "
              f"one client waited median {sorted(k[2] for k in kills)[len(kills) // 2]:.2f} s (max {max(k[2] for k in kills):.2f} s)")
    for f in fail:
        print(f"failover: no ack at all for {f[1]:.2f} s, one client waited at most {f[2]:.2f} s")
    for problem in ledger.problems[:10]:
        print("  problem: " + problem)
    for item in lost[:10]:
        print("  lost: " + item)
    if not a.keep:
        subprocess.run(base + ["--stop"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return 1 if lost or ledger.problems or not acked else 0


if __name__ == "__main__":
    sys.exit(main())
