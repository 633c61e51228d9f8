#!/usr/bin/env bash
# Headless Chromium for the report tests (test/report/: each report is rendered and checked
# to draw its charts without console errors). Debian's package; as root it is installed when
# missing, otherwise this prints the command to run and fails.
#   scripts/browser.sh install
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
log() { echo "browser: $*" >&2; }
case "${1:-}" in
  install)
    if [ -n "${QUIVER_CHROMIUM:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then exit 0; fi
    if [ "$(id -u)" != 0 ]; then
      log "Chromium is missing (the report tests render pages in it): run as root: apt-get update && apt-get install -y chromium (or set QUIVER_CHROMIUM to a Chromium binary)"
      exit 1
    fi
    log "installing chromium from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
    ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
