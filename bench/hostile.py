#!/usr/bin/env python3
"""bench/hostile.py - hostile peers at the issue's scale against a real 'tcptalk serve' (see bench/hostile.sh).

Each case starts its own server (pinned to core 0 when taskset exists; the clients run on core 1), drives it with
raw sockets, and prints the figures. Nothing here asserts: the script prints what it measured, and a line
'case NAME: ... CHECK FAILED: ...' when an invariant of the issue did not hold. Exit status 1 if any did.
Heavy client loads run in worker processes (this script with --worker), so a measuring client never shares a GIL
with 1000 hostile sockets.
"""
import argparse
import errno
import json
import os
import re
import resource
import select
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

CASES = ["oversized", "slowloris", "flood", "reset", "never-reads", "half-open", "tls", "denied", "proxy", "fd"]
HERE = os.path.dirname(os.path.abspath(__file__))
FAILED = []


def log(text):
    print(text, flush=True)


def check(case, ok, text):
    if not ok:
        FAILED.append(f"{case}: {text}")
        log(f"case {case}: CHECK FAILED: {text}")


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# ---------------------------------------------------------------------------------------------------------------
# the server


class Server:
    """A 'tcptalk serve' process; stderr goes to a file; port parsed from 'Listening on'."""

    def __init__(self, tcptalk, args, workdir, ulimit=None, netns=None, name="server"):
        self.stderr_path = os.path.join(workdir, name + ".err")
        self.stdout_path = os.path.join(workdir, name + ".out")
        cmd = shlex.split(tcptalk) + ["serve"] + args
        if ulimit:
            cmd = ["sh", "-c", f'ulimit -n {ulimit} && exec "$@"', "sh"] + cmd
        if shutil.which("taskset"):
            cmd = ["taskset", "-c", "0"] + cmd
        if netns:
            cmd = ["ip", "netns", "exec", netns] + cmd
        self.proc = subprocess.Popen(cmd, stdout=open(self.stdout_path, "wb"), stderr=open(self.stderr_path, "wb"),
                                     stdin=subprocess.DEVNULL, cwd=workdir)
        deadline = time.time() + 30
        self.port = None
        while time.time() < deadline and self.port is None:
            m = re.search(r"Listening on \S*:(\d+)", self.stderr())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}: {self.stderr()[-2000:]}")
            else:
                time.sleep(0.02)
        if self.port is None:
            self.stop()
            raise RuntimeError("server did not listen in 30 s")
        self.idle_rss_kb = self.status("VmRSS")

    def stderr(self):
        with open(self.stderr_path, "r", errors="replace") as f:
            return f.read()

    def status(self, field):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def established(port, netns=None):
    """Server-side ESTABLISHED sockets on the port (ss), i.e. connections the kernel still holds for the server."""
    cmd = ["ss", "-Htn", "state", "established", f"( sport = :{port} )"]
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def journal_texts(tcptalk, path):
    out = subprocess.run([tcptalk, "messages", "--journal", path, "--json"], capture_output=True, text=True, check=True)
    return [json.loads(l)["text"] for l in out.stdout.splitlines() if l.strip()]


# ---------------------------------------------------------------------------------------------------------------
# many sockets at once (epoll)


def recv_some(s, size=4096):
    """Non-blocking read: bytes, b"" when the peer closed or reset, None when nothing is there yet."""
    try:
        return s.recv(size)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


def open_many(n, port, host="127.0.0.1", source=None, timeout=30, rcvbuf=None):
    """Opens n connections at once (non-blocking); returns (connected sockets, failures)."""
    socks, pending, failures = [], {}, 0
    ep = select.epoll()
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: the window stays small
        if source:
            s.bind((source, 0))
        err = s.connect_ex((host, port))
        if err not in (0, errno.EINPROGRESS):
            failures += 1
            s.close()
            continue
        pending[s.fileno()] = s
        ep.register(s.fileno(), select.EPOLLOUT)
    deadline = time.time() + timeout
    while pending and time.time() < deadline:
        for fd, _ in ep.poll(0.5):
            s = pending.pop(fd)
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                socks.append(s)
            else:
                failures += 1
                s.close()
    failures += len(pending)
    for s in pending.values():
        s.close()
    ep.close()
    return socks, failures


def first_frames(socks, timeout=10, term=b"\0"):
    """Reads each socket's first frame: {sock: (bytes or None when closed without one, seconds)}."""
    start = time.time()
    buf = {s.fileno(): b"" for s in socks}
    by_fd = {s.fileno(): s for s in socks}
    result = {}
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    deadline = start + timeout
    while len(result) < len(socks) and time.time() < deadline:
        for fd, _ in ep.poll(0.2):
            s = by_fd[fd]
            data = recv_some(s)
            if data is None:
                continue
            if data:
                buf[fd] += data
                if term in buf[fd]:
                    result[s] = (buf[fd].split(term)[0], time.time() - start)
                    ep.unregister(fd)
            else:
                result[s] = (None, time.time() - start)
                ep.unregister(fd)
    ep.close()
    return result


