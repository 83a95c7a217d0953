#!/usr/bin/env bash
# Start simple_switch_grpc with N data-plane ports on veth pairs (root).
#   bmv2/start.sh [N_PORTS] [GRPC_ADDR]
# Port i is bound to veth "bm<i>"; its peer "bm<i>p" is where you send and capture
# traffic (tcpdump -i bm0p, or PTF with --target bmv2). The switch starts with no
# program (--no-p4): the controller pushes the pipeline over P4Runtime
# (P4Info + bmv2 JSON from bmv2/compile.sh). Stop it with bmv2/stop.sh.
set -euo pipefail
n=${1:-4}
addr=${2:-127.0.0.1:9559}
cpu_port=${CPU_PORT:-255}
here=$(cd "$(dirname "$0")" && pwd)
run_dir=${RUN_DIR:-$here/../out/bmv2}
if ! command -v simple_switch_grpc >/dev/null 2>&1; then
    echo "bmv2/start.sh: simple_switch_grpc not found (install p4lang's behavioral-model with gRPC; see bmv2/README.md)" >&2
    exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "bmv2/start.sh: needs root to create veth pairs" >&2; exit 2; }
mkdir -p "$run_dir"
ifaces=()
for ((i = 0; i < n; i++)); do
    if ! ip link show "bm$i" >/dev/null 2>&1; then
        ip link add "bm$i" type veth peer name "bm${i}p"
    fi
    for dev in "bm$i" "bm${i}p"; do
        sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" || true
        ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
        ip link set "$dev" up
    done
    ifaces+=(-i "$i@bm$i")
done
simple_switch_grpc --no-p4 "${ifaces[@]}" --log-file "$run_dir/switch" --log-flush \
    -- --grpc-server-addr "$addr" --cpu-port "$cpu_port" \
    >"$run_dir/switch.out" 2>&1 &
echo $! >"$run_dir/switch.pid"
echo "bmv2/start.sh: simple_switch_grpc pid $(cat "$run_dir/switch.pid"), gRPC on $addr, ports 0..$((n - 1)) on bm0..bm$((n - 1)), CPU port $cpu_port"
