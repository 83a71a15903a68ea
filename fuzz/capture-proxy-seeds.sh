#!/usr/bin/env bash
# fuzz/capture-proxy-seeds.sh - captures the exact PROXY protocol headers real haproxy and nginx send, as seeds for
# the 'proxy' fuzz target and as test vectors (tests/TcpTalk.Protocol.Tests/ProxyCaptureTests.cs).
#
#   fuzz/capture-proxy-seeds.sh            writes into fuzz/corpus/proxy/
#   fuzz/capture-proxy-seeds.sh DIR        writes into DIR
#
# Needs haproxy, nginx with the stream module and python3 (Debian: apt-get install haproxy nginx libnginx-mod-stream).
# Everything runs on loopback: a capture listener on 127.0.0.1 (a small python3 program), haproxy or nginx in front
# of it on a free port, and a client bound to 127.0.0.5 (or ::1) that connects through and sends a marker line. The
# listener saves the bytes before the marker: the header, byte for byte. A connection that closes without the
# marker is the balancer's health check (haproxy 'check'), saved as such.
# File names say what the test must find: '...-from-127.0.0.5-PORT' or '...-from-ipv6-loopback-PORT' (the
# client's address and port) or '...-health-check'. Re-running replaces the captured files (haproxy-*, nginx-*), never the hand-made ones (made-*).
# Ends exactly the processes it started, by PID.
set -euo pipefail
ROOT=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)
OUT=${1:-$ROOT/fuzz/corpus/proxy}
for tool in haproxy nginx python3; do
    command -v "$tool" >/dev/null || { echo "capture-proxy-seeds.sh: $tool is missing (apt-get install haproxy nginx libnginx-mod-stream python3)" >&2; exit 2; }
done
STREAM_MODULE=
if nginx -V 2>&1 | grep -q -- '--with-stream=dynamic'; then
    STREAM_MODULE="load_module $(nginx -V 2>&1 | sed -n 's/.*--modules-path=\([^ ]*\).*/\1/p')/ngx_stream_module.so;"
fi
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/capture-proxy.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$TMP/capture.py" <<'EOF'
# Accepts connections on 127.0.0.1:PORT; saves what arrives before the marker (or everything, for a connection that
# closes without it) as DIR/N.header or DIR/N.check.
import os, socket, sys, threading
port, folder = int(sys.argv[1]), sys.argv[2]
MARKER = b"capture-marker\n"
listener = socket.create_server(("127.0.0.1", port))
count = 0
def serve(conn, n):
    data = b""
    conn.settimeout(5)
    try:
        while MARKER not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    conn.close()
    kind = "header" if MARKER in data else "check"
    with open(os.path.join(folder, f"{n:04d}.{kind}.tmp"), "wb") as f:
        f.write(data.split(MARKER)[0])
    os.rename(os.path.join(folder, f"{n:04d}.{kind}.tmp"), os.path.join(folder, f"{n:04d}.{kind}"))
while True:
    conn, _ = listener.accept()
    count += 1
    threading.Thread(target=serve, args=(conn, count), daemon=True).start()
EOF

cat > "$TMP/client.py" <<'EOF'
# Connects from SOURCE (port chosen by the kernel) to HOST:PORT, sends the marker, prints the local port.
import socket, sys, time
source, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
family = socket.AF_INET6 if ":" in host else socket.AF_INET
deadline = time.time() + 10
while True:
    s = socket.socket(family)
    s.bind((source, 0))
    try:
        s.connect((host, port))
        break
    except ConnectionRefusedError:
        s.close()
        if time.time() > deadline:
            raise
        time.sleep(0.1)
print(s.getsockname()[1])
s.sendall(b"capture-marker\n")
s.settimeout(5)
try:
    s.recv(1)   # the listener closes after the marker
except OSError:
    pass
s.close()
EOF

BACKEND=$(free_port)
mkdir -p "$TMP/got"
python3 "$TMP/capture.py" "$BACKEND" "$TMP/got" &
PIDS+=($!)

