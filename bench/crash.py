#!/usr/bin/env python3
"""Crash bench for 'tcptalk serve --journal PATH --ack' (bench/crash.sh runs it; python3 stdlib only).

Several clients send uniquely numbered messages to the server without pause, each reading the 'ack <id>' frames
as they come and recording which message got which journal id. Meanwhile the driver SIGKILLs the server at random
moments (seeded, so a run can be repeated) and restarts it on the same journal and the same fixed port. A client
whose connection breaks never resends: it reconnects and goes on with new messages. At the end the journal is
read with 'tcptalk messages --json' and checked with SQLite's integrity_check:

  acked-but-lost      an acknowledged message missing, or stored under another id or text   (must be 0)
  duplicates          a message text stored more than once                                   (must be 0)
  stored-but-unacked  stored, but the client never saw the ack (killed in between)           (allowed)

Exit status 0 when the journal keeps every promise, 1 when it breaks one, 2 on a usage or set-up error.
"""

import argparse
import collections
import json
import os
import random
import selectors
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time


def parse_args():
    p = argparse.ArgumentParser(description="SIGKILL 'tcptalk serve --ack' at random moments; check the journal.")
    p.add_argument("--tcptalk", required=True, help="command that runs tcptalk, e.g. 'dotnet path/tcptalk.dll'")
    p.add_argument("--cycles", type=int, default=200, help="kill/restart cycles (default 200)")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    p.add_argument("--window", type=int, default=32, help="unacknowledged messages a client keeps in flight (default 32)")
    p.add_argument("--seed", type=int, default=1, help="seed of the kill schedule (default 1)")
    p.add_argument("--max-run", type=float, default=1.0,
                   help="longest time in seconds a server serves before it is killed (default 1.0)")
    p.add_argument("--startup-kills", type=float, default=0.1,
                   help="share of cycles whose kill lands during start-up, before the server listens (default 0.1)")
    p.add_argument("--dir", help="folder for the journal and logs (default: a new temporary folder, kept)")
    p.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds (default 3600)")
    a = p.parse_args()
    if a.cycles < 1 or a.clients < 1 or a.window < 1 or a.max_run <= 0:
        p.error("--cycles, --clients, --window and --max-run must be positive")
    return a


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()          # texts handed (at least partly) to a socket
        self.acked = {}            # text -> journal id
        self.ack_errors = []       # acks that make no sense (out of order, unparsable)
        self.error_frames = collections.Counter()
        self.connections = 0
        self.breaks = 0


class Client(threading.Thread):
    """One sender: a window of unacknowledged messages, acks matched to messages in order (one ack per message)."""

    def __init__(self, cid, port, window, stats, stop):
        super().__init__(daemon=True, name=f"client-{cid}")
        self.cid, self.port, self.window, self.stats, self.stop = cid, port, window, stats, stop
        self.seq = 0

    def run(self):
        while not self.stop.is_set():
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            except OSError:
                time.sleep(0.02)  # the server is down or starting: try again soon
                continue
            with self.stats.lock:
                self.stats.connections += 1
            try:
                self.session(sock)
            except OSError:
                pass
            finally:
                sock.close()
                with self.stats.lock:
                    self.stats.breaks += 1

    def session(self, sock):
        sock.setblocking(False)
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        inbuf = b""
        out = bytearray()
        pending = collections.deque()  # texts sent (or queued) on this connection, not yet acknowledged
        greeted = False
        closing_deadline = None
        try:
            while True:
                if self.stop.is_set() and closing_deadline is None:
                    # Finish politely: half-close, then collect the acks still due until the server closes.
                    if out:
                        sock.setblocking(True)
                        sock.settimeout(2)
                        sock.sendall(out)
                        sock.setblocking(False)
                        out.clear()
                    sock.shutdown(socket.SHUT_WR)
                    sel.modify(sock, selectors.EVENT_READ)
                    closing_deadline = time.monotonic() + 5
                if closing_deadline is None:
                    while len(pending) < self.window:
                        self.seq += 1
                        text = f"c{self.cid}-m{self.seq}"
                        pending.append(text)
                        out += text.encode() + b"\0"
                        with self.stats.lock:
                            self.stats.sent.add(text)
                elif time.monotonic() > closing_deadline:
                    return
                for _key, events in sel.select(timeout=0.2):
                    if events & selectors.EVENT_WRITE and out:
                        n = sock.send(out)
                        del out[:n]
                    if events & selectors.EVENT_READ:
                        data = sock.recv(65536)
                        if not data:
                            return
                        inbuf += data
                        *frames, inbuf = inbuf.split(b"\0")
                        for frame in frames:
                            if not greeted:
                                greeted = True  # 'Welcome 127.0.0.1!'
                                continue
                            self.on_frame(frame, pending)
        finally:
            sel.close()

    def on_frame(self, frame, pending):
        text = frame.decode("utf-8", "replace")
        with self.stats.lock:
            if text.startswith("ack "):
                try:
                    ident = int(text[4:])
                except ValueError:
                    self.stats.ack_errors.append(f"unparsable ack frame {text!r}")
                    return
                if not pending:
                    self.stats.ack_errors.append(f"{text!r} with no message waiting for it")
                    return
                self.stats.acked[pending.popleft()] = ident
            elif text.startswith("error: "):
                self.stats.error_frames[text[:60]] += 1
            else:
                self.stats.ack_errors.append(f"unexpected frame {text[:80]!r}")