def frame(frames, s):
    """The first frame first_frames() read from s: bytes, None when closed without one or not answered."""
    return (frames.get(s) or (None,))[0]


def wait_closed(socks, timeout, started=None, read=True):
    """Seconds from started until each socket sees EOF or a reset. read=False: never read (EPOLLRDHUP/ERR only)."""
    started = started or {}
    by_fd = {s.fileno(): s for s in socks}
    closed = {}
    ep = select.epoll()
    mask = (select.EPOLLIN if read else 0) | select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR
    for s in socks:
        ep.register(s.fileno(), mask)
    deadline = time.time() + timeout
    while len(closed) < len(socks) and time.time() < deadline:
        for fd, ev in ep.poll(0.2):
            s = by_fd[fd]
            gone = bool(ev & (select.EPOLLRDHUP | select.EPOLLHUP | select.EPOLLERR))
            if read and not gone:
                data = recv_some(s, 65536)
                if data is None:
                    continue
                gone = data == b""
            if gone:
                closed[s] = time.time() - started.get(s, 0)
                ep.unregister(fd)
    ep.close()
    return closed


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def sessions(port, count=None, seconds=None, host="127.0.0.1", source=None):
    """A normal client: sequential sessions (connect, greeting, one message, half-close, EOF); latencies in ms."""
    lat, failed = [], 0
    end = time.time() + seconds if seconds else None
    i = 0
    while (count is None or i < count) and (end is None or time.time() < end):
        i += 1
        t = time.perf_counter()
        try:
            with socket.create_connection((host, port), timeout=10, source_address=(source, 0) if source else None) as s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                got = b""
                while b"\0" not in got:
                    d = s.recv(256)
                    if not d:
                        raise ConnectionError("closed before greeting")
                    got += d
                s.sendall(b"normal client %d\0" % i)
                s.shutdown(socket.SHUT_WR)
                while s.recv(256):
                    pass
            lat.append((time.perf_counter() - t) * 1000)
        except OSError:
            failed += 1
    return lat, failed


def latency_text(lat):
    return f"{len(lat)} sessions, p50 {pct(lat, 50):.2f} ms, p99 {pct(lat, 99):.2f} ms"


def start_worker(*args):
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker"] + [str(a) for a in args],
                            stdout=subprocess.PIPE, text=True)


def worker_result(proc, timeout=600):
    out, _ = proc.communicate(timeout=timeout)
    return json.loads(out.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------------------------------------
# workers (separate processes)


def worker_slowloris(port, conns, interval, settle_file):
    """Opens conns connections, reads greetings, then dribbles one byte per interval per connection (a message that
    never ends) until the server closes each. Reports time from first byte to close and what the server said."""
    socks, failures = open_many(conns, port)
    frames = first_frames(socks, 30)
    greeted = sum(1 for s in socks if frame(frames, s) is not None)
    first_byte, closed, replies = {}, {}, {}
    ep = select.epoll()
    by_fd = {s.fileno(): s for s in socks}
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    open(settle_file, "w").write("dribbling")
    # Each connection sends its byte at its own moment within the interval, as independent attackers would.
    begin = time.time()
    due = {s: begin + interval * i / len(socks) for i, s in enumerate(socks)}
    while len(closed) < len(socks) and time.time() - begin < 120:
        now = time.time()
        for s in socks:
            if s in closed or due[s] > now:
                continue
            try:
                s.send(b"s")
                first_byte.setdefault(s, now)
            except OSError:
                closed[s] = now
            due[s] += interval
        for fd, _ in ep.poll(0.05):
            s = by_fd[fd]
            data = recv_some(s)
            if data is None:
                continue
            if data:
                replies[s] = replies.get(s, b"") + data
            else:
                closed[s] = time.time()
                ep.unregister(fd)
    cut = [closed[s] - first_byte[s] for s in closed if s in first_byte]
    reasons = {}
    for s in socks:
        r = replies.get(s, b"").split(b"\0")[0].decode(errors="replace")
        r = re.sub(r"\d+ s", "N s", r) if r else "(nothing)"
        reasons[r] = reasons.get(r, 0) + 1
    print(json.dumps({"opened": len(socks), "failures": failures, "greeted": greeted, "closed": len(closed),
                      "cut_s": [min(cut, default=0), statistics.median(cut) if cut else 0, max(cut, default=0)],
                      "reasons": reasons}))


def worker_never_reads(port, conns, settle_file):
    """conns clients that send acknowledged messages and never read the acks: once the acks fill their receive
    window and the server's send buffer, the server's send blocks and it stops reading them. Writes settle_file
    when every connection has made no progress for 1 s (all stalled), then waits for the server to disconnect."""
    socks, failures = open_many(conns, port, rcvbuf=4096)
    first_frames(socks, 30)  # the greeting is read; after it, nothing ever is
    blob = b"x\0" * 32768
    sent = {s: 0 for s in socks}
    progress = {s: time.time() for s in socks}
    end = time.time() + 120
    while time.time() < end:
        now = time.time()
        for s in socks:
            try:
                sent[s] += s.send(blob)
                progress[s] = now
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                progress[s] = 0  # already closed: counts as stalled
        if all(now - progress[s] > 1.0 for s in socks):
            break
        time.sleep(0.005)
    stalled_at = time.time()
    open(settle_file, "w").write("stalled")
    closed = wait_closed(socks, 300, read=False)  # absolute times: the caller knows when the server went idle
    times = sorted(closed.values())
    print(json.dumps({"opened": len(socks), "failures": failures, "closed": len(closed),
                      "close_s": [times[0] if times else 0, statistics.median(times) if times else 0, times[-1] if times else 0],
                      "sent_mb": sum(sent.values()) / 1e6, "fill_s": stalled_at - (end - 120)}))


def worker_tls_hostile(port, conns, kind):
    """conns connections to a TLS server sending garbage (kind=garbage) or nothing (kind=silent); time to close."""
    socks, failures = open_many(conns, port)
    started = {}
    for s in socks:
        started[s] = time.time()
        if kind == "garbage":
            try:
                s.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(200))
            except OSError:
                pass
    closed = wait_closed(socks, 60, started)
    t = sorted(closed.values())
    print(json.dumps({"opened": len(socks), "failures": failures, "closed": len(closed),
                      "close_ms": [pct(t, 50) * 1000 if t else 0, pct(t, 99) * 1000 if t else 0, (t[-1] * 1000) if t else 0]}))


