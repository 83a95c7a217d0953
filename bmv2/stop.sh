#!/usr/bin/env bash
# Stop the switch started by bmv2/start.sh and remove its veth pairs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run_dir=${RUN_DIR:-$here/../out/bmv2}
if [ -f "$run_dir/switch.pid" ]; then
    kill "$(cat "$run_dir/switch.pid")" 2>/dev/null && echo "bmv2/stop.sh: stopped pid $(cat "$run_dir/switch.pid")"
    rm -f "$run_dir/switch.pid"
fi
for dev in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^bm[0-9]+$'); do
    ip link del "$dev" 2>/dev/null && echo "bmv2/stop.sh: removed $dev"
done
