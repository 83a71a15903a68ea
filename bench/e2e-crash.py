#!/usr/bin/env python3
"""End-to-end proof of 'tcptalk send --spool': a producer writes N numbered lines into it while the server, the
client itself and the network path between them (a proxy process) are SIGKILLed and restarted at random moments;
afterwards every line the producer wrote is in the server's journal at least once.

A line counts as written once 'send --spool' accepted it into its spool: the spool numbers what it ever accepted
('send --spool DIR --status' prints it as 'accepted: K'), so after killing the client the producer asks the spool
and feeds the restarted client lines K+1... only. Lines it had piped but the killed client had not yet spooled were
never accepted, and are fed again. See docs/RELIABILITY.md, "End to end".
"""
import argparse
import json
import os
import random
import re
import signal
import sqlite3
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_line(path, pattern, seconds, process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if re.search(pattern, f.read(), re.M):
                    return
        except FileNotFoundError:
            pass
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.05)
    raise SystemExit(f"e2e-crash: no line matching {pattern!r} in {path} within {seconds} s")


class Run:
    def __init__(self, args):
        self.args = args
        self.tcptalk = args.tcptalk.split()
        self.dir = args.dir
        self.spool = os.path.join(self.dir, "spool")
        self.journal = os.path.join(self.dir, "serve.db")
        self.server_port, self.proxy_port = free_port(), free_port()
        self.random = random.Random(args.seed)
        self.faults = {"server": 0, "client": 0, "network": 0}
        self.server = self.proxy = self.client = None
        self.client_lives = 0
        self.lock = threading.Lock()
        self.feeding = None
        self.last_fault = None
        self.outages = []  # fault -> next line through end to end, seconds
        self.events = open(os.path.join(self.dir, "events.log"), "w")
        self.t0 = time.monotonic()

    def event(self, text):
        self.events.write(f"{time.monotonic() - self.t0:8.3f} {text}\n")
        self.events.flush()

    # -- the three processes ---------------------------------------------------------------------------------
    def start_server(self):
        err = open(os.path.join(self.dir, "serve.err"), "a")
        mark = os.path.getsize(err.name)
        self.server = subprocess.Popen(self.tcptalk + ["serve", "--listen", f"127.0.0.1:{self.server_port}", "--ack",
                                                       "--journal", self.journal, "--framing", "line"],
                                       stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.args.start_timeout
        while time.monotonic() < deadline:
            with open(err.name, errors="replace") as f:
                f.seek(mark)
                if "Listening on" in f.read():
                    self.event("server up")
                    return
            if self.server.poll() is not None:
                raise SystemExit(f"e2e-crash: serve exited with {self.server.returncode}; see {err.name}")
            time.sleep(0.05)
        raise SystemExit(f"e2e-crash: serve did not listen within {self.args.start_timeout} s")

    def start_proxy(self):
        out = os.path.join(self.dir, f"proxy-{self.faults['network']}.out")
        self.proxy = subprocess.Popen([sys.executable, os.path.join(HERE, "e2e_proxy.py"), str(self.proxy_port), str(self.server_port)],
                                      stdout=open(out, "w"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_line(out, r"^proxying", self.args.start_timeout, self.proxy)
        self.event("proxy up")

    def flowed(self):
        """Lines that went through end to end so far: accepted into the spool minus still held (read beside the sender)."""
        try:
            with sqlite3.connect(os.path.join(self.spool, "spool.db"), timeout=5) as db:
                accepted = db.execute("SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'spool'), 0)").fetchone()[0]
                held = db.execute("SELECT count(*) FROM spool").fetchone()[0]
                return accepted - held
        except sqlite3.Error:
            return -1

    def wait_for_flow(self):
        """Waits (at most --flow-timeout) until some line went through since the last fault, so that each fault hits a flowing stream."""
        before, deadline = self.flowed(), time.monotonic() + self.args.flow_timeout
        while self.flowed() <= before and time.monotonic() < deadline and not self.all_through(before):
            time.sleep(0.02)
        if self.last_fault is not None and self.flowed() > before:
            self.outages.append(time.monotonic() - self.last_fault)
        self.event(f"flowing: {self.flowed()} through")

    def all_through(self, flowed):
        return flowed >= self.args.lines

    def accepted(self):
        if not os.path.exists(os.path.join(self.spool, "spool.db")):
            return 0
        status = subprocess.run(self.tcptalk + ["send", "--spool", self.spool, "--status"], capture_output=True, text=True, timeout=60)
        match = re.search(r"^accepted: (\d+)$", status.stdout, re.M)
        if status.returncode != 0 or not match:
            raise SystemExit(f"e2e-crash: --status failed ({status.returncode}): {status.stdout} {status.stderr}")
        return int(match.group(1))

    def start_client(self):
        first = self.accepted() + 1
        self.client_lives += 1
        err = open(os.path.join(self.dir, f"send-{self.client_lives}.err"), "w")
        self.client = subprocess.Popen(self.tcptalk + ["send", "--spool", self.spool, "--framing", "line", "-v",
                                                       "--retry-max-delay", self.args.retry_max_delay, f"127.0.0.1:{self.proxy_port}"],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        self.event(f"client {self.client_lives} started, pid {self.client.pid}, feeding from {first}")
        self.feeding = threading.Thread(target=self.feed, args=(self.client, first), daemon=True)
        self.feeding.start()

    def feed(self, client, first):
        """Writes lines first..N at --rate lines a second, in bursts, then closes stdin; stops quietly when the client is killed."""
        try:
            n, started = first, time.monotonic()
            while n <= self.args.lines:
                due = min(self.args.lines, first - 1 + int((time.monotonic() - started) * self.args.rate) + 1)
                if due >= n:
                    client.stdin.write("".join(f"line-{i:08d}\n" for i in range(n, due + 1)).encode())
                    client.stdin.flush()
                    n = due + 1
                time.sleep(0.01)
            client.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def kill(self, process):
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)

    # -- the run -------------------------------------------------------------------------------------------
    def run(self):
        started = time.monotonic()
        self.start_proxy()
        down_at_start = self.args.faults > 0
        if not down_at_start:
            self.start_server()
        self.start_client()
        if down_at_start:  # the server is down when the client starts: the first fault, counted as a server one
            time.sleep(self.random.uniform(0.2, 1.0))
            self.faults["server"] += 1
            self.start_server()

        kinds = ["server", "client", "network"]
        while sum(self.faults.values()) < self.args.faults:
            self.wait_for_flow()
            if self.all_through(self.flowed()):
                break  # every line is through: faults now would test nothing
            time.sleep(self.random.uniform(self.args.min_gap, self.args.max_gap))
            kind = kinds[sum(self.faults.values()) % 3] if self.args.round_robin else self.random.choice(kinds)
            self.faults[kind] += 1
            self.last_fault = time.monotonic()
            self.event(f"fault {kind}")
            if kind == "server":
                self.kill(self.server)
                time.sleep(self.random.uniform(0, self.args.max_down))
                self.start_server()
            elif kind == "network":
                self.kill(self.proxy)
                time.sleep(self.random.uniform(0, self.args.max_down))
                self.start_proxy()
            else:
                self.kill(self.client)
                self.feeding.join(timeout=30)
                self.start_client()

        # No more faults: the client reads to its input's end, drains its spool and exits 0.
        deadline = time.monotonic() + self.args.drain_timeout
        while self.client.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        client_code = self.client.poll()
        if client_code is None:
            self.kill(self.client)
        elapsed = time.monotonic() - started
        self.server.send_signal(signal.SIGTERM)
        self.server.wait(timeout=30)
        self.kill(self.proxy)
        return client_code, elapsed

    def verify(self, client_code, elapsed):
        listing = subprocess.run(self.tcptalk + ["messages", "--journal", self.journal, "--json"], capture_output=True, text=True, timeout=300)
        if listing.returncode != 0:
            raise SystemExit(f"e2e-crash: tcptalk messages failed: {listing.stderr}")
        counts = {}
        foreign = 0
        for line in listing.stdout.splitlines():
            text = json.loads(line)["text"]
            if re.fullmatch(r"line-\d{8}", text):
                counts[text] = counts.get(text, 0) + 1
            else:
                foreign += 1
        expected = [f"line-{i:08d}" for i in range(1, self.args.lines + 1)]
        lost = [t for t in expected if t not in counts]
        duplicates = sum(c - 1 for c in counts.values())
        seen = []
        for life in range(1, self.client_lives + 1):
            with open(os.path.join(self.dir, f"send-{life}.err"), errors="replace") as f:
                for m in re.finditer(r"after an outage of (\d+(?:\.\d+)?)(ms|s|m)\b", f.read()):
                    seen.append(float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)])
        load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"]
        f = self.faults
        print(f"lines {self.args.lines}, faults {sum(f.values())} (server kills {f['server']}, client kills {f['client']}, "
              f"network cuts {f['network']}), seed {self.args.seed}")
        print(f"stored {sum(counts.values())}, lost {len(lost)}, duplicates {duplicates}, foreign {foreign}, "
              f"longest outage {max(self.outages, default=0):.2f} s (fault to the next line through; median "
              f"{sorted(self.outages)[len(self.outages) // 2] if self.outages else 0:.2f} s; longest the sender saw {max(seen, default=0):.2f} s), client exit {client_code}, elapsed {elapsed:.1f} s, "
              f"load {' '.join(load)}")
        if lost:
            print(f"lost (first 10): {lost[:10]}")
        ok = not lost and foreign == 0 and client_code == 0
        print("e2e-crash: " + ("passed" if ok else "FAILED") + f" (logs in {self.dir})")
        return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tcptalk", required=True, help="command that runs tcptalk, e.g. 'dotnet path/tcptalk.dll'")
    p.add_argument("--dir", required=True, help="an empty directory for the spool, journal and logs")
    p.add_argument("--lines", type=int, default=20000)
    p.add_argument("--faults", type=int, default=40, help="faults in all (the first: server down at the client's start)")
    p.add_argument("--seed", type=int, default=20261202)
    p.add_argument("--rate", type=float, default=200, help="lines a second the producer writes")
    p.add_argument("--min-gap", type=float, default=0.0, help="shortest time between flow resuming and the next fault")
    p.add_argument("--max-gap", type=float, default=1.0)
    p.add_argument("--max-down", type=float, default=1.0, help="longest time a killed server or proxy stays down")
    p.add_argument("--retry-max-delay", default="1s")
    p.add_argument("--round-robin", action="store_true", help="faults in turn server, client, network (else at random)")
    p.add_argument("--flow-timeout", type=float, default=60, help="longest wait for lines to flow again before the next fault")
    p.add_argument("--start-timeout", type=float, default=120, help="longest wait for a server or proxy to listen (a loaded machine)")
    p.add_argument("--drain-timeout", type=float, default=120)
    args = p.parse_args()
    run = Run(args)
    try:
        code, elapsed = run.run()
    finally:
        for process in (run.client, run.server, run.proxy):
            if process is not None and process.poll() is None:
                process.kill()
    sys.exit(run.verify(code, elapsed))


if __name__ == "__main__":
    main()