def worker_hold(port, conns, host, settle_file, hold_file):
    """conns connections from this network namespace, greetings read, held until hold_file disappears."""
    socks, failures = open_many(conns, port, host=host)
    frames = first_frames(socks, 30)
    greeted = sum(1 for s in socks if frame(frames, s) is not None)
    open(settle_file, "w").write(str(greeted))
    while os.path.exists(hold_file):
        time.sleep(0.2)
    print(json.dumps({"opened": len(socks), "greeted": greeted, "failures": failures}))


# ---------------------------------------------------------------------------------------------------------------
# cases


def case_oversized(a, tmp):
    conns = 20 if a.quick else 100
    size = 10 << 20
    db = os.path.join(tmp, "oversized.db")
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--journal", db], tmp, name="oversized")
    socks, failures = open_many(conns, srv.port)
    first_frames(socks, 30)
    chunk = b"x" * 65536
    sent = {s: 0 for s in socks}
    t_limit, closed, reply = {}, {}, {}
    by_fd = {s.fileno(): s for s in socks}
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT)
    start = time.time()
    while len(closed) < len(socks) and time.time() - start < 120:
        for fd, ev in ep.poll(0.2):
            s = by_fd[fd]
            if s in closed:
                continue
            if ev & select.EPOLLIN:
                d = recv_some(s, 65536)
                if d:
                    reply[s] = reply.get(s, b"") + d
                elif d == b"":
                    closed[s] = time.time()
                    ep.unregister(fd)
                    continue
            if ev & select.EPOLLOUT and sent[s] < size:
                try:
                    sent[s] += s.send(chunk[: min(len(chunk), size - sent[s])])
                    if sent[s] > 65536:
                        t_limit.setdefault(s, time.time())
                    if sent[s] >= size:
                        ep.modify(fd, select.EPOLLIN)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed[s] = time.time()
                    ep.unregister(fd)
    after = [closed[s] - t_limit[s] for s in closed if s in t_limit]
    errors = sum(1 for s in socks if reply.get(s, b"").split(b"\0")[1:2] == [b""] or b"error: message longer than 65536 bytes" in reply.get(s, b""))
    peak = srv.status("VmHWM")
    alive = srv.alive()
    srv.stop()
    records = len(journal_texts(a.tcptalk, db))
    log(f"case oversized: {len(socks)} connections streaming {size >> 20} MiB each without a terminator "
        f"(limit 64 KiB): {len(closed)} closed, {errors} got the error line; close after passing the limit: "
        f"median {statistics.median(after):.2f} s, max {max(after):.2f} s; sent before the close: median "
        f"{statistics.median(sent.values()) / 1e6:.1f} MB of {size / 1e6:.1f}; records {records}; RSS idle "
        f"{srv.idle_rss_kb / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB; server alive {alive}")
    check("oversized", len(closed) == len(socks) and records == 0 and alive, "not all closed, or records stored, or server died")
    return {"conns": len(socks), "closed": len(closed), "errors": errors, "close_after_limit_s": [statistics.median(after), max(after)],
            "records": records, "rss_idle_mib": srv.idle_rss_kb / 1024, "rss_peak_mib": peak / 1024}


