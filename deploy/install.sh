#!/bin/sh
# Install membrane-tutor from a source tree into a fresh virtual environment.
#
#   deploy/install.sh VENV [SOURCE]     (SOURCE defaults to the directory above this script)
#
# The Dockerfile runs exactly this, and so does CI (.ci/run, into a temporary directory), so
# the image's install steps are exercised even where no Docker engine runs. The systemd setup
# in README.md uses it too. Needs Python >= 3.11 as python3 (or $PYTHON).
set -eu

venv=${1:?usage: deploy/install.sh VENV [SOURCE]}
source_dir=${2:-$(dirname "$0")/..}
python=${PYTHON:-python3}

"$python" -m venv "$venv"
# A regular (not editable) install; pip compiles the bytecode now, since the service later runs
# on a read-only file system. --no-cache-dir keeps the image small.
"$venv/bin/pip" install --no-cache-dir --disable-pip-version-check "$source_dir"
"$venv/bin/membrane-tutor" --version
