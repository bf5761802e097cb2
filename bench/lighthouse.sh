#!/usr/bin/env bash
# Lighthouse (mobile) scores of /login, /orders and an order page in every language.
# Installs the `lighthouse` npm package under bench/node_modules (not committed) on first use
# and drives Debian's Chromium (CHROME_PATH, default /usr/bin/chromium). Arguments go to
# bench/lighthouse.py, e.g.:  bash bench/lighthouse.sh --languages en,th --pages /login
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x bench/node_modules/.bin/lighthouse ]; then
  npm install --prefix bench --no-audit --no-fund lighthouse >/dev/null
fi
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
PYTHON="${PYTHON:-.venv/bin/python}"
exec "$PYTHON" bench/lighthouse.py "$@"