def case_slowloris(a, tmp):
    conns = 200 if a.quick else 1000
    window = 3 if a.quick else 8
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--no-journal", "--message-timeout", "15s"], tmp, name="slowloris")
    sessions(srv.port, count=50)  # warm-up
    base, base_failed = sessions(srv.port, seconds=window)
    flag = os.path.join(tmp, "slowloris.go")
    worker = start_worker("slowloris", srv.port, conns, 1.0, flag)
    deadline = time.time() + 60
    while not os.path.exists(flag) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # every slowloris connection has sent its first byte
    under, under_failed = sessions(srv.port, seconds=window)
    r = worker_result(worker)
    alive = srv.alive()
    srv.stop()
    ratio = pct(under, 99) / pct(base, 99)
    log(f"case slowloris: normal client alone: {latency_text(base)}; with {r['greeted']} slowloris connections "
        f"dribbling 1 byte/s: {latency_text(under)}; p99 ratio {ratio:.2f}x (goal < 2x); failed sessions "
        f"{base_failed}+{under_failed}; slowloris cut by the 15 s message timeout: {r['closed']} of {r['opened']}, "
        f"{r['cut_s'][0]:.1f}/{r['cut_s'][1]:.1f}/{r['cut_s'][2]:.1f} s min/median/max after the first byte; replies {r['reasons']}")
    # The 2x goal is checked on full runs only: a 3 s window (--quick) holds too few sessions for a stable p99.
    check("slowloris", (a.quick or ratio < 2) and r["closed"] == r["opened"] == conns and under_failed == 0 and alive,
          "p99 ratio, closes or failures")
    return {"conns": conns, "p99_base_ms": pct(base, 99), "p99_under_ms": pct(under, 99), "p50_base_ms": pct(base, 50),
            "p50_under_ms": pct(under, 50), "ratio": ratio, "worker": r}


def case_flood(a, tmp):
    limit, total = (200, 600) if a.quick else (1000, 3000)
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--no-journal", "--max-connections", str(limit)], tmp, name="flood")
    t = time.time()
    socks, failures = open_many(total, srv.port)
    frames = first_frames(socks, 30)
    took = time.time() - t
    greeted = [s for s in socks if frame(frames, s) == b"Welcome 127.0.0.1!"]
    busy = [s for s in socks if frame(frames, s) and frames[s][0].startswith(b"error: server busy")]
    busy_ms = sorted(frames[s][1] * 1000 for s in busy)
    held = established(srv.port)
    for s in socks:
        s.close()
    deadline = time.time() + 20
    while established(srv.port) and time.time() < deadline:
        time.sleep(0.1)
    after = established(srv.port)
    again, _ = open_many(limit + 1, srv.port)
    frames2 = first_frames(again, 30)
    regreeted = sum(1 for s in again if frame(frames2, s) == b"Welcome 127.0.0.1!")
    rebusy = sum(1 for s in again if (frame(frames2, s) or b"").startswith(b"error: server busy"))
    for s in again:
        s.close()
    alive = srv.alive()
    log_lines = srv.stderr().count("Refused a connection")
    srv.stop()
    log(f"case flood: {total} connections at once, --max-connections {limit}: greeted {len(greeted)}, busy line "
        f"{len(busy)} (p50 {pct(busy_ms, 50):.0f} ms, max {max(busy_ms, default=0):.0f} ms after the burst began), "
        f"other {len(socks) - len(greeted) - len(busy)}, connect failures {failures}; all answered in {took:.1f} s; "
        f"server-side established while held {held}; after all closed {after}; then {limit + 1} again: greeted "
        f"{regreeted}, busy {rebusy}; refusal log lines {log_lines}")
    check("flood", len(greeted) == limit and len(busy) == total - limit and after == 0 and regreeted == limit and rebusy == 1 and alive,
          "limit not held exactly or count not back to 0")
    return {"limit": limit, "total": total, "greeted": len(greeted), "busy": len(busy), "held": held, "after": after,
            "regreeted": regreeted, "rebusy": rebusy, "busy_ms_p50": pct(busy_ms, 50), "log_lines": log_lines}


def case_reset(a, tmp):
    conns = 200 if a.quick else 1000
    db = os.path.join(tmp, "reset.db")
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--journal", db, "--ack"], tmp, name="reset")
    socks, failures = open_many(conns, srv.port)
    first_frames(socks, 30)
    for i, s in enumerate(socks):
        s.send(b"r%d-whole\0" % i)
    acks = first_frames(socks, 30, term=b"\0")  # the ack of the whole message: it is committed
    acked = sum(1 for s in socks if frame(acks, s) and acks[s][0].startswith(b"ack "))
    for i, s in enumerate(socks):
        s.send(b"r%d-partial-never-finished" % i)
    time.sleep(1.0)  # the server has read the partial messages
    for s in socks:
        rst_close(s)
    deadline = time.time() + 20
    while established(srv.port) and time.time() < deadline:
        time.sleep(0.1)
    left = established(srv.port)
    alive = srv.alive()
    srv.stop()
    texts = journal_texts(a.tcptalk, db)
    whole = sum(1 for t in texts if t.endswith("-whole"))
    partial = sum(1 for t in texts if "partial" in t)
    log(f"case reset: {len(socks)} clients each: one whole message (acked {acked}), then half a message, then RST: "
        f"records {len(texts)} (whole {whole}, partial {partial}); connections left {left}; server alive {alive}")
    check("reset", partial == 0 and whole == acked == len(socks) and left == 0 and alive, "partial record, lost whole message, or leak")
    return {"conns": len(socks), "acked": acked, "records": len(texts), "whole": whole, "partial": partial, "left": left}


