#!/usr/bin/env bash
# Install the real Thumbor 7.8.0 (the parity peer) into its own venv.
#   usage: bash tests/peers/install_thumbor.sh VENV_DIR
# Idempotent: does nothing when VENV_DIR/bin/thumbor exists and the stamp file
# holds the sha256 of thumbor-requirements.txt. Runs non-interactively as root
# (CI); apt-get is used only for packages that dpkg says are missing.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi
VENV_DIR=$1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REQS="$HERE/thumbor-requirements.txt"
STAMP="$VENV_DIR/.thumbor-requirements.sha256"
PYTHON=${PYTHON:-python3}
want_hash=$(sha256sum "$REQS" | cut -d' ' -f1)

if [[ -x "$VENV_DIR/bin/thumbor" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_hash" ]]; then
    exit 0
fi

# System packages: python3-venv, only when this python cannot build a venv (Debian's
# python3). Thumbor runs with its default Pillow GIF path, so gifsicle is not needed.
# Every Python dependency ships manylinux wheels for cp311/cp312, so no
# compiler/-dev headers are needed (no pycurl: it is only in thumbor[all]).
missing=()
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    dpkg -s python3-venv >/dev/null 2>&1 || missing+=(python3-venv)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "install_thumbor.sh: apt-get install ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A stale or half-built venv is rebuilt from scratch.
rm -rf "$VENV_DIR"
"$PYTHON" -m venv "$VENV_DIR"
"$VENV_DIR/bin/pip" install -q --disable-pip-version-check --no-input -r "$REQS"
"$VENV_DIR/bin/thumbor" --version >/dev/null
echo "$want_hash" > "$STAMP"
