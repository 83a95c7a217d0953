#!/usr/bin/env bash
# Compile the NVGRE NVE program for bmv2 (v1model) with p4lang's p4c.
#   bmv2/compile.sh [OUT_DIR] [extra p4c flags, e.g. -DNVE_PROFILE_SMALL]
# Writes OUT_DIR/nvgre_nve.json (the bmv2 config) and OUT_DIR/nvgre_nve.p4info.txtpb.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
out=${1:-$top/out/bmv2}
shift || true
if ! command -v p4c-bm2-ss >/dev/null 2>&1; then
    echo "bmv2/compile.sh: p4c-bm2-ss not found (install p4lang's p4c; see bmv2/README.md)" >&2
    exit 2
fi
mkdir -p "$out"
p4c-bm2-ss --arch v1model --std p4-16 \
    -I "$top/p4src/include" \
    --p4runtime-files "$out/nvgre_nve.p4info.txtpb" \
    -o "$out/nvgre_nve.json" "$@" \
    "$top/p4src/v1model/nvgre_nve.p4"
echo "bmv2/compile.sh: wrote $out/nvgre_nve.json and $out/nvgre_nve.p4info.txtpb"