def case_never_reads(a, tmp):
    conns = 10 if a.quick else 50
    window = 4
    db = os.path.join(tmp, "never.db")
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--journal", db, "--ack", "--write-timeout", "10s"], tmp, name="never-reads")
    sessions(srv.port, count=50)
    base, _ = sessions(srv.port, seconds=window)
    flag = os.path.join(tmp, "never.go")
    t_flood = time.time()
    worker = start_worker("never-reads", srv.port, conns, flag)
    deadline = time.time() + 150
    while not os.path.exists(flag) and time.time() < deadline:
        time.sleep(0.05)
    # The client's buffers are full, but the server still works through what its receive buffers hold (journal
    # commits, acks). Its sends block once the acks fill its send buffers; then it reads nothing more from them and
    # goes idle (CPU below 5 %) until the write timeout. The normal client is measured in that state.
    cpu = srv.cpu_seconds()
    while time.time() < deadline:
        time.sleep(0.5)
        now_cpu = srv.cpu_seconds()
        if now_cpu - cpu < 0.025:
            break
        cpu = now_cpu
    idle_at = time.time()
    rss = [srv.status("VmRSS") or 0]
    t_end = time.time() + window  # inside the 10 s write timeout: every flooder is stalled and still connected
    under, under_failed = [], 0
    while time.time() < t_end:
        lat, f = sessions(srv.port, count=20)
        under += lat
        under_failed += f
        rss.append(srv.status("VmRSS") or 0)
    held = established(srv.port)
    r = worker_result(worker)
    r["close_s"] = [t - idle_at for t in r["close_s"]]
    rss.append(srv.status("VmRSS") or 0)
    peak = srv.status("VmHWM")
    alive = srv.alive()
    srv.stop()
    ratio = pct(under, 99) / pct(base, 99)
    log(f"case never-reads: {r['opened']} clients sent acknowledged messages ({r['sent_mb']:.0f} MB in {r['fill_s']:.1f} s) "
        f"without reading until the server's sends blocked; --write-timeout 10s: disconnected {r['closed']} of {r['opened']} "
        f"at {r['close_s'][0]:.1f}/{r['close_s'][1]:.1f}/{r['close_s'][2]:.1f} s min/median/max after the server went idle "
        f"({idle_at - t_flood:.0f} s after the flood began: journaling what its buffers held); "
        f"normal client alone {latency_text(base)}, beside the {held} stalled ones {latency_text(under)} (p99 ratio "
        f"{ratio:.2f}x), failed {under_failed}; server RSS idle {srv.idle_rss_kb / 1024:.0f} MiB, while they were stalled "
        f"{min(rss) / 1024:.0f}-{max(rss) / 1024:.0f} MiB, peak {peak / 1024:.0f} MiB (during the flood)")
    check("never-reads", r["closed"] == r["opened"] == conns and under_failed == 0 and alive, "not all disconnected or normal client failed")
    return {"conns": conns, "worker": r, "p99_base_ms": pct(base, 99), "p99_under_ms": pct(under, 99), "ratio": ratio,
            "rss_idle_mib": srv.idle_rss_kb / 1024, "rss_max_mib": max(rss) / 1024, "rss_peak_mib": peak / 1024}


