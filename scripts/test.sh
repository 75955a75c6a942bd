#!/usr/bin/env bash
# Install medcodes with its test tools into .venv, then run every quality gate:
# ruff (format and lint), mypy, and pytest with warnings as errors, including the
# browser tests. The full index is built once, before pytest, and shared by the
# suite through MEDCODES_TEST_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
if [ -f .ci/install-browser.sh ]; then
    bash .ci/install-browser.sh
fi

.venv/bin/ruff format --check .
.venv/bin/ruff check .
.venv/bin/mypy

export MEDCODES_TEST_HOME="${MEDCODES_TEST_HOME:-$(mktemp -d)/index}"
if [ -d ../shared/corpus ]; then
    .venv/bin/medcodes build --data ../shared/corpus --home "$MEDCODES_TEST_HOME"
fi
.venv/bin/pytest -W error "$@"
