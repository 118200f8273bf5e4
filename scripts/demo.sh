#!/usr/bin/env bash
# Set up .venv-demo (CPU torch 2.13.0 + plait + scikit-learn) and run the demo:
# every model of the functional API guide is built, summarized and run, and one
# trains on scikit-learn's handwritten digits with a progress bar.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-demo/bin/python ]; then
    python3 -m venv .venv-demo
fi
.venv-demo/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0 -e ".[demo]"
.venv-demo/bin/python examples/demo.py "$@"