def case_half_open(a, tmp):
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("ss"):
        log("case half-open: skipped (needs root, ip and ss for network namespaces)")
        return {"skipped": "needs root, ip, ss"}
    conns = 100
    tag = f"tth{os.getpid() % 100000}"
    ns_s, ns_c = tag + "-s", tag + "-c"
    run = lambda *c: subprocess.run(list(c), check=True, capture_output=True)
    try:
        run("ip", "netns", "add", ns_s)
        run("ip", "netns", "add", ns_c)
        run("ip", "link", "add", "tts", "netns", ns_s, "type", "veth", "peer", "name", "ttc", "netns", ns_c)
        run("ip", "-n", ns_s, "addr", "add", "10.77.0.1/24", "dev", "tts")
        run("ip", "-n", ns_c, "addr", "add", "10.77.0.2/24", "dev", "ttc")
        for ns, dev in ((ns_s, "tts"), (ns_s, "lo"), (ns_c, "ttc"), (ns_c, "lo")):
            run("ip", "-n", ns, "link", "set", dev, "up")
        # Default keepalive (2 min idle, 5 probes 10 s apart; --quick: 2 s idle, 2 probes 1 s apart); no idle timeout,
        # so only keepalive can find them.
        keepalive = ["--keepalive-time", "2s", "--keepalive-interval", "1s", "--keepalive-count", "2"] if a.quick else []
        described = "keepalive 2 s idle + 2 probes x 1 s (--quick)" if a.quick else "default keepalive (2 min idle + 5 probes x 10 s = 170 s)"
        srv = Server(a.tcptalk, ["--listen", "10.77.0.1:0", "--no-journal", "--idle-timeout", "0", *keepalive], tmp, netns=ns_s, name="half-open")
        settle, hold = os.path.join(tmp, "half.settle"), os.path.join(tmp, "half.hold")
        live_settle, live_hold = os.path.join(tmp, "live.settle"), os.path.join(tmp, "live.hold")
        open(hold, "w").close()
        open(live_hold, "w").close()
        vanishing = subprocess.Popen(["ip", "netns", "exec", ns_c, sys.executable, os.path.abspath(__file__), "--worker", "hold",
                                      str(srv.port), str(conns), "10.77.0.1", settle, hold], stdout=subprocess.PIPE, text=True)
        live = subprocess.Popen(["ip", "netns", "exec", ns_s, sys.executable, os.path.abspath(__file__), "--worker", "hold",
                                 str(srv.port), "1", "10.77.0.1", live_settle, live_hold], stdout=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while not (os.path.exists(settle) and os.path.exists(live_settle)) and time.time() < deadline:
            time.sleep(0.1)
        before = established(srv.port, ns_s)
        run("ip", "-n", ns_c, "link", "set", "ttc", "down")
        cut = time.time()
        first = None
        while time.time() - cut < 400:
            n = established(srv.port, ns_s)
            if n < before and first is None:
                first = time.time() - cut
            if n <= 1:
                break
            time.sleep(0.5)
        last = time.time() - cut
        remaining = established(srv.port, ns_s)
        os.remove(hold)
        os.remove(live_hold)
        vanishing.wait(30)
        live.wait(30)
        alive = srv.alive()
        srv.stop()
        vanished_lines = len(re.findall("peer vanished", srv.stderr()))
        log(f"case half-open: {conns} peers in another network namespace, then their link taken down (every packet "
            f"dropped), {described}: server-side connections {before} -> "
            f"{remaining} (the one left is a live peer, as silent, that answers the probes); first closed {first or 0:.0f} s, "
            f"last {last:.0f} s after the cut; server alive {alive}")
        check("half-open", remaining == 1 and before == conns + 1 and alive, "vanished peers not all closed, or the live one closed")
        return {"conns": conns, "before": before, "remaining": remaining, "first_s": first, "last_s": last, "log_lines": vanished_lines}
    finally:
        for ns in (ns_s, ns_c):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def case_tls(a, tmp):
    conns = 200 if a.quick else 1000
    certs = os.path.join(tmp, "tls")
    subprocess.run([a.tcptalk, "cert", "create", "--out", certs], check=True, capture_output=True)
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--no-journal", "--tls-cert", f"{certs}/server.pem", "--tls-key",
                             f"{certs}/server.key", "--tls-handshake-timeout", "3s"], tmp, name="tls")
    send = [a.tcptalk, "send", f"127.0.0.1:{srv.port}", "--tls", "--tls-ca", f"{certs}/ca.pem", "hello"]

    def timed_sends(n):
        times, bad = [], 0
        for _ in range(n):
            t = time.perf_counter()
            bad += subprocess.run(send, capture_output=True).returncode != 0
            times.append((time.perf_counter() - t) * 1000)
        return times, bad

    timed_sends(3)
    base, base_bad = timed_sends(20)
    results = {}
    for kind in ("garbage", "silent"):
        w = start_worker("tls", srv.port, conns, kind)
        time.sleep(0.5)
        under, under_bad = timed_sends(20)
        results[kind] = (worker_result(w), under, under_bad)
    alive = srv.alive()
    srv.stop()
    g, s = results["garbage"][0], results["silent"][0]
    log(f"case tls: {g['opened']} connections sending garbage instead of a ClientHello: closed {g['closed']}, "
        f"{g['close_ms'][0]:.0f} ms median, {g['close_ms'][1]:.0f} ms p99, {g['close_ms'][2]:.0f} ms max; "
        f"{s['opened']} silent connections, --tls-handshake-timeout 3s: closed {s['closed']} at "
        f"{s['close_ms'][0] / 1000:.2f} s median, {s['close_ms'][2] / 1000:.2f} s max; a real 'send --tls' process: "
        f"alone median {statistics.median(base):.0f} ms (failed {base_bad}), beside the garbage "
        f"{statistics.median(results['garbage'][1]):.0f} ms (failed {results['garbage'][2]}), beside the silent ones "
        f"{statistics.median(results['silent'][1]):.0f} ms (failed {results['silent'][2]})")
    check("tls", g["closed"] == s["closed"] == conns and base_bad + results["garbage"][2] + results["silent"][2] == 0 and alive,
          "hostile handshakes not all closed, or a real client failed")
    return {"garbage": g, "silent": s, "send_ms_base": statistics.median(base),
            "send_ms_garbage": statistics.median(results["garbage"][1]), "send_ms_silent": statistics.median(results["silent"][1])}


