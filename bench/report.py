#!/usr/bin/env python3
"""report.py - turn one bench/run.sh results folder into RESULTS.md (Python 3.11, stdlib only).

  python3 bench/report.py artifacts/bench/results/<stamp> --out bench/RESULTS.md

Reads meta.json, <scenario>-<variant>.json (written by shared/bench/run.py with A = tcptalk, B = refserver),
ready.json and send.json (bench/startup.py). Every tcptalk figure is shown with its ratio to refserver's figure
from the same run.py invocation. Machine notes are read once and kept in machine.json beside the results, so
re-running the report later describes the machine the figures came from.
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
from pathlib import Path

SCENARIOS = [("session64", "session, 64 clients"), ("session1000", "session, 1000 clients"),
             ("stream4", "stream, 4 connections, 32-byte messages"), ("hold", "hold")]
BUILDS = {"aot": "NativeAOT", "jit": "JIT", "aot-light": "NativeAOT, lightest", "jit-light": "JIT, lightest"}


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return a / b if a is not None and b else None


def num(x, nd=0):
    if x is None:
        return "-"
    return f"{x:,.{nd}f}"


def cell(value, ref, nd=0, r=None):
    """'value (ratio×)', the ratio tcptalk/refserver."""
    r = ratio(value, ref) if r is None else r
    return num(value, nd) + ("" if r is None else f" ({r:.2f}×)")


def sh(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10, shell=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_notes():
    cpu = ""
    try:
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    except OSError:
        pass
    mem = sh("free -g | awk '/^Mem:/{print $2}'")
    hosts = Path("/etc/hosts").read_text(errors="replace") if Path("/etc/hosts").exists() else ""
    dmesg = sh("dmesg 2>/dev/null | head -3")
    sandbox = []
    if re.search(r"\brunsc\b|gvisor", hosts, re.I):
        sandbox.append("/etc/hosts names `runsc`, gVisor's runtime")
    if re.search(r"gvisor", dmesg, re.I):
        sandbox.append("dmesg says gVisor")
    if re.search(r"firecracker", dmesg, re.I):
        sandbox.append("dmesg shows a Firecracker microVM booting a real Linux kernel")
    perf = sh("perf stat -e instructions true 2>&1 | grep -E 'instructions' | head -1")
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": mem, "kernel": platform.release(),
            "os": sh(". /etc/os-release && echo $PRETTY_NAME"), "sandbox": sandbox,
            "dotnet": sh("dotnet --version"), "runtime": sh("dotnet --list-runtimes | grep NETCore.App | tail -1"),
            "gcc": sh("gcc -dumpfullversion"), "python": platform.python_version(),
            "hw_counters": ("not supported" if "not supported" in perf else ("yes" if perf else "unknown")),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def load(path):
    with open(path) as f:
        return json.load(f)


def per_label(d, label):
    return [r for r in d["results"] if r["server"] == label and "load" in r]


def rounds_note(d):
    s = d["summary"]
    return f"{s['A']['rounds_ok']}/{s['A']['rounds']}"


def session_rows(runs):
    head = ["run", "server", "rounds", "sessions/s", "server CPU µs/session", "p50 µs", "p99 µs",
            "peak RSS MiB", "lost", "errors", "starved slots"]
    rows = []
    for v, d in runs:
        a, b = d["summary"]["A"], d["summary"]["B"]
        ma, mb = a["median"], b["median"]
        rows.append([BUILDS.get(v, v), "tcptalk", rounds_note(d),
                     cell(ma["sessions/s"], mb["sessions/s"], 0, d["summary"]["ratio_a_b"]["median"]),
                     cell(a["cpu_us_per_op"], b["cpu_us_per_op"], 1), cell(ma["p50 us"], mb["p50 us"]),
                     cell(ma["p99 us"], mb["p99 us"]), cell(a["rss_mib"], b["rss_mib"], 1),
                     num(a["lost"]), num(a["errors"]), num(ma["starved"])])
        rows.append(["", "refserver", f"{b['rounds_ok']}/{b['rounds']}", num(mb["sessions/s"]),
                     num(b["cpu_us_per_op"], 1), num(mb["p50 us"]), num(mb["p99 us"]), num(b["rss_mib"], 1),
                     num(b["lost"]), num(b["errors"]), num(mb["starved"])])
    return head, rows


def stream_rows(runs):
    head = ["run", "server", "rounds", "messages/s", "MB/s", "server CPU ns/message", "drain ms",
            "peak RSS MiB", "lost", "errors"]
    rows = []
    for v, d in runs:
        a, b = d["summary"]["A"], d["summary"]["B"]
        ma, mb = a["median"], b["median"]
        ca = a["cpu_us_per_op"] * 1e3 if a["cpu_us_per_op"] is not None else None
        cb = b["cpu_us_per_op"] * 1e3 if b["cpu_us_per_op"] is not None else None
        rows.append([BUILDS.get(v, v), "tcptalk", rounds_note(d),
                     cell(ma["msgs/s"], mb["msgs/s"], 0, d["summary"]["ratio_a_b"]["median"]),
                     cell(ma["MB/s"], mb["MB/s"], 1), cell(ca, cb), cell(ma["drain ms"], mb["drain ms"]),
                     cell(a["rss_mib"], b["rss_mib"], 1), num(a["lost"]), num(a["errors"])])
        rows.append(["", "refserver", f"{b['rounds_ok']}/{b['rounds']}", num(mb["msgs/s"]), num(mb["MB/s"], 1),
                     num(cb), num(mb["drain ms"]), num(b["rss_mib"], 1), num(b["lost"]), num(b["errors"])])
    return head, rows


def hold_per_conn(d, label, idle_mib):
    """Median over rounds of (peak RSS - idle RSS) / greeted connections, KiB."""
    xs = []
    for r in per_label(d, label):
        g = r["load"]["greeted"]
        if g and idle_mib is not None:
            xs.append((r["rss_mib"] - idle_mib) * 1024 / g)
    return med(xs)


def hold_rows(runs, idle):
    head = ["run", "server", "rounds", "greeted", "all greeted after ms", "greeting p50 µs", "greeting p99 µs",
            "peak RSS MiB", "idle RSS MiB", "RSS per held connection KiB", "dropped", "errors"]
    rows, per_conn = [], {}
    for v, d in runs:
        a, b = d["summary"]["A"], d["summary"]["B"]
        la, lb = [r["load"] for r in per_label(d, "A")], [r["load"] for r in per_label(d, "B")]
        pa = med([x["latency_us"]["p50"] for x in la])
        pb = med([x["latency_us"]["p50"] for x in lb])
        ka, kb = hold_per_conn(d, "A", idle.get(v)), hold_per_conn(d, "B", idle.get("refserver"))
        per_conn[v] = (ka, kb)
        ma, mb = a["median"], b["median"]
        rows.append([BUILDS.get(v, v), "tcptalk", rounds_note(d), num(ma["greeted"]),
                     cell(ma["estab ms"], mb["estab ms"]), cell(pa, pb), cell(ma["greet p99 us"], mb["greet p99 us"]),
                     cell(a["rss_mib"], b["rss_mib"], 1), cell(idle.get(v), idle.get("refserver"), 1),
                     cell(ka, kb, 2), num(a["dropped"]), num(a["errors"])])
        rows.append(["", "refserver", f"{b['rounds_ok']}/{b['rounds']}", num(mb["greeted"]), num(mb["estab ms"]),
                     num(pb), num(mb["greet p99 us"]), num(b["rss_mib"], 1), num(idle.get("refserver"), 1),
                     num(kb, 2), num(b["dropped"]), num(b["errors"])])
    return head, rows, per_conn


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i < 2 else "--:" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    res = a.results
    meta = load(res / "meta.json")
    mpath = res / "machine.json"
    if not mpath.exists():
        mpath.write_text(json.dumps(machine_notes(), indent=1))
    m = load(mpath)
    variants = meta["variants"].split()
    ready = load(res / "ready.json") if (res / "ready.json").exists() else None
    send = load(res / "send.json") if (res / "send.json").exists() else None
    idle = {k: v["idle_rss_mib"] for k, v in ready["servers"].items()} if ready else {}

    data = {}
    for name, _ in SCENARIOS:
        data[name] = [(v, load(res / f"{name}-{v}.json")) for v in variants if (res / f"{name}-{v}.json").exists()]

    L = []
    L.append("# TcpTalk benchmark results" + (" (quick smoke run: 1 round, short windows)" if meta["quick"] else ""))
    L.append("")
    L.append(f"Generated by `bench/run.sh{' --quick' if meta['quick'] else ''}` → `bench/report.py` from the JSON in "
             f"`artifacts/bench/{'quick' if meta['quick'] else 'results'}/{meta['stamp']}/` (copied to "
             f"`bench/results/` for full runs). tcptalk commit `{meta['commit']}`, run took {meta.get('wall_s', '?')} s.")
    L.append("")
    L.append("**How to read:** every tcptalk figure is followed by its ratio to refserver (the C epoll reference server, "
             "the \"machine limit\") measured in the same run.py invocation, which alternates the two servers round "
             f"by round: `value (tcptalk/refserver ×)`. Figures are medians of {meta['rounds']} round(s). For rates "
             "(sessions/s, messages/s) a ratio below 1 means slower than the reference; for costs (CPU, latency, "
             "RSS, time) a ratio above 1 means more expensive. The ratio of the headline rate is the median of the "
             "per-round ratios; the others are ratios of medians. Servers run pinned to core 0, tcpload to core 1.")
    L.append("")

    # ------------------------------------------------------------------ headline
    L.append("## Headline: tcptalk / refserver")
    L.append("")
    head = ["build", "session 64: sessions/s", "session 1000: sessions/s", "stream: messages/s",
            "hold: RSS per connection", "startup to first greeting", "`tcptalk send` wall time (vs C client)"]
    rows = []
    hold_pc = {}
    if data["hold"]:
        _, _, hold_pc = hold_rows(data["hold"], idle)
    for v in variants:
        def rr(name):
            d = dict(data[name]).get(v)
            x = d["summary"]["ratio_a_b"]["median"] if d else None
            return "-" if x is None else f"{x:.2f}×"
        pc = hold_pc.get(v)
        pcs = "-" if not pc or pc[0] is None or not pc[1] else f"{pc[0] / pc[1]:.1f}× ({pc[0]:.2f} vs {pc[1]:.2f} KiB)"
        st = "-"
        if ready and v in ready["servers"]:
            t, r0 = ready["servers"][v]["to_greeting"]["median_ms"], ready["servers"]["refserver"]["to_greeting"]["median_ms"]
            st = f"{t / r0:.1f}× ({t:.1f} vs {r0:.1f} ms)"
        sd = "-"
        if send and v in send["clients"]:
            t, r0 = send["clients"][v]["median_ms"], send["clients"]["tcpload"]["median_ms"]
            sd = f"{t / r0:.1f}× ({t:.1f} vs {r0:.1f} ms)"
        rows.append([BUILDS.get(v, v), rr("session64"), rr("session1000"), rr("stream4"), pcs, st, sd])
    L.append(table(head, rows))
    L.append("")
    if meta.get("light_args"):
        L.append(f"Lightest configuration: `serve {meta['light_args']}`.")
    else:
        L.append("Lightest configuration: none beyond the default yet (NUL framing, UTF-8, no journal), so the "
                 "`*-light` runs were skipped. `bench/run.sh` picks up `serve --no-journal` from `--help` as soon as "
                 "it exists (LIGHT HOOK in the script; `TCPTALK_LIGHT_ARGS` overrides).")
    L.append("")

    # ------------------------------------------------------------------ details
    for name, title in SCENARIOS:
        runs = data[name]
        if not runs:
            continue
        cfg = runs[0][1]["config"]
        if name.startswith("session"):
            L.append(f"## Session: {cfg['conns']} concurrent clients")
            L.append("")
            L.append(f"Each client slot repeats connect, read the greeting, send one {cfg['msg_size']}-byte message, "
                     f"half-close, read to EOF; {cfg['duration']:g} s windows, sources {cfg['sources'] or 'none'}. "
                     "Latency is connect() to EOF. CPU is the server's user+system time over the load window per session.")
            h, r = session_rows(runs)
        elif name == "stream4":
            L.append(f"## Stream: {cfg['conns']} connections, {cfg['msg_size']}-byte messages")
            L.append("")
            L.append(f"Each connection writes messages back to back for {cfg['duration']:g} s, then half-closes; rates "
                     "include the drain. Server stdout goes to a file on /dev/shm and every line is counted (lost = "
                     "sent - printed).")
            h, r = stream_rows(runs)
        else:
            L.append(f"## Hold: {cfg['conns']:,} idle connections")
            L.append("")
            L.append(f"tcpload opens {cfg['conns']:,} connections from {cfg['sources']} (at most 256 awaiting a greeting at "
                     f"a time) and holds them for {cfg['duration']:g} s. Greeting latency is queueing-dominated by that "
                     "window. RSS per held connection = (peak RSS in hold − idle RSS of the same server, measured by "
                     "bench/startup.py after one greeting and 1 s idle) / greeted connections, median over rounds.")
            h, r, _ = hold_rows(runs, idle)
        L.append("")
        L.append(table(h, r))
        L.append("")
        for v, d in runs:
            for res_ in d["results"]:
                if "error" in res_:
                    L.append(f"- {BUILDS.get(v, v)} round {res_['round']} {res_['server']}: {res_['error']}")
        L.append("")

    # ------------------------------------------------------------------ startup
    if ready:
        L.append("## Startup")
        L.append("")
        L.append(f"bench/startup.py starts each server {ready['runs']} times (alternating), pinned to core "
                 f"{ready['server_cpu']}, and polls connect() every millisecond: time from just before spawn to the "
                 "first accepted connection and to its greeting; then the idle RSS, then the time to exit after SIGINT.")
        L.append("")
        ref = ready["servers"]["refserver"]
        h = ["server", "to accept ms", "to greeting ms", "p90 to greeting ms", "idle RSS MiB", "exit after SIGINT ms"]
        rows = []
        for k, s in ready["servers"].items():
            lab = "refserver" if k == "refserver" else f"tcptalk {BUILDS.get(k, k)}"
            rows.append([lab, cell(s["to_accept"]["median_ms"], ref["to_accept"]["median_ms"], 2),
                         cell(s["to_greeting"]["median_ms"], ref["to_greeting"]["median_ms"], 2),
                         num(s["to_greeting"]["p90_ms"], 2), cell(s["idle_rss_mib"], ref["idle_rss_mib"], 2),
                         cell(s["stop_after_sigint"]["median_ms"], ref["stop_after_sigint"]["median_ms"], 1)])
        L.append(table(h, rows))
        L.append("")
    if send:
        L.append("## `tcptalk send` as a whole process")
        L.append("")
        L.append(f"Wall time of one whole client process against refserver ({send['runs']} runs, {send['tool']}): "
                 "`tcptalk send 127.0.0.1:PORT hello` (resolve, connect, greeting, one message, half-close, wait for "
                 "EOF, exit), against the C equivalent `tcpload --mode session --conns 1 --total 1`. Ratios are to "
                 "that C client.")
        L.append("")
        ref = send["clients"]["tcpload"]
        h = ["client", "median ms", "min ms", "p90 ms", "failed runs"]
        rows = []
        for k, s in send["clients"].items():
            lab = "tcpload (C)" if k == "tcpload" else f"tcptalk send, {BUILDS.get(k, k)}"
            rows.append([lab, cell(s["median_ms"], ref["median_ms"], 2), cell(s["min_ms"], ref["min_ms"], 2),
                         num(s["p90_ms"], 2), num(s["failed"])])
        L.append(table(h, rows))
        L.append("")

    # ------------------------------------------------------------------ machine
    L.append("## Machine and noise")
    L.append("")
    L.append(f"- {m['date']}; {m['nproc']} cores ({m['cpu']}), {m['mem_gib']} GiB; {m['os']}, kernel {m['kernel']}.")
    if m["sandbox"]:
        L.append("- Sandbox: " + "; ".join(m["sandbox"]) + ". Loopback TCP and scheduling costs differ from bare metal.")
    L.append(f"- .NET SDK {m['dotnet']} ({m['runtime']}), gcc {m['gcc']}, Python {m['python']}; hardware "
             f"performance counters: {m['hw_counters']}.")
    L.append(f"- Load average at start {meta['loadavg_start']}, at end {meta.get('loadavg_end', '?')}. The 2 cores "
             "are shared with other engineers' compiles, which land on the server's or the load generator's core at "
             "random: treat differences under ~10% as noise, and compare ratios rather than absolute rates.")
    L.append("- On 2 cores the load generator is often the bottleneck: the harness README puts its session-mode "
             "ceiling near 20k sessions/s, so refserver's session figures are partly the harness limit.")
    L.append("")
    a.out.write_text("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