class Server:
    def __init__(self, cmd, port, journal, logdir):
        self.cmd, self.port, self.journal, self.logdir = cmd, port, journal, logdir
        self.proc = None
        self.log = None
        self.starts = 0

    def start(self):
        self.starts += 1
        self.log = os.path.join(self.logdir, f"serve-{self.starts:04d}.log")
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(
                self.cmd + ["serve", "--listen", f"127.0.0.1:{self.port}", "--journal", self.journal, "--ack"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)

    def listening(self):
        with open(self.log, "rb") as f:
            return b"Listening on" in f.read()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def wait_ready(self, deadline):
        """Waits until it listens. A start that fails to bind (port still held) is retried. Returns False on exit."""
        while time.monotonic() < deadline:
            if self.listening():
                return True
            code = self.proc.poll()
            if code is not None:
                with open(self.log, "rb") as f:
                    tail = f.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                print(f"crash: serve exited with {code} at start-up: {tail}", file=sys.stderr)
                return False
            time.sleep(0.01)
        raise TimeoutError("serve did not listen in time")


def read_journal(cmd, journal):
    res = subprocess.run(cmd + ["messages", "--journal", journal, "--json"], capture_output=True, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"tcptalk messages failed ({res.returncode}): {res.stderr.decode(errors='replace')}")
    return [json.loads(line) for line in res.stdout.decode().splitlines() if line]


def integrity(journal):
    con = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=10)
    try:
        return ";".join(r[0] for r in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def main():
    a = parse_args()
    cmd = a.tcptalk.split()
    work = a.dir or tempfile.mkdtemp(prefix="tcptalk-crash-")
    os.makedirs(work, exist_ok=True)
    journal = os.path.join(work, "crash.db")
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(journal + suffix):
            os.remove(journal + suffix)
    rng = random.Random(a.seed)
    port = free_port()
    started = time.monotonic()
    deadline = started + a.timeout
    stats, stop = Stats(), threading.Event()
    server = Server(cmd, port, journal, work)
    restarts, failed_starts, startup_kills = [], 0, 0

    server.start()
    if not server.wait_ready(deadline):
        return 2
    clients = [Client(i + 1, port, a.window, stats, stop) for i in range(a.clients)]
    for c in clients:
        c.start()

    cycles = 0
    for cycle in range(1, a.cycles + 1):
        if time.monotonic() > deadline:
            print(f"crash: time is up after {cycles} cycles", file=sys.stderr)
            break
        time.sleep(rng.uniform(0, a.max_run))
        server.kill()
        cycles = cycle
        killed = time.monotonic()
        if cycle == a.cycles:
            break
        while time.monotonic() < deadline:  # restart on the same journal and port; a kill may hit start-up again
            server.start()
            if rng.random() < a.startup_kills:
                time.sleep(rng.uniform(0, 0.4))
                if not server.listening():
                    startup_kills += 1
                    server.kill()
                    continue
            if server.wait_ready(deadline):
                break
            failed_starts += 1
            time.sleep(0.05)
        restarts.append(time.monotonic() - killed)
        if cycle % 20 == 0:
            with stats.lock:
                print(f"crash: cycle {cycle}/{a.cycles}: {len(stats.sent)} sent, {len(stats.acked)} acked",
                      file=sys.stderr, flush=True)

    # The server is dead (killed by the last cycle): stop the clients (their sockets fail or are refused at once).
    if server.proc.poll() is None:
        server.kill()
    stop.set()
    for c in clients:
        c.join(timeout=10)

    rows = read_journal(cmd, journal)
    check = integrity(journal)
    by_text = collections.defaultdict(list)
    for r in rows:
        by_text[r["text"]].append(r["id"])
    lost, wrong = [], []
    for text, ident in stats.acked.items():
        ids = by_text.get(text)
        if not ids:
            lost.append((text, ident))
        elif ident not in ids:
            wrong.append((text, ident, ids))
    duplicates = {t: ids for t, ids in by_text.items() if len(ids) > 1}
    unknown = [t for t in by_text if t not in stats.sent]
    unacked = [t for t in by_text if t not in stats.acked]

    elapsed = time.monotonic() - started
    restarts.sort()
    print(f"cycles: {cycles}")
    print(f"seed: {a.seed}")
    print(f"clients: {a.clients} (window {a.window}), connections: {stats.connections}")
    print(f"messages sent: {len(stats.sent)}")
    print(f"acked: {len(stats.acked)}")
    print(f"stored: {len(rows)}")
    print(f"acked-but-lost: {len(lost) + len(wrong)}" + (f" (missing {len(lost)}, other id {len(wrong)})" if lost or wrong else ""))
    print(f"duplicates: {len(duplicates)}")
    print(f"stored-but-unacked: {len(unacked)}")
    print(f"stored-but-never-sent: {len(unknown)}")
    print(f"integrity_check: {check}")
    print(f"ack protocol errors: {len(stats.ack_errors)}; error frames: {sum(stats.error_frames.values())}")
    if restarts:
        print(f"restart to listening: median {restarts[len(restarts) // 2] * 1000:.0f} ms, "
              f"max {restarts[-1] * 1000:.0f} ms; kills during start-up: {startup_kills}; failed starts: {failed_starts}")
    print(f"elapsed: {elapsed:.1f} s; journal: {journal}")
    for text, ident in lost[:5]:
        print(f"  LOST: {text!r} acked as {ident}", file=sys.stderr)
    for text, ident, ids in wrong[:5]:
        print(f"  WRONG ID: {text!r} acked as {ident}, stored as {ids}", file=sys.stderr)
    for text, ids in list(duplicates.items())[:5]:
        print(f"  DUPLICATE: {text!r} stored as {ids}", file=sys.stderr)
    for e in stats.ack_errors[:5]:
        print(f"  ACK ERROR: {e}", file=sys.stderr)
    for e, n in stats.error_frames.most_common(5):
        print(f"  ERROR FRAME x{n}: {e}", file=sys.stderr)
    ok = not lost and not wrong and not duplicates and not unknown and check == "ok" and not stats.ack_errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
