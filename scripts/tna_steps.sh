#!/usr/bin/env bash
# Compile the TNA program feature set by feature set (p4src/tna/nvgre_nve.p4,
# -D NVE_TNA_STEP=1..6, cumulative) and print, per step: result, MAU stages used
# (ingress/egress, from the compiler's context.json) and compile time. The first
# compiler error of a failing step is printed; later steps still run.
#
#   scripts/tna_steps.sh [first [last]]     (default 1 6)
# Environment: P4C (default p4c-tofino), PROFILE (default NVE_PROFILE_SMALL; set
# PROFILE=NVE_PROFILE_TOFINO for the documented sizes), OUT (default out/tofino-steps),
# EXTRA (more compiler flags, e.g. --quick-phv-alloc).
# The compiler runs under `nice -n 19`, one step at a time.
set -u
P4C=${P4C:-p4c-tofino}
PROFILE=${PROFILE:-NVE_PROFILE_SMALL}
OUT=${OUT:-out/tofino-steps}
EXTRA=${EXTRA:-}
first=${1:-1}
last=${2:-6}
names=("" "parser+ports+access+decap+vsi+counters" "+L2 (learn, ARP proxy, bridging)"
       "+encap (FlowID, tunnel, underlay/ECMP, MTU)" "+routing" "+replication" "+punts")

if ! command -v "$P4C" >/dev/null 2>&1; then
    echo "tna_steps: $P4C not found (set P4C=)" >&2
    exit 1
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
mkdir -p "$OUT"
printf '%-4s %-46s %-7s %-9s %-9s %s\n' step features result ingress egress seconds
status=0
for step in $(seq "$first" "$last"); do
    dir="$OUT/step$step"
    rm -rf "$dir"
    mkdir -p "$dir"
    start=$(date +%s)
    # shellcheck disable=SC2086
    nice -n 19 "$P4C" --target tofino --arch tna -I p4src/include -I p4src/tna \
        -D "$PROFILE" -D NVE_TNA_STEP="$step" -o "$dir" $EXTRA \
        p4src/tna/nvgre_nve.p4 >"$OUT/step$step.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ] && [ -f "$dir/pipe/context.json" ]; then
        stages=$(python3 - "$dir/pipe/context.json" <<'PY'
import json, sys
ctx = json.load(open(sys.argv[1]))
used = {"ingress": set(), "egress": set()}
for t in ctx.get("tables", []):
    for st in t.get("match_attributes", {}).get("stage_tables", []):
        if st.get("stage_number", -1) >= 0 and t.get("direction") in used:
            used[t["direction"]].add(st["stage_number"])
print(" ".join(str(max(s) + 1 if s else 0) + "/12" for s in used.values()))
PY
)
        read -r ig eg <<<"$stages"
        printf '%-4s %-46s %-7s %-9s %-9s %s\n' "$step" "${names[$step]}" ok "$ig" "$eg" "$secs"
    else
        status=1
        printf '%-4s %-46s %-7s %-9s %-9s %s\n' "$step" "${names[$step]}" FAIL - - "$secs"
        grep -m3 -E "error|not successful|violates" "$OUT/step$step.log" | sed 's/^/     /'
    fi
done
exit $status
