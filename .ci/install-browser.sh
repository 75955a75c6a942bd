#!/usr/bin/env bash
# Install what the end-to-end tests need: a system Chromium and Playwright for Python.
# Playwright drives /usr/bin/chromium; we never run `playwright install`, which would
# download its own browser builds at run time.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${VENV:-$repo/.venv}"

if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

if ! "$venv/bin/python" -c "import playwright" 2>/dev/null; then
    "$venv/bin/pip" install playwright
fi

/usr/bin/chromium --version
"$venv/bin/pip" show playwright | grep -E "^(Name|Version):"
