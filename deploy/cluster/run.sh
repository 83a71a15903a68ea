#!/usr/bin/env bash
# deploy/cluster/run.sh - a TcpTalk cluster on one machine, for trying it (loopback only):
#   a PostgreSQL primary and a synchronous standby, three `tcptalk serve --ack --journal postgres://...` nodes,
#   and HAProxy in front, sending the PROXY protocol v2 to the nodes, with health checks.
#
#   deploy/cluster/run.sh                 start everything, print what runs where
#   deploy/cluster/run.sh --stop          stop exactly what it started (the PIDs in the state folder), remove nothing
#   deploy/cluster/run.sh --status        what runs, by PID
#   deploy/cluster/run.sh --start-node N  start node N again (after it was killed), wait until it listens
#   deploy/cluster/run.sh --failover      stop the primary at once (pg_ctl -m immediate) and promote the standby
#   deploy/cluster/run.sh --clean         --stop, then delete the state folder
# Options (also as environment variables):
#   --state DIR         TCPTALK_CLUSTER_STATE  state folder (default: ${TMPDIR:-/tmp}/tcptalk-cluster)
#   --port N            TCPTALK_CLUSTER_PORT   HAProxy's port; the nodes listen on N+1, N+2, N+3 (default 12345)
#   --pg-port N         TCPTALK_CLUSTER_PG_PORT  PostgreSQL primary's port; the standby's is N+1 (default 15432)
#   --tcptalk CMD       TCPTALK                how to run tcptalk (default: build this repository's CLI with
#                                              `dotnet build` and run its tcptalk.dll, else `tcptalk` on PATH)
# The files beside this script are what an operator copies to real machines: haproxy.cfg, tcptalk@.service,
# postgresql-primary.conf, postgresql-standby.conf, pg_hba.conf (docs/SCALING.md).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${TCPTALK_CLUSTER_STATE:-${TMPDIR:-/tmp}/tcptalk-cluster}
PORT=${TCPTALK_CLUSTER_PORT:-12345}
PG_PORT=${TCPTALK_CLUSTER_PG_PORT:-15432}
TCPTALK_CMD=${TCPTALK:-}
ACTION=start
NODE=
while [ $# -gt 0 ]; do
    case "$1" in
        --stop) ACTION=stop ;;
        --status) ACTION=status ;;
        --clean) ACTION=clean ;;
        --failover) ACTION=failover ;;
        --start-node) ACTION=start-node; NODE=$2; shift ;;
        --state) STATE=$2; shift ;;
        --port) PORT=$2; shift ;;
        --pg-port) PG_PORT=$2; shift ;;
        --tcptalk) TCPTALK_CMD=$2; shift ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
# What a start decided is kept in the state folder, so that --stop, --start-node and --failover act on the same.
if [ "$ACTION" != start ] && [ -f "$STATE/cluster.env" ]; then
    # shellcheck source=/dev/null
    . "$STATE/cluster.env"
fi