# capture NAME SENDER CLIENT_ADDRESS FRONT_ADDRESS CONFIG_BODY: runs SENDER (haproxy|nginx) with the config, connects
# through it once, waits for one health check when haproxy checks, and saves the header(s).
capture() {
    local name=$1 sender=$2 client=$3 front=$4 body=$5 port pid
    rm -f "$TMP"/got/*
    if [ "$sender" = haproxy ]; then
        printf '%s\n' "$body" > "$TMP/$name.cfg"
        haproxy -db -f "$TMP/$name.cfg" > "$TMP/$name.log" 2>&1 &
    else
        printf '%s\n' "$body" > "$TMP/$name.conf"
        nginx -p "$TMP" -e "$TMP/$name.error.log" -c "$TMP/$name.conf" > "$TMP/$name.log" 2>&1 &
    fi
    pid=$!
    PIDS+=("$pid")
    port=$(python3 "$TMP/client.py" "$client" "$front" "$FRONT")
    for _ in $(seq 100); do
        compgen -G "$TMP/got/*.header" >/dev/null && { [ "$sender" = nginx ] || compgen -G "$TMP/got/*.check" >/dev/null; } && break
        sleep 0.1
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    local header check
    header=$(ls "$TMP"/got/*.header 2>/dev/null | head -1 || true)
    [ -n "$header" ] || { echo "capture-proxy-seeds.sh: $name: nothing arrived through $sender; its log:" >&2; cat "$TMP/$name.log" "$TMP/$name.error.log" 2>/dev/null >&2; exit 1; }
    # No ':' in file names: they must check out on Windows too.
    local who=$client
    [ "$client" = ::1 ] && who=ipv6-loopback
    rm -f "$OUT/$name"-from-*
    cp "$header" "$OUT/$name-from-$who-$port"
    echo "captured $name-from-$who-$port ($(stat -c %s "$header") bytes)"
    check=$(ls "$TMP"/got/*.check 2>/dev/null | head -1 || true)
    if [ -n "$check" ] && [ "$sender" = haproxy ]; then
        cp "$check" "$OUT/$name-health-check"
        echo "captured $name-health-check ($(stat -c %s "$check") bytes)"
    fi
}

haproxy_config() { # FRONT_BIND SERVER_OPTIONS
    cat <<EOF
global
    pidfile $TMP/haproxy.pid
defaults
    mode tcp
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend fe
    bind $1
    unique-id-format %{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    default_backend be
backend be
    server node1 127.0.0.1:$BACKEND $2 check inter 300ms
EOF
}

nginx_config() { # LISTEN
    cat <<EOF
$STREAM_MODULE
daemon off;
master_process off;
pid $TMP/nginx.pid;
error_log $TMP/nginx.error.log info;
events { worker_connections 64; }
stream {
    server {
        listen $1;
        proxy_pass 127.0.0.1:$BACKEND;
        proxy_protocol on;
    }
}
EOF
}

FRONT=$(free_port)
capture haproxy-send-proxy-v2 haproxy 127.0.0.5 127.0.0.1 "$(haproxy_config "127.0.0.1:$FRONT" send-proxy-v2)"
capture haproxy-send-proxy-v2-unique-id haproxy 127.0.0.5 127.0.0.1 "$(haproxy_config "127.0.0.1:$FRONT" "send-proxy-v2 proxy-v2-options unique-id")"
capture haproxy-send-proxy-v2-crc32c-unique-id haproxy 127.0.0.5 127.0.0.1 "$(haproxy_config "127.0.0.1:$FRONT" "send-proxy-v2 proxy-v2-options crc32c,unique-id")"
capture haproxy-send-proxy haproxy 127.0.0.5 127.0.0.1 "$(haproxy_config "127.0.0.1:$FRONT" send-proxy)"
capture nginx-proxy-protocol nginx 127.0.0.5 127.0.0.1 "$(nginx_config "127.0.0.1:$FRONT")"
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
    capture haproxy-send-proxy-v2-unique-id-ipv6 haproxy ::1 ::1 "$(haproxy_config "[::1]:$FRONT" "send-proxy-v2 proxy-v2-options unique-id")"
    capture haproxy-send-proxy-ipv6 haproxy ::1 ::1 "$(haproxy_config "[::1]:$FRONT" send-proxy)"
    capture nginx-proxy-protocol-ipv6 nginx ::1 ::1 "$(nginx_config "[::1]:$FRONT")"
else
    echo "capture-proxy-seeds.sh: no IPv6 loopback here; IPv6 captures skipped" >&2
fi
echo "capture-proxy-seeds.sh: $(haproxy -v | head -1 | cut -d' ' -f1-3), $(nginx -v 2>&1 | cut -d' ' -f3); seeds in $OUT"
