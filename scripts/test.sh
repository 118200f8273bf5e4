#!/usr/bin/env bash
# Set up .venv (CPU torch 2.13.0 + plait + dev tools) and run lint, types and tests.
# Extra arguments go to the main pytest run, e.g. `bash scripts/test.sh -m "slow or not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0 -e ".[dev]"
echo "== ruff"
.venv/bin/ruff check plait tests bench examples
echo "== mypy"
.venv/bin/mypy plait
echo "== doctests"
.venv/bin/python -m pytest -q -p no:cacheprovider --doctest-modules plait
echo "== tests"
.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 "$@"