say() { echo "run.sh: $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }
# A PID file's process runs (a killed one not yet reaped by its new parent is a zombie: not running).
alive() {
    [ -f "$1" ] || return 1
    local pid
    pid=$(head -1 "$1")
    kill -0 "$pid" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null
}

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg() { as_postgres "$PG_BIN/$1" "${@:2}"; }
psql_at() { # psql_at PORT SQL: as the superuser over the Unix socket in the state folder (not waiting for the standby)
    as_postgres env PGOPTIONS="-c synchronous_commit=local" "$PG_BIN/psql" -X -q -h "$STATE" -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -At -c "$2"
}

find_tcptalk() {
    if [ -n "$TCPTALK_CMD" ]; then return; fi
    local root
    root=$(cd "$HERE/../.." && pwd)
    if [ -d "$root/src/TcpTalk.Cli" ] && command -v dotnet >/dev/null; then
        say "building tcptalk (dotnet build src/TcpTalk.Cli -c Release)"
        dotnet build "$root/src/TcpTalk.Cli" -c Release -nologo -clp:ErrorsOnly >&2
        TCPTALK_CMD="dotnet $root/src/TcpTalk.Cli/bin/Release/net10.0/tcptalk.dll"
    elif command -v tcptalk >/dev/null; then
        TCPTALK_CMD=$(command -v tcptalk)
    else
        die "no tcptalk: set TCPTALK=/path/to/tcptalk (or run from the repository with dotnet installed)"
    fi
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@"; do
        [ $SECONDS -lt $deadline ] || die "$what did not happen within the time allowed (logs in $STATE)"
        sleep 0.1
    done
}

# A node is ready once it listens and its journal is open (event 200); one that exited stops the wait.
node_ready() {
    alive "$2" || die "node exited at start: $(tail -3 "$1")"
    grep -q "Listening on" "$1" 2>/dev/null && grep -q "Journal.Postgres\[200\]" "$1"
}

start_postgres() {
    [ -n "$PG_BIN" ] || die "PostgreSQL is not installed (apt-get install postgresql): no /usr/lib/postgresql/*/bin"
    local pw=tcptalk-demo
    if [ ! -f "$STATE/primary/PG_VERSION" ]; then
        say "initdb primary into $STATE/primary"
        install -d -m 0700 "$STATE/primary"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE" "$STATE/primary"
        pg initdb -D "$STATE/primary" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >"$STATE/initdb.log"
        cp "$HERE/postgresql-primary.conf" "$STATE/primary/tcptalk-primary.conf"
        printf "include 'tcptalk-primary.conf'\nport = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" \
            "$PG_PORT" "$STATE" >>"$STATE/primary/postgresql.conf"
        # The superuser over the socket: peer as root (PostgreSQL runs as postgres); as another user, whose name is
        # not postgres, trust on a socket in a state folder only that user can enter.
        if [ "$(id -u)" = 0 ]; then hba_local=peer; else hba_local=trust; chmod 0700 "$STATE"; fi
        grep -v '^\s*#' "$HERE/pg_hba.conf" | grep -v '^\s*$' | sed "s/peer\$/$hba_local/" >"$STATE/primary/pg_hba.conf"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE/primary/"*.conf
        pg pg_ctl -D "$STATE/primary" -l "$STATE/primary.log" -w -t 60 start >/dev/null
        psql_at "$PG_PORT" "CREATE ROLE tcptalk LOGIN PASSWORD '$pw'; CREATE ROLE replicator LOGIN REPLICATION PASSWORD '$pw'; GRANT pg_monitor TO tcptalk"
        psql_at "$PG_PORT" "CREATE DATABASE tcptalk OWNER tcptalk"
        say "pg_basebackup standby into $STATE/standby"
        printf "127.0.0.1:*:*:tcptalk:%s\n127.0.0.1:*:*:replicator:%s\n" "$pw" "$pw" >"$STATE/pgpass"
        chmod 0600 "$STATE/pgpass"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE/pgpass"
        as_postgres env PGPASSFILE="$STATE/pgpass" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U replicator \
            -D "$STATE/standby" -R -X stream -c fast
        printf "include 'tcptalk-standby.conf'\nport = %s\n" "$((PG_PORT + 1))" >>"$STATE/standby/postgresql.conf"
        cp "$HERE/postgresql-standby.conf" "$STATE/standby/tcptalk-standby.conf"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$STATE/standby/tcptalk-standby.conf" "$STATE/standby/postgresql.conf"
    else
        alive "$STATE/primary/postmaster.pid" 2>/dev/null || pg pg_ctl -D "$STATE/primary" -l "$STATE/primary.log" -w -t 60 start >/dev/null
    fi
    if ! [ -f "$STATE/standby/postmaster.pid" ]; then
        pg pg_ctl -D "$STATE/standby" -l "$STATE/standby.log" -w -t 60 start >/dev/null
    fi
    wait_for 30 "the standby streaming synchronously" synchronous
}

synchronous() { [ "$(psql_at "$PG_PORT" "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")" = 1 ]; }

start_node() { # start_node N
    local n=$1 port=$((PORT + $1)) extra=()
    alive "$STATE/node$n.pid" && { say "node$n already runs (pid $(cat "$STATE/node$n.pid"))"; return; }
    [ "$PROXY_V2" = 1 ] && extra=(--trusted-proxy 127.0.0.0/8)
    # setsid: a node is its own process group, so a Ctrl+C in this terminal does not reach it.
    # shellcheck disable=SC2086
    PGPASSFILE="$STATE/pgpass" setsid $TCPTALK_CMD serve --listen "127.0.0.1:$port" --ack --journal "$JOURNAL" \
        --node-name "node$n" "${extra[@]}" >>"$STATE/node$n.out" 2>"$STATE/node$n.log" </dev/null &
    echo $! >"$STATE/node$n.pid"
    wait_for 60 "node$n listening on 127.0.0.1:$port with its journal open" node_ready "$STATE/node$n.log" "$STATE/node$n.pid"
}

start_haproxy() {
    command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || die "haproxy is not installed (apt-get install haproxy)"
    local cfg=$STATE/haproxy.cfg
    sed -e "s|^\(\s*pidfile\).*|\1 $STATE/haproxy.pid|" \
        -e "s|127.0.0.1:12345|127.0.0.1:$PORT|" -e "s|127.0.0.1:12346|127.0.0.1:$((PORT + 1))|" \
        -e "s|127.0.0.1:12347|127.0.0.1:$((PORT + 2))|" -e "s|127.0.0.1:12348|127.0.0.1:$((PORT + 3))|" \
        -e "s|^\(\s*stats socket\).*||" "$HERE/haproxy.cfg" >"$cfg"
    if [ "$PROXY_V2" != 1 ]; then
        sed -i -e 's/send-proxy-v2 proxy-v2-options unique-id //' "$cfg"
    fi
    echo "    stats socket $STATE/haproxy.sock mode 600 level admin" >>"$cfg.global"
    sed -i "/^global/r $cfg.global" "$cfg" && rm -f "$cfg.global"
    local haproxy
    haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
    "$haproxy" -c -q -f "$cfg" || die "haproxy refuses $cfg"
    setsid "$haproxy" -db -f "$cfg" >"$STATE/haproxy.log" 2>&1 </dev/null &
    echo $! >"$STATE/haproxy.pid.run"
    wait_for 15 "haproxy listening on 127.0.0.1:$PORT" sh -c "grep -q ':$(printf %04X "$PORT") 00000000:0000 0A' /proc/net/tcp"
}

stop_all() {
    for f in haproxy.pid.run node1.pid node2.pid node3.pid; do
        if alive "$STATE/$f"; then
            local pid
            pid=$(cat "$STATE/$f")
            kill -TERM "$pid"
            for _ in $(seq 100); do alive "$STATE/$f" || break; sleep 0.1; done
            alive "$STATE/$f" && kill -KILL "$pid"
            say "stopped ${f%%.*} (pid $pid)"
        fi
        rm -f "$STATE/$f"
    done
    for data in standby primary; do
        if [ -f "$STATE/$data/postmaster.pid" ] && [ -n "$PG_BIN" ]; then
            pg pg_ctl -D "$STATE/$data" -m fast -w -t 60 stop >/dev/null && say "stopped PostgreSQL $data"
        fi
    done
}

status() {
    for f in haproxy.pid.run node1.pid node2.pid node3.pid primary/postmaster.pid standby/postmaster.pid; do
        local name=${f%%.pid*} pid
        name=${name%%/postmaster}
        if [ -f "$STATE/$f" ]; then pid=$(head -1 "$STATE/$f"); else pid=; fi
        if [ -n "$pid" ] && alive "$STATE/$f"; then echo "$name: runs (pid $pid)"; else echo "$name: not running"; fi
    done
}

case "$ACTION" in
    stop) stop_all; exit 0 ;;
    clean) stop_all; rm -rf "$STATE"; say "removed $STATE"; exit 0 ;;
    status) status; exit 0 ;;
    start-node) [ -f "$STATE/cluster.env" ] || die "no cluster in $STATE (start it first)"; start_node "$NODE"; exit 0 ;;
    failover)
        [ -f "$STATE/cluster.env" ] || die "no cluster in $STATE (start it first)"
        pg pg_ctl -D "$STATE/primary" -m immediate -w -t 60 stop >/dev/null
        say "primary stopped (immediate); promoting the standby on port $((PG_PORT + 1))"
        pg pg_ctl -D "$STATE/standby" -w -t 60 promote >/dev/null
        say "the standby is the primary now; the nodes reconnect on their own (their URI lists both hosts)"
        exit 0 ;;