def case_denied(a, tmp):
    conns = 200 if a.quick else 1000
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--no-journal", "--deny", "127.0.0.2/32"], tmp, name="denied")
    t = time.time()
    socks, failures = open_many(conns, srv.port, source="127.0.0.2")
    started = {s: t for s in socks}
    frames = first_frames(socks, 30)
    took = time.time() - t
    silent = sum(1 for s in socks if s in frames and frames[s][0] is None)
    ms = sorted(frames[s][1] * 1000 for s in frames)
    ok_lat, ok_failed = sessions(srv.port, count=20)
    for s in socks:
        s.close()
    alive = srv.alive()
    lines = srv.stderr().count("Refused a connection from 127.0.0.2")
    srv.stop()
    log(f"case denied: {len(socks)} connections from 127.0.0.2 (--deny 127.0.0.2/32): closed without a byte {silent}, "
        f"p50 {pct(ms, 50):.0f} ms, max {max(ms, default=0):.0f} ms after the burst began (all in {took:.1f} s); "
        f"warning lines {lines} (at most one a second, with a count); a client from 127.0.0.1 meanwhile: "
        f"{len(ok_lat)} of 20 sessions greeted, failed {ok_failed}")
    check("denied", silent == len(socks) == conns and ok_failed == 0 and alive, "a denied client got bytes or an allowed one failed")
    return {"conns": len(socks), "silent": silent, "close_ms_p50": pct(ms, 50), "close_ms_max": max(ms, default=0), "log_lines": lines}


def case_proxy(a, tmp):
    """Connections from a trusted proxy's address without a valid PROXY header: garbage, then silence. Each must be
    closed without a byte (garbage at once, silence at --proxy-header-timeout), counted, logged at most once a second;
    a client from an untrusted address (127.0.0.2) is served meanwhile as always: its session p99 alone and beside."""
    conns = 200 if a.quick else 1000
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--no-journal", "--trusted-proxy", "127.0.0.1/32",
                             "--proxy-header-timeout", "3s"], tmp, name="proxy")
    sessions(srv.port, count=20, source="127.0.0.2")
    base, base_failed = sessions(srv.port, seconds=4, source="127.0.0.2")
    results = {}
    for kind in ("garbage", "silent"):
        w = start_worker("tls", srv.port, conns, kind)  # the TLS case's worker: garbage or nothing, time to close
        time.sleep(0.3)
        under = sessions(srv.port, seconds=2.5, source="127.0.0.2")
        results[kind] = (worker_result(w), under)
    alive = srv.alive()
    lines = srv.stderr().count("closed without a greeting")
    stdout = open(srv.stdout_path, "rb").read()
    srv.stop()
    g, s = results["garbage"][0], results["silent"][0]
    ratio = pct(results["silent"][1][0], 99) / pct(base, 99) if base and results["silent"][1][0] else float("nan")
    log(f"case proxy: {g['opened']} connections from the trusted 127.0.0.1 sending an HTTP request instead of a PROXY "
        f"header: closed {g['closed']}, {g['close_ms'][0]:.0f} ms median, {g['close_ms'][2]:.0f} ms max; {s['opened']} "
        f"silent ones, --proxy-header-timeout 3s: closed {s['closed']} at {s['close_ms'][0] / 1000:.2f} s median, "
        f"{s['close_ms'][2] / 1000:.2f} s max; warning lines {lines}; a client from 127.0.0.2 (untrusted): alone "
        f"{latency_text(base)} (failed {base_failed}), beside the garbage {latency_text(results['garbage'][1][0])} "
        f"(failed {results['garbage'][1][1]}), beside the silent ones {latency_text(results['silent'][1][0])} "
        f"(failed {results['silent'][1][1]}): p99 ratio {ratio:.2f}x")
    check("proxy", g["closed"] == s["closed"] == conns and base_failed + results["garbage"][1][1] + results["silent"][1][1] == 0
          and alive and b"normal client" in stdout and b"GET" not in stdout,
          "a headerless connection was not closed, got printed, or the untrusted client failed")
    return {"garbage": g, "silent": s, "p99_ms_base": pct(base, 99), "p99_ms_silent": pct(results["silent"][1][0], 99),
            "ratio": ratio, "log_lines": lines}


