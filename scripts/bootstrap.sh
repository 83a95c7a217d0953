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
declare -A NEED=( [ip]=iproute2 [ethtool]=ethtool [tcpdump]=tcpdump [ping]=iputils-ping )

missing=()
for cmd in "${!NEED[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "bootstrap: missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "bootstrap: installing nvgre-nve and its test extras into $VENV"
    log="$VENV/install.log"
    # pip's and setuptools' chatter goes to the log; it is shown only if the install fails.
    if ! { "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip \
           && "$VENV/bin/pip" install -q --disable-pip-version-check -e '.[test]'; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "bootstrap: installing into $VENV failed (log above, also in $log)" >&2
        exit 1
    fi
    touch "$stamp"
fi
