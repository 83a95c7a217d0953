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
# (frr: the BGP underlay tests run their own FRR daemons, never the system's service)
declare -A NEED=( [ip]=iproute2 [ethtool]=ethtool [tcpdump]=tcpdump [ping]=iputils-ping
                  [vtysh]=frr )

# Install FRR without letting its system service start: a deny-all policy-rc.d during the
# install (any policy the machine had is put back after), and the unit disabled where
# systemd runs. nve starts its own FRR daemons per switch namespace.
install_frr() {
    local policy=/usr/sbin/policy-rc.d saved=""
    if [ -e "$policy" ]; then
        saved="$policy.nve-bootstrap"
        mv "$policy" "$saved"
    fi
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    local rc=0
    apt-get install -y -qq --no-install-recommends frr >/dev/null || rc=$?
    rm -f "$policy"
    if [ -n "$saved" ]; then
        mv "$saved" "$policy"
    fi
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now frr >/dev/null 2>&1 || true
    fi
    return $rc
}

missing=()
for cmd in "${!NEED[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        rest=()
        for pkg in "${missing[@]}"; do
            if [ "$pkg" = frr ]; then install_frr; else rest+=("$pkg"); fi
        done
        if [ ${#rest[@]} -gt 0 ]; then
            apt-get install -y -qq --no-install-recommends "${rest[@]}" >/dev/null
        fi
    else
        echo "bootstrap: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
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