def case_fd(a, tmp):
    out = {}
    # 1. Made to run out: ulimit -n 256 and no connection limit.
    srv = Server(a.tcptalk, ["--listen", "127.0.0.1:0", "--no-journal", "--max-connections", "0"], tmp, ulimit=256, name="fd-out")
    socks, failures = open_many(400, srv.port)
    frames = first_frames(socks, 5)
    greeted = [s for s in socks if frame(frames, s) == b"Welcome 127.0.0.1!"]
    waiting = [s for s in socks if s not in frames]
    time.sleep(3)
    lines0 = srv.stderr().count("failed (TooManyOpenSockets)")
    time.sleep(5)
    per_s = (srv.stderr().count("failed (TooManyOpenSockets)") - lines0) / 5
    t = time.time()
    for s in greeted[: len(waiting) + 10]:
        s.close()
    late = first_frames(waiting, 15)
    recovered = [late[s][1] for s in waiting if frame(late, s) == b"Welcome 127.0.0.1!"]
    alive = srv.alive()
    total_lines = srv.stderr().count("failed (TooManyOpenSockets)")
    for s in socks:
        s.close()
    srv.stop()
    log(f"case fd (exhausted): ulimit -n 256, --max-connections 0, 400 clients: greeted {len(greeted)}, waiting "
        f"{len(waiting)}; accept back-off log lines {lines0} in the first ~3 s, then {per_s:.1f}/s (capped at 1 s); after "
        f"closing {min(len(greeted), len(waiting) + 10)} clients, waiting ones greeted {len(recovered)} of {len(waiting)}, "
        f"the last {max(recovered, default=0):.2f} s later; server alive {alive}")
    check("fd", waiting and len(recovered) == len(waiting) and per_s <= 2 and alive, "no recovery or spinning")
    out["exhausted"] = {"greeted": len(greeted), "waiting": len(waiting), "lines_first_3s": lines0, "lines_per_s": per_s,
                        "recovered": len(recovered), "recovery_s": max(recovered, default=0)}
    # 2. Default limit: ulimit -n 1024 leaves 768 connections; the rest get the busy line, nothing runs out.
    builds = [("NativeAOT", a.tcptalk)] + ([("JIT", a.jit)] if a.jit else [])
    for name, exe in builds:
        srv = Server(exe, ["--listen", "127.0.0.1:0", "--no-journal"], tmp, ulimit=1024, name="fd-default")
        socks, failures = open_many(1000, srv.port)
        frames = first_frames(socks, 30)
        g = sum(1 for s in socks if frame(frames, s) == b"Welcome 127.0.0.1!")
        b = sum(1 for s in socks if (frame(frames, s) or b"").startswith(b"error: server busy: 768 connections"))
        fds = len(os.listdir(f"/proc/{srv.proc.pid}/fd")) if srv.alive() else -1
        accept_failures = srv.stderr().count("Accept on")
        for s in socks:
            s.close()
        alive = srv.alive()
        srv.stop()
        log(f"case fd (default limit, {name}): ulimit -n 1024 -> default --max-connections 768; 1000 clients: greeted {g}, "
            f"busy line {b}; server descriptors in use {fds} of 1024; accept failures {accept_failures}; server alive {alive}")
        check("fd", g == 768 and b == 232 and accept_failures == 0 and alive, f"default limit not applied ({name})")
        out["default_" + name] = {"greeted": g, "busy": b, "fds": fds, "accept_failures": accept_failures}
    return out


# ---------------------------------------------------------------------------------------------------------------


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        raise_fd_limit()
        kind, args = sys.argv[2], sys.argv[3:]
        if kind == "slowloris":
            worker_slowloris(int(args[0]), int(args[1]), float(args[2]), args[3])
        elif kind == "never-reads":
            worker_never_reads(int(args[0]), int(args[1]), args[2])
        elif kind == "tls":
            worker_tls_hostile(int(args[0]), int(args[1]), args[2])
        elif kind == "hold":
            worker_hold(int(args[0]), int(args[1]), args[2], args[3], args[4])
        return 0

    p = argparse.ArgumentParser(description="hostile peers against tcptalk serve")
    p.add_argument("--tcptalk", required=True, help="the tcptalk executable (NativeAOT build)")
    p.add_argument("--jit", help="the JIT build as a command line ('dotnet .../tcptalk.dll'), for the fd default-limit case")
    p.add_argument("--case", action="append", choices=CASES, help="run only this case (repeatable)")
    p.add_argument("--quick", action="store_true", help="smaller counts and windows; half-open with a 2 s keepalive")
    p.add_argument("--json", help="write the figures here")
    a = p.parse_args()
    raise_fd_limit()
    if shutil.which("taskset"):
        os.sched_setaffinity(0, {1} if os.cpu_count() and os.cpu_count() > 1 else {0})
    cases = a.case or CASES
    results = {}
    with tempfile.TemporaryDirectory(prefix="tcptalk-hostile-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as tmp:
        for c in cases:
            t = time.time()
            try:
                results[c] = globals()["case_" + c.replace("-", "_")](a, tmp)
            except Exception as e:  # a case that crashes is reported, the others still run
                FAILED.append(f"{c}: {e!r}")
                log(f"case {c}: ERROR {e!r}")
            log(f"  ({c}: {time.time() - t:.0f} s)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": results, "failed": FAILED}, f, indent=1, default=str)
    if FAILED:
        log("FAILED: " + "; ".join(FAILED))
        return 1
    log("all cases held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
