#!/usr/bin/env bash
# Installs the Debian packages the project needs when they are missing and we may install:
#   build   — ICU headers and pkg-config, to build PyICU (Zawgyi conversion); Pango, which
#             WeasyPrint draws the label PDFs with (complex-script shaping through HarfBuzz)
#   browser — Chromium and Noto fonts for the four scripts, for the browser tests
#   bench   — ApacheBench (ab), for the throughput figures of bench/server_speed.py
#   redis   — the Redis server, where the machine does not run one already
# Without root (and without sudo) it only says what is missing.
set -euo pipefail
need=()
case "${1:-browser}" in
  build)
    [ -e /usr/include/unicode/translit.h ] || need+=(libicu-dev)
    command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
    command -v g++ >/dev/null 2>&1 || need+=(g++)
    libs=$(ldconfig -p 2>/dev/null || true)
    [[ $libs == *"libpangoft2-1.0.so.0"* ]] || need+=(libpango-1.0-0 libpangoft2-1.0-0)
    [[ $libs == *"libharfbuzz-subset.so.0"* ]] || need+=(libharfbuzz-subset0)
    ;;
  browser)
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    fonts=$(fc-list 2>/dev/null || true)
    [[ $fonts == *"Noto Sans Khmer"* ]] || need+=(fonts-noto-core)
    ;;
  redis)
    command -v redis-server >/dev/null 2>&1 || need+=(redis-server redis-tools)
    ;;
  bench)
    command -v ab >/dev/null 2>&1 || need+=(apache2-utils)
    ;;
esac
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${need[*]} from Debian ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo apt-get update -qq
  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "Note: ${need[*]} missing and cannot be installed here." >&2
fi
