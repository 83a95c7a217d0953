#!/usr/bin/env bash
# Prepare a fresh Debian machine (or an existing checkout) for `make run` / `make test`:
#   1. Debian packages the tests and the demo need (installed with apt when root);
#   2. a virtual environment in .venv with the project and its test extras.
# Idempotent: a second run does nothing but check.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# command -> Debian package that provides it
declare -A NEED=( [ip]=iproute2 [ethtool]=ethtool [tcpdump]=tcpdump [ping]=iputils-ping
                  [ovs-vswitchd]=openvswitch-switch [etcd]=etcd-server [etcdctl]=etcd-client
                  [vtysh]=frr )
# systemd units of those packages that must stay stopped and disabled: the tests, the demo
# and nve (FRR per switch namespace) start their own instances, each in its own namespace
# and run directory.
declare -A UNITS=( [openvswitch-switch]="openvswitch-switch.service ovsdb-server.service ovs-vswitchd.service"
                   [etcd-server]="etcd.service" [frr]="frr.service" )

missing=()
for cmd in "${!NEED[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        # A deny-all policy-rc.d keeps the packages' services from starting during the
        # install (invoke-rc.d exit 101: action forbidden); ours is removed afterwards.
        policy=/usr/sbin/policy-rc.d
        own_policy=0
        if [ ! -e "$policy" ]; then
            printf '#!/bin/sh\nexit 101\n' >"$policy"
            chmod 755 "$policy"
            own_policy=1
            trap 'rm -f "$policy"' EXIT
        fi
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        if [ "$own_policy" = 1 ]; then
            rm -f "$policy"
            trap - EXIT
        fi
        if command -v systemctl >/dev/null 2>&1; then
            for pkg in "${missing[@]}"; do
                for unit in ${UNITS[$pkg]:-}; do
                    systemctl disable --quiet "$unit" >/dev/null 2>&1 || true
                done
            done
        fi
    else
        echo "bootstrap: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
        for pkg in "${missing[@]}"; do
            if [ "$pkg" = openvswitch-switch ]; then
                echo "bootstrap: without openvswitch-switch the demo's hypervisor hv9 falls back to Linux gretap (or is left out) and the OVS interop tests skip" >&2
            fi
            if [ "$pkg" = frr ]; then
                echo "bootstrap: without frr the BGP underlay (underlay.bgp) cannot run and its tests (tests/fabric, test_bgp_frr) skip" >&2
            fi
            if [ "$pkg" = etcd-server ]; then
                echo "bootstrap: without etcd-server the tests of the overlay in etcd (tests/fleet) skip" >&2
            fi
            if [ "$pkg" = etcd-client ]; then
                echo "bootstrap: without etcd-client (etcdctl) the store's RBAC and snapshot tests skip" >&2
            fi
        done
    fi
fi

# The virtual environment is built from requirements.lock alone: exact versions, every
# file checked against its hash, nothing resolved at install time. pip refuses editable
# installs in hash-checking mode, so the project itself goes in afterwards, without its
# dependencies (they are all in the lock) and without build isolation (setuptools and
# wheel are in the lock too). When the lock or pyproject.toml changes, the environment is
# made anew, so it never holds a package the lock no longer names.
stamp="$VENV/.installed"
want="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
    exit 0
fi
if [ -e "$VENV" ]; then
    echo "bootstrap: requirements.lock or pyproject.toml changed; making $VENV anew"
    rm -rf "$VENV"
fi
echo "bootstrap: creating $VENV from requirements.lock"
"$PYTHON" -m venv "$VENV"
log="$VENV/install.log"
# pip's and setuptools' chatter goes to the log; it is shown only if the install fails.
if ! { "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
           --require-hashes --no-deps -r requirements.lock \
       && "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
           --no-deps --no-build-isolation -e .; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "bootstrap: installing into $VENV failed (log above, also in $log)" >&2
    exit 1
fi
echo "$want" >"$stamp"
