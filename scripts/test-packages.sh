#!/usr/bin/env bash
# OS packages some tests need besides the object stores (scripts/object-stores.sh):
#   chromium  the report tests render each page headless and check it draws (test/report/)
#   zsh       the completion tests load `quiver completion zsh` in a real zsh (test/cli/)
# Debian's packages. As root, the missing ones are installed; otherwise this prints the
# command to run and fails (never a silent skip).
#   scripts/test-packages.sh install [chromium|zsh]…   (default: both)
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
log() { echo "test-packages: $*" >&2; }
have() {
  case $1 in
    chromium) [ -n "${QUIVER_CHROMIUM:-}" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null ;;
    *) command -v "$1" >/dev/null ;;
  esac
}
case "${1:-}" in
  install)
    shift
    wanted=("${@:-chromium zsh}")
    missing=()
    for p in ${wanted[*]}; do have "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && exit 0
    if [ "$(id -u)" != 0 ]; then
      log "missing ${missing[*]} (tests need them): run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
      exit 1
    fi
    log "installing ${missing[*]} from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    ;;
  *) echo "usage: $0 install [chromium|zsh]..." >&2; exit 2 ;;
esac