esac

find_tcptalk
PROXY_V2=0
# shellcheck disable=SC2086
if $TCPTALK_CMD serve --help 2>/dev/null | grep -q -- --trusted-proxy; then
    PROXY_V2=1
else
    say "note: this tcptalk has no --trusted-proxy yet: HAProxy sends plain TCP, so the nodes see HAProxy's address as the client's"
fi
JOURNAL="postgres://tcptalk@127.0.0.1:$PG_PORT,127.0.0.1:$((PG_PORT + 1))/tcptalk"
start_postgres
cat >"$STATE/cluster.env" <<EOF
PORT=$PORT
PG_PORT=$PG_PORT
TCPTALK_CMD='$TCPTALK_CMD'
PROXY_V2=$PROXY_V2
JOURNAL='$JOURNAL'
EOF
for n in 1 2 3; do start_node "$n"; done
start_haproxy

proxy_note=$([ "$PROXY_V2" = 1 ] && echo "PROXY v2 (send-proxy-v2, health checks)" || echo "plain TCP (no --trusted-proxy in this tcptalk)")
cat <<EOF
TcpTalk cluster running (state folder $STATE):
  HAProxy        127.0.0.1:$PORT  pid $(cat "$STATE/haproxy.pid.run")  -> nodes by $proxy_note; log $STATE/haproxy.log
  node1          127.0.0.1:$((PORT + 1))  pid $(cat "$STATE/node1.pid")  log $STATE/node1.log, messages $STATE/node1.out
  node2          127.0.0.1:$((PORT + 2))  pid $(cat "$STATE/node2.pid")  log $STATE/node2.log, messages $STATE/node2.out
  node3          127.0.0.1:$((PORT + 3))  pid $(cat "$STATE/node3.pid")  log $STATE/node3.log, messages $STATE/node3.out
  PostgreSQL     primary 127.0.0.1:$PG_PORT (pid $(head -1 "$STATE/primary/postmaster.pid")), synchronous standby 127.0.0.1:$((PG_PORT + 1)) (pid $(head -1 "$STATE/standby/postmaster.pid"))
  journal URI    $JOURNAL   (password in $STATE/pgpass)
Send:    $TCPTALK_CMD send --ack 127.0.0.1:$PORT "hello cluster"
Read:    PGPASSFILE=$STATE/pgpass $TCPTALK_CMD messages --journal '$JOURNAL' [--follow]
SQL:     $([ "$(id -u)" = 0 ] && echo "runuser -u postgres -- ")psql -h $STATE -p $PG_PORT -U postgres -d tcptalk -c 'SELECT id, node_name, client_address FROM tcptalk.messages ORDER BY id DESC LIMIT 5'
Faults:  kill -KILL \$(cat $STATE/node2.pid); $0 --state $STATE --start-node 2      (a node)
         $0 --state $STATE --failover                                              (primary down, standby promoted)
Stop:    $0 --state $STATE --stop        (--clean also removes the state folder)
EOF
